/* softplan.c: the SOFTWARE statements of a .reg file, checked, compared and applied through the library
 * (see softplan.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "softplan.h"

#define RPC_KEY "Microsoft\\Rpc\\Internet"
#define DCOM_TCP_PREFIX "ncacn_ip_tcp,0,"

static bool refuse(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return false;
}

bool softplan_rpc_key(struct softplan *sp, unsigned line, bool delete, char *why, size_t len)
{
    if (delete) {
        if (sp->rpc == SOFTPLAN_RPC_SET || sp->ports_line || sp->available_line || sp->use_line)
            return refuse(why, len, "the key is deleted here but has values on line %u: one or the other",
                          sp->rpc_line);
        sp->rpc = SOFTPLAN_RPC_DELETE;
    } else if (sp->rpc == SOFTPLAN_RPC_DELETE) {
        return refuse(why, len, "the key is deleted on line %u: one or the other", sp->rpc_line);
    } else {
        sp->rpc = SOFTPLAN_RPC_SET;
    }
    if (sp->rpc_line == 0)
        sp->rpc_line = line;
    return true;
}

/* "Y" or "N" (either case), as hiveport_rpc_set() takes them. */
static bool yes_no(const struct soft_data *d, const char *name, char *out, char *why, size_t len)
{
    if (d->string == NULL)
        return refuse(why, len, "\"%s\" must be a string, \"Y\" or \"N\" (REG_SZ, KB 154596)", name);
    if (strlen(d->string) != 1 || strchr("YyNn", d->string[0]) == NULL)
        return refuse(why, len, "\"%s\" holds \"%s\": the RPC runtime reads only \"Y\" or \"N\"", name, d->string);
    *out = d->string[0] == 'y' || d->string[0] == 'Y' ? 'Y' : 'N';
    return true;
}

/* Ports: its strings joined by commas, the list hiveport_rpc_set() takes, checked by the library. */
static bool ports_list(struct softplan *sp, const struct soft_data *d, bool *out_of_memory, char *why, size_t len)
{
    if (d->multi == NULL)
        return refuse(why, len, "\"Ports\" must be hex(7): data (REG_MULTI_SZ, one port or range per string)");
    if (d->multi_count == 0)
        return refuse(why, len, "\"Ports\" lists no port: the RPC runtime treats that as invalid");
    size_t total = 0;
    for (size_t i = 0; i < d->multi_count; i++) {
        if (strchr(d->multi[i], ',') != NULL)
            return refuse(why, len, "\"Ports\" string %zu, \"%s\", holds a comma: each string is one port or range",
                          i + 1, d->multi[i]);
        total += strlen(d->multi[i]) + 1;
    }
    char *list = malloc(total), *w = list;
    if (list == NULL) {
        *out_of_memory = true;
        return true;
    }
    for (size_t i = 0; i < d->multi_count; i++) {
        size_t n = strlen(d->multi[i]);
        memcpy(w, d->multi[i], n);
        w += n;
        *w++ = i + 1 < d->multi_count ? ',' : '\0';
    }
    char *text = NULL;
    int rc = hiveport_rpc_warnings(list, 'Y', &text);
    if (rc != HIVEPORT_OK) {
        if (rc == HIVEPORT_E_NOMEM)
            *out_of_memory = true;
        else
            refuse(why, len, "\"Ports\" is invalid: %s", text != NULL ? text : hiveport_strerror(rc));
        hiveport_free(text);
        free(list);
        return rc == HIVEPORT_E_NOMEM;
    }
    hiveport_free(text);
    sp->ports = list;
    return true;
}

