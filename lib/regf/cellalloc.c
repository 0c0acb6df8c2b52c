/* cellalloc.c: allocating and freeing cells in the hive bins, as Windows does.
 *
 * Windows keeps every free cell on a free list by size and takes a new cell from the free cells of the bins
 * it has before it adds a bin: it takes a cell that fits, splits off the rest as a new free cell when that
 * rest can be a cell, and merges a cell it frees with free neighbours in the same bin.  So a change that
 * creates a few keys in a hive with free space leaves the file's size as it was.  Here the free cells are
 * indexed as the allocations need them, and kept sorted by offset: the bin of a cell being freed or grown,
 * and, when no indexed free cell fits, the file's bins from its last one back, over its last MiB
 * (FIT_WINDOW), until one fits (a hive saved by Windows has its free space in its last bins; win7 SYSTEM:
 * all of it in the last).  So the cost of a change is set by the change, not by the hive (an index of
 * every cell was 2/3 of a stamp of a 250 MB hive).  A cell is taken from the lowest of Windows' size
 * classes holding one that fits (size_class), among the indexed bins.  A cell that must grow takes the
 * free cell behind it when there is one, else moves (hp_regf_cell_realloc).  The bins are found through
 * the open's map of where they start or, when the open left out the walk of the chain (a logged writer's,
 * handle.c), walks of the chain near the bins an allocation needs (learn_bins).
 * A scratch edit (no_reuse) indexes only the bins it appends.
 *
 *   hbin at B: B+0 "hbin"  B+4 offset (rel)  B+8 size  B+0x14 FILETIME (first bin only)  B+0x20 first cell
 *   cell:      int32 size (negative: allocated; a multiple of 8, size field included), then the record */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "le.h"
#include "regf.h"

#define BIN_HEADER 0x20u
#define HBIN_SIGNATURE 0x6E696268u /* "hbin" read as a little-endian word */
#define MIN_SPLIT 16u /* a rest smaller than this stays with the allocated cell */

static int add_bin(struct hp_regf_cells *x, uint64_t off, uint32_t size)
{
    if (x->nbins == x->capbins) {
        size_t cap = x->capbins ? 2 * x->capbins : 64;
        struct hp_regf_bin *bigger = hp_calloc(cap, sizeof *bigger);
        if (bigger == NULL)
            return -1;
        if (x->nbins)
            memcpy(bigger, x->bins, x->nbins * sizeof *bigger);
        hp_free(x->bins);
        x->bins = bigger;
        x->capbins = cap;
    }
    x->bins[x->nbins++] = (struct hp_regf_bin){off, size};
    return 0;
}

/* Inserts a free cell at index i of the sorted free list. */
static int free_insert(struct hp_regf_cells *x, size_t i, uint64_t off, uint32_t size)
{
    if (x->nfree == x->capfree) {
        size_t cap = x->capfree ? 2 * x->capfree : 256;
        struct hp_regf_free_cell *bigger = hp_calloc(cap, sizeof *bigger);
        if (bigger == NULL)
            return -1;
        if (x->nfree)
            memcpy(bigger, x->free, x->nfree * sizeof *bigger);
        hp_free(x->free);
        x->free = bigger;
        x->capfree = cap;
    }
    memmove(x->free + i + 1, x->free + i, (x->nfree - i) * sizeof *x->free);
    x->free[i] = (struct hp_regf_free_cell){off, size};
    x->nfree++;
    return 0;
}

static void free_remove(struct hp_regf_edit *e, size_t i)
{
    memmove(e->cells.free + i, e->cells.free + i + 1, (e->cells.nfree - i - 1) * sizeof *e->cells.free);
    e->cells.nfree--;
}

/* The index of the first free cell at or after off. */
static size_t free_find(const struct hp_regf_edit *e, uint64_t off)
{
    size_t lo = 0, hi = e->cells.nfree;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->cells.free[mid].off < off)
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

/* A walk of the hive bins in memory: the file's shared mapping (the open's walk, and an edit's deferred
 * one) or an edit's copy. */
struct walk {
    const unsigned char *mem;
    uint64_t end;
    bool oom;                           /* the lists could not grow */
    uint64_t *starts;                   /* where the bins start, one bit per page, or NULL */
    bool release;                       /* mem is the file's shared mapping: give its pages back as it goes */
    uint64_t released;                  /* its pages below this were given back */
};

