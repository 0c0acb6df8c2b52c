/* audit.h: what lib/audit*.c share to build hiveport_audit()'s findings.  Not for applications. */
#ifndef HIVEPORT_AUDIT_H
#define HIVEPORT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ports.h"
#include "rpcrange.h"

/* ---- Limits against hostile input ---- */
#define HP_AUDIT_BUDGET 200000ul   /* key and value names one audit may read (a real hive needs a few thousand) */
#define HP_AUDIT_DATA_MAX 4096     /* bytes of a port value's data worth reading */
#define HP_AUDIT_RPC_DATA_MAX 65536 /* bytes of the Ports list worth reading */
#define HP_AUDIT_NORM_MAX 128       /* bytes of a normalised name kept for comparison */
/* Longer key or value names are never taken for a setting or a near miss of one (Windows' own limit for key
 * names; a misspelling of a 30-character value name is not 256 bytes long), which also bounds messages. */
#define HP_AUDIT_NAME_MAX HP_NAME_MAX

/* One audit run. */
struct hp_audit {
    hiveport *h;             /* the SYSTEM hive; every failure is reported on it */
    hiveport *software;      /* the SOFTWARE hive, or NULL */
    hiveport_findings *list;
    unsigned long budget;    /* names left to read (HP_AUDIT_BUDGET) */

    /* Select, indexed by HIVEPORT_SELECT_*. */
    bool select_key;         /* the Select key exists */
    bool select_ok[4];       /* the value is a 4-byte REG_DWORD */
    uint32_t select[4];      /* its number when select_ok */
    uint32_t boot;           /* Select\Default when it names an existing control set, else 0 */

    uint32_t sets[HP_CONTROLSET_MAX]; /* every ControlSetNNN present, ascending */
    size_t nsets;

    /* The RPC port restriction of the SOFTWARE hive, when one is configured and valid. */
    bool rpc_active;
    bool rpc_available;      /* PortsInternetAvailable Y: Ports lists the ports dynamic RPC may use */
    struct hp_rpc_range *rpc_ranges;
    size_t rpc_nranges;
    char *rpc_text;          /* Ports as a short text for messages, e.g. "5000-5100, 5984" */

    /* A scoped audit (the preflight's): NULL for the whole audit, else the service keys planned changes
     * write to; see hp_audit_scope. */
    const struct hp_audit_scope *scope;
};

/* ---- audit_read.c ---- */
/* "Current", "Default", "Failed", "LastKnownGood", indexed by HIVEPORT_SELECT_*. */
extern const char *const hp_audit_select_names[4];
/* Adds a finding (hp_findings_add(): per-control-set findings merge; the label is "ControlSet001 (Current,
 * Default: the one Windows boots)").  Returns HIVEPORT_OK or HIVEPORT_E_NOMEM (on a->h). */
int hp_audit_add(struct hp_audit *a, const struct hp_finding_spec *spec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds "findings-truncated" when findings were dropped, builds the messages and sorts the list. */
int hp_audit_finish(struct hp_audit *a);
/* What a scoped audit reads under each Services key: the subkeys whose names are a catalog service's (the
 * keys Windows reads ports from) and these services (the first component of each planned change's key).
 * Every finding it makes is one the whole audit makes too; what it leaves out are the findings about other
 * misspelt service keys, which depend on nothing but those keys, so that a change that does not write to
 * them cannot alter them.  Its cost is set by the plan, not by the number of services. */
struct hp_audit_scope {
    const char *const *services;
    size_t count;
};
/* hiveport_audit(), with the whole-hive structural check (the hive-damaged finding) only when structural,
 * reading only what scope names when scope is not NULL. */
int hp_audit_run(hiveport *h, hiveport *software, bool structural, const struct hp_audit_scope *scope,
                 hiveport_findings **out);
/* Takes n names from the budget; HIVEPORT_E_CORRUPT (on a->h) once it is spent. */
int hp_audit_spend(struct hp_audit *a, size_t n);
/* Keys and values are read through lib/nav.c (the file as the handle sees it, uncommitted edits included).
 * These wrap it for the audit: each name listed is taken from the budget, and a failure on hive (which may
 * be the SOFTWARE handle) is reported on a->h.  Lists and names are freed with free(). */
int hp_audit_relay(struct hp_audit *a, hiveport *hive, int rc);
int hp_audit_children(struct hp_audit *a, hiveport *hive, hive_node_h node, hive_node_h **list, size_t *count);
int hp_audit_values(struct hp_audit *a, hiveport *hive, hive_node_h node, hive_value_h **list, size_t *count);
char *hp_audit_key_name(struct hp_audit *a, hiveport *hive, hive_node_h node);     /* NULL: failed */
char *hp_audit_value_name(struct hp_audit *a, hiveport *hive, hive_value_h value); /* NULL: failed */
/* The child of node named name (case-insensitive, as Windows compares), or *found = 0.  *as_found gets the
 * child's own spelling when as_found is not NULL. */
int hp_audit_child(struct hp_audit *a, hiveport *hive, hive_node_h node, const char *name, hive_node_h *found,
                   char **as_found);
/* The value named name in node (case-insensitive), or *found = 0; *as_found as for hp_audit_child(). */
int hp_audit_value(struct hp_audit *a, hiveport *hive, hive_node_h node, const char *name, hive_value_h *found,
                   char **as_found);
/* A value's type and length and, when it is 1 to max bytes long, its data (*data NULL otherwise). */
int hp_audit_read(struct hp_audit *a, hiveport *hive, hive_value_h value, const char *where, size_t max,
                  uint32_t *type, char **data, size_t *len);
/* The Select values naming control set cs, e.g. "Current, Default", or "" (into out). */
void hp_audit_roles(const struct hp_audit *a, uint32_t cs, char *out, size_t out_len);
/* The 32-bit little-endian number at data. */
uint32_t hp_audit_le32(const char *data);
/* Copies name into out (out_len > 0) lower-cased with everything but ASCII letters and digits removed, so
 * that "TCP\IP  port " and "TCP/IP Port" compare equal. */
void hp_audit_normalize(const char *name, char *out, size_t out_len);
/* The service a setting's key (relative to Services) names, its first component (at most HP_NAME_MAX
 * bytes), into service; returns the rest of the key after its backslash, "" when there is none. */
const char *hp_audit_service_of(const char *key, char service[HP_NAME_MAX + 1]);
/* A printable rendering of a value's data, for messages ("5001", "\"5001\"", "8 bytes"). */
void hp_audit_describe_data(uint32_t type, const char *data, size_t len, char *out, size_t out_len);

/* ---- audit_values.c: the port settings of every control set ---- */
int hp_audit_settings(struct hp_audit *a);

/* ---- audit_rpc.c: the RPC runtime's port restriction in the SOFTWARE hive ---- */
/* Reads SOFTWARE\Microsoft\Rpc\Internet into a->rpc_*, adding findings about the configuration itself. */
int hp_audit_rpc_load(struct hp_audit *a);
void hp_audit_rpc_free(struct hp_audit *a);
/* Whether a static port collides with dynamic RPC under the loaded restriction. */
bool hp_audit_rpc_collides(const struct hp_audit *a, uint32_t port);

#endif
