/* check_partition.c: the partition-table reader behind --ntfs DISK@pN (tools/image/partition.c), on tables
 * built here byte by byte: MBR primary and logical partitions, GPT with its CRCs and backup header, and
 * the damaged and hostile ones (a loop of EBRs, a table past the end, a huge entry count). */
#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "partition.h"
#include "suite.h"
#include "testutil.h"
#include "le.h"

#define SECTOR 512
#define DISK_SECTORS 8192 /* 4 MiB */

static unsigned char disk[DISK_SECTORS * SECTOR];

static void setup(void)
{
    tu_setup_dir();
    memset(disk, 0, sizeof disk);
}

static void teardown(void)
{
    tu_teardown_dir();
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* An MBR-style entry (slot 0-3) in the sector at lba. */
static void entry(uint64_t lba, int slot, unsigned type, uint32_t first, uint32_t count)
{
    unsigned char *e = disk + lba * SECTOR + 0x1BE + 16 * slot;
    e[4] = (unsigned char)type;
    hp_put_le32(e + 8, first);
    hp_put_le32(e + 12, count);
    disk[lba * SECTOR + 510] = 0x55;
    disk[lba * SECTOR + 511] = 0xAA;
}

static bool read_fd(void *ctx, void *buf, size_t len, uint64_t off)
{
    return pread(*(int *)ctx, buf, len, (off_t)off) == (ssize_t)len;
}

/* partition_find on the disk as it stands (the first size bytes of it). */
static int find(unsigned n, size_t size, struct partition *p, char *why, size_t why_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/disk.img", tu_dir);
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL && fwrite(disk, 1, size, f) == size && fclose(f) == 0);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    why[0] = '\0';
    struct partition_disk d = {read_fd, &fd, size};
    int rc = partition_find(&d, n, p, why, why_len);
    close(fd);
    return rc;
}

/* partition_list on the whole disk: the numbers found, as "1 5 6". */
static void expect_list(const char *numbers)
{
    char path[4096], why[256] = "", got[256] = "";
    snprintf(path, sizeof path, "%s/disk.img", tu_dir);
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL && fwrite(disk, 1, sizeof disk, f) == sizeof disk && fclose(f) == 0);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    struct partition_disk d = {read_fd, &fd, sizeof disk};
    struct partition parts[16];
    int n = partition_list(&d, parts, 16, why, sizeof why);
    close(fd);
    ck_assert_msg(n >= 0, "partition_list: %s", why);
    for (int i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%u", i ? " " : "", parts[i].number);
    ck_assert_str_eq(got, numbers);
}

static void expect_error(unsigned n, const char *reason)
{
    struct partition p;
    char why[256];
    ck_assert_int_eq(find(n, sizeof disk, &p, why, sizeof why), -1);
    ck_assert_msg(strstr(why, reason) != NULL, "partition %u: \"%s\" lacks \"%s\"", n, why, reason);
}

static void expect_at(unsigned n, uint64_t offset, uint64_t length, const char *scheme)
{
    struct partition p;
    char why[256];
    ck_assert_msg(find(n, sizeof disk, &p, why, sizeof why) == 0, "partition %u: %s", n, why);
    ck_assert_uint_eq(p.offset, offset);
    ck_assert_uint_eq(p.length, length);
    ck_assert_str_eq(p.scheme, scheme);
}

START_TEST(mbr_primary_and_logical)
{
    expect_error(1, "no partition table");
    entry(0, 0, 0x07, 2048, 1024);
    entry(0, 2, 0x0F, 4096, 4000);            /* extended: sectors 4096-8095 */
    entry(4096, 0, 0x07, 64, 512);            /* p5 at 4096 + 64 */
    entry(4096, 1, 0x05, 1024, 600);          /* next EBR at 4096 + 1024 */
    entry(5120, 0, 0x07, 32, 100);            /* p6 at 5120 + 32 */
    expect_at(1, 2048 * SECTOR, 1024 * SECTOR, "MBR");
    expect_at(5, (4096 + 64) * SECTOR, 512 * SECTOR, "MBR");
    expect_at(6, (5120 + 32) * SECTOR, 100 * SECTOR, "MBR");
    expect_list("1 5 6");
    expect_error(2, "MBR slot 2 is empty");
    expect_error(3, "extended partition");
    expect_error(7, "there is no partition 7 (the last logical partition is 6)");
    expect_error(0, "numbered from 1");

    /* A partition past the end of a truncated image. */
    struct partition p;
    char why[256];
    ck_assert_int_eq(find(1, 2048 * SECTOR + 100 * SECTOR, &p, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "extends past the end") != NULL, "%s", why);
}
END_TEST

