/* audit_read.c: what the audit's files share: adding findings, reading keys and values through the
 * budget, names and data for messages, and finishing the list with each control set's label. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"

const char *const hp_audit_select_names[4] = {
    [HIVEPORT_SELECT_CURRENT] = "Current",
    [HIVEPORT_SELECT_DEFAULT] = "Default",
    [HIVEPORT_SELECT_FAILED] = "Failed",
    [HIVEPORT_SELECT_LASTKNOWNGOOD] = "LastKnownGood",
};

/* ---- Adding findings ------------------------------------------------------------------------------ */

static int nomem(struct hp_audit *a)
{
    return hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(a->h));
}

int hp_audit_add(struct hp_audit *a, const struct hp_finding_spec *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = hp_vformat(fmt, ap);
    va_end(ap);
    return hp_findings_add(a->list, spec, text, true) == HIVEPORT_OK ? HIVEPORT_OK : nomem(a);
}

/* ---- Helpers shared by lib/audit*.c --------------------------------------------------------------- */

int hp_audit_spend(struct hp_audit *a, size_t n)
{
    if (n > a->budget) {
        a->budget = 0;
        return hp_error(a->h, HIVEPORT_E_CORRUPT,
                        "%s: the audit would read more than %lu key and value names: the hive is damaged or "
                        "hostile",
                        hp_name(a->h), HP_AUDIT_BUDGET);
    }
    a->budget -= n;
    return HIVEPORT_OK;
}

int hp_audit_relay(struct hp_audit *a, hiveport *hive, int rc)
{
    if (rc == HIVEPORT_OK || hive == a->h)
        return rc;
    return hp_error(a->h, rc, "%s", hive->errmsg[0] != '\0' ? hive->errmsg : hiveport_strerror(rc));
}

int hp_audit_children(struct hp_audit *a, hiveport *hive, hive_node_h node, hive_node_h **list, size_t *count)
{
    int rc = hp_nav_children(hive, node, list, count);
    if (rc == HIVEPORT_OK && (rc = hp_audit_spend(a, *count)) != HIVEPORT_OK) {
        free(*list);
        *list = NULL;
        *count = 0;
    }
    return hp_audit_relay(a, hive, rc);
}

int hp_audit_values(struct hp_audit *a, hiveport *hive, hive_node_h node, hive_value_h **list, size_t *count)
{
    int rc = hp_nav_values(hive, node, list, count);
    if (rc == HIVEPORT_OK && (rc = hp_audit_spend(a, *count)) != HIVEPORT_OK) {
        free(*list);
        *list = NULL;
        *count = 0;
    }
    return hp_audit_relay(a, hive, rc);
}

char *hp_audit_key_name(struct hp_audit *a, hiveport *hive, hive_node_h node)
{
    char *name = hp_nav_key_name(hive, node);
    if (name == NULL)
        hp_audit_relay(a, hive, hive->status != HIVEPORT_OK ? hive->status : HIVEPORT_E_CORRUPT);
    return name;
}

char *hp_audit_value_name(struct hp_audit *a, hiveport *hive, hive_value_h value)
{
    char *name = hp_nav_value_name(hive, value);
    if (name == NULL)
        hp_audit_relay(a, hive, hive->status != HIVEPORT_OK ? hive->status : HIVEPORT_E_CORRUPT);
    return name;
}

int hp_audit_child(struct hp_audit *a, hiveport *hive, hive_node_h node, const char *name, hive_node_h *found,
                   char **as_found)
{
    /* One indexed lookup instead of decoding every child's name (a large Services key ate the budget). */
    *found = 0;
    if (as_found != NULL)
        *as_found = NULL;
    int rc = hp_audit_relay(a, hive, hp_nav_child(hive, node, name, found));
    if (rc == HIVEPORT_OK)
        rc = hp_audit_spend(a, 1);
    if (rc == HIVEPORT_OK && *found != 0 && as_found != NULL &&
        (*as_found = hp_audit_key_name(a, hive, *found)) == NULL)
        rc = a->h->status;
    return rc;
}

int hp_audit_value(struct hp_audit *a, hiveport *hive, hive_node_h node, const char *name, hive_value_h *found,
                   char **as_found)
{
    hive_value_h *values;
    size_t n;
    *found = 0;
    if (as_found != NULL)
        *as_found = NULL;
    int rc = hp_audit_values(a, hive, node, &values, &n);
    for (size_t i = 0; rc == HIVEPORT_OK && i < n; i++) {
        char *key = hp_audit_value_name(a, hive, values[i]);
        if (key == NULL) {
            rc = a->h->status;
            break;
        }
        if (strcasecmp(key, name) == 0) {
            *found = values[i];
            if (as_found != NULL)
                *as_found = key;
            else
                free(key);
            break;
        }
        free(key);
    }
    free(values);
    return rc;
}

