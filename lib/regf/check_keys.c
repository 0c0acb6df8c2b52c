/* check_keys.c: the key tree, walked from the root cell with an explicit stack (depth at most 512, as in
 * Windows): each nk (signature, flags, parent back-pointer, name, class, volatile fields, the longest-name
 * fields), its subkey list (kinds the version allows, an ri holding only leaves, the count, entries sorted
 * as Windows compares names and without duplicates, lh hashes, lf hints), its values (check_values.c) and
 * its security cell (check_security.c).  Every cell is marked as it is claimed, so a key reached twice is
 * reported once and never walked again: the walk is linear in the hive's size whatever the input. */
#include <string.h>

#include "hivecheck.h"

#define NK_MIN 0x4Cu
#define NK_FLAG_VOLATILE 0x0001u
#define NK_FLAG_HIVE_EXIT 0x0002u
#define NK_FLAG_ROOT 0x0004u
#define NK_FLAG_COMP_NAME 0x0020u
#define PATH_UNIT_MAX (HP_CHECK_KEY_NAME_MAX * 3 + 1) /* one name in a path, UTF-8, with its backslash */

struct frame {
    uint32_t rel;
    uint32_t *children; /* valid subkeys not walked yet */
    size_t n, next;
    size_t path_len;    /* c->path's length up to and including this key's name */
};

struct walk {
    struct hp_check *c;
    struct frame *stack;
    size_t depth;
    char *path; /* the current key, relative to the root ("" for the root) */
};

/* The name of the nk record at nk (len bytes), bounded by its cell. */
static void nk_name(const unsigned char *nk, uint32_t len, const unsigned char **name, size_t *name_len,
                    bool *compressed)
{
    size_t n = hp_le16(nk + 0x48);
    if (NK_MIN + n > len)
        n = len - NK_MIN;
    *name = nk + NK_MIN;
    *name_len = n;
    *compressed = (hp_le16(nk + 0x02) & NK_FLAG_COMP_NAME) != 0;
}

/* Appends a key's name (at most 255 characters of it) to the path, which ends at at; returns the new end. */
static size_t path_push(struct walk *w, size_t at, const unsigned char *nk, uint32_t len)
{
    const unsigned char *name;
    size_t n;
    bool compressed;
    nk_name(nk, len, &name, &n, &compressed);
    size_t max = compressed ? HP_CHECK_KEY_NAME_MAX : 2 * HP_CHECK_KEY_NAME_MAX;
    if (at > 0)
        w->path[at++] = '\\';
    return at + hp_check_name_utf8_into(name, n < max ? n : max, compressed, w->path + at);
}

