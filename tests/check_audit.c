/* check_audit.c: hiveport_audit() on a fixture per finding, on real hives, under allocation failures and
 * damage; the RPC port-range parser of lib/rpcrange.c. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hiveport.h"
#include "internal.h" /* hp_alloc_fail_after */
#include "audit.h"    /* hp_audit_normalize */
#include "rpcrange.h"
#include "suite.h"
#include "testutil.h"

#define E HIVEPORT_SEVERITY_ERROR
#define W HIVEPORT_SEVERITY_WARNING
#define I HIVEPORT_SEVERITY_INFO

static hiveport_findings *audit_or_fail(hiveport *h, hiveport *software)
{
    hiveport_findings *f = NULL;
    int rc = hiveport_audit(h, software, &f);
    ck_assert_msg(rc == HIVEPORT_OK, "audit %s: %d %s", hiveport_path(h), rc, hiveport_errmsg(h));
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(hiveport_errmsg(h), "");
    return f;
}

/* A SYSTEM fixture's copy in tu_dir opened read-only, with a SOFTWARE fixture's copy when software is not
 * NULL, and their audit (audit_or_fail). */
struct audited {
    char *path, *sw_path;
    hiveport *h, *sw;
    hiveport_findings *f;
};

static struct audited audit_copies(const char *system, const char *software)
{
    struct audited a = {.path = tu_fixture_copy(tu_dir, system)};
    a.h = tu_open_or_fail(a.path, 0);
    if (software != NULL) {
        a.sw_path = tu_fixture_copy(tu_dir, software);
        a.sw = tu_open_or_fail(a.sw_path, 0);
    }
    a.f = audit_or_fail(a.h, a.sw);
    return a;
}

/* Frees what audit_copies made (the findings, unless NULL: freed already). */
static void audited_free(struct audited *a)
{
    hiveport_findings_free(a->f);
    hiveport_close(a->sw);
    hiveport_close(a->h);
    free(a->sw_path);
    free(a->path);
}

static void print_findings(const char *what, const hiveport_findings *f)
{
    fprintf(stderr, "%s: %zu findings\n", what, hiveport_findings_count(f));
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        fprintf(stderr, "  %u %s %s %s \"%s\" %u: %s\n", x->controlset, hiveport_severity_name(x->severity), x->code,
                x->setting_id ? x->setting_id : "-", x->value_name ? x->value_name : "-", x->port, x->message);
    }
}

/* Every finding well formed, and the list ordered by control set, then errors first. */
static void check_well_formed(const hiveport_findings *f)
{
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        ck_assert_ptr_nonnull(x);
        ck_assert(x->severity >= I && x->severity <= E);
        ck_assert_ptr_nonnull(x->code);
        ck_assert(strspn(x->code, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(x->code));
        ck_assert_ptr_nonnull(x->message);
        size_t len = strlen(x->message);
        ck_assert_msg(len > 10 && x->message[len - 1] == '.', "not a sentence: %s", x->message);
        ck_assert(x->controlset <= 999);
        if (i > 0) {
            const hiveport_finding *p = hiveport_findings_at(f, i - 1);
            ck_assert(p->controlset < x->controlset ||
                      (p->controlset == x->controlset && p->severity >= x->severity));
        }
    }
    ck_assert_ptr_null(hiveport_findings_at(f, hiveport_findings_count(f)));
}

/* ---- A fixture per finding ------------------------------------------------------------------------- */

struct expect {
    const char *code;
    int severity;
    uint32_t controlset;
    const char *setting_id; /* NULL: none */
    const char *value_name; /* NULL: none */
    uint32_t port;
    const char *in_message; /* a part of the message */
};

struct audit_case {
    const char *system;
    const char *software; /* NULL: none */
    struct expect e[6];   /* ends at the first NULL code */
};

