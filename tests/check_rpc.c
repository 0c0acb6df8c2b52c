/* check_rpc.c: the RPC runtime's port range (hiveport_rpc_*) and DCOM endpoints (hiveport_dcom_*) in
 * SOFTWARE hives: reading as Windows reads, refusing what Windows rejects, normalising, removing, the
 * audit's cross-check, and every allocation failure. */
#include <check.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "internal.h" /* hp_alloc_fail_after */
#include "suite.h"
#include "testutil.h"

#define ck_assert_errmsg_has(h, text) \
    ck_assert_msg(strstr(hiveport_errmsg(h), text) != NULL, "\"%s\" not in: %s", text, hiveport_errmsg(h))

/* What hiveport_rpc_get() returns, in one place. */
struct rpc_read {
    int rc;
    char *ports;
    char available, use_internet;
    uint32_t count;
};

static struct rpc_read rpc_read(hiveport *h)
{
    struct rpc_read r;
    r.rc = hiveport_rpc_get(h, &r.ports, &r.available, &r.use_internet, &r.count);
    return r;
}

/* Reads a hive's RPC range and checks it. */
static void expect_range(hiveport *h, const char *ports, char available, char use, uint32_t count)
{
    struct rpc_read r = rpc_read(h);
    ck_assert_msg(r.rc == HIVEPORT_OK, "rpc_get: %d %s", r.rc, hiveport_errmsg(h));
    ck_assert_str_eq(r.ports, ports);
    ck_assert_int_eq(r.available, available);
    ck_assert_int_eq(r.use_internet, use);
    ck_assert_uint_eq(r.count, count);
    ck_assert_str_eq(hiveport_errmsg(h), "");
    hiveport_free(r.ports);
}

/* Reads a hive's RPC range, expecting a failure with a message holding text. */
static void expect_problem(hiveport *h, int rc, const char *text)
{
    struct rpc_read r = rpc_read(h);
    ck_assert_msg(r.rc == rc, "rpc_get: %d, expected %d: %s", r.rc, rc, hiveport_errmsg(h));
    ck_assert_ptr_null(r.ports);
    ck_assert_int_eq(r.available, 0);
    ck_assert_int_eq(r.use_internet, 0);
    ck_assert_uint_eq(r.count, 0);
    ck_assert_errmsg_has(h, text);
    ck_assert_errmsg_has(h, hiveport_path(h));
}

/* A REG_MULTI_SZ or REG_SZ payload from ASCII with explicit NULs (n bytes of text, no final NUL added). */
#define U16(lit, buf) TU_UTF16(lit, buf)

/* Writes one value of Microsoft\Rpc\Internet (or of key) straight through libhivex, as any other tool
 * might have. */
static void put_raw(const char *path, const char *key, const char *name, hive_type t, const char *data,
                    size_t len)
{
    hive_h *hv = hivex_open(path, HIVEX_OPEN_WRITE);
    ck_assert_ptr_nonnull(hv);
    hive_node_h node = hivex_root(hv);
    char *copy = strdup(key);
    for (char *save = NULL, *part = strtok_r(copy, "\\", &save); part; part = strtok_r(NULL, "\\", &save)) {
        hive_node_h child = hivex_node_get_child(hv, node, part);
        if (child == 0)
            child = hivex_node_add_child(hv, node, part);
        ck_assert(child != 0);
        node = child;
    }
    free(copy);
    hive_set_value v = {.key = (char *)name, .t = t, .len = len, .value = (char *)data};
    ck_assert_int_eq(hivex_node_set_value(hv, node, &v, 0), 0);
    ck_assert_int_eq(hivex_commit(hv, NULL, 0), 0);
    hivex_close(hv);
}

#define RPC_KEY "Microsoft\\Rpc\\Internet"

/* ---- Reading ----------------------------------------------------------------------------------------- */

START_TEST(get_absent_is_not_set)
{
    char *path = tu_fixture_copy(tu_dir, "software-plain");
    hiveport *h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_NOT_SET, "Microsoft\\Rpc\\Internet is absent");
    ck_assert_int_eq(hiveport_rpc_get(h, NULL, NULL, NULL, NULL), HIVEPORT_E_NOT_SET);
    hiveport_close(h);
    free(path);
    path = tu_fixture_copy(tu_dir, "system-basic"); /* not "absent": a SYSTEM hive is the wrong hive */
    h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_NOT_HIVE, "not a SOFTWARE hive: its root lacks the Microsoft and Classes keys (it is "
                                           "a SYSTEM hive)");
    hiveport_close(h);
    free(path);
    ck_assert_int_eq(hiveport_rpc_get(NULL, NULL, NULL, NULL, NULL), HIVEPORT_E_INVALID_ARG);
}
END_TEST

START_TEST(get_reads_valid_ranges)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-inside");
    hiveport *h = tu_open_or_fail(path, 0);
    expect_range(h, "5900-6001", 'Y', 'Y', 102);
    uint32_t count = 0; /* every out-parameter is optional */
    ck_assert_int_eq(hiveport_rpc_get(h, NULL, NULL, NULL, &count), HIVEPORT_OK);
    ck_assert_uint_eq(count, 102);
    hiveport_close(h);
    free(path);

    path = tu_fixture_copy(tu_dir, "software-rpc-excluded");
    h = tu_open_or_fail(path, 0);
    expect_range(h, "5000-6100", 'N', 'Y', 1101);
    hiveport_close(h);
    free(path);

    path = tu_fixture_copy(tu_dir, "software-rpc-small");
    h = tu_open_or_fail(path, 0);
    expect_range(h, "7000-7049,7100", 'Y', 'Y', 51);
    hiveport_close(h);
    free(path);
}
END_TEST

/* Blanks before a number, '+', leading zeros, blanks after a high end, disorder, overlap and lower-case
 * flags: what the RPC runtime reads, normalised. */
START_TEST(get_tolerates_what_windows_tolerates)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-tolerated");
    hiveport *h = tu_open_or_fail(path, 0);
    expect_range(h, "5000-5200,6000-6010,7000", 'Y', 'N', 213);
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, tu_fixture_path("software-rpc-tolerated"))); /* reading changed nothing */
    free(path);
}
END_TEST

