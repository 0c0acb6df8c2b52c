/* check_map.c: what the checker's passes share: findings, the bytes read (and given back), the cell map
 * (a bin's cells tiled into it: all bins first for a whole check, on demand for a partial one), names. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hivecheck.h"

int hp_check_add(struct hp_check *c, int severity, const char *code, const char *key, uint64_t offset,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct hp_finding_spec spec = {.severity = severity, .code = code, .key = key, .offset = offset};
    if (hp_findings_add(c->list, &spec, hp_strdup(text), true) != HIVEPORT_OK)
        return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
    return HIVEPORT_OK;
}

void hp_check_read(struct hp_check *c, uint64_t n)
{
    if (c->trim_every == 0 || (c->read_since_trim += n) < c->trim_every)
        return;
    madvise((void *)c->data, (size_t)c->size, MADV_DONTNEED);
    c->read_since_trim = 0;
}

/* ---- The cell map ---------------------------------------------------------------------------------- */

static bool bit(const uint64_t *map, size_t i)
{
    return (map[i / 64] >> (i % 64)) & 1u;
}

static size_t unit_of(const struct hp_check *c, uint32_t rel, bool *ok)
{
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    *ok = rel != HP_CHECK_REL_NIL && rel % 8 == 0 && off + 8 <= c->end;
    return *ok ? rel / 8 : 0;
}

