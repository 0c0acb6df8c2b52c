/* check_logcommit.c: the logged commit (issue 21): a commit through the hive's own transaction log, in place.
 *
 * The central test: the log a commit writes, replayed by our own replay (hp_txlog_replay) over the primary
 * as it stands once marked dirty, gives exactly the bytes of the finished commit, in both log formats.
 * Then: which commit runs (auto, log, copy), which log is written, reproducible bytes. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "hivecheck.h"
#include "internal.h"
#include "pageset.h"
#include "suite.h"
#include "testutil.h"
#include "le.h"

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

static char *path_in(const char *name)
{
    return tu_path_in(dir, name);
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
        tu_make_log(hive, log1, type);
        tu_write_file(log2, (const unsigned char *)"", 0);
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
    uint32_t seq = hp_le32(ps.base_block + 4);
    ck_assert_int_eq(want_format == HP_TXLOG_FORMAT_NEW ? hp_logwrite_new(ps.base_block, seq, &pg, &log, &log_len)
                                                        : hp_logwrite_old(ps.base_block, seq, &pg, &log, &log_len),
                     HIVEPORT_OK);

    /* The primary as it stands after step 2: old pages, dirty base block. */
    size_t before_len;
    unsigned char *image = tu_read(hive, &before_len);
    uint32_t old_seq = hp_le32(image + 8);
    ck_assert_uint_eq(seq, old_seq + 1);
    memcpy(image, ps.base_block, 512);
    hp_put_le32(image + 8, old_seq);
    hp_put_le32(image + 0x1FC, hp_regf_checksum(image));
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
    tu_make_log(hive, log1, 6);
    tu_write_file(log2, (const unsigned char *)"", 0);
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
    tu_write_file(log1, (const unsigned char *)"not a log", 9);
    tu_write_file(log2, (const unsigned char *)"nor this", 8);
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

/* The primary and its two logs, as reproducible reads and writes them. */
static const char *const hive_and_logs[3] = {"SYSTEM", "SYSTEM.LOG1", "SYSTEM.LOG2"};

/* Reads the three files (hive_and_logs) into data and len. */
static void read_hive_and_logs(unsigned char *data[3], size_t len[3])
{
    for (int i = 0; i < 3; i++) {
        char *p = path_in(hive_and_logs[i]);
        data[i] = tu_read(p, &len[i]);
        free(p);
    }
}

/* Writes the three files (hive_and_logs) back as data and len hold them. */
static void write_hive_and_logs(unsigned char *const data[3], const size_t len[3])
{
    for (int i = 0; i < 3; i++) {
        char *p = path_in(hive_and_logs[i]);
        tu_write_file(p, data[i], len[i]);
        free(p);
    }
}

/* The same hive, logs and edits give the same bytes in the primary and the logs (SOURCE_DATE_EPOCH). */
START_TEST(reproducible)
{
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    char *hive = hive_with_logs(6);
    unsigned char *first[3] = {NULL}, *start[3] = {NULL};
    size_t first_len[3], start_len[3];
    read_hive_and_logs(start, start_len);
    for (int round = 0; round < 2; round++) {
        write_hive_and_logs(start, start_len);
        ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_LOG, 6100, NULL, NULL), HIVEPORT_COMMIT_LOG);
        ck_assert_int_eq(commit_port(hive, HIVEPORT_OPEN_COMMIT_LOG, 6101, NULL, NULL), HIVEPORT_COMMIT_LOG);
        if (round == 0) {
            read_hive_and_logs(first, first_len);
            continue;
        }
        unsigned char *now[3];
        size_t len[3];
        read_hive_and_logs(now, len);
        for (int i = 0; i < 3; i++) {
            ck_assert_msg(len[i] == first_len[i] && memcmp(now[i], first[i], len[i]) == 0, "%s differs",
                          hive_and_logs[i]);
            free(now[i]);
        }
    }
    /* The copy commit of the same edits writes the same primary. */
    write_hive_and_logs(start, start_len);
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

