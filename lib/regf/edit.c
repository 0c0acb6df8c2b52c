/* edit.c: an editable copy of the hive, and which 4 KiB pages of it changed.
 *
 * The copy is what a native change (a new key, a value that moves, a removal) edits and what every read of
 * the session then sees; a commit writes it out whole (the copy commit) or only its changed pages (the page
 * set of hive/pageset.h, for a commit through the logs).  Page i is the file's bytes [4096 i, 4096 i + 4096):
 * page 0 is the base block. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "regf.h"

#define PAGE 4096u

/* Room for a hive of end bytes to grow into without moving: a quarter more and 16 MiB. */
static size_t reservation(uint64_t end)
{
    uint64_t want = end + end / 4 + ((uint64_t)16 << 20);
    return want > SIZE_MAX / 2 ? (size_t)end : (size_t)want;
}

/* A private copy-on-write mapping of the file's first end bytes inside an anonymous reservation: the
 * kernel copies only the pages an edit writes, where a copy of the whole hive would cost more than the
 * commit (tests/bench: restamp).  NULL when the file cannot be mapped so (the caller copies instead). */
static unsigned char *map_file_private(int fd, uint64_t end, size_t cap)
{
    struct stat st;
    if (fd < 0 || end % PAGE != 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size < end || cap < end)
        return NULL;
    void *room = hp_map_file_private(fd, (size_t)end, cap);
    return room == MAP_FAILED ? NULL : room;
}

static void release_data(struct hp_regf_edit *e)
{
    if (e->mapped)
        munmap(e->data, e->cap);
    else
        hp_free(e->data);
}

int hp_regf_edit_init(struct hp_regf_edit *e, const unsigned char *data, uint64_t end, int fd)
{
    memset(e, 0, sizeof *e);
    e->fd = -1;
    if (end < HP_REGF_HEADER_SIZE || end > SIZE_MAX / 2)
        return -1;
    e->cap = reservation(end);
    e->data = map_file_private(fd, end, e->cap);
    e->mapped = e->data != NULL;
    if (e->mapped) /* its own descriptor: the handle's may be closed or replaced before the edit ends */
        e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (!e->mapped) {
        e->cap = (size_t)end;
        e->data = hp_malloc(e->cap);
        if (e->data == NULL)
            return -1;
        memcpy(e->data, data, (size_t)end);
    }
    e->end = end;
    e->minor = hp_regf_get32(e, 0x18);
    if (hp_regf_edit_reserve(e, end) != 0) {
        hp_regf_edit_free(e); /* the caller frees only an edit that was made */
        return -1;
    }
    return 0;
}

void hp_regf_cells_free(struct hp_regf_cells *cells)
{
    hp_free(cells->bins);
    hp_free(cells->free);
    memset(cells, 0, sizeof *cells);
}

void hp_regf_edit_free(struct hp_regf_edit *e)
{
    release_data(e);
    if (e->fd >= 0)
        close(e->fd);
    hp_free(e->dirty);
    hp_free(e->bin_starts);
    hp_free(e->bins_known);
    hp_free(e->bins_indexed);
    hp_regf_cells_free(&e->cells);
    memset(e, 0, sizeof *e);
    e->fd = -1;
}

int hp_regf_edit_reserve(struct hp_regf_edit *e, uint64_t end)
{
    if (end > SIZE_MAX / 2)
        return -1;
    size_t words = (size_t)(end / PAGE / 64) + 1;
    if (words > e->dirty_words) {
        size_t want = words + 16; /* in steps: a hive growing bin by bin does not copy the map each time */
        uint64_t *bigger = hp_calloc(want, sizeof *bigger);
        if (bigger == NULL)
            return e->oom = true, -1;
        if (e->dirty_words)
            memcpy(bigger, e->dirty, e->dirty_words * sizeof *bigger);
        hp_free(e->dirty);
        e->dirty = bigger;
        e->dirty_words = want;
    }
    if (end > e->cap) {
        size_t cap = e->cap + e->cap / 4 > end ? e->cap + e->cap / 4 : (size_t)end;
        unsigned char *bigger = hp_malloc(cap);
        if (bigger == NULL)
            return e->oom = true, -1;
        memcpy(bigger, e->data, (size_t)e->end);
        release_data(e);
        e->data = bigger;
        e->mapped = false;
        e->cap = cap;
    }
    return 0;
}

/* Every offset marked lies below the end reserved (hp_regf_edit_reserve), so the map has room. */
void hp_regf_edit_mark(struct hp_regf_edit *e, uint64_t off, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t last = (off + len - 1) / PAGE;
    for (uint64_t p = off / PAGE; p <= last && p / 64 < e->dirty_words; p++)
        e->dirty[p / 64] |= 1ULL << (p % 64);
}

void hp_regf_edit_clean(struct hp_regf_edit *e, bool in_place)
{
    if (e->dirty != NULL)
        memset(e->dirty, 0, e->dirty_words * sizeof *e->dirty);
    if (!in_place && e->fd >= 0) {
        close(e->fd);
        e->fd = -1;
    }
}

bool hp_regf_edit_page_dirty(const struct hp_regf_edit *e, uint64_t page)
{
    return page / 64 < e->dirty_words && (e->dirty[page / 64] >> (page % 64) & 1);
}

uint32_t hp_regf_get32(const struct hp_regf_edit *e, uint64_t off)
{
    const unsigned char *p = e->data + off;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void hp_regf_put32(struct hp_regf_edit *e, uint64_t off, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    hp_regf_write(e, off, b, 4);
}

void hp_regf_put16(struct hp_regf_edit *e, uint64_t off, uint16_t v)
{
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    hp_regf_write(e, off, b, 2);
}

void hp_regf_write(struct hp_regf_edit *e, uint64_t off, const void *src, size_t len)
{
    memmove(e->data + off, src, len);
    hp_regf_edit_mark(e, off, len);
}

uint32_t hp_regf_cell_len(const struct hp_regf_edit *e, uint64_t off)
{
    if (off < HP_REGF_HEADER_SIZE || off % 8 != 0 || off + 8 > e->end)
        return 0;
    int32_t size = (int32_t)hp_regf_get32(e, off);
    if (size >= 0 || size == INT32_MIN || (uint32_t)-size < 8 || off + (uint32_t)-size > e->end)
        return 0;
    return (uint32_t)-size - 4;
}

uint64_t hp_regf_abs(uint32_t rel)
{
    return rel == HP_REGF_NIL ? 0 : (uint64_t)HP_REGF_HEADER_SIZE + rel;
}

uint32_t hp_regf_rel(uint64_t off)
{
    return off == 0 ? HP_REGF_NIL : (uint32_t)(off - HP_REGF_HEADER_SIZE);
}

void hp_regf_put_name(struct hp_regf_edit *e, uint64_t off, const uint16_t *units, size_t n, bool latin1)
{
    for (size_t i = 0; i < n; i++) {
        if (latin1)
            e->data[off + i] = (unsigned char)units[i];
        else
            hp_regf_put16(e, off + 2 * i, units[i]);
    }
    hp_regf_edit_mark(e, off, latin1 ? n : 2 * n);
}