/* Endpoints: the one string "ncacn_ip_tcp,0,PORT" that hiveport_dcom_set_port() writes. */
static bool endpoint_port(const struct soft_data *d, uint32_t *port, char *why, size_t len)
{
    if (d->deletion)
        return refuse(why, len, "removing \"Endpoints\" is refused: hiveport pins DCOM ports, it does not unpin them");
    if (d->multi == NULL)
        return refuse(why, len, "\"Endpoints\" must be hex(7): data (REG_MULTI_SZ)");
    if (d->multi_count != 1)
        return refuse(why, len,
                      "\"Endpoints\" holds %zu strings: hiveport sets only the TCP endpoint, one string "
                      "\"" DCOM_TCP_PREFIX "PORT\" (the other endpoints in the hive are kept)",
                      d->multi_count);
    const char *s = d->multi[0];
    /* The prefix first: a shorter string ends before the digits would start. */
    bool tcp = strncasecmp(s, DCOM_TCP_PREFIX, strlen(DCOM_TCP_PREFIX)) == 0;
    const char *digits = tcp ? s + strlen(DCOM_TCP_PREFIX) : s;
    size_t n = strspn(digits, "0123456789");
    if (!tcp || n == 0 || n > 5 || digits[n] != '\0')
        return refuse(why, len, "\"Endpoints\" holds \"%s\", not \"" DCOM_TCP_PREFIX "PORT\"", s);
    unsigned long value = strtoul(digits, NULL, 10);
    if (value < 1 || value > 65535)
        return refuse(why, len, "\"Endpoints\" names port %lu, outside 1-65535", value);
    *port = (uint32_t)value;
    return true;
}

static bool dcom_value(struct softplan *sp, unsigned line, const char *appid, const char *name,
                       const struct soft_data *d, bool *out_of_memory, char *why, size_t len)
{
    if (strcasecmp(name, "Endpoints") != 0)
        return refuse(why, len, "\"%s\": only \"Endpoints\" of a DCOM AppID is a port setting", name);
    for (size_t i = 0; i < sp->dcom_count; i++)
        if (strcasecmp(sp->dcom[i].appid, appid) == 0)
            return refuse(why, len, "\"Endpoints\" of %s is already given on line %u", appid, sp->dcom[i].line);
    struct softplan_dcom e = {.line = line};
    if (!endpoint_port(d, &e.port, why, len))
        return false;
    snprintf(e.appid, sizeof e.appid, "%s", appid);
    struct softplan_dcom *grown = realloc(sp->dcom, (sp->dcom_count + 1) * sizeof *grown);
    if (grown == NULL) {
        *out_of_memory = true;
        return true;
    }
    sp->dcom = grown;
    sp->dcom[sp->dcom_count++] = e;
    return true;
}

bool softplan_value(struct softplan *sp, unsigned line, const char *appid, const char *name,
                    const struct soft_data *d, bool *out_of_memory, char *why, size_t len)
{
    if (appid != NULL)
        return dcom_value(sp, line, appid, name, d, out_of_memory, why, len);
    unsigned *given;
    if (strcasecmp(name, "Ports") == 0)
        given = &sp->ports_line;
    else if (strcasecmp(name, "PortsInternetAvailable") == 0)
        given = &sp->available_line;
    else if (strcasecmp(name, "UseInternetPorts") == 0)
        given = &sp->use_line;
    else
        return refuse(why, len, "\"%s\": " RPC_KEY " takes only Ports, PortsInternetAvailable and UseInternetPorts",
                      name);
    if (*given != 0)
        return refuse(why, len, "\"%s\" is already given on line %u", name, *given);
    if (d->deletion)
        return refuse(why, len,
                      "deleting \"%s\" is refused: without its three values the key is an invalid configuration "
                      "(RPC fails); remove the range with [-HKEY_LOCAL_MACHINE\\SOFTWARE\\" RPC_KEY "]",
                      name);
    if (d->other != NULL)
        return refuse(why, len, "\"%s\": %s data is not what the RPC runtime reads here", name, d->other);
    bool ok = given == &sp->ports_line ? ports_list(sp, d, out_of_memory, why, len)
              : given == &sp->available_line ? yes_no(d, name, &sp->available, why, len)
                                              : yes_no(d, name, &sp->use_internet, why, len);
    if (ok)
        *given = line;
    return ok;
}

