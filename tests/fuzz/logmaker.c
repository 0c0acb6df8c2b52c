/* logmaker.c: valid transaction logs of a given hive, for the fuzz seeds and the fault tests. */
#include <string.h>

#include "internal.h"
#include "logmaker.h"
#include "txlog.h"
#include "le.h"

/* The log's 512-byte copy of the hive's base block, with both sequence numbers seq and file type type. */
static void base_block(const unsigned char *hive, unsigned char *out, uint32_t seq, uint32_t type)
{
    memcpy(out, hive, 512);
    hp_put_le32(out + 0x04, seq);
    hp_put_le32(out + 0x08, seq);
    hp_put_le32(out + 0x1C, type);
    hp_put_le32(out + 0x2C, 1);
    hp_put_le32(out + 0x1FC, hp_regf_checksum(out));
}

size_t lm_new_log(const unsigned char *hive, unsigned char *out, uint32_t first_seq, const struct lm_patch *patches,
                  size_t n)
{
    base_block(hive, out, first_seq, 6);
    size_t off = 0x200;
    for (size_t i = 0; i < n; i++) {
        unsigned char *e = out + off;
        size_t size = (0x28 + 8 + 4096 + 511) / 512 * 512;
        memset(e, 0, size);
        memcpy(e, "HvLE", 4);
        hp_put_le32(e + 0x04, (uint32_t)size);
        hp_put_le32(e + 0x0C, first_seq + (uint32_t)i);
        hp_put_le32(e + 0x10, hp_le32(hive + 0x28));
        hp_put_le32(e + 0x14, 1);
        hp_put_le32(e + 0x28, patches[i].rel);
        hp_put_le32(e + 0x2C, 4096);
        memcpy(e + 0x30, hive + 0x1000 + patches[i].rel, 4096);
        memcpy(e + 0x30 + patches[i].off, patches[i].bytes, patches[i].len);
        hp_put_le64(e + 0x18, hp_marvin32(HP_MARVIN32_REGF_SEED, e + 0x28, size - 0x28));
        hp_put_le64(e + 0x20, hp_marvin32(HP_MARVIN32_REGF_SEED, e, 0x20));
        off += size;
    }
    return off;
}

size_t lm_old_log(const unsigned char *hive, unsigned char *out, uint32_t seq, const struct lm_patch *patches,
                  size_t n)
{
    base_block(hive, out, seq, 1);
    uint32_t hbins = hp_le32(hive + 0x28);
    size_t vector_len = hbins / 4096;
    memcpy(out + 0x200, "DIRT", 4);
    memset(out + 0x204, 0, vector_len);
    for (size_t i = 0; i < n; i++) {
        size_t first = (patches[i].rel + patches[i].off) / 512;
        size_t last = (patches[i].rel + patches[i].off + patches[i].len - 1) / 512;
        for (size_t p = first; p <= last; p++)
            out[0x204 + p / 8] |= (unsigned char)(1u << (p % 8));
    }
    size_t at = (0x204 + vector_len + 511) / 512 * 512;
    memset(out + 0x204 + vector_len, 0, at - 0x204 - vector_len);
    for (size_t bit = 0; bit < vector_len * 8; bit++) {
        if (!(out[0x204 + bit / 8] & (1u << (bit % 8))))
            continue;
        unsigned char *page = out + at;
        memcpy(page, hive + 0x1000 + bit * 512, 512);
        for (size_t i = 0; i < n; i++) {
            size_t start = patches[i].rel + patches[i].off;
            for (size_t j = 0; j < patches[i].len; j++)
                if ((start + j) / 512 == bit)
                    page[(start + j) % 512] = patches[i].bytes[j];
        }
        at += 512;
    }
    return at;
}

uint32_t lm_find(const unsigned char *hive, size_t hive_len, const void *needle, size_t len)
{
    for (size_t i = 0x1000; i + len <= hive_len; i++)
        if (memcmp(hive + i, needle, len) == 0)
            return (uint32_t)(i - 0x1000);
    return UINT32_MAX;
}