START_TEST(mbr_hostile)
{
    entry(0, 0, 0x05, 100, 8000);
    entry(100, 0, 0x07, 10, 10);
    entry(100, 1, 0x05, 0x7FFFFFFF, 10);     /* the next EBR far past the end */
    expect_at(5, 110 * SECTOR, 10 * SECTOR, "MBR");
    expect_error(6, "chain is damaged");
    entry(100, 1, 0x05, 0, 10);              /* a link to itself, written as 0: the chain ends */
    expect_error(6, "there is no partition 6");
    entry(100, 1, 0x05, 200, 10);            /* 100 -> 300 -> 300 -> ...: a loop */
    entry(300, 0, 0x07, 1, 1);
    entry(300, 1, 0x05, 200, 10);
    expect_error(200, "more than 128 links");

    memset(disk, 0, SECTOR);
    memcpy(disk + 3, "NTFS    ", 8);         /* a volume boot sector ends in 55 AA too */
    disk[510] = 0x55;
    disk[511] = 0xAA;
    expect_error(1, "the image of one partition");
}
END_TEST

/* A GPT with entries (first, last) in slots 0.., its header at lba with its backup at backup_lba. */
static void gpt_header(uint64_t lba, uint64_t backup_lba, uint64_t table_lba, uint32_t count)
{
    unsigned char *h = disk + lba * SECTOR;
    memset(h, 0, SECTOR);
    memcpy(h, "EFI PART", 8);
    hp_put_le32(h + 8, 0x00010000);
    hp_put_le32(h + 12, 92);
    hp_put_le64(h + 24, lba);
    hp_put_le64(h + 32, backup_lba);
    hp_put_le64(h + 72, table_lba);
    hp_put_le32(h + 80, count);
    hp_put_le32(h + 84, 128);
    size_t table_len = (size_t)count * 128;
    bool fits = table_len <= sizeof disk - table_lba * SECTOR;
    hp_put_le32(h + 88, fits ? crc32_ieee(disk + table_lba * SECTOR, table_len) : 0);
    hp_put_le32(h + 16, crc32_ieee(h, 92));
}

static void gpt(void)
{
    entry(0, 0, 0xEE, 1, DISK_SECTORS - 1);
    unsigned char *table = disk + 2 * SECTOR;
    memset(table, 0, 32 * SECTOR);
    table[0] = 0xA2;                          /* slot 1: used */
    hp_put_le64(table + 32, 2048);
    hp_put_le64(table + 40, 4095);
    table[2 * 128] = 0xA2;                    /* slot 3: used; slot 2 unused */
    hp_put_le64(table + 2 * 128 + 32, 4096);
    hp_put_le64(table + 2 * 128 + 40, 8000);
    gpt_header(1, DISK_SECTORS - 1, 2, 128);
    gpt_header(DISK_SECTORS - 1, 1, 2, 128);
}

START_TEST(gpt_entries_and_crcs)
{
    gpt();
    expect_at(1, 2048 * SECTOR, 2048 * SECTOR, "GPT");
    expect_at(3, 4096 * SECTOR, (8000 - 4096 + 1) * SECTOR, "GPT");
    expect_error(2, "GPT entry 2 is unused");
    expect_error(129, "the GPT has 128 entries");
    expect_list("1 3");

    disk[SECTOR + 40] ^= 1; /* the primary header damaged: the backup answers */
    expect_at(1, 2048 * SECTOR, 2048 * SECTOR, "GPT");
    disk[(DISK_SECTORS - 1) * SECTOR + 40] ^= 1;
    expect_error(1, "neither GPT header is valid");

    gpt();
    disk[2 * SECTOR + 5] ^= 1; /* an entry changed behind the header's back */
    expect_error(1, "CRC32 mismatch");

    gpt();
    hp_put_le64(disk + 2 * SECTOR + 40, 100); /* last before first */
    gpt_header(1, DISK_SECTORS - 1, 2, 128);
    expect_error(1, "last sector before first");

    gpt();
    gpt_header(1, DISK_SECTORS - 1, 2, 0x10000000); /* 2^28 entries: refused before reading */
    gpt_header(DISK_SECTORS - 1, 1, 2, 0x10000000);
    expect_error(1, "GPT header is damaged");
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {mbr_primary_and_logical, mbr_hostile, gpt_entries_and_crcs, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "partition", "partition", 0, setup, teardown);
    return tu_run_tests(s, tc, tests);
}