/* libhivex finds ControlSet001\Services\KEY\Parameters with the DWORD Port = want. */
static void assert_hivex_port(const char *hive, const char *key, uint32_t want)
{
    hive_h *hv = hivex_open(hive, 0);
    ck_assert_ptr_nonnull(hv);
    hive_node_h n = hivex_node_get_child(hv, hivex_root(hv), "ControlSet001");
    ck_assert(n != 0);
    n = hivex_node_get_child(hv, n, "Services");
    ck_assert(n != 0);
    n = hivex_node_get_child(hv, n, key);
    ck_assert_msg(n != 0, "libhivex does not find the new key %s", key);
    n = hivex_node_get_child(hv, n, "Parameters");
    ck_assert(n != 0);
    hive_value_h v = hivex_node_get_value(hv, n, "Port");
    ck_assert_msg(v != 0, "libhivex does not find %s\\Parameters:Port", key);
    errno = 0;
    int32_t got = hivex_value_dword(hv, v);
    ck_assert_int_eq(errno, 0);
    ck_assert_uint_eq((uint32_t)got, want);
    hivex_close(hv);
}

/* The primary as step 2 of a logged commit leaves it: the old pages (before, before_len bytes) under the new
 * base block (after's) with the secondary sequence number and hive-bins size of the old one (dirty). */
static unsigned char *dirty_primary(const unsigned char *before, size_t before_len, const unsigned char *after)
{
    unsigned char *dirty = hp_malloc(before_len);
    memcpy(dirty, before, before_len);
    memcpy(dirty, after, 512);
    hp_put_le32(dirty + 0x08, hp_le32(before + 0x04));
    hp_put_le32(dirty + 0x28, hp_le32(before + 0x28));
    hp_put_le32(dirty + 0x1FC, hp_regf_checksum(dirty));
    return dirty;
}

/* Native edits (a new key under Services, and with `grow` 40000 bytes of big data, which the small hive
 * has no room for: a bin is appended) committed through the log: the commit is logged, libhivex reads the
 * new key back, the check passes, and the log on disk replayed over the primary as the dirty mark leaves
 * it (step 2: the new base block, the old secondary number, the hive-bins size of the file as it stood)
 * gives exactly the committed file; opening that dirty file replays it too.  The copy commit of the same
 * edits writes the same bytes.  A second native commit in the same session is logged as well (the
 * session's state was brought up to the file). */
