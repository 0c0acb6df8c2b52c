/* mkseeds.c: seed inputs for fuzz_txlog: valid old- and new-format logs of the dirty fixture.
 *
 * Usage: mkseeds DIRTY.hive OUTDIR.  Each seed is a mode byte (see fuzz_txlog.c) and the log bytes, built
 * by logmaker.c so that every check passes and the replay really applies pages; the fuzzer mutates from
 * there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logmaker.h"
#include "le.h"

static unsigned char hive[1 << 20];
static size_t hive_len;

static void save(const char *dir, const char *name, unsigned mode, const unsigned char *log1, size_t len1,
                 const unsigned char *log2, size_t len2)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    unsigned char m = (unsigned char)mode;
    fwrite(&m, 1, 1, f);
    if (mode & 1) {
        unsigned char len[4] = {(unsigned char)len1, (unsigned char)(len1 >> 8), (unsigned char)(len1 >> 16),
                                (unsigned char)(len1 >> 24)};
        fwrite(len, 1, 4, f);
    }
    fwrite(log1, 1, len1, f);
    if (log2 != NULL)
        fwrite(log2, 1, len2, f);
    if (fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIRTY.hive OUTDIR\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    hive_len = fread(hive, 1, sizeof hive, f);
    fclose(f);
    uint32_t hbins = hive_len >= 0x1000 ? hp_le32(hive + 0x28) : 0;
    if (hive_len < 0x2000 || hbins < 4096 || hive_len < 0x1000 + hbins) {
        fprintf(stderr, "%s: not a usable hive\n", argv[1]);
        return 1;
    }
    uint32_t secondary = hp_le32(hive + 0x08);

    /* A value the logs change: the fixture's 5001 (0x1389) becomes 5017; and two stray bytes. */
    static const unsigned char port_le[4] = {0x89, 0x13, 0, 0}, new_port[4] = {0x99, 0x13, 0, 0};
    uint32_t at = lm_find(hive, hive_len, port_le, 4);
    if (at == UINT32_MAX)
        at = 0x100;
    unsigned char b1 = hive[0x1000 + 0x104] ^ 1, b2 = hive[0x1000 + (hbins > 4096 ? 0x1000 : 0) + 0x204] ^ 1;
    const struct lm_patch patches[] = {
        {at / 4096 * 4096, at % 4096, new_port, 4},
        {0, 0x104, &b1, 1},
        {hbins > 4096 ? 0x1000 : 0, 0x204, &b2, 1},
    };
    static unsigned char a[LM_LOG_SIZE(4)], b[LM_LOG_SIZE(4)];
    size_t la, lb;

    la = lm_new_log(hive, a, secondary, patches, 1);
    save(argv[2], "new-one-entry", 0, a, la, NULL, 0);
    save(argv[2], "new-empty-log-first", 8, a, la, NULL, 0);
    save(argv[2], "new-clean-hive", 4, a, la, NULL, 0);
    save(argv[2], "new-lost-header", 2, a, la, NULL, 0);
    save(argv[2], "new-one-entry-commit", 16, a, la, NULL, 0);
    la = lm_new_log(hive, a, secondary, patches, 3);
    save(argv[2], "new-three-entries", 0, a, la, NULL, 0);
    la = lm_new_log(hive, a, secondary, patches, 1);
    lb = lm_new_log(hive, b, secondary + 1, patches + 1, 2);
    save(argv[2], "new-two-logs", 1, a, la, b, lb);
    save(argv[2], "new-two-logs-swapped", 1, b, lb, a, la);
    save(argv[2], "new-two-logs-commit", 17, a, la, b, lb);

    la = lm_old_log(hive, a, secondary, patches, 3);
    save(argv[2], "old-three-patches", 0, a, la, NULL, 0);
    save(argv[2], "old-lost-header", 2, a, la, NULL, 0);
    save(argv[2], "old-three-patches-commit", 16, a, la, NULL, 0);
    lb = lm_new_log(hive, b, secondary, patches, 1);
    save(argv[2], "old-and-new", 1, a, la, b, lb);
    return 0;
}
