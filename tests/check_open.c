/* check_open.c: opening hives (every refusal, named in the message, file untouched) and control sets. */
#include <check.h>
#include <fcntl.h>
#include <hivex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "suite.h"
#include "testutil.h"

/* Opens path with flags, expects status, checks the message names the file and contains reason, and
 * that the file's bytes are unchanged. */
static void expect_refusal(const char *path, unsigned flags, int status, const char *reason)
{
    char *before = NULL;
    if (asprintf(&before, "%s/before", tu_dir) < 0)
        abort();
    struct stat st;
    int existed = lstat(path, &st) == 0 && S_ISREG(st.st_mode) && tu_copy(path, before) == 0;
    hiveport *h = NULL;
    int rc = hiveport_open(path, flags, &h);
    ck_assert_msg(rc == status, "%s: got %d (%s), want %d", path, rc, hiveport_errmsg(h), status);
    ck_assert_ptr_nonnull(h);
    ck_assert_msg(strstr(hiveport_errmsg(h), path) != NULL, "message \"%s\" does not name %s",
                  hiveport_errmsg(h), path);
    ck_assert_msg(strstr(hiveport_errmsg(h), reason) != NULL, "message \"%s\" lacks \"%s\"",
                  hiveport_errmsg(h), reason);
    /* A failed handle answers nothing but its message. */
    uint32_t n;
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_CURRENT, &n), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_is_dirty(h), -1);
    hiveport_close(h);
    if (existed)
        ck_assert_msg(tu_same_bytes(path, before), "%s changed after a refused open", path);
    unlink(before);
    free(before);
}

START_TEST(open_fixture_read_and_write)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    struct stat before, after;
    ck_assert_int_eq(tu_stat(path, &before), 0);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    ck_assert_str_eq(hiveport_errmsg(h), "");
    ck_assert_str_eq(hiveport_path(h), path);
    ck_assert_int_eq(hiveport_is_dirty(h), 0);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    uint32_t p, s;
    ck_assert_int_eq(hiveport_sequence(h, &p, &s), HIVEPORT_OK);
    ck_assert_uint_eq(p, s);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert_int_eq(tu_stat(path, &after), 0);
    ck_assert(tu_same_mtime(&before, &after));
    ck_assert(tu_same_bytes(path, tu_fixture_path("system-basic")));
    free(path);
}
END_TEST

START_TEST(refuse_damaged_files)
{
    char *truncated = tu_fixture_copy(tu_dir, "truncated");
    expect_refusal(truncated, 0, HIVEPORT_E_TRUNCATED, "the file holds");
    expect_refusal(truncated, HIVEPORT_OPEN_WRITE, HIVEPORT_E_TRUNCATED, "the file holds");
    char *bad_sum = tu_fixture_copy(tu_dir, "bad-checksum");
    expect_refusal(bad_sum, 0, HIVEPORT_E_CHECKSUM, "checksum");
    expect_refusal(bad_sum, HIVEPORT_OPEN_WRITE, HIVEPORT_E_CHECKSUM, "checksum");
    free(truncated);
    free(bad_sum);
}
END_TEST

/* hiveport_open_named(): messages name the hive by its name (a copy extracted from an image), files go by path. */
static void expect_named(const char *path, const char *name, const char *shown)
{
    hiveport *h = NULL;
    ck_assert_int_eq(hiveport_open_named(path, name, NULL, &h), HIVEPORT_E_TRUNCATED);
    const char *msg = hiveport_errmsg(h);
    ck_assert_msg(strncmp(msg, shown, strlen(shown)) == 0 && msg[strlen(shown)] == ':',
                  "message does not start with '%s:': %s", shown, msg);
    if (strcmp(shown, path) != 0)
        ck_assert_msg(strstr(msg, path) == NULL && strstr(msg, tu_dir) == NULL, "message names the file: %s", msg);
    hiveport_close(h);
    /* hiveport_open_ext() names the path. */
    ck_assert_int_eq(hiveport_open_ext(path, NULL, &h), HIVEPORT_E_TRUNCATED);
    ck_assert_msg(strncmp(hiveport_errmsg(h), path, strlen(path)) == 0, "message: %s", hiveport_errmsg(h));
    hiveport_close(h);
}