static const struct audit_case cases[] = {
    {"audit-clean", NULL, {{0}}},
    {"audit-zero-dynamic", NULL, {{0}}},
    {"audit-hive-dirty", NULL,
     {{"hive-dirty", W, 0, NULL, NULL, 0, "sequence numbers 3 and 2 differ, so its transaction logs"}}},
    {"audit-select-missing", NULL,
     {{"select-missing", E, 0, NULL, NULL, 0, "The hive has no Select key, so nothing says which control set"}}},
    {"audit-select-missing-value", NULL,
     {{"select-missing", E, 0, NULL, "Default", 0, "Select has no \"Default\" value"}}},
    {"audit-select-bad-type", NULL,
     {{"select-bad-type", E, 0, NULL, "Current", 0, "Select\\Current holds REG_SZ (\"1\"), not the 4-byte REG_DWORD"},
      {"select-bad-type", E, 0, NULL, "LastKnownGood", 0, "Select\\LastKnownGood holds REG_DWORD (2 bytes)"}}},
    {"audit-select-missing-controlset", NULL,
     {{"select-missing-controlset", E, 0, NULL, "Current", 0,
       "Select\\Current, Select\\Default and Select\\LastKnownGood name ControlSet003, which does not exist"}}},
    {"audit-current-default-differ", NULL,
     {{"current-default-differ", W, 0, NULL, "Default", 0,
       "Select\\Current is 1 but Select\\Default is 2: the image was not captured cleanly"}}},
    {"audit-wrong-type", NULL,
     {{"wrong-type", E, 1, "exchange-sa-rfr", "TCP/IP Port", 5001,
       "MSExchangeSA\\Parameters \"TCP/IP Port\" is REG_SZ \"5001\", but Windows reads exchange-sa-rfr only as a "
       "REG_DWORD: the value is ignored"},
      {"wrong-type", E, 1, "exchange-is", "TCP/IP Port", 5003, "is REG_BINARY 5003"},
      {"wrong-type", E, 1, "ntds", "TCP/IP Port", 5005, "is REG_QWORD 5005"},
      {"wrong-type", E, 1, "exchange2010-ab", "RpcTcpPort", 6005,
       "is REG_DWORD 6005, but Windows reads exchange2010-ab only as a REG_SZ"}}},
    {"regsz-port", NULL,
     {{"wrong-type", E, 1, "exchange-sa-rfr", "TCP/IP Port", 5001, "REG_SZ \"5001\""},
      {"bad-length", E, 1, "ntds", "TCP/IP Port", 0, "is a REG_DWORD of 2 bytes, not 4"}}},
    {"audit-bad-length", NULL,
     {{"bad-length", E, 1, "ntds", "TCP/IP Port", 0, "NTDS\\Parameters \"TCP/IP Port\" is a REG_DWORD of 2 bytes"},
      {"bad-length", E, 1, "netlogon", "DCTcpipPort", 0, "is a REG_DWORD of 8 bytes, not 4: Windows ignores it"}}},
    {"audit-bad-data", NULL,
     {{"bad-data", E, 1, "exchange2010-ab", "RpcTcpPort", 0, "is the REG_SZ \"60x1\", not a decimal port number"}}},
    {"audit-port-invalid", NULL,
     {{"port-invalid", E, 1, "ntds", "TCP/IP Port", 0, "is 0, which is not a TCP port (1-65535)"},
      {"port-invalid", E, 1, "netlogon", "DCTcpipPort", 70000, "is 70000, which is not a TCP port (1-65535)"},
      {"port-invalid", E, 1, "exchange2010-ab", "RpcTcpPort", 70000, "(1-65535, or 0 for a dynamic port)"}}},
    {"audit-port-privileged", NULL,
     {{"port-privileged", W, 1, "ntds", "TCP/IP Port", 1000, "is 1000, below 1024"},
      {"port-privileged", W, 1, "exchange-sa-rfr", "TCP/IP Port", 800, "is 800, below 1024"}}},
    {"audit-port-below-recommended", NULL,
     {{"port-below-recommended", W, 1, "exchange-is", "TCP/IP Port", 4000,
       "is 4000, below 5000: KB 270836 recommends 5000-65535 and the Exchange analyzer warns below 5000"},
      {"port-below-recommended", W, 1, "ntds", "TCP/IP Port", 1024, "KB 270836 recommends a port above 1024"}}},
    {"audit-port-reserved", NULL,
     {{"port-reserved", E, 1, "ntds", "TCP/IP Port", 135, "is 135, a port Windows itself uses for the RPC endpoint"},
      {"port-reserved", E, 1, "netlogon", "DCTcpipPort", 445, "for SMB"},
      {"port-reserved", E, 1, "exchange-is", "TCP/IP Port", 3268, "the global catalog"},
      {"port-reserved", E, 1, "exchange-sa-http", "HTTP Port", 443, "HTTPS (IIS on Exchange front ends)"}}},
    {"audit-port-in-dynamic-range", NULL,
     {{"port-in-dynamic-range", I, 1, "ntds", "TCP/IP Port", 50000, "is 50000, inside 49152-65535"}}},
    {"audit-port-in-legacy-dynamic-range", NULL,
     {{"port-in-legacy-dynamic-range", I, 1, "ntds", "TCP/IP Port", 3000,
       "is 3000, inside 1025-30000 (raised by Tcpip\\Parameters\\MaxUserPort)"},
      {"port-in-legacy-dynamic-range", I, 1, "netlogon", "DCTcpipPort", 20000, "Windows 2000 and Server 2003"}}},
    {"audit-port-in-exchange2010-range", NULL,
     {{"port-in-exchange2010-range", W, 1, "exchange2010-rpc", "TCP/IP Port", 60000, "inside 59531-60554"},
      {"port-in-exchange2010-range", W, 1, "exchange2010-ab", "RpcTcpPort", 59533, "inside 59531-60554"},
      {"port-in-dynamic-range", I, 1, "ntds", "TCP/IP Port", 60001, "inside 49152-65535"}}},
    {"audit-port-conflict", NULL,
     {{"port-conflict", E, 1, "exchange-is", "TCP/IP Port", 6001,
       "the same port as MSExchangeSA\\Parameters \"TCP/IP Port\" (exchange-sa-rfr)"},
      {"port-conflict", E, 1, "netlogon", "DCTcpipPort", 5005, "event 5809"},
      {"port-conflict", E, 1, "ntfrs", "RPC TCP/IP Port Assignment", 5005, "KB 319553"}}},
    {"audit-misspelled-name", NULL,
     {{"misspelled-name", E, 1, "exchange-sa-rfr", "TCP\\IP Port", 5001,
       "MSExchangeSA\\Parameters has \"TCP\\IP Port\" = 5001, a misspelling Windows does not read"},
      {"misspelled-name", E, 1, "exchange-sa-rfr", "TCPIP Port", 5001, "\"TCPIP Port\""},
      {"misspelled-name", E, 1, "exchange-sa-rfr", "TCP/IP  Port", 5001, "\"TCP/IP  Port\""},
      {"misspelled-name", E, 1, "exchange-sa-rfr", "TCP/IP port ", 5001, "\"TCP/IP port \""},
      {"misspelled-name", E, 1, "netlogon", "DC Tcpip Port", 5006, "read only from \"DCTcpipPort\""}}},
    {"audit-wrong-key", NULL,
     {{"wrong-key", E, 1, "exchange-is", "TCP/IP Port", 5003,
       "MSExchangeIS\\Parameters has \"TCP/IP Port\" = 5003, but Windows reads exchange-is only from "
       "MSExchangeIS\\ParametersSystem"},
      {"wrong-key", E, 1, "exchange2010-rpc", "TCP/IP Port", 6010, "MSExchangeRPC\\Parameters has"},
      {"wrong-key", E, 1, "ntds", "TCP/IP Port", 5005, "NTDS has \"TCP/IP Port\" = 5005"},
      {"wrong-key", E, 1, "exchange-sa-rfr", "TCP/IP Port", 5001, "MSExchange SA\\Parameters has"}}},
    {"audit-not-in-boot-controlset", NULL,
     {{"not-in-boot-controlset", W, 2, "exchange-sa-rfr", "TCP/IP Port", 5001,
       "In ControlSet002 (not named by Select), MSExchangeSA\\Parameters \"TCP/IP Port\" sets exchange-sa-rfr to "
       "5001, but ControlSet001, the control set Windows boots, does not set it"}}},
    {"audit-controlset-divergence", NULL,
     {{"controlset-divergence", I, 0, "ntds", NULL, 5005,
       "5005 in ControlSet001 (Current, Default), 5010 in ControlSet002 (LastKnownGood); a Last Known Good boot "
       "would use 5010 instead"}}},
    {"audit-divergence-current", NULL,
     {{"current-default-differ", W, 0, NULL, "Default", 0, "Windows will boot ControlSet002"},
      {"controlset-divergence", W, 0, "ntds", NULL, 5006,
       "5006 in ControlSet002 (Default, LastKnownGood), 5005 in ControlSet001 (Current); the next boot"}}},
    {"audit-clean", "software-rpc-inside",
     {{"port-in-rpc-range", E, 1, "exchange-is-rpchttp", "Rpc/HTTP Port", 6001,
       "In ControlSet001 (Current, Default: the one Windows boots) and ControlSet002 (LastKnownGood), "
       "MSExchangeIS\\ParametersSystem \"Rpc/HTTP Port\" is 6001, inside the ports the RPC runtime hands out "
       "dynamically (SOFTWARE Microsoft\\Rpc\\Internet: Ports 5900-6001, PortsInternetAvailable Y)"}}},
    {"audit-clean", "software-rpc-excluded", {{0}}},
    {"audit-clean", "software-rpc-outside",
     {{"port-in-rpc-range", E, 1, "exchange-is-rpchttp", "Rpc/HTTP Port", 6001,
       "outside the ports excluded from dynamic RPC (SOFTWARE Microsoft\\Rpc\\Internet: Ports 5000-5010, "
       "PortsInternetAvailable N)"},
      {"port-in-rpc-range", E, 1, "exchange-sa-http", "HTTP Port", 6002, "outside the ports excluded"},
      {"port-in-rpc-range", E, 1, "exchange-sa-rpchttp-nspi", "Rpc/HTTP NSPI Port", 6004, "outside"}}},
    {"audit-clean", "software-rpc-small",
     {{"rpc-range-small", W, 0, NULL, "Ports", 0,
       "leaves dynamic RPC only 51 ports (Ports 7000-7049, 7100, PortsInternetAvailable Y)"}}},
    {"audit-clean", "software-rpc-invalid",
     {{"rpc-range-invalid", E, 0, NULL, "Ports", 0,
       "\"Ports\" has an invalid entry (string 2, \"70000\": the port is above 65535)"}}},
    {"audit-clean", "software-rpc-invalid-flags",
     {{"rpc-range-invalid", E, 0, NULL, "PortsInternetAvailable", 0, "is REG_SZ \"maybe\", not the REG_SZ \"Y\" or"},
      {"rpc-range-invalid", E, 0, NULL, "UseInternetPorts", 0, "is REG_DWORD 1, not the REG_SZ"}}},
    {"audit-clean", "software-rpc-wrong-type",
     {{"rpc-range-invalid", E, 0, NULL, "Ports", 0, "\"Ports\" is REG_SZ, not the REG_MULTI_SZ"},
      {"rpc-range-invalid", E, 0, NULL, "PortsInternetAvailable", 0, "has \"Ports\" but no \"PortsInternetAvailable\""},
      {"rpc-range-invalid", E, 0, NULL, "UseInternetPorts", 0, "has \"Ports\" but no \"UseInternetPorts\""}}},
    {"audit-clean", "software-rpc-incomplete", /* once the key exists, Windows needs all three values */
     {{"rpc-range-invalid", E, 0, NULL, "PortsInternetAvailable", 0, "has \"Ports\" but no \"PortsInternetAvailable\""},
      {"rpc-range-invalid", E, 0, NULL, "UseInternetPorts", 0, "has \"Ports\" but no \"UseInternetPorts\""}}},
};

