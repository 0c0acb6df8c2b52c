/* check_diff.c: hiveport_diff reports exactly what a write changed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hiveport.h"
#include "suite.h"
#include "testutil.h"

static void setup(void)
{
    tu_setup_dir();
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
}

static void teardown(void)
{
    unsetenv("SOURCE_DATE_EPOCH");
    tu_teardown_dir();
}

struct seen {
    char text[8192];
    int calls;
    int stop_after;
};

static int record(const hiveport_change *c, void *ctx)
{
    static const char *const kinds[] = {"key+", "key-", "time", "value+", "value-", "value~"};
    struct seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s %s%s%s | %s | %s\n", kinds[c->kind], c->key,
             c->value_name ? ":" : "", c->value_name ? c->value_name : "", c->old_text ? c->old_text : "-",
             c->new_text ? c->new_text : "-");
    s->calls++;
    return s->stop_after && s->calls >= s->stop_after;
}

static void diff_files(const char *a, const char *b, struct seen *s)
{
    hiveport *ha, *hb;
    ck_assert_int_eq(hiveport_open(a, 0, &ha), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_open(b, 0, &hb), HIVEPORT_OK);
    int rc = hiveport_diff(ha, hb, record, s);
    ck_assert_msg(rc == HIVEPORT_OK, "%s", hiveport_errmsg(hb));
    hiveport_close(ha);
    hiveport_close(hb);
}

static void set_port(const char *path, const char *id, uint32_t port)
{
    hiveport *h;
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find(id), HIVEPORT_CS_CURRENT, port, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
}

/* A copy of fixture with the setting id set to port: its diff against the fixture is exactly expected.  Returns
 * the copy's path (the caller frees it). */
static char *set_port_and_expect_diff(const char *fixture, const char *id, uint32_t port, const char *expected)
{
    char *path = tu_fixture_copy(tu_dir, fixture);
    set_port(path, id, port);
    struct seen s = {0};
    diff_files(tu_fixture_path(fixture), path, &s);
    ck_assert_str_eq(s.text, expected);
    return path;
}

START_TEST(identical_hives_have_no_changes)
{
    struct seen s = {0};
    diff_files(tu_fixture_path("system-basic"), tu_fixture_path("system-basic"), &s);
    ck_assert_int_eq(s.calls, 0);
}
END_TEST

START_TEST(in_place_change_shows_value_and_key_time)
{
    free(set_port_and_expect_diff(
        "system-basic", "exchange-sa-rfr", 6000,
        "time ControlSet001\\Services\\MSExchangeSA\\Parameters | FILETIME 0 | 2023-11-14T22:13:20Z\n"
        "value~ ControlSet001\\Services\\MSExchangeSA\\Parameters:TCP/IP Port | "
        "REG_DWORD 5001 (0x00001389) | REG_DWORD 6000 (0x00001770)\n"));
}
END_TEST

START_TEST(new_keys_and_values_are_listed)
{
    char *path = set_port_and_expect_diff(
        "system-empty", "exchange-is", 5003,
        "time ControlSet001\\Services | FILETIME 0 | 2023-11-14T22:13:20Z\n"
        "key+ ControlSet001\\Services\\MSExchangeIS | - | -\n"
        "key+ ControlSet001\\Services\\MSExchangeIS\\ParametersSystem | - | -\n"
        "value+ ControlSet001\\Services\\MSExchangeIS\\ParametersSystem:TCP/IP Port | - | "
        "REG_DWORD 5003 (0x0000138b)\n");
    /* And the other way round: removals. */
    struct seen s = {0};
    diff_files(path, tu_fixture_path("system-empty"), &s);
    ck_assert_ptr_nonnull(strstr(s.text, "key- ControlSet001\\Services\\MSExchangeIS | - | -\n"));
    ck_assert_ptr_nonnull(strstr(s.text, "value- ControlSet001\\Services\\MSExchangeIS\\ParametersSystem:TCP/IP Port"));
    free(path);
}
END_TEST

START_TEST(callback_can_stop)
{
    struct seen s = {.stop_after = 1};
    diff_files(tu_fixture_path("system-empty"), tu_fixture_path("system-basic"), &s);
    ck_assert_int_eq(s.calls, 1);
    hiveport *h;
    ck_assert_int_eq(hiveport_open(tu_fixture_path("system-basic"), 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_diff(h, NULL, record, &s), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_diff(h, h, NULL, &s), HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
}
END_TEST

START_TEST(strings_and_binary_are_shown)
{
    struct seen s = {0};
    diff_files(tu_fixture_path("system-empty"), tu_fixture_path("regsz-port"), &s);
    ck_assert_ptr_nonnull(strstr(s.text, "value+ ControlSet001\\Services\\MSExchangeAB\\Parameters:RpcTcpPort | - | REG_SZ \"6001\"\n"));
    ck_assert_ptr_nonnull(strstr(s.text, "value+ ControlSet001\\Services\\NTDS\\Parameters:TCP/IP Port | - | REG_DWORD 89 13\n"));
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {identical_hives_have_no_changes, in_place_change_shows_value_and_key_time,
                                  new_keys_and_values_are_listed, callback_can_stop, strings_and_binary_are_shown,
                                  NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "diff", "diff", 0, setup, teardown);
    return tu_run_tests(s, tc, tests);
}
