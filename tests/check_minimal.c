/* check_minimal.c: writes touch only the bytes they must, a repeated edit writes nothing, and
 * SOURCE_DATE_EPOCH makes the output reproducible. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "internal.h" /* hp_regf_checksum */
#include "suite.h"
#include "testutil.h"

#define SDE "1700000000"
#define SDE_FILETIME (116444736000000000ULL + 1700000000ULL * 10000000ULL)

static void setup(void)
{
    tu_setup_dir();
    setenv("SOURCE_DATE_EPOCH", SDE, 1);
}

static void teardown(void)
{
    unsetenv("SOURCE_DATE_EPOCH");
    tu_teardown_dir();
}

static const hiveport_setting *S(const char *id)
{
    return hiveport_catalog_find(id);
}

/* Opens path for writing, sets each id=port in the current control set, commits. */
static void stamp(const char *path, const char *const *ids, const uint32_t *ports, size_t n)
{
    hiveport *h;
    int rc = hiveport_open(path, HIVEPORT_OPEN_WRITE, &h);
    ck_assert_msg(rc == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    for (size_t i = 0; i < n; i++) {
        rc = hiveport_set_port(h, S(ids[i]), HIVEPORT_CS_CURRENT, ports[i], 0);
        ck_assert_msg(rc == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    }
    rc = hiveport_commit(h, NULL);
    ck_assert_msg(rc == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    hiveport_close(h);
}

static uint32_t get(const char *path, const char *id)
{
    hiveport *h;
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    int rc = hiveport_get_port(h, S(id), HIVEPORT_CS_CURRENT, &port);
    ck_assert_msg(rc == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    hiveport_close(h);
    return port;
}

static size_t differing_bytes(const char *a, const char *b)
{
    size_t la, lb, n = 0;
    unsigned char *da = tu_read(a, &la), *db = tu_read(b, &lb);
    ck_assert_uint_eq(la, lb);
    for (size_t i = 0; i < la; i++)
        n += da[i] != db[i];
    free(da);
    free(db);
    return n;
}

static uint64_t le64_at(const char *path, size_t off)
{
    size_t len;
    unsigned char *d = tu_read(path, &len);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | d[off + (size_t)i];
    free(d);
    return v;
}

static void assert_clean_header(const char *path, uint32_t expect_seq)
{
    size_t len;
    unsigned char *d = tu_read(path, &len);
    uint32_t p, s, sum;
    memcpy(&p, d + 4, 4);
    memcpy(&s, d + 8, 4);
    memcpy(&sum, d + 0x1FC, 4);
    ck_assert_uint_eq(p, s);
    ck_assert_uint_eq(p, expect_seq);
    ck_assert_uint_eq(sum, hp_regf_checksum(d));
    free(d);
    ck_assert_uint_eq(le64_at(path, 0x0C), SDE_FILETIME);
}

START_TEST(existing_dword_is_patched_in_place)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic"), *old = tu_copy_beside(path, ".old");
    const char *ids[] = {"exchange-sa-rfr"};
    uint32_t ports[] = {6000};
    stamp(path, ids, ports, 1);
    ck_assert_uint_eq(get(path, "exchange-sa-rfr"), 6000);
    /* 4 data bytes (2 differ: 5001 -> 6000), key timestamp, sequence numbers, header time, checksum. */
    size_t n = differing_bytes(old, path);
    ck_assert_msg(n <= 32, "%zu bytes differ", n);
    assert_clean_header(path, 3); /* the fixture was written at sequence 2 */
    char *dump_old = tu_dump_hive(old), *dump_new = tu_dump_hive(path);
    char *added = tu_lines_added(dump_old, dump_new);
    ck_assert_str_eq(added, "\\ControlSet001\\Services\\MSExchangeSA\\Parameters:TCP/IP Port=4:70170000\n");
    free(added);
    free(dump_old);
    free(dump_new);
    free(old);
    free(path);
}
END_TEST

START_TEST(repeated_edit_changes_nothing)
{
    char *path = tu_fixture_copy(tu_dir, "system-empty");
    const char *ids[] = {"exchange-sa-rfr", "exchange-sa-nspi", "exchange-is", "exchange-srs", "ntds"};
    uint32_t ports[] = {5001, 5002, 5003, 5004, 5005};
    struct stat st0, st1, st2;
    ck_assert_int_eq(tu_stat(path, &st0), 0);
    stamp(path, ids, ports, 5);
    ck_assert_int_eq(tu_stat(path, &st1), 0);
    ck_assert_msg(st1.st_size - st0.st_size <= 4096, "grew by %lld", (long long)(st1.st_size - st0.st_size));
    char *copy = tu_copy_beside(path, ".first");
    sleep(1);
    stamp(path, ids, ports, 5);
    ck_assert_int_eq(tu_stat(path, &st2), 0);
    ck_assert(tu_same_bytes(path, copy));
    ck_assert(st1.st_ino == st2.st_ino && tu_same_mtime(&st1, &st2));
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(get(path, ids[i]), ports[i]);
    free(copy);
    free(path);
}
END_TEST

START_TEST(edit_and_revert_before_commit_writes_nothing)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 7000, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 5005, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, tu_fixture_path("system-basic")));
    free(path);
}
END_TEST