#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static bool same_opt(const char *x, const char *y)
{
    return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

static bool matches(const hiveport_finding *x, const struct expect *e)
{
    return strcmp(x->code, e->code) == 0 && x->severity == e->severity && x->controlset == e->controlset &&
           same_opt(x->setting_id, e->setting_id) && same_opt(x->value_name, e->value_name) &&
           x->port == e->port && strstr(x->message, e->in_message) != NULL;
}

/* Each fixture gives exactly its findings: every one expected, nothing else. */
START_TEST(each_fixture_gives_exactly_its_findings)
{
    const struct audit_case *c = &cases[_i];
    struct audited a = audit_copies(c->system, c->software);
    const hiveport_findings *f = a.f;
    char what[128];
    snprintf(what, sizeof what, "%s%s%s", c->system, c->software ? " + " : "", c->software ? c->software : "");
    check_well_formed(f);

    size_t n = 0;
    while (n < sizeof c->e / sizeof c->e[0] && c->e[n].code != NULL)
        n++;
    bool used[8] = {false};
    size_t count = hiveport_findings_count(f);
    if (count != n)
        print_findings(what, f);
    ck_assert_msg(count == n, "%s: %zu findings, expected %zu", what, count, n);
    for (size_t j = 0; j < n; j++) {
        size_t k = 0;
        while (k < count && (used[k] || !matches(hiveport_findings_at(f, k), &c->e[j])))
            k++;
        if (k == count)
            print_findings(what, f);
        ck_assert_msg(k < count, "%s: no %s finding for %s matching \"%s\"", what, c->e[j].code,
                      c->e[j].setting_id ? c->e[j].setting_id : "the hive", c->e[j].in_message);
        used[k] = true;
    }
    audited_free(&a);
}
END_TEST

/* The correct Exchange 2003 + domain controller image: nothing to report at all. */
START_TEST(clean_exchange_dc_has_no_warning_or_error)
{
    struct audited a = audit_copies("audit-clean", NULL);
    for (size_t i = 0; i < hiveport_findings_count(a.f); i++)
        ck_assert_int_eq(hiveport_findings_at(a.f, i)->severity, I);
    ck_assert_uint_eq(hiveport_findings_count(a.f), 0);

    /* Every port it sets is one Windows reads (the audit looked at the right values). */
    static const char *const ids[] = {"exchange-sa-rfr", "exchange-sa-nspi", "exchange-is", "exchange-srs", "ntds",
                                      "netlogon", "ntfrs", "exchange-sa-http", "exchange-sa-rpchttp-nspi",
                                      "exchange-is-rpchttp"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        uint32_t port;
        ck_assert_int_eq(hiveport_get_port(a.h, hiveport_catalog_find(ids[i]), HIVEPORT_CS_DEFAULT, &port), HIVEPORT_OK);
    }
    audited_free(&a);
}
END_TEST

/* The finding's key and value name are the hive's own spelling; the control set's label marks the boot one. */
START_TEST(keys_and_values_as_found)
{
    struct audited a = audit_copies("audit-wrong-key", NULL);
    bool seen = false;
    for (size_t i = 0; i < hiveport_findings_count(a.f); i++) {
        const hiveport_finding *x = hiveport_findings_at(a.f, i);
        if (strcmp(x->setting_id, "exchange-sa-rfr") == 0) {
            ck_assert_str_eq(x->key, "ControlSet001\\Services\\MSExchange SA\\Parameters");
            ck_assert_str_eq(x->value_name, "TCP/IP Port");
            ck_assert_ptr_nonnull(strstr(x->message, "In ControlSet001 (Current, Default, LastKnownGood: the one "
                                                     "Windows boots), "));
            seen = true;
        }
    }
    ck_assert(seen);
    audited_free(&a);

    a = audit_copies("audit-select-bad-type", NULL);
    ck_assert_uint_eq(hiveport_findings_count(a.f), 2);
    ck_assert_str_eq(hiveport_findings_at(a.f, 0)->key, "Select");
    ck_assert_ptr_null(hiveport_findings_at(a.f, 0)->setting_id);
    audited_free(&a);
}
END_TEST

/* An equal finding in several control sets is listed once, under the control set Windows boots. */
START_TEST(equal_findings_merge_across_controlsets)
{
    struct audited a = audit_copies("audit-clean", "software-rpc-inside");
    ck_assert_uint_eq(hiveport_findings_count(a.f), 1);
    const hiveport_finding *x = hiveport_findings_at(a.f, 0);
    ck_assert_uint_eq(x->controlset, 1);
    ck_assert_str_eq(x->key, "ControlSet001\\Services\\MSExchangeIS\\ParametersSystem");
    ck_assert_ptr_nonnull(strstr(x->message, "ControlSet002 (LastKnownGood)"));
    ck_assert_str_eq(hiveport_errmsg(a.sw), "");
    audited_free(&a);
}
END_TEST

/* More than HP_FINDINGS_MAX: the first 1000 are kept and one warning says how many were left out. */
START_TEST(findings_are_capped)
{
    struct audited a = audit_copies("audit-findings-truncated", NULL);
    const hiveport_findings *f = a.f;
    check_well_formed(f);
    ck_assert_uint_eq(hiveport_findings_count(f), HP_FINDINGS_MAX + 1);
    const hiveport_finding *x = hiveport_findings_at(f, 0);
    ck_assert_str_eq(x->code, "findings-truncated");
    ck_assert_int_eq(x->severity, W);
    ck_assert_str_eq(x->message, "An audit lists at most 1000 findings; 1 more were left out.");
    for (size_t i = 1; i < hiveport_findings_count(f); i++)
        ck_assert_str_eq(hiveport_findings_at(f, i)->code, "misspelled-name");
    audited_free(&a);
}
END_TEST

static void same_file_state(const char *path, const char *original, const struct stat *before)
{
    struct stat after;
    ck_assert_int_eq(tu_stat(path, &after), 0);
    ck_assert(tu_same_bytes(path, original));
    ck_assert(before->st_ino == after.st_ino);
    ck_assert(before->st_size == after.st_size);
    ck_assert(tu_same_mtime(before, &after));
    ck_assert(before->st_ctim.tv_sec == after.st_ctim.tv_sec && before->st_ctim.tv_nsec == after.st_ctim.tv_nsec);
}

/* The audit opens nothing for writing: read-only files (in a read-only directory) work and stay as they were. */
START_TEST(read_only_files_untouched)
{
    char *path = tu_fixture_copy(tu_dir, "audit-port-conflict"), *sw_path = tu_fixture_copy(tu_dir, "software-rpc-outside");
    const char *original = tu_fixture_path("audit-port-conflict"), *sw_original = tu_fixture_path("software-rpc-outside");
    ck_assert_int_eq(chmod(path, 0444), 0);
    ck_assert_int_eq(chmod(sw_path, 0444), 0);
    ck_assert_int_eq(chmod(tu_dir, 0555), 0);
    struct stat st, sw_st;
    ck_assert_int_eq(tu_stat(path, &st), 0);
    ck_assert_int_eq(tu_stat(sw_path, &sw_st), 0);
    hiveport *h = tu_open_or_fail(path, 0), *sw = tu_open_or_fail(sw_path, 0);
    hiveport_findings *f = audit_or_fail(h, sw);
    ck_assert_uint_gt(hiveport_findings_count(f), 0);
    hiveport_findings_free(f);
    ck_assert_int_eq(hiveport_has_changes(h), 0);
    hiveport_close(sw);
    hiveport_close(h);
    same_file_state(path, original, &st);
    same_file_state(sw_path, sw_original, &sw_st);
    ck_assert_int_eq(chmod(tu_dir, 0700), 0);
    free(sw_path);
    free(path);
}
END_TEST

/* On a write handle the audit sees the uncommitted changes, and changes nothing itself. */
START_TEST(audit_sees_uncommitted_changes)
{
    char *path = tu_fixture_copy(tu_dir, "audit-port-reserved");
    const char *original = tu_fixture_path("audit-port-reserved");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), 1, 5005, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("exchange2010-rpc"), 1, 6010, 0), HIVEPORT_OK);
    hiveport_findings *f = audit_or_fail(h, NULL);
    ck_assert_uint_eq(hiveport_findings_count(f), 3); /* ntds (135) is fixed; 6010 is fine */
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(hiveport_findings_at(f, i)->code, "port-reserved");
        ck_assert_str_ne(hiveport_findings_at(f, i)->setting_id, "ntds");
    }
    hiveport_findings_free(f);
    ck_assert_int_eq(hiveport_has_changes(h), 1);
    hiveport_close(h); /* uncommitted: discarded */
    ck_assert(tu_same_bytes(path, original));
    free(path);
}
END_TEST