bool softplan_finish(const struct softplan *sp, unsigned *line, char *why, size_t len)
{
    if (sp->rpc != SOFTPLAN_RPC_SET)
        return true;
    const char *missing = sp->ports_line == 0 ? "Ports" : sp->available_line == 0 ? "PortsInternetAvailable"
                                                      : sp->use_line == 0        ? "UseInternetPorts"
                                                                                 : NULL;
    if (missing == NULL)
        return true;
    *line = sp->rpc_line;
    return refuse(why, len,
                  RPC_KEY " without \"%s\": Windows needs Ports, PortsInternetAvailable and UseInternetPorts "
                  "together (KB 154596); give all three",
                  missing);
}

/* ---- comparing ---- */

/* The ports a valid list names, as a bitmap of 65536 bits; false for a list it cannot read. */
static bool port_bits(const char *list, unsigned char *bits)
{
    memset(bits, 0, 65536 / 8);
    const char *p = list;
    for (;;) {
        char *end;
        p += strspn(p, " \t");
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p || lo > 65535)
            return false;
        p = end + strspn(end, " \t");
        if (*p == '-') {
            p++;
            p += strspn(p, " \t");
            hi = strtoul(p, &end, 10);
            if (end == p || hi > 65535 || hi < lo)
                return false;
            p = end + strspn(end, " \t");
        }
        for (unsigned long port = lo; port <= hi; port++)
            bits[port / 8] |= (unsigned char)(1u << (port % 8));
        if (*p == '\0')
            return true;
        if (*p != ',')
            return false;
        p++;
    }
}

static bool same_ports(const char *a, const char *b)
{
    static unsigned char x[65536 / 8], y[65536 / 8];
    return port_bits(a, x) && port_bits(b, y) && memcmp(x, y, sizeof x) == 0;
}

static const char *problem_name(int status)
{
    return status == HIVEPORT_E_NOT_SET      ? "not set"
           : status == HIVEPORT_E_WRONG_TYPE ? "wrong type"
           : status == HIVEPORT_E_BAD_DATA   ? "bad data"
                                             : NULL;
}

static int add_difference(json_t *differences, const char *key, const char *value_name, const char *expected,
                          const char *actual, const char *problem)
{
    char setting[160];
    snprintf(setting, sizeof setting, "%s%s%s", key, *value_name != '\0' ? ":" : "", value_name);
    json_t *d = json_pack("{s:o, s:o, s:o, s:s?, s:s?, s:s?}", "setting", cli_json_text(setting), "key",
                          cli_json_text(key), "value_name", cli_json_text(value_name), "expected", expected,
                          "actual", actual, "problem", problem);
    return d != NULL && json_array_append_new(differences, d) == 0 ? HIVEPORT_OK : HIVEPORT_E_NOMEM;
}

static int compare_rpc(const struct softplan *sp, hiveport *h, json_t *differences)
{
    char *ports = NULL, available = 0, use = 0;
    int rc = hiveport_rpc_get(h, &ports, &available, &use, NULL);
    const char *problem = problem_name(rc);
    if (rc != HIVEPORT_OK && problem == NULL)
        return rc;
    if (sp->rpc == SOFTPLAN_RPC_DELETE) {
        /* Anything but an absent key is a range that the deletion would remove. */
        hiveport_free(ports);
        return rc == HIVEPORT_E_NOT_SET ? HIVEPORT_OK
                                        : add_difference(differences, RPC_KEY, "", "absent",
                                                         rc == HIVEPORT_OK ? "present" : NULL, problem);
    }
    char want_a[2] = {sp->available, 0}, want_u[2] = {sp->use_internet, 0}, got_a[2] = {available, 0},
         got_u[2] = {use, 0};
    int out = HIVEPORT_OK;
    if (rc != HIVEPORT_OK && rc != HIVEPORT_E_NOT_SET) {
        /* A range Windows rejects (the library says which value): one difference for the key. */
        char expected[1024];
        snprintf(expected, sizeof expected, "Ports %s, PortsInternetAvailable %c, UseInternetPorts %c", sp->ports,
                 sp->available, sp->use_internet);
        return add_difference(differences, RPC_KEY, "", expected, NULL, problem);
    }
    if (rc != HIVEPORT_OK || !same_ports(sp->ports, ports))
        out = add_difference(differences, RPC_KEY, "Ports", sp->ports, ports, problem);
    if (out == HIVEPORT_OK && (rc != HIVEPORT_OK || available != sp->available))
        out = add_difference(differences, RPC_KEY, "PortsInternetAvailable", want_a, rc ? NULL : got_a, problem);
    if (out == HIVEPORT_OK && (rc != HIVEPORT_OK || use != sp->use_internet))
        out = add_difference(differences, RPC_KEY, "UseInternetPorts", want_u, rc ? NULL : got_u, problem);
    hiveport_free(ports);
    return out;
}

