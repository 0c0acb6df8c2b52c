/* cmd_check.c: 'hiveport check': would Windows load this hive?  The findings of hiveport_check() for each
 * hive named, as a report or JSON; exit 4 when one is at or above --fail-on, 1 when a hive cannot be read. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "image.h"

static const char usage[] =
    "Usage: hiveport check HIVE... [--json] [--fail-on LEVEL] [--no-logs]\n"
    "       hiveport check --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] [OPTIONS]\n"
    "Check every structural rule of the registry hive format that Windows applies when it loads a hive:\n"
    "base block, hive bins, cells, keys and subkey lists (order, hashes), values and big data, security\n"
    "cells.  The hives are only read.  One line per finding (hive, severity, code, file offset, key, message),\n"
    "then the count per severity.  A dirty hive is checked with its logs replayed, as Windows loads it.\n"
    "Exit status 4 when a finding at or above LEVEL was found, 1 when a hive cannot be read, else 0.\n\n"
    "  --json            print a JSON document instead of text\n"
    "  --fail-on LEVEL   error (the default), warning or info\n"
    CLI_HELP_READ
    "                    (--no-logs checks the primary file as it is on disk)\n"
    CLI_HELP_IMAGE
    "  --help            print this help\n";

enum { OPT_FAIL_ON = 0x300 };

static void print_finding(const char *hive, const hiveport_finding *x)
{
    cli_print_text(stdout, hive);
    printf(": %-7s %s 0x%08llx ", hiveport_severity_name(x->severity), x->code, (unsigned long long)x->offset);
    if (x->key == NULL) {
        putchar('-');
    } else {
        putchar('"');
        cli_print_text(stdout, x->key);
        putchar('"');
    }
    printf(": ");
    cli_print_text(stdout, x->message);
    putchar('\n');
}

static json_t *finding_json(const hiveport_finding *x)
{
    return json_pack("{s:s, s:s, s:I, s:o, s:o}", "severity", hiveport_severity_name(x->severity), "code", x->code,
                     "offset", (json_int_t)x->offset, "key", cli_json_text(x->key), "message",
                     cli_json_text(x->message));
}

/* One hive's result as JSON (NULL when out of memory). */
static json_t *hive_json(hiveport *h, const hiveport_findings *f, const size_t counts[3])
{
    return json_pack("{s:o, s:b, s:o, s:o, s:o}", "hive", cli_json_text(hiveport_name(h)), "dirty",
                     hiveport_is_dirty(h) == 1, "logs", cli_json_logs(h), "counts", cli_findings_counts_json(counts),
                     "findings", cli_findings_json(f, finding_json));
}

/* Checks one hive: CLI_OK, CLI_FOUND (something at or above fail_on) or CLI_FAILED (printed).  With json,
 * the hive's document is appended to docs (or its error, as {"hive", "error"}). */
static int check_one(const char *prog, const char *path, const char *name, const struct cli_open *open, int fail_on,
                     json_t *docs)
{
    hiveport *h = NULL;
    hiveport_findings *f = NULL;
    int rc = CLI_FAILED;
    if (cli_open_named(path, name, open, HIVEPORT_OPEN_DAMAGED, &h) != HIVEPORT_OK ||
        hiveport_check(h, 0, &f) != HIVEPORT_OK) {
        cli_fail(prog, h);
        if (docs != NULL)
            json_array_append_new(docs, json_pack("{s:o, s:o}", "hive", cli_json_text(name), "error",
                                                  cli_json_text(hiveport_errmsg(h))));
        goto out;
    }
    size_t counts[3];
    bool failed = cli_findings_count(f, fail_on, counts);
    if (docs != NULL) {
        json_t *doc = hive_json(h, f, counts);
        if (doc == NULL || json_array_append_new(docs, doc) != 0) {
            cli_error(prog, "out of memory");
            goto out;
        }
    } else {
        for (size_t i = 0; i < hiveport_findings_count(f); i++)
            print_finding(name, hiveport_findings_at(f, i));
        cli_print_text(stdout, name);
        fputs(": ", stdout);
        cli_findings_summary(counts);
    }
    rc = failed ? CLI_FOUND : CLI_OK;
out:
    hiveport_findings_free(f);
    hiveport_close(h);
    return rc;
}

/* What check reads: its target, then the other HIVE operands. */
struct check_request {
    const char *prog;
    struct cli_open open;
    int fail_on;
    bool json;
    char **more; /* the other HIVE operands */
    int nmore;
};

static int check_all(void *ctx, const char *hive, const char *name)
{
    struct check_request *req = ctx;
    const char *prog = req->prog;
    int fail_on = req->fail_on, rc;
    bool json = req->json;
    json_t *docs = json ? json_array() : NULL;
    if (json && docs == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    /* Every hive is checked; an unreadable one decides the status over findings in others. */
    bool unreadable = false, found = false;
    for (int i = -1; i < req->nmore; i++) {
        const char *path = i < 0 ? hive : req->more[i];
        int one = check_one(prog, path, i < 0 ? name : path, &req->open, fail_on, docs);
        unreadable = unreadable || one == CLI_FAILED;
        found = found || one == CLI_FOUND;
    }
    rc = unreadable ? CLI_FAILED : found ? CLI_FOUND : CLI_OK;
    if (json) {
        /* A hive that could not be read is a failure too: a gate on .failed must not pass a missing hive. */
        json_t *doc = json_pack("{s:s, s:b, s:o}", "fail_on", hiveport_severity_name(fail_on), "failed",
                                found || unreadable, "hives", docs);
        if (cli_json_print(prog, doc) != CLI_OK)
            rc = CLI_FAILED;
    }
    return rc;
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {{"fail-on", required_argument, NULL, OPT_FAIL_ON}, CLI_LONGOPT_JSON,
                                             CLI_LONGOPTS_READ, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    struct check_request req = {.prog = argv[0], .fail_on = HIVEPORT_SEVERITY_ERROR};
    struct cli_target t;
    cli_open_init(&req.open);
    const struct cli_store store[] = {CLI_FLAG(OPT_JSON, req.json), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.open,
                                                               .option = cli_fail_on_option, .ctx = &req.fail_on,
                                                               .min_operands = 1, .max_operands = -1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    req.more = argv + optind;
    req.nmore = argc - optind;
    if (req.open.nlogs > 0 && req.nmore > 0)
        return cli_usage_error(req.prog, "--log names the logs of one hive: give one HIVE with it");
    return image_with_target(&t, check_all, &req);
}
