/* fuzz_txlog.c: arbitrary bytes as transaction logs, replayed over a fixed hive (the dirty fixture).
 *
 * Input: byte 0 is a mode, the rest the log bytes.
 *   mode bit 0: two logs, LOG1 and LOG2: bytes 1-4 give LOG1's length (little-endian, cut to what is
 *               there), LOG2 is the rest; otherwise one log, LOG1
 *   mode bit 1: the hive's header checksum is broken, so that a log's header copy must replace it
 *   mode bit 2: the hive is made clean (equal sequence numbers): nothing may be applied
 *   mode bit 3: an empty .LOG goes first, as the unused slot does on disk
 *   mode bit 4: the API opens the hive for writing, sets a port and commits
 * First hp_txlog_replay() directly: a replay that says it applied something must leave a header that
 * validates, and the result is opened and read like any hive; a failed replay must leave the image as it
 * was.  Then the same hive and logs as files (SYSTEM, SYSTEM.LOG1, ...) through hiveport_open_ext(), which
 * finds and replays the logs itself: it must come to the same verdict, and a commit must leave a clean hive
 * holding the new port (or, failing, every file as it was). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "internal.h"
#include "txlog.h"
#include "le.h"

#ifndef HP_FUZZ_FIXTURES
#define HP_FUZZ_FIXTURES "build/fixtures"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned char *hive;
static size_t hive_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("HIVEPORT_FIXTURES");
    char path[4096];
    snprintf(path, sizeof path, "%s/dirty.hive", dir && *dir ? dir : HP_FUZZ_FIXTURES);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        fprintf(stderr, "fuzz_txlog: needs the fixtures (make fixtures; HIVEPORT_FIXTURES=DIR)\n");
        exit(2);
    }
    static unsigned char buf[1 << 20];
    hive_len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    hive = buf;
    if (hive_len < HP_REGF_HEADER_SIZE) {
        fprintf(stderr, "fuzz_txlog: %s is not the dirty fixture\n", path);
        exit(2);
    }
    return 0;
}

static bool same_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    unsigned char *now = malloc(len + 1);
    size_t got = fread(now, 1, len + 1, f);
    fclose(f);
    bool same = got == len && memcmp(now, data, len) == 0;
    free(now);
    return same;
}

/* The hive and its logs as files, through the public API. */
static void through_api(unsigned mode, const unsigned char *image, size_t image_len,
                        const struct hp_txlog_input *logs, size_t n, const struct hp_txlog_result *direct)
{
    static const char *const names[] = {"SYSTEM.LOG", "SYSTEM.LOG1", "SYSTEM.LOG2"};
    char log_path[3][4096];
    for (size_t i = 0; i < 3; i++) {
        snprintf(log_path[i], sizeof log_path[i], "%s/%s", fz_scratch_dir(), names[i]);
        unlink(log_path[i]);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 3; j++)
            if (strcmp(logs[i].name, names[j]) == 0)
                fz_write_file(names[j], logs[i].data, logs[i].len);
    const char *path = fz_write_file("SYSTEM", image, image_len);

    hiveport *h;
    int rc = fz_open_nowait(path, mode & 16 ? HIVEPORT_OPEN_WRITE : 0, &h);
    if (rc != HIVEPORT_OK) {
        fz_expect_explained(h, rc, "hiveport_open_ext(SYSTEM with logs)");
        hiveport_close(h);
        return;
    }
    unsigned entries = 0;
    int state = hiveport_log_state(h, &entries);
    const char *report = hiveport_log_report(h);
    FZ_ASSERT(report != NULL && strlen(report) < 1024, "log report");
    if (!direct->was_dirty)
        FZ_ASSERT(state == HIVEPORT_LOGS_CLEAN, "a clean hive reports log state %d", state);
    else if (direct->format != HP_TXLOG_FORMAT_NONE)
        FZ_ASSERT(state == HIVEPORT_LOGS_REPLAYED && entries == direct->entries_applied,
                  "replayed %u directly, the API says state %d, %u entries (%s)", direct->entries_applied, state,
                  entries, report);
    else
        FZ_ASSERT(state == HIVEPORT_LOGS_UNUSABLE && report[0] != '\0', "nothing usable directly, API state %d",
                  state);
    fz_read_everything(h);
    if (!(mode & 16)) {
        hiveport_close(h);
        return;
    }

    const hiveport_setting *ntds = hiveport_catalog_find("ntds");
    rc = hiveport_set_port(h, ntds, HIVEPORT_CS_CURRENT, 6123, HIVEPORT_SET_REPLACE_TYPE);
    if (rc == HIVEPORT_OK)
        rc = hiveport_commit(h, NULL);
    if (rc != HIVEPORT_OK) {
        fz_expect_explained(h, rc, "set and commit over replayed logs");
        hiveport_close(h);
        FZ_ASSERT(same_file(path, image, image_len), "a failed set or commit changed the hive");
        return;
    }
    /* A clean hive's in-place change goes through its logs (the logged commit, issue 21): they change then,
     * and the checks below (clean, the new port) hold all the same.  A replayed hive is copied: its logs
     * stay as they were. */
    bool logged = hiveport_commit_method(h, NULL) == HIVEPORT_COMMIT_LOG;
    FZ_ASSERT(!logged || !direct->was_dirty, "a hive recovered from its logs was committed through them");
    hiveport_close(h);
    for (size_t i = 0; i < n && !logged; i++)
        for (size_t j = 0; j < 3; j++)
            if (strcmp(logs[i].name, names[j]) == 0)
                FZ_ASSERT(same_file(log_path[j], logs[i].data, logs[i].len), "a commit changed %s", names[j]);
    rc = hiveport_open(path, 0, &h);
    FZ_ASSERT(rc == HIVEPORT_OK, "the committed hive does not open: %s", hiveport_errmsg(h));
    FZ_ASSERT(hiveport_is_dirty(h) == 0 && hiveport_log_state(h, NULL) == HIVEPORT_LOGS_CLEAN,
              "the committed hive is not clean");
    uint32_t port = 0;
    rc = hiveport_get_port(h, ntds, HIVEPORT_CS_CURRENT, &port);
    FZ_ASSERT(rc == HIVEPORT_OK && port == 6123, "the committed port reads %d (%s), %u", rc, hiveport_errmsg(h),
              port);
    hiveport_close(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (hive == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    data++;
    size--;

    struct hp_txlog_input logs[3];
    size_t n = 0;
    if (mode & 8)
        logs[n++] = (struct hp_txlog_input){"SYSTEM.LOG", (const unsigned char *)"", 0};
    if (mode & 1) {
        size_t len1 = size >= 4 ? hp_le32(data) : 0, off = size >= 4 ? 4 : size;
        if (len1 > size - off)
            len1 = size - off;
        logs[n++] = (struct hp_txlog_input){"SYSTEM.LOG1", data + off, len1};
        logs[n++] = (struct hp_txlog_input){"SYSTEM.LOG2", data + off + len1, size - off - len1};
    } else {
        logs[n++] = (struct hp_txlog_input){"SYSTEM.LOG1", data, size};
    }

    unsigned char *image = hp_malloc(hive_len);
    FZ_ASSERT(image != NULL, "out of memory");
    memcpy(image, hive, hive_len);
    if (mode & 4) {
        memcpy(image + 0x8, image + 0x4, 4);
        hp_put_le32(image + 0x1FC, hp_regf_checksum(image));
    }
    if (mode & 2)
        hp_put_le32(image + 0x1FC, hp_regf_checksum(image) ^ 0x5A5A5A5A);
    unsigned char *before = malloc(hive_len);
    memcpy(before, image, hive_len);

    unsigned char *img = image;
    size_t img_len = hive_len;
    struct hp_txlog_result res;
    char why[512];
    memset(why, 'x', sizeof why);
    int rc = hp_txlog_replay(&img, &img_len, logs, n, &res, why, sizeof why);
    FZ_ASSERT(memchr(why, '\0', sizeof why) != NULL, "the reason is not terminated");

    if (rc != HIVEPORT_OK) {
        FZ_ASSERT(rc > HIVEPORT_OK && rc <= HIVEPORT_E_NOT_REGULAR, "unknown status %d", rc);
        FZ_ASSERT(why[0] != '\0', "failure %d without a reason", rc);
        FZ_ASSERT(img == image && img_len == hive_len && memcmp(img, before, hive_len) == 0,
                  "a failed replay changed the image");
        hp_free(img);
        through_api(mode, before, hive_len, logs, n, &(struct hp_txlog_result){.was_dirty = true});
        free(before);
        return 0;
    }
    FZ_ASSERT(why[0] != '\0', "success without an account");
    FZ_ASSERT(img != NULL && img_len >= hive_len, "the image shrank to %zu bytes", img_len);
    FZ_ASSERT(res.format >= HP_TXLOG_FORMAT_NONE && res.format <= HP_TXLOG_FORMAT_NEW, "format %d", res.format);
    FZ_ASSERT((res.used_mask >> n) == 0, "used_mask 0x%x for %zu logs", res.used_mask, n);
    FZ_ASSERT(res.logs_used == (unsigned)__builtin_popcount(res.used_mask), "logs_used %u, mask 0x%x",
              res.logs_used, res.used_mask);
    FZ_ASSERT(res.logs_used + res.logs_rejected <= n, "%u used + %u rejected of %zu", res.logs_used,
              res.logs_rejected, n);
    if (mode & 4 && !(mode & 2)) {
        FZ_ASSERT(res.format == HP_TXLOG_FORMAT_NONE && res.clean && !res.was_dirty, "a clean hive was replayed");
        FZ_ASSERT(img == image && memcmp(img, before, hive_len) == 0, "a clean hive was changed");
    }
    if (res.format == HP_TXLOG_FORMAT_NONE) {
        FZ_ASSERT(res.logs_used == 0 && res.entries_applied == 0, "nothing replayed, yet %u logs used",
                  res.logs_used);
        FZ_ASSERT(img_len == hive_len && memcmp(img, before, hive_len) == 0, "nothing replayed, yet changed");
    } else {
        FZ_ASSERT(res.clean && res.was_dirty && res.logs_used >= 1, "replayed but clean %d dirty %d used %u",
                  res.clean, res.was_dirty, res.logs_used);
        FZ_ASSERT(res.header_from_log == ((mode & 2) != 0), "header_from_log %d", res.header_from_log);
        struct hp_regf_header hdr;
        char reason[256];
        int hrc = hp_regf_parse_header(img, img_len, img_len, &hdr, reason, sizeof reason);
        FZ_ASSERT(hrc == HIVEPORT_OK, "the replayed header does not validate: %s", reason);
        FZ_ASSERT(hdr.seq_primary == hdr.seq_secondary && hdr.seq_primary == res.new_sequence,
                  "replayed sequence numbers %u, %u, reported %u", hdr.seq_primary, hdr.seq_secondary,
                  res.new_sequence);

        /* The recovered image is a hive like any other: it must open or be refused with a reason. */
        const char *path = fz_write_file("recovered", img, img_len);
        hiveport *h = NULL;
        rc = hiveport_open(path, 0, &h);
        if (rc == HIVEPORT_OK)
            fz_read_everything(h);
        else
            fz_expect_explained(h, rc, "hiveport_open(recovered)");
        hiveport_close(h);
    }
    hp_free(img);
    through_api(mode, before, hive_len, logs, n, &res);
    free(before);
    return 0;
}