START_TEST(arguments_and_accessors)
{
    char *path = tu_fixture_copy(tu_dir, "audit-clean");
    hiveport *h = tu_open_or_fail(path, 0), *bad = NULL;
    hiveport_findings *f = (hiveport_findings *)1;
    ck_assert_int_eq(hiveport_audit(NULL, NULL, &f), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(hiveport_audit(h, NULL, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "audit needs a place for the findings"));
    ck_assert_int_ne(hiveport_open(tu_dir, 0, &bad), HIVEPORT_OK); /* a directory: a failed handle */
    ck_assert_int_eq(hiveport_audit(bad, NULL, &f), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_audit(h, bad, &f), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "SOFTWARE hive handle is not open"));
    hiveport_close(bad);

    f = audit_or_fail(h, NULL); /* a success clears the previous message */
    ck_assert_uint_eq(hiveport_findings_count(f), 0);
    ck_assert_ptr_null(hiveport_findings_at(f, 0));
    hiveport_findings_free(f);
    ck_assert_uint_eq(hiveport_findings_count(NULL), 0);
    ck_assert_ptr_null(hiveport_findings_at(NULL, 0));
    hiveport_findings_free(NULL);

    /* The same hive as its own SOFTWARE hive: the wrong kind of hive, refused rather than read as one with
     * no RPC range. */
    f = (hiveport_findings *)1;
    ck_assert_int_eq(hiveport_audit(h, h, &f), HIVEPORT_E_NOT_HIVE);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "not a SOFTWARE hive"));

    ck_assert_str_eq(hiveport_severity_name(HIVEPORT_SEVERITY_INFO), "info");
    ck_assert_str_eq(hiveport_severity_name(HIVEPORT_SEVERITY_WARNING), "warning");
    ck_assert_str_eq(hiveport_severity_name(HIVEPORT_SEVERITY_ERROR), "error");
    ck_assert_str_eq(hiveport_severity_name(3), "unknown");
    ck_assert_str_eq(hiveport_severity_name(-1), "unknown");
    hiveport_close(h);
    free(path);
}
END_TEST