/* Checks one key record's own fields.  is_root: the hive's root key. */
static int check_nk(struct walk *w, uint32_t rel, const unsigned char *nk, uint32_t len, uint32_t parent,
                    bool is_root)
{
    struct hp_check *c = w->c;
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    const char *path = w->path;
    uint16_t flags = hp_le16(nk + 0x02);
    int rc = HIVEPORT_OK;
    if (is_root != ((flags & NK_FLAG_ROOT) != 0))
        rc = hp_check_add(c, HP_ERROR, "nk-root-flag", path, off,
                          is_root ? "The root key at 0x%llx lacks the root flag (0x4, KEY_HIVE_ENTRY)."
                                  : "The key at 0x%llx has the root flag (0x4, KEY_HIVE_ENTRY) but is not the "
                                    "hive's root.",
                          (unsigned long long)off);
    if (rc == HIVEPORT_OK && (flags & (NK_FLAG_VOLATILE | NK_FLAG_HIVE_EXIT)))
        rc = hp_check_add(c, HP_WARNING, "nk-flags", path, off,
                          "The key at 0x%llx has flags 0x%04x: a volatile key (0x1) or a mount point (0x2) is "
                          "never stored in a hive file.",
                          (unsigned long long)off, flags);
    uint32_t parent_field = hp_le32(nk + 0x10);
    if (rc == HIVEPORT_OK && !is_root && parent_field != parent)
        rc = hp_check_add(c, HP_ERROR, "nk-parent", path, off,
                          "The key at 0x%llx names 0x%llx as its parent; the key whose subkey list holds it is "
                          "at 0x%llx.",
                          (unsigned long long)off, (unsigned long long)parent_field + HP_REGF_HEADER_SIZE,
                          (unsigned long long)parent + HP_REGF_HEADER_SIZE);
    size_t name_len = hp_le16(nk + 0x48);
    bool compressed = (flags & NK_FLAG_COMP_NAME) != 0;
    size_t chars = compressed ? name_len : name_len / 2;
    const char *bad_name = NULL;
    if (NK_MIN + name_len > len)
        bad_name = "runs past the end of its cell";
    else if (name_len == 0 && !is_root)
        bad_name = "is empty";
    else if (!compressed && name_len % 2 != 0)
        bad_name = "is UTF-16 of an odd number of bytes";
    else if (chars > HP_CHECK_KEY_NAME_MAX)
        bad_name = "is longer than 255 characters";
    else
        for (size_t i = 0; i < chars && bad_name == NULL; i++)
            if ((compressed ? nk[NK_MIN + i] : hp_le16(nk + NK_MIN + 2 * i)) == '\\')
                bad_name = "holds a backslash";
    if (rc == HIVEPORT_OK && bad_name != NULL)
        rc = hp_check_add(c, HP_ERROR, "nk-name", path, off, "The name of the key at 0x%llx (%zu bytes) %s.",
                          (unsigned long long)off, name_len, bad_name);
    uint16_t class_len = hp_le16(nk + 0x4A);
    uint32_t class_rel = hp_le32(nk + 0x30), class_cell;
    if (rc == HIVEPORT_OK && class_len > 0) {
        if (hp_check_cell(c, class_rel, &class_cell) == NULL)
            rc = hp_check_add(c, HP_ERROR, "ref-invalid", path, off,
                              "The class name of the key at 0x%llx points at 0x%llx: %s.", (unsigned long long)off,
                              (unsigned long long)class_rel + HP_REGF_HEADER_SIZE,
                              hp_check_why_not_cell(c, class_rel));
        else if (class_cell < class_len)
            rc = hp_check_add(c, HP_ERROR, "ref-too-small", path, off,
                              "The class name of the key at 0x%llx is %u bytes long but its cell at 0x%llx holds %u.",
                              (unsigned long long)off, class_len, (unsigned long long)class_rel + HP_REGF_HEADER_SIZE,
                              class_cell);
        else if (hp_check_mark(c, class_rel))
            rc = hp_check_add(c, HP_ERROR, "cell-shared", path, off,
                              "The class name cell at 0x%llx of the key at 0x%llx is claimed by another structure too.",
                              (unsigned long long)class_rel + HP_REGF_HEADER_SIZE, (unsigned long long)off);
    }
    if (hp_le32(nk + 0x18) != 0 && c->volatile_keys++ == 0)
        c->volatile_first = off;
    if (rc == HIVEPORT_OK)
        rc = hp_check_key_sk(c, hp_le32(nk + 0x2C), rel, path);
    return rc;
}

/* Validates one subkey-list entry: a fresh nk cell.  *nk NULL when it is not usable. */
static int claim_key(struct walk *w, uint32_t rel, uint64_t list_off, const unsigned char **nk, uint32_t *len)
{
    struct hp_check *c = w->c;
    *nk = hp_check_cell(c, rel, len);
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    c->tree_partial = c->tree_partial || *nk == NULL || *len < NK_MIN || (*nk)[0] != 'n' || (*nk)[1] != 'k';
    if (*nk == NULL)
        return hp_check_add(c, HP_ERROR, "ref-invalid", w->path, list_off,
                            "The subkey list at 0x%llx points at 0x%llx: %s.", (unsigned long long)list_off,
                            (unsigned long long)off, hp_check_why_not_cell(c, rel));
    if (*len < NK_MIN || (*nk)[0] != 'n' || (*nk)[1] != 'k') {
        *nk = NULL;
        return hp_check_add(c, HP_ERROR, "nk-signature", w->path, off,
                            "The subkey list at 0x%llx points at 0x%llx, which is not a key record (\"nk\", at "
                            "least 76 bytes).",
                            (unsigned long long)list_off, (unsigned long long)off);
    }
    if (hp_check_mark(c, rel)) {
        *nk = NULL;
        return hp_check_add(c, HP_ERROR, "cell-shared", w->path, off,
                            "The key at 0x%llx is listed a second time (by the subkey list at 0x%llx): a key has "
                            "one parent and one entry.",
                            (unsigned long long)off, (unsigned long long)list_off);
    }
    return HIVEPORT_OK;
}