static void native_key_logged(uint32_t type, int want_format, bool grow)
{
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    char *hive = hive_with_logs(type);
    size_t before_len;
    unsigned char *before = tu_read(hive, &before_len);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_OK);
    hiveport_setting s = {.key = "HpLogged\\Parameters", .value_name = "Port", .type = HIVEPORT_REG_DWORD};
    ck_assert_int_eq(hiveport_set_port(h, &s, 1, 4321, 0), HIVEPORT_OK);
    ck_assert(hp_edit_active(h));
    size_t big_len = 40000;
    unsigned char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)(i * 13);
    if (grow)
        ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), 0, "Big", 3, big, big_len), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    const char *report;
    ck_assert_int_eq(hiveport_commit_method(h, &report), HIVEPORT_COMMIT_LOG);
    ck_assert_msg(strstr(report, "logged commit") != NULL, "%s", report);
    ck_assert_msg((strstr(report, "grew") != NULL) == grow, "%s", report);
    char *log_path = strdup(strstr(report, " through ") + 9);
    *strchr(log_path, ' ') = '\0';

    /* The copy commit of the same edits writes the same bytes. */
    char *copy = path_in("COPY");
    tu_write_file(copy, before, before_len);
    hiveport *hc;
    ck_assert_int_eq(hiveport_open(copy, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_COPY, &hc), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(hc, &s, 1, 4321, 0), HIVEPORT_OK);
    if (grow)
        ck_assert_int_eq(hp_edit_value_set(hc, hp_nav_root(hc), 0, "Big", 3, big, big_len), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(hc, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit_method(hc, NULL), HIVEPORT_COMMIT_COPY);
    hiveport_close(hc);
    ck_assert_msg(tu_same_bytes(copy, hive), "the copy commit and the logged commit write different hives");
    free(copy);

    size_t after_len, log_len;
    unsigned char *after = tu_read(hive, &after_len), *log = tu_read(log_path, &log_len);
    if (grow)
        ck_assert_uint_gt(after_len, before_len);
    else
        ck_assert_uint_eq(after_len, before_len);
    ck_assert_uint_eq(hp_le32(after + 0x28) + 4096u, after_len);
    assert_hivex_port(hive, "HpLogged", 4321);
    tu_assert_check_clean(hive);
    if (grow)
        tu_assert_root_value(hive, "Big", big, big_len);

    /* The primary after step 2: the old pages under the dirty base block. */
    unsigned char *image = dirty_primary(before, before_len, after);
    size_t image_len = before_len;
    struct hp_txlog_input in[1] = {{"LOG", log, log_len}};
    struct hp_txlog_result res;
    char why[512];
    ck_assert_int_eq(hp_txlog_replay(&image, &image_len, in, 1, &res, why, sizeof why), HIVEPORT_OK);
    ck_assert_msg(res.format == want_format && res.clean, "%s", why);
    ck_assert_uint_eq(image_len, after_len);
    ck_assert_msg(memcmp(image, after, after_len) == 0, "the replay differs from the commit (%s)", why);

    /* A second native change in the same session: logged again, into the other log (new format). */
    hiveport_setting s2 = {.key = "HpLogged2\\Parameters", .value_name = "Port", .type = HIVEPORT_REG_DWORD};
    ck_assert_int_eq(hiveport_set_port(h, &s2, 1, 4322, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit_method(h, &report), HIVEPORT_COMMIT_LOG);
    hiveport_close(h);
    assert_hivex_port(hive, "HpLogged", 4321);
    assert_hivex_port(hive, "HpLogged2", 4322);
    tu_assert_check_clean(hive);

    /* The dirty file of step 2 beside its logs (as a crash there leaves it): opening it replays the log. */
    unsigned char *dirty = dirty_primary(before, before_len, after);
    tu_write_file(hive, dirty, before_len);
    tu_write_file(log_path, log, log_len);
    char *other = path_in(strstr(log_path, "LOG1") ? "SYSTEM.LOG2" : "SYSTEM.LOG1");
    tu_write_file(other, (const unsigned char *)"", 0);
    ck_assert_int_eq(hiveport_open(hive, 0, &h), HIVEPORT_OK);
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_get_port(h, &s, 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 4321);
    hiveport_close(h);

    hp_free(image);
    hp_free(dirty);
    free(other);
    free(before);
    free(after);
    free(log);
    free(log_path);
    free(big);
    free(hive);
    unsetenv("SOURCE_DATE_EPOCH");
}

/* The check before a logged commit of native edits covers what the edits touched, not the whole hive
 * (check_touched.c): damage planted there is still refused, the hive and its logs left as they were.
 * kind 0: the new key's subkey count one too high; 1: a cell size in a changed page broken; 2: the new
 * key's security cell reference pointing at its own record. */
static bool file_holds(const char *path, const unsigned char *data, size_t len)
{
    size_t n;
    unsigned char *now = tu_read(path, &n);
    bool same = n == len && (len == 0 || memcmp(now, data, len) == 0);
    free(now);
    return same;
}

static void touched_damage_refused(int kind)
{
    char *hive = hive_with_logs(6), *log1 = path_in("SYSTEM.LOG1"), *log2 = path_in("SYSTEM.LOG2");
    size_t before_len, log1_len, log2_len;
    unsigned char *before = tu_read(hive, &before_len), *l1 = tu_read(log1, &log1_len), *l2 = tu_read(log2, &log2_len);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_LOG, &h), HIVEPORT_OK);
    hiveport_setting s = {.key = "HpTouched\\Parameters", .value_name = "Port", .type = HIVEPORT_REG_DWORD};
    ck_assert_int_eq(hiveport_set_port(h, &s, 1, 4321, 0), HIVEPORT_OK);
    ck_assert(hp_edit_active(h));
    hive_node_h key = hp_nav_root(h);
    const char *path[] = {"ControlSet001", "Services", "HpTouched"};
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(hp_nav_child(h, key, path[i], &key), HIVEPORT_OK);
    ck_assert(key != 0);
    struct hp_regf_edit *e = h->edit;
    if (kind == 0) {
        hp_regf_put32(e, key + 4 + 0x14, hp_regf_get32(e, key + 4 + 0x14) + 1);
    } else if (kind == 1) {
        uint64_t next = key + (uint64_t)(0u - hp_regf_get32(e, key)); /* the cell after the new key's */
        hp_regf_put32(e, next, 3);
    } else {
        hp_regf_put32(e, key + 4 + 0x2C, (uint32_t)(key - 4096));
    }
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_E_CORRUPT);
    const char *code = kind == 0 ? "nk-subkey-count" : kind == 1 ? "cell-size" : "sk-ref";
    ck_assert_msg(strstr(hiveport_errmsg(h), "refusing to commit") != NULL && strstr(hiveport_errmsg(h), code) != NULL,
                  "%s", hiveport_errmsg(h));
    hiveport_close(h);
    size_t after_len;
    unsigned char *after = tu_read(hive, &after_len);
    ck_assert_msg(after_len == before_len && memcmp(after, before, before_len) == 0, "the refused commit changed the hive");
    ck_assert_msg(file_holds(log1, l1, log1_len) && file_holds(log2, l2, log2_len),
                  "the refused commit changed a log");
    free(after);
    free(before);
    free(l1);
    free(l2);
    free(log1);
    free(log2);
    free(hive);
}