/* Every allocation failure is HIVEPORT_E_NOMEM with no list and no leak (valgrind), until the audit succeeds
 * with the same findings as without failures. */
static const char *const alloc_cases[][2] = {
    {"audit-clean", "software-rpc-outside"},  {"audit-clean", "software-rpc-small"},
    {"audit-port-conflict", NULL},            {"audit-misspelled-name", NULL},
    {"audit-divergence-current", NULL},       {"audit-select-bad-type", NULL},
    {"audit-not-in-boot-controlset", NULL},   {"audit-clean", "software-rpc-invalid-flags"},
    {"audit-wrong-type", NULL},               {"audit-port-in-legacy-dynamic-range", NULL},
};

START_TEST(allocation_failures_are_clean)
{
    const char *system = alloc_cases[_i][0], *software = alloc_cases[_i][1];
    char *path = tu_fixture_copy(tu_dir, system), *sw_path = software ? tu_fixture_copy(tu_dir, software) : NULL;
    hiveport *h = tu_open_or_fail(path, 0), *sw = sw_path ? tu_open_or_fail(sw_path, 0) : NULL;
    hiveport_findings *f = audit_or_fail(h, sw);
    size_t expected = hiveport_findings_count(f);
    hiveport_findings_free(f);

    int succeeded = 0;
    unsigned long n;
    for (n = 1; n < 5000 && !succeeded; n++) {
        f = (hiveport_findings *)1;
        hp_alloc_fail_after(n);
        int rc = hiveport_audit(h, sw, &f);
        hp_alloc_fail_after(0);
        ck_assert_msg(rc == HIVEPORT_OK || rc == HIVEPORT_E_NOMEM, "%s n=%lu: %d %s", system, n, rc,
                      hiveport_errmsg(h));
        if (rc == HIVEPORT_OK) {
            succeeded = 1;
            ck_assert_uint_eq(hiveport_findings_count(f), expected);
            check_well_formed(f);
            hiveport_findings_free(f);
        } else {
            ck_assert_ptr_null(f);
            ck_assert_msg(strstr(hiveport_errmsg(h), "out of memory") != NULL, "n=%lu: %s", n, hiveport_errmsg(h));
        }
    }
    ck_assert(succeeded);
    ck_assert_uint_gt(n, 5); /* the walk did go through allocations */
    hiveport_close(sw);
    hiveport_close(h);
    free(sw_path);
    free(path);
}
END_TEST

