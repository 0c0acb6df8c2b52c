/* cmd_audit.c: 'hiveport audit': the findings of hiveport_audit() as a report or JSON, and an exit status
 * a pipeline can gate on (4 when something at or above --fail-on was found). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "image.h"

static const char usage[] =
    "Usage: hiveport audit HIVE [--software SOFTWARE_HIVE] [--json] [--fail-on LEVEL]\n"
    "       hiveport audit --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] [OPTIONS]\n"
    "Check the static port settings of a SYSTEM hive: values Windows ignores, ports that collide or\n"
    "that another program may take first, control sets that disagree, a Select key that names nothing\n"
    "usable.  Every control set is audited.  The hive is only read.  One line per finding (severity,\n"
    "code, control set, setting, key:value as found, message), then the count per severity.\n"
    "Exit status 4 when a finding at or above LEVEL was found, 0 otherwise.\n\n"
    "  --software PATH   also check the RPC port range of this SOFTWARE hive (KB 154596)\n"
    "  --json            print a JSON document instead of text\n"
    "  --fail-on LEVEL   error (the default), warning or info\n"
    CLI_HELP_READ
    "                    (--log is for HIVE; --no-logs is for both hives)\n"
    CLI_HELP_IMAGE
    "  --help            print this help\n";

enum { OPT_SOFTWARE = 0x300, OPT_FAIL_ON };

/* ---- text ---- */

static void print_finding(const hiveport_finding *x)
{
    printf("%-7s %s ", hiveport_severity_name(x->severity), x->code);
    if (x->controlset != 0)
        printf("ControlSet%03u ", x->controlset);
    else
        printf("- ");
    printf("%s ", x->setting_id != NULL ? x->setting_id : "-");
    /* key:value as found, the notation of custom settings and of 'hiveport diff' */
    if (x->key == NULL && x->value_name == NULL)
        putchar('-');
    if (x->key != NULL)
        cli_print_text(stdout, x->key);
    if (x->value_name != NULL) {
        putchar(':');
        cli_print_text(stdout, x->value_name);
    }
    printf(": ");
    cli_print_text(stdout, x->message);
    putchar('\n');
}

static void print_report(const hiveport_findings *f, const size_t counts[3])
{
    for (size_t i = 0; i < hiveport_findings_count(f); i++)
        print_finding(hiveport_findings_at(f, i));
    cli_findings_summary(counts);
}

/* ---- JSON ---- */

static json_t *finding_json(const hiveport_finding *x)
{
    return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:i, s:o}", "severity", hiveport_severity_name(x->severity),
                     "code", x->code, "controlset", (json_int_t)x->controlset, "setting_id",
                     cli_json_text(x->setting_id), "key", cli_json_text(x->key), "value_name",
                     cli_json_text(x->value_name), "port", (json_int_t)x->port, "message",
                     cli_json_text(x->message));
}

static int print_json(const char *prog, hiveport *h, const char *software, const hiveport_findings *f,
                      const size_t counts[3], int fail_on, bool failed)
{
    json_t *doc = json_pack("{s:o, s:o, s:b, s:o, s:s, s:b, s:o, s:o}", "hive", cli_json_text(hiveport_name(h)),
                            "software", cli_json_text(software), "dirty", hiveport_is_dirty(h) == 1, "logs",
                            cli_json_logs(h), "fail_on", hiveport_severity_name(fail_on), "failed", failed, "counts",
                            cli_findings_counts_json(counts), "findings", cli_findings_json(f, finding_json));
    return cli_json_print(prog, doc);
}

/* The audit stopped on a record it could not read: when the structural check finds errors, the hive is
 * too damaged to audit, and its first error says where. */
