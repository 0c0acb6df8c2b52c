/* cmd_dcom.c: 'hiveport dcom': the TCP port of a DCOM application (Classes\AppID\{GUID}\Endpoints) in a
 * SOFTWARE hive, printed or pinned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dry_run.h"


static const char usage[] =
    "Usage: hiveport dcom SOFTWARE_HIVE APPID [--quiet]\n"
    "       hiveport dcom SOFTWARE_HIVE APPID --port PORT [--backup] [--dry-run] [--verbose]\n"
    "Print the TCP port of DCOM application APPID in decimal (exit status 3 when it has none), or pin\n"
    "it to PORT: its Endpoints value (REG_MULTI_SZ under Classes\\AppID\\APPID) gets \"ncacn_ip_tcp,0,PORT\",\n"
    "its other endpoints are kept.  APPID is a GUID, braced or not, e.g.\n"
    "{D99E6E74-FC88-11D0-B498-00A0C90312F3} (Certificate Services); the application must be registered\n"
    "in the hive.\n\n"
    "  --port PORT       pin the application to TCP PORT (1-65535)\n"
    "  --backup          keep the previous file as SOFTWARE_HIVE.bak when anything changes\n"
    "  --dry-run         with --port: print the port before and after and write nothing\n"
    "  --quiet           say nothing on stderr when the application has no port (exit status 3 says it)\n"
    CLI_HELP_VERBOSE CLI_HELP_READ CLI_HELP_WRITE
    "  --help            print this help\n";

enum { OPT_PORT = 0x500, OPT_DCOM_BACKUP };

/* "{8-4-4-4-12}" in hexadecimal digits of either case, the braces optional (as regedit and PowerShell
 * users type it either way), into braced (the form of the registry key's name). */
static bool parse_guid(const char *s, char braced[39])
{
    static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t len = strlen(s);
    bool braces = len == sizeof form + 1 && s[0] == '{' && s[len - 1] == '}';
    if (!braces && len != sizeof form - 1)
        return false;
    const char *g = braces ? s + 1 : s;
    for (size_t i = 0; i < sizeof form - 1; i++)
        if (form[i] == 'x' ? strchr("0123456789abcdefABCDEF", g[i]) == NULL || g[i] == '\0' : g[i] != form[i])
            return false;
    snprintf(braced, 39, "{%.36s}", g);
    return true;
}

struct dcom_request {
    const char *hive, *appid;
    uint32_t port;
    bool backup, dry_run, quiet, verbose;
    struct cli_open open;
};

static int print_port(const char *prog, const struct dcom_request *req)
{
    const char *hive = req->hive, *appid = req->appid;
    const struct cli_open *open = &req->open;
    hiveport *h = NULL;
    uint32_t port;
    int rc;
    if (cli_open(hive, open, 0, &h) != HIVEPORT_OK) {
        rc = cli_fail(prog, h);
    } else {
        cli_report_logs(prog, h);
        int status = hiveport_dcom_get_port(h, appid, &port);
        if (status == HIVEPORT_OK) {
            printf("%u\n", port);
            rc = CLI_OK;
        } else {
            if (status != HIVEPORT_E_NOT_SET || !req->quiet)
                cli_fail(prog, h);
            rc = status == HIVEPORT_E_NOT_SET ? CLI_NOT_SET : CLI_FAILED;
        }
    }
    hiveport_close(h);
    return rc;
}

/* --dry-run: a read of the hive, the port before and after in the form of set's plan.  The change is made
 * on a private copy (tools/dry_run.c), so what the write would refuse is refused. */
