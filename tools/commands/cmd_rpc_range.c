/* cmd_rpc_range.c: 'hiveport rpc-range': show, set or remove the RPC runtime's dynamic port range in a
 * SOFTWARE hive (Microsoft\Rpc\Internet, KB 154596). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dry_run.h"


static const char usage[] =
    "Usage: hiveport rpc-range SOFTWARE_HIVE [--quiet]\n"
    "       hiveport rpc-range SOFTWARE_HIVE [--set PORTS] [--available y|n] [--use-internet y|n]\n"
    "                          [--backup] [--dry-run] [--verbose]\n"
    "       hiveport rpc-range SOFTWARE_HIVE --clear [--keep-key] [--backup] [--dry-run] [--verbose]\n"
    "Show, set or remove the ports dynamic RPC may use (SOFTWARE\\Microsoft\\Rpc\\Internet, KB 154596).\n"
    "Without options, print the configuration as Windows reads it (exit status 3 when there is none).\n"
    "PORTS is a list like 5000-5100,5200: written sorted and merged, refused when Windows would reject\n"
    "it.  Warnings (fewer than 100 ports, Windows' own dynamic ranges, well-known ports) go to stderr.\n\n"
    "  --set PORTS         set Ports (without it, --available and --use-internet change only those)\n"
    "  --available y|n     PortsInternetAvailable: y, PORTS are the ports dynamic RPC may use (the\n"
    "                      default for a new configuration); n, the ports it must not use\n"
    "  --use-internet y|n  UseInternetPorts (default y for a new configuration)\n"
    "  --clear             delete the Internet key: no restriction, as Windows is by default\n"
    "  --keep-key          with --clear: remove only the three values (Windows then reads the key as\n"
    "                      an invalid configuration)\n"
    "  --backup            keep the previous file as SOFTWARE_HIVE.bak when anything changes\n"
    "  --dry-run           print the configuration a change would leave, say whether it would\n"
    "                      write, and write nothing\n"
    "  --quiet             say nothing on stderr when there is no configuration (exit status 3 says it)\n"
    CLI_HELP_VERBOSE CLI_HELP_READ CLI_HELP_WRITE
    "  --help              print this help\n";

enum { OPT_SET = 0x400, OPT_AVAILABLE, OPT_USE_INTERNET, OPT_CLEAR, OPT_KEEP_KEY };

struct request {
    const char *hive;
    const char *ports; /* --set, or NULL */
    char available, use_internet; /* 'Y', 'N' or 0 */
    bool clear, keep_key, quiet;
    struct cli_writer w;
};

/* y|n (either case) into 'Y' or 'N'. */
static int parse_yn(const char *prog, const char *option, const char *text, char *out)
{
    if ((text[0] == 'y' || text[0] == 'Y' || text[0] == 'n' || text[0] == 'N') && text[1] == '\0') {
        *out = (char)(text[0] == 'y' || text[0] == 'Y' ? 'Y' : 'N');
        return CLI_OK;
    }
    return cli_usage_error(prog, "invalid %s '%s': expected y or n", option, text);
}

/* Prints the library's warnings about a port list on stderr. */
static void warn(const char *prog, const char *ports, char available)
{
    char *text = NULL;
    if (hiveport_rpc_warnings(ports, available, &text) != HIVEPORT_OK) {
        hiveport_free(text);
        return;
    }
    for (char *line = text; line != NULL && *line != '\0';) {
        char *end = strchr(line, '\n');
        if (end != NULL)
            *end++ = '\0';
        cli_error(prog, "warning: %s", line);
        line = end;
    }
    hiveport_free(text);
}

/* Prints the configuration of h (and its warnings).  CLI_OK, CLI_NOT_SET or CLI_FAILED (printed, but
 * for CLI_NOT_SET under quiet). */
static int show(const char *prog, hiveport *h, bool quiet)
{
    char *ports = NULL, available, use;
    uint32_t count;
    int status = hiveport_rpc_get(h, &ports, &available, &use, &count);
    if (status != HIVEPORT_OK) {
        if (status != HIVEPORT_E_NOT_SET || !quiet)
            cli_fail(prog, h);
        return status == HIVEPORT_E_NOT_SET ? CLI_NOT_SET : CLI_FAILED;
    }
    printf("Ports:                  %s (%u port%s)\n", ports, count, count == 1 ? "" : "s");
    printf("PortsInternetAvailable: %c (%s)\n", available,
           available == 'Y' ? "dynamic RPC uses only these ports" : "dynamic RPC uses any port but these");
    printf("UseInternetPorts:       %c\n", use);
    warn(prog, ports, available);
    hiveport_free(ports);
    return CLI_OK;
}

/* The change itself, on h (the hive, or a dry run's private copy); CLI_OK or CLI_FAILED (not printed). */
static int make_change(hiveport *h, const struct request *req)
{
    int status = req->clear ? hiveport_rpc_clear(h, req->keep_key ? HIVEPORT_RPC_CLEAR_KEEP_KEY : 0)
                            : hiveport_rpc_set(h, req->ports, req->available, req->use_internet, NULL);
    return status == HIVEPORT_OK ? CLI_OK : CLI_FAILED;
}

/* --dry-run: a read of the hive; the change is made on a private copy (tools/dry_run.c), so everything the
 * write would refuse is refused, and the configuration it would leave is printed. */
