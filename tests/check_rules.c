/* check_rules.c: one set of rules for every writer: hiveport_preflight() (the audit's rules before a write),
 * the kind of hive each call needs, hard links, and the mode of a saved copy. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "internal.h" /* hp_alloc_fail_after */
#include "suite.h"
#include "testutil.h"

/* The findings of a preflight of plan on a copy of fixture, opened with flags; the copy stays unchanged. */
static hiveport_findings *preflight(const char *fixture, unsigned flags, const hiveport_plan_item *plan,
                                    size_t count, int target)
{
    char *path = tu_fixture_copy(tu_dir, fixture);
    char *orig = tu_copy_beside(path, ".orig");
    hiveport *h = tu_open_or_fail(path, flags);
    hiveport_findings *f = NULL;
    int rc = hiveport_preflight(h, plan, count, target, 0, NULL, &f);
    ck_assert_msg(rc == HIVEPORT_OK, "preflight: %d %s", rc, hiveport_errmsg(h));
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(hiveport_errmsg(h), "");
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(h);
    ck_assert(tu_same_bytes(path, orig));
    free(orig);
    free(path);
    return f;
}

/* The first finding with this code, or NULL. */
static const hiveport_finding *find(const hiveport_findings *f, const char *code)
{
    for (size_t i = 0; i < hiveport_findings_count(f); i++)
        if (strcmp(hiveport_findings_at(f, i)->code, code) == 0)
            return hiveport_findings_at(f, i);
    return NULL;
}

static size_t errors(const hiveport_findings *f)
{
    size_t n = 0;
    for (size_t i = 0; i < hiveport_findings_count(f); i++)
        n += hiveport_findings_at(f, i)->severity == HIVEPORT_SEVERITY_ERROR;
    return n;
}

/* ---- hiveport_preflight ---- */

START_TEST(preflight_finds_a_conflict_with_a_port_already_set)
{
    /* system-basic: netlogon is 5006 */
    hiveport_plan_item plan[] = {{hiveport_catalog_find("ntds"), 5006, 0}};
    hiveport_findings *f = preflight("system-basic", HIVEPORT_OPEN_WRITE, plan, 1, HIVEPORT_CS_CURRENT);
    const hiveport_finding *c = find(f, "port-conflict");
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->severity, HIVEPORT_SEVERITY_ERROR);
    ck_assert_uint_eq(c->port, 5006);
    ck_assert_uint_eq(c->controlset, 1);
    ck_assert_ptr_nonnull(strstr(c->message, "KB 224196"));
    ck_assert_uint_eq(errors(f), 1);
    hiveport_findings_free(f);
}
END_TEST

START_TEST(preflight_finds_a_conflict_within_the_plan)
{
    hiveport_plan_item plan[] = {{hiveport_catalog_find("ntds"), 5010, 0}, {hiveport_catalog_find("netlogon"), 5010, 0}};
    hiveport_findings *f = preflight("system-empty", 0, plan, 2, HIVEPORT_CS_CURRENT); /* read-only is enough */
    ck_assert_ptr_nonnull(find(f, "port-conflict"));
    hiveport_findings_free(f);
    /* each alone is fine */
    f = preflight("system-empty", 0, plan, 1, HIVEPORT_CS_CURRENT);
    ck_assert_uint_eq(errors(f), 0);
    hiveport_findings_free(f);
}
END_TEST

START_TEST(preflight_finds_a_reserved_port_and_warnings)
{
    hiveport_plan_item plan[] = {{hiveport_catalog_find("ntds"), 135, 0}};
    hiveport_findings *f = preflight("system-empty", 0, plan, 1, HIVEPORT_CS_CURRENT);
    const hiveport_finding *r = find(f, "port-reserved");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->severity, HIVEPORT_SEVERITY_ERROR);
    ck_assert_ptr_nonnull(strstr(r->message, "KB 270836"));
    hiveport_findings_free(f);

    plan[0].port = 1000; /* below 1024: a warning, not an error */
    f = preflight("system-empty", 0, plan, 1, HIVEPORT_CS_CURRENT);
    ck_assert_uint_eq(errors(f), 0);
    ck_assert_int_eq(find(f, "port-privileged")->severity, HIVEPORT_SEVERITY_WARNING);
    hiveport_findings_free(f);
}
END_TEST