/* The open's walk touches a page per bin of the file's mapping: they are given back as it goes (MADV_DONTNEED:
 * the page cache keeps them), so that a read's peak memory is what it looks up, not the hive (250 MB: 251
 * MiB -> 5 MiB). */
#define RELEASE_EVERY (4u << 20)
static void release_behind(struct walk *s, uint64_t off, bool all)
{
    if (!s->release || (!all && off - s->released < RELEASE_EVERY))
        return; /* never an edit's private copy: MADV_DONTNEED would drop its changes */
    uint64_t end = all ? s->end : off - off % 4096;
    if (end > s->released)
        madvise((void *)(s->mem + s->released), (size_t)(end - s->released), MADV_DONTNEED);
    s->released = end;
}

/* The bin [b, b + size) and its free cells into cells (NULL: only whether its cells tile it): false when
 * its cells do not tile it or memory ran out (s->oom). */
static bool walk_cells(struct walk *s, uint64_t b, uint32_t size, struct hp_regf_cells *cells)
{
    if (cells != NULL && add_bin(cells, b, size) != 0)
        return s->oom = true, false;
    for (uint64_t c = b + BIN_HEADER; c < b + size;) {
        int32_t raw = (int32_t)hp_le32(s->mem + c);
        uint32_t n = raw < 0 ? (uint32_t)-(int64_t)raw : (uint32_t)raw;
        if (raw == INT32_MIN || n < 8 || n % 8 != 0 || c + n > b + size)
            return false;
        if (cells != NULL && raw > 0 && free_insert(cells, cells->nfree, c, n) != 0)
            return s->oom = true, false;
        c += n;
    }
    return true;
}

/* One walk of the chain of hive bins up to s->end: each "hbin" where the previous one ends, its offset
 * field right, its size a multiple of 4096 inside the hive-bins area; where each starts into s->starts. */
