/* cells.c: bounded reads of the hive's cells straight from the mapped file: keys, subkey lists, values.
 *
 * Looking up a handful of values this way costs a few page reads, where libhivex first walks every cell
 * of the file.  Offsets are absolute file offsets (0x1000 + the format's relative offset), the same numbers
 * libhivex uses for node and value handles, so both views name things alike.  Every offset, count and
 * length read from the file is checked against the mapping before use.
 *
 *   cell:  [int32 size: negative = allocated][record ...]        rel offsets count from 0x1000
 *   nk:    +0x00 "nk"  +0x02 flags (0x20: Latin-1 name)  +0x14 subkeys  +0x1C subkey list
 *          +0x24 values  +0x28 value list  +0x48 name length  +0x4C name
 *   lf/lh: "lf"|"lh" u16 count, count x {u32 nk, u32 hint}    li: "li" u16 count, count x u32 nk
 *   ri:    "ri" u16 count, count x u32 (lf|lh|li)
 *   vk:    +0x00 "vk"  +0x02 name length  +0x04 data size (bit 31: inline)  +0x08 data or data cell
 *          +0x0C type  +0x10 flags (1: Latin-1 name)  +0x14 name
 *   db:    "db" u16 segments, u32 segment list (segments hold 16344 bytes each)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "regf.h"
#include "le.h"

#define REL_NIL 0xFFFFFFFFu
#define BIG_DATA_SEGMENT 16344u
#define HP_VALUE_DATA_MAX (16u << 20) /* no port-related value is near this; a bound against bad sizes */

/* The record of the allocated cell at absolute offset off, and its length; NULL if off is not one. */
static const unsigned char *cell_at(const struct hp_image *img, uint64_t off, uint32_t *len)
{
    if (off < HP_REGF_HEADER_SIZE || off % 8 != 0 || off + 8 > img->end)
        return NULL;
    int32_t size = (int32_t)hp_le32(img->data + off);
    if (size >= 0 || size == INT32_MIN)
        return NULL;
    uint32_t n = (uint32_t)-size;
    if (n < 8 || off + n > img->end)
        return NULL;
    *len = n - 4;
    return img->data + off + 4;
}

static uint64_t abs_of(uint32_t rel)
{
    return rel == REL_NIL ? 0 : (uint64_t)HP_REGF_HEADER_SIZE + rel;
}

static const unsigned char *record(const struct hp_image *img, uint64_t off, const char sig[2], uint32_t min_len,
                                   uint32_t *len)
{
    const unsigned char *r = cell_at(img, off, len);
    if (r == NULL || *len < min_len || r[0] != (unsigned char)sig[0] || r[1] != (unsigned char)sig[1])
        return NULL;
    return r;
}

/* A record of at least fixed bytes whose name (its length a 16-bit field at name_len_at) follows them
 * inside the cell: nk and vk. */
static const unsigned char *named_record(const struct hp_image *img, uint64_t off, const char sig[2], uint32_t fixed,
                                         uint32_t name_len_at, uint32_t *len)
{
    uint32_t n;
    const unsigned char *r = record(img, off, sig, fixed, &n);
    if (r == NULL || fixed + hp_le16(r + name_len_at) > n)
        return NULL;
    *len = n;
    return r;
}

const unsigned char *hp_cells_nk(const struct hp_image *img, uint64_t off, uint32_t *len)
{
    return named_record(img, off, "nk", 0x4C, 0x48, len);
}

const unsigned char *hp_cells_vk(const struct hp_image *img, uint64_t off, uint32_t *len)
{
    return named_record(img, off, "vk", 0x14, 0x02, len);
}

uint64_t hp_cells_root(const struct hp_image *img)
{
    uint32_t len;
    uint64_t off = abs_of(hp_le32(img->data + 0x24));
    return hp_cells_nk(img, off, &len) ? off : 0;
}

/* ---- names ---- */