START_TEST(preflight_ignores_what_the_hive_already_had)
{
    /* audit-port-conflict has conflicts already; an unrelated change brings none of its own */
    hiveport_plan_item plan[] = {{hiveport_catalog_find("exchange-srs"), 7004, 0}};
    hiveport_findings *f = preflight("audit-port-conflict", 0, plan, 1, HIVEPORT_CS_CURRENT);
    ck_assert_uint_eq(errors(f), 0);
    hiveport_findings_free(f);
    /* and a change that repeats what is there brings nothing (ntds is 5005 in system-basic) */
    plan[0] = (hiveport_plan_item){hiveport_catalog_find("ntds"), 5005, 0};
    f = preflight("system-basic", 0, plan, 1, HIVEPORT_CS_CURRENT);
    ck_assert_uint_eq(hiveport_findings_count(f), 0);
    hiveport_findings_free(f);
    /* unsetting a conflicting value removes a finding and adds none */
    plan[0] = (hiveport_plan_item){hiveport_catalog_find("netlogon"), 0, 1};
    f = preflight("audit-port-conflict", 0, plan, 1, HIVEPORT_CS_CURRENT);
    ck_assert_uint_eq(errors(f), 0);
    hiveport_findings_free(f);
}
END_TEST

START_TEST(preflight_says_when_a_service_key_is_created)
{
    hiveport_setting typo = {.key = "MSExchangSA\\Parameters", .value_name = "TCP/IP Port",
                             .type = HIVEPORT_REG_DWORD};
    hiveport_plan_item plan[] = {{&typo, 5001, 0}};
    hiveport_findings *f = preflight("system-basic", 0, plan, 1, HIVEPORT_CS_ALL);
    ck_assert_uint_eq(hiveport_findings_count(f), 2); /* both control sets */
    const hiveport_finding *s = find(f, "service-key-created");
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->severity, HIVEPORT_SEVERITY_WARNING);
    ck_assert_uint_eq(s->controlset, 1);
    ck_assert_ptr_nonnull(strstr(s->message, "creating service key MSExchangSA, which did not exist"));
    ck_assert_uint_eq(hiveport_findings_at(f, 1)->controlset, 2);
    hiveport_findings_free(f);

    /* the service exists: nothing to say; a catalog setting may precede its service's installation */
    typo.key = "MSExchangeSA\\Parameters";
    typo.value_name = "Other Port";
    f = preflight("system-basic", 0, plan, 1, HIVEPORT_CS_CURRENT);
    ck_assert_ptr_null(find(f, "service-key-created"));
    hiveport_findings_free(f);
    plan[0].setting = hiveport_catalog_find("exchange-is");
    plan[0].port = 7003;
    f = preflight("system-empty", 0, plan, 1, HIVEPORT_CS_CURRENT);
    ck_assert_ptr_null(find(f, "service-key-created"));
    hiveport_findings_free(f);
}
END_TEST

