/* editkey.c: creating and deleting keys natively, as Windows does.
 *
 * A new key gets an nk with its name (Latin-1 when every character fits, as Windows compresses it), its
 * parent, no subkeys, values or class, and its parent's security record, whose reference count rises by
 * one; it enters the parent's subkey list at its sorted place (subkeys.c), and the parent's count and
 * longest-subkey-name field follow.  A deleted key gives back every cell it held, and a security record
 * that no key uses any more leaves the ring of security records.
 *
 *   nk (record at N+4): +0x02 flags (0x20 Latin-1 name)  +0x04 FILETIME  +0x10 parent  +0x14 subkeys
 *        +0x1C subkey list  +0x20 volatile list  +0x24 values  +0x28 value list  +0x2C sk  +0x30 class
 *        +0x34 longest subkey name (low 16 bits)  +0x38 longest class  +0x3C longest value name
 *        +0x40 largest data  +0x48 name length  +0x4A class length  +0x4C name
 *   sk (record at S+4): +0x04 flink  +0x08 blink  +0x0C reference count */
#include <string.h>

#include "hive.h"

#define NK_COMP_NAME 0x20

static int damaged(hiveport *h, const char *what, uint64_t off)
{
    h->broken = h->changed;
    if (h->edit != NULL && h->edit->oom) {
        h->edit->oom = false;
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    }
    return hp_damage_error(h, what, off);
}

int hp_edit_key_add(hiveport *h, hive_node_h parent, const char *name, hive_node_h *child)
{
    int rc = hp_edit_begin(h);
    if (rc != HIVEPORT_OK)
        return rc;
    struct hp_regf_edit *e = h->edit;
    uint16_t units[HP_NAME_MAX * 2];
    size_t n;
    bool latin1 = true;
    if (strlen(name) > HP_NAME_MAX || hp_regf_utf16_of(name, units, &n) != 0 || n == 0)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: \"%s\" cannot be a key name", hp_name(h), name);
    for (size_t i = 0; i < n; i++)
        latin1 = latin1 && units[i] <= 0xFF;
    uint32_t name_len = latin1 ? (uint32_t)n : (uint32_t)n * 2;
    uint64_t p = parent, sk;
    if (hp_regf_cell_len(e, p) < 0x4C || (sk = hp_regf_abs(hp_regf_get32(e, p + 4 + 0x2C))) == 0 ||
        hp_regf_cell_len(e, sk) < 0x10)
        return damaged(h, "key", p);
    /* The lookup before (hp_nav_child) trusts lh hashes as Windows does; a name it missed that is there
     * all the same sits behind a wrong hash: a second key of that name would be damage. */
    int has = hp_regf_subkey_has(e, p, units, n);
    if (has < 0)
        return damaged(h, "subkey list of the key", p);
    if (has > 0)
        return hp_error(h, HIVEPORT_E_CORRUPT,
                        "%s: damaged subkey list of the key at offset 0x%llx: the entry of \"%s\" does not carry "
                        "its name's hash, so Windows would not find it",
                        hp_name(h), (unsigned long long)p, name);
    uint64_t nk = hp_regf_cell_alloc(e, 0x4C + name_len);
    if (nk == 0)
        return damaged(h, "hive bins for a new subkey of the key", p);
    uint64_t r = nk + 4;
    hp_regf_put16(e, r, 'n' | 'k' << 8);
    hp_regf_put16(e, r + 0x02, latin1 ? NK_COMP_NAME : 0);
    hp_regf_put32(e, r + 0x10, hp_regf_rel(p));
    hp_regf_put32(e, r + 0x1C, HP_REGF_NIL);
    hp_regf_put32(e, r + 0x20, HP_REGF_NIL);
    hp_regf_put32(e, r + 0x28, HP_REGF_NIL);
    hp_regf_put32(e, r + 0x2C, hp_regf_rel(sk));
    hp_regf_put32(e, r + 0x30, HP_REGF_NIL);
    hp_regf_put16(e, r + 0x48, (uint16_t)name_len);
    hp_regf_put_name(e, r + 0x4C, units, n, latin1);
    hp_regf_put32(e, sk + 4 + 0x0C, hp_regf_get32(e, sk + 4 + 0x0C) + 1);
    h->changed = true;
    if (hp_regf_subkey_insert(e, p, nk) != 0) {
        hp_edit_sync(h);
        return damaged(h, "subkey list of the key", p);
    }
    /* The longest subkey name, in UTF-16 bytes: the low 16 bits (the others hold flags). */
    uint32_t longest = hp_regf_get32(e, p + 4 + 0x34);
    if ((longest & 0xFFFF) < n * 2)
        hp_regf_put32(e, p + 4 + 0x34, (longest & 0xFFFF0000u) | (uint32_t)(n * 2));
    hp_edit_sync(h);
    *child = (hive_node_h)nk;
    if ((rc = hp_touch_key(h, parent)) != HIVEPORT_OK || (rc = hp_touch_key(h, *child)) != HIVEPORT_OK)
        h->broken = true;
    return rc;
}

