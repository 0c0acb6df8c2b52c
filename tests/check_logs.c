/* check_logs.c: dirty hives with transaction logs: replay on open, reads that see the logged changes,
 * writes that keep them, copies of the recovered hive, and refusals when logs are unusable. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "hvlelog.h"
#include "internal.h"
#include "suite.h"
#include "testutil.h"
#include "txlog.h"
#include "le.h"

static char *path_in(const char *name)
{
    return tu_path_in(tu_dir, name);
}

static void write_bytes(const char *path, const unsigned char *data, size_t len)
{
    ck_assert_int_eq(tu_write(path, data, len), 0);
}

/* Makes dir/NAME a dirty copy of fixture `before` whose new-format log NAME.LOG1 holds the change to
 * `after` (the fixture with ntds set to 7000), the way Windows 8.1+ leaves a hive between a log write
 * and the primary file's update: primary sequence one ahead of the secondary.  The log's path in *log_out
 * (the caller frees it) unless log_out is NULL. */
static char *dirty_with_log(const char *name, const char *log_name, uint32_t new_port, char **log_out)
{
    char *hive = path_in(name), *after = path_in("after.tmp");
    ck_assert_int_eq(tu_copy(tu_fixture_path("system-basic"), hive), 0);
    ck_assert_int_eq(tu_copy(hive, after), 0);
    hiveport *h = tu_open_or_fail(after, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), 1, new_port, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);

    size_t a_len, b_len;
    unsigned char *a = tu_read(hive, &a_len), *b = tu_read(after, &b_len);
    ck_assert_uint_eq(a_len, b_len);
    uint32_t secondary;
    memcpy(&secondary, a + 8, 4);
    uint32_t seq = secondary + 1;

    /* The log: a 512-byte base block (type 6, both numbers = first entry) and one HvLE entry holding
     * every 4 KiB page of the hive bins that differs. */
    size_t log_len;
    unsigned char *log = tu_hvle_log(a, a, a_len, b, b_len, seq, &log_len);
    ck_assert_ptr_nonnull(log);
    char *log_path = path_in(log_name);
    write_bytes(log_path, log, log_len);

    /* The primary: the old bytes, its primary sequence number advanced (a write began, never finished). */
    hp_put_le32(a + 0x04, seq);
    hp_put_le32(a + 0x1FC, hp_regf_checksum(a));
    write_bytes(hive, a, a_len);
    unlink(after);
    free(log);
    free(a);
    free(b);
    free(after);
    if (log_out != NULL)
        *log_out = log_path;
    else
        free(log_path);
    return hive;
}

