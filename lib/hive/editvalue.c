/* editvalue.c: setting and deleting values natively.
 *
 * A new value gets a vk (its name Latin-1 when it can be, as Windows compresses it) and its data where the
 * size calls for (valuecells.c); the key's value list grows by reallocation, in place when its cell has
 * room, and the key's longest-name and largest-data fields follow.  A replaced value keeps its vk and its
 * data cell when the new data fits there; otherwise its old data cells are freed and new ones taken.  A
 * deleted value gives back its vk and data cells; the list closes up, and goes when it is empty.
 *
 *   nk (record at N+4): +0x24 values  +0x28 value list  +0x3C longest value name  +0x40 largest data
 *   vk (record at V+4): +0x02 name length  +0x04 data size (bit 31: inline)  +0x08 data or data cell
 *        +0x0C type  +0x10 flags (1: Latin-1 name)  +0x14 name */
#include <string.h>

#include "hive.h"

#define VK_COMP_NAME 0x1
#define SEGMENT 16344u

static int damaged(hiveport *h, const char *what, uint64_t off)
{
    hp_edit_sync(h);
    h->broken = true;
    if (h->edit != NULL && h->edit->oom) {
        h->edit->oom = false;
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    }
    return hp_damage_error(h, what, off);
}

static void raise_field(struct hp_regf_edit *e, uint64_t off, uint32_t at_least)
{
    if (hp_regf_get32(e, off) < at_least)
        hp_regf_put32(e, off, at_least);
}

/* A new vk named name, not yet in any list; 0 on failure. */
static uint64_t new_vk(hiveport *h, const char *name, uint32_t *utf16_bytes)
{
    struct hp_regf_edit *e = h->edit;
    size_t name_max = strlen(name) + 1;
    uint16_t *units = hp_calloc(name_max, sizeof *units);
    size_t n;
    e->oom = e->oom || units == NULL;
    if (units == NULL || hp_regf_utf16_of(name, units, &n) != 0) {
        hp_free(units);
        return 0;
    }
    bool latin1 = true;
    for (size_t i = 0; i < n; i++)
        latin1 = latin1 && units[i] <= 0xFF;
    uint32_t name_len = latin1 ? (uint32_t)n : (uint32_t)n * 2;
    uint64_t vk = name_len <= 0xFFFF ? hp_regf_cell_alloc(e, 0x14 + name_len) : 0;
    if (vk != 0) {
        uint64_t r = vk + 4;
        hp_regf_put16(e, r, 'v' | 'k' << 8);
        hp_regf_put16(e, r + 0x02, (uint16_t)name_len);
        hp_regf_put16(e, r + 0x10, latin1 ? VK_COMP_NAME : 0);
        hp_regf_put_name(e, r + 0x14, units, n, latin1);
    }
    *utf16_bytes = (uint32_t)n * 2;
    hp_free(units);
    return vk;
}

/* New data for the vk at vk: into its own data cell when that is a plain cell with room, else stored anew. */
static int put_data(struct hp_regf_edit *e, uint64_t vk, const void *data, size_t len)
{
    uint64_t r = vk + 4;
    uint32_t size_field = hp_regf_get32(e, r + 0x04), data_field = hp_regf_get32(e, r + 0x08);
    uint32_t old_len = size_field & 0x7FFFFFFFu;
    uint64_t cell = hp_regf_abs(data_field);
    bool plain_cell = !(size_field & 0x80000000u) && old_len > 0 && old_len <= SEGMENT && cell != 0;
    if (plain_cell && len > 4 && len <= SEGMENT && hp_regf_cell_len(e, cell) >= len) {
        hp_regf_write(e, cell + 4, data, len);
        hp_regf_put32(e, r + 0x04, (uint32_t)len);
        return 0;
    }
    if (hp_regf_data_release(e, size_field, data_field) != 0)
        return -1;
    if (hp_regf_data_store(e, data, len, &size_field, &data_field) != 0)
        return -1;
    hp_regf_put32(e, r + 0x04, size_field);
    hp_regf_put32(e, r + 0x08, data_field);
    return 0;
}