/* What the entries of one key's subkey list looked like so far. */
struct list_state {
    size_t entries;     /* every entry, usable or not */
    uint32_t *children; /* the usable ones */
    size_t n, cap;
    size_t prev_len;    /* units of the previous usable entry's name in c->name_a */
    bool have_prev;
    uint32_t max_name, max_class; /* truth for the nk's longest-name fields */
};

static bool push_child(struct list_state *s, uint32_t rel)
{
    uint32_t *children = hp_grow(s->children, s->n, &s->cap, sizeof *children, 16);
    if (children == NULL)
        return false;
    s->children = children;
    s->children[s->n++] = rel;
    return true;
}

/* One leaf list (li, lf or lh) at rel, its record r of len bytes. */
static int check_leaf(struct walk *w, struct list_state *s, uint32_t rel, const unsigned char *r, uint32_t len)
{
    struct hp_check *c = w->c;
    uint64_t list_off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    bool li = r[1] == 'i', lh = r[1] == 'h';
    size_t step = li ? 4 : 8, count = hp_le16(r + 2);
    int rc = HIVEPORT_OK;
    if (4 + count * step > len) {
        c->tree_partial = true;
        rc = hp_check_add(c, HP_ERROR, "ref-too-small", w->path, list_off,
                          "The subkey list at 0x%llx counts %zu entries but its cell holds %u bytes.",
                          (unsigned long long)list_off, count, len);
        count = (len - 4) / step;
    }
    for (size_t i = 0; i < count && rc == HIVEPORT_OK; i++) {
        const unsigned char *e = r + 4 + i * step;
        uint32_t child = hp_le32(e), child_len;
        const unsigned char *nk;
        s->entries++;
        hp_check_read(c, 4096); /* the subkey's record, for its name */
        if ((rc = claim_key(w, child, list_off, &nk, &child_len)) != HIVEPORT_OK || nk == NULL)
            continue;
        if (!push_child(s, child))
            return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
        const unsigned char *name;
        size_t name_len;
        bool compressed;
        nk_name(nk, child_len, &name, &name_len, &compressed);
        uint16_t *units = c->name_b;
        size_t n = hp_check_name_units(name, name_len, compressed, units);
        uint32_t utf16 = (uint32_t)n * 2, class_len = hp_le16(nk + 0x4A);
        s->max_name = utf16 > s->max_name ? utf16 : s->max_name;
        s->max_class = class_len > s->max_class ? class_len : s->max_class;
        uint64_t child_off = (uint64_t)HP_REGF_HEADER_SIZE + child;
        if (s->have_prev) {
            int order = hp_check_compare_names(c->name_a, s->prev_len, units, n);
            if (order >= 0) {
                char *shown = hp_check_name_utf8(name, name_len, compressed);
                rc = hp_check_add(c, HP_ERROR, order == 0 ? "list-duplicate" : "list-order", w->path, list_off,
                                  order == 0 ? "The subkey list at 0x%llx holds \"%s\" (0x%llx) twice (names compare "
                                               "case-insensitively)."
                                             : "The subkey list at 0x%llx is out of order at \"%s\" (0x%llx): Windows "
                                               "looks subkeys up by binary search over upper-cased names, and misses "
                                               "keys in an unsorted list.",
                                  (unsigned long long)list_off, shown != NULL ? shown : "?",
                                  (unsigned long long)child_off);
                hp_free(shown);
            }
        }
        /* This name becomes the previous one. */
        c->name_b = c->name_a;
        c->name_a = units;
        s->prev_len = n;
        s->have_prev = true;
        if (rc != HIVEPORT_OK || li)
            continue;
        uint32_t stored = hp_le32(e + 4);
        if (lh) {
            uint32_t hash = 0;
            for (size_t k = 0; k < n; k++)
                hash = hash * 37u + hp_check_upcase(units[k]);
            if (hash != stored)
                rc = hp_check_add(c, HP_ERROR, "lh-hash", w->path, list_off + 12 + i * step,
                                  "The hash 0x%08x of entry %zu of the subkey list at 0x%llx is wrong: the name of "
                                  "the key at 0x%llx gives 0x%08x, so Windows' lookups by hash miss it.",
                                  stored, i, (unsigned long long)list_off, (unsigned long long)child_off, hash);
        } else {
            /* lf: the name's first four characters as bytes, zero-padded; not checkable past Latin-1. */
            unsigned char hint[4] = {0, 0, 0, 0};
            bool latin1 = true;
            for (size_t k = 0; k < 4 && k < n; k++) {
                latin1 = latin1 && units[k] <= 0xFF;
                hint[k] = (unsigned char)units[k];
            }
            if (latin1 && memcmp(hint, e + 4, 4) != 0)
                rc = hp_check_add(c, HP_ERROR, "lf-hint", w->path, list_off + 12 + i * step,
                                  "The name hint of entry %zu of the subkey list at 0x%llx is not the first four "
                                  "characters of the name of the key at 0x%llx.",
                                  i, (unsigned long long)list_off, (unsigned long long)child_off);
        }
    }
    return rc;
}

