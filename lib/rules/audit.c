/* audit.c: hiveport_audit(): the hive as a whole (dirty, Select, damage), then the settings (audit_values.c)
 * and the RPC range (audit_rpc.c); findings go into a findings list (base/findings.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"

static int nomem(struct hp_audit *a)
{
    return hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(a->h));
}

/* ---- The hive as a whole -------------------------------------------------------------------------- */


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
                            which, hp_name(hive), hive->seq_primary, hive->seq_secondary, hive->log_report);
    }
    struct hp_finding_spec spec = {.severity = HP_WARNING, .code = "hive-dirty"};
    return hp_audit_add(a, &spec,
                        "%s %s is dirty: its sequence numbers %u and %u differ, so its transaction logs "
                        "(.LOG1/.LOG2) hold changes the file lacks; they were not replayed (%s), and what this "
                        "audit read may be out of date.",
                        which, hp_name(hive), hive->seq_primary, hive->seq_secondary, hive->log_report);
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
    int rc = hp_audit_value(a, a->h, select, hp_audit_select_names[field], &value, &name);
    if (rc != HIVEPORT_OK)
        goto out;
    struct hp_finding_spec spec = {.severity = HP_ERROR, .key = select_name, .value_name = name};
    if (value == 0) {
        if (field == HIVEPORT_SELECT_FAILED)
            goto out;
        spec.code = "select-missing";
        spec.value_name = hp_audit_select_names[field];
        rc = hp_audit_add(a, &spec, "%s has no \"%s\" value, so %s.", select_name, hp_audit_select_names[field],
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
                     j == 0 ? "" : j + 1 == named ? " and " : ", ", select_name, hp_audit_select_names[fields[j]]);
        }
        struct hp_finding_spec spec = {.severity = HP_ERROR, .code = "select-missing-controlset",
                                       .key = select_name, .value_name = hp_audit_select_names[field], .port = 0};
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
                                       .key = select_name, .value_name = hp_audit_select_names[HIVEPORT_SELECT_DEFAULT]};
        rc = hp_audit_add(a, &spec,
                          "%s\\Current is %u but %s\\Default is %u: the image was not captured cleanly, and "
                          "Windows will boot ControlSet%03u, not the control set that was running.",
                          select_name, a->select[HIVEPORT_SELECT_CURRENT], select_name,
                          a->select[HIVEPORT_SELECT_DEFAULT], a->select[HIVEPORT_SELECT_DEFAULT]);
    }
    free(select_name);
    return rc;
}

/* ---- The public call ------------------------------------------------------------------------------ */

HIVEPORT_API int hiveport_audit(hiveport *h, hiveport *software, hiveport_findings **out)
{
    return hp_audit_run(h, software, true, NULL, out);
}

int hp_audit_run(hiveport *h, hiveport *software, bool structural, const struct hp_audit_scope *scope,
                 hiveport_findings **out)
{
    int rc = hp_findings_call(h, out, "audit");
    if (rc != HIVEPORT_OK)
        return rc;
    if (software != NULL) {
        if (!hp_handle_usable(software))
            return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: the SOFTWARE hive handle is not open", hp_name(h));
        hp_clear_error(software);
    }
    int kind = hp_require_system(h);
    if (kind == HIVEPORT_OK && software != NULL && (kind = hp_require_software(software)) != HIVEPORT_OK)
        kind = hp_error(h, kind, "%s", software->errmsg);
    if (kind != HIVEPORT_OK)
        return kind;

    struct hp_audit *a = hp_calloc(1, sizeof *a);
    if (a == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(h));
    a->h = h;
    a->software = software;
    a->scope = scope;
    a->budget = HP_AUDIT_BUDGET;
    if (h->img.end / 16 > a->budget) /* a budget that grows with the hive: large real hives are not hostile */
        a->budget = (size_t)(h->img.end / 16);
    rc = HIVEPORT_OK;
    a->list = hp_calloc(1, sizeof *a->list);
    if (a->list == NULL)
        rc = nomem(a);
    if (rc == HIVEPORT_OK)
        rc = hiveport_controlsets(h, a->sets, HP_CONTROLSET_MAX, &a->nsets);
    if (rc == HIVEPORT_OK && a->nsets > HP_CONTROLSET_MAX)
        a->nsets = HP_CONTROLSET_MAX;
    if (rc == HIVEPORT_OK)
        rc = check_dirty(a, h, "The hive");
    if (rc == HIVEPORT_OK && structural)
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
