/* options.c: per-command option parsing with getopt_long, and usage errors (exit status 2). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* True when name (up to any '=') abbreviates more than one long option. */
static bool ambiguous(const char *name, const struct option *longopts)
{
    size_t len = strcspn(name, "="), matches = 0;
    for (const struct option *o = longopts; o->name != NULL; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return false;
        matches += strncmp(o->name, name, len) == 0;
    }
    return matches > 1;
}

int cli_getopt_short(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    /* Each command scans its own argv: optind 0 makes glibc restart from scratch on the first call. */
    static char **scanning;
    if (scanning != argv) {
        scanning = argv;
        optind = 0;
    }
    /* getopt's own messages would echo an argument raw: they are printed here, escaped (cli_error). */
    opterr = 0;
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    /* A long option's error leaves optind past it (a short one may stop inside a bundle: optopt names it). */
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    bool is_long = strncmp(arg, "--", 2) == 0 && arg[2] != '\0';
    if (c == ':') {
        if (is_long)
            cli_error(argv[0], "option '%s' requires an argument", arg);
        else
            cli_error(argv[0], "option requires an argument -- '%c'", optopt);
        return '?';
    }
    if (c == '?') {
        if (!is_long)
            cli_error(argv[0], "invalid option -- '%c'", optopt);
        else if (ambiguous(arg + 2, longopts))
            cli_error(argv[0], "option '%s' is ambiguous", arg);
        else if (optopt != 0) /* --help=x */
            cli_error(argv[0], "option '%.*s' doesn't allow an argument", (int)strcspn(arg, "="), arg);
        else
            cli_error(argv[0], "unrecognized option '%s'", arg);
    }
    return c;
}

int cli_getopt(int argc, char **argv, const struct option *longopts)
{
    /* No leading '+' in the short options, so options may follow operands (unless POSIXLY_CORRECT);
     * the ':' makes a missing argument return ':'. */
    return cli_getopt_short(argc, argv, ":h", longopts);
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
        cli_verror(prog, fmt, ap);
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

int cli_parse_fail_on(const char *prog, const char *text, int *severity)
{
    for (int s = HIVEPORT_SEVERITY_INFO; s <= HIVEPORT_SEVERITY_ERROR; s++)
        if (strcmp(text, hiveport_severity_name(s)) == 0) {
            *severity = s;
            return CLI_OK;
        }
    return cli_usage_error(prog, "invalid --fail-on '%s': expected error, warning or info", text);
}

int cli_fail_on_option(void *severity, const char *prog, int c, const char *arg)
{
    (void)c;
    int rc = cli_parse_fail_on(prog, arg, severity);
    return rc == CLI_OK ? CLI_CONTINUE : rc;
}