static int dry_run(const char *prog, const struct dcom_request *req)
{
    hiveport *h = NULL;
    struct cli_scratch scratch = {0};
    int rc = CLI_FAILED;
    uint32_t before = 0;
    if (cli_open(req->hive, &req->open, 0, &h) != HIVEPORT_OK) {
        cli_fail(prog, h);
        goto out;
    }
    cli_report_logs(prog, h);
    if (cli_dry_run_dirty(prog, h, &req->open, "dcom") != CLI_OK ||
        cli_scratch_open(prog, h, req->hive, &scratch) != CLI_OK)
        goto out;
    int was = hiveport_dcom_get_port(h, req->appid, &before);
    if (hiveport_dcom_set_port(scratch.h, req->appid, req->port) != HIVEPORT_OK) {
        cli_scratch_fail(prog, &scratch);
        goto out;
    }
    if (was == HIVEPORT_OK && before == req->port)
        printf("%s: %u unchanged\n", req->appid, before);
    else if (was == HIVEPORT_OK)
        printf("%s: %u -> %u\n", req->appid, before, req->port);
    else
        printf("%s: %s -> %u\n", req->appid, was == HIVEPORT_E_NOT_SET ? "(not set)" : "(unusable)", req->port);
    rc = CLI_OK;
out:
    cli_scratch_close(&scratch);
    hiveport_close(h);
    return rc;
}

static int set_port(const char *prog, const struct dcom_request *req)
{
    const char *hive = req->hive, *appid = req->appid;
    const struct cli_open *open = &req->open;
    hiveport *h = NULL;
    char *backup_path = NULL;
    int rc = CLI_FAILED;
    if (cli_open_writer(prog, hive, open, &h) != CLI_OK)
        goto out;
    if (hiveport_dcom_set_port(h, appid, req->port) != HIVEPORT_OK) {
        cli_fail(prog, h);
        goto out;
    }
    bool changed;
    if (cli_commit(prog, h, hive, req->backup, &changed, &backup_path) != CLI_OK)
        goto out;
    if (req->verbose)
        cli_report_commit(prog, h, hive, changed, changed ? backup_path : NULL);
    rc = CLI_OK;
out:
    free(backup_path);
    hiveport_close(h);
    return rc;
}

int cmd_dcom(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, OPT_PORT},
        {"backup", no_argument, NULL, OPT_DCOM_BACKUP},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        CLI_LONGOPT_QUIET,
        CLI_LONGOPT_VERBOSE,
        CLI_LONGOPTS_READ,
        CLI_LONGOPTS_WRITE,
        CLI_LONGOPT_HELP,
        CLI_LONGOPT_END,
    };
    const char *prog = argv[0];
    struct dcom_request req = {0};
    cli_open_init(&req.open);
    const char *port_text = NULL;
    int c, rc;
    while ((c = cli_getopt(argc, argv, longopts)) != -1) {
        switch (c) {
        case OPT_PORT:
            port_text = optarg;
            break;
        case OPT_DCOM_BACKUP:
            req.backup = true;
            break;
        case OPT_DRY_RUN:
            req.dry_run = true;
            break;
        case OPT_QUIET:
            req.quiet = true;
            break;
        case OPT_VERBOSE:
            req.verbose = true;
            break;
        default:
            if ((rc = cli_common_option(prog, c, optarg, usage, &req.open, NULL)) != CLI_CONTINUE)
                return rc;
        }
    }
    if ((rc = cli_check_operands(prog, argc, argv, 2, 2)) != CLI_OK)
        return rc;
    char appid[39];
    req.hive = argv[optind];
    req.appid = appid;
    if (!parse_guid(argv[optind + 1], appid))
        return cli_usage_error(prog, "invalid APPID '%s': expected a GUID like "
                               "{D99E6E74-FC88-11D0-B498-00A0C90312F3} (the braces may be left out)",
                               argv[optind + 1]);
    if (port_text == NULL) {
        if (req.backup || req.dry_run || req.verbose)
            return cli_usage_error(prog, "--backup, --dry-run and --verbose go with --port");
        return print_port(prog, &req);
    }
    if (req.quiet)
        return cli_usage_error(prog, "--quiet goes without --port (it silences 'no port', exit status 3)");
    if (req.dry_run && req.backup)
        return cli_usage_error(prog, "--backup keeps the file a write replaces; --dry-run writes nothing");
    static const hiveport_setting tcp_port = {0}; /* 1-65535, as for every setting without 0 = dynamic */
    char why[600];
    if (!cli_port_parse(port_text, &tcp_port, appid, &req.port, why, sizeof why))
        return cli_usage_error(prog, "%s", why);
    return req.dry_run ? dry_run(prog, &req) : set_port(prog, &req);
}
