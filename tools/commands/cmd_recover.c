/* cmd_recover.c: 'hiveport recover': a dirty hive with its transaction logs replayed, written as a clean
 * hive to a new file.  The original and its logs are evidence: they are only read. */
#include <stdio.h>

#include "cli.h"
#include "image.h"

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

/* Where recover writes, and with which logs. */
struct recover_request {
    const char *prog, *out;
    struct cli_open open;
};

static int recover_hive(void *ctx, const char *hive, const char *name)
{
    struct recover_request *req = ctx;
    const char *prog = req->prog, *out = req->out;
    req->open.name = name;
    hiveport *h = NULL;
    int rc = CLI_FAILED;
    if (cli_open(hive, &req->open, 0, &h) != HIVEPORT_OK) {
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

int cmd_recover(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, OPT_OUTPUT},
                                             {"log", required_argument, NULL, OPT_LOG}, CLI_LONGOPTS_IMAGE,
                                             CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    struct recover_request req = {.prog = argv[0]};
    struct cli_target t;
    cli_open_init(&req.open);
    const struct cli_store store[] = {CLI_TEXT(OPT_OUTPUT, req.out), CLI_STORE_END};
    /* The only command with a short option of its own. */
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, ":ho:", store, &req.open,
                                                               .min_operands = 1, .max_operands = 1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    if (req.out == NULL || *req.out == '\0')
        return cli_usage_error(req.prog, "no output file given (-o OUT)");
    return image_with_target(&t, recover_hive, &req);
}