static void set_bit(uint64_t *map, size_t i)
{
    map[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Tiles the cells of the bin at off (size bytes) into the cell map. */
int hp_check_tile(struct hp_check *c, uint64_t off, uint32_t size)
{
    uint64_t pos = off + 32, bin_end = off + size;
    while (pos < bin_end) {
        int32_t raw = (int32_t)hp_le32(c->data + pos);
        uint32_t n = raw < 0 ? (uint32_t)0 - (uint32_t)raw : (uint32_t)raw;
        if (raw == INT32_MIN || n < 8 || n % 8 != 0) {
            c->bins_ok = false;
            return hp_check_add(c, HP_ERROR, "cell-size", NULL, pos,
                                "The cell at 0x%llx has size %d, not a multiple of 8 of at least 8: the rest of "
                                "the hive bin at 0x%llx (up to 0x%llx) cannot be read.",
                                (unsigned long long)pos, raw, (unsigned long long)off,
                                (unsigned long long)bin_end);
        }
        if (pos + n > bin_end) {
            c->bins_ok = false;
            return hp_check_add(c, HP_ERROR, "cell-overrun", NULL, pos,
                                "The cell at 0x%llx (%u bytes) runs past the end of its hive bin at 0x%llx "
                                "(cells tile a bin exactly and never cross into the next).",
                                (unsigned long long)pos, n, (unsigned long long)bin_end);
        }
        size_t u = (size_t)((pos - HP_REGF_HEADER_SIZE) / 8);
        set_bit(c->start, u);
        if (raw < 0)
            set_bit(c->alloc, u);
        pos += n;
    }
    return HIVEPORT_OK;
}

#define BIN_SEARCH_PAGES 4096 /* how far back (in 4 KiB pages) a bin header is looked for: 16 MiB */

/* Whether the cells of the bin at page (size bytes) tile it: sizes multiples of 8, at least 8. */
static bool cells_tile(const struct hp_check *c, uint64_t page, uint32_t size)
{
    for (uint64_t pos = page + 0x20; pos < page + size;) {
        int32_t raw = (int32_t)hp_le32(c->data + pos);
        uint32_t n = raw < 0 ? (uint32_t)0 - (uint32_t)raw : (uint32_t)raw;
        if (raw == INT32_MIN || n < 8 || n % 8 != 0 || pos + n > page + size)
            return false;
        pos += n;
    }
    return true;
}

/* The bin holding off by the chain from the first bin, its size into *size; 0 when the chain breaks first. */
static uint64_t chain_bin_of(const struct hp_check *c, uint64_t off, uint32_t *size)
{
    for (uint64_t pos = HP_REGF_HEADER_SIZE; pos + 32 <= c->end; pos += *size) {
        const unsigned char *b = c->data + pos;
        *size = hp_le32(b + 8);
        if (memcmp(b, "hbin", 4) != 0 || hp_le32(b + 4) != pos - HP_REGF_HEADER_SIZE || *size < HP_REGF_HBIN_SIZE ||
            *size % HP_REGF_HBIN_SIZE != 0 || pos + *size > c->end)
            return 0;
        if (off < pos + *size)
            return pos;
    }
    return 0;
}

/* The bin holding off is found by the nearest header behind it.  That header may not be a bin's: Windows
 * leaves the headers of bins it merged inside the bin they became, and data may look like one.  When the
 * cells behind it do not tile it, the chain from the first bin decides (a walk of every bin header, only
 * then: a sound commit was refused with a cell-size finding in the stale "bin"). */
int hp_check_tile_bin_of(struct hp_check *c, uint64_t off)
{
    if (off < HP_REGF_HEADER_SIZE || off >= c->end)
        return HIVEPORT_OK;
    uint64_t page = off - (off - HP_REGF_HEADER_SIZE) % HP_REGF_HBIN_SIZE;
    for (size_t n = 0; n < BIN_SEARCH_PAGES && page >= HP_REGF_HEADER_SIZE; n++, page -= HP_REGF_HBIN_SIZE) {
        const unsigned char *b = c->data + page;
        uint32_t size = hp_le32(b + 8), chain_size = 0;
        if (memcmp(b, "hbin", 4) != 0 || hp_le32(b + 4) != page - HP_REGF_HEADER_SIZE)
            continue;
        bool fits = size >= HP_REGF_HBIN_SIZE && size % HP_REGF_HBIN_SIZE == 0 && page + size <= c->end &&
                    off < page + size;
        uint64_t chained = fits && cells_tile(c, page, size) ? page : chain_bin_of(c, off, &chain_size);
        if (!fits && chained == 0)
            break;
        if (chained != 0 && chained != page) {
            page = chained;
            size = chain_size;
        }
        size_t first = (size_t)((page - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE);
        if (c->tiled != NULL) {
            if ((c->tiled[first / 64] >> (first % 64)) & 1u)
                return HIVEPORT_OK;
            for (size_t i = first; i < first + size / HP_REGF_HBIN_SIZE; i++)
                set_bit(c->tiled, i);
        }
        return hp_check_tile(c, page, size);
    }
    if (c->tiled != NULL) /* reported once */
        set_bit(c->tiled, (size_t)((off - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE));
    return hp_check_add(c, HP_ERROR, "bin-signature", NULL, off, "No valid hive bin holds offset 0x%llx.",
                        (unsigned long long)off);
}

/* A partial check tiles the bin of a cell when it first looks at one there. */
static void tile_on_demand(struct hp_check *c, uint32_t rel)
{
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    if (c->tiled == NULL || rel == HP_CHECK_REL_NIL || off + 8 > c->end)
        return;
    size_t page = (size_t)(rel / HP_REGF_HBIN_SIZE);
    if (bit(c->tiled, page))
        return;
    int rc = hp_check_tile_bin_of(c, off);
    if (rc != HIVEPORT_OK && c->tile_rc == HIVEPORT_OK)
        c->tile_rc = rc;
}

const unsigned char *hp_check_cell(struct hp_check *c, uint32_t rel, uint32_t *len)
{
    bool ok;
    tile_on_demand(c, rel);
    size_t u = unit_of(c, rel, &ok);
    if (!ok || !bit(c->alloc, u)) /* alloc is set only where a cell starts: one cache line to look at */
        return NULL;
    const unsigned char *p = c->data + HP_REGF_HEADER_SIZE + rel;
    *len = (uint32_t)-(int32_t)hp_le32(p) - 4; /* the bin walk checked the size */
    return p + 4;
}

const char *hp_check_why_not_cell(struct hp_check *c, uint32_t rel)
{
    bool ok;
    tile_on_demand(c, rel);
    size_t u = unit_of(c, rel, &ok);
    if (rel == HP_CHECK_REL_NIL)
        return "nil";
    if ((uint64_t)HP_REGF_HEADER_SIZE + rel + 8 > c->end)
        return "outside the hive bins";
    if (!ok)
        return "not 8-byte aligned";
    if (!bit(c->start, u))
        return "not the start of a cell (inside another cell, a bin header or a damaged bin)";
    if (!bit(c->alloc, u))
        return "a free cell";
    return "a cell";
}

bool hp_check_mark(struct hp_check *c, uint32_t rel)
{
    size_t u = rel / 8;
    bool was = bit(c->ref, u);
    c->ref[u / 64] |= (uint64_t)1 << (u % 64);
    return was;
}

/* ---- Names ---------------------------------------------------------------------------------------- */

size_t hp_check_name_units(const unsigned char *name, size_t len, bool compressed, uint16_t *units)
{
    if (compressed) {
        for (size_t i = 0; i < len; i++)
            units[i] = name[i];
        return len;
    }
    for (size_t i = 0; i + 1 < len; i += 2)
        units[i / 2] = hp_le16(name + i);
    return len / 2;
}

size_t hp_check_name_utf8_into(const unsigned char *name, size_t len, bool compressed, char *out)
{
    size_t n = compressed ? len : len / 2;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        unsigned u = compressed ? name[i] : hp_le16(name + 2 * i);
        if (u >= 0xD800 && u <= 0xDFFF) /* a lone surrogate half: shown as U+FFFD */
            u = 0xFFFD;
        if (u < 0x80) {
            *p++ = (char)u;
        } else if (u < 0x800) {
            *p++ = (char)(0xC0 | u >> 6);
            *p++ = (char)(0x80 | (u & 0x3F));
        } else {
            *p++ = (char)(0xE0 | u >> 12);
            *p++ = (char)(0x80 | ((u >> 6) & 0x3F));
            *p++ = (char)(0x80 | (u & 0x3F));
        }
    }
    *p = '\0';
    return (size_t)(p - out);
}

char *hp_check_name_utf8(const unsigned char *name, size_t len, bool compressed)
{
    char *out = hp_malloc((compressed ? len : len / 2) * 3 + 1);
    if (out != NULL)
        hp_check_name_utf8_into(name, len, compressed, out);
    return out;
}