START_TEST(preflight_fails_as_set_would)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, 0);
    hiveport_findings *f = (hiveport_findings *)1;
    hiveport_plan_item plan[] = {{hiveport_catalog_find("ntds"), 65536, 0}};
    ck_assert_int_eq(hiveport_preflight(h, plan, 1, HIVEPORT_CS_CURRENT, 0, NULL, &f), HIVEPORT_E_RANGE);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), path));
    plan[0].setting = NULL;
    ck_assert_int_eq(hiveport_preflight(h, plan, 1, HIVEPORT_CS_CURRENT, 0, NULL, &f), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_preflight(h, NULL, 1, HIVEPORT_CS_CURRENT, 0, NULL, &f), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_preflight(h, NULL, 0, HIVEPORT_CS_CURRENT, 0, NULL, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_preflight(NULL, NULL, 0, HIVEPORT_CS_CURRENT, 0, NULL, &f), HIVEPORT_E_INVALID_ARG);
    /* an empty plan brings nothing */
    ck_assert_int_eq(hiveport_preflight(h, NULL, 0, HIVEPORT_CS_CURRENT, 0, NULL, &f), HIVEPORT_OK);
    ck_assert_uint_eq(hiveport_findings_count(f), 0);
    hiveport_findings_free(f);
    hiveport_close(h);
    free(path);

    path = tu_fixture_copy(tu_dir, "software-plain"); /* the wrong kind of hive */
    h = tu_open_or_fail(path, 0);
    plan[0].setting = hiveport_catalog_find("ntds");
    plan[0].port = 5005;
    ck_assert_int_eq(hiveport_preflight(h, plan, 1, HIVEPORT_CS_CURRENT, 0, NULL, &f), HIVEPORT_E_NOT_HIVE);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "not a SYSTEM hive"));
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(preflight_checks_the_rpc_range_with_software)
{
    /* software-rpc-inside: dynamic RPC may use 5900-6001 (PortsInternetAvailable Y) */
    char *path = tu_fixture_copy(tu_dir, "system-empty");
    hiveport *h = tu_open_or_fail(path, 0);
    hiveport *sw = tu_open_or_fail(tu_fixture_path("software-rpc-inside"), 0);
    hiveport_findings *f = NULL;
    hiveport_plan_item plan[] = {{hiveport_catalog_find("ntds"), 5950, 0}};
    ck_assert_int_eq(hiveport_preflight(h, plan, 1, HIVEPORT_CS_CURRENT, 0, sw, &f), HIVEPORT_OK);
    ck_assert_ptr_nonnull(find(f, "port-in-rpc-range"));
    hiveport_findings_free(f);
    ck_assert_int_eq(hiveport_preflight(h, plan, 1, HIVEPORT_CS_CURRENT, 0, h, &f), HIVEPORT_E_NOT_HIVE);
    hiveport_close(sw);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(preflight_allocation_failures_are_clean)
{
    /* a conflict, a custom setting creating its service key, both control sets, an unset */
    hiveport_setting typo = {.key = "MSExchangSA\\Parameters", .value_name = "TCP/IP Port",
                             .type = HIVEPORT_REG_DWORD};
    hiveport_plan_item plan[] = {{hiveport_catalog_find("ntds"), 5006, 0}, {&typo, 7001, 0},
                                 {hiveport_catalog_find("exchange-is"), 0, 1}};
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    hiveport_findings *f = NULL;
    ck_assert_int_eq(hiveport_preflight(h, plan, 3, HIVEPORT_CS_ALL, 0, NULL, &f), HIVEPORT_OK);
    size_t expected = hiveport_findings_count(f);
    ck_assert_uint_ge(expected, 3);
    hiveport_findings_free(f);
    int succeeded = 0;
    unsigned long n;
    for (n = 1; n < 20000 && !succeeded; n++) {
        f = (hiveport_findings *)1;
        hp_alloc_fail_after(n);
        int rc = hiveport_preflight(h, plan, 3, HIVEPORT_CS_ALL, 0, NULL, &f);
        hp_alloc_fail_after(0);
        ck_assert_msg(rc == HIVEPORT_OK || rc == HIVEPORT_E_NOMEM, "n=%lu: %d %s", n, rc, hiveport_errmsg(h));
        if (rc == HIVEPORT_OK) {
            succeeded = 1;
            ck_assert_uint_eq(hiveport_findings_count(f), expected);
            hiveport_findings_free(f);
        } else {
            ck_assert_ptr_null(f);
            ck_assert_msg(strstr(hiveport_errmsg(h), "out of memory") || strstr(hiveport_errmsg(h), strerror(ENOMEM)),
                          "n=%lu: %s", n, hiveport_errmsg(h));
        }
        ck_assert_int_eq(hiveport_has_changes(h), 0);
    }
    ck_assert(succeeded);
    ck_assert_uint_gt(n, 10);
    hiveport_close(h);
    free(path);
}
END_TEST

/* ---- the kind of hive ---- */

START_TEST(each_call_needs_its_kind_of_hive)
{
    hiveport *sys = tu_open_or_fail(tu_fixture_path("system-basic"), 0);
    hiveport *soft = tu_open_or_fail(tu_fixture_path("software-plain"), 0);
    uint32_t port, n;
    size_t count;
    char *ports = NULL;
    ck_assert_int_eq(hiveport_rpc_get(sys, &ports, NULL, NULL, NULL), HIVEPORT_E_NOT_HIVE);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(sys), "not a SOFTWARE hive"));
    ck_assert_int_eq(hiveport_dcom_get_port(sys, "{D99E6E74-FC88-11D0-B498-00A0C90312F3}", &port),
                     HIVEPORT_E_NOT_HIVE);
    ck_assert_int_eq(hiveport_get_port(soft, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, &port),
                     HIVEPORT_E_NOT_HIVE);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(soft), "not a SYSTEM hive"));
    ck_assert_int_eq(hiveport_select_value(soft, HIVEPORT_SELECT_CURRENT, &n), HIVEPORT_E_NOT_HIVE);
    ck_assert_int_eq(hiveport_controlsets(soft, NULL, 0, &count), HIVEPORT_E_NOT_HIVE);
    ck_assert_int_eq(hiveport_resolve_controlset(soft, 1, &n), HIVEPORT_E_NOT_HIVE);
    hiveport_findings *f = NULL;
    ck_assert_int_eq(hiveport_audit(soft, NULL, &f), HIVEPORT_E_NOT_HIVE);
    ck_assert_int_eq(hiveport_audit(sys, sys, &f), HIVEPORT_E_NOT_HIVE);
    ck_assert_ptr_null(f);
    /* the right kinds */
    ck_assert_int_eq(hiveport_rpc_get(soft, &ports, NULL, NULL, NULL), HIVEPORT_E_NOT_SET);
    ck_assert_int_eq(hiveport_get_port(sys, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, &port), HIVEPORT_OK);
    /* a SYSTEM hive without Select is still a SYSTEM hive: the reason is the missing Select */
    hiveport *nosel = tu_open_or_fail(tu_fixture_path("no-select"), 0);
    ck_assert_int_eq(hiveport_select_value(nosel, HIVEPORT_SELECT_CURRENT, &n), HIVEPORT_E_NO_SELECT);
    hiveport_close(nosel);
    /* a hive with the keys of both kinds is either (the fuzz seed that reaches the RPC range checks) */
    hiveport *both = tu_open_or_fail(tu_fixture_path("system-and-software"), 0);
    ck_assert_int_eq(hiveport_audit(both, both, &f), HIVEPORT_OK);
    ck_assert_ptr_nonnull(find(f, "port-in-rpc-range"));
    hiveport_findings_free(f);
    hiveport_close(both);
    hiveport_close(soft);
    hiveport_close(sys);
}
END_TEST

