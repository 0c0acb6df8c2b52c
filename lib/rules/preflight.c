/* preflight.c: hiveport_preflight(): the audit's rules applied to planned changes before they are made.
 *
 * The changes are made on a private handle on the same file (never committed), which is audited before and
 * after them; the findings the "after" audit has and the "before" one lacks are what the changes bring.  So
 * 'set', 'apply' and any program refuse exactly what 'audit' would call an error once written, from one
 * set of rules (lib/audit*.c), and a problem the hive already had does not block an unrelated change.
 *
 * Both audits leave out the whole-hive structural check: the changes are made in memory, so it would find
 * the same before and after (and keep_new drops what both have), while it cost 99 % of a restamp's time
 * (callgrind, tests/bench/RESULTS.md).  What a commit writes is checked by the commit itself.  They are also
 * scoped (hp_audit_scope): they read the catalog's service keys and those the plan writes to, not every
 * service, so that their cost is set by the plan and not by the hive (a 250 MB hive with 52,073 services:
 * half of a logged stamp went to reading every service name, twice). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"

static int nomem(hiveport *h)
{
    return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
}

/* A private handle on what h loaded (same file, same logs) that accepts changes in memory: a second
 * mapping of h's file when h holds no changes (no second open, no second check of the bins), else the file
 * opened again.  Writable in memory only: it holds no lock and is closed without a commit, so where its new
 * cells go does not matter (what the audit reads does): they are not taken from the file's free cells,
 * which would cost a walk of every cell of the hive. */
static int open_scratch(hiveport *h, hiveport **out)
{
    if (!h->changed && h->edit == NULL && h->npatches == 0 && !(h->flags & HIVEPORT_OPEN_DAMAGED))
        return hp_hive_open_scratch(h, out);
    hiveport_options opts;
    hiveport_options_init(&opts);
    opts.flags = h->flags & (HIVEPORT_OPEN_NO_LOGS | HIVEPORT_OPEN_DISCARD_LOGS);
    opts.log_paths = (const char *const *)h->log_paths;
    opts.log_path_count = h->nlog_paths;
    int rc = hiveport_open_named(h->path, h->name, &opts, out); /* its messages name the hive as h's do */
    if (rc != HIVEPORT_OK) {
        rc = *out != NULL ? hp_error(h, rc, "%s", (*out)->errmsg) : nomem(h);
        hiveport_close(*out);
        *out = NULL;
        return rc;
    }
    (*out)->flags |= HIVEPORT_OPEN_WRITE;
    (*out)->scratch = true;
    return HIVEPORT_OK;
}

