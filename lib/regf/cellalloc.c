/* cellalloc.c: allocating and freeing cells in the hive bins, as Windows does.
 *
 * Windows keeps every free cell on a free list by size and takes a new cell from the free cells of the bins
 * it has before it adds a bin: it takes a cell that fits, splits off the rest as a new free cell when that
 * rest can be a cell, and merges a cell it frees with free neighbours in the same bin.  So a change that
 * creates a few keys in a hive with free space leaves the file's size as it was.  Here the free cells are
 * indexed once (one walk of the bins, on the first allocation of a session) and kept sorted by offset; a
 * cell is taken from the lowest of Windows' size classes holding one that fits (size_class).  A cell that
 * must grow takes the free cell behind it when there is one, else moves (hp_regf_cell_realloc).
 *
 *   hbin at B: B+0 "hbin"  B+4 offset (rel)  B+8 size  B+0x14 FILETIME (first bin only)  B+0x20 first cell
 *   cell:      int32 size (negative: allocated; a multiple of 8, size field included), then the record */
#include <string.h>
#include <unistd.h>

#include "le.h"
#include "regf.h"

#define BIN_HEADER 0x20u
#define HBIN_SIGNATURE 0x6E696268u /* "hbin" read as a little-endian word */
#define MIN_SPLIT 16u /* a rest smaller than this stays with the allocated cell */

static int add_bin(struct hp_regf_edit *e, uint64_t off, uint32_t size)
{
    if (e->nbins == e->capbins) {
        size_t cap = e->capbins ? 2 * e->capbins : 64;
        struct hp_regf_bin *bigger = hp_calloc(cap, sizeof *bigger);
        if (bigger == NULL)
            return e->oom = true, -1;
        if (e->nbins)
            memcpy(bigger, e->bins, e->nbins * sizeof *bigger);
        hp_free(e->bins);
        e->bins = bigger;
        e->capbins = cap;
    }
    e->bins[e->nbins++] = (struct hp_regf_bin){off, size};
    return 0;
}

/* Inserts a free cell at index i of the sorted free list. */
static int free_insert(struct hp_regf_edit *e, size_t i, uint64_t off, uint32_t size)
{
    if (e->nfree == e->capfree) {
        size_t cap = e->capfree ? 2 * e->capfree : 256;
        struct hp_regf_free_cell *bigger = hp_calloc(cap, sizeof *bigger);
        if (bigger == NULL)
            return e->oom = true, -1;
        if (e->nfree)
            memcpy(bigger, e->free, e->nfree * sizeof *bigger);
        hp_free(e->free);
        e->free = bigger;
        e->capfree = cap;
    }
    memmove(e->free + i + 1, e->free + i, (e->nfree - i) * sizeof *e->free);
    e->free[i] = (struct hp_regf_free_cell){off, size};
    e->nfree++;
    return 0;
}

static void free_remove(struct hp_regf_edit *e, size_t i)
{
    memmove(e->free + i, e->free + i + 1, (e->nfree - i - 1) * sizeof *e->free);
    e->nfree--;
}