int hp_edit_value_set(hiveport *h, hive_node_h key, hive_value_h vk, const char *name, uint32_t type,
                      const void *data, size_t len)
{
    int rc = hp_edit_begin(h);
    if (rc != HIVEPORT_OK)
        return rc;
    struct hp_regf_edit *e = h->edit;
    uint64_t r = (uint64_t)key + 4;
    if (hp_regf_cell_len(e, key) < 0x4C || (vk != 0 && hp_regf_cell_len(e, vk) < 0x14))
        return damaged(h, "key", key);
    h->changed = true;
    if (vk == 0) {
        uint32_t utf16_bytes;
        uint32_t count = hp_regf_get32(e, r + 0x24);
        uint64_t list = hp_regf_abs(hp_regf_get32(e, r + 0x28));
        if ((vk = new_vk(h, name, &utf16_bytes)) == 0)
            return damaged(h, "values of the key", key);
        list = count == 0 || list == 0 ? hp_regf_cell_alloc(e, 4) : hp_regf_cell_realloc(e, list, (count + 1) * 4);
        if (list == 0)
            return damaged(h, "value list of the key", key);
        hp_regf_put32(e, list + 4 + 4 * (uint64_t)count, hp_regf_rel(vk));
        hp_regf_put32(e, r + 0x28, hp_regf_rel(list));
        hp_regf_put32(e, r + 0x24, count + 1);
        raise_field(e, r + 0x3C, utf16_bytes);
    }
    if (put_data(e, vk, data, len) != 0)
        return damaged(h, "value", vk);
    hp_regf_put32(e, vk + 4 + 0x0C, type);
    raise_field(e, r + 0x40, (uint32_t)len);
    hp_edit_sync(h);
    if ((rc = hp_touch_key(h, key)) != HIVEPORT_OK)
        h->broken = true;
    return rc;
}

int hp_edit_value_delete(hiveport *h, hive_node_h key, hive_value_h vk)
{
    int rc = hp_edit_begin(h);
    if (rc != HIVEPORT_OK)
        return rc;
    struct hp_regf_edit *e = h->edit;
    uint64_t r = (uint64_t)key + 4;
    uint32_t count = hp_regf_get32(e, r + 0x24), i = 0;
    uint64_t list = hp_regf_abs(hp_regf_get32(e, r + 0x28));
    if (hp_regf_cell_len(e, key) < 0x4C || count == 0 || hp_regf_cell_len(e, list) < count * 4)
        return damaged(h, "value list of the key", key);
    while (i < count && hp_regf_abs(hp_regf_get32(e, list + 4 + 4 * (uint64_t)i)) != vk)
        i++;
    if (i == count || hp_regf_cell_len(e, vk) < 0x14)
        return damaged(h, "value list of the key", key);
    h->changed = true;
    if (hp_regf_data_release(e, hp_regf_get32(e, vk + 4 + 0x04), hp_regf_get32(e, vk + 4 + 0x08)) != 0 ||
        hp_regf_cell_free(e, vk) != 0)
        return damaged(h, "value", vk);
    uint64_t at = list + 4 + 4 * (uint64_t)i;
    hp_regf_write(e, at, e->data + at + 4, (size_t)(count - i - 1) * 4);
    hp_regf_put32(e, r + 0x24, count - 1);
    if (count == 1) {
        if (hp_regf_cell_free(e, list) != 0)
            return damaged(h, "value list of the key", key);
        hp_regf_put32(e, r + 0x28, HP_REGF_NIL);
    }
    hp_edit_sync(h);
    if ((rc = hp_touch_key(h, key)) != HIVEPORT_OK)
        h->broken = true;
    return rc;
}