/* The name of the key an entry of a leaf points to, in UTF-16 code units into units; false when it is not
 * a readable key record. */
static bool entry_name(struct hp_check *c, const unsigned char *entry, uint16_t *units, size_t *n)
{
    uint32_t len;
    const unsigned char *nk = hp_check_cell(c, hp_le32(entry), &len);
    if (nk == NULL || len < NK_MIN || nk[0] != 'n' || nk[1] != 'k')
        return false;
    const unsigned char *name;
    size_t name_len;
    bool compressed;
    nk_name(nk, len, &name, &name_len, &compressed);
    *n = hp_check_name_units(name, name_len, compressed, units);
    return true;
}

/* True when the cell at rel (record of len bytes) lies in a page the change wrote. */
static bool written(const struct hp_check *c, uint32_t rel, uint32_t len)
{
    uint64_t start = (uint64_t)HP_REGF_HEADER_SIZE + rel, end = start + 4 + len;
    for (size_t i = 0; i < c->nchanged; i++)
        if (c->changed[i] < end && c->changed[i] + 4096 > start)
            return true;
    return false;
}

/* Whether the leaf at rel may lie in a page the change wrote, by its cell's size (the leaf itself is
 * checked when its turn comes): true when that size is unreadable. */
static bool may_be_written(const struct hp_check *c, uint32_t rel)
{
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    if (off + 4 > c->end)
        return true;
    int32_t size = (int32_t)hp_le32(c->data + off);
    return size >= 0 || size == INT32_MIN || written(c, rel, (uint32_t)-size - 4);
}

/* Which neighbours the leaves of the index root at rel (record r, its count of leaves) had before the
 * change: a pair i-1, i of leaves had each other as neighbours when it lies in the part of the entries
 * before the first one the change altered (i < *same_head) or after the last (i - 1 >= leaves -
 * *same_tail).  A root the change did not write kept them all; one it wrote is compared with the root at
 * the same offset in the hive as it was, when that is one; else none is known. */