/* Upper case as Windows compares key and value names, for ASCII and Latin-1 (others compare exactly). */
static uint32_t upcase(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
        return c - 32;
    if (c == 0xFF)
        return 0x178;
    return c;
}

/* Next code point of a stored name (Latin-1 or UTF-16LE), or -1 at the end. */
static int32_t stored_next(const unsigned char **p, const unsigned char *end, bool latin1)
{
    if (*p >= end)
        return -1;
    if (latin1)
        return *(*p)++;
    if (end - *p < 2)
        return -1;
    uint32_t c = hp_le16(*p);
    *p += 2;
    if (c >= 0xD800 && c <= 0xDBFF && end - *p >= 2 && hp_le16(*p) >= 0xDC00 && hp_le16(*p) <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (hp_le16(*p) - 0xDC00);
        *p += 2;
    }
    return (int32_t)c;
}

static bool name_equals(const unsigned char *stored, size_t stored_len, bool latin1, const char *utf8)
{
    const unsigned char *s = stored, *s_end = stored + stored_len;
    const unsigned char *q = (const unsigned char *)utf8, *q_end = q + strlen(utf8);
    for (;;) {
        int32_t a = stored_next(&s, s_end, latin1), b = hp_utf8_next(&q, q_end);
        if (a < 0 || b < 0)
            return a < 0 && b < 0 && s >= s_end && q >= q_end;
        if (upcase((uint32_t)a) != upcase((uint32_t)b))
            return false;
    }
}

