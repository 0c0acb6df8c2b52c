/* writer.c: what the commands that write one hive (set, unset, rpc-range, dcom) share: their --backup,
 * --dry-run and --verbose, and the commit with what is said after it, so that each says it alike. */
#include <stdlib.h>

#include "cli.h"

void cli_writer_init(struct cli_writer *w)
{
    *w = (struct cli_writer){0};
    cli_open_init(&w->open);
}

void cli_writer_target(const struct cli_writer *w, struct cli_target *t)
{
    t->may_write = !w->dry_run;
    t->backup = w->backup;
    t->verbose = w->verbose;
    t->lock_wait_ms = w->open.lock_timeout_ms;
}

int cli_writer_check(const char *prog, const struct cli_writer *w)
{
    if (w->dry_run && w->backup)
        return cli_usage_error(prog, "--backup keeps the file a write replaces; --dry-run writes nothing");
    return CLI_OK;
}

int cli_writer_commit(const char *prog, hiveport *h, const char *hive, const struct cli_writer *w, int target,
                      const char *verb)
{
    bool changed;
    char *backup = NULL;
    int rc = cli_commit(prog, h, hive, w->backup, &changed, &backup);
    if (rc == CLI_OK) {
        if (verb != NULL)
            cli_warn_current_default(prog, h, target, verb);
        if (w->verbose)
            cli_report_commit(prog, h, hiveport_name(h), changed, changed ? backup : NULL);
    }
    free(backup);
    return rc;
}