START_TEST(touched_damage)
{
    touched_damage_refused(_i);
}
END_TEST

/* The file offset of the lh hash of child's entry in parent's index root (ri of lh leaves), 0 if absent. */
static size_t ri_entry_hash(const unsigned char *b, uint64_t parent, uint64_t child)
{
    uint64_t ri = 0x1000 + (uint64_t)hp_le32(b + parent + 4 + 0x1C) + 4;
    ck_assert_msg(b[ri] == 'r' && b[ri + 1] == 'i', "the list is not an index root");
    for (unsigned i = 0; i < hp_le16(b + ri + 2); i++) {
        uint64_t leaf = 0x1000 + (uint64_t)hp_le32(b + ri + 4 + 4 * i) + 4;
        for (unsigned k = 0; b[leaf] == 'l' && b[leaf + 1] == 'h' && k < hp_le16(b + leaf + 2); k++)
            if (0x1000 + (uint64_t)hp_le32(b + leaf + 4 + 8 * k) == child)
                return (size_t)(leaf + 4 + 8 * k + 4);
    }
    return 0;
}

/* Breaks the lh hash of Many\name's entry in the hive file at hive. */
static void break_hash(const char *hive, const char *name)
{
    hiveport *h = tu_open_or_fail(hive, 0);
    hive_node_h many = hp_nav_root(h), child = 0;
    const char *path[] = {"ControlSet001", "Services", "Many"};
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(hp_nav_child(h, many, path[i], &many), HIVEPORT_OK);
    ck_assert_int_eq(hp_nav_child(h, many, name, &child), HIVEPORT_OK);
    ck_assert(many != 0 && child != 0);
    hiveport_close(h);
    size_t len;
    unsigned char *b = tu_read(hive, &len);
    size_t at = ri_entry_hash(b, many, child);
    ck_assert_uint_ne(at, 0);
    b[at] ^= 1;
    tu_write_file(hive, b, len);
    free(b);
}

/* Sets Many\name:Port by a logged commit; a refusal must name the finding refusal. */
static int set_many(const char *hive, const char *name, const char *refusal)
{
    char key[64];
    snprintf(key, sizeof key, "Many\\%s", name);
    hiveport_setting s = {.key = key, .value_name = "Port", .type = HIVEPORT_REG_DWORD};
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_LOG, &h), HIVEPORT_OK);
    int rc = hiveport_set_port(h, &s, 1, 4321, 0);
    if (rc == HIVEPORT_OK)
        rc = hiveport_commit(h, NULL);
    ck_assert_msg(rc == HIVEPORT_OK || strstr(hiveport_errmsg(h), refusal) != NULL, "%s", hiveport_errmsg(h));
    hiveport_close(h);
    return rc;
}