/* ---- hard links ---- */

START_TEST(a_hard_linked_hive_is_written_only_on_request)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    char *other = NULL;
    if (asprintf(&other, "%s/other-name", tu_dir) < 0)
        abort();
    ck_assert_int_eq(link(path, other), 0);
    hiveport *h = NULL;
    ck_assert_int_eq(hiveport_open(path, HIVEPORT_OPEN_WRITE, &h), HIVEPORT_E_NOT_REGULAR);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "2 hard links"));
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "HIVEPORT_OPEN_BREAK_LINKS"));
    hiveport_close(h);
    h = tu_open_or_fail(path, 0); /* reading is fine */
    hiveport_close(h);

    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_BREAK_LINKS);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, 6105, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    /* the link is broken: the other name keeps the old hive */
    struct stat a, b;
    ck_assert_int_eq(stat(path, &a), 0);
    ck_assert_int_eq(stat(other, &b), 0);
    ck_assert(a.st_ino != b.st_ino);
    ck_assert_uint_eq(a.st_nlink, 1);
    ck_assert(tu_same_bytes(other, tu_fixture_path("system-basic")));
    free(other);
    free(path);
}
END_TEST

/* ---- a saved copy ---- */

START_TEST(a_saved_copy_has_the_mode_of_its_hive)
{
    static const mode_t modes[] = {0640, 0604, 0600, 0444};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char *path = tu_fixture_copy(tu_dir, "system-basic"), *copy = NULL;
        if (asprintf(&copy, "%s.copy%zu", path, i) < 0)
            abort();
        ck_assert_int_eq(chmod(path, modes[i]), 0);
        hiveport *h = tu_open_or_fail(path, 0);
        ck_assert_int_eq(hiveport_save_copy(h, copy), HIVEPORT_OK);
        hiveport_close(h);
        struct stat st;
        ck_assert_int_eq(stat(copy, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, modes[i]);
        ck_assert(tu_same_bytes(path, copy));
        ck_assert_int_eq(chmod(path, 0644), 0);
        unlink(copy);
        unlink(path);
        free(copy);
        free(path);
    }
}
END_TEST

/* The preflight audits what the handle loaded: a dirty hive as its log replay left it (system-logged: ntds
 * is 5005 in the file and 6005 after its .LOG1), whether the handle is untouched (the scratch maps what the
 * handle checked) or holds changes of its own (the file is opened again, with the same logs). */