/* Reports a failure on the scratch handle as a failure on h (the messages name the same file). */
static int relay(hiveport *h, hiveport *scratch, int rc)
{
    if (rc == HIVEPORT_OK)
        return rc;
    return hp_error(h, rc, "%s", scratch->errmsg[0] != '\0' ? scratch->errmsg : hiveport_strerror(rc));
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_finding(const hiveport_finding *a, const hiveport_finding *b)
{
    return a->severity == b->severity && a->port == b->port && a->controlset == b->controlset &&
           same_text(a->code, b->code) && same_text(a->setting_id, b->setting_id) && same_text(a->key, b->key) &&
           same_text(a->value_name, b->value_name) && same_text(a->message, b->message);
}

static int reserve(hiveport *h, hiveport_findings *list)
{
    return hp_findings_grow(list) == HIVEPORT_OK ? HIVEPORT_OK : nomem(h);
}

/* Moves the findings of after that before (may be NULL) lacks into result (after keeps the rest). */
static int keep_new(hiveport *h, const hiveport_findings *before, hiveport_findings *after,
                    hiveport_findings *result)
{
    for (size_t i = 0; i < after->count; i++) {
        const hiveport_finding *f = &after->items[i].pub;
        bool old = false;
        for (size_t j = 0; before != NULL && j < before->count && !old; j++)
            old = same_finding(f, &before->items[j].pub);
        if (old)
            continue;
        int rc = reserve(h, result);
        if (rc != HIVEPORT_OK)
            return rc;
        result->items[result->count++] = after->items[i];
        memset(&after->items[i], 0, sizeof after->items[i]); /* its strings belong to result now */
    }
    return HIVEPORT_OK;
}

/* True when s names a catalog value (however spelled): its service key may rightly be created ahead of
 * the service's installation. */
static bool in_catalog(const hiveport_setting *s)
{
    for (size_t i = 0; i < hiveport_catalog_count(); i++) {
        const hiveport_setting *c = hiveport_catalog_at(i);
        if (strcasecmp(c->key, s->key) == 0 && strcasecmp(c->value_name, s->value_name) == 0)
            return true;
    }
    return false;
}

static int add_service_missing(hiveport *h, hiveport_findings *result, const hiveport_setting *s, uint32_t cs,
                               const char *service)
{
    int rc = reserve(h, result);
    if (rc != HIVEPORT_OK)
        return rc;
    struct hp_finding_item *it = &result->items[result->count];
    memset(it, 0, sizeof *it);
    it->key = hp_format("ControlSet%03u\\Services\\%s", cs, s->key);
    it->value_name = hp_strdup(s->value_name);
    it->message = hp_format("In ControlSet%03u, creating service key %s, which did not exist: Windows reads "
                                  "%s:%s only once a service of that name is installed (a misspelt service name?).",
                                  cs, service, s->key, s->value_name);
    if (it->key == NULL || it->value_name == NULL || it->message == NULL) {
        hp_free(it->key);
        hp_free(it->value_name);
        hp_free(it->message);
        return nomem(h);
    }
    it->pub = (hiveport_finding){.severity = HIVEPORT_SEVERITY_WARNING, .code = "service-key-created",
                                 .controlset = cs, .key = it->key, .value_name = it->value_name,
                                 .message = it->message};
    it->seq = result->count++;
    return HIVEPORT_OK;
}

/* The first component of each planned setting's key, the services a scoped audit reads besides the
 * catalog's (hp_audit_scope); the list points into *names. */
static int plan_scope(hiveport *h, const hiveport_plan_item *plan, size_t count, struct hp_audit_scope *scope,
                      char (**names)[HP_NAME_MAX + 1])
{
    *names = hp_calloc(count, sizeof **names);
    const char **list = hp_calloc(count, sizeof *list);
    if (*names == NULL || list == NULL) {
        hp_free(*names);
        hp_free(list);
        *names = NULL;
        return nomem(h);
    }
    for (size_t i = 0; i < count; i++) {
        hp_audit_service_of(plan[i].setting->key, (*names)[i]);
        list[i] = (*names)[i];
    }
    scope->services = list;
    scope->count = count;
    return HIVEPORT_OK;
}

/* A custom setting whose service key is absent in a target control set: a typo creates a key nobody reads. */
static int check_services(hiveport *h, hiveport *scratch, const hiveport_plan_item *plan, size_t count,
                          int target, const struct hp_audit_scope *scope, hiveport_findings *result)
{
    uint32_t *numbers = hp_calloc(HP_CONTROLSET_MAX, sizeof *numbers);
    size_t nsets = 0;
    if (numbers == NULL)
        return nomem(h);
    int rc = relay(h, scratch, hp_controlset_targets(scratch, target, numbers, HP_CONTROLSET_MAX, &nsets));
    for (size_t i = 0; rc == HIVEPORT_OK && i < count; i++) {
        const hiveport_setting *s = plan[i].setting;
        if (plan[i].unset || in_catalog(s))
            continue;
        const char *service = scope->services[i];
        for (size_t k = 0; rc == HIVEPORT_OK && k < nsets; k++) {
            hive_node_h cs, found;
            char path[HP_NAME_MAX + 16];
            snprintf(path, sizeof path, "Services\\%s", service);
            rc = relay(h, scratch, hp_controlset_node(scratch, numbers[k], &cs));
            if (rc == HIVEPORT_OK)
                rc = relay(h, scratch, hp_key_lookup(scratch, cs, path, &found));
            if (rc == HIVEPORT_OK && found == 0)
                rc = add_service_missing(h, result, s, numbers[k], service);
        }
    }
    hp_free(numbers);
    return rc;
}

static int make_changes(hiveport *h, hiveport *scratch, const hiveport_plan_item *plan, size_t count, int target,
                        unsigned flags)
{
    for (size_t i = 0; i < count; i++) {
        int rc = plan[i].unset ? hiveport_unset_port(scratch, plan[i].setting, target)
                               : hiveport_set_port(scratch, plan[i].setting, target, plan[i].port, flags);
        if (rc != HIVEPORT_OK)
            return relay(h, scratch, rc);
    }
    return HIVEPORT_OK;
}

HIVEPORT_API int hiveport_preflight(hiveport *h, const hiveport_plan_item *plan, size_t count, int target,
                                    unsigned flags, hiveport *software, hiveport_findings **out)
{
    if (out != NULL)
        *out = NULL;
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (out == NULL || (plan == NULL && count > 0))
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: preflight needs the plan and a place for the findings",
                        hp_name(h));
    for (size_t i = 0; i < count; i++)
        if (plan[i].setting == NULL)
            return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: plan item %zu names no setting", hp_name(h), i + 1);
    if (software != NULL && !hp_handle_usable(software))
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: the SOFTWARE hive handle is not open", hp_name(h));

    hiveport *scratch = NULL;
    hiveport_findings *before = NULL, *after = NULL;
    hiveport_findings *result = hp_calloc(1, sizeof *result), *services = hp_calloc(1, sizeof *services);
    struct hp_audit_scope scope = {0};
    char(*names)[HP_NAME_MAX + 1] = NULL;
    int rc = result == NULL || services == NULL ? nomem(h) : plan_scope(h, plan, count, &scope, &names);
    if (rc == HIVEPORT_OK)
        rc = open_scratch(h, &scratch);
    /* Both audits are scoped: what they leave out, neither audit could have differed on. */
    if (rc == HIVEPORT_OK)
        rc = relay(h, scratch, hp_audit_run(scratch, software, false, &scope, &before));
    if (rc == HIVEPORT_OK) /* the "after" audit reads the edited copy: both would hold every page read */
        hp_hive_release_pages(scratch);
    if (rc == HIVEPORT_OK)
        rc = check_services(h, scratch, plan, count, target, &scope, services);
    if (rc == HIVEPORT_OK)
        rc = make_changes(h, scratch, plan, count, target, flags);
    if (rc == HIVEPORT_OK)
        rc = relay(h, scratch, hp_audit_run(scratch, software, false, &scope, &after));
    /* The audit's findings in its order, then the service keys. */
    if (rc == HIVEPORT_OK)
        rc = keep_new(h, before, after, result);
    if (rc == HIVEPORT_OK)
        rc = keep_new(h, NULL, services, result);
    hiveport_findings_free(before);
    hiveport_findings_free(after);
    hiveport_findings_free(services);
    hp_free((void *)scope.services);
    hp_free(names);
    hiveport_close(scratch);
    if (rc != HIVEPORT_OK) {
        hiveport_findings_free(result);
        return rc;
    }
    *out = result;
    return HIVEPORT_OK;
}
