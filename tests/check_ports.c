/* check_ports.c: get, set, unset, commit, discard and backup, on generated fixtures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "internal.h" /* hp_alloc_fail_after */
#include "suite.h"
#include "testutil.h"

static const hiveport_setting *S(const char *id)
{
    const hiveport_setting *s = hiveport_catalog_find(id);
    ck_assert_msg(s != NULL, "no catalog setting %s", id);
    return s;
}

static uint32_t get(hiveport *h, const char *id, int target)
{
    uint32_t port = 0;
    int rc = hiveport_get_port(h, S(id), target, &port);
    ck_assert_msg(rc == HIVEPORT_OK, "get %s: %s", id, hiveport_errmsg(h));
    return port;
}

START_TEST(get_reads_every_fixture_port)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, 0);
    static const struct {
        const char *id;
        uint32_t port;
    } expected[] = {
        {"exchange-sa-rfr", 5001},  {"exchange-sa-nspi", 5002}, {"exchange-is", 5003},
        {"exchange-srs", 5004},     {"ntds", 5005},             {"netlogon", 5006},
        {"exchange-sa-http", 6002}, {"exchange-sa-rpchttp-nspi", 6004}, {"exchange-is-rpchttp", 6001},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        ck_assert_uint_eq(get(h, expected[i].id, HIVEPORT_CS_CURRENT), expected[i].port);
    ck_assert_uint_eq(get(h, "exchange-sa-rfr", HIVEPORT_CS_LASTKNOWNGOOD), 5001);
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, S("exchange-sa-nspi"), 2, &port), HIVEPORT_E_NOT_SET);
    ck_assert_int_eq(hiveport_get_port(h, S("ntfrs"), 1, &port), HIVEPORT_E_NOT_SET); /* key missing */
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "ControlSet001\\Services\\NTFRS\\Parameters"));
    ck_assert_int_eq(hiveport_get_port(h, S("ntds"), 3, &port), HIVEPORT_E_NO_CONTROLSET);
    ck_assert_int_eq(hiveport_get_port(h, S("ntds"), HIVEPORT_CS_ALL, &port), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_get_port(h, S("ntds"), 1, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_get_port(h, NULL, 1, &port), HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(get_reports_type_and_data_problems)
{
    char *path = tu_fixture_copy(tu_dir, "regsz-port");
    hiveport *h = tu_open_or_fail(path, 0);
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_get_port(h, S("exchange-sa-rfr"), 1, &port), HIVEPORT_E_WRONG_TYPE);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "\"TCP/IP Port\" is REG_SZ, expected REG_DWORD"));
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), path));
    ck_assert_uint_eq(get(h, "exchange2010-ab", 1), 6001); /* a real REG_SZ port */
    ck_assert_int_eq(hiveport_get_port(h, S("ntds"), 1, &port), HIVEPORT_E_BAD_DATA);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "holds 2 bytes, not 4"));
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(set_commit_reopen_round_trip)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), HIVEPORT_CS_CURRENT, 6101, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_has_changes(h), 1);
    ck_assert_uint_eq(get(h, "exchange-sa-rfr", 1), 6101); /* visible before the commit */
    ck_assert(tu_same_bytes(path, tu_fixture_path("system-basic"))); /* but not on disk */
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    uint32_t p, s;
    ck_assert_int_eq(hiveport_sequence(h, &p, &s), HIVEPORT_OK);
    ck_assert_uint_eq(p, s);
    hiveport_close(h);

    h = tu_open_or_fail(path, 0);
    ck_assert_uint_eq(get(h, "exchange-sa-rfr", HIVEPORT_CS_CURRENT), 6101);
    ck_assert_uint_eq(get(h, "exchange-sa-rfr", 2), 5001); /* other control set untouched */
    ck_assert_int_eq(hiveport_is_dirty(h), 0);
    hiveport_close(h);

    /* Every other key and value reads back identical. */
    tu_expect_diff(before, path, "\\ControlSet001\\Services\\MSExchangeSA\\Parameters:TCP/IP Port=4:d5170000\n",
                   "\\ControlSet001\\Services\\MSExchangeSA\\Parameters:TCP/IP Port=4:89130000\n");
    free(before);
    free(path);
}
END_TEST

