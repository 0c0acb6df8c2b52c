/* suite.h: the end of every Check suite's main(). */
#ifndef HIVEPORT_SUITE_H
#define HIVEPORT_SUITE_H

#include <check.h>
#include <stdlib.h>

/* Runs every test of s (forked, as Check does by default) and frees it; the exit status for main(). */
static inline int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* A suite and its one test case, each test run between setup and teardown (tu_setup_dir and tu_teardown_dir
 * for a fresh tu_dir; either may be NULL) and allowed timeout seconds (0: Check's default). */
static inline TCase *tu_tcase(Suite **s, const char *suite_name, const char *tcase_name, int timeout,
                              void (*setup)(void), void (*teardown)(void))
{
    *s = suite_create(suite_name);
    TCase *tc = tcase_create(tcase_name);
    if (setup != NULL || teardown != NULL)
        tcase_add_checked_fixture(tc, setup, teardown);
    if (timeout > 0)
        tcase_set_timeout(tc, timeout);
    suite_add_tcase(*s, tc);
    return tc;
}

/* Adds each test of the NULL-terminated list to tc, then runs s as tu_run_suite does. */
static inline int tu_run_tests(Suite *s, TCase *tc, const TTest *const tests[])
{
    for (size_t i = 0; tests[i] != NULL; i++)
        tcase_add_test(tc, tests[i]);
    return tu_run_suite(s);
}

#endif