START_TEST(named_hive_messages)
{
    static const char name[] = "install.wim:2:Windows/System32/config/SYSTEM";
    char *truncated = tu_fixture_copy(tu_dir, "truncated");
    expect_named(truncated, name, name);
    expect_named(truncated, NULL, truncated);
    expect_named(truncated, "", truncated);

    /* The logs found beside a named hive take its name (with their own spelling of the suffix); the handle
     * still reads and reports its path. */
    char *dirty = tu_fixture_copy(tu_dir, "dirty"), *log = NULL;
    if (asprintf(&log, "%s.log1", dirty) < 0)
        abort();
    ck_assert_int_eq(tu_write(log, "not a log", 9), 0);
    hiveport *h = NULL;
    ck_assert_int_eq(hiveport_open_named(dirty, name, NULL, &h), HIVEPORT_OK);
    ck_assert_str_eq(hiveport_path(h), dirty);
    ck_assert_str_eq(hiveport_name(h), name);
    const char *report = hiveport_log_report(h);
    ck_assert_msg(strstr(report, "install.wim:2:Windows/System32/config/SYSTEM.log1") != NULL &&
                      strstr(report, tu_dir) == NULL, "log report: %s", report);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(dirty, 0, &h), HIVEPORT_OK); /* without a name: the log's path */
    ck_assert_str_eq(hiveport_name(h), dirty);
    report = hiveport_log_report(h);
    ck_assert_msg(strstr(report, log) != NULL, "log report: %s", report);
    hiveport_close(h);
    /* A write refused for the dirty hive names it too. */
    hiveport_options opts;
    hiveport_options_init(&opts);
    opts.flags = HIVEPORT_OPEN_WRITE;
    ck_assert_int_eq(hiveport_open_named(dirty, name, &opts, &h), HIVEPORT_E_DIRTY);
    ck_assert_msg(strncmp(hiveport_errmsg(h), name, sizeof name - 1) == 0 && strstr(hiveport_errmsg(h), tu_dir) == NULL,
                  "message: %s", hiveport_errmsg(h));
    hiveport_close(h);
    free(log);
    free(dirty);
    free(truncated);
}
END_TEST

/* A named hive is written through its path, by either commit; the logged one's report names the log
 * NAME.LOG1 or NAME.LOG2. */
START_TEST(named_hive_commits)
{
    static const char name[] = "install.wim:2:Windows/System32/config/SYSTEM";
    const hiveport_setting *ntds = hiveport_catalog_find("ntds");
    for (int logged = 0; logged < 2; logged++) {
        char *path = tu_fixture_copy(tu_dir, "system-basic"), *log1 = NULL, *log2 = NULL;
        if (asprintf(&log1, "%s.LOG1", path) < 0 || asprintf(&log2, "%s.LOG2", path) < 0)
            abort();
        if (logged) {
            tu_make_log(path, log1, 6);
            tu_write_file(log2, (const unsigned char *)"", 0);
        }
        hiveport_options opts;
        hiveport_options_init(&opts);
        opts.flags = HIVEPORT_OPEN_WRITE;
        hiveport *h = NULL;
        ck_assert_int_eq(hiveport_open_named(path, name, &opts, &h), HIVEPORT_OK);
        ck_assert_int_eq(hiveport_set_port(h, ntds, HIVEPORT_CS_CURRENT, 6123, 0), HIVEPORT_OK);
        ck_assert_msg(hiveport_commit(h, NULL) == HIVEPORT_OK, "commit: %s", hiveport_errmsg(h));
        const char *report = NULL;
        ck_assert_int_eq(hiveport_commit_method(h, &report), logged ? HIVEPORT_COMMIT_LOG : HIVEPORT_COMMIT_COPY);
        if (logged)
            ck_assert_msg(strstr(report, "through install.wim:2:Windows/System32/config/SYSTEM.LOG") != NULL &&
                              strstr(report, tu_dir) == NULL, "report: %s", report);
        hiveport_close(h);
        uint32_t port = 0;
        ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
        ck_assert_int_eq(hiveport_get_port(h, ntds, HIVEPORT_CS_CURRENT, &port), HIVEPORT_OK);
        ck_assert_uint_eq(port, 6123);
        hiveport_close(h);
        unlink(log1);
        unlink(log2);
        free(log1);
        free(log2);
        free(path);
    }
}
END_TEST