START_TEST(set_creates_missing_keys)
{
    char *path = tu_fixture_copy(tu_dir, "system-empty");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, S("exchange-is"), 1, &port), HIVEPORT_E_NOT_SET);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-is"), HIVEPORT_CS_DEFAULT, 5003, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 5005, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_expect_diff(before, path,
                   "\\ControlSet001\\Services\\MSExchangeIS\n"
                   "\\ControlSet001\\Services\\MSExchangeIS\\ParametersSystem\n"
                   "\\ControlSet001\\Services\\MSExchangeIS\\ParametersSystem:TCP/IP Port=4:8b130000\n"
                   "\\ControlSet001\\Services\\NTDS\\Parameters\n"
                   "\\ControlSet001\\Services\\NTDS\\Parameters:TCP/IP Port=4:8d130000\n",
                   "");
    free(before);
    free(path);
}
END_TEST

START_TEST(set_all_controlsets_and_explicit_number)
{
    char *path = tu_fixture_copy(tu_dir, "system-cs003");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), HIVEPORT_CS_ALL, 5005, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 3, 7001, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 2, 7001, 0), HIVEPORT_E_NO_CONTROLSET);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    h = tu_open_or_fail(path, 0);
    ck_assert_uint_eq(get(h, "ntds", 1), 5005);
    ck_assert_uint_eq(get(h, "ntds", 3), 5005);
    ck_assert_uint_eq(get(h, "exchange-sa-rfr", HIVEPORT_CS_CURRENT), 7001);
    ck_assert_uint_eq(get(h, "exchange-sa-rfr", HIVEPORT_CS_LASTKNOWNGOOD), 5001);
    uint32_t n;
    ck_assert_int_eq(hiveport_resolve_controlset(h, 2, &n), HIVEPORT_E_NO_CONTROLSET); /* none invented */
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(set_validates_ports)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 0, 0), HIVEPORT_E_RANGE);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "port 0 for NTDS\\Parameters:TCP/IP Port is outside 1-65535"));
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 65536, 0), HIVEPORT_E_RANGE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 65535, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 1, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("ntfrs"), 1, 0, 0), HIVEPORT_OK); /* 0 = dynamic */
    ck_assert_int_eq(hiveport_set_port(h, S("ntfrs"), 1, 65536, 0), HIVEPORT_E_RANGE);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange2010-ab"), 1, 0, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 5005, 0x10), HIVEPORT_E_INVALID_ARG);
    ck_assert_uint_eq(get(h, "ntfrs", 1), 0);
    ck_assert_uint_eq(get(h, "exchange2010-ab", 1), 0);
    ck_assert_uint_eq(get(h, "ntds", 1), 1);
    hiveport_close(h); /* uncommitted: discarded */
    ck_assert(tu_same_bytes(path, tu_fixture_path("system-basic")));
    free(path);
}
END_TEST