START_TEST(patch_then_structural_change_in_one_session)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), HIVEPORT_CS_ALL, 6100, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-nspi"), 1, 6101, 0), HIVEPORT_OK); /* same key */
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK); /* in place */
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-nspi"), 1, 6102, 0), HIVEPORT_OK); /* in place */
    ck_assert_int_eq(hiveport_set_port(h, S("ntfrs"), HIVEPORT_CS_ALL, 6103, 0), HIVEPORT_OK); /* new keys */
    ck_assert_int_eq(hiveport_unset_port(h, S("exchange-sa-http"), 1), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 2, 6104, 0), HIVEPORT_OK);
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, S("exchange-sa-nspi"), 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 6102);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    static const struct {
        const char *id;
        int cs;
        uint32_t port;
    } want[] = {{"exchange-sa-rfr", 1, 6100}, {"exchange-sa-rfr", 2, 6104}, {"exchange-sa-nspi", 1, 6102},
                {"ntfrs", 1, 6103},           {"ntfrs", 2, 6103},           {"exchange-is", 1, 5003}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_int_eq(hiveport_get_port(h, S(want[i].id), want[i].cs, &port), HIVEPORT_OK);
        ck_assert_uint_eq(port, want[i].port);
    }
    ck_assert_int_eq(hiveport_get_port(h, S("exchange-sa-http"), 1, &port), HIVEPORT_E_NOT_SET);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(string_port_in_place)
{
    char *path = tu_fixture_copy(tu_dir, "regsz-port");
    const char *ids[] = {"exchange2010-ab"};
    uint32_t ports[] = {0};
    struct stat st0, st1;
    ck_assert_int_eq(tu_stat(path, &st0), 0);
    static const uint32_t sequence[] = {6010, 0, 65535, 5999};
    for (size_t i = 0; i < sizeof sequence / sizeof sequence[0]; i++) {
        ports[0] = sequence[i];
        stamp(path, ids, ports, 1);
        ck_assert_uint_eq(get(path, "exchange2010-ab"), sequence[i]);
        ck_assert_int_eq(tu_stat(path, &st1), 0);
        ck_assert_int_eq(st1.st_size, st0.st_size);
    }
    free(path);
}
END_TEST

START_TEST(reproducible_with_source_date_epoch)
{
    const char *ids[] = {"exchange-sa-rfr", "ntds", "netlogon"};
    uint32_t ports[] = {6001, 6002, 6003};
    char *a_dir = NULL, *b_dir = NULL;
    if (asprintf(&a_dir, "%s/a", tu_dir) < 0 || asprintf(&b_dir, "%s/b", tu_dir) < 0)
        abort();
    ck_assert_int_eq(mkdir(a_dir, 0700), 0);
    ck_assert_int_eq(mkdir(b_dir, 0700), 0);
    const char *fixtures[] = {"system-basic", "system-empty"}; /* in place, and through libhivex */
    for (size_t f = 0; f < 2; f++) {
        char *a = tu_fixture_copy(a_dir, fixtures[f]);
        stamp(a, ids, ports, 3);
        sleep(1);
        char *b = tu_fixture_copy(b_dir, fixtures[f]);
        stamp(b, ids, ports, 3);
        ck_assert_msg(tu_same_bytes(a, b), "%s differs between runs", fixtures[f]);
        ck_assert(!tu_same_bytes(a, tu_fixture_path(fixtures[f])));
        free(a);
        free(b);
    }
    free(a_dir);
    free(b_dir);
}
END_TEST

START_TEST(bad_source_date_epoch_is_refused)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 7000, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "SOURCE_DATE_EPOCH=\"yesterday\""));
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, tu_fixture_path("system-basic")));
    free(path);
}
END_TEST

START_TEST(real_hive_alternating_sets)
{
    char *path = tu_real_hive(tu_dir, "win7-SYSTEM");
    if (path == NULL)
        return;
    const char *ids[] = {"exchange-sa-rfr"};
    uint32_t ports[] = {5000};
    stamp(path, ids, ports, 1); /* creates the keys: the one commit that may grow the file */
    struct stat st0, st;
    ck_assert_int_eq(tu_stat(path, &st0), 0);
    char *prev = NULL;
    if (asprintf(&prev, "%s.prev", path) < 0)
        abort();
    for (uint32_t i = 1; i <= 100; i++) {
        ck_assert_int_eq(tu_copy(path, prev), 0);
        ports[0] = 5000 + i;
        stamp(path, ids, ports, 1);
        ck_assert_int_eq(tu_stat(path, &st), 0);
        ck_assert_int_eq(st.st_size, st0.st_size);
        size_t n = differing_bytes(prev, path);
        ck_assert_msg(n <= 32, "round %u: %zu bytes differ", i, n);
    }
    ck_assert_uint_eq(get(path, "exchange-sa-rfr"), 5100);
    free(prev);
    free(path);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {existing_dword_is_patched_in_place, repeated_edit_changes_nothing,
                                  edit_and_revert_before_commit_writes_nothing,
                                  patch_then_structural_change_in_one_session, string_port_in_place,
                                  reproducible_with_source_date_epoch, bad_source_date_epoch_is_refused,
                                  real_hive_alternating_sets, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "minimal writes", "minimal", 120, setup, teardown);
    return tu_run_tests(s, tc, tests);
}
