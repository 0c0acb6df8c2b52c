/* check_logcommit.c: the logged commit (issue 21): a commit through the hive's own transaction log, in place.
 *
 * The central test: the log a commit writes, replayed by our own replay (hp_txlog_replay) over the primary
 * as it stands once marked dirty, gives exactly the bytes of the finished commit, in both log formats.
 * Then: which commit runs (auto, log, copy), which log is written, reproducible bytes. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "internal.h"
#include "pageset.h"
#include "suite.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
    dir = tu_tmpdir();
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static char *path_in(const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    return p;
}

static void write_bytes(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A log as Windows leaves it after the primary caught up: its base block copy (type 6 or 1, the hive's
 * sequence number) and no entry. */
static void make_log(const char *hive, const char *log, uint32_t type)
{
    size_t len;
    unsigned char *h = tu_read(hive, &len);
    unsigned char bb[512];
    memcpy(bb, h, sizeof bb);
    put32(bb + 0x08, get32(bb + 0x04));
    put32(bb + 0x1C, type);
    put32(bb + 0x1FC, hp_regf_checksum(bb));
    write_bytes(log, bb, sizeof bb);
    free(h);
}

static const hiveport_setting *ntds(void)
{
    return hiveport_catalog_find("ntds");
}

/* dir/SYSTEM: system-basic with ntds set (so that later sets are patches), and SYSTEM.LOG1 (a log of
 * type `type`, 0 for none) and an empty SYSTEM.LOG2. */
static char *hive_with_logs(uint32_t type)
{
    char *hive = path_in("SYSTEM"), *log1 = path_in("SYSTEM.LOG1"), *log2 = path_in("SYSTEM.LOG2");
    ck_assert_int_eq(tu_copy(tu_fixture_path("system-basic"), hive), 0);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_COPY, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, ntds(), HIVEPORT_CS_ALL, 5000, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    if (type != 0) {
        make_log(hive, log1, type);
        write_bytes(log2, (const unsigned char *)"", 0);
    }
    free(log1);
    free(log2);
    return hive;
}

static uint32_t get_ntds(const char *hive)
{
    hiveport *h;
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_open(hive, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_get_port(h, ntds(), 1, &port), HIVEPORT_OK);
    hiveport_close(h);
    return port;
}

/* The log the commit will write, built by the library's own pieces before the commit, replayed over the
 * primary marked dirty (primary sequence raised, the new time stamp: what step 2 writes), must equal the
 * file the commit leaves; and the log file on disk must hold exactly that log. */
static void replay_equals_commit(uint32_t type, int want_format)
{
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    char *hive = hive_with_logs(type);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_LOG, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, ntds(), HIVEPORT_CS_ALL, 6001, 0), HIVEPORT_OK);

    uint64_t filetime;
    ck_assert_int_eq(hp_write_time(h, &filetime), HIVEPORT_OK);
    struct hp_page_set ps;
    ck_assert_int_eq(hp_pages_collect(h, filetime, &ps), HIVEPORT_OK);
    ck_assert_uint_gt(ps.n, 0);
    struct hp_log_plan plan;
    ck_assert_int_eq(hp_log_plan(h, &plan), HIVEPORT_OK);
    ck_assert_ptr_nonnull(plan.path);
    ck_assert_int_eq(plan.format, want_format);
    struct hp_log_pages pg = {ps.n, ps.offsets, (const unsigned char *const *)ps.pages};
    unsigned char *log;
    size_t log_len;
    uint32_t seq = get32(ps.base_block + 4);
    ck_assert_int_eq(want_format == HP_TXLOG_FORMAT_NEW ? hp_logwrite_new(ps.base_block, seq, &pg, &log, &log_len)
                                                        : hp_logwrite_old(ps.base_block, seq, &pg, &log, &log_len),
                     HIVEPORT_OK);

    /* The primary as it stands after step 2: old pages, dirty base block. */
    size_t before_len;
    unsigned char *image = tu_read(hive, &before_len);
    uint32_t old_seq = get32(image + 8);
    ck_assert_uint_eq(seq, old_seq + 1);
    memcpy(image, ps.base_block, 512);
    put32(image + 8, old_seq);
    put32(image + 0x1FC, hp_regf_checksum(image));
    char *plan_path = strdup(plan.path);
    hp_pages_free(&ps);
    hp_log_plan_free(&plan);

    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    const char *report;
    ck_assert_int_eq(hiveport_commit_method(h, &report), HIVEPORT_COMMIT_LOG);
    ck_assert_ptr_nonnull(strstr(report, "logged commit"));
    hiveport_close(h);

    size_t after_len, disk_log_len;
    unsigned char *after = tu_read(hive, &after_len), *disk_log = tu_read(plan_path, &disk_log_len);
    ck_assert_uint_ge(disk_log_len, log_len);
    ck_assert_msg(memcmp(disk_log, log, log_len) == 0, "the log on disk is not the log built");

    struct hp_txlog_input in[2] = {{"LOG", disk_log, disk_log_len}, {"LOG2", NULL, 0}};
    struct hp_txlog_result res;
    char why[512];
    size_t image_len = before_len;
    ck_assert_int_eq(hp_txlog_replay(&image, &image_len, in, 1, &res, why, sizeof why), HIVEPORT_OK);
    ck_assert_msg(res.format == want_format && res.clean, "%s", why);
    ck_assert_uint_eq(image_len, after_len);
    ck_assert_msg(memcmp(image, after, after_len) == 0, "the replay differs from the commit (%s)", why);
    ck_assert_uint_eq(get_ntds(hive), 6001);
    hp_free(image);
    free(after);
    free(disk_log);
    hp_free(log);
    free(plan_path);
    free(hive);
    unsetenv("SOURCE_DATE_EPOCH");
}

