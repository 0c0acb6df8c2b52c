/* option_loop.c: every command's getopt loop, once.  A command describes its options (cli.h: struct
 * cli_parse); this runs getopt over them, stores what needs no code, hands the rest to the command, and
 * takes the options every command spells alike (--help, --controlset, the logs and writer options). */
#include <stdio.h>

#include "cli.h"

/* --help, --controlset (when target is not NULL) and the CLI_LONGOPTS_READ/WRITE options (when o is not
 * NULL): CLI_CONTINUE when parsing goes on, the status to return, or CLI_UNKNOWN for any other option. */
static int common_option(const char *prog, int c, const char *arg, const char *usage, struct cli_open *o,
                         int *target)
{
    int rc;
    if (c == OPT_HELP)
        return cli_help(usage);
    if (c == OPT_CONTROLSET && target != NULL)
        return (rc = cli_parse_controlset(prog, arg, target)) == CLI_OK ? CLI_CONTINUE : rc;
    if (o != NULL && (rc = cli_open_option(prog, c, arg, o)) != -1)
        return rc == CLI_OK ? CLI_CONTINUE : rc;
    return CLI_UNKNOWN;
}

/* Stores option c when the table has it: true for a switch, the argument for a text. */
static bool store(const struct cli_store *table, int c, const char *arg)
{
    for (const struct cli_store *s = table; s != NULL && s->option != 0; s++)
        if (s->option == c) {
            if (s->flag != NULL)
                *s->flag = true;
            else
                *s->text = arg;
            return true;
        }
    return false;
}

int cli_parse_options(int argc, char **argv, const struct cli_parse *p)
{
    const char *prog = argv[0];
    int c, rc;
    while ((c = cli_getopt_short(argc, argv, p->shortopts != NULL ? p->shortopts : ":h", p->longopts)) != -1) {
        if (c == '?') /* getopt's message is printed */
            rc = CLI_UNKNOWN;
        else if (store(p->store, c, optarg))
            rc = CLI_CONTINUE;
        else if ((rc = common_option(prog, c, optarg, p->usage, p->open, p->target)) == CLI_UNKNOWN &&
                 p->option != NULL)
            rc = p->option(p->ctx, prog, c, optarg);
        if (rc == CLI_UNKNOWN)
            rc = cli_usage_error(prog, NULL);
        if (rc != CLI_CONTINUE)
            return rc;
    }
    if (p->min_operands >= 0 && (rc = cli_check_operands(prog, argc, argv, p->min_operands, p->max_operands)) != CLI_OK)
        return rc;
    return CLI_CONTINUE;
}