static int walk_bins(struct walk *s, char *why, size_t why_len)
{
    for (uint64_t off = HP_REGF_HEADER_SIZE; off < s->end;) {
        if (off + 32 > s->end) {
            snprintf(why, why_len, "no hive bin at offset 0x%llx (the structure is damaged)", (unsigned long long)off);
            return HIVEPORT_E_CORRUPT;
        }
        const unsigned char *bin = s->mem + off;
        uint32_t size = hp_le32(bin + 8);
        if (hp_le32(bin) != HBIN_SIGNATURE) {
            snprintf(why, why_len, "no hive bin at offset 0x%llx (the structure is damaged)", (unsigned long long)off);
            return HIVEPORT_E_CORRUPT;
        }
        if (hp_le32(bin + 4) != off - HP_REGF_HEADER_SIZE || size < HP_REGF_HBIN_SIZE || size % HP_REGF_HBIN_SIZE != 0 ||
            off + size > s->end) {
            snprintf(why, why_len, "the hive bin at offset 0x%llx has a bad offset or size (0x%x)",
                     (unsigned long long)off, size);
            return HIVEPORT_E_CORRUPT;
        }
        if (s->starts != NULL) {
            uint64_t page = (off - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE;
            s->starts[page / 64] |= 1ull << (page % 64);
        }
        off += size;
        release_behind(s, off, false);
    }
    return HIVEPORT_OK;
}

size_t hp_regf_bin_starts_words(uint64_t hbins_size)
{
    return (size_t)(hbins_size / HP_REGF_HBIN_SIZE / 64) + 1;
}

int hp_regf_check_bins(const void *map, uint64_t file_size, uint32_t hbins_size, uint64_t **starts, char *why,
                       size_t why_len)
{
    uint64_t end = (uint64_t)HP_REGF_HEADER_SIZE + hbins_size;
    if (starts != NULL)
        *starts = NULL;
    if (end > file_size) {
        snprintf(why, why_len, "truncated: the header says %u bytes of hive bins but the file holds %llu", hbins_size,
                 (unsigned long long)(file_size - HP_REGF_HEADER_SIZE));
        return HIVEPORT_E_TRUNCATED;
    }
    struct walk s = {.mem = map, .end = end, .release = true};
    if (starts != NULL && (s.starts = hp_calloc(hp_regf_bin_starts_words(hbins_size), sizeof *s.starts)) == NULL) {
        snprintf(why, why_len, "out of memory");
        return HIVEPORT_E_NOMEM;
    }
    int rc = walk_bins(&s, why, why_len);
    release_behind(&s, s.end, true);
    if (rc == HIVEPORT_OK && starts != NULL)
        *starts = s.starts;
    else
        hp_free(s.starts);
    return rc;
}

int hp_regf_check_extent(const void *map, uint64_t file_size, uint32_t hbins_size, char *why, size_t why_len)
{
    uint64_t end = (uint64_t)HP_REGF_HEADER_SIZE + hbins_size;
    const unsigned char *first = (const unsigned char *)map + HP_REGF_HEADER_SIZE;
    if (end > file_size) {
        snprintf(why, why_len, "truncated: the header says %u bytes of hive bins but the file holds %llu", hbins_size,
                 (unsigned long long)(file_size - HP_REGF_HEADER_SIZE));
        return HIVEPORT_E_TRUNCATED;
    }
    uint32_t size = end >= HP_REGF_HEADER_SIZE + BIN_HEADER ? hp_le32(first + 8) : 0;
    if (size == 0 || hp_le32(first) != HBIN_SIGNATURE || hp_le32(first + 4) != 0 || size % HP_REGF_HBIN_SIZE != 0 ||
        HP_REGF_HEADER_SIZE + (uint64_t)size > end) {
        snprintf(why, why_len, "no hive bin at offset 0x%x (the structure is damaged)", HP_REGF_HEADER_SIZE);
        return HIVEPORT_E_CORRUPT;
    }
    return HIVEPORT_OK;
}

int hp_regf_edit_index_by_bin(struct hp_regf_edit *e, const uint64_t *starts, uint64_t starts_end)
{
    if (starts_end != e->end)
        starts = NULL; /* of another image: the chain is walked again */
    size_t words = hp_regf_bin_starts_words(e->end - HP_REGF_HEADER_SIZE);
    e->bin_starts = hp_calloc(words, sizeof *e->bin_starts);
    e->bins_known = hp_calloc(words, sizeof *e->bins_known);
    e->bins_indexed = hp_calloc(words, sizeof *e->bins_indexed);
    if (e->bin_starts == NULL || e->bins_known == NULL || e->bins_indexed == NULL) {
        hp_free(e->bin_starts);
        hp_free(e->bins_known);
        hp_free(e->bins_indexed);
        e->bin_starts = e->bins_known = e->bins_indexed = NULL;
        return -1;
    }
    if (starts != NULL) {
        memcpy(e->bin_starts, starts, words * sizeof *e->bin_starts);
        memset(e->bins_known, 0xFF, words * sizeof *e->bins_known);
    }
    e->file_end = e->end;
    return 0;
}

/* ---- The index, bin by bin ---- */

static bool page_bit(const uint64_t *bits, uint64_t off)
{
    uint64_t page = (off - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE;
    return bits[page / 64] >> (page % 64) & 1;
}

/* The start of the file's bin holding off (HP_REGF_HEADER_SIZE <= off < e->file_end). */
static uint64_t file_bin_of(const struct hp_regf_edit *e, uint64_t off)
{
    uint64_t b = off - (off - HP_REGF_HEADER_SIZE) % HP_REGF_HBIN_SIZE;
    while (b > HP_REGF_HEADER_SIZE && !page_bit(e->bin_starts, b))
        b -= HP_REGF_HBIN_SIZE;
    return b;
}

static int by_bin_offset(const void *pa, const void *pb)
{
    const struct hp_regf_bin *a = pa, *b = pb;
    return a->off < b->off ? -1 : a->off > b->off;
}

static int by_cell_offset(const void *pa, const void *pb)
{
    const struct hp_regf_free_cell *a = pa, *b = pb;
    return a->off < b->off ? -1 : a->off > b->off;
}

static void sort_index(struct hp_regf_edit *e)
{
    if (e->cells.nbins > 1)
        qsort(e->cells.bins, e->cells.nbins, sizeof *e->cells.bins, by_bin_offset);
    if (e->cells.nfree > 1) /* a bin without a free cell leaves the list unallocated */
        qsort(e->cells.free, e->cells.nfree, sizeof *e->cells.free, by_cell_offset);
}

/* Indexes the file's bin at b unless it is: it and its free cells go to the end of the lists (the caller
 * sorts them).  Its cells are as the file has them: an edit frees and allocates only in indexed bins.
 * -1 when they do not tile it (the lists are left as they were) or memory ran out. */
static int index_file_bin(struct hp_regf_edit *e, uint64_t b)
{
    uint64_t page = (b - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE;
    if (page_bit(e->bins_indexed, b))
        return 0;
    size_t nbins = e->cells.nbins, nfree = e->cells.nfree;
    struct walk s = {.mem = e->data, .end = e->file_end};
    if (!walk_cells(&s, b, hp_regf_get32(e, b + 8), &e->cells)) {
        e->cells.nbins = nbins;
        e->cells.nfree = nfree;
        e->oom = e->oom || s.oom;
        return -1;
    }
    e->bins_indexed[page / 64] |= 1ull << (page % 64);
    return 0;
}

/* ---- Where the file's bins start ----
 *
 * A bin is not found by a header alone: Windows leaves the headers of discarded bins it merges inside the
 * bin they become (HvpCoalesceDiscardedBins), and data may look like a header.  The chain from the first
 * bin tells them apart, but walking it touches a page per bin (250 MB: 64,000 pages, 10 ms), so when the
 * open left it out (a logged writer, handle.c) the bins an allocation needs are found by walking the chain
 * from the first header in the TRUST_SPAN before them whose bin's cells tile it and are not one free cell.
 *   A bin Windows merged had only free cells, one after its free neighbours merged, and it is allocated
 * from its start: the header of a bin it took survives only where nothing wrote since (the unwritten end
 * of a cell, the free rest), with that bin's one free cell after it, unless a real cell starts right
 * there; then the cells after it are real ones, and the next such header is written over unless the
 * merged bin ends there.  So a walk does not start at such a header, or it goes through real cells and
 * rejoins the chain where the merged bin ends, or it would break (and the whole chain is walked).  A walk
 * that starts inside a bin that is not a merge (data that looks like a header, its offset field right)
 * rejoins the chain where that bin ends, before the bins wanted unless that bin is longer than the span:
 * Windows adds bins that long only for cells that long (a cell's data is at most 1 MB in a 1.3 hive,
 * 16 KiB segments from 1.4).  A walk that disagrees with the bins found before fails the edit. */
#define TRUST_SPAN (4u << 20)

static void set_bits(uint64_t *bits, uint64_t from, uint64_t to) /* the pages [from, to) */
{
    for (uint64_t page = (from - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE,
                  last = (to - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE; page < last; page++)
        bits[page / 64] |= 1ull << (page % 64);
}

/* A bin header at off naming its own offset, with a size that fits before end: its size, else 0. */
static uint32_t bin_header(const unsigned char *mem, uint64_t off, uint64_t end)
{
    const unsigned char *bin = mem + off;
    uint32_t size = off + BIN_HEADER <= end ? hp_le32(bin + 8) : 0;
    if (size == 0 || hp_le32(bin) != HBIN_SIGNATURE || hp_le32(bin + 4) != off - HP_REGF_HEADER_SIZE ||
        size % HP_REGF_HBIN_SIZE != 0 || off + size > end)
        return 0;
    return size;
}

/* Whether the bin at b (size bytes) could start a walk of the chain: its cells tile it, and it is not one
 * free cell (which a bin Windows merged leaves of each bin it took). */
static bool may_start_walk(const unsigned char *mem, uint64_t b, uint32_t size)
{
    struct walk s = {.mem = mem};
    return hp_le32(mem + b + BIN_HEADER) != size - BIN_HEADER && walk_cells(&s, b, size, NULL);
}

/* Whether the chain from the header at b holds up to the first bin that starts at or after hi: checked
 * before walk_span records anything, so that a walk that would break leaves no bins behind. */
static bool chain_holds(const struct hp_regf_edit *e, const unsigned char *mem, uint64_t b, uint64_t hi)
{
    uint32_t size = 1;
    for (; size != 0 && b < hi && b < e->file_end; b += size)
        size = bin_header(mem, b, e->file_end);
    return size != 0;
}

/* The chain walked in mem from the header at b, recording the bins from the one holding lo up to the first
 * that starts at or after hi: BROKEN when it breaks, DISAGREES when it disagrees with the bins known
 * already (which allocations may have used).  release: mem is the file's shared mapping, whose pages are
 * given back as the walk goes. */
enum { BROKEN = -1, DISAGREES = -2 };
static int walk_span(struct hp_regf_edit *e, const unsigned char *mem, uint64_t b, uint64_t lo, uint64_t hi,
                     bool release)
{
    struct walk s = {.mem = mem, .end = e->file_end, .release = release, .released = b - b % 4096};
    while (b < hi && b < e->file_end) {
        uint32_t size = bin_header(mem, b, e->file_end);
        if (size == 0)
            return BROKEN;
        if (b + size > lo) {
            for (uint64_t p = b; p < b + size; p += HP_REGF_HBIN_SIZE)
                if (page_bit(e->bins_known, p) && page_bit(e->bin_starts, p) != (p == b))
                    return DISAGREES;
            set_bits(e->bin_starts, b, b + HP_REGF_HBIN_SIZE);
            set_bits(e->bins_known, b, b + size);
        }
        b += size;
        release_behind(&s, b, false);
    }
    return 0;
}

/* Makes where the file's bins start known from the bin holding lo up to hi (lo < hi <= e->file_end): the
 * chain walked from TRUST_SPAN before lo in a shared mapping of the file the edit was made from (the bin
 * headers there are the edit's: an edit never changes them; its pages are given back) or in the edit's
 * copy.  -1 when the chain is broken or a walk disagrees with the bins found before. */
static int learn_bins(struct hp_regf_edit *e, uint64_t lo, uint64_t hi)
{
    uint64_t page = lo - (lo - HP_REGF_HEADER_SIZE) % HP_REGF_HBIN_SIZE;
    bool known = true;
    for (uint64_t p = page; known && p < hi; p += HP_REGF_HBIN_SIZE)
        known = page_bit(e->bins_known, p);
    if (known)
        return 0;
    void *map = e->fd >= 0 ? mmap(NULL, (size_t)e->file_end, PROT_READ, MAP_SHARED, e->fd, 0) : MAP_FAILED;
    const unsigned char *mem = map != MAP_FAILED ? map : e->data;
    uint64_t b = HP_REGF_HEADER_SIZE; /* the first bin, the chain's start, when lo is within the span of it */
    bool sound = true;
    if (page - HP_REGF_HEADER_SIZE > TRUST_SPAN) {
        uint32_t size = 0;
        for (b = page - TRUST_SPAN; b <= page; b += HP_REGF_HBIN_SIZE)
            if ((size = bin_header(mem, b, e->file_end)) != 0 && may_start_walk(mem, b, size))
                break;
        sound = b <= page && chain_holds(e, mem, b, hi);
    }
    bool release = map != MAP_FAILED;
    int rc = sound ? walk_span(e, mem, b, lo, hi, release) : BROKEN;
    if (rc == BROKEN) /* the whole chain, from the first bin */
        rc = walk_span(e, mem, HP_REGF_HEADER_SIZE, HP_REGF_HEADER_SIZE, e->file_end, release);
    if (map != MAP_FAILED)
        munmap(map, (size_t)e->file_end);
    return rc == 0 ? 0 : -1;
}

/* Before the cell at off is freed or grown: its bin is indexed (its free neighbours are known). */
static int ensure_bin(struct hp_regf_edit *e, uint64_t off)
{
    if (e->bins_indexed == NULL || off < HP_REGF_HEADER_SIZE || off >= e->file_end)
        return 0;
    size_t nbins = e->cells.nbins;
    if (learn_bins(e, off, off + 1) != 0 || index_file_bin(e, file_bin_of(e, off)) != 0)
        return -1;
    if (e->cells.nbins != nbins)
        sort_index(e);
    return 0;
}

/* The free cell among [from, nfree) that a cell of need bytes is taken from: the lowest size class
 * holding one that fits, the lowest offset first; nfree when none fits. */
static size_t best_fit(const struct hp_regf_edit *e, size_t from, uint32_t need)
{
    size_t best = e->cells.nfree;
    unsigned best_class = 0;
    for (size_t i = from; i < e->cells.nfree; i++) {
        unsigned c = size_class(e->cells.free[i].size);
        if (e->cells.free[i].size >= need && (best == e->cells.nfree || c < best_class)) {
            best = i;
            best_class = c;
        }
    }
    return best;
}

/* The start of the file's bin that ends at end (> HP_REGF_HEADER_SIZE). */
static uint64_t bin_before(const struct hp_regf_edit *e, uint64_t end)
{
    uint64_t page = (end - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE - 1;
    for (;;) {
        uint64_t word = e->bin_starts[page / 64] & (~0ull >> (63 - page % 64));
        if (word != 0)
            return HP_REGF_HEADER_SIZE + (page - page % 64 + 63 - (uint64_t)__builtin_clzll(word)) * HP_REGF_HBIN_SIZE;
        page -= page % 64 + 1; /* the first page starts a bin: the loop ends before page wraps */
    }
}

/* How far back from the end of the file's bins an allocation looks for a free cell before it adds a bin:
 * a hive saved by Windows keeps its free space in its last bins, and a search bounded so costs the same in
 * a hive of 250 MB as in one of 10 (a cell of 5 KiB in win7 SYSTEM, whose free space is all in its last
 * bin, read every bin header before a bin was added anyway). */
#define FIT_WINDOW (1u << 20)

/* best_fit over the indexed bins, indexing the file's bins from its last one back, within FIT_WINDOW,
 * until one fits (passing over the bins too small to hold need bytes and those indexed already); nfree
 * when none does, SIZE_MAX when a bin's cells do not tile it or memory ran out. */
static size_t find_fit(struct hp_regf_edit *e, uint32_t need)
{
    size_t best = best_fit(e, 0, need), nbins = e->cells.nbins;
    uint64_t stop = e->file_end - HP_REGF_HEADER_SIZE > FIT_WINDOW ? e->file_end - FIT_WINDOW : HP_REGF_HEADER_SIZE;
    int rc = best == e->cells.nfree && e->bins_indexed != NULL ? learn_bins(e, stop, e->file_end) : 0;
    for (uint64_t end = e->file_end; rc == 0 && best == e->cells.nfree && e->bins_indexed != NULL && end > stop;) {
        uint64_t b = bin_before(e, end);
        if (end - b >= (uint64_t)need + BIN_HEADER && !page_bit(e->bins_indexed, b)) {
            size_t from = e->cells.nfree;
            if ((rc = index_file_bin(e, b)) == 0)
                best = best_fit(e, from, need);
        }
        end = b;
    }
    if (e->cells.nbins != nbins) {
        sort_index(e); /* the cell found moves with the sort: find it again (only the new cells fit) */
        best = best_fit(e, 0, need);
    }
    return rc != 0 ? SIZE_MAX : best;
}

/* Appends a bin large enough for a cell of need bytes; its space becomes one free cell. */
static int append_bin(struct hp_regf_edit *e, uint32_t need)
{
    uint64_t size = ((uint64_t)need + BIN_HEADER + HP_REGF_HBIN_SIZE - 1) / HP_REGF_HBIN_SIZE * HP_REGF_HBIN_SIZE;
    uint64_t b = e->end;
    if (b + size > 0xFFFFF000u || hp_regf_edit_reserve(e, b + size) != 0)
        return -1;
    if (add_bin(&e->cells, b, (uint32_t)size) != 0)
        return e->oom = true, -1;
    memset(e->data + b, 0, (size_t)size);
    memcpy(e->data + b, "hbin", 4);
    e->end = b + size;
    hp_regf_put32(e, b + 4, (uint32_t)(b - HP_REGF_HEADER_SIZE));
    hp_regf_put32(e, b + 8, (uint32_t)size);
    hp_regf_put32(e, b + BIN_HEADER, (uint32_t)size - BIN_HEADER);
    /* The base block's hive-bins size, and its checksum: readers of the copy check both. */
    hp_regf_put32(e, 0x28, (uint32_t)(e->end - HP_REGF_HEADER_SIZE));
    hp_regf_put32(e, 0x1FC, hp_regf_checksum(e->data));
    if (free_insert(&e->cells, e->cells.nfree, b + BIN_HEADER, (uint32_t)size - BIN_HEADER) != 0)
        return e->oom = true, -1;
    return 0;
}

uint64_t hp_regf_cell_alloc(struct hp_regf_edit *e, uint32_t record_len)
{
    if (record_len > 0x7FFFFFF0u - 4)
        return 0;
    uint32_t need = (record_len + 4 + 7) & ~7u;
    size_t best = find_fit(e, need);
    if (best == SIZE_MAX)
        return 0;
    if (best == e->cells.nfree) {
        if (append_bin(e, need) != 0)
            return 0;
        best = e->cells.nfree - 1;
    }
    uint64_t off = e->cells.free[best].off;
    uint32_t size = e->cells.free[best].size;
    if (size - need >= MIN_SPLIT) {
        /* The rest stays where it was in the sorted list: it lies between the same neighbours. */
        e->cells.free[best].off = off + need;
        e->cells.free[best].size = size - need;
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

bool hp_regf_cell_fits(struct hp_regf_edit *e, uint64_t off, uint32_t record_len)
{
    if (record_len > 0x7FFFFFF0u - 4)
        return false;
    uint32_t need = (record_len + 4 + 7) & ~7u;
    if (off != 0) {
        uint32_t len = hp_regf_cell_len(e, off);
        if (len == 0 || ensure_bin(e, off) != 0)
            return false;
        uint64_t room = (uint64_t)len + 4;
        size_t i = free_find(e, off + room);
        if (i < e->cells.nfree && e->cells.free[i].off == off + len + 4)
            room += e->cells.free[i].size;
        if (i > 0 && e->cells.free[i - 1].off + e->cells.free[i - 1].size == off)
            room += e->cells.free[i - 1].size;
        if (room >= need)
            return true;
    }
    size_t best = find_fit(e, need);
    return best != SIZE_MAX && best < e->cells.nfree;
}

/* The bin holding off. */
static const struct hp_regf_bin *bin_of(const struct hp_regf_edit *e, uint64_t off)
{
    size_t lo = 0, hi = e->cells.nbins;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->cells.bins[mid].off + e->cells.bins[mid].size <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->cells.nbins && e->cells.bins[lo].off <= off ? &e->cells.bins[lo] : NULL;
}

int hp_regf_cell_free(struct hp_regf_edit *e, uint64_t off)
{
    if (ensure_bin(e, off) != 0)
        return -1;
    uint32_t len = hp_regf_cell_len(e, off);
    const struct hp_regf_bin *bin = bin_of(e, off);
    if (len != 0 && bin == NULL && e->no_reuse && (e->cells.nbins == 0 || off < e->cells.bins[0].off)) {
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
    bool merge_prev = prev != 0 && (int32_t)hp_regf_get32(e, prev) > 0 && i > 0 && e->cells.free[i - 1].off == prev;
    bool merge_next = stop < bin->off + bin->size && (int32_t)hp_regf_get32(e, stop) > 0 && i < e->cells.nfree &&
                      e->cells.free[i].off == stop;
    if (merge_next) {
        stop += e->cells.free[i].size;
        free_remove(e, i);
    }
    if (merge_prev) {
        start = prev;
        e->cells.free[i - 1].size = (uint32_t)(stop - start);
    } else if (free_insert(&e->cells, i, start, (uint32_t)(stop - start)) != 0) {
        return e->oom = true, -1;
    }
    hp_regf_put32(e, start, (uint32_t)(stop - start));
    return 0;
}

uint64_t hp_regf_cell_realloc(struct hp_regf_edit *e, uint64_t off, uint32_t record_len)
{
    uint32_t len = hp_regf_cell_len(e, off);
    if (len == 0 || record_len > 0x7FFFFFF0u - 4 || ensure_bin(e, off) != 0)
        return 0;
    if (len >= record_len)
        return off;
    uint32_t need = (record_len + 4 + 7) & ~7u, have = len + 4;
    /* A free cell right behind it with room: the cell grows where it is. */
    size_t i = free_find(e, off + have);
    if (i < e->cells.nfree && e->cells.free[i].off == off + have && have + e->cells.free[i].size >= need) {
        uint32_t total = have + e->cells.free[i].size;
        if (total - need >= MIN_SPLIT) {
            e->cells.free[i].off = off + need;
            e->cells.free[i].size = total - need;
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