START_TEST(new_format_replay_equals_commit)
{
    replay_equals_commit(6, HP_TXLOG_FORMAT_NEW);
}
END_TEST

START_TEST(old_format_replay_equals_commit)
{
    replay_equals_commit(1, HP_TXLOG_FORMAT_OLD);
}
END_TEST

static int commit_port(const char *hive, unsigned flags, uint32_t port, const char *backup, const char **why)
{
    static char report[512];
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | flags, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, ntds(), HIVEPORT_CS_ALL, port, 0), HIVEPORT_OK);
    int rc = hiveport_commit(h, backup);
    const char *r;
    int method = hiveport_commit_method(h, &r);
    snprintf(report, sizeof report, "%s%s%s", r, rc != HIVEPORT_OK ? " / " : "", rc != HIVEPORT_OK ? hiveport_errmsg(h) : "");
    if (why != NULL)
        *why = report;
    hiveport_close(h);
    return rc != HIVEPORT_OK ? -rc : method;
}

START_TEST(auto_log_copy)
{
    const char *why;
    /* No logs: auto copies, log refuses and writes nothing. */
    char *hive = hive_with_logs(0);
    ck_assert_int_eq(commit_port(hive, 0, 6002, NULL, &why), HIVEPORT_COMMIT_COPY);
    ck_assert_ptr_nonnull(strstr(why, "no transaction logs"));
    size_t a_len, b_len;
    unsigned char *a = tu_read(hive, &a_len);
    ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_LOG, 6003, NULL, &why), -HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(why, "a logged commit was asked for"));
    unsigned char *b = tu_read(hive, &b_len);
    ck_assert(a_len == b_len && memcmp(a, b, a_len) == 0);
    free(a);
    free(b);
    ck_assert_uint_eq(get_ntds(hive), 6002);

    /* Logs: auto logs; a backup, or the copy flag, copies (and leaves the logs alone). */
    char *log1 = path_in("SYSTEM.LOG1"), *log2 = path_in("SYSTEM.LOG2"), *bak = path_in("SYSTEM.bak");
    make_log(hive, log1, 6);
    write_bytes(log2, (const unsigned char *)"", 0);
    ck_assert_int_eq(commit_port(hive, 0, 6004, NULL, &why), HIVEPORT_COMMIT_LOG);
    ck_assert_ptr_nonnull(strstr(why, "SYSTEM.LOG2")); /* LOG1 holds the latest base block: LOG2 is next */
    ck_assert_int_eq(commit_port(hive, 0, 6005, NULL, &why), HIVEPORT_COMMIT_LOG);
    ck_assert_ptr_nonnull(strstr(why, "SYSTEM.LOG1")); /* and back */
    a = tu_read(log1, &a_len);
    ck_assert_int_eq(commit_port(hive, 0, 6006, bak, &why), HIVEPORT_COMMIT_COPY);
    ck_assert_ptr_nonnull(strstr(why, "backup"));
    ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_COPY, 6007, NULL, &why), HIVEPORT_COMMIT_COPY);
    b = tu_read(log1, &b_len);
    ck_assert(a_len == b_len && memcmp(a, b, a_len) == 0);
    ck_assert_uint_eq(get_ntds(hive), 6007);
    ck_assert_uint_eq(get_ntds(bak), 6005);
    free(a);
    free(b);

    /* Logs of no known format (garbage headers): auto copies, log refuses. */
    write_bytes(log1, (const unsigned char *)"not a log", 9);
    write_bytes(log2, (const unsigned char *)"nor this", 8);
    ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_LOG, 6008, NULL, &why), -HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(why, "valid header"));
    ck_assert_int_eq(commit_port(hive, 0, 6009, NULL, &why), HIVEPORT_COMMIT_COPY);

    /* Both flags: refused at open. */
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_LOG | HIVEPORT_OPEN_COMMIT_COPY, &h),
                     HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
    free(log1);
    free(log2);
    free(bak);
    free(hive);
}
END_TEST