START_TEST(get_reports_what_windows_rejects)
{
    static const struct {
        const char *fixture;
        int rc;
        const char *text;
    } cases[] = {
        {"software-rpc-invalid", HIVEPORT_E_BAD_DATA, "\"Ports\" is invalid: string 2, \"70000\": the port is above 65535"},
        {"software-rpc-malformed", HIVEPORT_E_BAD_DATA, "string 2, \"5000-\": the range has no high end"},
        {"software-rpc-wrong-type", HIVEPORT_E_WRONG_TYPE, "\"Ports\" is REG_SZ, not REG_MULTI_SZ"},
        {"software-rpc-incomplete", HIVEPORT_E_BAD_DATA, "has no \"PortsInternetAvailable\""},
        {"software-rpc-no-use", HIVEPORT_E_BAD_DATA, "has no \"UseInternetPorts\""},
        {"software-rpc-invalid-flags", HIVEPORT_E_BAD_DATA, "\"PortsInternetAvailable\" is not \"Y\" or \"N\""},
        {"software-rpc-hidden", HIVEPORT_E_BAD_DATA,
         "string 2 is empty: the RPC runtime stops reading there and ignores the 1 string after it"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = tu_fixture_copy(tu_dir, cases[i].fixture);
        hiveport *h = tu_open_or_fail(path, 0);
        expect_problem(h, cases[i].rc, cases[i].text);
        expect_problem(h, cases[i].rc, "Microsoft\\Rpc\\Internet");
        hiveport_close(h);
        free(path);
    }
}
END_TEST

/* Every form of Ports the issue names (and more), written by another tool, then read. */
START_TEST(get_every_ports_form)
{
    static const struct {
        const char *text; /* strings separated by NUL, final terminator included */
        size_t len;
        int rc;
        const char *expect; /* the normalised list, or a part of the message */
        uint32_t count;
    } cases[] = {
#define C(lit, rc, expect, ...) {lit, sizeof lit - 1, rc, expect, __VA_ARGS__ + 0}
        C("5000-\0\0", HIVEPORT_E_BAD_DATA, "string 1, \"5000-\": the range has no high end"),
        C("-5\0\0", HIVEPORT_E_BAD_DATA, "string 1, \"-5\": a negative port"),
        C("70000\0\0", HIVEPORT_E_BAD_DATA, "string 1, \"70000\": the port is above 65535"),
        C("5100-5000\0\0", HIVEPORT_E_BAD_DATA, "string 1, \"5100-5000\": the low end is above the high end"),
        C("abc\0\0", HIVEPORT_E_BAD_DATA, "string 1, \"abc\": not a port number"),
        C("\0\0", HIVEPORT_E_BAD_DATA, "it lists no port"),
        C("", HIVEPORT_E_BAD_DATA, "it lists no port"),
        C("5000-5100\0\0" "6000\0\0", HIVEPORT_E_BAD_DATA, "string 2 is empty"),
        C("5000 \0\0", HIVEPORT_E_BAD_DATA, "a blank after the port"),
        C("5000 -5100\0\0", HIVEPORT_E_BAD_DATA, "a blank after the port"),
        C("5000-5100x\0\0", HIVEPORT_E_BAD_DATA, "text after the high end"),
        C("1-2-3\0\0", HIVEPORT_E_BAD_DATA, "text after the high end"),
        C("5000--6000\0\0", HIVEPORT_E_BAD_DATA, "a negative high end"),
        C("5000-65536\0\0", HIVEPORT_E_BAD_DATA, "the high end is above 65535"),
        C("-\0\0", HIVEPORT_E_BAD_DATA, "the range has no low end"),
        C("0-\0\0", HIVEPORT_E_BAD_DATA, "the range has no high end"),
        C("99999999999999999999\0\0", HIVEPORT_E_BAD_DATA, "above 65535"),
        C("5000,5100\0\0", HIVEPORT_E_BAD_DATA, "only '-' and a high end may follow the port"),
        C("0x1388\0\0", HIVEPORT_E_BAD_DATA, "only '-' and a high end may follow the port"),
        C(" 5000\0\0", HIVEPORT_OK, "5000", 1),
        C("+5000\0\0", HIVEPORT_OK, "5000", 1),
        C("\t5000-\t5100 \r\n\0\0", HIVEPORT_OK, "5000-5100", 101),
        C("005000-+05001\0\0", HIVEPORT_OK, "5000-5001", 2),
        C("-0\0\0", HIVEPORT_OK, "0", 1),
        C("0-65535\0\0", HIVEPORT_OK, "0-65535", 65536),
        C("6000\0" "5000-5999\0" "7000\0\0", HIVEPORT_OK, "5000-6000,7000", 1002),
        C("5000-5100", HIVEPORT_OK, "5000-5100", 101), /* no terminator at all */
        C("5000-5100\0\0\0\0", HIVEPORT_OK, "5000-5100", 101),
#undef C
    };
    char *path = tu_fixture_copy(tu_dir, "software-rpc-inside");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        size_t len = tu_utf16(cases[i].text, cases[i].len, buf);
        put_raw(path, RPC_KEY, "Ports", hive_t_REG_MULTI_SZ, buf, len);
        hiveport *h = tu_open_or_fail(path, 0);
        if (cases[i].rc == HIVEPORT_OK)
            expect_range(h, cases[i].expect, 'Y', 'Y', cases[i].count);
        else
            expect_problem(h, cases[i].rc, cases[i].expect);
        hiveport_close(h);
    }
    /* A character outside ASCII. */
    char buf[32];
    size_t len = U16("5000\0\0", buf);
    buf[1] = 0x01; /* U+0135 */
    put_raw(path, RPC_KEY, "Ports", hive_t_REG_MULTI_SZ, buf, len);
    hiveport *h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_BAD_DATA, "string 1, \"?000\": a character other than");
    hiveport_close(h);
    /* REG_SZ and REG_EXPAND_SZ instead of REG_MULTI_SZ. */
    len = U16("5000-5100\0", buf);
    put_raw(path, RPC_KEY, "Ports", hive_t_REG_SZ, buf, len);
    h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_WRONG_TYPE, "\"Ports\" is REG_SZ, not REG_MULTI_SZ");
    hiveport_close(h);
    put_raw(path, RPC_KEY, "Ports", hive_t_REG_EXPAND_SZ, buf, len);
    h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_WRONG_TYPE, "is REG_EXPAND_SZ");
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(get_every_flag_form)
{
    static const struct {
        const char *text;
        size_t len;
        hive_type type;
        int rc;
        char yn;
        const char *why;
    } cases[] = {
#define C(lit, type, rc, yn, why) {lit, sizeof lit - 1, type, rc, yn, why}
        C("Y\0", hive_t_REG_SZ, HIVEPORT_OK, 'Y', NULL),
        C("y\0", hive_t_REG_SZ, HIVEPORT_OK, 'Y', NULL),
        C("N\0", hive_t_REG_SZ, HIVEPORT_OK, 'N', NULL),
        C("n\0", hive_t_REG_SZ, HIVEPORT_OK, 'N', NULL),
        C("Y", hive_t_REG_SZ, HIVEPORT_OK, 'Y', NULL), /* no terminator: 2 bytes */
        C("Yes\0", hive_t_REG_SZ, HIVEPORT_E_BAD_DATA, 0, "8 bytes long; the RPC runtime reads at most 4"),
        C("Y\0\0", hive_t_REG_SZ, HIVEPORT_E_BAD_DATA, 0, "6 bytes long"),
        C(" Y\0", hive_t_REG_SZ, HIVEPORT_E_BAD_DATA, 0, "6 bytes long"),
        C("\0", hive_t_REG_SZ, HIVEPORT_E_BAD_DATA, 0, "does not start with Y or N"),
        C("", hive_t_REG_SZ, HIVEPORT_E_BAD_DATA, 0, "it is empty"),
        C("T\0", hive_t_REG_SZ, HIVEPORT_E_BAD_DATA, 0, "does not start with Y or N"),
        C("Y\0", hive_t_REG_EXPAND_SZ, HIVEPORT_E_WRONG_TYPE, 0, "is REG_EXPAND_SZ, not REG_SZ"),
        C("Y\0\0", hive_t_REG_MULTI_SZ, HIVEPORT_E_WRONG_TYPE, 0, "is REG_MULTI_SZ, not REG_SZ"),
#undef C
    };
    char *path = tu_fixture_copy(tu_dir, "software-rpc-inside");
    for (int which = 0; which < 2; which++) {
        const char *name = which ? "UseInternetPorts" : "PortsInternetAvailable";
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char buf[16];
            size_t len = tu_utf16(cases[i].text, cases[i].len, buf);
            put_raw(path, RPC_KEY, name, cases[i].type, buf, len);
            hiveport *h = tu_open_or_fail(path, 0);
            struct rpc_read r = rpc_read(h);
            ck_assert_msg(r.rc == cases[i].rc, "%s case %zu: %d %s", name, i, r.rc, hiveport_errmsg(h));
            if (r.rc == HIVEPORT_OK) {
                ck_assert_int_eq(which ? r.use_internet : r.available, cases[i].yn);
                hiveport_free(r.ports);
            } else {
                ck_assert_errmsg_has(h, name);
                ck_assert_errmsg_has(h, cases[i].why);
            }
            hiveport_close(h);
        }
        char y[4];
        put_raw(path, RPC_KEY, name, hive_t_REG_SZ, y, U16("Y\0", y));
    }
    /* A REG_DWORD, as a script might write it. */
    put_raw(path, RPC_KEY, "UseInternetPorts", hive_t_REG_DWORD, "\1\0\0\0", 4);
    hiveport *h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_WRONG_TYPE, "\"UseInternetPorts\" is REG_DWORD, not REG_SZ");
    hiveport_close(h);
    free(path);
}
END_TEST

