/* cmd_get.c: 'hiveport get': the port of one setting in one control set, for scripts. */
#include <stdio.h>

#include "cli.h"

static const char usage[] =
    "Usage: hiveport get HIVE SETTING [--controlset SEL]\n"
    "Print the port of SETTING in decimal and nothing else.  Exit status 3 when it is not set.\n"
    "SETTING is a catalog id (see 'hiveport list') or SERVICE\\SUBKEY:VALUE NAME, a REG_DWORD\n"
    "relative to ControlSetNNN\\Services.\n\n"
    "  --controlset SEL  current (the default), default, lastknowngood or a number (3 = ControlSet003)\n"
    CLI_HELP_READ
    "  --help            print this help\n";

int cmd_get(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_CONTROLSET, CLI_LONGOPTS_READ, CLI_LONGOPT_HELP,
                                             CLI_LONGOPT_END};
    const char *prog = argv[0];
    int target = HIVEPORT_CS_CURRENT;
    struct cli_open open;
    cli_open_init(&open);
    int c, rc;
    while ((c = cli_getopt(argc, argv, longopts)) != -1) {
        switch (c) {
        default:
            if ((rc = cli_common_option(prog, c, optarg, usage, &open, &target)) != CLI_CONTINUE)
                return rc;
        }
    }
    if ((rc = cli_check_operands(prog, argc, argv, 2, 2)) != CLI_OK)
        return rc;
    if (target == HIVEPORT_CS_ALL)
        return cli_usage_error(prog, "get reads one control set; use 'hiveport show --controlset all' "
                               "to see every one");
    struct cli_setting setting;
    if ((rc = cli_setting_parse(prog, argv[optind + 1], &setting)) != CLI_OK)
        return rc;

    hiveport *h = NULL;
    uint32_t port;
    int status = cli_open(argv[optind], &open, 0, &h);
    if (status == HIVEPORT_OK) {
        cli_report_logs(prog, h);
        status = hiveport_get_port(h, &setting.setting, target, &port);
    }
    if (status == HIVEPORT_OK) {
        printf("%u\n", port);
        rc = CLI_OK;
    } else {
        cli_fail(prog, h);
        rc = status == HIVEPORT_E_NOT_SET ? CLI_NOT_SET : CLI_FAILED;
    }
    hiveport_close(h);
    cli_setting_free(&setting);
    return rc;
}
