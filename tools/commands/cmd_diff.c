/* cmd_diff.c: 'hiveport diff': the registry-level changes between two hives (hiveport_diff()), and with
 * --bytes the byte ranges of the files that differ.  cli_print_changes() is also 'set --diff'. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage[] =
    "Usage: hiveport diff OLD NEW [--bytes]\n"
    "List the registry changes from hive OLD to hive NEW, one per line, in key name order:\n"
    "  + KEY                      key added          - KEY                 key removed\n"
    "  ~ KEY (last written T1 -> T2)                 the key's last-write time changed\n"
    "  + KEY:VALUE = DATA         value added        - KEY:VALUE = DATA    value removed\n"
    "  ~ KEY:VALUE: OLD -> NEW    value changed\n"
    "KEY is the path from the root key (\\ is the root itself); (default) is the unnamed value.\n"
    "Exit status 0 when there is no difference, 4 when there is.\n\n"
    "  --bytes    also compare the files byte by byte: 'bytes 0xSTART-0xEND (N bytes)' for each run\n"
    "             of differing bytes (END included), and 'size OLD -> NEW bytes' when the sizes differ\n"
    "  --no-logs  do not replay dirty hives' transaction logs (HIVE.LOG1, HIVE.LOG2, HIVE.LOG)\n"
    "  --help     print this help\n";

enum { OPT_BYTES = 0x300 };

struct print_state {
    bool any;
};

static void print_key(const char *key)
{
    if (*key == '\0')
        putchar('\\');
    else
        cli_print_text(stdout, key);
}

static void print_value(const hiveport_change *c)
{
    print_key(c->key);
    putchar(':');
    if (*c->value_name == '\0')
        fputs("(default)", stdout);
    else
        cli_print_text(stdout, c->value_name);
}

static int on_change(const hiveport_change *c, void *ctx)
{
    struct print_state *st = ctx;
    st->any = true;
    switch (c->kind) {
    case HIVEPORT_CHANGE_KEY_ADDED:
    case HIVEPORT_CHANGE_KEY_REMOVED:
        fputs(c->kind == HIVEPORT_CHANGE_KEY_ADDED ? "+ " : "- ", stdout);
        print_key(c->key);
        break;
    case HIVEPORT_CHANGE_KEY_TIME:
        fputs("~ ", stdout);
        print_key(c->key);
        fputs(" (last written ", stdout);
        cli_print_text(stdout, c->old_text);
        fputs(" -> ", stdout);
        cli_print_text(stdout, c->new_text);
        putchar(')');
        break;
    case HIVEPORT_CHANGE_VALUE_ADDED:
    case HIVEPORT_CHANGE_VALUE_REMOVED:
        fputs(c->kind == HIVEPORT_CHANGE_VALUE_ADDED ? "+ " : "- ", stdout);
        print_value(c);
        fputs(" = ", stdout);
        cli_print_text(stdout, c->kind == HIVEPORT_CHANGE_VALUE_ADDED ? c->new_text : c->old_text);
        break;
    case HIVEPORT_CHANGE_VALUE_CHANGED:
        fputs("~ ", stdout);
        print_value(c);
        fputs(": ", stdout);
        cli_print_text(stdout, c->old_text);
        fputs(" -> ", stdout);
        cli_print_text(stdout, c->new_text);
        break;
    default: /* a kind added to the library later: still a difference */
        fputs("? ", stdout);
        print_key(c->key);
        break;
    }
    putchar('\n');
    return 0;
}

int cli_print_changes(const char *prog, hiveport *old_hive, hiveport *new_hive, bool *differ)
{
    struct print_state st = {false};
    int status = hiveport_diff(old_hive, new_hive, on_change, &st);
    if (differ != NULL)
        *differ = st.any;
    if (status != HIVEPORT_OK)
        return cli_fail(prog, new_hive); /* hiveport_diff() reports both hives' failures on new_hive */
    return CLI_OK;
}