/* ---- Writing ----------------------------------------------------------------------------------------- */

START_TEST(set_refuses_every_malformed_list)
{
    static const struct {
        const char *ports, *text;
    } cases[] = {
        {"5000-", "entry 1, \"5000-\": the range has no high end"},
        {"-5", "entry 1, \"-5\": the range has no low end"},
        {"70000", "entry 1, \"70000\": the port is above 65535"},
        {"5100-5000", "entry 1, \"5100-5000\": the low end is above the high end"},
        {"abc", "entry 1, \"abc\": only digits and one '-' may appear"},
        {"", "entry 1, \"\": the entry is empty"},
        {"5000,,5100", "entry 2, \"\": the entry is empty"},
        {"5000,", "entry 2, \"\": the entry is empty"},
        {" ", "entry 1, \"\": the entry is empty"},
        {"5000-5100,5000 - 5100", "entry 2, \"5000 - 5100\": only digits"},
        {"+5000", "entry 1, \"+5000\": only digits"},
        {"0x1388", "entry 1, \"0x1388\": only digits"},
        {"1-2-3", "more than one '-'"},
        {"5000-65536", "above 65535"},
        {"5000;5100", "only digits"},
        {"1234567890123456789012345678901234567890123456789", "entry 1, \"1234567890123456789012345678901234567890...\": "
                                                              "the entry is too long"},
    };
    char *path = tu_fixture_copy(tu_dir, "software-rpc-inside");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t count = 7;
        ck_assert_int_eq(hiveport_rpc_set(h, cases[i].ports, 'Y', 'Y', &count), HIVEPORT_E_INVALID_ARG);
        ck_assert_errmsg_has(h, "invalid RPC port list");
        ck_assert_errmsg_has(h, cases[i].text);
        ck_assert_uint_eq(count, 0);
        ck_assert_int_eq(hiveport_has_changes(h), 0);
        char *text = NULL; /* with no handle, the reason comes back in text */
        ck_assert_int_eq(hiveport_rpc_warnings(cases[i].ports, 'Y', &text), HIVEPORT_E_INVALID_ARG);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(strstr(hiveport_errmsg(h), text) != NULL, "%s", text);
        hiveport_free(text);
    }
    ck_assert_int_eq(hiveport_rpc_set(h, "5000", 'x', 0, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_errmsg_has(h, "PortsInternetAvailable must be 'Y', 'N' or 0");
    ck_assert_int_eq(hiveport_rpc_set(h, "5000", 0, '1', NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_errmsg_has(h, "UseInternetPorts must be");
    ck_assert_int_eq(hiveport_rpc_set(NULL, "5000", 0, 0, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, tu_fixture_path("software-rpc-inside")));
    free(path);
}
END_TEST

START_TEST(set_creates_normalised_configuration)
{
    char *path = tu_fixture_copy(tu_dir, "software-plain");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    uint32_t count = 0;
    ck_assert_int_eq(hiveport_rpc_set(h, " 7000,5200,5000-5100, 5050-5150,5151-5160,05200-5200 ", 0, 0, &count),
                     HIVEPORT_OK);
    ck_assert_uint_eq(count, 163);
    ck_assert_int_eq(hiveport_has_changes(h), 1);
    expect_range(h, "5000-5160,5200,7000", 'Y', 'Y', 163); /* visible before the commit */
    ck_assert(tu_same_bytes(path, tu_fixture_path("software-plain")));
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);

    h = tu_open_or_fail(path, 0);
    expect_range(h, "5000-5160,5200,7000", 'Y', 'Y', 163);
    ck_assert_int_eq(hiveport_is_dirty(h), 0);
    hiveport_close(h);
    /* "5000-5160" NUL "5200" NUL "7000" NUL NUL, flags "Y" with their terminator; nothing else changed. */
    tu_expect_diff(before, path,
                "\\Microsoft\\Rpc\\Internet\n"
                "\\Microsoft\\Rpc\\Internet:Ports=7:35003000300030002d003500310036003000000035003200300030000000"
                "370030003000300000000000\n"
                "\\Microsoft\\Rpc\\Internet:PortsInternetAvailable=1:59000000\n"
                "\\Microsoft\\Rpc\\Internet:UseInternetPorts=1:59000000\n",
                "");
    free(before);
    free(path);
}
END_TEST

START_TEST(set_flags_and_lowercase)
{
    char *path = tu_fixture_copy(tu_dir, "software-plain");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, "5000-6100", 'n', 'y', NULL), HIVEPORT_OK);
    expect_range(h, "5000-6100", 'N', 'Y', 1101);
    /* ports NULL keeps Ports; a flag given replaces, 0 keeps. */
    ck_assert_int_eq(hiveport_rpc_set(h, NULL, 'Y', 0, NULL), HIVEPORT_OK);
    expect_range(h, "5000-6100", 'Y', 'Y', 1101);
    ck_assert_int_eq(hiveport_rpc_set(h, NULL, 0, 'N', NULL), HIVEPORT_OK);
    expect_range(h, "5000-6100", 'Y', 'N', 1101);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    char *dump = tu_dump_hive(path);
    ck_assert_ptr_nonnull(strstr(dump, "Internet:PortsInternetAvailable=1:59000000\n"));
    ck_assert_ptr_nonnull(strstr(dump, "Internet:UseInternetPorts=1:4e000000\n"));
    free(dump);
    free(path);

    path = tu_fixture_copy(tu_dir, "software-plain"); /* nothing to keep */
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, NULL, 'Y', 'Y', NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_errmsg_has(h, "has no \"Ports\" to keep: give the ports");
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(h);
    free(path);
}
END_TEST