/* One reference fewer to the security record at sk; unused, it leaves the ring and is freed. */
static int release_sk(struct hp_regf_edit *e, uint64_t sk)
{
    if (hp_regf_cell_len(e, sk) < 0x10)
        return -1;
    uint32_t refs = hp_regf_get32(e, sk + 4 + 0x0C);
    if (refs > 1) {
        hp_regf_put32(e, sk + 4 + 0x0C, refs - 1);
        return 0;
    }
    uint64_t next = hp_regf_abs(hp_regf_get32(e, sk + 4 + 0x04)), prev = hp_regf_abs(hp_regf_get32(e, sk + 4 + 0x08));
    if (next == sk || hp_regf_cell_len(e, next) < 0x10 || hp_regf_cell_len(e, prev) < 0x10)
        return -1; /* the last security record of the hive: the root still uses it */
    hp_regf_put32(e, prev + 4 + 0x04, hp_regf_rel(next));
    hp_regf_put32(e, next + 4 + 0x08, hp_regf_rel(prev));
    return hp_regf_cell_free(e, sk);
}

static int free_values(struct hp_regf_edit *e, uint64_t r)
{
    uint32_t count = hp_regf_get32(e, r + 0x24);
    uint64_t list = hp_regf_abs(hp_regf_get32(e, r + 0x28));
    if (count == 0)
        return list == 0 ? 0 : hp_regf_cell_free(e, list);
    if (hp_regf_cell_len(e, list) < count * 4)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t vk = hp_regf_abs(hp_regf_get32(e, list + 4 + 4 * (uint64_t)i));
        if (hp_regf_cell_len(e, vk) < 0x14 ||
            hp_regf_data_release(e, hp_regf_get32(e, vk + 4 + 0x04), hp_regf_get32(e, vk + 4 + 0x08)) != 0 ||
            hp_regf_cell_free(e, vk) != 0)
            return -1;
    }
    return hp_regf_cell_free(e, list);
}

/* Frees the key at nk and everything below it (its entry in its parent's list stays). */
static int delete_tree(struct hp_regf_edit *e, uint64_t nk, unsigned depth)
{
    uint64_t r = nk + 4;
    if (depth > 512 || hp_regf_cell_len(e, nk) < 0x4C || e->data[r] != 'n' || e->data[r + 1] != 'k')
        return -1;
    /* Each subkey is taken out of this key's list before it goes, until the list is empty (and freed). */
    while (hp_regf_get32(e, r + 0x14) > 0) {
        uint64_t list = hp_regf_abs(hp_regf_get32(e, r + 0x1C)), leaf = list;
        if (hp_regf_cell_len(e, list) < 8)
            return -1;
        if (e->data[list + 4] == 'r' && e->data[list + 5] == 'i')
            leaf = hp_regf_abs(hp_regf_get32(e, list + 8));
        if (hp_regf_cell_len(e, leaf) < 8)
            return -1;
        uint64_t child = hp_regf_abs(hp_regf_get32(e, leaf + 8));
        if (hp_regf_subkey_remove(e, nk, child) != 0 || delete_tree(e, child, depth + 1) != 0)
            return -1;
    }
    if (free_values(e, r) != 0)
        return -1;
    uint64_t class_cell = hp_regf_abs(hp_regf_get32(e, r + 0x30));
    if (class_cell != 0 && hp_regf_get32(e, r + 0x30) != 0 && hp_regf_cell_free(e, class_cell) != 0)
        return -1;
    if (release_sk(e, hp_regf_abs(hp_regf_get32(e, r + 0x2C))) != 0)
        return -1;
    return hp_regf_cell_free(e, nk);
}

int hp_edit_subtree_delete(hiveport *h, hive_node_h parent, hive_node_h key)
{
    int rc = hp_edit_begin(h);
    if (rc != HIVEPORT_OK)
        return rc;
    h->changed = true;
    if (hp_regf_subkey_remove(h->edit, parent, key) != 0 || delete_tree(h->edit, key, 0) != 0) {
        hp_edit_sync(h);
        return damaged(h, "key", key);
    }
    hp_edit_sync(h);
    /* The deleted keys' cells are free now: none of them may be time-stamped at the commit. */
    size_t k = 0;
    for (size_t i = 0; i < h->ntouched; i++)
        if (hp_regf_cell_len(h->edit, h->touched[i]) >= 0x4C)
            h->touched[k++] = h->touched[i];
    h->ntouched = k;
    return hp_touch_key(h, parent);
}