/* system-basic with Services\Many holding K0000..K1199 (an index root of three leaves), and logs beside
 * it; its path. */
static char *many_hive(void)
{
    char *hive = hive_with_logs(0), *log1 = path_in("SYSTEM.LOG1"), *log2 = path_in("SYSTEM.LOG2");
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_COPY, &h), HIVEPORT_OK);
    char key[64];
    hiveport_setting s = {.key = key, .value_name = "Port", .type = HIVEPORT_REG_DWORD};
    for (unsigned i = 0; i < 1200; i++) {
        snprintf(key, sizeof key, "Many\\K%04u", i);
        ck_assert_int_eq(hiveport_set_port(h, &s, 1, 1000 + i, 0), HIVEPORT_OK);
    }
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_make_log(hive, log1, 6);
    tu_write_file(log2, (const unsigned char *)"", 0);
    free(log1);
    free(log2);
    return hive;
}

/* A key added to a list of 1200 (an index root of three leaves): the check before the logged commit
 * reads the leaf the key went into, not the others (check_keys.c), so damage in a leaf the change did not
 * write does not stop it, while damage in the leaf it wrote does. */
START_TEST(touched_check_reads_written_leaves)
{
    char *hive = many_hive();
    break_hash(hive, "K0000"); /* in the first leaf */
    ck_assert_int_eq(set_many(hive, "K9999", "lh-hash"), HIVEPORT_OK); /* goes into the last */
    hive_h *hv = hivex_open(hive, 0); /* libhivex reads the new key */
    ck_assert_ptr_nonnull(hv);
    hive_node_h n = hivex_root(hv);
    const char *path[] = {"ControlSet001", "Services", "Many", "K9999"};
    for (size_t i = 0; i < 4 && n != 0; i++)
        n = hivex_node_get_child(hv, n, path[i]);
    ck_assert(n != 0);
    ck_assert_int_eq(hivex_value_dword(hv, hivex_node_get_value(hv, n, "Port")), 4321);
    hivex_close(hv);
    break_hash(hive, "K1199"); /* in the last leaf, which the next key goes into too */
    size_t before_len;
    unsigned char *before = tu_read(hive, &before_len);
    ck_assert_int_eq(set_many(hive, "K9998", "lh-hash"), HIVEPORT_E_CORRUPT);
    ck_assert_msg(file_holds(hive, before, before_len), "the refused commit changed the hive");
    free(before);
    free(hive);
}
END_TEST

/* The offsets of Services\Many's nk and of its index root in the hive file b (len bytes). */
static void many_list(const char *hive, uint64_t *many, uint64_t *ri)
{
    hiveport *h = tu_open_or_fail(hive, 0);
    hive_node_h n = hp_nav_root(h);
    const char *path[] = {"ControlSet001", "Services", "Many"};
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(hp_nav_child(h, n, path[i], &n), HIVEPORT_OK);
    *many = n;
    *ri = 0x1000 + (uint64_t)hp_le32(h->img.data + n + 4 + 0x1C);
    ck_assert_msg(h->img.data[*ri + 4] == 'r' && h->img.data[*ri + 5] == 'i', "the list is not an index root");
    hiveport_close(h);
}

/* The cell offset of leaf i of the index root at ri, and of that leaf's first key. */
static uint64_t leaf_at(const unsigned char *b, uint64_t ri, unsigned i, uint64_t *first_key)
{
    uint64_t leaf = 0x1000 + (uint64_t)hp_le32(b + ri + 8 + 4 * i);
    *first_key = 0x1000 + (uint64_t)hp_le32(b + leaf + 8);
    return leaf;
}

/* The same list with its leaves 0 and 1 out of order (the first key of leaf 1 renamed to sort first): the
 * check before a logged commit compares the leaves' names only where the change gave a leaf a new
 * neighbour or wrote one, so a key added to the last leaf commits, one added to leaf 1 is refused. */