/* The same list, the same flags: no change recorded, nothing written, not even the time. */
START_TEST(set_unchanged_writes_nothing)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-inside");
    struct stat before;
    ck_assert_int_eq(tu_stat(path, &before), 0);
    sleep(1);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    uint32_t count = 0;
    ck_assert_int_eq(hiveport_rpc_set(h, "5900-6001", 0, 0, &count), HIVEPORT_OK);
    ck_assert_uint_eq(count, 102);
    ck_assert_int_eq(hiveport_rpc_set(h, "6000-6001,5900-5999", 'y', 'Y', NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_rpc_set(h, NULL, 0, 0, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_rpc_set(h, "5900-6001", 'Y', 'Y', NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_assert_unwritten(path, &before, tu_fixture_path("software-rpc-inside"));
    free(path);
}
END_TEST

/* A tolerated but irregular list is rewritten normalised when set, even to the same ports. */
START_TEST(set_normalises_tolerated_values)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-tolerated");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, "5000-5200,6000-6010,7000", 'Y', 'N', NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_has_changes(h), 1);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    char *after = tu_dump_hive(path);
    char *added = tu_lines_added_in_order(before, after);
    ck_assert_ptr_nonnull(strstr(added, "Internet:Ports=7:35003000300030002d0035003200300030000000"));
    ck_assert_ptr_nonnull(strstr(added, "Internet:PortsInternetAvailable=1:59000000\n"));
    ck_assert_ptr_nonnull(strstr(added, "Internet:UseInternetPorts=1:4e000000\n"));
    free(added);
    free(after);
    free(before);
    free(path);
}
END_TEST

START_TEST(set_repairs_and_keeps_other_values)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-malformed");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    /* PortsInternetAvailable "Yes" is invalid: not replaced unless given. */
    ck_assert_int_eq(hiveport_rpc_set(h, "6000-6100", 0, 0, NULL), HIVEPORT_E_BAD_DATA);
    ck_assert_errmsg_has(h, "\"PortsInternetAvailable\" is not \"Y\" or \"N\"");
    ck_assert_errmsg_has(h, "give the flag to replace it");
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    ck_assert_int_eq(hiveport_rpc_set(h, "6000-6100", 'N', 0, NULL), HIVEPORT_OK);
    expect_range(h, "6000-6100", 'N', 'Y', 101);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_expect_diff(before, path,
                "\\Microsoft\\Rpc\\Internet:Ports=7:36003000300030002d00360031003000300000000000\n"
                "\\Microsoft\\Rpc\\Internet:PortsInternetAvailable=1:4e000000\n",
                "\\Microsoft\\Rpc\\Internet:Ports=7:35003000300030002d00350031003000300000003500300030003000"
                "2d0000000000\n"
                "\\Microsoft\\Rpc\\Internet:PortsInternetAvailable=1:5900650073000000\n");
    free(before);
    free(path);

    /* Ports of the wrong type is replaced; missing flags get Y. */
    path = tu_fixture_copy(tu_dir, "software-rpc-wrong-type");
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, "7000-7999", 0, 0, NULL), HIVEPORT_OK);
    expect_range(h, "7000-7999", 'Y', 'Y', 1000);
    hiveport_close(h);
    free(path);
    /* Flags only, on a configuration that lacks them: defaults written, Ports kept byte for byte. */
    path = tu_fixture_copy(tu_dir, "software-rpc-incomplete");
    before = tu_dump_hive(path);
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, NULL, 0, 0, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    expect_range(h, "5000-5100", 'Y', 'Y', 101);
    hiveport_close(h);
    tu_expect_diff(before, path,
                "\\Microsoft\\Rpc\\Internet:PortsInternetAvailable=1:59000000\n"
                "\\Microsoft\\Rpc\\Internet:UseInternetPorts=1:59000000\n",
                "");
    free(before);
    free(path);
    /* Keeping an invalid Ports is refused. */
    path = tu_fixture_copy(tu_dir, "software-rpc-invalid");
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, NULL, 'Y', 'Y', NULL), HIVEPORT_E_BAD_DATA);
    ck_assert_errmsg_has(h, "\"70000\"");
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(set_refuses_other_hives_and_readonly)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, "5000-5100", 0, 0, NULL), HIVEPORT_E_NOT_HIVE);
    ck_assert_errmsg_has(h, "not a SOFTWARE hive");
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(h);
    free(path);

    path = tu_fixture_copy(tu_dir, "software-rpc-inside");
    h = tu_open_or_fail(path, 0);
    ck_assert_int_eq(hiveport_rpc_set(h, "5000-5100", 0, 0, NULL), HIVEPORT_E_READONLY);
    ck_assert_errmsg_has(h, "opened read-only");
    ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_E_READONLY);
    ck_assert_int_eq(hiveport_dcom_set_port(h, "{D99E6E74-FC88-11D0-B498-00A0C90312F3}", 5000),
                     HIVEPORT_E_READONLY);
    hiveport_close(h);
    free(path);
}
END_TEST

/* A second writer waits for the lock; the commit keeps a backup and replaces the file atomically. */
START_TEST(set_follows_the_write_rules)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-inside"), *backup = NULL;
    if (asprintf(&backup, "%s/SOFTWARE.bak", tu_dir) < 0)
        abort();
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE), *other = NULL;
    hiveport_options opts;
    hiveport_options_init(&opts);
    opts.flags = HIVEPORT_OPEN_WRITE;
    opts.lock_timeout_ms = 0;
    ck_assert_int_eq(hiveport_open_ext(path, &opts, &other), HIVEPORT_E_LOCKED);
    hiveport_close(other);
    ck_assert_int_eq(hiveport_rpc_set(h, "6100-6300", 0, 0, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, backup), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert(tu_same_bytes(backup, tu_fixture_path("software-rpc-inside")));
    h = tu_open_or_fail(path, 0);
    expect_range(h, "6100-6300", 'Y', 'Y', 201);
    hiveport_close(h);
    free(backup);
    free(path);
}
END_TEST

/* ---- Removing ---------------------------------------------------------------------------------------- */

