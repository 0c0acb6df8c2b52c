/* audit.c: hiveport_audit() and its findings list: the hive as a whole (dirty, Select), merging, ordering. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "hivecheck.h"

/* ---- The findings list ---------------------------------------------------------------------------- */

static void item_free(struct hp_audit_item *it)
{
    hp_free(it->key);
    hp_free(it->value_name);
    hp_free(it->message);
    hp_free(it->key_rel);
    hp_free(it->detail);
    hp_free(it->sets);
}

HIVEPORT_API void hiveport_findings_free(hiveport_findings *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->count; i++)
        item_free(&f->items[i]);
    hp_free(f->items);
    hp_free(f);
}

HIVEPORT_API size_t hiveport_findings_count(const hiveport_findings *f)
{
    return f == NULL ? 0 : f->count;
}

HIVEPORT_API const hiveport_finding *hiveport_findings_at(const hiveport_findings *f, size_t i)
{
    return f == NULL || i >= f->count ? NULL : &f->items[i].pub;
}

HIVEPORT_API const char *hiveport_severity_name(int severity)
{
    switch (severity) {
    case HIVEPORT_SEVERITY_INFO:
        return "info";
    case HIVEPORT_SEVERITY_WARNING:
        return "warning";
    case HIVEPORT_SEVERITY_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

static int nomem(struct hp_audit *a)
{
    return hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", a->h->path);
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *s = hp_malloc((size_t)n + 1);
    if (s != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *hp_audit_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

static bool same_str(const char *x, const char *y)
{
    return x == y || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/* The earlier per-control-set finding equal to spec + detail, or NULL. */
static struct hp_audit_item *find_equal(hiveport_findings *list, const struct hp_finding_spec *spec,
                                        const char *detail)
{
    for (size_t i = 0; i < list->count; i++) {
        struct hp_audit_item *it = &list->items[i];
        if (it->nsets > 0 && it->pub.code == spec->code && it->pub.severity == spec->severity &&
            it->pub.port == spec->port && same_str(it->pub.setting_id, spec->setting_id) &&
            same_str(it->value_name, spec->value_name) && same_str(it->key_rel, spec->key_rel) &&
            strcmp(it->detail, detail) == 0)
            return it;
    }
    return NULL;
}

static int add_set(struct hp_audit_item *it, uint32_t cs)
{
    for (size_t i = 0; i < it->nsets; i++)
        if (it->sets[i] == cs)
            return HIVEPORT_OK;
    uint32_t *sets = hp_malloc((it->nsets + 1) * sizeof *sets);
    if (sets == NULL)
        return HIVEPORT_E_NOMEM;
    memcpy(sets, it->sets, it->nsets * sizeof *sets);
    sets[it->nsets] = cs;
    hp_free(it->sets);
    it->sets = sets;
    it->nsets++;
    return HIVEPORT_OK;
}

int hp_findings_grow(hiveport_findings *list)
{
    if (list->count < list->capacity)
        return HIVEPORT_OK;
    size_t capacity = list->capacity ? list->capacity * 2 : 16;
    struct hp_audit_item *items = hp_calloc(capacity, sizeof *items);
    if (items == NULL)
        return HIVEPORT_E_NOMEM;
    if (list->count > 0)
        memcpy(items, list->items, list->count * sizeof *items);
    hp_free(list->items);
    list->items = items;
    list->capacity = capacity;
    return HIVEPORT_OK;
}

static char *dup_or_null(const char *s, bool *failed)
{
    if (s == NULL)
        return NULL;
    char *copy = hp_strdup(s);
    if (copy == NULL)
        *failed = true;
    return copy;
}

/* Adds a finding whose text is already made (text is taken over, also on failure); limit says whether
 * HP_AUDIT_MAX_FINDINGS applies. */
static int add_text(struct hp_audit *a, const struct hp_finding_spec *spec, char *text, bool limit)
{
    hiveport_findings *list = a->list;
    if (spec->controlset != 0) {
        struct hp_audit_item *same = find_equal(list, spec, text);
        if (same != NULL) {
            hp_free(text);
            return add_set(same, spec->controlset) == HIVEPORT_OK ? HIVEPORT_OK : nomem(a);
        }
    }
    if (limit && list->count >= HP_AUDIT_MAX_FINDINGS) {
        list->dropped++;
        hp_free(text);
        return HIVEPORT_OK;
    }
    if (hp_findings_grow(list) != HIVEPORT_OK) {
        hp_free(text);
        return nomem(a);
    }
    struct hp_audit_item *it = &list->items[list->count];
    memset(it, 0, sizeof *it);
    bool failed = false;
    it->key = dup_or_null(spec->key, &failed);
    it->value_name = dup_or_null(spec->value_name, &failed);
    if (spec->controlset != 0) {
        it->key_rel = dup_or_null(spec->key_rel, &failed);
        it->detail = text;
        it->sets = hp_malloc(sizeof *it->sets);
        if (it->sets == NULL)
            failed = true;
        else
            it->sets[it->nsets++] = spec->controlset;
    } else {
        it->message = text;
    }
    if (failed) {
        item_free(it);
        memset(it, 0, sizeof *it);
        return nomem(a);
    }
    it->pub.severity = spec->severity;
    it->pub.code = spec->code;
    it->pub.controlset = spec->controlset;
    it->pub.setting_id = spec->setting_id;
    it->pub.port = spec->port;
    it->pub.offset = spec->offset;
    it->seq = list->count;
    list->count++;
    return HIVEPORT_OK;
}

int hp_audit_add(struct hp_audit *a, const struct hp_finding_spec *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = vformat(fmt, ap);
    va_end(ap);
    if (text == NULL)
        return nomem(a);
    return add_text(a, spec, text, true);
}

/* ---- Helpers shared by lib/audit*.c --------------------------------------------------------------- */

int hp_audit_spend(struct hp_audit *a, size_t n)
{
    if (n > a->budget) {
        a->budget = 0;
        return hp_error(a->h, HIVEPORT_E_CORRUPT,
                        "%s: the audit would read more than %lu key and value names: the hive is damaged or "
                        "hostile",
                        a->h->path, HP_AUDIT_BUDGET);
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
        return hp_error(a->h, HIVEPORT_E_CORRUPT, "%s: %s: a value's data is unreadable (%s)", hive->path, where,
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

/* ---- The hive as a whole -------------------------------------------------------------------------- */

static const char *const select_names[4] = {
    [HIVEPORT_SELECT_CURRENT] = "Current",
    [HIVEPORT_SELECT_DEFAULT] = "Default",
    [HIVEPORT_SELECT_FAILED] = "Failed",
    [HIVEPORT_SELECT_LASTKNOWNGOOD] = "LastKnownGood",
};

static int check_dirty(struct hp_audit *a, const hiveport *hive, const char *which)
{
    if (hive->seq_primary == hive->seq_secondary)
        return HIVEPORT_OK;
    if (hive->log_state == HIVEPORT_LOGS_REPLAYED) {
        /* The audit saw what Windows will see once it replays the logs itself. */
        struct hp_finding_spec spec = {.severity = HP_INFO, .code = "hive-dirty"};
        return hp_audit_add(a, &spec,
                            "%s %s is dirty: its sequence numbers %u and %u differ; its transaction logs were "
                            "replayed in memory (%s), so this audit read what Windows would.",
                            which, hive->path, hive->seq_primary, hive->seq_secondary, hive->log_report);
    }
    struct hp_finding_spec spec = {.severity = HP_WARNING, .code = "hive-dirty"};
    return hp_audit_add(a, &spec,
                        "%s %s is dirty: its sequence numbers %u and %u differ, so its transaction logs "
                        "(.LOG1/.LOG2) hold changes the file lacks; they were not replayed (%s), and what this "
                        "audit read may be out of date.",
                        which, hive->path, hive->seq_primary, hive->seq_secondary, hive->log_report);
}

/* The structural check (hiveport_check()): its errors as one finding, the audit being about settings. */
static int check_damage(struct hp_audit *a)
{
    size_t errors;
    char *first;
    int rc = hp_check_loaded(a->h, &errors, &first);
    if (rc == HIVEPORT_OK && errors > 0) {
        struct hp_finding_spec spec = {.severity = HP_ERROR, .code = "hive-damaged"};
        rc = hp_audit_add(a, &spec,
                          "The hive breaks %zu rule%s of the registry format that Windows applies when it loads a "
                          "hive, which may drop keys and values silently (run 'hiveport check' for all); the first: "
                          "%s.",
                          errors, errors == 1 ? "" : "s", first);
    }
    hp_free(first);
    return rc;
}

static bool controlset_exists(const struct hp_audit *a, uint32_t n)
{
    for (size_t i = 0; i < a->nsets; i++)
        if (a->sets[i] == n)
            return true;
    return false;
}

/* Reads one Select value into a->select[field] / a->select_ok[field], adding a finding when it is missing
 * (Failed may be) or not a 4-byte REG_DWORD. */
static int read_select_value(struct hp_audit *a, hive_node_h select, const char *select_name, int field)
{
    hive_value_h value;
    char *name = NULL, *data = NULL;
    int rc = hp_audit_value(a, a->h, select, select_names[field], &value, &name);
    if (rc != HIVEPORT_OK)
        goto out;
    struct hp_finding_spec spec = {.severity = HP_ERROR, .key = select_name, .value_name = name};
    if (value == 0) {
        if (field == HIVEPORT_SELECT_FAILED)
            goto out;
        spec.code = "select-missing";
        spec.value_name = select_names[field];
        rc = hp_audit_add(a, &spec, "%s has no \"%s\" value, so %s.", select_name, select_names[field],
                          field == HIVEPORT_SELECT_DEFAULT ? "nothing says which control set Windows boots"
                          : field == HIVEPORT_SELECT_CURRENT
                              ? "nothing says which control set stands for CurrentControlSet"
                              : "Windows has no Last Known Good control set to fall back to");
        goto out;
    }
    uint32_t type;
    size_t len;
    if ((rc = hp_audit_read(a, a->h, value, select_name, 64, &type, &data, &len)) != HIVEPORT_OK)
        goto out;
    if (type != hive_t_REG_DWORD || len != 4 || data == NULL) {
        char shown[64];
        hp_audit_describe_data(type, data, len, shown, sizeof shown);
        spec.code = "select-bad-type";
        rc = hp_audit_add(a, &spec, "%s\\%s holds %s (%s), not the 4-byte REG_DWORD Windows reads.", select_name, name,
                          hp_type_name(type), shown);
        goto out;
    }
    a->select[field] = hp_audit_le32(data);
    a->select_ok[field] = true;
out:
    free(name);
    free(data);
    return rc;
}

/* Select: present, every value a REG_DWORD naming an existing control set, Current == Default. */
static int check_select(struct hp_audit *a)
{
    char *select_name = NULL;
    hive_node_h select = 0;
    int rc = hp_audit_child(a, a->h, hp_nav_root(a->h), "Select", &select, &select_name);
    if (rc != HIVEPORT_OK)
        return rc;
    if (select == 0) {
        struct hp_finding_spec spec = {.severity = HP_ERROR, .code = "select-missing"};
        return hp_audit_add(a, &spec, "The hive has no Select key, so nothing says which control set Windows "
                                      "boots%s.",
                            a->nsets == 0 ? "; it has no ControlSetNNN key either: it is not a SYSTEM hive" : "");
    }
    a->select_key = true;
    static const int order[] = {HIVEPORT_SELECT_CURRENT, HIVEPORT_SELECT_DEFAULT, HIVEPORT_SELECT_LASTKNOWNGOOD,
                                HIVEPORT_SELECT_FAILED};
    for (size_t i = 0; rc == HIVEPORT_OK && i < 4; i++)
        rc = read_select_value(a, select, select_name, order[i]);

    /* One finding per control set number that is named but absent. */
    bool reported[4] = {false};
    for (size_t i = 0; rc == HIVEPORT_OK && i < 3; i++) {
        int field = order[i];
        uint32_t n = a->select[field];
        if (!a->select_ok[field] || reported[field] || controlset_exists(a, n))
            continue;
        int fields[3];
        size_t named = 0;
        for (size_t j = i; j < 3; j++) {
            int other = order[j];
            if (a->select_ok[other] && a->select[other] == n) {
                reported[other] = true;
                fields[named++] = other;
            }
        }
        char names[3 * (HP_NAME_MAX + 24)] = "";
        for (size_t j = 0; j < named; j++) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s%s\\%s",
                     j == 0 ? "" : j + 1 == named ? " and " : ", ", select_name, select_names[fields[j]]);
        }
        struct hp_finding_spec spec = {.severity = HP_ERROR, .code = "select-missing-controlset",
                                       .key = select_name, .value_name = select_names[field], .port = 0};
        if (n == 0 || n > HP_CONTROLSET_MAX)
            rc = hp_audit_add(a, &spec, "%s %s %u, which names no control set (1-999).", names,
                              named > 1 ? "are" : "is", n);
        else
            rc = hp_audit_add(a, &spec, "%s name%s ControlSet%03u, which does not exist.", names,
                              named > 1 ? "" : "s", n);
    }
    if (rc == HIVEPORT_OK && a->select_ok[HIVEPORT_SELECT_DEFAULT] &&
        controlset_exists(a, a->select[HIVEPORT_SELECT_DEFAULT]))
        a->boot = a->select[HIVEPORT_SELECT_DEFAULT];
    if (rc == HIVEPORT_OK && a->select_ok[HIVEPORT_SELECT_CURRENT] && a->select_ok[HIVEPORT_SELECT_DEFAULT] &&
        a->select[HIVEPORT_SELECT_CURRENT] != a->select[HIVEPORT_SELECT_DEFAULT]) {
        struct hp_finding_spec spec = {.severity = HP_WARNING, .code = "current-default-differ",
                                       .key = select_name, .value_name = select_names[HIVEPORT_SELECT_DEFAULT]};
        rc = hp_audit_add(a, &spec,
                          "%s\\Current is %u but %s\\Default is %u: the image was not captured cleanly, and "
                          "Windows will boot ControlSet%03u, not the control set that was running.",
                          select_name, a->select[HIVEPORT_SELECT_CURRENT], select_name,
                          a->select[HIVEPORT_SELECT_DEFAULT], a->select[HIVEPORT_SELECT_DEFAULT]);
    }
    free(select_name);
    return rc;
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
            snprintf(out + used, out_len - used, "%s%s", used ? ", " : "", select_names[field]);
        }
    }
}

/* "ControlSet001 (Current, Default: the one Windows boots)" into out. */
static void label(const struct hp_audit *a, uint32_t cs, char *out, size_t out_len)
{
    char roles[64];
    hp_audit_roles(a, cs, roles, sizeof roles);
    if (cs == a->boot)
        snprintf(out, out_len, "ControlSet%03u (%s: the one Windows boots)", cs, roles);
    else if (roles[0] != '\0')
        snprintf(out, out_len, "ControlSet%03u (%s)", cs, roles);
    else
        snprintf(out, out_len, "ControlSet%03u (not named by Select)", cs);
}

/* Builds the message of a per-control-set finding: "In <label> and <label>, <detail>." */
static int finish_item(struct hp_audit *a, struct hp_audit_item *it)
{
    size_t cap = it->nsets * 128 + strlen(it->detail) + 16;
    char *msg = hp_malloc(cap);
    if (msg == NULL)
        return nomem(a);
    size_t used = (size_t)snprintf(msg, cap, "In ");
    for (size_t i = 0; i < it->nsets; i++) {
        char one[128];
        label(a, it->sets[i], one, sizeof one);
        const char *sep = i == 0 ? "" : i + 1 == it->nsets ? " and " : ", ";
        used += (size_t)snprintf(msg + used, cap - used, "%s%s", sep, one);
    }
    snprintf(msg + used, cap - used, ", %s.", it->detail);
    it->message = msg;
    it->pub.controlset = it->sets[0];
    return HIVEPORT_OK;
}

static int by_controlset_severity(const void *x, const void *y)
{
    const struct hp_audit_item *a = x, *b = y;
    if (a->pub.controlset != b->pub.controlset)
        return a->pub.controlset < b->pub.controlset ? -1 : 1;
    if (a->pub.severity != b->pub.severity)
        return a->pub.severity > b->pub.severity ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

int hp_audit_finish(struct hp_audit *a)
{
    hiveport_findings *list = a->list;
    if (list->dropped > 0) {
        char *text = hp_audit_format("An audit lists at most %d findings; %zu more were left out.",
                                     HP_AUDIT_MAX_FINDINGS, list->dropped);
        struct hp_finding_spec spec = {.severity = HP_WARNING, .code = "findings-truncated"};
        int rc = text == NULL ? nomem(a) : add_text(a, &spec, text, false);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    for (size_t i = 0; i < list->count; i++) {
        struct hp_audit_item *it = &list->items[i];
        if (it->nsets > 0) {
            int rc = finish_item(a, it);
            if (rc != HIVEPORT_OK)
                return rc;
        }
        it->pub.key = it->key;
        it->pub.value_name = it->value_name;
        it->pub.message = it->message;
    }
    if (list->count > 1)
        qsort(list->items, list->count, sizeof list->items[0], by_controlset_severity);
    return HIVEPORT_OK;
}

/* ---- The public call ------------------------------------------------------------------------------ */

HIVEPORT_API int hiveport_audit(hiveport *h, hiveport *software, hiveport_findings **out)
{
    if (out != NULL)
        *out = NULL;
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (out == NULL)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: audit needs a place for the findings", h->path);
    if (software != NULL) {
        if (!hp_handle_usable(software))
            return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: the SOFTWARE hive handle is not open", h->path);
        hp_clear_error(software);
    }
    int kind = hp_require_system(h);
    if (kind == HIVEPORT_OK && software != NULL && (kind = hp_require_software(software)) != HIVEPORT_OK)
        kind = hp_error(h, kind, "%s", software->errmsg);
    if (kind != HIVEPORT_OK)
        return kind;

    struct hp_audit *a = hp_calloc(1, sizeof *a);
    if (a == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", h->path);
    a->h = h;
    a->software = software;
    a->budget = HP_AUDIT_BUDGET;
    if (h->img.end / 16 > a->budget) /* a budget that grows with the hive: large real hives are not hostile */
        a->budget = (size_t)(h->img.end / 16);
    int rc = HIVEPORT_OK;
    a->list = hp_calloc(1, sizeof *a->list);
    if (a->list == NULL)
        rc = nomem(a);
    if (rc == HIVEPORT_OK)
        rc = hiveport_controlsets(h, a->sets, HP_CONTROLSET_MAX, &a->nsets);
    if (rc == HIVEPORT_OK && a->nsets > HP_CONTROLSET_MAX)
        a->nsets = HP_CONTROLSET_MAX;
    if (rc == HIVEPORT_OK)
        rc = check_dirty(a, h, "The hive");
    if (rc == HIVEPORT_OK)
        rc = check_damage(a);
    if (rc == HIVEPORT_OK)
        rc = check_select(a);
    if (rc == HIVEPORT_OK && software != NULL)
        rc = check_dirty(a, software, "The SOFTWARE hive");
    if (rc == HIVEPORT_OK && software != NULL)
        rc = hp_audit_rpc_load(a);
    if (rc == HIVEPORT_OK)
        rc = hp_audit_settings(a);
    if (rc == HIVEPORT_OK)
        rc = hp_audit_finish(a);

    if (rc == HIVEPORT_OK)
        *out = a->list;
    else
        hiveport_findings_free(a->list);
    hp_audit_rpc_free(a);
    hp_free(a);
    return rc;
}
