/* subkeys.c: entering keys in and taking them out of subkey lists, as Windows keeps them.
 *
 * A key's subkeys are listed in one leaf (li: offsets only; lf: offset and the name's first four
 * characters; lh: offset and a hash of the upper-cased name), or in an index root (ri) of such leaves.
 * Entries are sorted by upper-cased name (UTF-16 code unit by code unit), since Windows finds a key by
 * binary search.  A new leaf gets the kind the hive's version calls for: lf below 1.5 (Windows 2000 does
 * not know lh), lh from 1.5.  A leaf that is full grows by reallocation to one and a half times its cell, as
 * Windows grows it, up to the entries one 4 KiB bin holds; a leaf with that many is split in two halves
 * under an ri, as Windows splits it.  A full leaf is split before that when the grown cell would need a new
 * bin and a free cell holds the upper half: Windows would grow the file there, and a hive that keeps its
 * size is written in place inside an image without touching the file system's records.
 *
 *   nk (record at N+4): +0x14 subkey count  +0x1C subkey list (rel)  +0x48 name length  +0x4C name
 *   leaf: "li"|"lf"|"lh"  u16 count  entries of 4 (li) or 8 bytes;  ri: "ri" u16 count  u32 leaves */
#include <string.h>

#include "hivecheck.h"
#include "regf.h"

#define NAME_UNITS_MAX 32768u                /* a name is at most 65535 bytes */
#define FAST_LEAF_MAX ((4096u - 0x28u) / 8u) /* entries of an lf/lh leaf that fit one bin: 507 */
#define INDEX_LEAF_MAX ((4096u - 0x28u) / 4u) /* of an li leaf or an ri root: 1014 */

struct names {
    uint16_t a[NAME_UNITS_MAX], b[NAME_UNITS_MAX];
};

uint32_t hp_regf_lh_hash(const uint16_t *units, size_t n)
{
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = 37u * h + hp_check_upcase(units[i]);
    return h;
}

int hp_regf_utf16_of(const char *utf8, uint16_t *out, size_t *n)
{
    const unsigned char *p = (const unsigned char *)utf8, *end = p + strlen(utf8);
    size_t k = 0;
    while (p < end) {
        int32_t c = hp_utf8_next(&p, end);
        if (c < 0)
            return -1;
        if (c >= 0x10000) {
            out[k++] = (uint16_t)(0xD800 + ((c - 0x10000) >> 10));
            out[k++] = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
        } else {
            out[k++] = (uint16_t)c;
        }
    }
    *n = k;
    return 0;
}

/* The name of the key at nk as UTF-16 units; -1 when nk is not a key record. */
static int key_units(const struct hp_regf_edit *e, uint64_t nk, uint16_t *out, size_t *n)
{
    uint32_t len = hp_regf_cell_len(e, nk);
    const unsigned char *r = e->data + nk + 4;
    if (len < 0x4C || r[0] != 'n' || r[1] != 'k')
        return -1;
    size_t name_len = (size_t)(r[0x48] | r[0x49] << 8);
    if (0x4C + name_len > len)
        return -1;
    *n = hp_check_name_units(r + 0x4C, name_len, (r[2] & 0x20) != 0, out);
    return 0;
}

/* The second word of a leaf entry for a key named units: lh's hash, lf's hint. */
static uint32_t entry_word(char kind, const uint16_t *units, size_t n)
{
    if (kind == 'h')
        return hp_regf_lh_hash(units, n);
    uint32_t hint = 0;
    for (size_t i = 0; i < 4 && i < n; i++)
        hint |= (uint32_t)(unsigned char)units[i] << (8 * i);
    return hint;
}

struct leaf {
    uint64_t off;
    char kind; /* 'i', 'f' or 'h' */
    uint32_t count, stride;
};

static int read_leaf(const struct hp_regf_edit *e, uint64_t off, struct leaf *l)
{
    uint32_t len = hp_regf_cell_len(e, off);
    const unsigned char *r = e->data + off + 4;
    if (len < 4 || r[0] != 'l' || (r[1] != 'i' && r[1] != 'f' && r[1] != 'h'))
        return -1;
    l->off = off;
    l->kind = (char)r[1];
    l->count = (uint32_t)(r[2] | r[3] << 8);
    l->stride = l->kind == 'i' ? 4 : 8;
    return 4 + (uint64_t)l->count * l->stride <= len ? 0 : -1;
}

static uint64_t entry_at(const struct leaf *l, uint32_t i)
{
    return l->off + 8 + (uint64_t)i * l->stride;
}