static void kept_neighbours(const struct hp_check *c, uint32_t rel, const unsigned char *r, uint32_t len,
                            size_t leaves, size_t *same_head, size_t *same_tail)
{
    *same_head = *same_tail = 0;
    if (!written(c, rel, len)) {
        *same_head = leaves;
        return;
    }
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    if (c->before == NULL || off + 8 > c->before_size)
        return;
    const unsigned char *old = c->before + off;
    int32_t raw = (int32_t)hp_le32(old);
    size_t old_leaves = hp_le16(old + 6);
    if (raw >= 0 || raw == INT32_MIN || old[4] != 'r' || old[5] != 'i' || 8 + old_leaves * 4 > (uint32_t)-raw ||
        off + 8 + old_leaves * 4 > c->before_size)
        return;
    const unsigned char *was = old + 8, *now = r + 4;
    size_t head = 0, tail = 0;
    while (head < leaves && head < old_leaves && memcmp(now + 4 * head, was + 4 * head, 4) == 0)
        head++;
    while (tail < leaves - head && tail < old_leaves - head &&
           memcmp(now + 4 * (leaves - 1 - tail), was + 4 * (old_leaves - 1 - tail), 4) == 0)
        tail++;
    *same_head = head;
    *same_tail = tail;
}

/* A leaf of a touched key's index root that the change did not write (a check of part of the hive): its
 * entries are counted, not read key by key: they are what they were before the change, and so is its
 * order against a neighbour it had then and the change did not write.  Its first name is placed after the
 * previous leaf's last when that was read, and its last name is read when the next leaf is a new
 * neighbour or may have been written (check_next).  False when the leaf needs check_leaf, which then says
 * what is wrong with it. */
static bool pass_unwritten_leaf(struct walk *w, struct list_state *s, uint32_t rel, const unsigned char *r,
                                uint32_t len, bool check_next)
{
    struct hp_check *c = w->c;
    size_t step = r[1] == 'i' ? 4 : 8, count = hp_le16(r + 2), n;
    if (c->changed == NULL || written(c, rel, len) || count == 0 || 4 + count * step > len)
        return false;
    if (s->have_prev && (!entry_name(c, r + 4, c->name_b, &n) ||
                         hp_check_compare_names(c->name_a, s->prev_len, c->name_b, n) >= 0))
        return false;
    s->have_prev = false;
    if (check_next) {
        if (!entry_name(c, r + 4 + (count - 1) * step, c->name_a, &n))
            return false;
        s->prev_len = n;
        s->have_prev = true;
    }
    s->entries += count;
    return true;
}

/* A list signature Windows accepts at this version; ri only at the top. */
static const char *list_kind_problem(struct hp_check *c, const unsigned char *r, uint32_t len, bool top)
{
    if (len < 4)
        return "is too small for a list";
    if (r[0] == 'l' && r[1] == 'h')
        return c->minor >= 5 ? NULL : "is an lh list, which format 1.3 and 1.4 do not have";
    if (r[0] == 'l' && (r[1] == 'f' || r[1] == 'i'))
        return NULL;
    if (r[0] == 'r' && r[1] == 'i')
        return top ? NULL : "is an ri list inside an ri list";
    return "has no list signature (li, lf, lh, ri)";
}

/* An index root (ri) at rel: its leaves.  nested: it is itself a leaf of an ri (reported by the caller),
 * whose leaves are still walked so that one misplaced ri does not hide its keys from the other rules. */
