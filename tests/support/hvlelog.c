/* hvlelog.c: see hvlelog.h. */
#include "hvlelog.h"

#include <stdlib.h>
#include <string.h>

#include "txlog.h" /* hp_marvin32 */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The base block's checksum: the XOR of its first 508 bytes as 32-bit words, 0 and -1 avoided. */
static uint32_t checksum(const unsigned char *hdr)
{
    uint32_t sum = 0;
    for (int off = 0; off < 0x1FC; off += 4)
        sum ^= get32(hdr + off);
    return sum == 0 ? 1 : sum == 0xFFFFFFFFu ? 0xFFFFFFFEu : sum;
}

unsigned char *tu_hvle_log(const unsigned char *base, const unsigned char *before, size_t before_len,
                           const unsigned char *after, size_t after_len, uint32_t seq, size_t *log_len)
{
    size_t pages = 0, max_pages = after_len > 4096 ? (after_len - 4096) / 4096 : 0;
    uint32_t *rel = calloc(max_pages ? max_pages : 1, sizeof *rel);
    if (rel == NULL)
        return NULL;
    for (size_t off = 4096; off + 4096 <= after_len; off += 4096)
        if (off + 4096 > before_len || memcmp(before + off, after + off, 4096) != 0)
            rel[pages++] = (uint32_t)(off - 4096);
    size_t entry_len = (0x28 + 8 * pages + 4096 * pages + 511) / 512 * 512;
    unsigned char *log = pages == 0 ? NULL : calloc(1, 512 + entry_len);
    if (log == NULL) {
        free(rel);
        return NULL;
    }
    memcpy(log, base, 512); /* the log's base block: type 6, both numbers = its first entry */
    put32(log + 0x04, seq);
    put32(log + 0x08, seq);
    put32(log + 0x1C, 6);
    put32(log + 0x1FC, checksum(log));
    unsigned char *e = log + 512;
    memcpy(e, "HvLE", 4);
    put32(e + 0x04, (uint32_t)entry_len);
    put32(e + 0x0C, seq);
    memcpy(e + 0x10, base + 0x28, 4); /* hive-bins size */
    put32(e + 0x14, (uint32_t)pages);
    for (size_t i = 0; i < pages; i++) {
        put32(e + 0x28 + 8 * i, rel[i]);
        put32(e + 0x2C + 8 * i, 4096);
        memcpy(e + 0x28 + 8 * pages + 4096 * i, after + 4096 + rel[i], 4096);
    }
    put64(e + 0x18, hp_marvin32(HP_MARVIN32_REGF_SEED, e + 0x28, entry_len - 0x28));
    put64(e + 0x20, hp_marvin32(HP_MARVIN32_REGF_SEED, e, 0x20));
    free(rel);
    *log_len = 512 + entry_len;
    return log;
}
