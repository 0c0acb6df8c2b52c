/* cmd_show.c: 'hiveport show': the catalog settings present in a hive, with the Select key and state. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "image.h"

static const char usage[] =
    "Usage: hiveport show HIVE [--controlset SEL] [--json]\n"
    "       hiveport show --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] [OPTIONS]\n"
    "Show every catalog setting present in the selected control set(s) with its port, the Select\n"
    "values, the control sets of the hive and whether the hive is dirty.\n\n"
    "  --controlset SEL  current (the default), default, lastknowngood, all, or a number (3 =\n"
    "                    ControlSet003); a hive without a Select key needs all or a number\n"
    "  --json            print a JSON document instead of text\n"
    CLI_HELP_READ
    CLI_HELP_IMAGE
    "  --help            print this help\n";

/* One catalog setting found in one control set: a port, or a value Windows cannot use. */
struct found {
    uint32_t controlset;
    const hiveport_setting *setting;
    int status; /* HIVEPORT_OK, HIVEPORT_E_WRONG_TYPE or HIVEPORT_E_BAD_DATA */
    uint32_t port;
};

/* Everything show prints, read before printing so that a failure prints nothing on stdout. */
struct report {
    hiveport *h;
    struct cli_select sel;
    uint32_t *all, *selected;
    size_t all_count, selected_count;
    struct found *found;
    size_t found_count;
};

static int collect(const char *prog, struct report *r)
{
    size_t cap = r->selected_count * hiveport_catalog_count();
    r->found = calloc(cap ? cap : 1, sizeof *r->found);
    if (r->found == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < r->selected_count; i++) {
        for (size_t j = 0; j < hiveport_catalog_count(); j++) {
            struct found *f = &r->found[r->found_count];
            f->controlset = r->selected[i];
            f->setting = hiveport_catalog_at(j);
            f->status = hiveport_get_port(r->h, f->setting, (int)f->controlset, &f->port);
            if (f->status == HIVEPORT_E_NOT_SET)
                continue;
            if (f->status != HIVEPORT_OK && f->status != HIVEPORT_E_WRONG_TYPE &&
                f->status != HIVEPORT_E_BAD_DATA)
                return cli_fail(prog, r->h);
            r->found_count++;
        }
    }
    return CLI_OK;
}

/* ---- JSON ---- */

static json_t *select_json(const struct cli_select *sel)
{
    if (!sel->present)
        return json_null();
    json_t *o = json_object();
    for (int f = HIVEPORT_SELECT_CURRENT; o != NULL && f <= HIVEPORT_SELECT_LASTKNOWNGOOD; f++)
        if (json_object_set_new(o, cli_select_field_names[f],
                                sel->valid[f] ? json_integer(sel->value[f]) : json_null()) != 0) {
            json_decref(o);
            o = NULL;
        }
    return o;
}

static json_t *roles_json(const struct cli_select *sel, uint32_t number)
{
    json_t *a = json_array();
    for (int f = HIVEPORT_SELECT_CURRENT; a != NULL && sel->present && f <= HIVEPORT_SELECT_LASTKNOWNGOOD; f++)
        if (sel->valid[f] && sel->value[f] == number)
            cli_json_append(&a, json_string(cli_select_field_names[f]));
    return a;
}

static json_t *found_json(const struct found *f)
{
    const hiveport_setting *s = f->setting;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", s->id, "key", s->key, "value_name",
                     s->value_name, "type", cli_type_name(s->type), "port",
                     f->status == HIVEPORT_OK ? json_integer(f->port) : json_null(), "problem",
                     f->status == HIVEPORT_OK ? json_null() : json_string(hiveport_strerror(f->status)));
}

static json_t *controlset_json(const struct report *r, uint32_t number)
{
    json_t *settings = json_array();
    for (size_t i = 0; settings != NULL && i < r->found_count; i++)
        if (r->found[i].controlset == number)
            cli_json_append(&settings, found_json(&r->found[i]));
    char name[32];
    snprintf(name, sizeof name, "ControlSet%03u", number);
    return json_pack("{s:i, s:s, s:o, s:o}", "controlset", (json_int_t)number, "name", name, "roles",
                     roles_json(&r->sel, number), "settings", settings);
}


static int show_json(const char *prog, const struct report *r)
{
    json_t *selected = json_array();
    for (size_t i = 0; selected != NULL && i < r->selected_count; i++)
        cli_json_append(&selected, controlset_json(r, r->selected[i]));
    uint32_t primary = 0, secondary = 0;
    hiveport_sequence(r->h, &primary, &secondary);
    json_t *doc = json_pack("{s:o, s:b, s:{s:i, s:i}, s:o, s:o, s:o, s:o}", "hive",
                            cli_json_text(hiveport_name(r->h)), "dirty", hiveport_is_dirty(r->h) == 1, "sequence",
                            "primary", (json_int_t)primary, "secondary", (json_int_t)secondary, "logs",
                            cli_json_logs(r->h), "select", select_json(&r->sel), "controlsets",
                            cli_json_numbers(r->all, r->all_count), "selected", selected);
    return cli_json_print(prog, doc);
}

