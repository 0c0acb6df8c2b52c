/* cmd_list.c: 'hiveport list': the settings catalog, as text or JSON. */
#include <stdio.h>

#include "cli.h"

static const char usage[] =
    "Usage: hiveport list [--json]\n"
    "List the catalog of static RPC port settings: id, type, key and value name (relative to\n"
    "ControlSetNNN\\Services), what it pins and where it is documented.\n\n"
    "  --json   print a JSON document instead of text\n"
    "  --help   print this help\n";

static json_t *setting_json(const hiveport_setting *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "id", s->id, "key", s->key, "value_name",
                     s->value_name, "type", cli_type_name(s->type), "zero_is_dynamic",
                     (s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC) != 0, "description", s->description,
                     "source", s->source);
}

static int list_json(void)
{
    json_t *settings = json_array();
    for (size_t i = 0; settings != NULL && i < hiveport_catalog_count(); i++)
        cli_json_append(&settings, setting_json(hiveport_catalog_at(i)));
    return cli_json_print("hiveport list", settings ? json_pack("{s:o}", "settings", settings) : NULL);
}

static int list_text(void)
{
    for (size_t i = 0; i < hiveport_catalog_count(); i++) {
        const hiveport_setting *s = hiveport_catalog_at(i);
        printf("%-25s %-9s  %s:%s\n", s->id, cli_type_name(s->type), s->key, s->value_name);
        printf("%-25s %s (%s)\n", "", s->description, s->source);
    }
    return CLI_OK;
}

int cmd_list(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_LONGOPT_JSON, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP,
                                             CLI_LONGOPT_END};
    bool json = false;
    const struct cli_store store[] = {CLI_FLAG(OPT_JSON, json), CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .max_operands = 0});
    if (rc != CLI_CONTINUE)
        return rc;
    return json ? list_json() : list_text();
}
