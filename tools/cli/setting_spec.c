/* setting_spec.c: SETTING operands (a catalog id or SERVICE\SUBKEY:VALUE NAME) and SETTING=PORT. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define EXAMPLE_CUSTOM "'MSExchangeSA\\Parameters:TCP/IP Port'"

/* First components that show the user gave an absolute path, which would silently create
 * Services\ControlSet001\... instead of the intended key. */
static bool names_a_root(const char *key, size_t len)
{
    static const char *const roots[] = {"Services", "CurrentControlSet", "HKLM", "HKEY_LOCAL_MACHINE",
                                        "SYSTEM", "Select"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
        if (strlen(roots[i]) == len && strncasecmp(key, roots[i], len) == 0)
            return true;
    return len == 13 && strncasecmp(key, "ControlSet", 10) == 0 && strspn(key + 10, "0123456789") >= 3;
}

int cli_setting_parse(const char *prog, const char *text, struct cli_setting *out)
{
    char why[512];
    int rc = cli_setting_parse_msg(text, out, why, sizeof why);
    if (rc == CLI_USAGE)
        return cli_usage_error(prog, "%s", why);
    if (rc != CLI_OK)
        cli_error(prog, "%s", why);
    return rc;
}

bool cli_port_parse(const char *text, const hiveport_setting *s, const char *label, uint32_t *port, char *why,
                    size_t len)
{
    size_t digits = strlen(text);
    if (digits == 0 || strspn(text, "0123456789") != digits) {
        snprintf(why, len, "port '%s' for %s is not a decimal number", text, label);
        return false;
    }
    /* Any number of digits is a number: too many is out of range, as 65536 is. */
    while (digits > 1 && *text == '0') {
        text++;
        digits--;
    }
    unsigned long n = digits <= 5 ? strtoul(text, NULL, 10) : 65536;
    if (n > 65535 || !cli_port_acceptable(s, (uint32_t)n)) {
        snprintf(why, len, "port %s for %s is outside %s", text, label,
                 (s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC) ? "0-65535 (0 = dynamic)" : "1-65535");
        return false;
    }
    *port = (uint32_t)n;
    return true;
}

int cli_assignment_parse(const char *prog, const char *text, struct cli_assignment *out)
{
    memset(out, 0, sizeof *out);
    /* The last '=': value names may contain '=', ports never do. */
    const char *eq = strrchr(text, '=');
    if (eq == NULL)
        return cli_usage_error(prog, "'%s': expected SETTING=PORT", text);
    char *setting = strndup(text, (size_t)(eq - text));
    if (setting == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    int rc = cli_setting_parse(prog, setting, &out->target);
    free(setting); /* a custom setting keeps its own copy */
    char why[600];
    /* The range is checked here, before anything is opened (hiveport(1)). */
    if (rc == CLI_OK && !cli_port_parse(eq + 1, &out->target.setting, out->target.label, &out->port, why, sizeof why))
        rc = cli_usage_error(prog, "%s", why);
    return rc;
}

void cli_setting_free(struct cli_setting *s)
{
    free(s->text);
    s->text = NULL;
}

bool cli_setting_same(const hiveport_setting *a, const hiveport_setting *b)
{
    return strcasecmp(a->key, b->key) == 0 && strcasecmp(a->value_name, b->value_name) == 0;
}

bool cli_port_acceptable(const hiveport_setting *s, uint32_t port)
{
    return (port >= 1 && port <= 65535) || (port == 0 && (s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC));
}

int cli_setting_parse_msg(const char *text, struct cli_setting *out, char *why, size_t len)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(text, ':');
    if (colon == NULL) {
        const hiveport_setting *s = hiveport_catalog_find(text);
        if (s == NULL) {
            snprintf(why, len,
                     "unknown setting '%s': neither a catalog id (see 'hiveport list') nor SERVICE\\SUBKEY:VALUE "
                     "NAME",
                     text);
            return CLI_USAGE;
        }
        out->setting = *s;
        out->label = s->id;
        return CLI_OK;
    }
    /* One buffer: the text as written (the label), then a copy split at the colon. */
    size_t n = strlen(text) + 1;
    char *buf = malloc(2 * n);
    if (buf == NULL) {
        snprintf(why, len, "out of memory");
        return CLI_FAILED;
    }
    memcpy(buf, text, n);
    char *key = memcpy(buf + n, text, n);
    char *value_name = key + (colon - text) + 1;
    value_name[-1] = '\0';
    const char *problem = NULL;
    if (*key == '\0' || *value_name == '\0')
        problem = "expected SERVICE\\SUBKEY:VALUE NAME, e.g. " EXAMPLE_CUSTOM;
    else if (names_a_root(key, strcspn(key, "\\")))
        problem = "the key must be relative to ControlSetNNN\\Services, e.g. " EXAMPLE_CUSTOM;
    else
        for (const char *p = key; problem == NULL; p++) {
            size_t part = strcspn(p, "\\");
            if (part == 0)
                problem = "empty key name (a leading, trailing or doubled backslash)";
            p += part;
            if (*p == '\0')
                break;
        }
    if (problem != NULL) {
        snprintf(why, len, "setting '%s': %s", text, problem);
        free(buf);
        return CLI_USAGE;
    }
    out->setting.key = key;
    out->setting.value_name = value_name;
    out->setting.type = HIVEPORT_REG_DWORD;
    /* A value the catalog knows keeps the catalog's type (exchange2010-ab is a REG_SZ). */
    for (size_t i = 0; i < hiveport_catalog_count(); i++) {
        const hiveport_setting *known = hiveport_catalog_at(i);
        if (cli_setting_same(known, &out->setting)) {
            out->setting.type = known->type;
            out->setting.flags = known->flags;
        }
    }
    out->label = buf;
    out->text = buf;
    return CLI_OK;
}