START_TEST(clear_deletes_the_key)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-malformed");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_OK);
    expect_problem(h, HIVEPORT_E_NOT_SET, "is absent");
    ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_OK); /* nothing left to remove */
    ck_assert_int_eq(hiveport_rpc_clear(h, HIVEPORT_RPC_CLEAR_KEEP_KEY), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_rpc_clear(h, 0x10), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_NOT_SET, "is absent");
    hiveport_close(h);
    tu_expect_diff(before, path, "",
                "\\Microsoft\\Rpc\\Internet\n"
                "\\Microsoft\\Rpc\\Internet:Comment=1:6b0065007000740020006200790020006500760065007200790020006500"
                "6400690074000000\n"
                "\\Microsoft\\Rpc\\Internet:Ports=7:35003000300030002d00350031003000300000003500300030003000"
                "2d0000000000\n"
                "\\Microsoft\\Rpc\\Internet:PortsInternetAvailable=1:5900650073000000\n"
                "\\Microsoft\\Rpc\\Internet:UseInternetPorts=1:59000000\n");
    free(before);
    free(path);
}
END_TEST

START_TEST(clear_keep_key_removes_values)
{
    char *path = tu_fixture_copy(tu_dir, "software-rpc-malformed");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_clear(h, HIVEPORT_RPC_CLEAR_KEEP_KEY), HIVEPORT_OK);
    /* An Internet key without its values is what Windows reads as an invalid configuration. */
    expect_problem(h, HIVEPORT_E_BAD_DATA, "has no \"Ports\"");
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_expect_diff(before, path, "",
                "\\Microsoft\\Rpc\\Internet:Ports=7:35003000300030002d00350031003000300000003500300030003000"
                "2d0000000000\n"
                "\\Microsoft\\Rpc\\Internet:PortsInternetAvailable=1:5900650073000000\n"
                "\\Microsoft\\Rpc\\Internet:UseInternetPorts=1:59000000\n");
    free(before);
    free(path);

    path = tu_fixture_copy(tu_dir, "software-plain"); /* no key: nothing to do */
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_rpc_clear(h, HIVEPORT_RPC_CLEAR_KEEP_KEY), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(h);
    free(path);
}
END_TEST