/* The same hive, logs and edits give the same bytes in the primary and the logs (SOURCE_DATE_EPOCH). */
START_TEST(reproducible)
{
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    char *hive = hive_with_logs(6);
    char *names[3] = {"SYSTEM", "SYSTEM.LOG1", "SYSTEM.LOG2"};
    unsigned char *first[3] = {NULL}, *start[3] = {NULL};
    size_t first_len[3], start_len[3];
    for (int i = 0; i < 3; i++) {
        char *p = path_in(names[i]);
        start[i] = tu_read(p, &start_len[i]);
        free(p);
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++) {
            char *p = path_in(names[i]);
            write_bytes(p, start[i], start_len[i]);
            free(p);
        }
        ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_LOG, 6100, NULL, NULL), HIVEPORT_COMMIT_LOG);
        ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_LOG, 6101, NULL, NULL), HIVEPORT_COMMIT_LOG);
        for (int i = 0; i < 3; i++) {
            char *p = path_in(names[i]);
            size_t len;
            unsigned char *now = tu_read(p, &len);
            if (round == 0) {
                first[i] = now;
                first_len[i] = len;
            } else {
                ck_assert_msg(len == first_len[i] && memcmp(now, first[i], len) == 0, "%s differs", names[i]);
                free(now);
            }
            free(p);
        }
    }
    /* The copy commit of the same edits writes the same primary. */
    for (int i = 0; i < 3; i++) {
        char *p = path_in(names[i]);
        write_bytes(p, start[i], start_len[i]);
        free(p);
    }
    ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_COPY, 6100, NULL, NULL), HIVEPORT_COMMIT_COPY);
    ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_COPY, 6101, NULL, NULL), HIVEPORT_COMMIT_COPY);
    size_t copy_len;
    unsigned char *copy = tu_read(hive, &copy_len);
    ck_assert_msg(copy_len == first_len[0] && memcmp(copy, first[0], copy_len) == 0,
                  "the copy commit and the logged commit write different hives");
    free(copy);
    for (int i = 0; i < 3; i++) {
        free(first[i]);
        free(start[i]);
    }
    free(hive);
    unsetenv("SOURCE_DATE_EPOCH");
}
END_TEST

/* A dirty hive with usable logs is replayed first, and its commit is a copy (the recovered hive whole). */
START_TEST(replayed_hive_is_copied)
{
    char *hive = path_in("SYSTEM"), *log = path_in("SYSTEM.LOG1");
    ck_assert_int_eq(tu_copy(tu_fixture_path("system-logged"), hive), 0);
    char src[4096];
    snprintf(src, sizeof src, "%s.LOG1", tu_fixture_path("system-logged"));
    ck_assert_int_eq(tu_copy(src, log), 0);
    const char *why;
    ck_assert_int_eq(commit_port(hive, 0, 6200, NULL, &why), HIVEPORT_COMMIT_COPY);
    ck_assert_ptr_nonnull(strstr(why, "recovered"));
    ck_assert_uint_eq(get_ntds(hive), 6200);
    ck_assert_int_eq(tu_same_bytes(src, log), 1); /* the logs are left as they were */
    free(hive);
    free(log);
}
END_TEST

static int open_with_timeout(const char *path, unsigned flags, int timeout_ms, hiveport **h)
{
    hiveport_options o;
    hiveport_options_init(&o);
    o.flags = flags;
    o.lock_timeout_ms = timeout_ms;
    return hiveport_open_ext(path, &o, h);
}

/* Readers hold a shared lock: a logged commit waits for them (--commit log: HIVEPORT_E_LOCKED after the
 * timeout), auto copies instead; a reader waits for an in-place commit; a read-only file is still read. */
START_TEST(readers_and_in_place_commits)
{
    char *hive = hive_with_logs(6);
    hiveport *reader, *w;
    ck_assert_int_eq(hiveport_open(hive, 0, &reader), HIVEPORT_OK);
    ck_assert_int_eq(open_with_timeout(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_LOG, 100, &w), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(w, ntds(), HIVEPORT_CS_ALL, 6301, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(w, NULL), HIVEPORT_E_LOCKED);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(w), "readers hold the hive open"));
    hiveport_close(w);
    const char *why;
    ck_assert_int_eq(commit_port(hive, 0, 6302, NULL, &why), HIVEPORT_COMMIT_COPY);
    ck_assert_ptr_nonnull(strstr(why, "readers hold the hive open"));
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_get_port(reader, ntds(), 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 5000); /* the reader keeps the file it opened */
    hiveport_close(reader);
    ck_assert_int_eq(commit_port(hive, 0, 6303, NULL, &why), HIVEPORT_COMMIT_LOG);

    /* An in-place commit under way (its exclusive lock, taken here by hand): a reader waits, then gives up. */
    int fd = open(hive, O_RDWR);
    ck_assert_int_ge(fd, 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
    ck_assert_int_eq(open_with_timeout(hive, 0, 100, &reader), HIVEPORT_E_LOCKED);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(reader), "committing it in place"));
    hiveport_close(reader);
    close(fd);
    ck_assert_int_eq(chmod(hive, 0444), 0);
    ck_assert_uint_eq(get_ntds(hive), 6303);
    free(hive);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("logcommit");
    TCase *tc = tcase_create("logcommit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, new_format_replay_equals_commit);
    tcase_add_test(tc, old_format_replay_equals_commit);
    tcase_add_test(tc, auto_log_copy);
    tcase_add_test(tc, reproducible);
    tcase_add_test(tc, replayed_hive_is_copied);
    tcase_add_test(tc, readers_and_in_place_commits);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
