/* check_real.c: the same round trips on the real Windows hives in ../shared/hives (skipped without them). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hiveport.h"
#include "internal.h" /* hp_nav_*: looking keys up by name */
#include "suite.h"
#include "testutil.h"

static const char *const clean_system_hives[] = {"win7-SYSTEM", "vista-SYSTEM", "win10-pruned-SYSTEM"};

/* Sets exchange-sa-rfr to 5001 in ControlSet001, reads it back after reopening, and checks that the
 * full dump differs only by the new keys and the new value. */
START_TEST(round_trip_on_clean_real_hive)
{
    const char *name = clean_system_hives[_i];
    char *path = tu_real_hive(tu_dir, name);
    if (path == NULL)
        return;
    char *before = tu_dump_hive(path);
    ck_assert_ptr_nonnull(before);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_is_dirty(h), 0);
    uint32_t cs;
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_CURRENT, &cs), HIVEPORT_OK);
    ck_assert_uint_eq(cs, 1);
    const hiveport_setting *rfr = hiveport_catalog_find("exchange-sa-rfr");
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, rfr, 1, &port), HIVEPORT_E_NOT_SET);
    ck_assert_int_eq(hiveport_set_port(h, rfr, 1, 5001, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);

    ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_get_port(h, rfr, HIVEPORT_CS_CURRENT, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 5001);
    hiveport_close(h);

    char *after = tu_dump_hive(path);
    char *added = tu_lines_added(before, after), *removed = tu_lines_added(after, before);
    ck_assert_str_eq(removed, "");
    /* Windows 7 spells the key "services": the existing spelling is kept, so compare without case. */
    const char *expected = "\\ControlSet001\\Services\\MSExchangeSA\n"
                           "\\ControlSet001\\Services\\MSExchangeSA\\Parameters\n"
                           "\\ControlSet001\\Services\\MSExchangeSA\\Parameters:TCP/IP Port=4:89130000\n";
    ck_assert_msg(strcasecmp(added, expected) == 0, "%s: added lines:\n%s", name, added);
    free(added);
    free(removed);
    free(before);
    free(after);
    free(path);
}
END_TEST

/* The other real hives, each with its own question: a loop test over real_cases, each case a function of the
 * decompressed hive's path (a failure names its line there, and Check the case's index). */
static void control_sets_of_real_hives(const char *path)
{
    hiveport *h = tu_open_or_fail(path, 0);
    uint32_t sets[8];
    size_t n;
    ck_assert_int_eq(hiveport_controlsets(h, sets, 8, &n), HIVEPORT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(sets[0], 1);
    ck_assert_uint_eq(sets[1], 2);
    uint32_t v;
    ck_assert_int_eq(hiveport_select_value(h, HIVEPORT_SELECT_LASTKNOWNGOOD, &v), HIVEPORT_OK);
    ck_assert_uint_eq(v, 2);
    hiveport_close(h);
}

static void dirty_real_hive_refuses_writes_untouched(const char *path)
{
    char *copy = tu_copy_beside(path, ".orig");
    hiveport *h;
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_E_DIRTY);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "sequence numbers 205 and 204 differ"));
    hiveport_close(h);
    h = tu_open_or_fail(path, 0);
    ck_assert_int_eq(hiveport_is_dirty(h), 1);
    uint32_t cs;
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_CURRENT, &cs), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, copy));
    free(copy);
}

static void corrupt_real_hive_is_refused(const char *path)
{
    hiveport *h;
    int rc = hiveport_open(path, 0, &h);
    ck_assert_msg(rc == HIVEPORT_E_CORRUPT || rc == HIVEPORT_E_CHECKSUM || rc == HIVEPORT_E_TRUNCATED,
                  "got %d: %s", rc, hiveport_errmsg(h));
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), path));
    hiveport_close(h);
}

static void differencing_hive_without_select(const char *path)
{
    hiveport *h = tu_open_or_fail(path, 0);
    uint32_t v;
    ck_assert_int_eq(hiveport_resolve_controlset(h, HIVEPORT_CS_CURRENT, &v), HIVEPORT_E_NO_SELECT);
    hiveport_close(h);
}

static const struct {
    const char *hive;
    void (*test)(const char *path);
} real_cases[] = {
    {"win7-SYSTEM", control_sets_of_real_hives},
    {"dirty-nolog-SYSTEM", dirty_real_hive_refuses_writes_untouched},
    {"corrupt-SYSTEM", corrupt_real_hive_is_refused},
    {"delta-1.6-SYSTEM", differencing_hive_without_select},
};

START_TEST(each_real_case)
{
    char *path = tu_real_hive(tu_dir, real_cases[_i].hive);
    if (path == NULL)
        return;
    real_cases[_i].test(path);
    free(path);
}
END_TEST

/* Every key under node is found by its name, as listed and in lower case (lookups search sorted lists by
 * halves); returns the number of keys checked. */
static size_t find_each_by_name(hiveport *h, hive_node_h node, int depth)
{
    hive_node_h *children = NULL;
    size_t n = 0, checked = 0;
    ck_assert_int_eq(hp_nav_children(h, node, &children, &n), HIVEPORT_OK);
    for (size_t i = 0; i < n; i++) {
        char *name = hp_nav_key_name(h, children[i]);
        ck_assert_ptr_nonnull(name);
        hive_node_h found = 0, lower = 0;
        ck_assert_int_eq(hp_nav_child(h, node, name, &found), HIVEPORT_OK);
        for (char *c = name; *c != '\0'; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        ck_assert_int_eq(hp_nav_child(h, node, name, &lower), HIVEPORT_OK);
        ck_assert_msg(found == children[i] && lower == children[i], "key %s at 0x%llx: found 0x%llx, 0x%llx",
                      name, (unsigned long long)children[i], (unsigned long long)found,
                      (unsigned long long)lower);
        free(name);
        checked++;
        if (depth < 12)
            checked += find_each_by_name(h, children[i], depth + 1);
    }
    free(children);
    return checked;
}

START_TEST(every_key_of_real_hives_is_found_by_name)
{
    char *path = tu_real_hive(tu_dir, clean_system_hives[_i]);
    if (path == NULL)
        return;
    hiveport *h = tu_open_or_fail(path, 0);
    ck_assert_uint_gt(find_each_by_name(h, hp_nav_root(h), 0), 1000);
    hiveport_close(h);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc = tu_tcase(&s, "real hives", "real", 120, tu_setup_dir, tu_teardown_dir);
    tcase_add_loop_test(tc, round_trip_on_clean_real_hive, 0,
                        (int)(sizeof clean_system_hives / sizeof clean_system_hives[0]));
    tcase_add_loop_test(tc, each_real_case, 0, (int)(sizeof real_cases / sizeof real_cases[0]));
    tcase_add_loop_test(tc, every_key_of_real_hives_is_found_by_name, 0,
                        (int)(sizeof clean_system_hives / sizeof clean_system_hives[0]));
    return tu_run_suite(s);
}