/* Set, then clear, in one session: the new key goes again and the hive reads as before. */
START_TEST(set_then_clear_in_one_session)
{
    char *path = tu_fixture_copy(tu_dir, "software-plain");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_set(h, "5000-5100", 0, 0, NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_rpc_set(h, "5000-5200", 'N', 'N', NULL), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_expect_diff(before, path, "", "");
    free(before);
    free(path);
}
END_TEST

/* ---- Advice ------------------------------------------------------------------------------------------ */

START_TEST(warnings_follow_kb_154596)
{
    char *text = NULL;
    ck_assert_int_eq(hiveport_rpc_warnings("6000-6100", 'Y', &text), HIVEPORT_OK);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(hiveport_rpc_warnings("6000-6100", 0, &text), HIVEPORT_OK);
    ck_assert_ptr_null(text);

    ck_assert_int_eq(hiveport_rpc_warnings("7100,7000-7049", 'Y', &text), HIVEPORT_OK);
    ck_assert_str_eq(text, "Ports 7000-7049,7100 leaves dynamic RPC only 51 ports: KB 154596 advises at least 100.\n");
    hiveport_free(text);

    ck_assert_int_eq(hiveport_rpc_warnings("4900-5100", 'y', &text), HIVEPORT_OK);
    ck_assert_str_eq(text, "Ports 4900-5100 has 101 ports in 1025-5000, the dynamic port range of Windows 2000 and "
                           "Server 2003: other programs' connections may hold them.\n");
    hiveport_free(text);

    ck_assert_int_eq(hiveport_rpc_warnings("0-65535", 'Y', &text), HIVEPORT_OK);
    ck_assert_ptr_nonnull(strstr(text, "has 3976 ports in 1025-5000"));
    ck_assert_ptr_nonnull(strstr(text, "has 16384 ports in 49152-65535, the dynamic port range of Windows Vista"));
    ck_assert_ptr_nonnull(strstr(text, "includes 53, 88, 123, 135, 137, 138, 139, 389, 445, 464, 636, 3268, 3269, "
                                       "which Windows services listen on"));
    ck_assert_ptr_null(strstr(text, "advises"));
    hiveport_free(text);

    ck_assert_int_eq(hiveport_rpc_warnings("135", 'Y', &text), HIVEPORT_OK);
    ck_assert_str_eq(text, "Ports 135 leaves dynamic RPC only 1 port: KB 154596 advises at least 100.\n"
                           "Ports 135 includes 135, which Windows services listen on (KB 270836, KB 179442).\n");
    hiveport_free(text);
    ck_assert_int_eq(hiveport_rpc_warnings("0", 'Y', &text), HIVEPORT_OK); /* port 0 is never handed out */
    ck_assert_ptr_nonnull(strstr(text, "only 0 ports"));
    hiveport_free(text);

    /* An exclusion list: what is left of 1025-65535 counts; overlaps are what the list is for. */
    ck_assert_int_eq(hiveport_rpc_warnings("5000-65535,135", 'N', &text), HIVEPORT_OK);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(hiveport_rpc_warnings("1025-65450", 'n', &text), HIVEPORT_OK);
    ck_assert_str_eq(text, "Excluding 1025-65450 leaves dynamic RPC only 85 ports of 1025-65535: KB 154596 advises "
                           "at least 100.\n");
    hiveport_free(text);
    ck_assert_int_eq(hiveport_rpc_warnings("1-1024,1025-65435", 'N', &text), HIVEPORT_OK);
    ck_assert_ptr_null(text); /* 100 left */

    ck_assert_int_eq(hiveport_rpc_warnings("5000", 'x', &text), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(hiveport_rpc_warnings(NULL, 'Y', &text), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_rpc_warnings("5000", 'Y', NULL), HIVEPORT_E_INVALID_ARG);
    hiveport_free(NULL);
}
END_TEST

/* ---- The audit's cross-check, on ranges hiveport wrote ------------------------------------------------- */

static int by_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The codes and ports of an audit of audit-clean against the SOFTWARE hive at sw_path, as "code:port ...",
 * sorted. */
static char *audit_codes(const char *sw_path)
{
    char *sys_path = tu_fixture_copy(tu_dir, "audit-clean");
    hiveport *sys = tu_open_or_fail(sys_path, 0), *sw = tu_open_or_fail(sw_path, 0);
    hiveport_findings *f = NULL;
    ck_assert_int_eq(hiveport_audit(sys, sw, &f), HIVEPORT_OK);
    size_t n = hiveport_findings_count(f);
    char (*items)[64] = calloc(n + 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        snprintf(items[i], sizeof items[i], "%s:%u", x->code, x->port);
    }
    qsort(items, n, sizeof *items, by_text);
    char *out = calloc(1, 4096);
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(out + used, 4096 - used, "%s%s", used ? " " : "", items[i]);
    free(items);
    hiveport_findings_free(f);
    hiveport_close(sw);
    hiveport_close(sys);
    free(sys_path);
    return out;
}

START_TEST(audit_cross_checks_written_ranges)
{
    static const struct {
        const char *ports;
        char available;
        const char *findings;
    } cases[] = {
        /* audit-clean pins 5001-5007, 6001, 6002 and 6004. */
        {"6000-6100", 'Y', "port-in-rpc-range:6001 port-in-rpc-range:6002 port-in-rpc-range:6004"},
        {"5000-5010", 'Y', "port-in-rpc-range:5001 port-in-rpc-range:5002 port-in-rpc-range:5003 "
                           "port-in-rpc-range:5004 port-in-rpc-range:5005 port-in-rpc-range:5006 "
                           "port-in-rpc-range:5007 rpc-range-small:0"},
        {"7000-7049", 'Y', "rpc-range-small:0"},
        {"5000-6100", 'N', ""},
        {"7000-8000", 'Y', ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = tu_fixture_copy(tu_dir, "software-plain");
        hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
        ck_assert_int_eq(hiveport_rpc_set(h, cases[i].ports, cases[i].available, 'Y', NULL), HIVEPORT_OK);
        ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
        hiveport_close(h);
        char *codes = audit_codes(path);
        ck_assert_msg(strcmp(codes, cases[i].findings) == 0, "%s %c: %s", cases[i].ports, cases[i].available, codes);
        free(codes);
        h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
        ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_OK);
        ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
        hiveport_close(h);
        codes = audit_codes(path);
        ck_assert_str_eq(codes, "");
        free(codes);
        free(path);
    }
}
END_TEST

/* ---- DCOM -------------------------------------------------------------------------------------------- */

#define CERTSVC "{D99E6E74-FC88-11D0-B498-00A0C90312F3}"
#define APPID(d) "{" d d d d d d d d "-" d d d d "-" d d d d "-" d d d d "-" d d d d d d d d d d d d "}"

START_TEST(dcom_get_port)
{
    char *path = tu_fixture_copy(tu_dir, "software-plain");
    hiveport *h = tu_open_or_fail(path, 0);
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_dcom_get_port(h, APPID("1"), &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 5050);
    ck_assert_int_eq(hiveport_dcom_get_port(h, "{11111111-1111-1111-1111-111111111111}", &port), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_dcom_get_port(h, "{d99e6e74-fc88-11d0-b498-00a0c90312f3}", &port),
                     HIVEPORT_E_NOT_SET);
    ck_assert_errmsg_has(h, "has no \"Endpoints\"");
    ck_assert_int_eq(hiveport_dcom_get_port(h, APPID("2"), &port), HIVEPORT_E_NOT_SET);
    ck_assert_errmsg_has(h, "has no ncacn_ip_tcp endpoint");
    ck_assert_int_eq(hiveport_dcom_get_port(h, APPID("3"), &port), HIVEPORT_E_BAD_DATA);
    ck_assert_errmsg_has(h, "string 1, \"ncacn_ip_tcp,0,70000\", is not");
    ck_assert_int_eq(hiveport_dcom_get_port(h, APPID("4"), &port), HIVEPORT_E_WRONG_TYPE);
    ck_assert_errmsg_has(h, "\"Endpoints\" is REG_SZ, not REG_MULTI_SZ");
    ck_assert_int_eq(hiveport_dcom_get_port(h, APPID("5"), &port), HIVEPORT_E_BAD_DATA);
    ck_assert_errmsg_has(h, "two TCP endpoints, \"NCACN_IP_TCP, 0, 5001\" and \"ncacn_ip_tcp,0,5002\"");
    ck_assert_int_eq(hiveport_dcom_get_port(h, APPID("6"), &port), HIVEPORT_E_NOT_SET);
    ck_assert_errmsg_has(h, "no AppID {66666666-6666-6666-6666-666666666666} in Classes\\AppID");
    static const char *const bad[] = {
        "D99E6E74-FC88-11D0-B498-00A0C90312F3", "{D99E6E74-FC88-11D0-B498-00A0C90312F}",
        "{D99E6E74-FC88-11D0-B498-00A0C90312F3}x", "{G99E6E74-FC88-11D0-B498-00A0C90312F3}",
        "{D99E6E74FC88-11D0-B498-00A0C90312F3-}", "", "{D99E6E74-FC88-11D0-B498-00A0C90312F3\\Endpoints}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(hiveport_dcom_get_port(h, bad[i], &port), HIVEPORT_E_INVALID_ARG);
        ck_assert_errmsg_has(h, "is not a braced GUID");
    }
    ck_assert_int_eq(hiveport_dcom_get_port(h, NULL, &port), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_dcom_get_port(h, CERTSVC, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_dcom_get_port(NULL, CERTSVC, &port), HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(dcom_set_port)
{
    char *path = tu_fixture_copy(tu_dir, "software-plain");
    char *before = tu_dump_hive(path);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("1"), 5050), HIVEPORT_OK); /* already */
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    ck_assert_int_eq(hiveport_dcom_set_port(h, CERTSVC, 5010), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_dcom_get_port(h, CERTSVC, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 5010);
    ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("1"), 6000), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("2"), 6001), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("3"), 6002), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("5"), 6003), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("4"), 6004), HIVEPORT_E_WRONG_TYPE);
    ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("6"), 6005), HIVEPORT_E_NOT_SET);
    ck_assert_errmsg_has(h, "not registered");
    ck_assert_int_eq(hiveport_dcom_set_port(h, CERTSVC, 0), HIVEPORT_E_RANGE);
    ck_assert_int_eq(hiveport_dcom_set_port(h, CERTSVC, 65536), HIVEPORT_E_RANGE);
    ck_assert_int_eq(hiveport_dcom_set_port(h, "CertSvc", 5000), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);

    h = tu_open_or_fail(path, 0);
    static const struct {
        const char *appid;
        uint32_t port;
    } expected[] = {{CERTSVC, 5010}, {APPID("1"), 6000}, {APPID("2"), 6001}, {APPID("3"), 6002}, {APPID("5"), 6003}};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        ck_assert_int_eq(hiveport_dcom_get_port(h, expected[i].appid, &port), HIVEPORT_OK);
        ck_assert_uint_eq(port, expected[i].port);
    }
    hiveport_close(h);
    /* The other strings keep their bytes and their places; the TCP one takes the first TCP one's place. */
    char *after = tu_dump_hive(path);
    char want[512], hex[400];
    static const struct {
        const char *appid, *strings;
        size_t len;
    } values[] = {
#define V(id, lit) {id, lit, sizeof lit - 1}
        V(CERTSVC, "ncacn_ip_tcp,0,5010\0\0"),
        V(APPID("1"), "ncacn_np,0,\\pipe\\one\0ncacn_ip_tcp,0,6000\0ncalrpc,0,one\0\0"),
        V(APPID("2"), "ncacn_np,0,\\pipe\\two\0ncacn_ip_tcp,0,6001\0\0"),
        V(APPID("3"), "ncacn_ip_tcp,0,6002\0\0"),
        V(APPID("5"), "ncacn_ip_tcp,0,6003\0\0"),
#undef V
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        size_t k = 0;
        for (size_t j = 0; j < values[i].len; j++)
            k += (size_t)sprintf(hex + k, "%02x00", (unsigned char)values[i].strings[j]);
        snprintf(want, sizeof want, "\\Classes\\AppID\\%s:Endpoints=7:%s\n", values[i].appid, hex);
        ck_assert_msg(strstr(after, want) != NULL, "no %s", want);
    }
    char *added = tu_lines_added_in_order(before, after), *removed = tu_lines_added_in_order(after, before);
    /* Five values written, four replaced; nothing else. */
    size_t nadded = 0, nremoved = 0;
    for (const char *c = added; *c; c++)
        nadded += *c == '\n';
    for (const char *c = removed; *c; c++)
        nremoved += *c == '\n';
    ck_assert_uint_eq(nadded, 5);
    ck_assert_uint_eq(nremoved, 4);
    ck_assert_ptr_null(strstr(removed, "LocalService"));
    free(added);
    free(removed);
    free(after);
    free(before);
    free(path);
}
END_TEST