/* Random damage to the hive bins: whatever opens is audited to a list or to a clear error, never a crash. */
START_TEST(damaged_hives_never_crash)
{
    static const char *const sources[] = {"audit-clean", "audit-misspelled-name", "audit-wrong-key",
                                          "software-rpc-small"};
    size_t len;
    char *copy = NULL;
    if (asprintf(&copy, "%s/damaged.hive", tu_dir) < 0)
        abort();
    unsigned seed = 12345;
    int audited = 0;
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        char *src = strdup(tu_fixture_path(sources[s]));
        unsigned char *orig = tu_read(src, &len);
        ck_assert_ptr_nonnull(orig);
        ck_assert_uint_gt(len, 4096);
        for (int round = 0; round < 150; round++) {
            unsigned char *bytes = malloc(len);
            memcpy(bytes, orig, len);
            int flips = 1 + (int)(rand_r(&seed) % 8);
            for (int k = 0; k < flips; k++) {
                size_t off = 4096 + (size_t)rand_r(&seed) % (len - 4096);
                if (k % 2)
                    bytes[off] = (unsigned char)rand_r(&seed);
                else
                    bytes[off] ^= (unsigned char)(1u << (rand_r(&seed) % 8));
            }
            FILE *out = fopen(copy, "wb");
            ck_assert_ptr_nonnull(out);
            ck_assert_uint_eq(fwrite(bytes, 1, len, out), len);
            ck_assert_int_eq(fclose(out), 0);
            free(bytes);
            hiveport *h = NULL, *sw = NULL;
            if (hiveport_open(copy, 0, &h) == HIVEPORT_OK) {
                hiveport_open(src, 0, &sw);
                hiveport_findings *f = NULL;
                int rc = hiveport_audit(h, round % 2 ? sw : NULL, &f);
                /* NOT_HIVE: the damage hid the keys that make it a SYSTEM (or SOFTWARE) hive */
                ck_assert_msg(rc == HIVEPORT_OK || rc == HIVEPORT_E_CORRUPT || rc == HIVEPORT_E_NOMEM ||
                                  rc == HIVEPORT_E_NOT_HIVE,
                              "%s round %d: %d %s", sources[s], round, rc, hiveport_errmsg(h));
                if (rc == HIVEPORT_OK) {
                    check_well_formed(f);
                    audited++;
                } else {
                    ck_assert_ptr_null(f);
                    /* the hive at fault: the damaged one, or the other when it is not a SOFTWARE hive */
                    ck_assert(strstr(hiveport_errmsg(h), copy) || strstr(hiveport_errmsg(h), src));
                }
                hiveport_findings_free(f);
                /* and the other way round: the damaged hive as the SOFTWARE hive */
                rc = hiveport_audit(sw, h, &f);
                ck_assert(rc == HIVEPORT_OK || rc == HIVEPORT_E_CORRUPT || rc == HIVEPORT_E_NOMEM ||
                          rc == HIVEPORT_E_NOT_HIVE);
                hiveport_findings_free(f);
            }
            hiveport_close(sw);
            hiveport_close(h);
        }
        free(orig);
        free(src);
    }
    ck_assert_int_gt(audited, 0);
    free(copy);
}
END_TEST

/* ---- Real hives (skipped without ../shared/hives) --------------------------------------------------- */

static const struct {
    const char *name;
    int dirty;  /* 1, 0, or -1: refused at open */
    bool system; /* has Select and control sets */
} real_hives[] = {
    {"win7-SYSTEM", 0, true},
    {"vista-SYSTEM", 0, true},
    {"win10-pruned-SYSTEM", 0, true},
    {"dirty-nolog-SYSTEM", 1, true},
    {"delta-1.6-SYSTEM", 0, false},
    {"corrupt-SYSTEM", -1, false},
    {"txlog/new-format/NewDirtyHive", 1, false},
    {"txlog/old-format/OldDirtyHive", 1, false},
};

START_TEST(real_hives_audit_and_stay_untouched)
{
    const char *name = real_hives[_i].name;
    char *path = tu_real_hive(tu_dir, name);
    if (path == NULL)
        return;
    char *original = tu_copy_beside(path, ".orig");
    ck_assert_int_eq(chmod(path, 0444), 0);
    struct stat st;
    ck_assert_int_eq(tu_stat(path, &st), 0);

    hiveport *h = NULL;
    int rc = hiveport_open(path, 0, &h);
    if (real_hives[_i].dirty < 0) {
        ck_assert_msg(rc == HIVEPORT_E_CORRUPT, "%s: %d %s", name, rc, hiveport_errmsg(h));
        ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), path));
        hiveport_findings *f = (hiveport_findings *)1;
        ck_assert_int_eq(hiveport_audit(h, NULL, &f), HIVEPORT_E_INVALID_ARG);
        ck_assert_ptr_null(f);
    } else {
        ck_assert_msg(rc == HIVEPORT_OK, "%s: %s", name, hiveport_errmsg(h));
        /* None of them is a SOFTWARE hive: refused as one, whatever it is. */
        hiveport_findings *f = (hiveport_findings *)1;
        ck_assert_int_eq(hiveport_audit(h, h, &f), HIVEPORT_E_NOT_HIVE);
        ck_assert_ptr_null(f);
        ck_assert(strstr(hiveport_errmsg(h), "not a SOFTWARE hive") || strstr(hiveport_errmsg(h), "not a SYSTEM hive"));
        /* A hive with neither Select nor ControlSetNNN is no SYSTEM hive either: refused, not audited. */
        if ((rc = hiveport_audit(h, NULL, &f)) == HIVEPORT_E_NOT_HIVE) {
            ck_assert_msg(!real_hives[_i].system, "%s: %s", name, hiveport_errmsg(h));
            ck_assert_ptr_nonnull(strstr(hiveport_errmsg(h), "not a SYSTEM hive"));
            goto out;
        }
        ck_assert_msg(rc == HIVEPORT_OK, "%s: %d %s", name, rc, hiveport_errmsg(h));
        check_well_formed(f);
        size_t dirty = 0, select = 0;
        for (size_t i = 0; i < hiveport_findings_count(f); i++) {
            const hiveport_finding *x = hiveport_findings_at(f, i);
            dirty += strcmp(x->code, "hive-dirty") == 0;
            select += strncmp(x->code, "select-", 7) == 0;
            ck_assert_msg(x->severity != E || strncmp(x->code, "select-", 7) == 0, "%s: %s", name, x->message);
        }
        ck_assert_uint_eq(dirty, real_hives[_i].dirty ? 1 : 0);
        ck_assert_uint_eq(hiveport_is_dirty(h), (unsigned)real_hives[_i].dirty);
        ck_assert_uint_eq(select, real_hives[_i].system ? 0 : 1);
        hiveport_findings_free(f);
    }