START_TEST(wrong_type_refused_unless_replaced)
{
    char *path = tu_fixture_copy(tu_dir, "regsz-port");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 1, 5001, 0), HIVEPORT_E_WRONG_TYPE);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "is REG_SZ, expected REG_DWORD"));
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK); /* nothing to write */
    ck_assert(tu_same_bytes(path, tu_fixture_path("regsz-port")));
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 1, 5001, HIVEPORT_SET_REPLACE_TYPE), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 5005, 0), HIVEPORT_OK); /* malformed DWORD: fixed */
    ck_assert_int_eq(hiveport_set_port(h, S("exchange2010-ab"), 1, 6010, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    h = tu_open_or_fail(path, 0);
    ck_assert_uint_eq(get(h, "exchange-sa-rfr", 1), 5001);
    ck_assert_uint_eq(get(h, "ntds", 1), 5005);
    ck_assert_uint_eq(get(h, "exchange2010-ab", 1), 6010);
    hiveport_close(h);
    char *dump = tu_dump_hive(path); /* REG_SZ written as UTF-16LE "6010" with its terminator */
    ck_assert_ptr_nonnull(strstr(dump, "MSExchangeAB\\Parameters:RpcTcpPort=1:36003000310030000000\n"));
    free(dump);
    free(path);
}
END_TEST

START_TEST(unchanged_set_writes_nothing)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    struct stat before;
    ck_assert_int_eq(tu_stat(path, &before), 0);
    sleep(1); /* so that a rewrite would show in the mtime */
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 1, 5001, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_unset_port(h, S("ntfrs"), 1), HIVEPORT_OK); /* absent: nothing to remove */
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_assert_unwritten(path, &before, tu_fixture_path("system-basic"));
    free(path);
}
END_TEST

START_TEST(unset_removes_value_keeps_key_and_siblings)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_unset_port(h, S("exchange-sa-rfr"), HIVEPORT_CS_ALL), HIVEPORT_OK);
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, S("exchange-sa-rfr"), 1, &port), HIVEPORT_E_NOT_SET);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_expect_diff(before, path, "",
                   "\\ControlSet001\\Services\\MSExchangeSA\\Parameters:TCP/IP Port=4:89130000\n"
                   "\\ControlSet002\\Services\\MSExchangeSA\\Parameters:TCP/IP Port=4:89130000\n");
    free(before);
    free(path);
}
END_TEST

START_TEST(read_only_handle_refuses_changes)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, 0);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 6000, 0), HIVEPORT_E_READONLY);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "opened read-only"));
    ck_assert_int_eq(hiveport_unset_port(h, S("ntds"), 1), HIVEPORT_E_READONLY);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_E_READONLY);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(discard_drops_changes)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 6000, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_discard(h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    ck_assert_uint_eq(get(h, "ntds", 1), 5005);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_discard(h), HIVEPORT_OK); /* nothing to drop */
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, tu_fixture_path("system-basic")));
    ck_assert_int_eq(hiveport_discard(NULL), HIVEPORT_E_INVALID_ARG);
    free(path);
}
END_TEST

START_TEST(commit_keeps_mode_and_makes_backup)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic"), *backup = NULL;
    if (asprintf(&backup, "%s/SYSTEM.bak", tu_dir) < 0)
        abort();
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(tu_copy(path, backup), 0); /* an old backup is replaced */
    ck_assert_int_eq(truncate(backup, 100), 0);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 6000, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, backup), HIVEPORT_OK);
    hiveport_close(h);
    struct stat st;
    ck_assert_int_eq(tu_stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0640);
    ck_assert(tu_same_bytes(backup, tu_fixture_path("system-basic")));
    ck_assert(!tu_same_bytes(path, backup));
    /* No temporary file is left in the directory. */
    char *cmd = NULL;
    if (asprintf(&cmd, "ls -A '%s' | grep -q hiveport-", tu_dir) < 0)
        abort();
    ck_assert_int_ne(system(cmd), 0);
    free(cmd);
    free(backup);
    free(path);
}
END_TEST

