/* cmd_set.c: 'hiveport set': several assignments validated together and committed once (all or none),
 * or with --dry-run the plan of what would change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dry_run.h"
#include "image.h"

static const char usage[] =
    "Usage: hiveport set HIVE SETTING=PORT [SETTING=PORT...] [--controlset SEL] [--backup]\n"
    "                    [--dry-run] [--replace-type] [--diff] [--verbose]\n"
    "       hiveport set --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] SETTING=PORT... [OPTIONS]\n"
    "Pin settings to ports in one atomic commit: either every assignment lands or none does.\n"
    "SETTING is a catalog id (see 'hiveport list') or SERVICE\\SUBKEY:VALUE NAME, a REG_DWORD\n"
    "relative to ControlSetNNN\\Services.  Missing keys are created.\n\n"
    "  --controlset SEL  current (the default), default, lastknowngood, all, or a number (3 =\n"
    "                    ControlSet003)\n"
    "  --backup          keep the previous file as HIVE.bak (replacing it) when anything changes\n"
    "  --dry-run         print what would change and write nothing\n"
    "  --replace-type    overwrite an existing value of another registry type\n"
    "  --diff            after writing, print the registry changes (the format of 'hiveport diff')\n"
    CLI_HELP_RULES CLI_HELP_VERBOSE CLI_HELP_READ CLI_HELP_WRITE CLI_HELP_IMAGE CLI_HELP_OVERLAY
    "  --help            print this help\n";

struct set_request {
    const char *prog;
    const char *hive, *name; /* the file opened, and how messages name it */
    struct cli_assignment *assignments;
    size_t count;
    int target;
    unsigned flags; /* HIVEPORT_SET_* */
    bool diff; /* --diff: print what the commit changed */
    struct cli_rules rules;
    struct cli_writer w;
};

/* The audit's rules over every assignment (tools/preflight.c); CLI_OK or CLI_FAILED (printed). */
static int check_rules(const char *prog, hiveport *h, const struct set_request *req)
{
    hiveport_plan_item *plan = calloc(req->count, sizeof *plan);
    if (plan == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < req->count; i++)
        plan[i] = (hiveport_plan_item){&req->assignments[i].target.setting, req->assignments[i].port, 0};
    int rc = cli_preflight_print(prog, h, plan, req->count, req->target, req->flags, &req->rules);
    free(plan);
    return rc;
}

/* ---- --dry-run ---- */

/* Checks one assignment in one control set as hiveport_set_port() would, and prints the plan line
 * when print is set.  Returns CLI_OK or CLI_FAILED (reason printed). */
static int plan_one(const char *prog, hiveport *h, const struct set_request *req, const struct cli_assignment *a,
                    uint32_t controlset, bool print)
{
    const hiveport_setting *s = &a->target.setting; /* its port's range was checked when parsed */
    uint32_t current = 0;
    int status = hiveport_get_port(h, s, (int)controlset, &current);
    char before[32];
    switch (status) {
    case HIVEPORT_OK:
        snprintf(before, sizeof before, "%u", current);
        break;
    case HIVEPORT_E_NOT_SET:
        snprintf(before, sizeof before, "(not set)");
        break;
    case HIVEPORT_E_WRONG_TYPE:
        if (!(req->flags & HIVEPORT_SET_REPLACE_TYPE)) {
            cli_error(prog, "%s (%s)", hiveport_errmsg(h), CLI_HINT_WRONG_TYPE);
            return CLI_FAILED;
        }
        snprintf(before, sizeof before, "(wrong type)");
        break;
    case HIVEPORT_E_BAD_DATA: /* hiveport_set_port() replaces unusable data of the right type */
        snprintf(before, sizeof before, "(bad data)");
        break;
    default:
        return cli_fail(prog, h);
    }
    if (!print)
        return CLI_OK;
    if (status == HIVEPORT_OK && current == a->port)
        printf("ControlSet%03u %s: %s unchanged\n", controlset, a->target.label, before);
    else
        printf("ControlSet%03u %s: %s -> %u\n", controlset, a->target.label, before, a->port);
    return CLI_OK;
}

static int dry_run(const char *prog, const struct set_request *req)
{
    hiveport *h = NULL;
    uint32_t *numbers = NULL;
    size_t count = 0;
    int rc = CLI_OK;
    if ((rc = cli_dry_run_open(prog, req->hive, &req->w.open, "set", &h)) != CLI_OK ||
        (rc = cli_check_select(prog, h)) != CLI_OK ||
        (rc = cli_targets(prog, h, req->target, &numbers, &count)) != CLI_OK)
        goto out;
    /* Everything is checked before the first line, so a refused plan prints no plan. */
    for (size_t i = 0; i < req->count; i++)
        for (size_t j = 0; j < count; j++)
            if ((rc = plan_one(prog, h, req, &req->assignments[i], numbers[j], false)) != CLI_OK)
                goto out;
    if ((rc = check_rules(prog, h, req)) != CLI_OK)
        goto out;
    for (size_t i = 0; i < req->count; i++)
        for (size_t j = 0; j < count; j++)
            if ((rc = plan_one(prog, h, req, &req->assignments[i], numbers[j], true)) != CLI_OK)
                goto out;
    cli_warn_current_default(prog, h, req->target, "would write");
out:
    free(numbers);
    hiveport_close(h);
    return rc;
}