out:
    hiveport_close(h);
    same_file_state(path, original, &st);
    free(original);
    free(path);
}
END_TEST

/* ---- lib/rpcrange.c ----------------------------------------------------------------------------------- */

/* A REG_MULTI_SZ payload from NUL-separated ASCII (the final empty string included by the caller). */
#define MSZ(lit, buf) TU_UTF16(lit, buf)

START_TEST(rpcrange_parses_like_windows)
{
    struct hp_rpc_range r;
    char why[128];
    static const struct {
        const char *text;
        uint32_t low, high;
    } good[] = {{"5000", 5000, 5000}, {"5000-5100", 5000, 5100}, {"0", 0, 0}, {"65535", 65535, 65535},
                {"0-65535", 0, 65535}, {"05000-05001", 5000, 5001}, {"7-7", 7, 7}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(hp_rpcrange_parse_one(good[i].text, &r, why, sizeof why) == 0, "%s: %s", good[i].text, why);
        ck_assert_uint_eq(r.low, good[i].low);
        ck_assert_uint_eq(r.high, good[i].high);
    }
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "empty"},          {"65536", "above 65535"},        {"5000-65536", "above 65535"},
        {"6000-5000", "low end is above"}, {"-5000", "no low end"}, {"5000-", "no high end"},
        {"5000--6000", "more than one '-'"}, {"1-2-3", "more than one '-'"}, {" 5000", "only digits"},
        {"5000 ", "only digits"}, {"+5000", "only digits"},    {"5000-6000,7000", "only digits"},
        {"0x1388", "only digits"}, {"99999999999999999999", "above 65535"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(hp_rpcrange_parse_one(bad[i].text, &r, why, sizeof why) == -1, "%s parsed", bad[i].text);
        ck_assert_msg(strstr(why, bad[i].why) != NULL, "%s: %s", bad[i].text, why);
    }

    char buf[256];
    struct hp_rpc_range *ranges;
    size_t n, len;
    len = MSZ("5000-5100\0" "5984\0" "\0", buf);
    ck_assert_int_eq(hp_rpcrange_parse(buf, len, &ranges, &n, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ranges[0].low, 5000);
    ck_assert_uint_eq(ranges[0].high, 5100);
    ck_assert_uint_eq(ranges[1].low, 5984);
    ck_assert(hp_rpcrange_contains(ranges, n, 5984));
    ck_assert(hp_rpcrange_contains(ranges, n, 5050));
    ck_assert(!hp_rpcrange_contains(ranges, n, 5101));
    ck_assert_uint_eq(hp_rpcrange_size(ranges, n), 102);
    ck_assert_uint_eq(hp_rpcrange_available(ranges, n, true), 102);
    ck_assert_uint_eq(hp_rpcrange_available(ranges, n, false), 65535 - 102);

    /* Round trip through the encoder. */
    char *data;
    size_t data_len;
    ck_assert_int_eq(hp_rpcrange_format(ranges, n, &data, &data_len), HIVEPORT_OK);
    ck_assert_uint_eq(data_len, len);
    ck_assert(memcmp(data, buf, len) == 0);
    hp_free(data);
    hp_free(ranges);

    /* No final terminators, an odd trailing byte: the last string still counts. */
    len = MSZ("7000-7999", buf);
    buf[len++] = 'x';
    ck_assert_int_eq(hp_rpcrange_parse(buf, len, &ranges, &n, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ranges[0].high, 7999);
    hp_free(ranges);
    /* The list ends at the first empty string. */
    len = MSZ("1\0" "\0" "junk\0" "\0", buf);
    ck_assert_int_eq(hp_rpcrange_parse(buf, len, &ranges, &n, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(n, 1);
    hp_free(ranges);
    /* Empty: no strings, no ranges. */
    ck_assert_int_eq(hp_rpcrange_parse(buf, 0, &ranges, &n, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(ranges);
    ck_assert_uint_eq(hp_rpcrange_available(NULL, 0, false), 65535);
    ck_assert_int_eq(hp_rpcrange_format(NULL, 0, &data, &data_len), HIVEPORT_OK);
    ck_assert_uint_eq(data_len, 2);
    hp_free(data);

    /* One bad string invalidates all of them; nothing is returned. */
    len = MSZ("5000-5100\0" "70000\0" "\0", buf);
    ck_assert_int_eq(hp_rpcrange_parse(buf, len, &ranges, &n, why, sizeof why), HIVEPORT_E_BAD_DATA);
    ck_assert_str_eq(why, "string 2, \"70000\": the port is above 65535");
    ck_assert_ptr_null(ranges);
    ck_assert_uint_eq(n, 0);
    len = MSZ("5000\0" "\0", buf);
    buf[1] = 0x01; /* U+0135, not ASCII */
    ck_assert_int_eq(hp_rpcrange_parse(buf, len, &ranges, &n, why, sizeof why), HIVEPORT_E_BAD_DATA);
    ck_assert_str_eq(why, "string 1, \"?000\": only digits and one '-' may appear");
    char longer[200];
    len = MSZ("1000000000000000000000000000000000000000000000000\0" "\0", longer);
    ck_assert_int_eq(hp_rpcrange_parse(longer, len, &ranges, &n, why, sizeof why), HIVEPORT_E_BAD_DATA);
    ck_assert_ptr_nonnull(strstr(why, "too long"));

    /* More strings than HP_RPC_RANGE_MAX. */
    size_t big_len = (HP_RPC_RANGE_MAX + 1) * 4 + 2;
    char *big = calloc(1, big_len);
    for (size_t i = 0; i <= HP_RPC_RANGE_MAX; i++)
        big[4 * i] = '7';
    ck_assert_int_eq(hp_rpcrange_parse(big, big_len, &ranges, &n, why, sizeof why), HIVEPORT_E_BAD_DATA);
    ck_assert_ptr_nonnull(strstr(why, "more than 4096 strings"));
    free(big);

    /* Overlaps count once; the encoder refuses what Windows would. */
    struct hp_rpc_range overlap[] = {{100, 200}, {150, 250}, {0, 0}, {65535, 65535}};
    ck_assert_uint_eq(hp_rpcrange_size(overlap, 4), 153);
    ck_assert_uint_eq(hp_rpcrange_available(overlap, 4, true), 152);
    struct hp_rpc_range wrong[] = {{200, 100}};
    ck_assert_int_eq(hp_rpcrange_format(wrong, 1, &data, &data_len), HIVEPORT_E_INVALID_ARG);
    struct hp_rpc_range all[] = {{0, 65535}};
    ck_assert_uint_eq(hp_rpcrange_size(all, 1), 65536);
    ck_assert_uint_eq(hp_rpcrange_available(all, 1, false), 0);

    /* Y and N as the RPC runtime reads them: any case, at most 4 bytes (the letter and its terminator). */
    ck_assert_int_eq(hp_rpcrange_read_yn("Y\0\0\0", 4, why, sizeof why), 1);
    ck_assert_int_eq(hp_rpcrange_read_yn("y\0", 2, why, sizeof why), 1);
    ck_assert_int_eq(hp_rpcrange_read_yn("N\0\0\0", 4, why, sizeof why), 0);
    ck_assert_int_eq(hp_rpcrange_read_yn("n\0\0\0junk", 8, why, sizeof why), -1);
    ck_assert_int_eq(hp_rpcrange_read_yn("Y\0e\0s\0\0\0", 8, why, sizeof why), -1);
    ck_assert_int_eq(hp_rpcrange_read_yn("", 0, why, sizeof why), -1);
    ck_assert_int_eq(hp_rpcrange_read_yn(NULL, 0, why, sizeof why), -1);
    ck_assert_int_eq(hp_rpcrange_read_yn("Y", 1, why, sizeof why), -1);
}
END_TEST

START_TEST(rpcrange_allocation_failure)
{
    char buf[64], why[64];
    struct hp_rpc_range *ranges = (struct hp_rpc_range *)1;
    size_t n = 7, len = MSZ("1-2\0" "\0", buf);
    hp_alloc_fail_after(1);
    ck_assert_int_eq(hp_rpcrange_parse(buf, len, &ranges, &n, why, sizeof why), HIVEPORT_E_NOMEM);
    hp_alloc_fail_after(0);
    ck_assert_ptr_null(ranges);
    ck_assert_uint_eq(n, 0);
    struct hp_rpc_range one = {1, 2};
    char *data = (char *)1;
    hp_alloc_fail_after(1);
    ck_assert_int_eq(hp_rpcrange_format(&one, 1, &data, &len), HIVEPORT_E_NOMEM);
    hp_alloc_fail_after(0);
    ck_assert_ptr_null(data);
}
END_TEST

START_TEST(names_normalise)
{
    static const char *const same[] = {"TCP/IP Port", "tcp/ip port", "TCP\\IP Port", "TCPIP Port", "TCP/IP  Port",
                                       " TCP/IP port ", "TCP-IP_Port", "TCP/IP\tPort"};
    char want[HP_AUDIT_NORM_MAX], got[HP_AUDIT_NORM_MAX];
    hp_audit_normalize("TCP/IP Port", want, sizeof want);
    ck_assert_str_eq(want, "tcpipport");
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        hp_audit_normalize(same[i], got, sizeof got);
        ck_assert_str_eq(got, want);
    }
    static const char *const other[] = {"TCP/IP NSPI Port", "Mailbox Server", "HTTP Port", "TCP/IP", "TCP/IP Port2"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        hp_audit_normalize(other[i], got, sizeof got);
        ck_assert_str_ne(got, want);
    }
    char tiny[4];
    hp_audit_normalize("TCP/IP Port", tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "tcp");
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {clean_exchange_dc_has_no_warning_or_error, keys_and_values_as_found,
                                  equal_findings_merge_across_controlsets, findings_are_capped,
                                  read_only_files_untouched, audit_sees_uncommitted_changes,
                                  arguments_and_accessors, damaged_hives_never_crash,
                                  rpcrange_parses_like_windows, rpcrange_allocation_failure, names_normalise, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "audit", "audit", 120, tu_setup_dir, tu_teardown_dir);
    tcase_add_loop_test(tc, each_fixture_gives_exactly_its_findings, 0, NCASES);
    tcase_add_loop_test(tc, allocation_failures_are_clean, 0, (int)(sizeof alloc_cases / sizeof alloc_cases[0]));
    tcase_add_loop_test(tc, real_hives_audit_and_stay_untouched, 0, (int)(sizeof real_hives / sizeof real_hives[0]));
    return tu_run_tests(s, tc, tests);
}
