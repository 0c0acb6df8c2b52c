/* logwrite.c: the transaction logs a logged commit writes, in memory: bytes in, bytes out.
 *
 * The reverse of txlog.c's replay (regf-format.md sections 8, 9 and 15).  A log written here holds exactly
 * one commit, so it starts at the top of the file:
 *
 *   new format (Windows 8.1+, file type 6)
 *     0x000  512-byte copy of the commit's base block: primary = secondary = seq, file type 6, checksum
 *     0x200  one HvLE entry numbered seq: hive-bins size and flags bit 0 from the new base block, one
 *            reference per run of contiguous pages, the pages, zero padding so that the next entry would
 *            start on a 4 KiB boundary (as Windows pads), Hash-1 over [0x28, size), Hash-2 over [0, 0x20)
 *
 *   old format (Vista/7, file type 1)
 *     0x000  512-byte copy of the commit's base block: primary = secondary = seq (as Vista and later leave
 *            it after a write), file type 1, the new timestamp (the replay applies an old-format log only
 *            when its timestamp equals the primary's), checksum
 *     0x200  "DIRT", then the bitmap of the hive-bins data in 512-byte pages (hive-bins size / 4096 bytes;
 *            a dirty 4 KiB page sets a whole byte, 0xFF), then from the next 512-byte boundary the dirty
 *            512-byte pages in bit order
 *
 * The replay (txlog.c) of such a log over the primary with its dirty base block gives, byte for byte, the
 * hive the commit writes: tests/check_logcommit.c holds it to that. */
#include <string.h>

#include "regf.h"
#include "txlog.h"
#include "le.h"

#define LOG_BB_LEN 512
#define HVLE_AT 0x200
#define HVLE_HDR 0x28
#define PAGE 4096u

static void log_base_block(const unsigned char *base_block, unsigned char *out, uint32_t seq, uint32_t type)
{
    memcpy(out, base_block, LOG_BB_LEN);
    hp_put_le32(out + 0x04, seq);
    hp_put_le32(out + 0x08, seq);
    hp_put_le32(out + 0x1C, type);
    hp_put_le32(out + 0x1FC, hp_regf_checksum(out));
}

/* The pages must be ascending 4 KiB pages inside the new hive-bins size. */
static bool pages_ok(const unsigned char *base_block, const struct hp_log_pages *pg)
{
    if (base_block == NULL || pg == NULL || pg->n == 0 || pg->offsets == NULL || pg->pages == NULL)
        return false;
    uint64_t end = (uint64_t)HP_REGF_HEADER_SIZE + hp_le32(base_block + 0x28);
    for (size_t i = 0; i < pg->n; i++)
        if (pg->offsets[i] < HP_REGF_HEADER_SIZE || pg->offsets[i] % PAGE != 0 || pg->offsets[i] + PAGE > end ||
            (i > 0 && pg->offsets[i] <= pg->offsets[i - 1]) || pg->pages[i] == NULL)
            return false;
    return true;
}

int hp_logwrite_new(const unsigned char *base_block, uint32_t seq, const struct hp_log_pages *pg,
                    unsigned char **out, size_t *out_len)
{
    if (out == NULL || out_len == NULL || base_block == NULL || !pages_ok(base_block, pg))
        return HIVEPORT_E_INVALID_ARG;
    size_t runs = 0;
    for (size_t i = 0; i < pg->n; i++)
        if (i == 0 || pg->offsets[i] != pg->offsets[i - 1] + PAGE)
            runs++;
    uint64_t raw = HVLE_HDR + 8 * (uint64_t)runs + (uint64_t)PAGE * pg->n;
    uint64_t size = (HVLE_AT + raw + PAGE - 1) / PAGE * PAGE - HVLE_AT; /* next entry on a 4 KiB boundary */
    if (size > UINT32_MAX || HVLE_AT + size > SIZE_MAX)
        return HIVEPORT_E_INVALID_ARG;
    unsigned char *buf = hp_calloc(1, (size_t)(HVLE_AT + size));
    if (buf == NULL)
        return HIVEPORT_E_NOMEM;
    log_base_block(base_block, buf, seq, 6);
    unsigned char *e = buf + HVLE_AT;
    memcpy(e, "HvLE", 4);
    hp_put_le32(e + 0x04, (uint32_t)size);
    hp_put_le32(e + 0x08, hp_le32(base_block + 0x90) & 1u);
    hp_put_le32(e + 0x0C, seq);
    hp_put_le32(e + 0x10, hp_le32(base_block + 0x28));
    hp_put_le32(e + 0x14, (uint32_t)runs);
    unsigned char *ref = e + HVLE_HDR, *data = e + HVLE_HDR + 8 * runs;
    for (size_t i = 0; i < pg->n; i++) {
        if (i == 0 || pg->offsets[i] != pg->offsets[i - 1] + PAGE) {
            if (i > 0)
                ref += 8;
            hp_put_le32(ref, (uint32_t)(pg->offsets[i] - HP_REGF_HEADER_SIZE));
        }
        hp_put_le32(ref + 4, hp_le32(ref + 4) + PAGE);
        memcpy(data, pg->pages[i], PAGE);
        data += PAGE;
    }
    hp_put_le64(e + 0x18, hp_marvin32(HP_MARVIN32_REGF_SEED, e + HVLE_HDR, (size_t)size - HVLE_HDR));
    hp_put_le64(e + 0x20, hp_marvin32(HP_MARVIN32_REGF_SEED, e, 0x20));
    *out = buf;
    *out_len = (size_t)(HVLE_AT + size);
    return HIVEPORT_OK;
}

int hp_logwrite_old(const unsigned char *base_block, uint32_t seq, const struct hp_log_pages *pg,
                    unsigned char **out, size_t *out_len)
{
    if (out == NULL || out_len == NULL || base_block == NULL || !pages_ok(base_block, pg))
        return HIVEPORT_E_INVALID_ARG;
    uint32_t hbins = hp_le32(base_block + 0x28);
    size_t vector_len = hbins / PAGE;
    size_t pages_at = (0x204 + vector_len + LOG_BB_LEN - 1) / LOG_BB_LEN * LOG_BB_LEN;
    uint64_t total = (uint64_t)pages_at + (uint64_t)PAGE * pg->n;
    if (total > SIZE_MAX)
        return HIVEPORT_E_INVALID_ARG;
    unsigned char *buf = hp_calloc(1, (size_t)total);
    if (buf == NULL)
        return HIVEPORT_E_NOMEM;
    log_base_block(base_block, buf, seq, 1);
    memcpy(buf + 0x200, "DIRT", 4);
    /* Ascending pages: bit order is page order, so the k-th page goes k-th. */
    for (size_t i = 0; i < pg->n; i++) {
        size_t page_index = (size_t)((pg->offsets[i] - HP_REGF_HEADER_SIZE) / PAGE);
        buf[0x204 + page_index] = 0xFF; /* eight 512-byte pages */
        memcpy(buf + pages_at + i * PAGE, pg->pages[i], PAGE);
    }
    *out = buf;
    *out_len = (size_t)total;
    return HIVEPORT_OK;
}