START_TEST(preflight_sees_the_replayed_hive)
{
    char *path = tu_fixture_copy_logged(tu_dir, "system-logged");
    const hiveport_setting *netlogon = hiveport_catalog_find("netlogon");
    for (int changed = 0; changed <= 1; changed++) {
        hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
        if (changed)
            ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("exchange-srs"), 1, 7004, 0), HIVEPORT_OK);
        hiveport_plan_item plan[] = {{netlogon, 6005, 0}};
        hiveport_findings *f = NULL;
        ck_assert_int_eq(hiveport_preflight(h, plan, 1, 1, 0, NULL, &f), HIVEPORT_OK);
        const hiveport_finding *c = find(f, "port-conflict");
        ck_assert_msg(c != NULL && c->port == 6005, "changed %d: no conflict with the replayed ntds port", changed);
        hiveport_findings_free(f);
        plan[0].port = 5005; /* the port ntds has only in the file, before its log */
        ck_assert_int_eq(hiveport_preflight(h, plan, 1, 1, 0, NULL, &f), HIVEPORT_OK);
        ck_assert_msg(find(f, "port-conflict") == NULL, "changed %d: the preflight read the file, not its replay",
                      changed);
        hiveport_findings_free(f);
        ck_assert_int_eq(hiveport_has_changes(h), changed);
        hiveport_close(h);
    }
    free(path);
}
END_TEST

/* The preflight reads the service keys a change writes to, misspelt or not: a custom setting under a
 * misspelling of a catalog service is called what the audit would call it once written. */
START_TEST(preflight_sees_a_misspelt_service_it_writes)
{
    const hiveport_setting typo = {.key = "MSExchange_SA\\Parameters", .value_name = "TCP/IP Port",
                                   .type = HIVEPORT_REG_DWORD};
    hiveport_plan_item plan[] = {{&typo, 5001, 0}};
    hiveport_findings *f = preflight("audit-clean", HIVEPORT_OPEN_WRITE, plan, 1, HIVEPORT_CS_CURRENT);
    const hiveport_finding *w = find(f, "wrong-key");
    ck_assert_msg(w != NULL && strstr(w->key, "MSExchange_SA") != NULL && w->port == 5001,
                  "no wrong-key finding for the misspelt service the plan writes to");
    hiveport_findings_free(f);
}
END_TEST

/* What the preflight leaves out of its audits cannot stop a change: a misspelt service key that is not a
 * key record any more fails the whole audit, not the preflight of a change to another service. */
START_TEST(preflight_reads_only_what_a_change_can_alter)
{
    char *path = tu_fixture_copy(tu_dir, "audit-wrong-key");
    hiveport *h = tu_open_or_fail(path, 0);
    hive_node_h node = 0;
    ck_assert_int_eq(hp_key_lookup(h, hp_nav_root(h), "ControlSet001\\Services\\MSExchange SA", &node), HIVEPORT_OK);
    ck_assert_uint_ne(node, 0);
    hiveport_close(h);
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, (long)node + 4, SEEK_SET), 0); /* the nk's signature (node: a file offset) */
    ck_assert_int_ge(fputs("xx", fp), 0);
    ck_assert_int_eq(fclose(fp), 0);

    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    hiveport_findings *f = NULL;
    int rc = hiveport_audit(h, NULL, &f);
    ck_assert_msg(rc != HIVEPORT_OK || errors(f) > 0, "the whole audit missed the damage");
    hiveport_findings_free(f);
    f = NULL;
    hiveport_plan_item plan[] = {{hiveport_catalog_find("exchange-srs"), 5004, 0}};
    rc = hiveport_preflight(h, plan, 1, HIVEPORT_CS_CURRENT, 0, NULL, &f);
    ck_assert_msg(rc == HIVEPORT_OK, "preflight: %d %s", rc, hiveport_errmsg(h));
    ck_assert_uint_eq(errors(f), 0);
    hiveport_findings_free(f);
    hiveport_close(h);
    free(path);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {preflight_finds_a_conflict_with_a_port_already_set,
                                  preflight_finds_a_conflict_within_the_plan,
                                  preflight_finds_a_reserved_port_and_warnings,
                                  preflight_ignores_what_the_hive_already_had,
                                  preflight_says_when_a_service_key_is_created, preflight_fails_as_set_would,
                                  preflight_checks_the_rpc_range_with_software,
                                  preflight_allocation_failures_are_clean, each_call_needs_its_kind_of_hive,
                                  a_hard_linked_hive_is_written_only_on_request,
                                  a_saved_copy_has_the_mode_of_its_hive, preflight_sees_the_replayed_hive,
                                  preflight_sees_a_misspelt_service_it_writes,
                                  preflight_reads_only_what_a_change_can_alter, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "rules", "rules", 0, tu_setup_dir, tu_teardown_dir);
    return tu_run_tests(s, tc, tests);
}