int softplan_compare(const struct softplan *sp, hiveport *h, json_t *differences)
{
    int rc = HIVEPORT_OK;
    if (sp->rpc != SOFTPLAN_RPC_NONE)
        rc = compare_rpc(sp, h, differences);
    for (size_t i = 0; rc == HIVEPORT_OK && i < sp->dcom_count; i++) {
        const struct softplan_dcom *e = &sp->dcom[i];
        uint32_t port = 0;
        int got = hiveport_dcom_get_port(h, e->appid, &port);
        if (got != HIVEPORT_OK && problem_name(got) == NULL)
            return got;
        if (got == HIVEPORT_OK && port == e->port)
            continue;
        char key[64], expected[16], actual[16];
        snprintf(key, sizeof key, "Classes\\AppID\\%s", e->appid);
        snprintf(expected, sizeof expected, "%u", e->port);
        snprintf(actual, sizeof actual, "%u", port);
        rc = add_difference(differences, key, "Endpoints", expected, got == HIVEPORT_OK ? actual : NULL,
                            problem_name(got));
    }
    return rc;
}

void softplan_print_difference(FILE *out, const json_t *difference)
{
    const json_t *actual = json_object_get(difference, "actual");
    fputs("  ", out);
    cli_print_text(out, json_string_value(json_object_get(difference, "setting")));
    fputs(": ", out);
    cli_print_text(out, json_is_string(actual) ? json_string_value(actual)
                                               : json_string_value(json_object_get(difference, "problem")));
    fputs(", expected ", out);
    cli_print_text(out, json_string_value(json_object_get(difference, "expected")));
    fputc('\n', out);
}

/* ---- applying ---- */

int softplan_apply(const struct softplan *sp, hiveport *h)
{
    int rc = HIVEPORT_OK;
    if (sp->rpc == SOFTPLAN_RPC_SET)
        rc = hiveport_rpc_set(h, sp->ports, sp->available, sp->use_internet, NULL);
    else if (sp->rpc == SOFTPLAN_RPC_DELETE)
        rc = hiveport_rpc_clear(h, 0);
    for (size_t i = 0; rc == HIVEPORT_OK && i < sp->dcom_count; i++)
        rc = hiveport_dcom_set_port(h, sp->dcom[i].appid, sp->dcom[i].port);
    return rc;
}

void softplan_warnings(const struct softplan *sp, void (*say)(void *ctx, const char *line), void *ctx)
{
    char *text = NULL;
    if (sp->rpc != SOFTPLAN_RPC_SET || hiveport_rpc_warnings(sp->ports, sp->available, &text) != HIVEPORT_OK)
        return;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *end = strchr(line, '\n');
        if (end != NULL)
            *end++ = '\0';
        char buf[1024];
        snprintf(buf, sizeof buf, "warning: %s", line);
        say(ctx, buf);
        line = end;
    }
    hiveport_free(text);
}

void softplan_free(struct softplan *sp)
{
    free(sp->ports);
    free(sp->dcom);
    memset(sp, 0, sizeof *sp);
}