START_TEST(custom_settings)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    hiveport_setting mine = {0};
    mine.key = "MSExchangeSA\\Parameters";
    mine.value_name = "tcp/ip port"; /* value names match case-insensitively */
    mine.type = HIVEPORT_REG_DWORD;
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, &mine, 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 5001);
    ck_assert_int_eq(hiveport_set_port(h, &mine, 1, 7000, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    char *dump = tu_dump_hive(path); /* replaced in place, under its existing spelling */
    ck_assert_ptr_nonnull(strstr(dump, "MSExchangeSA\\Parameters:TCP/IP Port=4:581b0000\n"));
    ck_assert_ptr_null(strstr(dump, "tcp/ip port"));
    free(dump);
    mine.key = "Contoso\\RPC\\Ports";
    mine.value_name = "Listen";
    ck_assert_int_eq(hiveport_set_port(h, &mine, 1, 7777, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_get_port(h, &mine, 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 7777);

    hiveport_setting bad = mine;
    bad.type = 3; /* REG_BINARY */
    ck_assert_int_eq(hiveport_set_port(h, &bad, 1, 7777, 0), HIVEPORT_E_INVALID_ARG);
    const char *bad_keys[] = {"", "\\Lead", "Trail\\", "Two\\\\Slashes"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        bad = mine;
        bad.key = bad_keys[i];
        ck_assert_int_eq(hiveport_set_port(h, &bad, 1, 7777, 0), HIVEPORT_E_INVALID_ARG);
        ck_assert_int_eq(hiveport_get_port(h, &bad, 1, &port), HIVEPORT_E_INVALID_ARG);
    }
    bad = mine;
    bad.value_name = "TCP/IP\xffPort"; /* not UTF-8: refused, never handed to libhivex */
    ck_assert_int_eq(hiveport_set_port(h, &bad, 1, 7777, 0), HIVEPORT_E_INVALID_ARG);
    bad.value_name = "\xed\xa0\x80"; /* a UTF-16 surrogate encoded as UTF-8 */
    ck_assert_int_eq(hiveport_set_port(h, &bad, 1, 7777, 0), HIVEPORT_E_INVALID_ARG);
    bad.value_name = "";
    ck_assert_int_eq(hiveport_set_port(h, &bad, 1, 7777, 0), HIVEPORT_E_INVALID_ARG);
    bad.value_name = NULL;
    ck_assert_int_eq(hiveport_set_port(h, &bad, 1, 7777, 0), HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
    free(path);
}
END_TEST

/* Every allocation failure inside the library is reported as HIVEPORT_E_NOMEM (or survived), leaks
 * nothing and never changes the file. */
START_TEST(allocation_failures_are_clean)
{
    char *path = tu_fixture_copy(tu_dir, "system-empty");
    int succeeded = 0;
    for (unsigned long n = 1; n < 200 && !succeeded; n++) {
        hiveport *h = NULL;
        hp_alloc_fail_after(n);
        int rc = hiveport_open(path, HIVEPORT_OPEN_WRITE, &h);
        if (rc == HIVEPORT_OK)
            rc = hiveport_set_port(h, S("ntds"), HIVEPORT_CS_ALL, 5005, 0);
        if (rc == HIVEPORT_OK)
            rc = hiveport_commit(h, NULL);
        hp_alloc_fail_after(0);
        ck_assert_msg(rc == HIVEPORT_OK || rc == HIVEPORT_E_NOMEM, "n=%lu: %d %s", n, rc, hiveport_errmsg(h));
        hiveport_close(h);
        if (rc == HIVEPORT_OK)
            succeeded = 1;
        else
            ck_assert(tu_same_bytes(path, tu_fixture_path("system-empty")));
    }
    ck_assert(succeeded);
    free(path);
}
END_TEST

/* A hive whose lists share a key (MSExchangeSA's list points at NTDS\Parameters, whose parent is NTDS):
 * a set through one path would silently change the other setting, so both reading and writing through
 * the alias are refused as damage, and the file stays as it was; the rightful path still works. */
START_TEST(key_reached_by_two_paths_is_refused)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 1, 1111, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 2222, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);

    hive_h *hv = hivex_open(path, 0);
    ck_assert_ptr_nonnull(hv);
    hive_node_h services = hivex_node_get_child(hv, hivex_node_get_child(hv, hivex_root(hv), "ControlSet001"),
                                                "Services");
    hive_node_h sa = hivex_node_get_child(hv, services, "MSExchangeSA");
    hive_node_h sa_params = hivex_node_get_child(hv, sa, "Parameters");
    hive_node_h ntds_params = hivex_node_get_child(hv, hivex_node_get_child(hv, services, "NTDS"), "Parameters");
    ck_assert(sa && sa_params && ntds_params);
    hivex_close(hv);
    size_t len;
    unsigned char *b = tu_read(path, &len);
    size_t entry = tu_subkey_entry(b, len, sa, sa_params);
    ck_assert(entry != 0);
    uint32_t rel = (uint32_t)(ntds_params - 0x1000);
    for (int i = 0; i < 4; i++)
        b[entry + (size_t)i] = (unsigned char)(rel >> (8 * i));
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL && fwrite(b, 1, len, f) == len && fclose(f) == 0);
    free(b);
    char before[4096];
    snprintf(before, sizeof before, "%s/before", tu_dir);
    ck_assert_int_eq(tu_copy(path, before), 0);

    uint32_t port = 0;
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_get_port(h, S("exchange-sa-rfr"), 1, &port), HIVEPORT_E_CORRUPT);
    ck_assert_msg(strstr(hiveport_errmsg(h), "reached by two paths") != NULL, "%s", hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-rfr"), 1, 3333, 0), HIVEPORT_E_CORRUPT);
    ck_assert_int_eq(hiveport_get_port(h, S("ntds"), 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 2222);
    /* Once libhivex holds the session (a new key), the same check applies through it. */
    hiveport_setting fresh = {"HiveportTestService\\Parameters", "Port", HIVEPORT_REG_DWORD, 0, NULL, NULL, NULL};
    ck_assert_int_eq(hiveport_set_port(h, &fresh, 1, 4444, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, S("exchange-sa-nspi"), 1, 5555, 0), HIVEPORT_E_CORRUPT);
    ck_assert_int_eq(hiveport_discard(h), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, before));
    free(path);
}
END_TEST

/* A commit killed half-way leaves its temporary file; the next commit of the hive (holding the lock, so no
 * other commit of it can be running) removes it, and nothing that merely looks alike. */
START_TEST(commit_removes_temporary_files_killed_commits_left)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    const char *base = strrchr(path, '/') + 1;
    char stale[4096], alike[3][4096];
    snprintf(stale, sizeof stale, "%s/.%s.hiveport-Ab3xYz", tu_dir, base);
    snprintf(alike[0], sizeof alike[0], "%s/.%s.hiveport-Ab3xY", tu_dir, base);    /* five letters */
    snprintf(alike[1], sizeof alike[1], "%s/.%sX.hiveport-Ab3xYz", tu_dir, base);  /* another hive */
    snprintf(alike[2], sizeof alike[2], "%s/%s.hiveport-Ab3xYz", tu_dir, base);    /* no leading dot */
    const char *all[] = {stale, alike[0], alike[1], alike[2]};
    for (size_t i = 0; i < 4; i++) {
        FILE *f = fopen(all[i], "w");
        ck_assert(f != NULL && fputs("half a hive", f) >= 0 && fclose(f) == 0);
    }
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, S("ntds"), 1, 6105, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert_msg(access(stale, F_OK) != 0, "%s is still there", stale);
    for (size_t i = 0; i < 3; i++)
        ck_assert_msg(access(alike[i], F_OK) == 0, "%s was removed", alike[i]);
    free(path);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {get_reads_every_fixture_port, key_reached_by_two_paths_is_refused,
                                  commit_removes_temporary_files_killed_commits_left,
                                  get_reports_type_and_data_problems, set_commit_reopen_round_trip,
                                  set_creates_missing_keys, set_all_controlsets_and_explicit_number,
                                  set_validates_ports, wrong_type_refused_unless_replaced,
                                  unchanged_set_writes_nothing, unset_removes_value_keeps_key_and_siblings,
                                  read_only_handle_refuses_changes, discard_drops_changes,
                                  commit_keeps_mode_and_makes_backup, custom_settings,
                                  allocation_failures_are_clean, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "ports", "ports", 30, tu_setup_dir, tu_teardown_dir);
    return tu_run_tests(s, tc, tests);
}
