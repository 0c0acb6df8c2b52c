/* output.c: error messages on stderr and JSON documents on stdout. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

const char *const cli_select_field_names[4] = {
    [HIVEPORT_SELECT_CURRENT] = "current",
    [HIVEPORT_SELECT_DEFAULT] = "default",
    [HIVEPORT_SELECT_FAILED] = "failed",
    [HIVEPORT_SELECT_LASTKNOWNGOOD] = "lastknowngood",
};

void cli_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
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