static char *write_file(const char *name, const void *data, size_t len)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", tu_dir, name) < 0)
        abort();
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

START_TEST(refuse_non_hives)
{
    char *text = write_file("text.reg", "Windows Registry Editor Version 5.00\n", 37);
    expect_refusal(text, 0, HIVEPORT_E_NOT_HIVE, "not a registry hive");
    char *empty = write_file("empty", "", 0);
    expect_refusal(empty, 0, HIVEPORT_E_NOT_HIVE, "empty");
    char *tiny = write_file("tiny", "regf\1\0\0\0", 8);
    expect_refusal(tiny, 0, HIVEPORT_E_TRUNCATED, "shorter than the 4096-byte hive header");

    /* A transaction log's base block is a valid header, but not a primary file. */
    size_t len;
    unsigned char *hive = tu_read(tu_fixture_path("system-basic"), &len);
    hive[0x1C] = 6;
    uint32_t sum = 0;
    for (int off = 0; off < 0x1FC; off += 4)
        sum ^= (uint32_t)hive[off] | (uint32_t)hive[off + 1] << 8 | (uint32_t)hive[off + 2] << 16 |
               (uint32_t)hive[off + 3] << 24;
    memcpy(hive + 0x1FC, &sum, 4);
    char *log = write_file("SYSTEM.LOG1", hive, len);
    expect_refusal(log, 0, HIVEPORT_E_NOT_HIVE, "transaction log");

    /* Structure damage behind a valid header: the root cell points nowhere. */
    unsigned char *bad = tu_read(tu_fixture_path("system-basic"), &len);
    memset(bad + 4096 + 0x20, 0, 0x60);
    char *corrupt = write_file("corrupt.hive", bad, len);
    expect_refusal(corrupt, 0, HIVEPORT_E_CORRUPT, "damaged");
    free(bad);
    free(hive);
    free(text);
    free(empty);
    free(tiny);
    free(log);
    free(corrupt);
}
END_TEST

START_TEST(refuse_what_is_not_a_file)
{
    expect_refusal(tu_dir, 0, HIVEPORT_E_NOT_REGULAR, "directory");
    expect_refusal(tu_dir, HIVEPORT_OPEN_WRITE, HIVEPORT_E_NOT_REGULAR, "directory");
    expect_refusal("/dev/zero", 0, HIVEPORT_E_NOT_REGULAR, "not a regular file");
    char *fifo = NULL;
    if (asprintf(&fifo, "%s/fifo", tu_dir) < 0)
        abort();
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    expect_refusal(fifo, 0, HIVEPORT_E_NOT_REGULAR, "not a regular file"); /* must not hang */
    expect_refusal(fifo, HIVEPORT_OPEN_WRITE, HIVEPORT_E_NOT_REGULAR, "not a regular file");
    char *missing = NULL;
    if (asprintf(&missing, "%s/missing", tu_dir) < 0)
        abort();
    expect_refusal(missing, 0, HIVEPORT_E_IO, "No such file");
    expect_refusal(missing, HIVEPORT_OPEN_WRITE, HIVEPORT_E_IO, "No such file");
    free(fifo);
    free(missing);
}
END_TEST

START_TEST(symlink_reads_but_refuses_writes)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic"), *link = NULL;
    if (asprintf(&link, "%s/link", tu_dir) < 0)
        abort();
    ck_assert_int_eq(symlink(path, link), 0);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(link, 0, &h), HIVEPORT_OK);
    hiveport_close(h);
    expect_refusal(link, HIVEPORT_OPEN_WRITE, HIVEPORT_E_NOT_REGULAR, "symbolic link");
    free(path);
    free(link);
}
END_TEST

START_TEST(read_only_file_and_directory)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    ck_assert_int_eq(chmod(path, 0444), 0);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK); /* reading never needs write access */
    hiveport_close(h);
    expect_refusal(path, HIVEPORT_OPEN_WRITE, HIVEPORT_E_READONLY, "read-only (mode 0444)");
    ck_assert_int_eq(chmod(path, 0644), 0);
    if (geteuid() != 0) { /* root writes into read-only directories anyway */
        ck_assert_int_eq(chmod(tu_dir, 0555), 0);
        expect_refusal(path, HIVEPORT_OPEN_WRITE, HIVEPORT_E_READONLY, "not writable");
        ck_assert_int_eq(chmod(tu_dir, 0755), 0);
    }
    free(path);
}
END_TEST