static int dry_run(const char *prog, const struct request *req)
{
    hiveport *h = NULL;
    struct cli_scratch scratch = {0};
    int rc = CLI_FAILED;
    if (cli_dry_run_open(prog, req->hive, &req->w.open, "rpc-range", &h) != CLI_OK ||
        cli_scratch_open(prog, h, req->hive, &scratch) != CLI_OK)
        goto out;
    if (make_change(scratch.h, req) != CLI_OK) {
        cli_scratch_fail(prog, &scratch);
        goto out;
    }
    bool changed = hiveport_has_changes(scratch.h) == 1;
    rc = req->clear ? CLI_OK : show(prog, scratch.h, false);
    if (rc == CLI_OK)
        cli_error(prog, "%s: %s (--dry-run)", req->hive, changed ? "would be written" : "nothing changes");
out:
    cli_scratch_close(&scratch);
    hiveport_close(h);
    return rc;
}

static int change(const char *prog, const struct request *req)
{
    hiveport *h = NULL;
    char *backup = NULL;
    int rc = CLI_FAILED;
    if (cli_open_writer(prog, req->hive, &req->w.open, &h) != CLI_OK)
        goto out;
    if (make_change(h, req) != CLI_OK) {
        cli_fail(prog, h); /* closing without a commit writes nothing */
        goto out;
    }
    bool changed;
    if (cli_commit(prog, h, req->hive, req->w.backup, &changed, &backup) != CLI_OK)
        goto out;
    if (req->clear && req->keep_key)
        cli_error(prog, "warning: %s: Microsoft\\Rpc\\Internet is kept without its values, which Windows reads "
                        "as an invalid configuration; remove it with --clear alone",
                  req->hive);
    if (req->w.verbose)
        cli_report_commit(prog, h, req->hive, changed, changed ? backup : NULL);
    rc = req->clear ? CLI_OK : show(prog, h, false);
out:
    free(backup);
    hiveport_close(h);
    return rc;
}

/* --available and --use-internet (cli_parse_options()). */
static int parse_option(void *ctx, const char *prog, int c, const char *arg)
{
    struct request *req = ctx;
    bool available = c == OPT_AVAILABLE;
    int rc = parse_yn(prog, available ? "--available" : "--use-internet", arg,
                      available ? &req->available : &req->use_internet);
    return rc == CLI_OK ? CLI_CONTINUE : rc;
}

int cmd_rpc_range(int argc, char **argv)
{
    static const struct option longopts[] = {{"set", required_argument, NULL, OPT_SET},
                                             {"available", required_argument, NULL, OPT_AVAILABLE},
                                             {"use-internet", required_argument, NULL, OPT_USE_INTERNET},
                                             {"clear", no_argument, NULL, OPT_CLEAR},
                                             {"keep-key", no_argument, NULL, OPT_KEEP_KEY}, CLI_LONGOPT_QUIET,
                                             CLI_LONGOPTS_WRITER, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP,
                                             CLI_LONGOPT_END};
    const char *prog = argv[0];
    struct request req = {0};
    cli_writer_init(&req.w);
    const struct cli_store store[] = {CLI_TEXT(OPT_SET, req.ports), CLI_FLAG(OPT_CLEAR, req.clear),
                                      CLI_FLAG(OPT_KEEP_KEY, req.keep_key), CLI_FLAG(OPT_QUIET, req.quiet),
                                      CLI_STORE_WRITER(req.w), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.w.open,
                                                               .option = parse_option, .ctx = &req,
                                                               .min_operands = 1, .max_operands = 1});
    if (rc != CLI_CONTINUE)
        return rc;
    req.hive = argv[optind];
    bool setting = req.ports != NULL || req.available != 0 || req.use_internet != 0;
    if (req.clear && setting)
        return cli_usage_error(prog, "--clear cannot be combined with --set, --available or --use-internet");
    if (req.keep_key && !req.clear)
        return cli_usage_error(prog, "--keep-key goes with --clear");
    if ((req.w.backup || req.w.dry_run || req.w.verbose) && !req.clear && !setting)
        return cli_usage_error(prog, "--backup, --dry-run and --verbose go with --set, --available, "
                               "--use-internet or --clear");
    if (req.quiet && (req.clear || setting))
        return cli_usage_error(prog, "--quiet goes with showing the range (it silences 'absent', exit status 3)");
    if ((rc = cli_writer_check(prog, &req.w)) != CLI_OK)
        return rc;
    if (req.ports != NULL) {
        char *why = NULL; /* a malformed list is a usage error: nothing is opened */
        rc = CLI_OK;
        if (hiveport_rpc_warnings(req.ports, 'Y', &why) == HIVEPORT_E_INVALID_ARG)
            rc = cli_usage_error(prog, "invalid --set '%s': %s", req.ports,
                                 why != NULL ? why : "not a list of ports and ranges like 5000-5100,5200");
        hiveport_free(why); /* the reason, or warnings printed later */
        if (rc != CLI_OK)
            return rc;
    }
    if (req.clear || setting)
        return req.w.dry_run ? dry_run(prog, &req) : change(prog, &req);

    hiveport *h = NULL;
    if ((rc = cli_open_reader(prog, req.hive, &req.w.open, 0, &h)) == CLI_OK)
        rc = show(prog, h, req.quiet);
    hiveport_close(h);
    return rc;
}
