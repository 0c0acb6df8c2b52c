/* cmd_unset.c: 'hiveport unset': removes port values (keeping their keys) in one atomic commit. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char usage[] =
    "Usage: hiveport unset HIVE SETTING... [--controlset SEL]\n"
    "Remove the values of the settings, keeping their keys, in one atomic commit.  A value that is\n"
    "not set is no error.  SETTING is a catalog id (see 'hiveport list') or SERVICE\\SUBKEY:VALUE NAME.\n\n"
    "  --controlset SEL  current (the default), default, lastknowngood, all, or a number (3 =\n"
    "                    ControlSet003)\n"
    CLI_HELP_READ CLI_HELP_WRITE
    "  --help            print this help\n";

static int unset_all(const char *prog, const char *hive, const struct cli_open *open,
                     const struct cli_setting *settings, size_t count, int target)
{
    hiveport *h = NULL;
    int rc = CLI_FAILED;
    int status = cli_open(hive, open, HIVEPORT_OPEN_WRITE, &h);
    if (status != HIVEPORT_OK) {
        cli_fail_hint(prog, h, cli_write_hint(status));
        goto out;
    }
    cli_report_logs(prog, h);
    if (cli_check_select(prog, h) != CLI_OK)
        goto out;
    for (size_t i = 0; i < count; i++)
        if (hiveport_unset_port(h, &settings[i].setting, target) != HIVEPORT_OK) {
            cli_fail(prog, h); /* closing without a commit writes nothing */
            goto out;
        }
    if (hiveport_commit(h, NULL) != HIVEPORT_OK) {
        cli_fail(prog, h);
        goto out;
    }
    cli_warn_current_default(prog, h, target, "removed from");
    rc = CLI_OK;
out:
    hiveport_close(h);
    return rc;
}

int cmd_unset(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_CONTROLSET, CLI_LONGOPTS_READ, CLI_LONGOPTS_WRITE,
                                             CLI_LONGOPT_HELP, CLI_LONGOPT_END};
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
    if ((rc = cli_check_operands(prog, argc, argv, 2, -1)) != CLI_OK)
        return rc;
    size_t count = (size_t)(argc - optind - 1);
    struct cli_setting *settings = calloc(count, sizeof *settings);
    if (settings == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    rc = CLI_OK;
    for (size_t i = 0; i < count && rc == CLI_OK; i++)
        rc = cli_setting_parse(prog, argv[optind + 1 + (int)i], &settings[i]);
    if (rc == CLI_OK)
        rc = unset_all(prog, argv[optind], &open, settings, count, target);
    for (size_t i = 0; i < count; i++)
        cli_setting_free(&settings[i]);
    free(settings);
    return rc;
}