/* ---- Through the hive's transaction logs (issue 21) --------------------------------------------------- */

/* A copy of fixture in tu_dir (NAME.hive) with NAME.hive.LOG1, a log of type `type` (6: new format, 1: old),
 * and an empty NAME.hive.LOG2, as beside an installed Windows hive: commits there take the logged commit. */
static char *with_logs(const char *fixture, uint32_t type)
{
    char *path = tu_fixture_copy(tu_dir, fixture), *log1 = NULL, *log2 = NULL;
    if (asprintf(&log1, "%s.LOG1", path) < 0 || asprintf(&log2, "%s.LOG2", path) < 0)
        abort();
    tu_make_log(path, log1, type);
    tu_write_file(log2, (const unsigned char *)"", 0);
    free(log1);
    free(log2);
    return path;
}

/* Commits h and checks that the logged commit wrote it. */
static void commit_logged(hiveport *h)
{
    ck_assert_msg(hiveport_commit(h, NULL) == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    const char *report;
    ck_assert_msg(hiveport_commit_method(h, &report) == HIVEPORT_COMMIT_LOG, "%s", report);
    ck_assert_msg(strstr(report, "logged commit") != NULL, "%s", report);
}

/* What libhivex, the independent reader, finds in the hive at path: whether key exists, and (name not NULL)
 * the data of its value name (free(); NULL when absent) with *t and *len. */
static char *hivex_find(const char *path, const char *key, const char *name, int *key_found, hive_type *t,
                        size_t *len)
{
    hive_h *hv = hivex_open(path, 0);
    ck_assert_msg(hv != NULL, "libhivex cannot open %s", path);
    hive_node_h node = hivex_root(hv);
    char *copy = strdup(key);
    for (char *save = NULL, *part = strtok_r(copy, "\\", &save); node != 0 && part;
         part = strtok_r(NULL, "\\", &save))
        node = hivex_node_get_child(hv, node, part);
    free(copy);
    *key_found = node != 0;
    hive_value_h v = node != 0 && name != NULL ? hivex_node_get_value(hv, node, name) : 0;
    char *data = v != 0 ? hivex_value_value(hv, v, t, len) : NULL;
    hivex_close(hv);
    return data;
}

/* libhivex finds key:name of type t holding exactly the n bytes of want. */
static void hivex_expect(const char *path, const char *key, const char *name, hive_type t, const char *want,
                         size_t n)
{
    int found;
    hive_type got_t = 0;
    size_t got_len = 0;
    char *got = hivex_find(path, key, name, &found, &got_t, &got_len);
    ck_assert_msg(got != NULL, "libhivex finds no %s:%s", key, name);
    ck_assert_int_eq(got_t, t);
    ck_assert_msg(got_len == n && memcmp(got, want, n) == 0, "libhivex reads another %s:%s", key, name);
    free(got);
}

/* rpc-range set and DCOM set on a SOFTWARE hive with logs: each commit goes through the log (the first
 * creates Microsoft\Rpc\Internet and its three values natively), libhivex reads what was written, the hive
 * passes the structural check, and the copy commit of the same changes writes the same bytes. */
static void rpc_and_dcom_logged(uint32_t type)
{
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    char *path = with_logs("software-plain", type);
    char *copy = NULL;
    if (asprintf(&copy, "%s/copy.hive", tu_dir) < 0)
        abort();
    ck_assert_int_eq(tu_copy(path, copy), 0);
    const char *targets[] = {path, copy};
    for (int i = 0; i < 2; i++) {
        hiveport *h = tu_open_or_fail(targets[i], HIVEPORT_OPEN_WRITE | (i ? HIVEPORT_OPEN_COMMIT_COPY : 0));
        ck_assert_int_eq(hiveport_rpc_set(h, "5100,5000-5050", 'Y', 'N', NULL), HIVEPORT_OK);
        if (i == 0)
            commit_logged(h);
        else
            ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
        ck_assert_int_eq(hiveport_dcom_set_port(h, CERTSVC, 5010), HIVEPORT_OK);
        ck_assert_int_eq(hiveport_dcom_set_port(h, APPID("1"), 6000), HIVEPORT_OK); /* among other strings */
        if (i == 0)
            commit_logged(h);
        else
            ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
        ck_assert_int_eq(hiveport_commit_method(h, NULL), i ? HIVEPORT_COMMIT_COPY : HIVEPORT_COMMIT_LOG);
        hiveport_close(h);
    }
    ck_assert_msg(tu_same_bytes(path, copy), "the logged commit and the copy commit write different hives");

    char buf[128];
    hivex_expect(path, RPC_KEY, "Ports", hive_t_REG_MULTI_SZ, buf, U16("5000-5050\0" "5100\0\0", buf));
    hivex_expect(path, RPC_KEY, "PortsInternetAvailable", hive_t_REG_SZ, buf, U16("Y\0", buf));
    hivex_expect(path, RPC_KEY, "UseInternetPorts", hive_t_REG_SZ, buf, U16("N\0", buf));
    hivex_expect(path, "Classes\\AppID\\" CERTSVC, "Endpoints", hive_t_REG_MULTI_SZ, buf,
                 U16("ncacn_ip_tcp,0,5010\0\0", buf));
    hivex_expect(path, "Classes\\AppID\\" APPID("1"), "Endpoints", hive_t_REG_MULTI_SZ, buf,
                 U16("ncacn_np,0,\\pipe\\one\0ncacn_ip_tcp,0,6000\0ncalrpc,0,one\0\0", buf));
    tu_assert_check_clean(path);
    hiveport *h = tu_open_or_fail(path, 0);
    expect_range(h, "5000-5050,5100", 'Y', 'N', 52);
    ck_assert_int_eq(hiveport_is_dirty(h), 0);
    hiveport_close(h);
    free(copy);
    free(path);
    unsetenv("SOURCE_DATE_EPOCH");
}

START_TEST(rpc_and_dcom_logged_new_format)
{
    rpc_and_dcom_logged(6);
}
END_TEST

START_TEST(rpc_and_dcom_logged_old_format)
{
    rpc_and_dcom_logged(1);
}
END_TEST

/* rpc-range unset through the logs: the Internet key (its values, the class name and value of the malformed
 * fixture) goes natively, cells given back (the file does not grow); libhivex no longer finds it but still
 * finds Microsoft\Rpc; the structural check passes.  Keeping the key removes only the three values. */
START_TEST(rpc_clear_logged_deletes_natively)
{
    char *path = with_logs("software-rpc-malformed", 6);
    struct stat before, after;
    ck_assert_int_eq(tu_stat(path, &before), 0);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_clear(h, 0), HIVEPORT_OK);
    commit_logged(h);
    hiveport_close(h);
    ck_assert_int_eq(tu_stat(path, &after), 0);
    ck_assert_int_eq(after.st_size, before.st_size);
    int found;
    hive_type t;
    size_t len;
    ck_assert_ptr_null(hivex_find(path, RPC_KEY, NULL, &found, &t, &len));
    ck_assert_msg(!found, "libhivex still finds " RPC_KEY);
    ck_assert_ptr_null(hivex_find(path, "Microsoft\\Rpc", NULL, &found, &t, &len));
    ck_assert_msg(found, "libhivex no longer finds Microsoft\\Rpc");
    tu_assert_check_clean(path);
    h = tu_open_or_fail(path, 0);
    expect_problem(h, HIVEPORT_E_NOT_SET, "is absent");
    hiveport_close(h);
    free(path);

    path = with_logs("software-rpc-malformed", 1);
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_rpc_clear(h, HIVEPORT_RPC_CLEAR_KEEP_KEY), HIVEPORT_OK);
    commit_logged(h);
    hiveport_close(h);
    static const char *const names[] = {"Ports", "PortsInternetAvailable", "UseInternetPorts"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_ptr_null(hivex_find(path, RPC_KEY, names[i], &found, &t, &len));
        ck_assert(found);
    }
    char *comment = hivex_find(path, RPC_KEY, "Comment", &found, &t, &len);
    ck_assert_msg(comment != NULL, "the other value of the key went too");
    free(comment);
    tu_assert_check_clean(path);
    free(path);
}
END_TEST

