/* cmd_export.c: 'hiveport export': the catalog settings present in a hive, printed as a port profile
 * (hiveport-profile(5)) that 'hiveport apply --check' accepts on the same hive; and, as a .reg file, the RPC
 * port range of a SOFTWARE hive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "image.h"
#include "regwrite.h"

static const char usage[] =
    "Usage: hiveport export HIVE [--controlset SEL] [--unset-absent] [--format profile|reg|reg4]\n"
    "       hiveport export --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] [OPTIONS]\n"
    "Print the catalog settings present in the hive as a port profile (see hiveport-profile(5)), which\n"
    "'hiveport apply --check' accepts on the same hive: a golden image becomes the plan.  Values Windows\n"
    "cannot use are left out (with a comment and a warning); settings outside the catalog are not seen.\n\n"
    "  --controlset SEL  current (the default), default, lastknowngood, all, or a number (3 =\n"
    "                    ControlSet003); with all, every control set must hold the same settings\n"
    "  --unset-absent    also write 'unset ID' for every catalog setting that is absent, so that\n"
    "                    'apply --check' reports one that appears later\n"
    "  --format FMT      profile (the default); reg: a .reg file for 'reg import' (Windows Registry\n"
    "                    Editor Version 5.00, UTF-16LE), under CurrentControlSet (or ControlSetNNN for\n"
    "                    --controlset N, default, lastknowngood); reg4: the same as REGEDIT4; of a\n"
    "                    SOFTWARE hive, either writes its RPC port range\n"
    CLI_HELP_READ
    CLI_HELP_IMAGE
    "  --help            print this help\n";

enum { OPT_UNSET_ABSENT = 0x300, OPT_FORMAT };

/* What --format names: a profile, or one of the two .reg formats. */
enum { FORMAT_PROFILE = -1 };

/* One catalog setting in one control set. */
struct state {
    int status; /* HIVEPORT_OK, HIVEPORT_E_NOT_SET, HIVEPORT_E_WRONG_TYPE or HIVEPORT_E_BAD_DATA */
    uint32_t port;
};

/* What an exported profile can hold: a usable port, or nothing. */
static bool usable(const hiveport_setting *s, const struct state *st)
{
    return st->status == HIVEPORT_OK && cli_port_acceptable(s, st->port);
}

static void describe(const hiveport_setting *s, const struct state *st, char *buf, size_t len)
{
    if (st->status == HIVEPORT_E_NOT_SET)
        snprintf(buf, len, "not set");
    else if (st->status != HIVEPORT_OK)
        snprintf(buf, len, "%s", hiveport_strerror(st->status));
    else if (!cli_port_acceptable(s, st->port))
        snprintf(buf, len, "%u, outside %s", st->port,
                 (s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC) ? "0-65535" : "1-65535");
    else
        snprintf(buf, len, "%u", st->port);
}

static bool same_state(const struct state *a, const struct state *b)
{
    return a->status == b->status && (a->status != HIVEPORT_OK || a->port == b->port);
}

/* Reads every catalog setting in every control set: states[i * ncat + k]. */
static int read_states(const char *prog, hiveport *h, const uint32_t *numbers, size_t count, struct state *states)
{
    size_t ncat = hiveport_catalog_count();
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < ncat; k++) {
            struct state *st = &states[i * ncat + k];
            st->status = hiveport_get_port(h, hiveport_catalog_at(k), (int)numbers[i], &st->port);
            if (st->status != HIVEPORT_OK && st->status != HIVEPORT_E_NOT_SET &&
                st->status != HIVEPORT_E_WRONG_TYPE && st->status != HIVEPORT_E_BAD_DATA)
                return cli_fail(prog, h);
        }
    return CLI_OK;
}

