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

enum { OPT_PORT = 0x500 };

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
    bool quiet;
    struct cli_writer w;
};

static int print_port(const char *prog, const struct dcom_request *req)
{
    const char *hive = req->hive, *appid = req->appid;
    const struct cli_open *open = &req->w.open;
    hiveport *h = NULL;
    uint32_t port;
    int rc = cli_open_reader(prog, hive, open, 0, &h);
    if (rc == CLI_OK) {
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
    if (cli_dry_run_open(prog, req->hive, &req->w.open, "dcom", &h) != CLI_OK ||
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
    const struct cli_open *open = &req->w.open;
    hiveport *h = NULL;
    int rc = cli_open_writer(prog, hive, open, &h);
    if (rc == CLI_OK && hiveport_dcom_set_port(h, appid, req->port) != HIVEPORT_OK)
        rc = cli_fail(prog, h);
    if (rc == CLI_OK)
        rc = cli_writer_commit(prog, h, hive, &req->w, 0, NULL);
    hiveport_close(h);
    return rc;
}

int cmd_dcom(int argc, char **argv)
{
    static const struct option longopts[] = {{"port", required_argument, NULL, OPT_PORT}, CLI_LONGOPT_QUIET,
                                             CLI_LONGOPTS_WRITER, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP,
                                             CLI_LONGOPT_END};
    const char *prog = argv[0];
    struct dcom_request req = {0};
    cli_writer_init(&req.w);
    const char *port_text = NULL;
    const struct cli_store store[] = {CLI_TEXT(OPT_PORT, port_text), CLI_FLAG(OPT_QUIET, req.quiet),
                                      CLI_STORE_WRITER(req.w), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.w.open,
                                                               .min_operands = 2, .max_operands = 2});
    if (rc != CLI_CONTINUE)
        return rc;
    char appid[39];
    req.hive = argv[optind];
    req.appid = appid;
    if (!parse_guid(argv[optind + 1], appid))
        return cli_usage_error(prog, "invalid APPID '%s': expected a GUID like "
                               "{D99E6E74-FC88-11D0-B498-00A0C90312F3} (the braces may be left out)",
                               argv[optind + 1]);
    if (port_text == NULL) {
        if (req.w.backup || req.w.dry_run || req.w.verbose)
            return cli_usage_error(prog, "--backup, --dry-run and --verbose go with --port");
        return print_port(prog, &req);
    }
    if (req.quiet)
        return cli_usage_error(prog, "--quiet goes without --port (it silences 'no port', exit status 3)");
    if ((rc = cli_writer_check(prog, &req.w)) != CLI_OK)
        return rc;
    static const hiveport_setting tcp_port = {0}; /* 1-65535, as for every setting without 0 = dynamic */
    char why[600];
    if (!cli_port_parse(port_text, &tcp_port, appid, &req.port, why, sizeof why))
        return cli_usage_error(prog, "%s", why);
    return req.w.dry_run ? dry_run(prog, &req) : set_port(prog, &req);
}
