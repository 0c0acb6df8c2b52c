/* options.c: per-command option parsing with getopt_long, and usage errors (exit status 2). */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_getopt(int argc, char **argv, const struct option *longopts)
{
    /* Each command scans its own argv: optind 0 makes glibc restart from scratch on the first call.
     * No leading '+' in the short options, so options may follow operands (unless POSIXLY_CORRECT). */
    static char **scanning;
    if (scanning != argv) {
        scanning = argv;
        optind = 0;
    }
    return getopt_long(argc, argv, "h", longopts, NULL);
}

int cli_help(const char *usage)
{
    fputs(usage, stdout);
    return CLI_OK;
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: ", prog);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    fprintf(stderr, "Try '%s --help' for more information.\n", prog);
    return CLI_USAGE;
}

int cli_parse_controlset(const char *prog, const char *text, int *target)
{
    if (hiveport_parse_controlset(text, target) != HIVEPORT_OK)
        return cli_usage_error(prog,
                               "invalid --controlset '%s': expected current, default, lastknowngood, all "
                               "or a number 1-999",
                               text);
    return CLI_OK;
}

int cli_check_operands(const char *prog, int argc, char **argv, int min, int max)
{
    int n = argc - optind;
    if (n < min)
        return cli_usage_error(prog, "missing operand");
    if (max >= 0 && n > max)
        return cli_usage_error(prog, "unexpected operand '%s'", argv[optind + max]);
    return CLI_OK;
}