static uint32_t get_ntds(hiveport *h)
{
    uint32_t port = 0;
    int rc = hiveport_get_port(h, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, &port);
    ck_assert_msg(rc == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    return port;
}

/* hive opened read-only with the options o (hiveport_open's defaults when NULL): its log state is state, its
 * log report holds report (when not NULL) and ntds reads port. */
static void expect_log_state(const char *hive, const hiveport_options *o, int state, const char *report,
                             uint32_t port)
{
    hiveport *h = NULL;
    int rc = o != NULL ? hiveport_open_ext(hive, o, &h) : hiveport_open(hive, 0, &h);
    ck_assert_msg(rc == HIVEPORT_OK, "open %s: %s", hive, hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_log_state(h, NULL), state);
    if (report != NULL)
        ck_assert_ptr_nonnull(strstr(hiveport_log_report(h), report));
    ck_assert_uint_eq(get_ntds(h), port);
    hiveport_close(h);
}

START_TEST(read_replays_logs_found_case_insensitively)
{
    char *hive = dirty_with_log("SYSTEM", "system.log1", 7000, NULL);
    char *orig = path_in("orig");
    ck_assert_int_eq(tu_copy(hive, orig), 0);
    hiveport *h = tu_open_or_fail(hive, 0);
    ck_assert_int_eq(hiveport_is_dirty(h), 1);
    unsigned entries = 0;
    ck_assert_int_eq(hiveport_log_state(h, &entries), HIVEPORT_LOGS_REPLAYED);
    ck_assert_uint_eq(entries, 1);
    ck_assert_ptr_nonnull(strstr(hiveport_log_report(h), "replayed 1 log entry from"));
    ck_assert_ptr_nonnull(strstr(hiveport_log_report(h), "system.log1"));
    ck_assert_uint_eq(get_ntds(h), 7000); /* the primary file alone still says 5005 */
    hiveport_findings *f;
    ck_assert_int_eq(hiveport_audit(h, NULL, &f), HIVEPORT_OK);
    const hiveport_finding *dirty = NULL;
    for (size_t i = 0; i < hiveport_findings_count(f); i++)
        if (strcmp(hiveport_findings_at(f, i)->code, "hive-dirty") == 0)
            dirty = hiveport_findings_at(f, i);
    ck_assert_ptr_nonnull(dirty);
    ck_assert_int_eq(dirty->severity, HIVEPORT_SEVERITY_INFO); /* replayed: the audit saw what Windows would */
    ck_assert_ptr_nonnull(strstr(dirty->message, "were replayed in memory"));
    hiveport_findings_free(f);
    hiveport_close(h);
    ck_assert(tu_same_bytes(hive, orig)); /* reading replayed in memory only */

    hiveport_options o;
    hiveport_options_init(&o);
    o.flags = HIVEPORT_OPEN_NO_LOGS;
    expect_log_state(hive, &o, HIVEPORT_LOGS_IGNORED, NULL, 5005);
    free(orig);
    free(hive);
}
END_TEST

START_TEST(explicit_log_path)
{
    char *log = NULL, *hive = dirty_with_log("hive", "elsewhere.bin", 7001, &log);
    const char *logs[] = {log};
    hiveport_options o;
    hiveport_options_init(&o);
    o.log_paths = logs;
    o.log_path_count = 1;
    expect_log_state(hive, &o, HIVEPORT_LOGS_REPLAYED, NULL, 7001);
    /* not found by name: stale, and says so */
    expect_log_state(hive, NULL, HIVEPORT_LOGS_UNUSABLE, "no transaction logs", 5005);
    hiveport *h;
    o.log_path_count = 9;
    ck_assert_int_eq(hiveport_open_ext(hive, &o, &h), HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
    free(log);
    free(hive);
}
END_TEST

START_TEST(write_keeps_logged_changes)
{
    char *hive = dirty_with_log("SYSTEM", "SYSTEM.LOG1", 7002, NULL);
    hiveport *h = tu_open_or_fail(hive, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("netlogon"), 1, 7100, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(hive, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_is_dirty(h), 0); /* clean now, so Windows ignores the older log */
    ck_assert_int_eq(hiveport_log_state(h, NULL), HIVEPORT_LOGS_CLEAN);
    ck_assert_uint_eq(get_ntds(h), 7002); /* the logged change survived */
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, hiveport_catalog_find("netlogon"), 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 7100);
    hiveport_close(h);
    char *log = path_in("SYSTEM.LOG1");
    ck_assert_int_eq(access(log, F_OK), 0); /* the logs are left as they are */
    free(log);
    free(hive);
}
END_TEST

START_TEST(write_without_usable_logs_refused_unless_discarding)
{
    char *hive = tu_fixture_copy(tu_dir, "dirty");
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_E_DIRTY);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "no transaction logs"));
    hiveport_close(h);
    ck_assert(tu_same_bytes(hive, tu_fixture_path("dirty")));
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_NO_LOGS, &h), HIVEPORT_E_DIRTY);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_DISCARD_LOGS, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_log_state(h, NULL), HIVEPORT_LOGS_UNUSABLE);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), 1, 7200, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(hive, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_is_dirty(h), 0);
    hiveport_close(h);
    free(hive);
}
END_TEST

START_TEST(corrupt_log_is_not_applied)
{
    char *log = NULL, *hive = dirty_with_log("SYSTEM", "SYSTEM.LOG1", 7003, &log);
    size_t len;
    unsigned char *data = tu_read(log, &len);
    data[512 + 0x28 + 8 + 100] ^= 0xFF; /* a byte of page data: Hash-1 no longer matches */
    write_bytes(log, data, len);
    expect_log_state(hive, NULL, HIVEPORT_LOGS_UNUSABLE, NULL, 5005);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(hive, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_E_DIRTY);
    hiveport_close(h);
    free(data);
    free(log);
    free(hive);
}
END_TEST

START_TEST(clean_hive_ignores_logs)
{
    char *log = NULL, *hive = dirty_with_log("SYSTEM", "SYSTEM.LOG1", 7004, &log);
    char *clean = path_in("CLEAN"), *clean_log = path_in("CLEAN.LOG1");
    ck_assert_int_eq(tu_copy(tu_fixture_path("system-basic"), clean), 0);
    ck_assert_int_eq(tu_copy(log, clean_log), 0);
    hiveport *h = tu_open_or_fail(clean, 0);
    ck_assert_int_eq(hiveport_log_state(h, NULL), HIVEPORT_LOGS_CLEAN);
    ck_assert_str_eq(hiveport_log_report(h), "");
    ck_assert_uint_eq(get_ntds(h), 5005);
    hiveport_close(h);
    free(clean);
    free(log);
    free(clean_log);
    free(hive);
}
END_TEST

