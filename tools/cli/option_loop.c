/* option_loop.c: every command's getopt loop, once.  A command describes its options (cli.h: struct
 * cli_parse); this runs getopt over them, stores what needs no code, hands the rest to the command, and
 * takes the options every command spells alike (--help, --controlset, the logs and writer options). */
#include <stdio.h>
#include <string.h>

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

/* An image option into t: CLI_CONTINUE. */
static int image_option(struct cli_target *t, int c, const char *arg)
{
    static const char *const names[] = {"--wim", "--ntfs", "--disk"};
    if (c == OPT_DISK_FORMAT)
        t->disk_format = arg;
    else if (c == OPT_OVERLAY)
        t->overlay = arg;
    else if (c == OPT_ALLOW_INCOMPLETE)
        t->allow_incomplete = true;
    else {
        t->option = names[c - OPT_WIM];
        t->spec = arg;
        t->images++;
    }
    return CLI_CONTINUE;
}

/* The image options as given go together (supported: the command takes an image): CLI_OK or CLI_USAGE. */
static int image_usage(const char *prog, const struct cli_target *t, bool supported)
{
    const char *with_disk = t->disk_format ? "--disk-format" : t->overlay ? "--overlay" : "--allow-incomplete";
    bool disk_only = t->disk_format || t->overlay || t->allow_incomplete;
    if (t->images == 0 && disk_only)
        return cli_usage_error(prog, "%s needs --disk", with_disk);
    if (t->images == 0)
        return CLI_OK;
    if (t->images > 1)
        return cli_usage_error(prog, "give at most one --wim, --ntfs or --disk");
    if (strcmp(t->option, "--disk") != 0 && disk_only)
        return cli_usage_error(prog, "%s goes with --disk, not %s", with_disk, t->option);
    if (!supported)
        return cli_usage_error(prog, "%s is not supported by '%s' (only show, get, set, unset, audit, apply, "
                               "export, firewall, recover and check)", t->option, prog);
    return CLI_OK;
}

int cli_parse_options(int argc, char **argv, const struct cli_parse *p)
{
    const char *prog = argv[0];
    int c, rc;
    struct cli_target none = {0}, *image = p->image != NULL ? p->image : &none;
    *image = (struct cli_target){.prog = prog, .lock_wait_ms = 30000};
    while ((c = cli_getopt_short(argc, argv, p->shortopts != NULL ? p->shortopts : ":h", p->longopts)) != -1) {
        if (c == '?') /* getopt's message is printed */
            rc = CLI_UNKNOWN;
        else if (store(p->store, c, optarg))
            rc = CLI_CONTINUE;
        else if (c >= OPT_WIM && c <= OPT_ALLOW_INCOMPLETE)
            rc = image_option(image, c, optarg);
        else if ((rc = common_option(prog, c, optarg, p->usage, p->open, p->target)) == CLI_UNKNOWN &&
                 p->option != NULL)
            rc = p->option(p->ctx, prog, c, optarg);
        if (rc == CLI_UNKNOWN)
            rc = cli_usage_error(prog, NULL);
        if (rc != CLI_CONTINUE)
            return rc;
    }
    if ((rc = image_usage(prog, image, p->image != NULL)) != CLI_OK)
        return rc;
    /* An image stands for the HIVE operand. */
    int fewer = image->images > 0 ? 1 : 0;
    if (p->min_operands >= 0 &&
        (rc = cli_check_operands(prog, argc, argv, p->min_operands - fewer,
                                 p->max_operands < 0 ? p->max_operands : p->max_operands - fewer)) != CLI_OK)
        return rc;
    /* A command whose first operand is HIVE takes it as its target, unless an image stands for it. */
    if (p->image != NULL && image->images == 0 && p->min_operands > 0)
        image->hive = argv[optind++];
    return CLI_CONTINUE;
}