static int check_index(struct walk *w, struct list_state *s, uint32_t rel, const unsigned char *r, uint32_t len,
                       bool nested)
{
    struct hp_check *c = w->c;
    uint64_t list_off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    size_t leaves = hp_le16(r + 2), same_head, same_tail;
    int rc = HIVEPORT_OK;
    if (4 + leaves * 4 > len) {
        c->tree_partial = true;
        rc = hp_check_add(c, HP_ERROR, "ref-too-small", w->path, list_off,
                          "The index root at 0x%llx counts %zu leaves but its cell holds %u bytes.",
                          (unsigned long long)list_off, leaves, len);
        leaves = (len - 4) / 4;
    }
    kept_neighbours(c, rel, r, len, leaves, &same_head, &same_tail);
    for (size_t i = 0; i < leaves && rc == HIVEPORT_OK; i++) {
        uint32_t leaf = hp_le32(r + 4 + 4 * i), leaf_len;
        const unsigned char *lr = hp_check_cell(c, leaf, &leaf_len);
        const char *problem = lr == NULL ? NULL : list_kind_problem(c, lr, leaf_len, false);
        bool ri = problem != NULL && lr[0] == 'r' && lr[1] == 'i';
        bool old_lh = problem != NULL && lr[0] == 'l' && lr[1] == 'h'; /* reported, and walked all the same */
        c->tree_partial = c->tree_partial || lr == NULL || (problem != NULL && !ri && !old_lh);
        if (old_lh && (rc = hp_check_add(c, HP_ERROR, "list-kind", w->path, (uint64_t)HP_REGF_HEADER_SIZE + leaf,
                                         "Leaf %zu of the index root at 0x%llx, at 0x%llx, %s.", i,
                                         (unsigned long long)list_off,
                                         (unsigned long long)leaf + HP_REGF_HEADER_SIZE, problem)) != HIVEPORT_OK)
            break;
        if (old_lh)
            problem = NULL;
        if (lr == NULL)
            rc = hp_check_add(c, HP_ERROR, "ref-invalid", w->path, list_off,
                              "Leaf %zu of the index root at 0x%llx points at 0x%llx: %s.", i,
                              (unsigned long long)list_off, (unsigned long long)leaf + HP_REGF_HEADER_SIZE,
                              hp_check_why_not_cell(c, leaf));
        else if (problem != NULL && (!ri || nested))
            rc = hp_check_add(c, HP_ERROR, "list-kind", w->path, (uint64_t)HP_REGF_HEADER_SIZE + leaf,
                              "Leaf %zu of the index root at 0x%llx, at 0x%llx, %s.", i,
                              (unsigned long long)list_off, (unsigned long long)leaf + HP_REGF_HEADER_SIZE,
                              problem);
        else if (hp_check_mark(c, leaf))
            rc = hp_check_add(c, HP_ERROR, "cell-shared", w->path, (uint64_t)HP_REGF_HEADER_SIZE + leaf,
                              "The leaf at 0x%llx of the index root at 0x%llx is claimed by another structure "
                              "too.",
                              (unsigned long long)leaf + HP_REGF_HEADER_SIZE, (unsigned long long)list_off);
        else if (ri && (rc = hp_check_add(c, HP_ERROR, "list-ri-nested", w->path,
                                          (uint64_t)HP_REGF_HEADER_SIZE + leaf,
                                          "Leaf %zu of the index root at 0x%llx, at 0x%llx, %s: Windows rejects "
                                          "the list.",
                                          i, (unsigned long long)list_off,
                                          (unsigned long long)leaf + HP_REGF_HEADER_SIZE, problem)) == HIVEPORT_OK)
            rc = check_index(w, s, leaf, lr, leaf_len, true);
        else if (!ri && !pass_unwritten_leaf(w, s, leaf, lr, leaf_len,
                                             i + 1 < leaves && ((i + 1 >= same_head && i < leaves - same_tail) ||
                                                                may_be_written(c, hp_le32(r + 8 + 4 * i)))))
            rc = check_leaf(w, s, leaf, lr, leaf_len);
    }
    return rc;
}

