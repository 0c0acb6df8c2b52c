/* check_api.c: the parts of the API that need no hive: version, status sentences, catalog, targets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hiveport.h"
#include "suite.h"

START_TEST(version_matches_header)
{
    ck_assert_str_eq(hiveport_version(), HIVEPORT_VERSION);
    ck_assert_int_eq(HIVEPORT_VERSION_HEX, (HIVEPORT_VERSION_MAJOR << 16) | (HIVEPORT_VERSION_MINOR << 8) |
                                               HIVEPORT_VERSION_MICRO);
    /* The numbers are the string's (0.3.0 once shipped with MINOR still 2). */
    char numbers[32];
    snprintf(numbers, sizeof numbers, "%d.%d.%d", HIVEPORT_VERSION_MAJOR, HIVEPORT_VERSION_MINOR,
             HIVEPORT_VERSION_MICRO);
    ck_assert_str_eq(numbers, HIVEPORT_VERSION);
}
END_TEST

START_TEST(strerror_names_every_status)
{
    for (int s = HIVEPORT_OK; s <= HIVEPORT_E_NOT_REGULAR; s++) {
        const char *m = hiveport_strerror(s);
        ck_assert_ptr_nonnull(m);
        ck_assert_str_ne(m, "unknown hiveport status");
        for (int t = 0; t < s; t++)
            ck_assert_str_ne(m, hiveport_strerror(t));
    }
    ck_assert_str_eq(hiveport_strerror(-1), "unknown hiveport status");
    ck_assert_str_eq(hiveport_strerror(9999), "unknown hiveport status");
    ck_assert_str_eq(hiveport_strerror(HIVEPORT_E_DIRTY),
                     "hive is dirty (its transaction logs hold changes the file lacks)");
}
END_TEST

START_TEST(errmsg_of_null_handle)
{
    ck_assert_str_eq(hiveport_errmsg(NULL), "no hiveport handle (NULL)");
    ck_assert_str_eq(hiveport_path(NULL), "");
    ck_assert_int_eq(hiveport_is_dirty(NULL), -1);
    ck_assert_int_eq(hiveport_has_changes(NULL), 0);
    ck_assert_int_eq(hiveport_sequence(NULL, NULL, NULL), HIVEPORT_E_INVALID_ARG);
    hiveport_close(NULL);
}
END_TEST

START_TEST(catalog_matches_domain_notes)
{
    ck_assert_uint_eq(hiveport_catalog_count(), 13);
    const hiveport_setting *s = hiveport_catalog_find("exchange-sa-rfr");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->key, "MSExchangeSA\\Parameters");
    ck_assert_str_eq(s->value_name, "TCP/IP Port");
    ck_assert_uint_eq(s->type, HIVEPORT_REG_DWORD);
    ck_assert_str_eq(s->source, "KB 270836");

    s = hiveport_catalog_find("EXCHANGE-IS"); /* ids match case-insensitively */
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->key, "MSExchangeIS\\ParametersSystem");
    s = hiveport_catalog_find("exchange-srs");
    ck_assert_str_eq(s->value_name, "TCP/IP");
    s = hiveport_catalog_find("exchange2010-ab");
    ck_assert_uint_eq(s->type, HIVEPORT_REG_SZ);
    ck_assert_uint_eq(s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC, HIVEPORT_SETTING_ZERO_DYNAMIC);
    s = hiveport_catalog_find("ntfrs");
    ck_assert_str_eq(s->value_name, "RPC TCP/IP Port Assignment");
    ck_assert_uint_eq(s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC, HIVEPORT_SETTING_ZERO_DYNAMIC);
    ck_assert_uint_eq(hiveport_catalog_find("ntds")->flags, 0);
    ck_assert_str_eq(hiveport_catalog_find("netlogon")->value_name, "DCTcpipPort");
    ck_assert_ptr_null(hiveport_catalog_find("no-such-setting"));
    ck_assert_ptr_null(hiveport_catalog_find(NULL));
}
END_TEST

