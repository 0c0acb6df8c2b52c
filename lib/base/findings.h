/* findings.h: a list of findings (hiveport_findings), as the audit, the preflight and the structural checker
 * build it.  Part of the base: it knows nothing of who makes the findings.  Not for applications. */
#ifndef HIVEPORT_FINDINGS_H
#define HIVEPORT_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hiveport.h"

/* Severities, spelled short. */
#define HP_INFO HIVEPORT_SEVERITY_INFO
#define HP_WARNING HIVEPORT_SEVERITY_WARNING
#define HP_ERROR HIVEPORT_SEVERITY_ERROR

#define HP_FINDINGS_MAX 1000 /* more are counted and summarised in one "findings-truncated" */

/* One finding as built; pub is what hiveport_findings_at() hands out, its strings pointing at the owned
 * copies below. */
struct hp_finding_item {
    hiveport_finding pub;
    size_t seq;        /* order of discovery, kept among equals when sorting */
    char *key;         /* owned; pub.key */
    char *value_name;  /* owned; pub.value_name */
    char *message;     /* owned; pub.message, built when the list is finished */
    char *key_rel;     /* per-control-set findings: the key below ControlSetNNN, to merge equal findings */
    char *detail;      /* per-control-set findings: the message after "In ControlSetNNN (...), " */
    uint32_t *sets;    /* per-control-set findings: every control set where this same finding was made */
    size_t nsets;
};

struct hiveport_findings {
    struct hp_finding_item *items;
    size_t count;
    size_t capacity;
    size_t dropped; /* findings past HP_FINDINGS_MAX */
};

/* What a finding is about; the message comes separately. */
struct hp_finding_spec {
    int severity;
    const char *code;
    uint32_t controlset;    /* 0: the hive as a whole; otherwise a per-control-set finding */
    const char *setting_id; /* catalog id or NULL */
    const char *key;        /* as found, relative to the root, or NULL */
    const char *key_rel;    /* per-control-set findings: the key relative to ControlSetNNN, or NULL */
    const char *value_name; /* as found, or NULL */
    uint32_t port;
    uint64_t offset;        /* hiveport_check(): file offset, or 0 */
};

/* Room for one more item in list: HIVEPORT_OK, or HIVEPORT_E_NOMEM with the list as it was. */
int hp_findings_grow(hiveport_findings *list);

/* Adds a finding whose text is made (text is taken over, also on failure).  For a per-control-set finding
 * the text is the detail that follows the control set's label, and an equal finding (same code, severity,
 * setting, key below the control set, value, port and detail) in another control set is merged into the
 * first instead of repeated.  limit: HP_FINDINGS_MAX applies.  HIVEPORT_OK or HIVEPORT_E_NOMEM. */
int hp_findings_add(hiveport_findings *list, const struct hp_finding_spec *spec, char *text, bool limit);

/* Names control set cs for a per-control-set message, e.g. "ControlSet001 (Current)". */
typedef void hp_findings_label_fn(const void *ctx, uint32_t cs, char *out, size_t out_len);

/* Adds "findings-truncated" when findings were dropped, builds the messages of per-control-set findings
 * ("In <label> and <label>, <detail>.") and sorts by control set, then severity.  HIVEPORT_OK or NOMEM. */
int hp_findings_finish(hiveport_findings *list, hp_findings_label_fn *label, const void *ctx);

#endif
