/* cmd_get.c: 'hiveport get': the ports of settings in one control set, for scripts. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "image.h"

static const char usage[] =
    "Usage: hiveport get HIVE SETTING... [--controlset SEL] [--json] [--quiet]\n"
    "       hiveport get --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] SETTING... [OPTIONS]\n"
    "Print the port of SETTING in decimal and nothing else.  With several settings, one line\n"
    "SETTING=PORT each (the form 'hiveport set' takes), in the order given.  Exit status 3 when a\n"
    "setting is not set (the others are still printed), 1 when a value is unusable.\n"
    "SETTING is a catalog id (see 'hiveport list') or SERVICE\\SUBKEY:VALUE NAME, a REG_DWORD\n"
    "relative to ControlSetNNN\\Services.\n\n"
    "  --controlset SEL  current (the default), default, lastknowngood or a number (3 = ControlSet003)\n"
    "  --json            print a JSON document instead of text (every setting, with its problem)\n"
    "  --quiet           say nothing on stderr about a setting that is not set (exit status 3 says it)\n"
    CLI_HELP_READ CLI_HELP_IMAGE
    "  --help            print this help\n";

/* One setting as read: a port, or why there is none. */
struct reading {
    int status;
    uint32_t port;
};

/* The worse of two exit statuses: failure, then not set, then success. */
static int worse(int a, int b)
{
    if (a == CLI_FAILED || b == CLI_FAILED)
        return CLI_FAILED;
    return a == CLI_NOT_SET || b == CLI_NOT_SET ? CLI_NOT_SET : CLI_OK;
}

static int print_json(const char *prog, hiveport *h, int target, const struct cli_setting *settings,
                      const struct reading *readings, size_t count)
{
    uint32_t number = 0;
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < count; i++) {
        const hiveport_setting *s = &settings[i].setting;
        const struct reading *r = &readings[i];
        bool ok = r->status == HIVEPORT_OK;
        json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:o, s:o}", "setting", cli_json_text(settings[i].label), "key",
                              cli_json_text(s->key), "value_name", cli_json_text(s->value_name), "type",
                              cli_type_name(s->type), "port", ok ? json_integer(r->port) : json_null(), "problem",
                              ok ? json_null() : json_string(hiveport_strerror(r->status)));
        cli_json_append(&list, o);
    }
    json_t *doc = json_pack("{s:o, s:I, s:o}", "hive", cli_json_text(hiveport_name(h)), "controlset",
                            (json_int_t)(hiveport_resolve_controlset(h, target, &number) == HIVEPORT_OK ? number : 0),
                            "settings", list);
    return cli_json_print(prog, doc);
}

static void print_text(const struct cli_setting *settings, const struct reading *readings, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (readings[i].status != HIVEPORT_OK)
            continue;
        if (count > 1) {
            cli_print_text(stdout, settings[i].label);
            putchar('=');
        }
        printf("%u\n", readings[i].port);
    }
}

/* What get reads, and how it says it. */
struct get_request {
    const char *prog;
    struct cli_open open;
    int target;
    const struct cli_setting *settings;
    size_t count;
    bool json, quiet;
};

static int get_all(void *ctx, const char *hive, const char *name)
{
    struct get_request *req = ctx;
    const char *prog = req->prog;
    const struct cli_open *open = &req->open;
    int target = req->target;
    const struct cli_setting *settings = req->settings;
    size_t count = req->count;
    bool json = req->json, quiet = req->quiet;
    req->open.name = name;
    hiveport *h = NULL;
    struct reading *readings = calloc(count, sizeof *readings);
    int rc = CLI_OK;
    if (readings == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    if ((rc = cli_open_reader(prog, hive, open, 0, &h)) != CLI_OK)
        goto out;
    for (size_t i = 0; i < count; i++) {
        struct reading *r = &readings[i];
        r->status = hiveport_get_port(h, &settings[i].setting, target, &r->port);
        if (r->status == HIVEPORT_OK)
            continue;
        bool not_set = r->status == HIVEPORT_E_NOT_SET;
        if (!not_set || !quiet)
            cli_fail(prog, h);
        rc = worse(rc, not_set ? CLI_NOT_SET : CLI_FAILED);
        /* Without the hive's structure (no Select, no such control set) no other setting can be read. */
        if (!not_set && r->status != HIVEPORT_E_WRONG_TYPE && r->status != HIVEPORT_E_BAD_DATA)
            goto out;
    }
    if (json) {
        if (print_json(prog, h, target, settings, readings, count) != CLI_OK)
            rc = CLI_FAILED;
    } else {
        print_text(settings, readings, count);
    }
out:
    hiveport_close(h);
    free(readings);
    return rc;
}

int cmd_get(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_CONTROLSET, CLI_LONGOPT_JSON, CLI_LONGOPT_QUIET,
                                             CLI_LONGOPTS_READ, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    const char *prog = argv[0];
    struct get_request req = {.prog = prog, .target = HIVEPORT_CS_CURRENT};
    struct cli_target t;
    cli_open_init(&req.open);
    const struct cli_store store[] = {CLI_FLAG(OPT_JSON, req.json), CLI_FLAG(OPT_QUIET, req.quiet), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.open,
                                                               .target = &req.target, .min_operands = 2,
                                                               .max_operands = -1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    if (req.target == HIVEPORT_CS_ALL)
        return cli_usage_error(prog, "get reads one control set; use 'hiveport show --controlset all' "
                               "to see every one");
    size_t count = (size_t)(argc - optind);
    struct cli_setting *settings = calloc(count, sizeof *settings);
    if (settings == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    rc = CLI_OK;
    for (size_t i = 0; i < count && rc == CLI_OK; i++)
        rc = cli_setting_parse(prog, argv[optind + (int)i], &settings[i]);
    req.settings = settings;
    req.count = count;
    if (rc == CLI_OK)
        rc = image_with_target(&t, get_all, &req);
    for (size_t i = 0; i < count; i++)
        cli_setting_free(&settings[i]);
    free(settings);
    return rc;
}