/* An lh leaf in a hive older than 1.5 (libhivex writes them) becomes the lf Windows 2000 reads. */
static int fix_kind(struct hp_regf_edit *e, struct leaf *l, struct names *nm)
{
    if (l->kind != 'h' || e->minor >= 5)
        return 0;
    for (uint32_t i = 0; i < l->count; i++) {
        size_t n;
        if (key_units(e, hp_regf_abs(hp_regf_get32(e, entry_at(l, i))), nm->b, &n) != 0)
            return -1;
        hp_regf_put32(e, entry_at(l, i) + 4, entry_word('f', nm->b, n));
    }
    hp_regf_put16(e, l->off + 4, 'l' | 'f' << 8);
    l->kind = 'f';
    return 0;
}

/* Binary search of the leaf: the index of the first entry whose name does not sort before u, *equal when
 * that entry is u.  -1 on damage. */
static int64_t lower_bound(const struct hp_regf_edit *e, const struct leaf *l, const uint16_t *u, size_t n,
                           struct names *nm, bool *equal)
{
    uint32_t lo = 0, hi = l->count;
    *equal = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        size_t m;
        if (key_units(e, hp_regf_abs(hp_regf_get32(e, entry_at(l, mid))), nm->b, &m) != 0)
            return -1;
        int order = hp_check_compare_names(u, n, nm->b, m);
        if (order == 0)
            return *equal = true, mid;
        if (order > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Where in the leaf a name goes: the first entry whose name sorts after it.  -1 on damage or when the name
 * is there already. */
static int64_t position(const struct hp_regf_edit *e, const struct leaf *l, const uint16_t *u, size_t n,
                        struct names *nm)
{
    bool equal;
    int64_t p = lower_bound(e, l, u, n, nm, &equal);
    return equal ? -1 : p;
}

/* Puts an entry for child at index p of the leaf (which must have room for count + 1 entries). */
static void put_entry(struct hp_regf_edit *e, struct leaf *l, uint32_t p, uint64_t child, uint32_t word)
{
    uint64_t at = entry_at(l, p);
    hp_regf_write(e, at + l->stride, e->data + at, (size_t)(l->count - p) * l->stride);
    hp_regf_put32(e, at, hp_regf_rel(child));
    if (l->stride == 8)
        hp_regf_put32(e, at + 4, word);
    l->count++;
    hp_regf_put16(e, l->off + 6, (uint16_t)l->count);
}

/* A new leaf of kind holding entries [from, from + n) of l. */
static uint64_t leaf_from(struct hp_regf_edit *e, const struct leaf *l, uint32_t from, uint32_t n)
{
    uint64_t off = hp_regf_cell_alloc(e, 4 + (n + 1) * l->stride);
    if (off == 0)
        return 0;
    hp_regf_put16(e, off + 4, (uint16_t)('l' | l->kind << 8));
    hp_regf_put16(e, off + 6, (uint16_t)n);
    hp_regf_write(e, off + 8, e->data + entry_at(l, from), (size_t)n * l->stride);
    return off;
}

/* Enters child (name u) in the leaf at off.  *out: the leaf's cell now; *split: a second leaf holding the
 * upper half when the leaf was full (0 otherwise). */
static int leaf_insert(struct hp_regf_edit *e, uint64_t off, const uint16_t *u, size_t n, uint64_t child,
                       struct names *nm, uint64_t *out, uint64_t *split)
{
    struct leaf l;
    *split = 0;
    if (read_leaf(e, off, &l) != 0 || fix_kind(e, &l, nm) != 0)
        return -1;
    int64_t p = position(e, &l, u, n, nm);
    if (p < 0)
        return -1;
    uint32_t max = l.stride == 8 ? FAST_LEAF_MAX : INDEX_LEAF_MAX, len = hp_regf_cell_len(e, l.off);
    uint64_t want = (uint64_t)len + (len / 2 > l.stride ? len / 2 : l.stride);
    bool full = 4 + (uint64_t)(l.count + 1) * l.stride > len;
    if (l.count >= max || (full && l.count >= 2 && want <= UINT32_MAX && !hp_regf_cell_fits(e, l.off, (uint32_t)want) &&
                           hp_regf_cell_fits(e, 0, 4 + (l.count - l.count / 2 + 1) * l.stride))) {
        uint32_t half = l.count / 2;
        uint64_t upper = leaf_from(e, &l, half, l.count - half);
        if (upper == 0)
            return -1;
        l.count = half;
        hp_regf_put16(e, l.off + 6, (uint16_t)half);
        if ((uint32_t)p > half) {
            *split = upper;
            *out = off;
            struct leaf r;
            if (read_leaf(e, upper, &r) != 0)
                return -1;
            put_entry(e, &r, (uint32_t)p - half, child, entry_word(r.kind, u, n));
            return 0;
        }
        *split = upper;
    }
    /* A leaf with no room left grows by half its cell (at least by one entry), as Windows grows it
     * (CmpAddToLeaf): the next keys then fit without moving it again. */
    uint64_t grown = l.off;
    if (4 + (uint64_t)(l.count + 1) * l.stride > len)
        grown = want <= UINT32_MAX ? hp_regf_cell_realloc(e, l.off, (uint32_t)want) : 0;
    if (grown == 0)
        return -1;
    l.off = grown;
    put_entry(e, &l, (uint32_t)p, child, entry_word(l.kind, u, n));
    *out = grown;
    return 0;
}

/* The name of the last key of the leaf at off, into nm->a; -1 on damage or an empty leaf. */
static int last_name(const struct hp_regf_edit *e, uint64_t off, uint16_t *out, size_t *n)
{
    struct leaf l;
    if (read_leaf(e, off, &l) != 0 || l.count == 0)
        return -1;
    return key_units(e, hp_regf_abs(hp_regf_get32(e, entry_at(&l, l.count - 1))), out, n);
}

/* The leaf of the ri at list (len bytes) where u belongs: the first whose last name does not sort before
 * it, else the last.  -1 on damage. */
static int64_t leaf_for(const struct hp_regf_edit *e, uint64_t list, uint32_t len, const uint16_t *u, size_t n,
                        struct names *nm)
{
    uint32_t nleaves = (uint32_t)(e->data[list + 6] | e->data[list + 7] << 8), j = 0;
    if (nleaves == 0 || 4 + (uint64_t)nleaves * 4 > len)
        return -1;
    for (; j + 1 < nleaves; j++) {
        size_t m;
        if (last_name(e, hp_regf_abs(hp_regf_get32(e, list + 8 + 4 * (uint64_t)j)), nm->a, &m) != 0)
            return -1;
        if (hp_check_compare_names(u, n, nm->a, m) <= 0)
            break;
    }
    return j;
}

static int insert_with(struct hp_regf_edit *e, uint64_t parent, uint64_t child, struct names *nm,
                       uint16_t *u, size_t n)
{
    uint64_t rec = parent + 4;
    uint32_t count = hp_regf_get32(e, rec + 0x14);
    uint64_t list = hp_regf_abs(hp_regf_get32(e, rec + 0x1C));
    if (count == 0 || list == 0) {
        char kind = e->minor >= 5 ? 'h' : 'f';
        uint64_t leaf = hp_regf_cell_alloc(e, 4 + 8);
        if (leaf == 0)
            return -1;
        hp_regf_put16(e, leaf + 4, (uint16_t)('l' | kind << 8));
        hp_regf_put16(e, leaf + 6, 1);
        hp_regf_put32(e, leaf + 8, hp_regf_rel(child));
        hp_regf_put32(e, leaf + 12, entry_word(kind, u, n));
        hp_regf_put32(e, rec + 0x1C, hp_regf_rel(leaf));
        hp_regf_put32(e, rec + 0x14, 1);
        return 0;
    }
    uint32_t len = hp_regf_cell_len(e, list);
    if (len < 4)
        return -1;
    uint64_t leaf, split;
    if (e->data[list + 4] == 'r' && e->data[list + 5] == 'i') {
        uint32_t nleaves = (uint32_t)(e->data[list + 6] | e->data[list + 7] << 8);
        int64_t j = leaf_for(e, list, len, u, n, nm);
        if (j < 0)
            return -1;
        if (leaf_insert(e, hp_regf_abs(hp_regf_get32(e, list + 8 + 4 * (uint64_t)j)), u, n, child, nm, &leaf,
                        &split) != 0)
            return -1;
        hp_regf_put32(e, list + 8 + 4 * (uint64_t)j, hp_regf_rel(leaf));
        if (split != 0) {
            uint64_t grown = hp_regf_cell_realloc(e, list, 4 + (nleaves + 1) * 4);
            if (grown == 0)
                return -1;
            list = grown;
            uint64_t at = list + 8 + 4 * (uint64_t)(j + 1);
            hp_regf_write(e, at + 4, e->data + at, (size_t)(nleaves - j - 1) * 4);
            hp_regf_put32(e, at, hp_regf_rel(split));
            hp_regf_put16(e, list + 6, (uint16_t)(nleaves + 1));
        }
    } else {
        if (leaf_insert(e, list, u, n, child, nm, &leaf, &split) != 0)
            return -1;
        list = leaf;
        if (split != 0) {
            if ((list = hp_regf_cell_alloc(e, 4 + 8)) == 0)
                return -1;
            hp_regf_put16(e, list + 4, 'r' | 'i' << 8);
            hp_regf_put16(e, list + 6, 2);
            hp_regf_put32(e, list + 8, hp_regf_rel(leaf));
            hp_regf_put32(e, list + 12, hp_regf_rel(split));
        }
    }
    hp_regf_put32(e, rec + 0x1C, hp_regf_rel(list));
    hp_regf_put32(e, rec + 0x14, count + 1);
    return 0;
}

int hp_regf_subkey_insert(struct hp_regf_edit *e, uint64_t parent, uint64_t child)
{
    struct names *nm = hp_malloc(sizeof *nm);
    uint16_t *u = hp_malloc(NAME_UNITS_MAX * sizeof *u);
    size_t n;
    e->oom = e->oom || nm == NULL || u == NULL;
    int rc = nm == NULL || u == NULL || key_units(e, child, u, &n) != 0 || hp_regf_cell_len(e, parent) < 0x4C
                 ? -1
                 : insert_with(e, parent, child, nm, u, n);
    hp_free(nm);
    hp_free(u);
    return rc;
}

int hp_regf_subkey_has(struct hp_regf_edit *e, uint64_t parent, const uint16_t *units, size_t n)
{
    uint64_t rec = parent + 4;
    if (hp_regf_cell_len(e, parent) < 0x4C)
        return -1;
    uint32_t count = hp_regf_get32(e, rec + 0x14);
    uint64_t list = hp_regf_abs(hp_regf_get32(e, rec + 0x1C));
    uint32_t len = hp_regf_cell_len(e, list);
    if (count == 0)
        return 0;
    if (len < 4)
        return -1;
    struct names *nm = hp_malloc(sizeof *nm);
    if (nm == NULL)
        return e->oom = true, -1;
    /* By name, as the insertion looks (whatever the hashes say): the leaf the name belongs in, then a
     * binary search of it.  A list out of order is the commit's check to find (check_touched.c). */
    int64_t j = e->data[list + 4] == 'r' && e->data[list + 5] == 'i' ? leaf_for(e, list, len, units, n, nm) : -2;
    struct leaf l;
    bool equal = false;
    int found = j == -1 || read_leaf(e, j >= 0 ? hp_regf_abs(hp_regf_get32(e, list + 8 + 4 * (uint64_t)j)) : list,
                                     &l) != 0 || lower_bound(e, &l, units, n, nm, &equal) < 0
                    ? -1
                    : equal;
    hp_free(nm);
    return found;
}

/* Removes child from the leaf at off: 1 when found, 0 when not there, -1 on damage. */
static int leaf_remove(struct hp_regf_edit *e, uint64_t off, uint64_t child, uint32_t *left)
{
    struct leaf l;
    if (read_leaf(e, off, &l) != 0)
        return -1;
    for (uint32_t i = 0; i < l.count; i++) {
        uint64_t at = entry_at(&l, i);
        if (hp_regf_abs(hp_regf_get32(e, at)) != child)
            continue;
        hp_regf_write(e, at, e->data + at + l.stride, (size_t)(l.count - i - 1) * l.stride);
        hp_regf_put16(e, l.off + 6, (uint16_t)(l.count - 1));
        *left = l.count - 1;
        return 1;
    }
    return 0;
}

int hp_regf_subkey_remove(struct hp_regf_edit *e, uint64_t parent, uint64_t child)
{
    uint64_t rec = parent + 4;
    uint32_t count = hp_regf_get32(e, rec + 0x14);
    uint64_t list = hp_regf_abs(hp_regf_get32(e, rec + 0x1C));
    uint32_t len = hp_regf_cell_len(e, list), left = 0;
    if (count == 0 || len < 4)
        return -1;
    int found = 0;
    if (e->data[list + 4] == 'r' && e->data[list + 5] == 'i') {
        uint32_t nleaves = (uint32_t)(e->data[list + 6] | e->data[list + 7] << 8);
        if (4 + (uint64_t)nleaves * 4 > len)
            return -1;
        for (uint32_t j = 0; j < nleaves && found == 0; j++) {
            uint64_t leaf = hp_regf_abs(hp_regf_get32(e, list + 8 + 4 * (uint64_t)j));
            if ((found = leaf_remove(e, leaf, child, &left)) == 1 && left == 0) {
                /* An empty leaf leaves the index, and an empty index the key. */
                if (hp_regf_cell_free(e, leaf) != 0)
                    return -1;
                uint64_t at = list + 8 + 4 * (uint64_t)j;
                hp_regf_write(e, at, e->data + at + 4, (size_t)(nleaves - j - 1) * 4);
                hp_regf_put16(e, list + 6, (uint16_t)(nleaves - 1));
                left = nleaves - 1;
            }
        }
    } else {
        found = leaf_remove(e, list, child, &left);
    }
    if (found != 1)
        return -1;
    if (left == 0) {
        if (hp_regf_cell_free(e, list) != 0)
            return -1;
        hp_regf_put32(e, rec + 0x1C, HP_REGF_NIL);
    }
    hp_regf_put32(e, rec + 0x14, count - 1);
    return 0;
}
