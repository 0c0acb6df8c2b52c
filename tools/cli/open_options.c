/* open_options.c: the options every command that opens a hive shares (transaction logs, the writer
 * lock), and opening with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool cli_parse_lock_timeout(const char *arg, int *ms)
{
    char *end;
    double secs = strtod(arg, &end);
    if (end == arg || *end != '\0' || !(secs >= 0 && secs <= 86400))
        return false;
    *ms = (int)(secs * 1000 + 0.5);
    return true;
}

void cli_open_init(struct cli_open *o)
{
    memset(o, 0, sizeof *o);
    o->lock_timeout_ms = 30000;
}

int cli_open_option(const char *prog, int c, const char *arg, struct cli_open *o)
{
    switch (c) {
    case OPT_NO_LOGS:
        o->flags |= HIVEPORT_OPEN_NO_LOGS;
        return CLI_OK;
    case OPT_DISCARD_LOGS:
        o->flags |= HIVEPORT_OPEN_DISCARD_LOGS;
        return CLI_OK;
    case OPT_BREAK_LINKS:
        o->flags |= HIVEPORT_OPEN_BREAK_LINKS;
        return CLI_OK;
    case OPT_LOG:
        if (o->nlogs == sizeof o->logs / sizeof o->logs[0])
            return cli_usage_error(prog, "at most %zu --log options", sizeof o->logs / sizeof o->logs[0]);
        o->logs[o->nlogs++] = arg;
        return CLI_OK;
    case OPT_COMMIT:
        o->flags &= ~(HIVEPORT_OPEN_COMMIT_LOG | HIVEPORT_OPEN_COMMIT_COPY);
        if (strcmp(arg, "log") == 0)
            o->flags |= HIVEPORT_OPEN_COMMIT_LOG;
        else if (strcmp(arg, "copy") == 0)
            o->flags |= HIVEPORT_OPEN_COMMIT_COPY;
        else if (strcmp(arg, "auto") != 0)
            return cli_usage_error(prog, "invalid --commit '%s': expected auto, log or copy", arg);
        return CLI_OK;
    case OPT_LOCK_TIMEOUT:
        if (!cli_parse_lock_timeout(arg, &o->lock_timeout_ms))
            return cli_usage_error(prog, "invalid --lock-timeout '%s': expected seconds, 0-86400", arg);
        return CLI_OK;
    default:
        return -1;
    }
}

char *cli_backup_path(const char *hive)
{
    size_t n = strlen(hive) + sizeof ".bak";
    char *path = malloc(n);
    if (path != NULL)
        snprintf(path, n, "%s.bak", hive);
    return path;
}

int cli_commit(const char *prog, hiveport *h, const char *hive, bool backup, bool *changed, char **backup_path)
{
    *changed = hiveport_has_changes(h) == 1;
    if (backup && (*backup_path = cli_backup_path(hive)) == NULL) {
        cli_error(prog, "%s: out of memory", hive);
        return CLI_FAILED;
    }
    if (hiveport_commit(h, *backup_path) != HIVEPORT_OK)
        return cli_fail(prog, h);
    return CLI_OK;
}

int cli_open_named(const char *path, const char *name, const struct cli_open *o, unsigned flags, hiveport **h)
{
    hiveport_options opts;
    hiveport_options_init(&opts);
    opts.flags = flags | o->flags;
    opts.lock_timeout_ms = o->lock_timeout_ms;
    opts.log_paths = o->nlogs ? o->logs : NULL;
    opts.log_path_count = o->nlogs;
    return hiveport_open_named(path, name, &opts, h);
}

int cli_open(const char *path, const struct cli_open *o, unsigned flags, hiveport **h)
{
    return cli_open_named(path, o->name, o, flags, h);
}

int cli_open_writer(const char *prog, const char *path, const struct cli_open *o, hiveport **h)
{
    int status = cli_open(path, o, HIVEPORT_OPEN_WRITE, h);
    if (status != HIVEPORT_OK)
        return cli_fail_hint(prog, *h, cli_write_hint(status));
    cli_report_logs(prog, *h);
    return CLI_OK;
}

int cli_open_reader(const char *prog, const char *path, const struct cli_open *o, unsigned flags, hiveport **h)
{
    if (cli_open(path, o, flags, h) != HIVEPORT_OK)
        return cli_fail(prog, *h);
    cli_report_logs(prog, *h);
    return CLI_OK;
}

void cli_report_logs(const char *prog, const hiveport *h)
{
    unsigned entries;
    switch (hiveport_log_state(h, &entries)) {
    case HIVEPORT_LOGS_REPLAYED:
        cli_error(prog, "%s is dirty: %s (in memory; the files are unchanged)", hiveport_name(h),
                  hiveport_log_report(h));
        break;
    case HIVEPORT_LOGS_UNUSABLE:
    case HIVEPORT_LOGS_IGNORED:
        cli_error(prog, "warning: %s is dirty and its logs were not replayed (%s): values may be stale",
                  hiveport_name(h), hiveport_log_report(h));
        break;
    default:
        break;
    }
}
