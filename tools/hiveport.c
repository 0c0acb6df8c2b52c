/* hiveport.c: the command's entry point: global options and dispatch through the command table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "image.h"

/* Adding a command: write tools/cmd_NAME.c with its own getopt table and add a row here. */
static const struct cli_command commands[] = {
    {"list", "list the settings catalog", cmd_list},
    {"show", "show the static ports set in a hive", cmd_show},
    {"get", "print the port of one setting", cmd_get},
    {"set", "set ports, all or nothing", cmd_set},
    {"unset", "remove port values (keys are kept)", cmd_unset},
    {"audit", "check the port settings of a hive (exit 4 on findings)", cmd_audit},
    {"firewall", "print firewall rules for the configured ports", cmd_firewall},
    {"recover", "write a dirty hive, its logs replayed, to a new file", cmd_recover},
    {"diff", "list the registry changes between two hives (exit 4 if any)", cmd_diff},
    {"apply", "apply a port profile to hives, or check them (exit 4 on drift)", cmd_apply},
    {"export", "print a hive's ports as a profile", cmd_export},
    {"rpc-range", "show, set or remove the RPC dynamic port range of a SOFTWARE hive", cmd_rpc_range},
    {"dcom", "print or pin the TCP port of a DCOM application (SOFTWARE hive)", cmd_dcom},
    {"check", "check a hive's structure as Windows would load it (exit 4 on findings)", cmd_check},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static int main_help(void)
{
    printf("Usage: hiveport [--help] [--version] COMMAND [ARGS]\n"
           "Pin Windows RPC services to static TCP ports in offline SYSTEM hives.\n\n"
           "Commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].summary);
    printf("\nRun 'hiveport COMMAND --help' for the options of a command; see hiveport(1).\n");
    return CLI_OK;
}

/* A full disk or a closed pipe must not pass for success: scripts read this output. */
static int flush_stdout(const char *prog, int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error(prog, "write error on standard output");
        rc = CLI_FAILED;
    }
    return rc;
}

int main(int argc, char **argv)
{
    enum { OPT_VERSION = 0x200 };
    static const struct option longopts[] = {
        CLI_LONGOPT_HELP,
        {"version", no_argument, NULL, OPT_VERSION},
        CLI_LONGOPT_END,
    };
    argv[0] = (char *)"hiveport";
    int c;
    /* "+": stop at the command name, whose options are its own. */
    while ((c = cli_getopt_short(argc, argv, "+:h", longopts)) != -1) {
        switch (c) {
        case OPT_HELP:
            return flush_stdout("hiveport", main_help());
        case OPT_VERSION:
            if (optind < argc)
                return cli_usage_error("hiveport", "unexpected operand '%s' after --version", argv[optind]);
            printf("hiveport %s (libhiveport %s)\n", HIVEPORT_VERSION, hiveport_version());
            image_print_support(stdout);
            return flush_stdout("hiveport", CLI_OK);
        default:
            return cli_usage_error("hiveport", NULL);
        }
    }
    if (optind >= argc)
        return cli_usage_error("hiveport", "no command given");

    const char *name = argv[optind];
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
        char prog[64];
        snprintf(prog, sizeof prog, "hiveport %s", commands[i].name);
        argv[optind] = prog;
        return flush_stdout(prog, commands[i].run(argc - optind, argv + optind));
    }
    return cli_usage_error("hiveport", "unknown command '%s'", name);
}
