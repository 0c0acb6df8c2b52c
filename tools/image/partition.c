/* partition.c: MBR and GPT partition tables, read-only and bounded (see partition.h).
 *
 *   MBR (sector 0):  0x1BE four 16-byte entries (+4 type, +8 first sector, +12 sectors), 0x1FE 55 AA.
 *                    Type 0xEE: a protective MBR, the real table is GPT.  Types 0x05, 0x0F, 0x85: an
 *                    extended partition holding a chain of EBRs (entry 0: a logical partition, relative to
 *                    its EBR; entry 1: the next EBR, relative to the extended partition).
 *   GPT (LBA 1, its backup in the last sector): "EFI PART", +12 header size, +16 header CRC32, +72 first
 *                    entry LBA, +80 entry count, +84 entry size, +88 entries CRC32.  An entry: +0 type GUID
 *                    (zero: unused), +32 first LBA, +40 last LBA (inclusive).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition.h"

#define MBR_SECTOR 512
#define MAX_LOGICAL 128               /* EBRs followed before the chain is called a loop */
#define MAX_GPT_TABLE (4u << 20)      /* bytes of GPT entries read at most */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool read_at(const struct partition_disk *d, void *buf, size_t len, uint64_t off)
{
    return off <= d->size && len <= d->size - off && d->read(d->ctx, buf, len, off);
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int fail(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Fills out with sectors [first, first + count) of sector bytes each, if they lie inside the image. */
static int place(uint64_t disk_size, unsigned n, uint64_t first, uint64_t count, unsigned sector,
                 struct partition *out, char *why, size_t why_len)
{
    if (count == 0)
        return fail(why, why_len, "partition %u is empty (0 sectors)", n);
    if (first > disk_size / sector || count > disk_size / sector - first)
        return fail(why, why_len,
                    "partition %u (sectors %llu-%llu of %u bytes) extends past the end of the image (%llu bytes): "
                    "a truncated image?",
                    n, (unsigned long long)first, (unsigned long long)(first + count - 1), sector,
                    (unsigned long long)disk_size);
    out->number = n;
    out->offset = first * sector;
    out->length = count * sector;
    return 0;
}

/* A valid GPT header at lba (sectors of sector bytes) into hdr; false when there is none. */
static bool gpt_header(const struct partition_disk *d, unsigned sector, uint64_t lba, unsigned char *hdr)
{
    if (lba == 0 || lba >= d->size / sector || !read_at(d, hdr, sector, lba * sector) ||
        memcmp(hdr, "EFI PART", 8) != 0)
        return false;
    uint32_t size = le32(hdr + 12);
    if (size < 92 || size > sector)
        return false;
    unsigned char copy[4096]; /* the CRC covers the header with its own field zeroed */
    memcpy(copy, hdr, size);
    memset(copy + 16, 0, 4);
    bool ok = crc32_ieee(copy, size) == le32(hdr + 16);
    return ok;
}

/* The GPT's entries, checked (malloc'd into *table: *count entries of *esize bytes, sectors of *sector). */
static int gpt_load(const struct partition_disk *d, unsigned char **table, uint32_t *count, uint32_t *esize,
                    unsigned *sector, char *why, size_t why_len)
{
    static const unsigned sectors[] = {512, 4096};
    unsigned char hdr[4096];
    *sector = 0;
    for (size_t i = 0; i < sizeof sectors / sizeof sectors[0] && *sector == 0; i++) {
        unsigned s = sectors[i];
        if (gpt_header(d, s, 1, hdr) || gpt_header(d, s, d->size / s - 1, hdr))
            *sector = s;
    }
    if (*sector == 0)
        return fail(why, why_len, "the MBR announces a GPT (type 0xEE) but neither GPT header is valid "
                                  "(signature or CRC32)");
    uint64_t table_lba = le64(hdr + 72);
    *count = le32(hdr + 80);
    *esize = le32(hdr + 84);
    if (*esize < 128 || *esize % 8 != 0 || (uint64_t)*count * *esize > MAX_GPT_TABLE)
        return fail(why, why_len, "the GPT header is damaged (%u entries of %u bytes)", *count, *esize);
    size_t table_len = (size_t)*count * *esize;
    *table = malloc(table_len ? table_len : 1);
    if (*table == NULL)
        return fail(why, why_len, "out of memory");
    int rc = 0;
    if (table_lba >= d->size / *sector || !read_at(d, *table, table_len, table_lba * *sector))
        rc = fail(why, why_len, "the GPT entries (sector %llu) are outside the image", (unsigned long long)table_lba);
    else if (crc32_ieee(*table, table_len) != le32(hdr + 88))
        rc = fail(why, why_len, "the GPT entries are damaged (CRC32 mismatch)");
    if (rc != 0) {
        free(*table);
        *table = NULL;
    }
    return rc;
}

static bool gpt_unused(const unsigned char *e)
{
    static const unsigned char unused[16];
    return memcmp(e, unused, sizeof unused) == 0;
}

/* GPT entry e, number n, into out. */
static int gpt_entry(const struct partition_disk *d, const unsigned char *e, unsigned n, unsigned sector,
                     struct partition *out, char *why, size_t why_len)
{
    uint64_t first = le64(e + 32), last = le64(e + 40);
    if (last < first)
        return fail(why, why_len, "GPT entry %u is damaged (last sector before first)", n);
    if (place(d->size, n, first, last - first + 1, sector, out, why, why_len) != 0)
        return -1;
    memcpy(out->scheme, "GPT", 4);
    return 0;
}

static int gpt_find(const struct partition_disk *d, unsigned n, struct partition *out, char *why, size_t why_len)
{
    unsigned char *table;
    uint32_t count, esize;
    unsigned sector;
    if (gpt_load(d, &table, &count, &esize, &sector, why, why_len) != 0)
        return -1;
    int rc;
    if (n > count)
        rc = fail(why, why_len, "the GPT has %u entries: there is no partition %u", count, n);
    else if (gpt_unused(table + (size_t)(n - 1) * esize))
        rc = fail(why, why_len, "GPT entry %u is unused: there is no partition %u", n, n);
    else
        rc = gpt_entry(d, table + (size_t)(n - 1) * esize, n, sector, out, why, why_len);
    free(table);
    return rc;
}

static int gpt_list(const struct partition_disk *d, struct partition *out, size_t max, char *why, size_t why_len)
{
    unsigned char *table;
    uint32_t count, esize;
    unsigned sector;
    if (gpt_load(d, &table, &count, &esize, &sector, why, why_len) != 0)
        return -1;
    size_t found = 0;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < count && found < max; i++) {
        const unsigned char *e = table + (size_t)i * esize;
        if (!gpt_unused(e))
            rc = gpt_entry(d, e, i + 1, sector, &out[found++], why, why_len);
    }
    free(table);
    return rc == 0 ? (int)found : -1;
}

static bool is_extended(unsigned type)
{
    return type == 0x05 || type == 0x0F || type == 0x85;
}

/* Logical partition n (>= 5) in the chain of EBRs of the extended partition at ext_first. */
/* Logical partition n (>= 5) in the chain of EBRs of the extended partition at ext_first; n == 0 lists
 * them all into list (at most max; *found counts them) instead. */
static int logical_walk(const struct partition_disk *d, unsigned n, uint64_t ext_first, struct partition *out,
                        size_t max, size_t *found, char *why, size_t why_len)
{
    unsigned char ebr[MBR_SECTOR];
    uint64_t ebr_lba = ext_first;
    for (unsigned number = 5; number < 5 + MAX_LOGICAL; number++) {
        if (ebr_lba >= d->size / MBR_SECTOR || !read_at(d, ebr, sizeof ebr, ebr_lba * MBR_SECTOR) ||
            ebr[510] != 0x55 || ebr[511] != 0xAA)
            return fail(why, why_len, "the extended partition's chain is damaged at sector %llu",
                        (unsigned long long)ebr_lba);
        const unsigned char *logical = ebr + 0x1BE, *next = ebr + 0x1CE;
        if (number == n)
            return place(d->size, n, ebr_lba + le32(logical + 8), le32(logical + 12), MBR_SECTOR, out, why,
                         why_len);
        if (n == 0 && logical[4] != 0 && *found < max) {
            if (place(d->size, number, ebr_lba + le32(logical + 8), le32(logical + 12), MBR_SECTOR, &out[*found],
                      why, why_len) != 0)
                return -1;
            memcpy(out[(*found)++].scheme, "MBR", 4);
        }
        if (next[4] == 0 || le32(next + 8) == 0)
            return n == 0 ? 0 : fail(why, why_len, "there is no partition %u (the last logical partition is %u)", n,
                                     number);
        ebr_lba = ext_first + le32(next + 8);
    }
    return fail(why, why_len, "the extended partition's chain has more than %d links (a loop?)", MAX_LOGICAL);
}

/* The MBR in sector 0, checked: -1 with why when there is no partition table. */
static int mbr_read(const struct partition_disk *d, unsigned char *mbr, char *why, size_t why_len)
{
    if (!read_at(d, mbr, MBR_SECTOR, 0) || mbr[510] != 0x55 || mbr[511] != 0xAA)
        return fail(why, why_len, "no partition table (no MBR signature 55 AA in the first sector)");
    /* A volume boot sector also ends in 55 AA. */
    if (memcmp(mbr + 3, "NTFS    ", 8) == 0)
        return fail(why, why_len, "this is the image of one partition (it starts with an NTFS boot sector), "
                                  "not of a whole disk: leave out the partition number");
    return 0;
}

static bool is_gpt(const unsigned char *mbr)
{
    for (int i = 0; i < 4; i++)
        if (mbr[0x1BE + 16 * i + 4] == 0xEE)
            return true;
    return false;
}

int partition_find(const struct partition_disk *d, unsigned n, struct partition *out, char *why, size_t why_len)
{
    unsigned char mbr[MBR_SECTOR];
    memset(out, 0, sizeof *out);
    if (n == 0)
        return fail(why, why_len, "partitions are numbered from 1");
    if (mbr_read(d, mbr, why, why_len) != 0)
        return -1;
    if (is_gpt(mbr))
        return gpt_find(d, n, out, why, why_len);
    const unsigned char *entries = mbr + 0x1BE;
    memcpy(out->scheme, "MBR", 4);
    if (n <= 4) {
        const unsigned char *e = entries + 16 * (n - 1);
        if (e[4] == 0)
            return fail(why, why_len, "MBR slot %u is empty: there is no partition %u", n, n);
        if (is_extended(e[4]))
            return fail(why, why_len, "partition %u is the extended partition: the logical partitions in it "
                                      "are numbered from 5", n);
        return place(d->size, n, le32(e + 8), le32(e + 12), MBR_SECTOR, out, why, why_len);
    }
    for (int i = 0; i < 4; i++)
        if (is_extended(entries[16 * i + 4]))
            return logical_walk(d, n, le32(entries + 16 * i + 8), out, 0, NULL, why, why_len);
    return fail(why, why_len, "there is no partition %u (the MBR has no extended partition)", n);
}

int partition_list(const struct partition_disk *d, struct partition *out, size_t max, char *why, size_t why_len)
{
    unsigned char mbr[MBR_SECTOR];
    if (mbr_read(d, mbr, why, why_len) != 0)
        return -1;
    if (is_gpt(mbr))
        return gpt_list(d, out, max, why, why_len);
    size_t found = 0;
    const unsigned char *entries = mbr + 0x1BE;
    for (unsigned n = 1; n <= 4 && found < max; n++) {
        const unsigned char *e = entries + 16 * (n - 1);
        if (e[4] == 0 || is_extended(e[4]))
            continue;
        if (place(d->size, n, le32(e + 8), le32(e + 12), MBR_SECTOR, &out[found], why, why_len) != 0)
            return -1;
        memcpy(out[found++].scheme, "MBR", 4);
    }
    for (int i = 0; i < 4; i++)
        if (is_extended(entries[16 * i + 4]) &&
            logical_walk(d, 0, le32(entries + 16 * i + 8), out, max, &found, why, why_len) != 0)
            return -1;
    return (int)found;
}