START_TEST(save_copy_writes_recovered_hive)
{
    char *hive = dirty_with_log("SYSTEM", "SYSTEM.LOG1", 7005, NULL);
    char *out = path_in("recovered");
    hiveport *h = tu_open_or_fail(hive, 0);
    ck_assert_int_eq(hiveport_save_copy(h, out), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_save_copy(h, out), HIVEPORT_E_INVALID_ARG); /* never over a file */
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "already exists"));
    ck_assert_int_eq(hiveport_save_copy(h, hive), HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(out, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_is_dirty(h), 0);
    ck_assert_uint_eq(get_ntds(h), 7005);
    hiveport_close(h);

    char *stale = path_in("stale");
    ck_assert_int_eq(hiveport_open(tu_fixture_path("dirty"), 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_save_copy(h, stale), HIVEPORT_E_DIRTY);
    hiveport_close(h);
    ck_assert_int_ne(access(stale, F_OK), 0);
    free(stale);
    free(out);
    free(hive);
}
END_TEST

/* Windows' own recovery of two small hives is the reference: the hive bins must match it exactly. */
START_TEST(matches_windows_recovery)
{
    static const struct {
        const char *hive, *logs[2], *recovered;
    } cases[] = {
        {"txlog/new-format/NewDirtyHive", {"txlog/new-format/NewDirtyHive.LOG1", "txlog/new-format/NewDirtyHive.LOG2"},
         "txlog/new-format/RecoveredHive_Windows10"},
        {"txlog/old-format/OldDirtyHive", {"txlog/old-format/OldDirtyHive.LOG1", NULL},
         "txlog/old-format/RecoveredHive_Windows7"},
    };
    for (size_t c = 0; c < 2; c++) {
        char *hive = tu_real_hive(tu_dir, cases[c].hive);
        if (hive == NULL)
            return;
        /* Named as Windows names them, so that they are found next to the hive. */
        char *moved = path_in(c == 0 ? "NewDirtyHive" : "OldDirtyHive");
        ck_assert_int_eq(rename(hive, moved), 0);
        for (size_t l = 0; l < 2 && cases[c].logs[l]; l++) {
            char *log = tu_real_hive(tu_dir, cases[c].logs[l]);
            char *named = NULL;
            if (asprintf(&named, "%s.LOG%zu", moved, l + 1) < 0)
                abort();
            ck_assert_int_eq(rename(log, named), 0);
            free(log);
            free(named);
        }
        char *want = tu_real_hive(tu_dir, cases[c].recovered), *got = path_in("got");
        unlink(got);
        hiveport *h = tu_open_or_fail(moved, 0);
        ck_assert_int_eq(hiveport_log_state(h, NULL), HIVEPORT_LOGS_REPLAYED);
        ck_assert_int_eq(hiveport_save_copy(h, got), HIVEPORT_OK);
        hiveport_close(h);
        size_t got_len, want_len;
        unsigned char *g = tu_read(got, &got_len), *w = tu_read(want, &want_len);
        uint32_t hbins;
        memcpy(&hbins, w + 0x28, 4);
        if (c == 1) {
            /* Windows 7 wrote its recovered hive twice more, changing two fields: the first bin's time
             * and one key's largest-value-name length (see check_txlog.c).  Everything else must match. */
            memcpy(g + 0x1014, w + 0x1014, 8);
            memcpy(g + 0x6BDC8, w + 0x6BDC8, 4);
        }
        ck_assert_uint_ge(got_len, 4096 + (size_t)hbins);
        ck_assert_msg(memcmp(g + 4096, w + 4096, hbins) == 0, "%s: hive bins differ from Windows'", cases[c].hive);
        free(g);
        free(w);
        free(want);
        free(got);
        free(moved);
        free(hive);
    }
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {read_replays_logs_found_case_insensitively, explicit_log_path,
                                  write_keeps_logged_changes, write_without_usable_logs_refused_unless_discarding,
                                  corrupt_log_is_not_applied, clean_hive_ignores_logs,
                                  save_copy_writes_recovered_hive, matches_windows_recovery, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "logs", "logs", 60, tu_setup_dir, tu_teardown_dir);
    return tu_run_tests(s, tc, tests);
}