/* The subkey list of the key at rel (nk record nk): its entries into s. */
static int check_subkeys(struct walk *w, uint32_t rel, const unsigned char *nk, struct list_state *s)
{
    struct hp_check *c = w->c;
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    uint32_t count = hp_le32(nk + 0x14), list = hp_le32(nk + 0x1C), len;
    int rc = HIVEPORT_OK;
    if (count == 0 && list == HP_CHECK_REL_NIL)
        return HIVEPORT_OK;
    const unsigned char *r = hp_check_cell(c, list, &len);
    if (r == NULL) {
        if (count == 0) /* an empty key's list offset is not read */
            return HIVEPORT_OK;
        c->tree_partial = true;
        return hp_check_add(c, HP_ERROR, "ref-invalid", w->path, off,
                            "The key at 0x%llx has %u subkeys but its subkey list offset 0x%llx is %s.",
                            (unsigned long long)off, count, (unsigned long long)list + HP_REGF_HEADER_SIZE,
                            hp_check_why_not_cell(c, list));
    }
    uint64_t list_off = (uint64_t)HP_REGF_HEADER_SIZE + list;
    const char *kind = list_kind_problem(c, r, len, true);
    /* An lh list in a format without them is still a list: walked, so that its keys are checked too. */
    bool walkable = kind == NULL || (r[0] == 'l' && r[1] == 'h');
    if (kind != NULL && count == 0)
        return HIVEPORT_OK;
    if (kind != NULL && (rc = hp_check_add(c, HP_ERROR, "list-kind", w->path, list_off,
                                           "The subkey list at 0x%llx of the key at 0x%llx %s.",
                                           (unsigned long long)list_off, (unsigned long long)off, kind)) != HIVEPORT_OK)
        return rc;
    if (!walkable) {
        c->tree_partial = true;
        return HIVEPORT_OK;
    }
    if (hp_check_mark(c, list))
        return hp_check_add(c, HP_ERROR, "cell-shared", w->path, list_off,
                            "The subkey list at 0x%llx of the key at 0x%llx is claimed by another structure too.",
                            (unsigned long long)list_off, (unsigned long long)off);
    rc = r[0] != 'r' ? check_leaf(w, s, list, r, len) : check_index(w, s, list, r, len, false);
    if (rc == HIVEPORT_OK && s->entries != count)
        rc = hp_check_add(c, HP_ERROR, "nk-subkey-count", w->path, off,
                          "The key at 0x%llx counts %u subkeys but its subkey list at 0x%llx holds %zu.",
                          (unsigned long long)off, count, (unsigned long long)list_off, s->entries);
    return rc;
}

/* Everything about the key at rel; its usable subkeys go into f->children. */
static int visit(struct walk *w, struct frame *f, uint32_t parent, bool is_root)
{
    struct hp_check *c = w->c;
    uint32_t len;
    const unsigned char *nk = hp_check_cell(c, f->rel, &len);
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + f->rel;
    int rc = check_nk(w, f->rel, nk, len, parent, is_root);
    uint32_t max_value_name = 0, max_value_data = 0;
    if (rc == HIVEPORT_OK)
        rc = hp_check_values(c, nk, f->rel, w->path, &max_value_name, &max_value_data);
    struct list_state s;
    memset(&s, 0, sizeof s);
    if (rc == HIVEPORT_OK)
        rc = check_subkeys(w, f->rel, nk, &s);
    f->children = s.children;
    f->n = s.n;
    f->next = 0;
    if (rc != HIVEPORT_OK)
        return rc;
    /* Windows sizes its buffers from these fields: smaller than the truth, RegQueryInfoKey under-reports. */
    uint32_t max_name = hp_le32(nk + 0x34) & 0xFFFFu, max_class = hp_le32(nk + 0x38);
    uint32_t field_value_name = hp_le32(nk + 0x3C), field_value_data = hp_le32(nk + 0x40);
    const char *which = max_name < s.max_name ? "longest subkey name"
                        : max_class < s.max_class ? "longest subkey class name"
                        : field_value_name < max_value_name ? "longest value name"
                        : field_value_data < max_value_data ? "largest value data"
                                                            : NULL;
    uint32_t field = which == NULL ? 0
                     : max_name < s.max_name ? max_name
                     : max_class < s.max_class ? max_class
                     : field_value_name < max_value_name ? field_value_name
                                                         : field_value_data;
    uint32_t truth = which == NULL ? 0
                     : max_name < s.max_name ? s.max_name
                     : max_class < s.max_class ? s.max_class
                     : field_value_name < max_value_name ? max_value_name
                                                         : max_value_data;
    if (which != NULL)
        rc = hp_check_add(c, HP_WARNING, "nk-max-lengths", w->path, off,
                          "The key at 0x%llx records %u bytes as its %s, but it has one of %u bytes.",
                          (unsigned long long)off, field, which, truth);
    return rc;
}