static void report_unauditable(const char *prog, hiveport *h, char *why, size_t why_len)
{
    snprintf(why, why_len, "%s", hiveport_errmsg(h));
    hiveport_findings *cf = NULL;
    const hiveport_finding *first = NULL;
    size_t errors = 0;
    if (hiveport_check(h, 0, &cf) == HIVEPORT_OK)
        for (size_t i = 0; i < hiveport_findings_count(cf); i++) {
            const hiveport_finding *x = hiveport_findings_at(cf, i);
            if (x->severity == HIVEPORT_SEVERITY_ERROR && errors++ == 0)
                first = x;
        }
    if (first != NULL)
        snprintf(why, why_len, "%s: the hive is too damaged to audit (%zu error%s; the first: %s at offset 0x%llx: %s)",
                 hiveport_name(h), errors, errors == 1 ? "" : "s", first->code, (unsigned long long)first->offset,
                 first->message);
    cli_error(prog, "%s", why);
    hiveport_findings_free(cf);
}

/* What audit reads, and how it reports. */
struct audit_request {
    const char *prog, *software;
    int fail_on;
    bool json;
    struct cli_open open;
};

static int audit_hive(void *ctx, const char *hive, const char *name)
{
    struct audit_request *req = ctx;
    const char *prog = req->prog, *software = req->software;
    int fail_on = req->fail_on, rc;
    bool json = req->json;
    req->open.name = name;
    const struct cli_open open = req->open;
    /* Both hives read-only: an audit never opens a file for writing, so bytes and times stay. */
    hiveport *h = NULL, *sw = NULL;
    hiveport_findings *f = NULL;
    rc = CLI_FAILED;
    hiveport *unread = NULL; /* the handle whose error the JSON document gives */
    char damage[2048] = "";  /* or this, when the audit stopped on damage */
    /* DAMAGED: a hive too damaged to open otherwise is audited too, its damage a finding (hive-damaged). */
    if (cli_open(hive, &open, HIVEPORT_OPEN_DAMAGED, &h) != HIVEPORT_OK) {
        cli_fail(prog, h);
        unread = h;
        goto out;
    }
    if (software != NULL) {
        hiveport_options opts;
        hiveport_options_init(&opts);
        opts.flags = open.flags & HIVEPORT_OPEN_NO_LOGS;
        if (hiveport_open_ext(software, &opts, &sw) != HIVEPORT_OK) {
            cli_fail(prog, sw);
            unread = sw;
            goto out;
        }
    }
    /* A dirty hive is a finding (hive-dirty), so no separate note on stderr. */
    if (hiveport_audit(h, sw, &f) != HIVEPORT_OK) {
        report_unauditable(prog, h, damage, sizeof damage);
        unread = h;
        goto out;
    }
    size_t counts[3];
    bool failed = cli_findings_count(f, fail_on, counts);
    if (json) {
        if (print_json(prog, h, software, f, counts, fail_on, failed) != CLI_OK)
            goto out;
    } else {
        print_report(f, counts);
    }
    rc = failed ? CLI_FOUND : CLI_OK;
out:
    if (unread != NULL && json) {
        /* What could not be read is a failure: the document says so, for a gate on .failed. */
        json_t *doc = json_pack("{s:o, s:o, s:o, s:s, s:b}", "hive", cli_json_text(name), "software",
                                cli_json_text(software), "error", cli_json_text(*damage ? damage : hiveport_errmsg(unread)),
                                "fail_on", hiveport_severity_name(fail_on), "failed", true);
        cli_json_print(prog, doc);
    }
    hiveport_findings_free(f);
    hiveport_close(sw);
    hiveport_close(h);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option longopts[] = {{"software", required_argument, NULL, OPT_SOFTWARE},
                                             {"fail-on", required_argument, NULL, OPT_FAIL_ON}, CLI_LONGOPT_JSON,
                                             CLI_LONGOPTS_READ, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    struct audit_request req = {.prog = argv[0], .fail_on = HIVEPORT_SEVERITY_ERROR};
    struct cli_target t;
    cli_open_init(&req.open);
    const struct cli_store store[] = {CLI_TEXT(OPT_SOFTWARE, req.software), CLI_FLAG(OPT_JSON, req.json),
                                      CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.open,
                                                               .option = cli_fail_on_option, .ctx = &req.fail_on,
                                                               .min_operands = 1, .max_operands = 1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    return image_with_target(&t, audit_hive, &req);
}