int hp_audit_read(struct hp_audit *a, hiveport *hive, hive_value_h value, const char *where, size_t max,
                  uint32_t *type, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int rc = hp_audit_relay(a, hive, hp_nav_value_type(hive, value, type, len));
    if (rc != HIVEPORT_OK || *len == 0 || *len > max)
        return rc;
    hive_type t;
    errno = 0;
    *data = hp_value_data(hive, value, &t, len);
    if (*data == NULL) {
        int err = errno;
        if (err == ENOMEM)
            return nomem(a);
        return hp_error(a->h, HIVEPORT_E_CORRUPT, "%s: %s: a value's data is unreadable (%s)", hp_name(hive), where,
                        strerror(err ? err : EINVAL));
    }
    *type = (uint32_t)t;
    return HIVEPORT_OK;
}

void hp_audit_normalize(const char *name, char *out, size_t out_len)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && n + 1 < out_len; p++) {
        if (*p >= 'A' && *p <= 'Z')
            out[n++] = (char)(*p - 'A' + 'a');
        else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            out[n++] = (char)*p;
    }
    out[n] = '\0';
}

const char *hp_audit_service_of(const char *key, char service[HP_NAME_MAX + 1])
{
    size_t len = strcspn(key, "\\");
    snprintf(service, HP_NAME_MAX + 1, "%.*s", (int)(len > HP_NAME_MAX ? HP_NAME_MAX : len), key);
    return key[len] == '\\' ? key + len + 1 : "";
}

uint32_t hp_audit_le32(const char *data)
{
    const unsigned char *p = (const unsigned char *)data;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void hp_audit_describe_data(uint32_t type, const char *data, size_t len, char *out, size_t out_len)
{
    if (data != NULL && (type == hive_t_REG_SZ || type == hive_t_REG_EXPAND_SZ)) {
        /* The text up to its terminator, ASCII only, at most 24 characters. */
        const unsigned char *p = (const unsigned char *)data;
        char text[32];
        size_t n = 0, i = 0;
        for (; i + 1 < len && n < 24; i += 2) {
            unsigned c = p[i] | (unsigned)p[i + 1] << 8;
            if (c == 0)
                break;
            text[n++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
        }
        bool more = i + 1 < len && (p[i] != 0 || p[i + 1] != 0);
        text[n] = '\0';
        snprintf(out, out_len, "\"%s%s\"", text, more ? "..." : "");
    } else if (data != NULL && (type == hive_t_REG_DWORD || type == hive_t_REG_BINARY) && len == 4) {
        snprintf(out, out_len, "%u", hp_audit_le32(data));
    } else if (data != NULL && (type == hive_t_REG_QWORD || type == hive_t_REG_BINARY) && len == 8) {
        unsigned long long v = (unsigned long long)hp_audit_le32(data) | (unsigned long long)hp_audit_le32(data + 4) << 32;
        snprintf(out, out_len, "%llu", v);
    } else {
        snprintf(out, out_len, "%zu byte%s", len, len == 1 ? "" : "s");
    }
}

/* ---- Finishing: messages, order ------------------------------------------------------------------- */

void hp_audit_roles(const struct hp_audit *a, uint32_t cs, char *out, size_t out_len)
{
    static const int order[] = {HIVEPORT_SELECT_CURRENT, HIVEPORT_SELECT_DEFAULT, HIVEPORT_SELECT_LASTKNOWNGOOD,
                                HIVEPORT_SELECT_FAILED};
    out[0] = '\0';
    for (size_t i = 0; i < 4; i++) {
        int field = order[i];
        if (a->select_ok[field] && a->select[field] == cs) {
            size_t used = strlen(out);
            snprintf(out + used, out_len - used, "%s%s", used ? ", " : "", hp_audit_select_names[field]);
        }
    }
}

/* "ControlSet001 (Current, Default: the one Windows boots)" into out. */
static void label(const void *ctx, uint32_t cs, char *out, size_t out_len)
{
    const struct hp_audit *a = ctx;
    char roles[64];
    hp_audit_roles(a, cs, roles, sizeof roles);
    if (cs == a->boot)
        snprintf(out, out_len, "ControlSet%03u (%s: the one Windows boots)", cs, roles);
    else if (roles[0] != '\0')
        snprintf(out, out_len, "ControlSet%03u (%s)", cs, roles);
    else
        snprintf(out, out_len, "ControlSet%03u (not named by Select)", cs);
}

int hp_audit_finish(struct hp_audit *a)
{
    return hp_findings_finish(a->list, label, a) == HIVEPORT_OK ? HIVEPORT_OK : nomem(a);
}