/* A stored name as UTF-8, hp_malloc'd. */
static char *name_to_utf8(const unsigned char *stored, size_t len, bool latin1)
{
    char *out = hp_malloc(len * 2 + 1); /* Latin-1: <=2 bytes each; UTF-16: <=3 per 2 bytes or 4 per 4 */
    if (out == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = 0;
    const unsigned char *p = stored, *end = stored + len;
    for (int32_t c; (c = stored_next(&p, end, latin1)) >= 0;) {
        uint32_t u = (uint32_t)c;
        if (u < 0x80) {
            out[n++] = (char)u;
        } else if (u < 0x800) {
            out[n++] = (char)(0xC0 | u >> 6);
            out[n++] = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            out[n++] = (char)(0xE0 | u >> 12);
            out[n++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[n++] = (char)(0x80 | (u & 0x3F));
        } else {
            out[n++] = (char)(0xF0 | u >> 18);
            out[n++] = (char)(0x80 | ((u >> 12) & 0x3F));
            out[n++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[n++] = (char)(0x80 | (u & 0x3F));
        }
    }
    out[n] = '\0';
    return out;
}

/* The name of record r (NULL: not a record, errno EINVAL) in UTF-8: stored at name_at, its length at
 * len_at, Latin-1 when the 16-bit flags at flags_at have latin1 set (else UTF-16LE). */
static char *record_name(const unsigned char *r, uint32_t name_at, uint32_t len_at, uint32_t flags_at,
                         uint16_t latin1)
{
    if (r == NULL) {
        errno = EINVAL;
        return NULL;
    }
    return name_to_utf8(r + name_at, hp_le16(r + len_at), (hp_le16(r + flags_at) & latin1) != 0);
}

char *hp_cells_key_name(const struct hp_image *img, uint64_t nk_off)
{
    uint32_t len;
    return record_name(hp_cells_nk(img, nk_off, &len), 0x4C, 0x48, 0x02, 0x20);
}

char *hp_cells_value_name(const struct hp_image *img, uint64_t vk_off)
{
    uint32_t len;
    return record_name(hp_cells_vk(img, vk_off, &len), 0x14, 0x02, 0x10, 0x1);
}

/* ---- subkeys ---- */

/* A leaf list at l (llen bytes): its entries, count and stride; false when it is not one. */
static bool leaf_entries(const unsigned char *l, uint32_t llen, const unsigned char **entries, uint32_t *count,
                         uint32_t *stride)
{
    if (llen < 4 || l[0] != 'l' || (l[1] != 'f' && l[1] != 'h' && l[1] != 'i'))
        return false;
    *stride = l[1] == 'i' ? 4 : 8;
    *count = hp_le16(l + 2);
    *entries = l + 4;
    return 4 + (uint64_t)*count * *stride <= llen;
}

/* The subkey list of the key at nk_off (at least 4 bytes), *list NULL when it has no subkeys; false on
 * damage. */
static bool subkey_list(const struct hp_image *img, uint64_t nk_off, const unsigned char **list, uint32_t *len)
{
    const unsigned char *nk = hp_cells_nk(img, nk_off, len);
    *list = NULL;
    if (nk == NULL)
        return false;
    if (hp_le32(nk + 0x14) == 0)
        return true;
    *list = cell_at(img, abs_of(hp_le32(nk + 0x1C)), len);
    return *list != NULL && *len >= 4;
}

/* The leaf lists (lf, lh, li) of a key's subkey list, directly or through an ri index: calls leaf for each
 * with its signature's second letter, its entries, their count and their size; false on damage. */
static bool for_each_leaf(const struct hp_image *img, uint64_t nk_off,
                          bool (*leaf)(const unsigned char *entries, uint32_t count, uint32_t stride, char kind,
                                       void *ctx),
                          void *ctx)
{
    const unsigned char *list;
    uint32_t len;
    if (!subkey_list(img, nk_off, &list, &len))
        return false;
    uint32_t nleaves = list == NULL ? 0 : 1;
    const unsigned char *index = NULL;
    if (list != NULL && list[0] == 'r' && list[1] == 'i') {
        nleaves = hp_le16(list + 2);
        if (4 + (uint64_t)nleaves * 4 > len)
            return false;
        index = list + 4;
    }
    for (uint32_t i = 0; i < nleaves; i++) {
        const unsigned char *l = list, *entries;
        uint32_t llen = len, count, stride;
        if (index != NULL && (l = cell_at(img, abs_of(hp_le32(index + (size_t)i * 4)), &llen)) == NULL)
            return false;
        if (!leaf_entries(l, llen, &entries, &count, &stride) || !leaf(entries, count, stride, (char)l[1], ctx))
            return false;
    }
    return true;
}

struct walk {
    int (*visit)(uint64_t, void *);
    void *ctx;
    int rc;
};

static bool walk_leaf(const unsigned char *entries, uint32_t count, uint32_t stride, char kind, void *ctx)
{
    (void)kind;
    struct walk *w = ctx;
    for (uint32_t i = 0; i < count && w->rc == 0; i++)
        w->rc = w->visit(abs_of(hp_le32(entries + (size_t)i * stride)), w->ctx);
    return true;
}

int hp_cells_walk_subkeys(const struct hp_image *img, uint64_t nk_off, int (*visit)(uint64_t, void *), void *ctx)
{
    struct walk w = {visit, ctx, 0};
    /* A visitor that stops (rc != 0) stops the walk: the remaining leaves are passed over. */
    if (!for_each_leaf(img, nk_off, walk_leaf, &w))
        return w.rc != 0 ? w.rc : -1;
    return w.rc;
}

/* The hash an lh list keeps for a subkey name: h = 37 h + upcase(c) over its UTF-16 code units, computed
 * here for ASCII names only, whose upper case is beyond doubt.  False for other names. */
static bool lh_hash(const unsigned char *name, size_t len, size_t unit, uint32_t *hash)
{
    uint32_t h = 0;
    for (size_t i = 0; i + unit <= len; i += unit) {
        uint32_t c = unit == 2 ? hp_le16(name + i) : name[i];
        if (c >= 0x80)
            return false;
        h = 37 * h + (c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    *hash = h;
    return true;
}

/* Looking a subkey up by name.  In an lh list only the entries whose hash matches the name's are read, as
 * Windows reads them: one key instead of 50000 in a large Services list.  A key whose stored hash is wrong
 * is therefore not found; libhivex, which compares every name, would find it, so a new key is refused
 * when its name is listed already behind a wrong hash (hive/editkey.c): that would be a second key of
 * the name. */
struct lookup {
    const struct hp_image *img;
    const char *name;
    uint32_t hash;
    bool filter; /* an ASCII name: skip lh entries whose hash differs */
    bool bad;
    uint64_t found;
};

static bool lookup_leaf(const unsigned char *entries, uint32_t count, uint32_t stride, char kind, void *ctx)
{
    struct lookup *l = ctx;
    for (uint32_t i = 0; i < count && l->found == 0; i++) {
        const unsigned char *e = entries + (size_t)i * stride;
        if (kind == 'h' && l->filter && hp_le32(e + 4) != l->hash)
            continue;
        uint32_t len;
        uint64_t off = abs_of(hp_le32(e));
        const unsigned char *nk = hp_cells_nk(l->img, off, &len);
        if (nk == NULL) {
            l->bad = true;
            return false;
        }
        if (name_equals(nk + 0x4C, hp_le16(nk + 0x48), (hp_le16(nk + 0x02) & 0x20) != 0, l->name))
            l->found = off;
    }
    return true;
}

/* ---- Looking up by binary search ----
 * Windows keeps a subkey list sorted by upper-cased name and searches it by halves.  An ASCII name is
 * looked up so, over ASCII names (whose upper case is beyond doubt, as for lh hashes); anything else a
 * probe meets (another name, a damaged list or key) gives way to reading every entry, which says what is
 * damaged when something is.  A key whose lh hash is wrong stays hidden, as in the linear lookup. */
enum { SEARCH_FOUND, SEARCH_ABSENT, SEARCH_LINEAR };

/* The order of key off's name against name (ASCII): <0, 0, >0; SEARCH_ORDER_NONE when off is not a key
 * or its name is not ASCII. */
#define SEARCH_ORDER_NONE 2
static int ascii_order(const struct hp_image *img, uint64_t off, const char *name)
{
    uint32_t len;
    const unsigned char *nk = hp_cells_nk(img, off, &len);
    if (nk == NULL)
        return SEARCH_ORDER_NONE;
    bool latin1 = (hp_le16(nk + 0x02) & 0x20) != 0;
    const unsigned char *p = nk + 0x4C, *end = p + hp_le16(nk + 0x48);
    const unsigned char *q = (const unsigned char *)name;
    for (;; q++) {
        int32_t c = stored_next(&p, end, latin1);
        if (c >= 0x80 || c == 0 || (c < 0 && p != end))
            return SEARCH_ORDER_NONE; /* so do a NUL in the name and a stray last byte: name_equals decides */
        uint32_t a = c < 0 ? 0 : upcase((uint32_t)c), b = upcase(*q);
        if (a != b && ((a >= '[' && a <= '`') || (b >= '[' && b <= '`')))
            return SEARCH_ORDER_NONE; /* between Z and a: libhivex, which sorts by lower case, puts these first */
        if (a != b || a == 0)
            return a < b ? -1 : a > b;
    }
}

/* Items to search by halves: the entries of a leaf (stride bytes, each a key's offset), or the leaves of
 * an index root (each ordered by its last key). */
struct probe {
    const struct hp_image *img;
    const unsigned char *base;
    uint32_t stride;
    bool leaves;
};

/* The offset of the key item i is ordered by; 0 when it cannot be read. */
static uint64_t probe_key(const struct probe *p, uint32_t i)
{
    uint64_t off = abs_of(hp_le32(p->base + (size_t)i * p->stride));
    if (!p->leaves)
        return off;
    const unsigned char *l, *entries;
    uint32_t llen, count, stride;
    if ((l = cell_at(p->img, off, &llen)) == NULL || !leaf_entries(l, llen, &entries, &count, &stride) || count == 0)
        return 0;
    return abs_of(hp_le32(entries + (size_t)(count - 1) * stride));
}

/* The first of n items whose key's name is not below name, into *at, and that name's order against name
 * into *order (1 when there is none); SEARCH_LINEAR when a probe cannot be ordered. */
static int search(const struct probe *p, uint32_t n, const char *name, uint32_t *at, int *order)
{
    uint32_t lo = 0, hi = n;
    *order = 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t key = probe_key(p, mid);
        int o = key == 0 ? SEARCH_ORDER_NONE : ascii_order(p->img, key, name);
        if (o == SEARCH_ORDER_NONE)
            return SEARCH_LINEAR;
        if (o < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
            *order = o;
        }
    }
    *at = lo;
    return SEARCH_FOUND;
}

static int search_child(const struct hp_image *img, uint64_t nk_off, const char *name, uint32_t hash,
                        uint64_t *child)
{
    const unsigned char *list, *entries;
    uint32_t len, count, stride, at;
    int order;
    if (!subkey_list(img, nk_off, &list, &len))
        return SEARCH_LINEAR;
    if (list == NULL)
        return SEARCH_ABSENT;
    if (list[0] == 'r' && list[1] == 'i') {
        /* The leaf to search: the first whose last name is not below name. */
        uint32_t nleaves = hp_le16(list + 2);
        struct probe leaves = {img, list + 4, 4, true};
        if (4 + (uint64_t)nleaves * 4 > len || search(&leaves, nleaves, name, &at, &order) != SEARCH_FOUND)
            return SEARCH_LINEAR;
        if (at == nleaves)
            return SEARCH_ABSENT;
        if ((list = cell_at(img, abs_of(hp_le32(list + 4 + (size_t)at * 4)), &len)) == NULL)
            return SEARCH_LINEAR;
    }
    struct probe keys = {img, NULL, 0, false};
    if (!leaf_entries(list, len, &entries, &count, &stride))
        return SEARCH_LINEAR;
    keys.base = entries;
    keys.stride = stride;
    if (search(&keys, count, name, &at, &order) != SEARCH_FOUND)
        return SEARCH_LINEAR;
    if (at == count || order != 0)
        return SEARCH_ABSENT;
    const unsigned char *e = entries + (size_t)at * stride;
    if (list[1] == 'h' && hp_le32(e + 4) != hash)
        return SEARCH_ABSENT;
    *child = abs_of(hp_le32(e));
    return SEARCH_FOUND;
}

int hp_cells_child(const struct hp_image *img, uint64_t nk_off, const char *name, uint64_t *child)
{
    struct lookup l = {.img = img, .name = name};
    l.filter = lh_hash((const unsigned char *)name, strlen(name), 1, &l.hash);
    *child = 0;
    if (l.filter && search_child(img, nk_off, name, l.hash, child) != SEARCH_LINEAR)
        return 0;
    *child = 0;
    if (!for_each_leaf(img, nk_off, lookup_leaf, &l) || l.bad)
        return -1;
    *child = l.found;
    return 0;
}

/* ---- values ---- */

int hp_cells_values(const struct hp_image *img, uint64_t nk_off, const unsigned char **list, uint32_t *count)
{
    uint32_t len;
    const unsigned char *nk = hp_cells_nk(img, nk_off, &len);
    if (nk == NULL)
        return -1;
    *count = hp_le32(nk + 0x24);
    *list = NULL;
    if (*count == 0)
        return 0;
    const unsigned char *l = cell_at(img, abs_of(hp_le32(nk + 0x28)), &len);
    if (l == NULL || (uint64_t)*count * 4 > len)
        return -1;
    *list = l;
    return 0;
}

uint64_t hp_cells_value_at(const unsigned char *list, uint32_t i)
{
    return abs_of(hp_le32(list + (size_t)i * 4));
}

int hp_cells_value(const struct hp_image *img, uint64_t nk_off, const char *name, uint64_t *vk_off)
{
    const unsigned char *list;
    uint32_t count, len;
    *vk_off = 0;
    if (hp_cells_values(img, nk_off, &list, &count) != 0)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t off = hp_cells_value_at(list, i);
        const unsigned char *vk = hp_cells_vk(img, off, &len);
        if (vk == NULL)
            return -1;
        if (name_equals(vk + 0x14, hp_le16(vk + 0x02), (hp_le16(vk + 0x10) & 0x1) != 0, name)) {
            *vk_off = off;
            return 0;
        }
    }
    return 0;
}

int hp_cells_value_type(const struct hp_image *img, uint64_t vk_off, uint32_t *type, size_t *len)
{
    uint32_t n;
    const unsigned char *vk = hp_cells_vk(img, vk_off, &n);
    if (vk == NULL)
        return -1;
    *type = hp_le32(vk + 0x0C);
    *len = hp_le32(vk + 0x04) & 0x7FFFFFFFu;
    return 0;
}

char *hp_cells_value_data(const struct hp_image *img, uint64_t vk_off, uint32_t *type, size_t *len_out)
{
    uint32_t n;
    const unsigned char *vk = hp_cells_vk(img, vk_off, &n);
    if (vk == NULL) {
        errno = EINVAL;
        return NULL;
    }
    uint32_t size_field = hp_le32(vk + 0x04), len = size_field & 0x7FFFFFFFu;
    *type = hp_le32(vk + 0x0C);
    if (len > HP_VALUE_DATA_MAX || ((size_field & 0x80000000u) && len > 4)) {
        errno = EINVAL;
        return NULL;
    }
    char *out = hp_malloc(len ? len : 1);
    if (out == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    *len_out = len;
    if (size_field & 0x80000000u) {
        memcpy(out, vk + 0x08, len);
        return out;
    }
    uint32_t cell_len;
    const unsigned char *data = cell_at(img, abs_of(hp_le32(vk + 0x08)), &cell_len);
    if (data != NULL && len <= cell_len && !(len > BIG_DATA_SEGMENT && cell_len >= 8 && data[0] == 'd' && data[1] == 'b')) {
        memcpy(out, data, len);
        return out;
    }
    if (data != NULL && cell_len >= 8 && data[0] == 'd' && data[1] == 'b') {
        uint32_t segments = hp_le16(data + 2), list_len, copied = 0;
        const unsigned char *list = cell_at(img, abs_of(hp_le32(data + 4)), &list_len);
        if (list != NULL && (uint64_t)segments * 4 <= list_len) {
            for (uint32_t i = 0; i < segments && copied < len; i++) {
                uint32_t seg_len;
                const unsigned char *seg = cell_at(img, abs_of(hp_le32(list + (size_t)i * 4)), &seg_len);
                uint32_t want = len - copied < BIG_DATA_SEGMENT ? len - copied : BIG_DATA_SEGMENT;
                if (seg == NULL || seg_len < want)
                    break;
                memcpy(out + copied, seg, want);
                copied += want;
            }
            if (copied == len)
                return out;
        }
    }
    hp_free(out);
    errno = EINVAL;
    return NULL;
}

uint64_t hp_cells_key_time(const struct hp_image *img, uint64_t nk_off)
{
    uint32_t len;
    const unsigned char *nk = hp_cells_nk(img, nk_off, &len);
    return nk == NULL ? 0 : (uint64_t)hp_le32(nk + 0x04) | (uint64_t)hp_le32(nk + 0x08) << 32;
}

uint64_t hp_cells_key_parent(const struct hp_image *img, uint64_t nk_off)
{
    uint32_t len;
    const unsigned char *nk = hp_cells_nk(img, nk_off, &len);
    return nk == NULL ? 0 : abs_of(hp_le32(nk + 0x10));
}
