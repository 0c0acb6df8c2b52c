/* findings.c: the findings list behind hiveport_findings: adding (merging equal per-control-set findings),
 * the limit, finishing (messages, order) and the public accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

static void item_free(struct hp_finding_item *it)
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

static bool same_str(const char *x, const char *y)
{
    return x == y || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/* The earlier per-control-set finding equal to spec + detail, or NULL. */
static struct hp_finding_item *find_equal(hiveport_findings *list, const struct hp_finding_spec *spec,
                                          const char *detail)
{
    for (size_t i = 0; i < list->count; i++) {
        struct hp_finding_item *it = &list->items[i];
        if (it->nsets > 0 && it->pub.code == spec->code && it->pub.severity == spec->severity &&
            it->pub.port == spec->port && same_str(it->pub.setting_id, spec->setting_id) &&
            same_str(it->value_name, spec->value_name) && same_str(it->key_rel, spec->key_rel) &&
            strcmp(it->detail, detail) == 0)
            return it;
    }
    return NULL;
}

static int add_set(struct hp_finding_item *it, uint32_t cs)
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
    struct hp_finding_item *items = hp_grow(list->items, list->count, &list->capacity, sizeof *items, 16);
    if (items == NULL)
        return HIVEPORT_E_NOMEM;
    list->items = items;
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

int hp_findings_add(hiveport_findings *list, const struct hp_finding_spec *spec, char *text, bool limit)
{
    if (text == NULL)
        return HIVEPORT_E_NOMEM;
    if (spec->controlset != 0) {
        struct hp_finding_item *same = find_equal(list, spec, text);
        if (same != NULL) {
            hp_free(text);
            return add_set(same, spec->controlset);
        }
    }
    if (limit && list->count >= HP_FINDINGS_MAX) {
        list->dropped++;
        hp_free(text);
        return HIVEPORT_OK;
    }
    if (hp_findings_grow(list) != HIVEPORT_OK) {
        hp_free(text);
        return HIVEPORT_E_NOMEM;
    }
    struct hp_finding_item *it = &list->items[list->count];
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
        return HIVEPORT_E_NOMEM;
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

/* Builds the message of a per-control-set finding: "In <label> and <label>, <detail>." */
static int finish_item(struct hp_finding_item *it, hp_findings_label_fn *label, const void *ctx)
{
    size_t cap = it->nsets * 128 + strlen(it->detail) + 16;
    char *msg = hp_malloc(cap);
    if (msg == NULL)
        return HIVEPORT_E_NOMEM;
    size_t used = (size_t)snprintf(msg, cap, "In ");
    for (size_t i = 0; i < it->nsets; i++) {
        char one[128];
        if (label != NULL)
            label(ctx, it->sets[i], one, sizeof one);
        else
            snprintf(one, sizeof one, "ControlSet%03u", it->sets[i]);
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
    const struct hp_finding_item *a = x, *b = y;
    if (a->pub.controlset != b->pub.controlset)
        return a->pub.controlset < b->pub.controlset ? -1 : 1;
    if (a->pub.severity != b->pub.severity)
        return a->pub.severity > b->pub.severity ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

int hp_findings_finish(hiveport_findings *list, hp_findings_label_fn *label, const void *ctx)
{
    if (list->dropped > 0) {
        char *text = hp_format("An audit lists at most %d findings; %zu more were left out.", HP_FINDINGS_MAX,
                               list->dropped);
        struct hp_finding_spec spec = {.severity = HIVEPORT_SEVERITY_WARNING, .code = "findings-truncated"};
        int rc = hp_findings_add(list, &spec, text, false);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    for (size_t i = 0; i < list->count; i++) {
        struct hp_finding_item *it = &list->items[i];
        if (it->nsets > 0) {
            int rc = finish_item(it, label, ctx);
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
