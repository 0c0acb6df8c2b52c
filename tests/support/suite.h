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

#endif