/* ---- --bytes ---- */

static void print_run(unsigned long long start, unsigned long long end)
{
    unsigned long long n = end - start + 1;
    printf("bytes 0x%08llx-0x%08llx (%llu byte%s)\n", start, end, n, n == 1 ? "" : "s");
}

/* Compares the two files as they are on disk (not as their logs would make them). */
static int compare_bytes(const char *prog, const char *old_path, const char *new_path, bool *differ)
{
    FILE *a = NULL, *b = NULL;
    struct stat sa, sb;
    int rc = CLI_FAILED;
    if ((a = fopen(old_path, "rb")) == NULL || fstat(fileno(a), &sa) != 0) {
        cli_error(prog, "%s: %s", old_path, strerror(errno));
        goto out;
    }
    if ((b = fopen(new_path, "rb")) == NULL || fstat(fileno(b), &sb) != 0) {
        cli_error(prog, "%s: %s", new_path, strerror(errno));
        goto out;
    }
    unsigned long long common = (unsigned long long)(sa.st_size < sb.st_size ? sa.st_size : sb.st_size);
    unsigned long long off = 0, start = 0;
    bool in_run = false;
    static unsigned char ba[1 << 16], bb[1 << 16];
    while (off < common) {
        size_t want = common - off < sizeof ba ? (size_t)(common - off) : sizeof ba;
        errno = 0;
        if (fread(ba, 1, want, a) != want || fread(bb, 1, want, b) != want) {
            cli_error(prog, "cannot read %s or %s: %s", old_path, new_path,
                      errno ? strerror(errno) : "the file shrank while being read");
            goto out;
        }
        for (size_t i = 0; i < want; i++) {
            bool differs = ba[i] != bb[i];
            if (differs && !in_run) {
                start = off + i;
                in_run = true;
            } else if (!differs && in_run) {
                print_run(start, off + i - 1);
                in_run = false;
            }
            *differ = *differ || differs;
        }
        off += want;
    }
    if (in_run)
        print_run(start, off - 1);
    if (sa.st_size != sb.st_size) {
        printf("size %llu -> %llu bytes\n", (unsigned long long)sa.st_size, (unsigned long long)sb.st_size);
        *differ = true;
    }
    rc = CLI_OK;
out:
    if (a != NULL)
        fclose(a);
    if (b != NULL)
        fclose(b);
    return rc;
}

int cmd_diff(int argc, char **argv)
{
    static const struct option longopts[] = {{"bytes", no_argument, NULL, OPT_BYTES},
                                             {"no-logs", no_argument, NULL, OPT_NO_LOGS}, CLI_LONGOPTS_IMAGE,
                                             CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    const char *prog = argv[0];
    bool bytes = false;
    struct cli_open open;
    cli_open_init(&open);
    const struct cli_store store[] = {CLI_FLAG(OPT_BYTES, bytes), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &open,
                                                               .min_operands = 2, .max_operands = 2});
    if (rc != CLI_CONTINUE)
        return rc;

    const char *old_path = argv[optind], *new_path = argv[optind + 1];
    hiveport *old_hive = NULL, *new_hive = NULL;
    bool differ = false;
    rc = CLI_FAILED;
    if (cli_open(old_path, &open, 0, &old_hive) != HIVEPORT_OK) {
        cli_fail(prog, old_hive);
        goto out;
    }
    if (cli_open(new_path, &open, 0, &new_hive) != HIVEPORT_OK) {
        cli_fail(prog, new_hive);
        goto out;
    }
    cli_report_logs(prog, old_hive);
    cli_report_logs(prog, new_hive);
    if (cli_print_changes(prog, old_hive, new_hive, &differ) != CLI_OK ||
        (bytes && compare_bytes(prog, old_path, new_path, &differ) != CLI_OK))
        goto out;
    rc = differ ? CLI_FOUND : CLI_OK;
out:
    hiveport_close(new_hive);
    hiveport_close(old_hive);
    return rc;
}
