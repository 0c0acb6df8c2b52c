/* cmd_dcom.c: 'hiveport dcom': the TCP port of a DCOM application (Classes\AppID\{GUID}\Endpoints) in a
 * SOFTWARE hive, printed or pinned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"


static const char usage[] =
    "Usage: hiveport dcom SOFTWARE_HIVE APPID [--port PORT [--backup]]\n"
    "Print the TCP port of DCOM application APPID in decimal (exit status 3 when it has none), or pin\n"
    "it to PORT: its Endpoints value (REG_MULTI_SZ under Classes\\AppID\\APPID) gets \"ncacn_ip_tcp,0,PORT\",\n"
    "its other endpoints are kept.  APPID is a braced GUID, e.g. {D99E6E74-FC88-11D0-B498-00A0C90312F3}\n"
    "(Certificate Services); the application must be registered in the hive.\n\n"
    "  --port PORT       pin the application to TCP PORT (1-65535)\n"
    "  --backup          keep the previous file as SOFTWARE_HIVE.bak when anything changes\n"
    CLI_HELP_READ CLI_HELP_WRITE
    "  --help            print this help\n";

enum { OPT_PORT = 0x500, OPT_DCOM_BACKUP };

/* "{8-4-4-4-12}" in hexadecimal digits of either case. */
static bool braced_guid(const char *s)
{
    static const char form[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    if (strlen(s) != sizeof form - 1)
        return false;
    for (size_t i = 0; i < sizeof form - 1; i++)
        if (form[i] == 'x' ? strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == '\0' : s[i] != form[i])
            return false;
    return true;
}

static int print_port(const char *prog, const char *hive, const struct cli_open *open, const char *appid)
{
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
            cli_fail(prog, h);
            rc = status == HIVEPORT_E_NOT_SET ? CLI_NOT_SET : CLI_FAILED;
        }
    }
    hiveport_close(h);
    return rc;
}

static int set_port(const char *prog, const char *hive, const struct cli_open *open, const char *appid,
                    uint32_t port, bool backup)
{
    hiveport *h = NULL;
    char *backup_path = NULL;
    int rc = CLI_FAILED;
    int status = cli_open(hive, open, HIVEPORT_OPEN_WRITE, &h);
    if (status != HIVEPORT_OK) {
        cli_fail_hint(prog, h, cli_write_hint(status));
        goto out;
    }
    cli_report_logs(prog, h);
    if (hiveport_dcom_set_port(h, appid, port) != HIVEPORT_OK) {
        cli_fail(prog, h);
        goto out;
    }
    if (backup && (backup_path = cli_backup_path(hive)) == NULL) {
        cli_error(prog, "%s: out of memory", hive);
        goto out;
    }
    if (hiveport_commit(h, backup_path) != HIVEPORT_OK) {
        cli_fail(prog, h);
        goto out;
    }
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
        CLI_LONGOPTS_READ,
        CLI_LONGOPTS_WRITE,
        CLI_LONGOPT_HELP,
        CLI_LONGOPT_END,
    };
    const char *prog = argv[0];
    struct cli_open open;
    cli_open_init(&open);
    const char *port_text = NULL;
    bool backup = false;
    int c, rc;
    while ((c = cli_getopt(argc, argv, longopts)) != -1) {
        switch (c) {
        case OPT_PORT:
            port_text = optarg;
            break;
        case OPT_DCOM_BACKUP:
            backup = true;
            break;
        default:
            if ((rc = cli_common_option(prog, c, optarg, usage, &open, NULL)) != CLI_CONTINUE)
                return rc;
        }
    }
    if ((rc = cli_check_operands(prog, argc, argv, 2, 2)) != CLI_OK)
        return rc;
    const char *hive = argv[optind], *appid = argv[optind + 1];
    if (!braced_guid(appid))
        return cli_usage_error(prog, "invalid APPID '%s': expected a braced GUID like "
                               "{D99E6E74-FC88-11D0-B498-00A0C90312F3}", appid);
    if (port_text == NULL) {
        if (backup)
            return cli_usage_error(prog, "--backup goes with --port");
        return print_port(prog, hive, &open, appid);
    }
    size_t digits = strspn(port_text, "0123456789");
    unsigned long port = digits > 0 && digits <= 5 && port_text[digits] == '\0' ? strtoul(port_text, NULL, 10) : 0;
    if (port < 1 || port > 65535)
        return cli_usage_error(prog, "invalid --port '%s': expected a port 1-65535", port_text);
    return set_port(prog, hive, &open, appid, (uint32_t)port, backup);
}