/* ---- the real thing ---- */

enum { OPT_SET_DIFF = 0x300 }; /* --diff, this command's own */

static int apply(const char *prog, const struct set_request *req)
{
    hiveport *h = NULL, *before = NULL, *after = NULL;
    int rc = CLI_FAILED;
    if (cli_open_writer(prog, req->hive, &req->w.open, &h) != CLI_OK)
        goto out;
    /* --diff: a read handle on the file as it is now, under our lock (no other writer can slip in).  It
     * maps the old file, which a commit renames away but does not change, so it stays the "before". */
    if (req->diff && cli_open(req->hive, &req->w.open, 0, &before) != HIVEPORT_OK) {
        cli_fail(prog, before);
        goto out;
    }
    if (cli_check_select(prog, h) != CLI_OK || check_rules(prog, h, req) != CLI_OK)
        goto out;
    /* Closing without a commit discards every change made so far: nothing reaches the file. */
    for (size_t i = 0; i < req->count; i++) {
        const struct cli_assignment *a = &req->assignments[i];
        int status = hiveport_set_port(h, &a->target.setting, req->target, a->port, req->flags);
        if (status != HIVEPORT_OK) {
            cli_fail_hint(prog, h, cli_write_hint(status));
            goto out;
        }
    }
    if (cli_writer_commit(prog, h, req->hive, &req->w, req->target, "wrote") != CLI_OK)
        goto out;
    rc = CLI_OK;
    /* The new file as a reader sees it, opened while the lock is still ours.  The write has landed: a
     * failure to list it is a warning, not exit status 1 (which promises an unchanged file). */
    if (req->diff) {
        int listed = hiveport_open_named(req->hive, req->name, NULL, &after) == HIVEPORT_OK
                         ? cli_print_changes(prog, before, after, NULL)
                         : cli_fail(prog, after);
        if (listed != CLI_OK)
            cli_error(prog, "warning: %s was written, but its changes cannot be listed", req->name);
    }
out:
    hiveport_close(after);
    hiveport_close(before);
    hiveport_close(h);
    return rc;
}

static int set_hive(void *ctx, const char *hive, const char *name)
{
    struct set_request *req = ctx;
    req->hive = hive;
    req->name = name;
    req->w.open.name = name;
    return req->w.dry_run ? dry_run(req->prog, req) : apply(req->prog, req);
}

/* Parses every assignment before anything is opened: a usage error writes nothing. */
static int parse_assignments(const char *prog, int argc, char **argv, struct set_request *req)
{
    req->count = (size_t)(argc - optind);
    req->assignments = calloc(req->count, sizeof *req->assignments);
    if (req->assignments == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < req->count; i++) {
        int rc = cli_assignment_parse(prog, argv[optind + (int)i], &req->assignments[i]);
        if (rc != CLI_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (cli_setting_same(&req->assignments[j].target.setting, &req->assignments[i].target.setting))
                return cli_usage_error(prog, "'%s' and '%s' assign the same value", argv[optind + (int)j],
                                       argv[optind + (int)i]);
    }
    return CLI_OK;
}

int cmd_set(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_CONTROLSET, CLI_LONGOPT_REPLACE_TYPE,
                                             {"diff", no_argument, NULL, OPT_SET_DIFF}, CLI_LONGOPTS_RULES,
                                             CLI_LONGOPTS_WRITER, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP,
                                             CLI_LONGOPT_END};
    const char *prog = argv[0];
    struct set_request req = {.prog = prog, .target = HIVEPORT_CS_CURRENT};
    struct cli_target t;
    cli_writer_init(&req.w);
    bool replace_type = false;
    const struct cli_store store[] = {CLI_STORE_WRITER(req.w),
                                      CLI_FLAG(OPT_REPLACE_TYPE, replace_type), CLI_FLAG(OPT_SET_DIFF, req.diff),
                                      CLI_FLAG(OPT_FORCE, req.rules.force), CLI_FLAG(OPT_STRICT, req.rules.strict),
                                      CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.w.open,
                                                               .target = &req.target, .min_operands = 2,
                                                               .max_operands = -1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    cli_writer_target(&req.w, &t);
    req.flags = replace_type ? HIVEPORT_SET_REPLACE_TYPE : 0;
    if (req.w.dry_run && req.diff)
        return cli_usage_error(prog, "--diff lists what a write changed; --dry-run writes nothing (its plan "
                               "already says what would change)");
    rc = parse_assignments(prog, argc, argv, &req);
    if (rc == CLI_OK)
        rc = image_with_target(&t, set_hive, &req);
    for (size_t i = 0; req.assignments != NULL && i < req.count; i++)
        cli_setting_free(&req.assignments[i].target);
    free(req.assignments);
    return rc;
}