START_TEST(touched_check_orders_new_neighbours)
{
    char *hive = many_hive();
    uint64_t many, ri, first;
    many_list(hive, &many, &ri);
    size_t len;
    unsigned char *b = tu_read(hive, &len);
    leaf_at(b, ri, 1, &first);
    ck_assert(b[first + 4 + 0x4C] == 'K'); /* a compressed name */
    char next[64];
    snprintf(next, sizeof next, "%.*sa", (int)hp_le16(b + first + 4 + 0x48), (const char *)b + first + 4 + 0x4C);
    b[first + 4 + 0x4C] = 'A';
    tu_write_file(hive, b, len);
    free(b);

    ck_assert_int_eq(set_many(hive, "K9999", "list-order"), HIVEPORT_OK); /* into the last leaf */
    size_t before_len;
    unsigned char *before = tu_read(hive, &before_len);
    ck_assert_int_eq(set_many(hive, next, "list-order"), HIVEPORT_E_CORRUPT); /* into leaf 1 */
    ck_assert_msg(file_holds(hive, before, before_len), "the refused commit changed the hive");
    free(before);
    free(hive);
}
END_TEST

/* The check itself, given an index root the change wrote: with two leaves it did not write swapped, they
 * are new neighbours, whatever the hive was before, and the order is checked (list-order); written
 * unchanged, it is clean; with leaves 0 and 1 out of order in the hive before (the first key of leaf 1
 * renamed to sort first) and after, they kept each other, which only the hive before shows. */
START_TEST(touched_check_orders_swapped_leaves)
{
    char *hive = many_hive();
    uint64_t many, ri, first;
    many_list(hive, &many, &ri);
    size_t len;
    unsigned char *file = tu_read(hive, &len), *before = malloc(len), *after = malloc(len);
    ck_assert(before != NULL && after != NULL);
    hiveport *h = tu_open_or_fail(hive, 0);
    uint64_t page = ri - ri % 4096;
    leaf_at(file, ri, 1, &first);
    enum { UNCHANGED, SWAPPED, DAMAGED_BEFORE };
    for (int kase = UNCHANGED; kase <= DAMAGED_BEFORE; kase++) {
        memcpy(before, file, len);
        if (kase == DAMAGED_BEFORE)
            before[first + 4 + 0x4C] = 'A';
        memcpy(after, before, len);
        if (kase == SWAPPED) {
            uint32_t leaf0 = hp_le32(after + ri + 8);
            memcpy(after + ri + 8, after + ri + 12, 4);
            hp_put_le32(after + ri + 12, leaf0);
        }
        for (int known = 0; known < 2; known++) {
            hiveport_findings *f = NULL;
            ck_assert_int_eq(hp_check_touched(h, after, len, known ? before : NULL, known ? len : 0, &page, 1, &many,
                                              1, &f),
                             HIVEPORT_OK);
            bool order = false;
            for (size_t i = 0; i < hiveport_findings_count(f); i++)
                order = order || strcmp(hiveport_findings_at(f, i)->code, "list-order") == 0;
            bool want = kase == SWAPPED || (kase == DAMAGED_BEFORE && !known);
            ck_assert_msg(order == want, "case %d, before known %d: %zu findings", kase, known,
                          hiveport_findings_count(f));
            if (!want)
                ck_assert_uint_eq(hiveport_findings_count(f), 0);
            hiveport_findings_free(f);
        }
    }
    hiveport_close(h);
    free(file);
    free(before);
    free(after);
    free(hive);
}
END_TEST

/* _i: bit 0, the old (Vista/7) log format instead of the new; bit 1, a bin appended. */
START_TEST(native_key)
{
    bool old = _i & 1;
    native_key_logged(old ? 1 : 6, old ? HP_TXLOG_FORMAT_OLD : HP_TXLOG_FORMAT_NEW, (_i & 2) != 0);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {new_format_replay_equals_commit, old_format_replay_equals_commit, auto_log_copy,
                                  reproducible, replayed_hive_is_copied, readers_and_in_place_commits,
                                  touched_check_reads_written_leaves, touched_check_orders_new_neighbours,
                                  touched_check_orders_swapped_leaves, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "logcommit", "logcommit", 60, setup, teardown);
    tcase_add_loop_test(tc, native_key, 0, 4);
    tcase_add_loop_test(tc, touched_damage, 0, 3);
    return tu_run_tests(s, tc, tests);
}
