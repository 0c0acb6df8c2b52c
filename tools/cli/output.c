/* output.c: error messages on stderr and JSON documents on stdout. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char *const cli_select_field_names[4] = {
    [HIVEPORT_SELECT_CURRENT] = "current",
    [HIVEPORT_SELECT_DEFAULT] = "default",
    [HIVEPORT_SELECT_FAILED] = "failed",
    [HIVEPORT_SELECT_LASTKNOWNGOOD] = "lastknowngood",
};

void cli_verror(const char *prog, const char *fmt, va_list ap)
{
    /* Arguments and hives put any byte into a message: control characters are escaped as audit's report
     * escapes them, so that a name cannot drive the terminal or forge a line. */
    char *message = NULL;
    fprintf(stderr, "%s: ", prog);
    if (vasprintf(&message, fmt, ap) < 0) {
        message = NULL;
        fputs("out of memory", stderr);
    } else {
        cli_print_text(stderr, message);
    }
    fputc('\n', stderr);
    free(message);
}

void cli_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_verror(prog, fmt, ap);
    va_end(ap);
}

int cli_fail_hint(const char *prog, const hiveport *h, const char *hint)
{
    if (hint == NULL)
        return cli_fail(prog, h);
    cli_error(prog, "%s (%s)", h != NULL ? hiveport_errmsg(h) : hiveport_strerror(HIVEPORT_E_NOMEM), hint);
    return CLI_FAILED;
}

const char *cli_write_hint(int status)
{
    switch (status) {
    case HIVEPORT_E_DIRTY:
        return CLI_HINT_DIRTY;
    case HIVEPORT_E_WRONG_TYPE:
        return CLI_HINT_WRONG_TYPE;
    default:
        return NULL;
    }
}

int cli_fail(const char *prog, const hiveport *h)
{
    /* hiveport_open() leaves no handle only when it ran out of memory. */
    cli_error(prog, "%s", h != NULL ? hiveport_errmsg(h) : hiveport_strerror(HIVEPORT_E_NOMEM));
    return CLI_FAILED;
}

const char *cli_type_name(unsigned type)
{
    return type == HIVEPORT_REG_SZ ? "REG_SZ" : "REG_DWORD";
}

int cli_json_print(const char *prog, json_t *root)
{
    /* Keys stay in insertion order (jansson >= 2.8), so the documented field order is the output's. */
    int rc = root != NULL ? json_dumpf(root, stdout, JSON_INDENT(2)) : -1;
    json_decref(root);
    if (rc != 0) {
        cli_error(prog, "cannot produce the JSON output (out of memory or a write error)");
        return CLI_FAILED;
    }
    putchar('\n');
    return CLI_OK;
}

void cli_report_commit(const char *prog, const hiveport *h, const char *hive, bool changed, const char *backup)
{
    const char *report = NULL;
    if (changed && h != NULL && hiveport_commit_method(h, &report) == HIVEPORT_COMMIT_LOG)
        cli_error(prog, "%s: written (%s)", hive, report);
    else if (!changed)
        cli_error(prog, "%s: nothing changes: not written", hive);
    else if (backup != NULL)
        cli_error(prog, "%s: written (the previous file is kept as %s)", hive, backup);
    else
        cli_error(prog, "%s: written", hive);
}

const char *cli_log_state_name(int state)
{
    static const char *const names[] = {"clean", "replayed", "unusable", "ignored"};
    return state >= 0 && state < (int)(sizeof names / sizeof names[0]) ? names[state] : "unknown";
}