START_TEST(dirty_hive_reads_and_refuses_writes)
{
    char *path = tu_fixture_copy(tu_dir, "dirty");
    hiveport *h;
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_is_dirty(h), 1);
    uint32_t p, s, port;
    ck_assert_int_eq(hiveport_sequence(h, &p, &s), HIVEPORT_OK);
    ck_assert_uint_eq(p, s + 1);
    ck_assert_int_eq(hiveport_get_port(h, hiveport_catalog_find("exchange-sa-rfr"), HIVEPORT_CS_CURRENT, &port),
                     HIVEPORT_OK);
    ck_assert_uint_eq(port, 5001);
    hiveport_close(h);
    expect_refusal(path, HIVEPORT_OPEN_WRITE, HIVEPORT_E_DIRTY, "transaction logs");
    free(path);
}
END_TEST

START_TEST(select_and_controlsets)
{
    char *path = tu_fixture_copy(tu_dir, "system-cs003");
    hiveport *h;
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    uint32_t v;
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_CURRENT, &v), HIVEPORT_OK);
    ck_assert_uint_eq(v, 3);
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_DEFAULT, &v), HIVEPORT_OK);
    ck_assert_uint_eq(v, 3);
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_FAILED, &v), HIVEPORT_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_LASTKNOWNGOOD, &v), HIVEPORT_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(hiveport_select_value(h, 4, &v), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_select_value(h, 0, NULL), HIVEPORT_E_INVALID_ARG);

    uint32_t sets[4] = {0};
    size_t count = 0;
    ck_assert_int_eq(hiveport_controlsets(h, sets, 4, &count), HIVEPORT_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_uint_eq(sets[0], 1);
    ck_assert_uint_eq(sets[1], 3);
    ck_assert_int_eq(hiveport_controlsets(h, sets, 1, &count), HIVEPORT_OK); /* a short buffer */
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(hiveport_controlsets(h, NULL, 0, &count), HIVEPORT_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(hiveport_controlsets(h, NULL, 2, &count), HIVEPORT_E_INVALID_ARG);

    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_CURRENT, &v), HIVEPORT_OK);
    ck_assert_uint_eq(v, 3);
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_LASTKNOWNGOOD, &v), HIVEPORT_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(hiveport_resolve_controlset(h, 3, &v), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_resolve_controlset(h, 2, &v), HIVEPORT_E_NO_CONTROLSET);
    ck_assert_str_eq(strstr(hiveport_errmsg(h), "ControlSet002"), "ControlSet002 does not exist");
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_ALL, &v), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_resolve_controlset(h, 1000, &v), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_resolve_controlset(h, 0, &v), HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(missing_and_bad_select)
{
    hiveport *h;
    uint32_t v;
    char *path = tu_fixture_copy(tu_dir, "no-select");
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_OK); /* opens; targets fail */
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_CURRENT, &v), HIVEPORT_E_NO_SELECT);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "no Select key"));
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_DEFAULT, &v), HIVEPORT_E_NO_SELECT);
    ck_assert_int_eq(hiveport_resolve_controlset(h, 1, &v), HIVEPORT_OK); /* explicit numbers need no Select */
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, 5005, 0),
                     HIVEPORT_E_NO_SELECT);
    /* Writing needs a bootable Select whatever the target, even an explicit control set. */
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), 1, 5005, 0), HIVEPORT_E_NO_SELECT);
    ck_assert_int_eq(hiveport_unset_port(h, hiveport_catalog_find("exchange-sa-rfr"), 1), HIVEPORT_E_NO_SELECT);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(h);
    free(path);

    path = tu_fixture_copy(tu_dir, "bad-select");
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_CURRENT, &v), HIVEPORT_E_BAD_SELECT);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "Select\\Current is REG_SZ"));
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_CURRENT, &v), HIVEPORT_E_BAD_SELECT);
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_DEFAULT, &v), HIVEPORT_E_NO_CONTROLSET);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "ControlSet005 does not exist"));
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_LASTKNOWNGOOD, &v), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), 1, 5005, 0), HIVEPORT_E_BAD_SELECT);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK); /* nothing to write */
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, tu_fixture_path("bad-select")));
    free(path);
}
END_TEST