/* The index of the first free cell at or after off. */
static size_t free_find(const struct hp_regf_edit *e, uint64_t off)
{
    size_t lo = 0, hi = e->nfree;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->free[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Windows' free lists by size: one per 8 bytes below 136, then one per power of two, the last for every
 * cell of 128 KiB and more.  A cell is taken from the lowest list holding one that fits, the lowest offset
 * first (Windows orders its free lists by offset when it loads a hive). */
static unsigned size_class(uint32_t size)
{
    if (size < 136)
        return size / 8 - 1;
    unsigned c = 16;
    for (uint32_t s = size >> 8; s != 0 && c < 23; s >>= 1)
        c++;
    return c;
}

/* The bytes the index is built from: the file read through a buffer while the edit has it (reading costs
 * less than faulting in every page of the mapping: hp_regf_check_bins), with the pages changed since laid
 * over it; else the edited copy itself. */
#define SCAN_CHUNK (64u * 1024u)
struct scan {
    const struct hp_regf_edit *e;
    unsigned char *buf; /* NULL: read the copy */
    uint64_t base, have;
};

static uint32_t scan32(struct scan *s, uint64_t off)
{
    const struct hp_regf_edit *e = s->e;
    if (s->buf != NULL && (off < s->base || off + 4 > s->base + s->have)) {
        s->base = off - off % SCAN_CHUNK;
        uint64_t want = e->end - s->base < SCAN_CHUNK ? e->end - s->base : SCAN_CHUNK;
        ssize_t got = pread(e->fd, s->buf, (size_t)want, (off_t)s->base);
        if (got < 0 || (uint64_t)got != want) {
            hp_free(s->buf); /* the copy holds the same bytes */
            s->buf = NULL;
        } else {
            s->have = want;
            for (uint64_t p = s->base; p < s->base + s->have; p += 4096)
                if (hp_regf_edit_page_dirty(e, p / 4096))
                    memcpy(s->buf + (p - s->base), e->data + p, 4096);
        }
    }
    return s->buf != NULL ? hp_le32(s->buf + (off - s->base)) : hp_regf_get32(e, off);
}

/* One walk of every bin and cell: the bins and the free cells.  -1 when the bins do not tile. */
static int build_index(struct hp_regf_edit *e)
{
    struct scan s = {e, e->fd >= 0 ? hp_malloc(SCAN_CHUNK) : NULL, 0, 0};
    int rc = 0;
    e->nbins = e->nfree = 0;
    for (uint64_t b = HP_REGF_HEADER_SIZE; b < e->end && rc == 0;) {
        uint32_t size = scan32(&s, b + 8);
        if (scan32(&s, b) != HBIN_SIGNATURE || scan32(&s, b + 4) != b - HP_REGF_HEADER_SIZE ||
            size < HP_REGF_HBIN_SIZE || size % HP_REGF_HBIN_SIZE != 0 || b + size > e->end || add_bin(e, b, size) != 0) {
            rc = -1;
            break;
        }
        for (uint64_t c = b + BIN_HEADER; c < b + size;) {
            int32_t raw = (int32_t)scan32(&s, c);
            uint32_t n = raw < 0 ? (uint32_t)-(int64_t)raw : (uint32_t)raw;
            if (raw == INT32_MIN || n < 8 || n % 8 != 0 || c + n > b + size ||
                (raw > 0 && free_insert(e, e->nfree, c, n) != 0)) {
                rc = -1;
                break;
            }
            c += n;
        }
        b += size;
    }
    hp_free(s.buf);
    e->indexed = rc == 0;
    return rc;
}

/* The index a session needs before its first allocation: the whole walk, or for a scratch edit none (only
 * the bins it appends are indexed). */
static int ensure_index(struct hp_regf_edit *e)
{
    if (e->indexed)
        return 0;
    if (e->no_reuse)
        return e->indexed = true, 0;
    return build_index(e);
}

/* Appends a bin large enough for a cell of need bytes; its space becomes one free cell. */
static int append_bin(struct hp_regf_edit *e, uint32_t need)
{
    uint64_t size = ((uint64_t)need + BIN_HEADER + HP_REGF_HBIN_SIZE - 1) / HP_REGF_HBIN_SIZE * HP_REGF_HBIN_SIZE;
    uint64_t b = e->end;
    if (b + size > 0xFFFFF000u || hp_regf_edit_reserve(e, b + size) != 0 || add_bin(e, b, (uint32_t)size) != 0)
        return -1;
    memset(e->data + b, 0, (size_t)size);
    memcpy(e->data + b, "hbin", 4);
    e->end = b + size;
    hp_regf_put32(e, b + 4, (uint32_t)(b - HP_REGF_HEADER_SIZE));
    hp_regf_put32(e, b + 8, (uint32_t)size);
    hp_regf_put32(e, b + BIN_HEADER, (uint32_t)size - BIN_HEADER);
    /* The base block's hive-bins size, and its checksum: readers of the copy check both. */
    hp_regf_put32(e, 0x28, (uint32_t)(e->end - HP_REGF_HEADER_SIZE));
    hp_regf_put32(e, 0x1FC, hp_regf_checksum(e->data));
    return free_insert(e, e->nfree, b + BIN_HEADER, (uint32_t)size - BIN_HEADER);
}

uint64_t hp_regf_cell_alloc(struct hp_regf_edit *e, uint32_t record_len)
{
    if (record_len > 0x7FFFFFF0u - 4 || ensure_index(e) != 0)
        return 0;
    uint32_t need = (record_len + 4 + 7) & ~7u;
    size_t best = e->nfree;
    unsigned best_class = 0;
    for (size_t i = 0; i < e->nfree; i++) {
        unsigned c = size_class(e->free[i].size);
        if (e->free[i].size >= need && (best == e->nfree || c < best_class)) {
            best = i;
            best_class = c;
        }
    }
    if (best == e->nfree) {
        if (append_bin(e, need) != 0)
            return 0;
        best = e->nfree - 1;
    }
    uint64_t off = e->free[best].off;
    uint32_t size = e->free[best].size;
    if (size - need >= MIN_SPLIT) {
        /* The rest stays where it was in the sorted list: it lies between the same neighbours. */
        e->free[best].off = off + need;
        e->free[best].size = size - need;
        hp_regf_put32(e, off + need, size - need);
        size = need;
    } else {
        free_remove(e, best);
    }
    memset(e->data + off, 0, size);
    hp_regf_put32(e, off, (uint32_t)-(int32_t)size);
    hp_regf_edit_mark(e, off, size);
    return off;
}

/* The bin holding off. */
static const struct hp_regf_bin *bin_of(const struct hp_regf_edit *e, uint64_t off)
{
    size_t lo = 0, hi = e->nbins;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->bins[mid].off + e->bins[mid].size <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->nbins && e->bins[lo].off <= off ? &e->bins[lo] : NULL;
}

int hp_regf_cell_free(struct hp_regf_edit *e, uint64_t off)
{
    if (ensure_index(e) != 0)
        return -1;
    uint32_t len = hp_regf_cell_len(e, off);
    const struct hp_regf_bin *bin = bin_of(e, off);
    if (len != 0 && bin == NULL && e->no_reuse && (e->nbins == 0 || off < e->bins[0].off)) {
        hp_regf_put32(e, off, len + 4); /* a bin of the file, not indexed: no neighbour merges */
        return 0;
    }
    if (len == 0 || bin == NULL || off + len + 4 > bin->off + bin->size)
        return -1;
    uint64_t start = off, stop = off + len + 4;
    /* The free neighbours: the previous cell needs a walk from the bin's first cell. */
    uint64_t prev = 0;
    for (uint64_t c = bin->off + BIN_HEADER; c < off;) {
        int32_t raw = (int32_t)hp_regf_get32(e, c);
        uint32_t n = raw < 0 ? (uint32_t)-(int64_t)raw : (uint32_t)raw;
        if (n < 8 || c + n > off)
            return -1;
        prev = c;
        c += n;
    }
    size_t i = free_find(e, off);
    bool merge_prev = prev != 0 && (int32_t)hp_regf_get32(e, prev) > 0 && i > 0 && e->free[i - 1].off == prev;
    bool merge_next = stop < bin->off + bin->size && (int32_t)hp_regf_get32(e, stop) > 0 && i < e->nfree &&
                      e->free[i].off == stop;
    if (merge_next) {
        stop += e->free[i].size;
        free_remove(e, i);
    }
    if (merge_prev) {
        start = prev;
        e->free[i - 1].size = (uint32_t)(stop - start);
    } else if (free_insert(e, i, start, (uint32_t)(stop - start)) != 0) {
        return -1;
    }
    hp_regf_put32(e, start, (uint32_t)(stop - start));
    return 0;
}

uint64_t hp_regf_cell_realloc(struct hp_regf_edit *e, uint64_t off, uint32_t record_len)
{
    uint32_t len = hp_regf_cell_len(e, off);
    if (len == 0 || record_len > 0x7FFFFFF0u - 4 || ensure_index(e) != 0)
        return 0;
    if (len >= record_len)
        return off;
    uint32_t need = (record_len + 4 + 7) & ~7u, have = len + 4;
    /* A free cell right behind it with room: the cell grows where it is. */
    size_t i = free_find(e, off + have);
    if (i < e->nfree && e->free[i].off == off + have && have + e->free[i].size >= need) {
        uint32_t total = have + e->free[i].size;
        if (total - need >= MIN_SPLIT) {
            e->free[i].off = off + need;
            e->free[i].size = total - need;
            hp_regf_put32(e, off + need, total - need);
        } else {
            free_remove(e, i);
            need = total;
        }
        memset(e->data + off + have, 0, need - have);
        hp_regf_put32(e, off, (uint32_t)-(int32_t)need);
        hp_regf_edit_mark(e, off, need);
        return off;
    }
    /* Else the record moves: the old cell is freed first, so that it and its free neighbours may take the
     * new one. */
    unsigned char *saved = hp_malloc(len);
    if (saved == NULL)
        return e->oom = true, 0;
    memcpy(saved, e->data + off + 4, len);
    uint64_t moved = hp_regf_cell_free(e, off) == 0 ? hp_regf_cell_alloc(e, record_len) : 0;
    if (moved != 0)
        hp_regf_write(e, moved + 4, saved, len);
    hp_free(saved);
    return moved;
}
