/* preflight.c: before a write, the changes are checked with hiveport_preflight(), the audit's own rules:
 * what 'audit' would call an error in the written hive is refused unless --force, warnings are shown, and
 * under --strict a custom setting may not create a service key.  'set' and 'apply' share this; neither
 * keeps rules of its own. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_preflight(hiveport *h, const hiveport_plan_item *plan, size_t count, int target, unsigned set_flags,
                  const struct cli_rules *rules, void (*say)(void *ctx, const char *line), void *ctx,
                  char *refusal, size_t len)
{
    hiveport_findings *f = NULL;
    int status = hiveport_preflight(h, plan, count, target, set_flags, NULL, &f);
    if (status != HIVEPORT_OK) {
        snprintf(refusal, len, "%s%s", hiveport_errmsg(h),
                 status == HIVEPORT_E_WRONG_TYPE ? " (--replace-type overwrites it)" : "");
        return CLI_FAILED;
    }
    size_t errors = 0, created = 0;
    char rules_broken[256] = ""; /* the codes of the errors, for the refusal */
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        if (x->severity < HIVEPORT_SEVERITY_WARNING)
            continue;
        bool service = strcmp(x->code, "service-key-created") == 0;
        if (x->severity == HIVEPORT_SEVERITY_ERROR && errors++ < 4) {
            size_t used = strlen(rules_broken);
            snprintf(rules_broken + used, sizeof rules_broken - used, "%s%s", used ? ", " : "", x->code);
        }
        created += service;
        char line[2048];
        snprintf(line, sizeof line, "%s: %s %s: %s", hiveport_name(h),
                 service ? "notice" : hiveport_severity_name(x->severity), x->code, x->message);
        say(ctx, line);
    }
    hiveport_findings_free(f);
    if (errors > 0 && !rules->force) {
        snprintf(refusal, len,
                 "%s: refused: the audit would report %zu error%s in the written hive (%s%s); nothing was "
                 "written (--force writes anyway)",
                 hiveport_name(h), errors, errors == 1 ? "" : "s", rules_broken, errors > 4 ? ", ..." : "");
        return CLI_FAILED;
    }
    if (created > 0 && rules->strict) {
        snprintf(refusal, len,
                 "%s: refused under --strict: a custom setting would create a service key that did not exist "
                 "(above); nothing was written",
                 hiveport_name(h));
        return CLI_FAILED;
    }
    return CLI_OK;
}

static void say_stderr(void *ctx, const char *line)
{
    fprintf(stderr, "%s: ", (const char *)ctx);
    cli_print_text(stderr, line);
    fputc('\n', stderr);
}

int cli_preflight_print(const char *prog, hiveport *h, const hiveport_plan_item *plan, size_t count, int target,
                        unsigned set_flags, const struct cli_rules *rules)
{
    char refusal[2048];
    int rc = cli_preflight(h, plan, count, target, set_flags, rules, say_stderr, (void *)prog, refusal,
                           sizeof refusal);
    if (rc != CLI_OK)
        say_stderr((void *)prog, refusal);
    return rc;
}