START_TEST(writer_lock_excludes_second_writer)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *a, *b, *r;
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &a), HIVEPORT_OK);
    hiveport_options o;
    hiveport_options_init(&o);
    o.flags = HIVEPORT_OPEN_WRITE;
    o.lock_timeout_ms = 0;
    ck_assert_int_eq(hiveport_open_ext(path, &o, &b), HIVEPORT_E_LOCKED);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(b), "locked by another writer"));
    hiveport_close(b);
    o.lock_timeout_ms = 150; /* a bounded wait still fails while the writer keeps the lock */
    ck_assert_int_eq(hiveport_open_ext(path, &o, &b), HIVEPORT_E_LOCKED);
    hiveport_close(b);
    ck_assert_int_eq(hiveport_open(path, 0, &r), HIVEPORT_OK); /* readers take no lock */
    hiveport_close(r);

    /* The lock survives a commit, which replaces the file by rename. */
    ck_assert_int_eq(hiveport_set_port(a, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, 6000, 0),
                     HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(a, NULL), HIVEPORT_OK);
    o.lock_timeout_ms = 0;
    ck_assert_int_eq(hiveport_open_ext(path, &o, &b), HIVEPORT_E_LOCKED);
    hiveport_close(b);
    hiveport_close(a);
    ck_assert_int_eq(hiveport_open_ext(path, &o, &b), HIVEPORT_OK);
    hiveport_close(b);
    free(path);
}
END_TEST

/* A lookup by name reads only the lh entries whose hash matches, as Windows does: an entry whose hash is
 * wrong is not found (libhivex, which compares every name, still finds it), and a write that would reach
 * it through libhivex is refused instead of landing where reads do not look (a fuzzer found a set that
 * read back as absent). */
START_TEST(lookups_trust_lh_hashes)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    const hiveport_setting *ntds = hiveport_catalog_find("ntds");
    hiveport *h = NULL;
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_get_port(h, ntds, 1, &port), HIVEPORT_OK);
    hiveport_close(h);

    hive_h *hv = hivex_open(path, 0);
    ck_assert_ptr_nonnull(hv);
    hive_node_h cs = hivex_node_get_child(hv, hivex_root(hv), "ControlSet001");
    hive_node_h services = hivex_node_get_child(hv, cs, "Services");
    hive_node_h key = hivex_node_get_child(hv, services, "NTDS");
    ck_assert(cs && services && key);
    hivex_close(hv);

    size_t len;
    unsigned char *b = tu_read(path, &len);
    ck_assert_ptr_nonnull(b);
    size_t entry = tu_subkey_entry(b, len, services, key);
    ck_assert_msg(entry != 0, "NTDS is not in the Services list"); /* an lh list: libhivex writes those */
    b[entry + 4] ^= 1; /* the hash of "NTDS", off by one bit */
    FILE *f = fopen(path, "r+b");
    ck_assert(f != NULL && fwrite(b, 1, len, f) == len && fclose(f) == 0);
    free(b);

    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_get_port(h, ntds, 1, &port), HIVEPORT_E_NOT_SET);
    hiveport_close(h);
    char before[4096];
    snprintf(before, sizeof before, "%s/before", tu_dir);
    ck_assert_int_eq(tu_copy(path, before), 0);
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, ntds, 1, 6105, 0), HIVEPORT_E_CORRUPT);
    ck_assert_msg(strstr(hiveport_errmsg(h), "\"NTDS\" does not carry its name's hash") != NULL, "%s",
                  hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK); /* nothing to write */
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, before));
    hv = hivex_open(path, 0);
    ck_assert_ptr_nonnull(hv);
    ck_assert(hivex_node_get_child(hv, services, "NTDS") == key);
    hivex_close(hv);
    free(path);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {open_fixture_read_and_write, lookups_trust_lh_hashes, refuse_damaged_files,
                                  named_hive_messages, named_hive_commits,
                                  refuse_non_hives, refuse_what_is_not_a_file, symlink_reads_but_refuses_writes,
                                  read_only_file_and_directory, dirty_hive_reads_and_refuses_writes,
                                  select_and_controlsets, missing_and_bad_select,
                                  writer_lock_excludes_second_writer, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "open", "open", 0, tu_setup_dir, tu_teardown_dir);
    return tu_run_tests(s, tc, tests);
}