/* A profile sets every control set alike: with --controlset all they must agree. */
static int check_agree(const char *prog, hiveport *h, const uint32_t *numbers, size_t count, const struct state *states)
{
    size_t ncat = hiveport_catalog_count();
    for (size_t i = 1; i < count; i++)
        for (size_t k = 0; k < ncat; k++) {
            const struct state *a = &states[k], *b = &states[i * ncat + k];
            if (same_state(a, b))
                continue;
            const hiveport_setting *s = hiveport_catalog_at(k);
            char x[64], y[64];
            describe(s, a, x, sizeof x);
            describe(s, b, y, sizeof y);
            cli_error(prog,
                      "%s: the control sets differ: %s is %s in ControlSet%03u and %s in ControlSet%03u; a profile "
                      "sets every control set alike, so export one of them (--controlset N)",
                      hiveport_name(h), s->id, x, numbers[0], y, numbers[i]);
            return CLI_FAILED;
        }
    return CLI_OK;
}

/* apply refuses a profile with two settings on one port: so does export, rather than print one. */
static int check_distinct(const char *prog, hiveport *h, uint32_t controlset, const struct state *states)
{
    size_t ncat = hiveport_catalog_count();
    for (size_t k = 0; k < ncat; k++)
        for (size_t j = 0; j < k; j++) {
            const hiveport_setting *a = hiveport_catalog_at(j), *b = hiveport_catalog_at(k);
            if (!usable(a, &states[j]) || !usable(b, &states[k]) || states[k].port == 0 ||
                states[j].port != states[k].port)
                continue;
            cli_error(prog,
                      "%s: ControlSet%03u: %s and %s both use port %u; a profile cannot give two settings one port "
                      "(fix the hive first: two services cannot listen on one port)",
                      hiveport_name(h), controlset, a->id, b->id, states[k].port);
            return CLI_FAILED;
        }
    return CLI_OK;
}

/* The header: where the profile comes from, as comments (the path printed safely: a newline in it
 * must not end the comment). */
static void write_header(FILE *out, hiveport *h, int target, const uint32_t *numbers, size_t count)
{
    struct cli_select sel;
    bool have_sel = cli_select_read(h, &sel) == HIVEPORT_OK;
    fputs("# hiveport profile exported from ", out);
    cli_print_text(out, hiveport_name(h));
    fputs(",", out);
    for (size_t i = 0; i < count; i++) {
        char roles[64] = "";
        if (have_sel)
            cli_select_roles(&sel, numbers[i], roles, sizeof roles);
        fprintf(out, "%s ControlSet%03u%s%s%s", i ? "," : "", numbers[i], *roles ? " (" : "", roles, *roles ? ")" : "");
    }
    fputs("\n# See hiveport-profile(5).  Check a hive against it: hiveport apply --check PROFILE HIVE\n", out);
    if (hiveport_is_dirty(h) == 1 && hiveport_log_state(h, NULL) != HIVEPORT_LOGS_REPLAYED)
        fputs("# Warning: the hive is dirty and its logs were not replayed: these values may be stale.\n", out);
    char name[16];
    profile_target_name(target, name, sizeof name);
    fprintf(out, "controlset = %s\n", name);
}

