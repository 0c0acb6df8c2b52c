/* cmd_unset.c: 'hiveport unset': removes port values (keeping their keys) in one atomic commit, or with
 * --dry-run says what would be removed. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "dry_run.h"
#include "image.h"

static const char usage[] =
    "Usage: hiveport unset HIVE SETTING... [--controlset SEL] [--backup] [--dry-run] [--force] [--strict]\n"
    "                      [--verbose]\n"
    "       hiveport unset --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] SETTING... [OPTIONS]\n"
    "Remove the values of the settings, keeping their keys, in one atomic commit.  A value that is\n"
    "not set is no error.  SETTING is a catalog id (see 'hiveport list') or SERVICE\\SUBKEY:VALUE NAME.\n\n"
    "  --controlset SEL  current (the default), default, lastknowngood, all, or a number (3 =\n"
    "                    ControlSet003)\n"
    "  --backup          keep the previous file as HIVE.bak (replacing it) when anything changes\n"
    "  --dry-run         print what would be removed and write nothing (the hive is only read)\n"
    CLI_HELP_RULES CLI_HELP_VERBOSE CLI_HELP_READ CLI_HELP_WRITE CLI_HELP_IMAGE CLI_HELP_OVERLAY
    "  --help            print this help\n";

struct unset_request {
    const char *prog;
    const char *hive;
    const struct cli_setting *settings;
    size_t count;
    int target;
    struct cli_rules rules;
    struct cli_writer w;
};

/* --dry-run: one line per setting and control set, in the form of 'hiveport set --dry-run'. */
static int print_plan(const char *prog, hiveport *h, const struct unset_request *req, const int *status,
                      const uint32_t *ports, const uint32_t *numbers, size_t n)
{
    for (size_t i = 0; i < req->count; i++)
        for (size_t j = 0; j < n; j++) {
            size_t k = i * n + j;
            printf("ControlSet%03u ", numbers[j]);
            cli_print_text(stdout, req->settings[i].label);
            switch (status[k]) {
            case HIVEPORT_OK:
                printf(": %u -> (not set)\n", ports[k]);
                break;
            case HIVEPORT_E_NOT_SET:
                printf(": (not set) unchanged\n");
                break;
            case HIVEPORT_E_WRONG_TYPE:
                printf(": (wrong type) -> (not set)\n");
                break;
            default: /* HIVEPORT_E_BAD_DATA */
                printf(": (bad data) -> (not set)\n");
                break;
            }
        }
    cli_warn_current_default(prog, h, req->target, "would remove from");
    return CLI_OK;
}

/* The values as they are, in every control set the target means, for the plan of --dry-run. */
static int read_before(const char *prog, hiveport *h, const struct unset_request *req, uint32_t **numbers,
                       size_t *n, int **status, uint32_t **ports)
{
    if (cli_targets(prog, h, req->target, numbers, n) != CLI_OK)
        return CLI_FAILED;
    *status = calloc(req->count * *n, sizeof **status);
    *ports = calloc(req->count * *n, sizeof **ports);
    if (*status == NULL || *ports == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < req->count; i++)
        for (size_t j = 0; j < *n; j++) {
            size_t k = i * *n + j;
            (*status)[k] = hiveport_get_port(h, &req->settings[i].setting, (int)(*numbers)[j], &(*ports)[k]);
            if ((*status)[k] != HIVEPORT_OK && (*status)[k] != HIVEPORT_E_NOT_SET &&
                (*status)[k] != HIVEPORT_E_WRONG_TYPE && (*status)[k] != HIVEPORT_E_BAD_DATA)
                return cli_fail(prog, h);
        }
    return CLI_OK;
}

/* The audit's rules over the removals (tools/preflight.c, as set and apply); CLI_OK or CLI_FAILED (printed).
 * hiveport_preflight() makes them on a private copy, so it also fails as hiveport_unset_port() would. */
static int check_rules(const char *prog, hiveport *h, const struct unset_request *req)
{
    hiveport_plan_item *plan = calloc(req->count, sizeof *plan);
    if (plan == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < req->count; i++)
        plan[i] = (hiveport_plan_item){&req->settings[i].setting, 0, 1};
    int rc = cli_preflight_print(prog, h, plan, req->count, req->target, 0, &req->rules);
    free(plan);
    return rc;
}

/* --dry-run: a read of the hive (never opened for writing, no lock), checked as the write would be. */
static int dry_run(const char *prog, const struct unset_request *req)
{
    hiveport *h = NULL;
    uint32_t *numbers = NULL, *ports = NULL;
    int *status = NULL;
    size_t n = 0;
    int rc = CLI_FAILED;
    if (cli_dry_run_open(prog, req->hive, &req->w.open, "unset", &h) != CLI_OK || cli_check_select(prog, h) != CLI_OK ||
        read_before(prog, h, req, &numbers, &n, &status, &ports) != CLI_OK || check_rules(prog, h, req) != CLI_OK)
        goto out;
    rc = print_plan(prog, h, req, status, ports, numbers, n);
out:
    free(numbers);
    free(status);
    free(ports);
    hiveport_close(h);
    return rc;
}

static int unset_all(const char *prog, const struct unset_request *req)
{
    hiveport *h = NULL;
    int rc = CLI_FAILED;
    if (cli_open_writer(prog, req->hive, &req->w.open, &h) != CLI_OK)
        goto out;
    if (cli_check_select(prog, h) != CLI_OK || check_rules(prog, h, req) != CLI_OK)
        goto out;
    for (size_t i = 0; i < req->count; i++)
        if (hiveport_unset_port(h, &req->settings[i].setting, req->target) != HIVEPORT_OK) {
            cli_fail(prog, h); /* closing without a commit writes nothing */
            goto out;
        }
    if (cli_writer_commit(prog, h, req->hive, &req->w, req->target, "removed from") != CLI_OK)
        goto out;
    rc = CLI_OK;
out:
    hiveport_close(h);
    return rc;
}

static int unset_hive(void *ctx, const char *hive, const char *name)
{
    struct unset_request *req = ctx;
    req->hive = hive;
    req->w.open.name = name;
    return req->w.dry_run ? dry_run(req->prog, req) : unset_all(req->prog, req);
}

int cmd_unset(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_CONTROLSET, CLI_LONGOPTS_RULES, CLI_LONGOPTS_WRITER,
                                             CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    const char *prog = argv[0];
    struct unset_request req = {.prog = prog, .target = HIVEPORT_CS_CURRENT};
    struct cli_target t;
    cli_writer_init(&req.w);
    const struct cli_store store[] = {CLI_STORE_WRITER(req.w), CLI_FLAG(OPT_FORCE, req.rules.force),
                                      CLI_FLAG(OPT_STRICT, req.rules.strict), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.w.open,
                                                               .target = &req.target, .min_operands = 2,
                                                               .max_operands = -1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_writer_check(prog, &req.w)) != CLI_OK)
        return rc;
    cli_writer_target(&req.w, &t);
    req.count = (size_t)(argc - optind);
    struct cli_setting *settings = calloc(req.count, sizeof *settings);
    if (settings == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    req.settings = settings;
    rc = CLI_OK;
    for (size_t i = 0; i < req.count && rc == CLI_OK; i++)
        rc = cli_setting_parse(prog, argv[optind + (int)i], &settings[i]);
    if (rc == CLI_OK)
        rc = image_with_target(&t, unset_hive, &req);
    for (size_t i = 0; i < req.count; i++)
        cli_setting_free(&settings[i]);
    free(settings);
    return rc;
}