/* ---- text ---- */

static void print_select(const struct cli_select *sel)
{
    if (!sel->present) {
        printf("select:        none (no Select key)\n");
        return;
    }
    printf("select:       ");
    for (int f = HIVEPORT_SELECT_CURRENT; f <= HIVEPORT_SELECT_LASTKNOWNGOOD; f++) {
        printf("%s %s ", f ? "," : "", cli_select_field_names[f]);
        if (sel->valid[f])
            printf("%u", sel->value[f]);
        else
            printf("invalid");
    }
    putchar('\n');
    if (sel->valid[HIVEPORT_SELECT_CURRENT] && sel->valid[HIVEPORT_SELECT_DEFAULT] &&
        sel->value[HIVEPORT_SELECT_CURRENT] != sel->value[HIVEPORT_SELECT_DEFAULT])
        printf("boots next:    ControlSet%03u (Select\\Default differs from Select\\Current)\n",
               sel->value[HIVEPORT_SELECT_DEFAULT]);
}

static int show_text(const struct report *r)
{
    uint32_t primary = 0, secondary = 0;
    hiveport_sequence(r->h, &primary, &secondary);
    printf("hive:          %s\n", hiveport_name(r->h));
    if (hiveport_is_dirty(r->h) == 1) {
        printf("dirty:         yes (sequence numbers %u and %u differ)\n", primary, secondary);
        /* Replayed logs are what Windows would see; without them the file's values may be stale. */
        printf("logs:          %s%s\n", hiveport_log_report(r->h),
               hiveport_log_state(r->h, NULL) == HIVEPORT_LOGS_REPLAYED
                   ? ""
                   : " (the values below may be stale; set and unset refuse this hive)");
    } else {
        printf("dirty:         no\n");
    }
    print_select(&r->sel);
    printf("control sets: ");
    for (size_t i = 0; i < r->all_count; i++)
        printf(" ControlSet%03u", r->all[i]);
    putchar('\n');
    for (size_t i = 0; i < r->selected_count; i++) {
        char roles[64];
        cli_select_roles(&r->sel, r->selected[i], roles, sizeof roles);
        printf("ControlSet%03u%s%s%s:\n", r->selected[i], *roles ? " (" : "", roles, *roles ? ")" : "");
        bool any = false;
        for (size_t j = 0; j < r->found_count; j++) {
            const struct found *f = &r->found[j];
            if (f->controlset != r->selected[i])
                continue;
            any = true;
            if (f->status == HIVEPORT_OK)
                printf("  %-25s %u\n", f->setting->id, f->port);
            else
                printf("  %-25s - (%s)\n", f->setting->id, hiveport_strerror(f->status));
        }
        if (!any)
            printf("  (no catalog setting present)\n");
    }
    return CLI_OK;
}

/* What show reads, and how it prints it. */
struct show_request {
    const char *prog;
    struct cli_open open;
    int target;
    bool json;
};

static int show_hive(void *ctx, const char *hive, const char *name)
{
    struct show_request *req = ctx;
    const char *prog = req->prog;
    int target = req->target, rc;
    req->open.name = name;
    struct report r = {0};
    if (cli_open(hive, &req->open, 0, &r.h) != HIVEPORT_OK) {
        rc = cli_fail(prog, r.h);
        goto out;
    }
    if (cli_select_read(r.h, &r.sel) != HIVEPORT_OK) {
        rc = cli_fail(prog, r.h);
        goto out;
    }
    if ((rc = cli_targets(prog, r.h, target, &r.selected, &r.selected_count)) != CLI_OK ||
        (rc = cli_targets(prog, r.h, HIVEPORT_CS_ALL, &r.all, &r.all_count)) != CLI_OK ||
        (rc = collect(prog, &r)) != CLI_OK)
        goto out;
    rc = req->json ? show_json(prog, &r) : show_text(&r);
out:
    free(r.found);
    free(r.selected);
    free(r.all);
    hiveport_close(r.h);
    return rc;
}

int cmd_show(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_CONTROLSET, CLI_LONGOPT_JSON, CLI_LONGOPTS_READ,
                                             CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    struct show_request req = {.prog = argv[0], .target = HIVEPORT_CS_CURRENT};
    struct cli_target t;
    cli_open_init(&req.open);
    const struct cli_store store[] = {CLI_FLAG(OPT_JSON, req.json), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &req.open,
                                                               .target = &req.target, .min_operands = 1,
                                                               .max_operands = 1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    return image_with_target(&t, show_hive, &req);
}