/* ---- Allocation failures ----------------------------------------------------------------------------- */

/* Runs op on a fresh copy of fixture, failing the nth allocation for n = 1, 2, ... until it succeeds:
 * every failure is HIVEPORT_E_NOMEM, leaks nothing (valgrind, ASan) and leaves the file as it was. */
static void fail_every_allocation(const char *fixture, unsigned flags, int (*op)(hiveport *h))
{
    char *path = tu_fixture_copy(tu_dir, fixture);
    int succeeded = 0;
    for (unsigned long n = 1; n < 400 && !succeeded; n++) {
        hiveport *h = NULL;
        hp_alloc_fail_after(n);
        int rc = hiveport_open(path, flags, &h);
        if (rc == HIVEPORT_OK)
            rc = op(h);
        if (rc == HIVEPORT_OK && (flags & HIVEPORT_OPEN_WRITE))
            rc = hiveport_commit(h, NULL);
        hp_alloc_fail_after(0);
        ck_assert_msg(rc == HIVEPORT_OK || rc == HIVEPORT_E_NOMEM, "%s n=%lu: %d %s", fixture, n, rc,
                      hiveport_errmsg(h));
        hiveport_close(h);
        if (rc == HIVEPORT_OK)
            succeeded = 1;
        else
            ck_assert(tu_same_bytes(path, tu_fixture_path(fixture)));
    }
    ck_assert(succeeded);
    free(path);
}

static int op_get(hiveport *h)
{
    char *ports = NULL;
    int rc = hiveport_rpc_get(h, &ports, NULL, NULL, NULL);
    if (rc == HIVEPORT_OK)
        ck_assert_str_eq(ports, "5000-5200,6000-6010,7000");
    hiveport_free(ports);
    return rc;
}

static int op_set_new(hiveport *h)
{
    return hiveport_rpc_set(h, "5200,5000-5100", 0, 0, NULL);
}

static int op_set_existing(hiveport *h)
{
    return hiveport_rpc_set(h, "6000-6100", 'N', 'Y', NULL);
}

static int op_clear(hiveport *h)
{
    return hiveport_rpc_clear(h, 0);
}

static int op_clear_values(hiveport *h)
{
    return hiveport_rpc_clear(h, HIVEPORT_RPC_CLEAR_KEEP_KEY);
}

static int op_dcom_get(hiveport *h)
{
    uint32_t port;
    return hiveport_dcom_get_port(h, APPID("1"), &port);
}

static int op_dcom_set(hiveport *h)
{
    return hiveport_dcom_set_port(h, APPID("1"), 6000);
}

static int op_warnings(hiveport *h)
{
    (void)h;
    char *text = NULL;
    int rc = hiveport_rpc_warnings("0-65535", 'Y', &text);
    hiveport_free(text);
    return rc;
}

START_TEST(allocation_failures_are_clean)
{
    fail_every_allocation("software-rpc-tolerated", 0, op_get);
    fail_every_allocation("software-plain", HIVEPORT_OPEN_WRITE, op_set_new);
    fail_every_allocation("software-rpc-inside", HIVEPORT_OPEN_WRITE, op_set_existing);
    fail_every_allocation("software-rpc-inside", HIVEPORT_OPEN_WRITE, op_clear);
    fail_every_allocation("software-rpc-malformed", HIVEPORT_OPEN_WRITE, op_clear_values);
    fail_every_allocation("software-plain", 0, op_dcom_get);
    fail_every_allocation("software-plain", HIVEPORT_OPEN_WRITE, op_dcom_set);
    fail_every_allocation("software-plain", 0, op_warnings);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {get_absent_is_not_set, get_reads_valid_ranges,
                                  get_tolerates_what_windows_tolerates, get_reports_what_windows_rejects,
                                  get_every_ports_form, get_every_flag_form, set_refuses_every_malformed_list,
                                  set_creates_normalised_configuration, set_flags_and_lowercase,
                                  set_unchanged_writes_nothing, set_normalises_tolerated_values,
                                  set_repairs_and_keeps_other_values, set_refuses_other_hives_and_readonly,
                                  set_follows_the_write_rules, clear_deletes_the_key, clear_keep_key_removes_values,
                                  set_then_clear_in_one_session, warnings_follow_kb_154596,
                                  audit_cross_checks_written_ranges, dcom_get_port, dcom_set_port,
                                  rpc_and_dcom_logged_new_format, rpc_and_dcom_logged_old_format,
                                  rpc_clear_logged_deletes_natively, allocation_failures_are_clean, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "rpc", "rpc", 120, tu_setup_dir, tu_teardown_dir);
    return tu_run_tests(s, tc, tests);
}
