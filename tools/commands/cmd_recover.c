/* cmd_recover.c: 'hiveport recover': a dirty hive with its transaction logs replayed, written as a clean
 * hive to a new file.  The original and its logs are evidence: they are only read. */
#include <stdio.h>

#include "cli.h"

static const char usage[] =
    "Usage: hiveport recover HIVE -o OUT [--log PATH...]\n"
    "       hiveport recover --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] -o OUT\n"
    "Replay the transaction logs of a dirty HIVE (HIVE.LOG1, HIVE.LOG2, HIVE.LOG) in memory and write\n"
    "the result, a clean hive, to OUT.  OUT must not exist; HIVE and its logs are left untouched.\n"
    "A clean HIVE is copied as it is.  A dirty HIVE without a usable log is refused (exit status 1).\n\n"
    "  -o, --output OUT  the new file (required)\n"
    "  --log PATH        replay this log file instead of looking next to the hive (repeatable)\n"
    CLI_HELP_IMAGE
    "  --help            print this help\n";

enum { OPT_OUTPUT = 'o' };

int cmd_recover(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, OPT_OUTPUT},
                                             {"log", required_argument, NULL, OPT_LOG}, CLI_LONGOPT_HELP,
                                             CLI_LONGOPT_END};
    const char *prog = argv[0];
    const char *out = NULL;
    struct cli_open open;
    cli_open_init(&open);
    const struct cli_store store[] = {CLI_TEXT(OPT_OUTPUT, out), CLI_STORE_END};
    /* The only command with a short option of its own. */
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, ":ho:", store, &open,
                                                               .min_operands = 1, .max_operands = 1});
    if (rc != CLI_CONTINUE)
        return rc;
    if (out == NULL || *out == '\0')
        return cli_usage_error(prog, "no output file given (-o OUT)");

    hiveport *h = NULL;
    rc = CLI_FAILED;
    if (cli_open(argv[optind], &open, 0, &h) != HIVEPORT_OK) {
        cli_fail(prog, h);
        goto done;
    }
    unsigned entries = 0;
    int state = hiveport_log_state(h, &entries);
    if (state != HIVEPORT_LOGS_CLEAN && state != HIVEPORT_LOGS_REPLAYED) {
        cli_error(prog, "%s is dirty and %s: nothing to recover it from; %s not written (%s)",
                  hiveport_name(h), hiveport_log_report(h), out, "--log PATH replays logs kept elsewhere");
        goto done;
    }
    /* hiveport_save_copy() refuses an existing OUT itself (no window between a check and the write). */
    if (hiveport_save_copy(h, out) != HIVEPORT_OK) {
        cli_fail(prog, h);
        goto done;
    }
    if (state == HIVEPORT_LOGS_REPLAYED) {
        uint32_t primary = 0, secondary = 0;
        hiveport_sequence(h, &primary, &secondary);
        printf("%s is dirty (sequence numbers %u and %u differ): %s\n", hiveport_name(h), primary, secondary,
               hiveport_log_report(h));
        printf("wrote the recovered hive to %s (clean)\n", out);
    } else {
        printf("%s is clean: there is nothing to replay\n", hiveport_name(h));
        printf("wrote a copy to %s\n", out);
    }
    rc = CLI_OK;
done:
    hiveport_close(h);
    return rc;
}