int hp_check_keys(struct hp_check *c)
{
    struct walk w = {.c = c};
    uint32_t len;
    const unsigned char *root = hp_check_cell(c, c->root, &len);
    if (root == NULL || len < NK_MIN || root[0] != 'n' || root[1] != 'k')
        return hp_check_add(c, HP_ERROR, "base-root", NULL, 0x24,
                            "The base block's root cell offset 0x%x (file offset 0x%llx) is %s: the hive has no "
                            "readable root key.",
                            c->root, (unsigned long long)c->root + HP_REGF_HEADER_SIZE,
                            root == NULL ? hp_check_why_not_cell(c, c->root) : "not a key record (\"nk\")");
    hp_check_mark(c, c->root);
    w.stack = hp_calloc(HP_CHECK_MAX_DEPTH + 1, sizeof *w.stack);
    w.path = hp_malloc((HP_CHECK_MAX_DEPTH + 2) * PATH_UNIT_MAX + 1);
    int rc = HIVEPORT_OK;
    if (w.stack == NULL || w.path == NULL) {
        rc = hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
        goto out;
    }
    w.path[0] = '\0';
    w.stack[0].rel = c->root;
    w.depth = 1;
    rc = visit(&w, &w.stack[0], HP_CHECK_REL_NIL, true);
    while (rc == HIVEPORT_OK && w.depth > 0) {
        struct frame *top = &w.stack[w.depth - 1];
        if (top->next == top->n) {
            hp_free(top->children);
            top->children = NULL;
            w.depth--;
            if (w.depth > 0)
                w.path[w.stack[w.depth - 1].path_len] = '\0';
            continue;
        }
        uint32_t child = top->children[top->next++], child_len;
        const unsigned char *nk = hp_check_cell(c, child, &child_len);
        size_t end = path_push(&w, top->path_len, nk, child_len);
        if (w.depth > HP_CHECK_MAX_DEPTH) {
            c->tree_partial = true;
            rc = hp_check_add(c, HP_ERROR, "nk-depth", w.path, (uint64_t)HP_REGF_HEADER_SIZE + child,
                              "The key at 0x%llx is nested deeper than the 512 levels Windows loads; its subtree "
                              "was not checked.",
                              (unsigned long long)child + HP_REGF_HEADER_SIZE);
            w.path[top->path_len] = '\0';
            continue;
        }
        struct frame *f = &w.stack[w.depth++];
        memset(f, 0, sizeof *f);
        f->rel = child;
        f->path_len = end;
        rc = visit(&w, f, top->rel, false);
        hp_check_read(c, 4 * 4096); /* a key, its lists, values and data: pages here and there */
    }
out:
    for (size_t i = 0; w.stack != NULL && i < w.depth; i++)
        hp_free(w.stack[i].children);
    hp_free(w.stack);
    hp_free(w.path);
    return rc;
}

int hp_check_keys_summary(struct hp_check *c)
{
    if (c->volatile_keys == 0)
        return HIVEPORT_OK;
    return hp_check_add(c, HP_INFO, "nk-volatile-fields", NULL, c->volatile_first,
                        "%zu key%s (the first at 0x%llx) count%s volatile subkeys on disk, where the count should be "
                        "0: volatile keys live only in memory, and Windows resets the count when it loads the hive.",
                        c->volatile_keys, c->volatile_keys == 1 ? "" : "s", (unsigned long long)c->volatile_first,
                        c->volatile_keys == 1 ? "s" : "");
}

int hp_check_key(struct hp_check *c, uint32_t rel)
{
    uint32_t len;
    const unsigned char *nk = hp_check_cell(c, rel, &len);
    if (nk == NULL || len < NK_MIN || nk[0] != 'n' || nk[1] != 'k')
        return hp_check_add(c, HP_ERROR, "nk-signature", NULL, (uint64_t)HP_REGF_HEADER_SIZE + rel,
                            "The key at 0x%llx that the change touched is not a key record.",
                            (unsigned long long)HP_REGF_HEADER_SIZE + rel);
    struct walk w = {.c = c, .path = hp_malloc(PATH_UNIT_MAX + 1)};
    if (w.path == NULL)
        return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
    struct frame f = {.rel = rel, .path_len = path_push(&w, 0, nk, len)};
    bool is_root = rel == c->root;
    int rc = visit(&w, &f, is_root ? HP_CHECK_REL_NIL : hp_le32(nk + 0x10), is_root);
    hp_free(f.children);
    hp_free(w.path);
    return rc;
}