START_TEST(catalog_entries_are_complete_and_unique)
{
    size_t n = hiveport_catalog_count();
    ck_assert_ptr_null(hiveport_catalog_at(n));
    for (size_t i = 0; i < n; i++) {
        const hiveport_setting *s = hiveport_catalog_at(i);
        ck_assert_ptr_nonnull(s);
        ck_assert_ptr_eq(hiveport_catalog_find(s->id), s);
        ck_assert(s->key[0] && s->value_name[0] && s->description[0] && s->source[0]);
        ck_assert(strstr(s->value_name, "\\") == NULL); /* "TCP\IP" is the classic mistake */
        for (size_t j = 0; j < i; j++) {
            const hiveport_setting *t = hiveport_catalog_at(j);
            ck_assert_str_ne(s->id, t->id);
            ck_assert(strcasecmp(s->key, t->key) != 0 || strcasecmp(s->value_name, t->value_name) != 0);
        }
    }
}
END_TEST

START_TEST(parse_controlset_targets)
{
    int t = 0;
    ck_assert_int_eq(hiveport_parse_controlset("current", &t), HIVEPORT_OK);
    ck_assert_int_eq(t, HIVEPORT_CS_CURRENT);
    ck_assert_int_eq(hiveport_parse_controlset("Default", &t), HIVEPORT_OK);
    ck_assert_int_eq(t, HIVEPORT_CS_DEFAULT);
    ck_assert_int_eq(hiveport_parse_controlset("LASTKNOWNGOOD", &t), HIVEPORT_OK);
    ck_assert_int_eq(t, HIVEPORT_CS_LASTKNOWNGOOD);
    ck_assert_int_eq(hiveport_parse_controlset("all", &t), HIVEPORT_OK);
    ck_assert_int_eq(t, HIVEPORT_CS_ALL);
    ck_assert_int_eq(hiveport_parse_controlset("3", &t), HIVEPORT_OK);
    ck_assert_int_eq(t, 3);
    ck_assert_int_eq(hiveport_parse_controlset("047", &t), HIVEPORT_OK);
    ck_assert_int_eq(t, 47);
    const char *bad[] = {"", "0", "1000", "-1", "3x", "current ", "cur", " 3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(hiveport_parse_controlset(bad[i], &t), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_parse_controlset(NULL, &t), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_parse_controlset("1", NULL), HIVEPORT_E_INVALID_ARG);
}
END_TEST

START_TEST(options_defaults)
{
    hiveport_options o;
    memset(&o, 0xAA, sizeof o);
    hiveport_options_init(&o);
    ck_assert_uint_eq(o.size, sizeof o);
    ck_assert_uint_eq(o.flags, 0);
    ck_assert_int_eq(o.lock_timeout_ms, 30000);
    hiveport_options_init(NULL);
}
END_TEST

START_TEST(open_argument_errors)
{
    hiveport *h = NULL;
    ck_assert_int_eq(hiveport_open("x", 0, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_open(NULL, 0, &h), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(hiveport_errmsg(h), "no hive path given");
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open("x", 0x80, &h), HIVEPORT_E_INVALID_ARG);
    ck_assert_str_eq(hiveport_errmsg(h), "x: unknown open flags 0x80");
    hiveport_close(h);
    hiveport_options o;
    hiveport_options_init(&o);
    o.size = 4;
    ck_assert_int_eq(hiveport_open_ext("x", &o, &h), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "too small"));
    hiveport_close(h);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {version_matches_header, strerror_names_every_status, errmsg_of_null_handle,
                                  catalog_matches_domain_notes, catalog_entries_are_complete_and_unique,
                                  parse_controlset_targets, options_defaults, open_argument_errors, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "api", "no hive", 0, NULL, NULL);
    return tu_run_tests(s, tc, tests);
}