/* The settings export_profile() writes, as a .reg file (regwrite.h). */
static int export_reg(const char *prog, hiveport *h, int format, int target, uint32_t number, bool unset_absent,
                      const struct state *states, char **text, size_t *len)
{
    size_t ncat = hiveport_catalog_count(), n = 0;
    struct regwrite_value *values = calloc(ncat, sizeof *values);
    if (values == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    char (*what)[64] = calloc(ncat, sizeof *what); /* why a value is left out, for its comment */
    if (what == NULL) {
        free(values);
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    for (size_t k = 0; k < ncat; k++) {
        const hiveport_setting *s = hiveport_catalog_at(k);
        if (usable(s, &states[k]))
            values[n++] = (struct regwrite_value){.setting = s, .port = states[k].port};
        else if (unset_absent && states[k].status == HIVEPORT_E_NOT_SET)
            values[n++] = (struct regwrite_value){.setting = s, .unset = true};
        else if (states[k].status != HIVEPORT_E_NOT_SET) {
            describe(s, &states[k], what[k], sizeof what[k]);
            values[n++] = (struct regwrite_value){.setting = s, .left_out = what[k]};
            fprintf(stderr, "%s: warning: %s: %s left out of the .reg file: Windows cannot use its value (%s)\n",
                    prog, hiveport_name(h), s->id, what[k]);
        }
    }
    char controlset[32], *note = NULL;
    if (target == HIVEPORT_CS_CURRENT)
        snprintf(controlset, sizeof controlset, "CurrentControlSet");
    else
        snprintf(controlset, sizeof controlset, "ControlSet%03u", number);
    int rc = CLI_OK;
    if (asprintf(&note, "hiveport export of %s, ControlSet%03u; hiveport apply reads it back", hiveport_name(h),
                 number) < 0)
        note = NULL;
    if (note == NULL ||
        !regwrite_build((enum regwrite_format)format, controlset, note, values, n, text, len)) {
        cli_error(prog, "out of memory");
        rc = CLI_FAILED;
    }
    free(note);
    free(values);
    free(what);
    return rc;
}

static int export_profile(const char *prog, hiveport *h, int target, bool unset_absent, int format, char **text,
                          size_t *len)
{
    uint32_t *numbers = NULL;
    size_t count = 0, ncat = hiveport_catalog_count();
    struct state *states = NULL;
    FILE *out = NULL;
    int rc = cli_targets(prog, h, target, &numbers, &count);
    if (rc != CLI_OK)
        goto done;
    if ((states = calloc(count * ncat, sizeof *states)) == NULL ||
        (format == FORMAT_PROFILE && (out = open_memstream(text, len)) == NULL)) {
        cli_error(prog, "out of memory");
        rc = CLI_FAILED;
        goto done;
    }
    if ((rc = read_states(prog, h, numbers, count, states)) != CLI_OK ||
        (rc = check_agree(prog, h, numbers, count, states)) != CLI_OK ||
        (rc = check_distinct(prog, h, numbers[0], states)) != CLI_OK)
        goto done;
    if (format != FORMAT_PROFILE) {
        rc = export_reg(prog, h, format, target, numbers[0], unset_absent, states, text, len);
        goto done;
    }

    write_header(out, h, target, numbers, count);
    int width = 0;
    for (size_t k = 0; k < ncat; k++)
        if (usable(hiveport_catalog_at(k), &states[k]) && (int)strlen(hiveport_catalog_at(k)->id) > width)
            width = (int)strlen(hiveport_catalog_at(k)->id);
    size_t written = 0;
    for (size_t k = 0; k < ncat; k++) {
        const hiveport_setting *s = hiveport_catalog_at(k);
        const struct state *st = &states[k];
        if (usable(s, st)) {
            fprintf(out, "%-*s = %u\n", width, s->id, st->port);
            written++;
        } else if (st->status != HIVEPORT_E_NOT_SET) {
            char what[64];
            describe(s, st, what, sizeof what);
            fprintf(out, "# %s left out: Windows cannot use its value (%s)\n", s->id, what);
            cli_error(prog, "warning: %s: %s left out of the profile: Windows cannot use its value (%s)",
                      hiveport_name(h), s->id, what);
        }
    }
    if (written == 0)
        fputs("# no catalog setting is set\n", out);
    for (size_t k = 0; unset_absent && k < ncat; k++)
        if (states[k].status == HIVEPORT_E_NOT_SET)
            fprintf(out, "unset %s\n", hiveport_catalog_at(k)->id);
    if (fflush(out) != 0) {
        cli_error(prog, "out of memory");
        rc = CLI_FAILED;
    }
done:
    if (out != NULL)
        fclose(out);
    free(states);
    free(numbers);
    return rc;
}

/* The RPC port range of a SOFTWARE hive as a .reg file (DCOM endpoints are not listed: the library names
 * no AppIDs).  CLI_CONTINUE when h is not a SOFTWARE hive. */
static int export_software(const char *prog, hiveport *h, int format, bool unset_absent, char **text, size_t *len)
{
    char *ports = NULL, available = 0, use = 0;
    int status = hiveport_rpc_get(h, &ports, &available, &use, NULL);
    if (status == HIVEPORT_E_NOT_HIVE)
        return CLI_CONTINUE;
    if (status != HIVEPORT_OK && status != HIVEPORT_E_NOT_SET)
        return cli_fail(prog, h);
    char note[4096];
    snprintf(note, sizeof note, "RPC port range of %s, exported by hiveport %s%s", hiveport_name(h),
             hiveport_version(), status == HIVEPORT_E_NOT_SET && !unset_absent ? ": none" : "");
    /* Without a range, the key's deletion only with --unset-absent, as for absent SYSTEM settings. */
    bool ok = status == HIVEPORT_E_NOT_SET && !unset_absent
                  ? regwrite_build((enum regwrite_format)format, "", note, NULL, 0, text, len)
                  : regwrite_build_rpc((enum regwrite_format)format, note, ports, available, use, text, len);
    hiveport_free(ports);
    if (!ok)
        cli_error(prog, "out of memory");
    return ok ? CLI_OK : CLI_FAILED;
}

/* --format (cli_parse_options()). */
static int parse_option(void *format, const char *prog, int c, const char *arg)
{
    (void)c;
    if (strcmp(arg, "profile") == 0)
        *(int *)format = FORMAT_PROFILE;
    else if (strcmp(arg, "reg") == 0)
        *(int *)format = REGWRITE_REG5;
    else if (strcmp(arg, "reg4") == 0)
        *(int *)format = REGWRITE_REG4;
    else
        return cli_usage_error(prog, "invalid --format '%s': expected profile, reg or reg4", arg);
    return CLI_CONTINUE;
}

/* What export reads, and in which format it prints it. */
struct export_request {
    const char *prog;
    struct cli_open open;
    int target, format;
    bool unset_absent;
};

static int export_hive(void *ctx, const char *hive, const char *name)
{
    struct export_request *req = ctx;
    const char *prog = req->prog;
    int target = req->target, format = req->format, rc;
    bool unset_absent = req->unset_absent;
    req->open.name = name;
    hiveport *h = NULL;
    char *text = NULL;
    size_t len = 0;
    if ((rc = cli_open_reader(prog, hive, &req->open, 0, &h)) == CLI_OK) {
        /* Printed only when complete: a failure prints nothing on standard output. */
        size_t sets;
        /* A hive that is not a SYSTEM hive may be a SOFTWARE hive; one with the keys of both is a SYSTEM one. */
        rc = format != FORMAT_PROFILE && hiveport_controlsets(h, NULL, 0, &sets) == HIVEPORT_E_NOT_HIVE
                 ? export_software(prog, h, format, unset_absent, &text, &len)
                 : CLI_CONTINUE;
        if (rc == CLI_OK && target != HIVEPORT_CS_CURRENT)
            rc = cli_usage_error(prog, "--controlset: a SOFTWARE hive has no control sets");
        if (rc == CLI_CONTINUE)
            rc = export_profile(prog, h, target, unset_absent, format, &text, &len);
        if (rc == CLI_OK)
            fwrite(text, 1, len, stdout);
    }
    free(text);
    hiveport_close(h);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_CONTROLSET,
                                             {"unset-absent", no_argument, NULL, OPT_UNSET_ABSENT},
                                             {"format", required_argument, NULL, OPT_FORMAT}, CLI_LONGOPTS_READ,
                                             CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    struct export_request req = {.prog = argv[0], .target = HIVEPORT_CS_CURRENT, .format = FORMAT_PROFILE};
    struct cli_target t;
    cli_open_init(&req.open);
    const struct cli_store store[] = {CLI_FLAG(OPT_UNSET_ABSENT, req.unset_absent), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.open,
                                                               .target = &req.target, .option = parse_option,
                                                               .ctx = &req.format, .min_operands = 1,
                                                               .max_operands = 1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    if (req.format != FORMAT_PROFILE && req.target == HIVEPORT_CS_ALL)
        return cli_usage_error(req.prog, "--format %s writes one control set: not --controlset all",
                               req.format == REGWRITE_REG5 ? "reg" : "reg4");
    return image_with_target(&t, export_hive, &req);
}
