/* audit_values.c: the port settings of every control set: types, ports, near misses, conflicts, divergence.
 *
 * Per control set, only the keys that can hold a catalog setting are read:
 *
 *   ControlSetNNN\Services\<service>            every subkey of Services whose name normalises to a catalog
 *   ControlSetNNN\Services\<service>\<subkey>   service (MSExchangeSA, NTDS, ...), its values, and the values
 *                                               of its direct subkeys
 *
 * A value there whose name normalises (case, slashes, blanks) to a setting's value name is either the value
 * Windows reads (the setting's own key and exact name), a misspelling (the setting's key, another spelling),
 * or in the wrong key (any other key of that service).  Catalog keys are at most two deep (Service\Parameters).
 * A scoped audit (the preflight's, hp_audit_scope) looks up the service keys it reads by name instead of
 * listing every subkey of Services.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"

/* A catalog setting, split for scanning. */
struct cat_entry {
    const hiveport_setting *s;
    char service[HP_NAME_MAX + 1]; /* first component of s->key */
    const char *sub;               /* the rest of s->key, "" when none */
    char norm_service[HP_AUDIT_NORM_MAX];
    char norm_name[HP_AUDIT_NORM_MAX];
    uint32_t recommended_min; /* below this (and above 1023): port-below-recommended */
    const char *recommended_why;
    bool exchange;            /* an Exchange setting: 80 and 443 are taken on front ends */
    bool exchange2010;
};

/* One setting in one control set, as Windows reads it. */
struct effective {
    bool seen;        /* the exactly named value was met; a duplicate name is ignored */
    bool set;         /* Windows reads a port from it: right key, name, type and data */
    uint32_t port;
    char *key;        /* as found, from the root */
    char *key_rel;    /* as found, below ControlSetNNN */
    char *value_name; /* as found */
};

/* One control set being scanned. */
struct scan {
    struct hp_audit *a;
    const struct cat_entry *cat;
    size_t ncat;
    uint32_t cs;
    char *cs_name;        /* as found */
    char *services_name;  /* as found */
    struct effective *eff; /* [ncat] */
    bool *family;          /* [ncat]: which settings the service key being looked at may hold */
    uint32_t legacy_high; /* top of the legacy dynamic range: 5000, or MaxUserPort */
};

/* A key being scanned: its path as found, from the root and below ControlSetNNN; shown is the part below
 * Services, which messages use (the control set is in the label). */
struct place {
    char *key;
    char *key_rel;
    const char *shown;
    const char *service; /* its first two components as found */
    const char *sub;     /* NULL for the service key itself */
};

static const struct {
    uint32_t port;
    const char *what;
} reserved_ports[] = {
    {53, "DNS"},
    {88, "Kerberos"},
    {123, "time synchronisation (NTP)"},
    {135, "the RPC endpoint mapper"},
    {137, "the NetBIOS name service"},
    {138, "the NetBIOS datagram service"},
    {139, "the NetBIOS session service"},
    {389, "LDAP"},
    {445, "SMB"},
    {464, "Kerberos password changes"},
    {636, "LDAP over SSL"},
    {3268, "the global catalog (LDAP)"},
    {3269, "the global catalog (LDAP over SSL)"},
};

static const char *reserved_use(const struct cat_entry *c, uint32_t port)
{
    for (size_t i = 0; i < sizeof reserved_ports / sizeof reserved_ports[0]; i++)
        if (reserved_ports[i].port == port)
            return reserved_ports[i].what;
    if (c->exchange && port == 80)
        return "HTTP (IIS on Exchange front ends)";
    if (c->exchange && port == 443)
        return "HTTPS (IIS on Exchange front ends)";
    return NULL;
}

static int build_catalog(struct hp_audit *a, struct cat_entry **out, size_t *count)
{
    size_t n = hiveport_catalog_count();
    struct cat_entry *cat = hp_calloc(n, sizeof *cat);
    if (cat == NULL)
        return hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(a->h));
    for (size_t i = 0; i < n; i++) {
        struct cat_entry *c = &cat[i];
        c->s = hiveport_catalog_at(i);
        c->sub = hp_audit_service_of(c->s->key, c->service);
        hp_audit_normalize(c->service, c->norm_service, sizeof c->norm_service);
        hp_audit_normalize(c->s->value_name, c->norm_name, sizeof c->norm_name);
        c->exchange = strncmp(c->s->id, "exchange", 8) == 0;
        c->exchange2010 = strncmp(c->s->id, "exchange2010", 12) == 0;
        if (c->exchange) {
            c->recommended_min = 5000;
            c->recommended_why = "KB 270836 recommends 5000-65535 and the Exchange analyzer warns below 5000";
        } else if (strcmp(c->s->id, "ntds") == 0) {
            c->recommended_min = 1025;
            c->recommended_why = "KB 270836 recommends a port above 1024";
        }
    }
    *out = cat;
    *count = n;
    return HIVEPORT_OK;
}

/* The port a value was meant to hold, whatever its type, when that can be told. */
static bool intended_port(uint32_t type, const char *data, size_t len, uint32_t *port)
{
    if (data == NULL)
        return false;
    const unsigned char *p = (const unsigned char *)data;
    switch (type) {
    case hive_t_REG_SZ:
    case hive_t_REG_EXPAND_SZ:
        return hp_sz_to_number(data, len, port) == 0;
    case hive_t_REG_DWORD:
    case hive_t_REG_BINARY:
    case hive_t_REG_QWORD:
        if (len == 4 && type != hive_t_REG_QWORD) {
            *port = hp_audit_le32(data);
            return true;
        }
        if (len == 8 && type != hive_t_REG_DWORD && hp_audit_le32(data + 4) == 0) {
            *port = hp_audit_le32(data);
            return true;
        }
        return false;
    case hive_t_REG_DWORD_BIG_ENDIAN:
        if (len != 4)
            return false;
        *port = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
        return true;
    default:
        return false;
    }
}

/* The port in data as Windows reads it for setting s (right type assumed), or false. */
static bool read_port(const hiveport_setting *s, const char *data, size_t len, uint32_t *port)
{
    if (data == NULL)
        return false;
    if (s->type == HIVEPORT_REG_DWORD) {
        if (len != 4)
            return false;
        *port = hp_audit_le32(data);
        return true;
    }
    return hp_sz_to_number(data, len, port) == 0;
}

/* ---- The value Windows reads ---- */

static int real_value(struct scan *sc, size_t i, hive_value_h value, const char *name, const struct place *pl)
{
    struct effective *eff = &sc->eff[i];
    const struct cat_entry *c = &sc->cat[i];
    if (eff->seen)
        return HIVEPORT_OK;
    eff->seen = true;

    uint32_t type;
    size_t len;
    char *data = NULL, shown[64];
    int rc = hp_audit_read(sc->a, sc->a->h, value, pl->key, HP_AUDIT_DATA_MAX, &type, &data, &len);
    if (rc != HIVEPORT_OK)
        return rc;
    hp_audit_describe_data(type, data, len, shown, sizeof shown);
    struct hp_finding_spec spec = {.severity = HP_ERROR, .controlset = sc->cs, .setting_id = c->s->id,
                                   .key = pl->key, .key_rel = pl->key_rel, .value_name = name};
    uint32_t port = 0;
    if (type != c->s->type) {
        spec.code = "wrong-type";
        spec.port = intended_port(type, data, len, &port) ? port : 0;
        rc = hp_audit_add(sc->a, &spec, "%s \"%s\" is %s %s, but Windows reads %s only as a %s: the value is ignored",
                          pl->shown, name, hp_type_name(type), shown, c->s->id, hp_type_name(c->s->type));
    } else if (c->s->type == HIVEPORT_REG_DWORD && len != 4) {
        spec.code = "bad-length";
        rc = hp_audit_add(sc->a, &spec, "%s \"%s\" is a REG_DWORD of %zu byte%s, not 4: Windows ignores it",
                          pl->shown, name, len, len == 1 ? "" : "s");
    } else if (!read_port(c->s, data, len, &port)) {
        spec.code = "bad-data";
        rc = hp_audit_add(sc->a, &spec, "%s \"%s\" is the REG_SZ %s, not a decimal port number: Windows ignores it",
                          pl->shown, name, shown);
    } else {
        eff->port = port;
        eff->key = hp_strdup(pl->key);
        eff->key_rel = hp_strdup(pl->key_rel);
        eff->value_name = hp_strdup(name);
        eff->set = true;
        if (eff->key == NULL || eff->key_rel == NULL || eff->value_name == NULL)
            rc = hp_error(sc->a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(sc->a->h));
    }
    free(data);
    return rc;
}

/* ---- Near misses: another spelling, another key ---- */

static int near_miss(struct scan *sc, size_t i, hive_value_h value, const char *name, const struct place *pl,
                     bool right_key)
{
    const struct cat_entry *c = &sc->cat[i];
    uint32_t type, port = 0;
    size_t len;
    char *data = NULL, shown[80] = "";
    int rc = hp_audit_read(sc->a, sc->a->h, value, pl->key, HP_AUDIT_DATA_MAX, &type, &data, &len);
    if (rc != HIVEPORT_OK)
        return rc;
    bool known = type == c->s->type ? read_port(c->s, data, len, &port) : intended_port(type, data, len, &port);
    if (known && type == c->s->type)
        snprintf(shown, sizeof shown, " = %u", port);
    else if (known)
        snprintf(shown, sizeof shown, " = %u (as %s)", port, hp_type_name(type));
    struct hp_finding_spec spec = {.severity = HP_ERROR, .controlset = sc->cs, .setting_id = c->s->id,
                                   .key = pl->key, .key_rel = pl->key_rel, .value_name = name,
                                   .port = known ? port : 0};
    if (right_key) {
        spec.code = "misspelled-name";
        rc = hp_audit_add(sc->a, &spec,
                          "%s has \"%s\"%s, a misspelling Windows does not read: %s is read only from \"%s\"",
                          pl->shown, name, shown, c->s->id, c->s->value_name);
    } else {
        spec.code = "wrong-key";
        rc = hp_audit_add(sc->a, &spec,
                          "%s has \"%s\"%s, but Windows reads %s only from %s \"%s\": the value is ignored",
                          pl->shown, name, shown, c->s->id, c->s->key, c->s->value_name);
    }
    free(data);
    return rc;
}

/* Checks every value of one key of a catalog service against the settings of that service. */
static int scan_key(struct scan *sc, hive_node_h node, const struct place *pl)
{
    struct hp_audit *a = sc->a;
    const bool *family = sc->family;
    hive_value_h *values;
    size_t n;
    int rc = hp_audit_values(a, a->h, node, &values, &n);
    for (size_t v = 0; rc == HIVEPORT_OK && v < n; v++) {
        char *name = hp_audit_value_name(a, a->h, values[v]);
        if (name == NULL) {
            rc = a->h->status;
            break;
        }
        char norm[HP_AUDIT_NORM_MAX] = "";
        if (strlen(name) <= HP_AUDIT_NAME_MAX)
            hp_audit_normalize(name, norm, sizeof norm);
        for (size_t i = 0; rc == HIVEPORT_OK && norm[0] != '\0' && i < sc->ncat; i++) {
            const struct cat_entry *c = &sc->cat[i];
            if (!family[i] || strcmp(norm, c->norm_name) != 0)
                continue;
            bool right_key = strcasecmp(pl->service, c->service) == 0 &&
                             (pl->sub == NULL ? c->sub[0] == '\0' : strcasecmp(pl->sub, c->sub) == 0);
            if (right_key && strcasecmp(name, c->s->value_name) == 0)
                rc = real_value(sc, i, values[v], name, pl);
            else
                rc = near_miss(sc, i, values[v], name, pl, right_key);
        }
        free(name);
    }
    free(values);
    return rc;
}

static int place_init(struct scan *sc, struct place *pl, const char *service, const char *sub)
{
    const char *sep = sub != NULL ? "\\" : "", *tail = sub != NULL ? sub : "";
    pl->service = service;
    pl->sub = sub;
    pl->key = hp_format("%s\\%s\\%s%s%s", sc->cs_name, sc->services_name, service, sep, tail);
    pl->key_rel = hp_format("%s\\%s%s%s", sc->services_name, service, sep, tail);
    if (pl->key == NULL || pl->key_rel == NULL)
        return hp_error(sc->a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(sc->a->h));
    pl->shown = pl->key_rel + strlen(sc->services_name) + 1;
    return HIVEPORT_OK;
}

static void place_free(struct place *pl)
{
    hp_free(pl->key);
    hp_free(pl->key_rel);
}

/* A key under Services that normalises to one or more catalog services: its values and its subkeys'. */
static int scan_service(struct scan *sc, hive_node_h node, const char *service)
{
    struct hp_audit *a = sc->a;
    struct place pl = {0};
    hive_node_h *subkeys = NULL;
    size_t n = 0;
    int rc = place_init(sc, &pl, service, NULL);
    if (rc == HIVEPORT_OK)
        rc = scan_key(sc, node, &pl);
    place_free(&pl);
    if (rc == HIVEPORT_OK)
        rc = hp_audit_children(a, a->h, node, &subkeys, &n);
    for (size_t k = 0; rc == HIVEPORT_OK && k < n; k++) {
        char *sub = hp_audit_key_name(a, a->h, subkeys[k]);
        if (sub == NULL) {
            rc = a->h->status;
            break;
        }
        struct place spl = {0};
        if (strlen(sub) <= HP_AUDIT_NAME_MAX)
            rc = place_init(sc, &spl, service, sub);
        if (rc == HIVEPORT_OK && spl.key != NULL)
            rc = scan_key(sc, subkeys[k], &spl);
        place_free(&spl);
        free(sub);
    }
    free(subkeys);
    return rc;
}

/* Services\Tcpip\Parameters\MaxUserPort (REG_DWORD 5000-65534) raises the top of the legacy dynamic range. */
static int read_max_user_port(struct scan *sc, hive_node_h services)
{
    struct hp_audit *a = sc->a;
    hive_node_h tcpip, params;
    hive_value_h value;
    int rc = hp_audit_child(a, a->h, services, "Tcpip", &tcpip, NULL);
    if (rc != HIVEPORT_OK || tcpip == 0)
        return rc;
    rc = hp_audit_child(a, a->h, tcpip, "Parameters", &params, NULL);
    if (rc != HIVEPORT_OK || params == 0)
        return rc;
    rc = hp_audit_value(a, a->h, params, "MaxUserPort", &value, NULL);
    if (rc != HIVEPORT_OK || value == 0)
        return rc;
    uint32_t type;
    size_t len;
    char *data = NULL;
    rc = hp_audit_read(a, a->h, value, "Tcpip\\Parameters", 4, &type, &data, &len);
    if (rc == HIVEPORT_OK && type == hive_t_REG_DWORD && len == 4 && data != NULL) {
        uint32_t max = hp_audit_le32(data);
        if (max >= 5000 && max <= 65534)
            sc->legacy_high = max;
    }
    free(data);
    return rc;
}

/* ---- Ports: one range finding per value, the most telling ---- */

static int check_port(struct scan *sc, size_t i)
{
    const struct cat_entry *c = &sc->cat[i];
    const struct effective *e = &sc->eff[i];
    uint32_t p = e->port;
    bool zero_dynamic = (c->s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC) != 0;
    struct hp_finding_spec spec = {.controlset = sc->cs, .setting_id = c->s->id, .key = e->key,
                                   .key_rel = e->key_rel, .value_name = e->value_name, .port = p};
    const char *shown = e->key_rel + strlen(sc->services_name) + 1, *name = e->value_name, *use;
    if (p == 0 && zero_dynamic)
        return HIVEPORT_OK; /* 0 = dynamic */
    if (p == 0 || p > 65535) {
        spec.severity = HP_ERROR;
        spec.code = "port-invalid";
        return hp_audit_add(sc->a, &spec, "%s \"%s\" is %u, which is not a TCP port (%s)", shown, name, p,
                            zero_dynamic ? "1-65535, or 0 for a dynamic port" : "1-65535");
    }
    if ((use = reserved_use(c, p)) != NULL) {
        spec.severity = HP_ERROR;
        spec.code = "port-reserved";
        return hp_audit_add(sc->a, &spec,
                            "%s \"%s\" is %u, a port Windows itself uses for %s, which KB 270836 says to avoid",
                            shown, name, p, use);
    }
    if (p < 1024) {
        spec.severity = HP_WARNING;
        spec.code = "port-privileged";
        return hp_audit_add(sc->a, &spec,
                            "%s \"%s\" is %u, below 1024 among the well-known ports (KB 270836 recommends "
                            "5000-65535)",
                            shown, name, p);
    }
    if (p < c->recommended_min) {
        spec.severity = HP_WARNING;
        spec.code = "port-below-recommended";
        return hp_audit_add(sc->a, &spec, "%s \"%s\" is %u, below %u: %s", shown, name, p, c->recommended_min,
                            c->recommended_why);
    }
    if (c->exchange2010 && p >= 59531 && p <= 60554) {
        spec.severity = HP_WARNING;
        spec.code = "port-in-exchange2010-range";
        return hp_audit_add(sc->a, &spec,
                            "%s \"%s\" is %u, inside 59531-60554, which the Exchange analyzer warns against for "
                            "Exchange 2010",
                            shown, name, p);
    }
    spec.severity = HP_INFO;
    if (p >= 49152) {
        spec.code = "port-in-dynamic-range";
        return hp_audit_add(sc->a, &spec,
                            "%s \"%s\" is %u, inside 49152-65535, the dynamic port range of Windows Vista, Server "
                            "2008 and later (KB 929851), where another program may take it before the service "
                            "starts; whether this matters depends on the Windows version",
                            shown, name, p);
    }
    if (p >= 1025 && p <= sc->legacy_high) {
        char range[64];
        if (sc->legacy_high == 5000)
            snprintf(range, sizeof range, "1025-5000");
        else
            snprintf(range, sizeof range, "1025-%u (raised by Tcpip\\Parameters\\MaxUserPort)", sc->legacy_high);
        spec.code = "port-in-legacy-dynamic-range";
        return hp_audit_add(sc->a, &spec,
                            "%s \"%s\" is %u, inside %s, the dynamic port range of Windows 2000 and Server 2003, "
                            "where another program may take it before the service starts; whether this matters "
                            "depends on the Windows version",
                            shown, name, p, range);
    }
    return HIVEPORT_OK;
}

/* A static port that is a real TCP port (not 0 = dynamic, not out of range). */
static bool static_port(const struct effective *e)
{
    return e->set && e->port >= 1 && e->port <= 65535;
}

static int check_conflicts(struct scan *sc)
{
    for (size_t i = 0; i < sc->ncat; i++) {
        const struct effective *e = &sc->eff[i];
        if (!static_port(e))
            continue;
        size_t j = 0;
        while (j < i && !(static_port(&sc->eff[j]) && sc->eff[j].port == e->port))
            j++;
        if (j == i)
            continue;
        const char *id = sc->cat[i].s->id, *other = sc->cat[j].s->id, *why = "KB 270836";
        if ((strcmp(id, "netlogon") == 0 && strcmp(other, "ntds") == 0) ||
            (strcmp(id, "ntds") == 0 && strcmp(other, "netlogon") == 0))
            why = "KB 224196: Netlogon and NTDS must differ, or Netlogon logs event 5809";
        else if ((strcmp(id, "ntfrs") == 0 && strcmp(other, "ntds") == 0) ||
                 (strcmp(id, "ntds") == 0 && strcmp(other, "ntfrs") == 0))
            why = "KB 319553: NTFRS and NTDS must differ";
        size_t skip = strlen(sc->services_name) + 1;
        struct hp_finding_spec spec = {.severity = HP_ERROR, .code = "port-conflict", .controlset = sc->cs,
                                       .setting_id = id, .key = e->key, .key_rel = e->key_rel,
                                       .value_name = e->value_name, .port = e->port};
        int rc = hp_audit_add(sc->a, &spec,
                              "%s \"%s\" (%s) is %u, the same port as %s \"%s\" (%s): two services cannot "
                              "listen on one port (%s)",
                              e->key_rel + skip, e->value_name, id, e->port, sc->eff[j].key_rel + skip,
                              sc->eff[j].value_name, other, why);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    return HIVEPORT_OK;
}

static int check_rpc(struct scan *sc)
{
    struct hp_audit *a = sc->a;
    if (!a->rpc_active)
        return HIVEPORT_OK;
    for (size_t i = 0; i < sc->ncat; i++) {
        const struct effective *e = &sc->eff[i];
        if (!static_port(e) || !hp_audit_rpc_collides(a, e->port))
            continue;
        struct hp_finding_spec spec = {.severity = HP_ERROR, .code = "port-in-rpc-range", .controlset = sc->cs,
                                       .setting_id = sc->cat[i].s->id, .key = e->key, .key_rel = e->key_rel,
                                       .value_name = e->value_name, .port = e->port};
        const char *shown = e->key_rel + strlen(sc->services_name) + 1;
        int rc;
        if (a->rpc_available)
            rc = hp_audit_add(a, &spec,
                              "%s \"%s\" is %u, inside the ports the RPC runtime hands out dynamically (SOFTWARE "
                              "%s: Ports %s, PortsInternetAvailable Y), so another RPC server may take it first "
                              "(KB 154596)",
                              shown, e->value_name, e->port, HP_RPC_KEY, a->rpc_text);
        else
            rc = hp_audit_add(a, &spec,
                              "%s \"%s\" is %u, outside the ports excluded from dynamic RPC (SOFTWARE %s: Ports "
                              "%s, PortsInternetAvailable N), so the RPC runtime may hand it to another RPC server "
                              "first (KB 154596)",
                              shown, e->value_name, e->port, HP_RPC_KEY, a->rpc_text);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    return HIVEPORT_OK;
}

/* ---- One control set ---- */

/* Orders names as a key's subkey list does (upper-cased; ASCII, as service names are). */
static int by_upper_name(const void *pa, const void *pb)
{
    const unsigned char *a = *(const unsigned char *const *)pa, *b = *(const unsigned char *const *)pb;
    for (;; a++, b++) {
        int ca = *a >= 'a' && *a <= 'z' ? *a - 'a' + 'A' : *a, cb = *b >= 'a' && *b <= 'z' ? *b - 'a' + 'A' : *b;
        if (ca != cb || ca == '\0')
            return ca - cb;
    }
}

/* The subkeys of Services a scoped audit reads (hp_audit_scope), in the order the whole audit meets them. */
static int scoped_services(struct scan *sc, hive_node_h services, hive_node_h **out, size_t *count)
{
    struct hp_audit *a = sc->a;
    size_t nnames = sc->ncat + a->scope->count, n = 0;
    const char **names = hp_calloc(nnames, sizeof *names);
    hive_node_h *nodes = hp_calloc(nnames, sizeof *nodes);
    int rc = names == NULL || nodes == NULL
                 ? hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(a->h))
                 : HIVEPORT_OK;
    for (size_t i = 0; rc == HIVEPORT_OK && i < nnames; i++)
        names[i] = i < sc->ncat ? sc->cat[i].service : a->scope->services[i - sc->ncat];
    if (rc == HIVEPORT_OK)
        qsort(names, nnames, sizeof *names, by_upper_name);
    for (size_t i = 0; rc == HIVEPORT_OK && i < nnames; i++) {
        hive_node_h found;
        if (i > 0 && by_upper_name(&names[i - 1], &names[i]) == 0)
            continue;
        rc = hp_audit_child(a, a->h, services, names[i], &found, NULL);
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = nodes[k] == found;
        if (rc == HIVEPORT_OK && found != 0 && !seen)
            nodes[n++] = found;
    }
    hp_free(names);
    if (rc != HIVEPORT_OK) {
        hp_free(nodes);
        return rc;
    }
    *out = nodes;
    *count = n;
    return HIVEPORT_OK;
}

static int scan_controlset(struct hp_audit *a, const struct cat_entry *cat, size_t ncat, uint32_t cs,
                           struct effective *eff, bool *family)
{
    struct scan sc = {.a = a, .cat = cat, .ncat = ncat, .cs = cs, .eff = eff, .family = family,
                      .legacy_high = 5000};
    char name[32];
    snprintf(name, sizeof name, "ControlSet%03u", cs);
    hive_node_h node, services;
    hive_node_h *children = NULL;
    size_t n = 0;
    int rc = hp_audit_child(a, a->h, hp_nav_root(a->h), name, &node, &sc.cs_name);
    if (rc != HIVEPORT_OK || node == 0) /* listed a moment ago: only a damaged hive loses it */
        goto out;
    rc = hp_audit_child(a, a->h, node, "Services", &services, &sc.services_name);
    if (rc != HIVEPORT_OK || services == 0)
        goto out;
    if ((rc = read_max_user_port(&sc, services)) != HIVEPORT_OK)
        goto out;
    rc = a->scope != NULL ? scoped_services(&sc, services, &children, &n)
                          : hp_audit_children(a, a->h, services, &children, &n);
    for (size_t k = 0; rc == HIVEPORT_OK && k < n; k++) {
        if (k + HP_NAV_PREFETCH_AHEAD < n)
            hp_nav_prefetch_key(a->h, children[k + HP_NAV_PREFETCH_AHEAD]);
        char *service = hp_audit_key_name(a, a->h, children[k]);
        if (service == NULL) {
            rc = a->h->status;
            break;
        }
        char norm[HP_AUDIT_NORM_MAX] = "";
        if (strlen(service) <= HP_AUDIT_NAME_MAX)
            hp_audit_normalize(service, norm, sizeof norm);
        bool any = false;
        for (size_t i = 0; i < ncat; i++)
            any |= family[i] = strcmp(norm, cat[i].norm_service) == 0;
        if (any)
            rc = scan_service(&sc, children[k], service);
        free(service);
    }
    for (size_t i = 0; rc == HIVEPORT_OK && i < ncat; i++)
        if (eff[i].set)
            rc = check_port(&sc, i);
    if (rc == HIVEPORT_OK)
        rc = check_conflicts(&sc);
    if (rc == HIVEPORT_OK)
        rc = check_rpc(&sc);
out:
    free(children);
    free(sc.cs_name);
    free(sc.services_name);
    return rc;
}

/* ---- Across control sets ---- */

/* Settings that another control set has and the one Windows boots lacks. */
static int check_not_in_boot(struct hp_audit *a, const struct cat_entry *cat, size_t ncat, struct effective *all,
                             size_t boot_index)
{
    const struct effective *boot = &all[boot_index * ncat];
    for (size_t k = 0; k < a->nsets; k++) {
        if (k == boot_index)
            continue;
        for (size_t i = 0; i < ncat; i++) {
            const struct effective *e = &all[k * ncat + i];
            if (!e->set || boot[i].set)
                continue;
            const char *shown = strchr(e->key_rel, '\\');
            struct hp_finding_spec spec = {.severity = HP_WARNING, .code = "not-in-boot-controlset",
                                           .controlset = a->sets[k], .setting_id = cat[i].s->id, .key = e->key,
                                           .key_rel = e->key_rel, .value_name = e->value_name, .port = e->port};
            int rc = hp_audit_add(a, &spec,
                                  "%s \"%s\" sets %s to %u, but ControlSet%03u, the control set Windows boots, "
                                  "does not set it: the port has no effect unless this control set is booted",
                                  shown != NULL ? shown + 1 : e->key_rel, e->value_name, cat[i].s->id, e->port,
                                  a->boot);
            if (rc != HIVEPORT_OK)
                return rc;
        }
    }
    return HIVEPORT_OK;
}

static size_t index_of(const struct hp_audit *a, uint32_t cs)
{
    for (size_t k = 0; k < a->nsets; k++)
        if (a->sets[k] == cs)
            return k;
    return a->nsets;
}

/* Appends "5001 in ControlSet002 (LastKnownGood)" or "not set in ..." to out. */
static void describe_in(const struct hp_audit *a, const struct effective *e, uint32_t cs, char *out,
                        size_t out_len)
{
    char roles[64];
    hp_audit_roles(a, cs, roles, sizeof roles);
    size_t used = strlen(out);
    if (e->set)
        snprintf(out + used, out_len - used, "%s%u in ControlSet%03u (%s)", used ? ", " : "", e->port, cs, roles);
    else
        snprintf(out + used, out_len - used, "%snot set in ControlSet%03u (%s)", used ? ", " : "", cs, roles);
}

/* A setting whose port differs between the control sets that Current, Default and LastKnownGood name. */
static int check_divergence(struct hp_audit *a, const struct cat_entry *cat, size_t ncat, struct effective *all,
                            size_t boot_index)
{
    size_t ci = a->select_ok[HIVEPORT_SELECT_CURRENT] ? index_of(a, a->select[HIVEPORT_SELECT_CURRENT]) : a->nsets;
    size_t li = a->select_ok[HIVEPORT_SELECT_LASTKNOWNGOOD] ? index_of(a, a->select[HIVEPORT_SELECT_LASTKNOWNGOOD])
                                                            : a->nsets;
    if (ci == boot_index)
        ci = a->nsets;
    if (li == boot_index || li == ci)
        li = a->nsets;
    for (size_t i = 0; i < ncat; i++) {
        const struct effective *d = &all[boot_index * ncat + i];
        if (!d->set)
            continue; /* not-in-boot-controlset covers the control sets that have it */
        const struct effective *c = ci < a->nsets ? &all[ci * ncat + i] : NULL;
        const struct effective *l = li < a->nsets ? &all[li * ncat + i] : NULL;
        bool c_differs = c != NULL && (!c->set || c->port != d->port);
        bool l_differs = l != NULL && (!l->set || l->port != d->port);
        if (!c_differs && !l_differs)
            continue;
        char text[512] = "", lkg[64] = "";
        describe_in(a, d, a->boot, text, sizeof text);
        if (c != NULL)
            describe_in(a, c, a->sets[ci], text, sizeof text);
        if (l != NULL)
            describe_in(a, l, a->sets[li], text, sizeof text);
        if (l_differs && l->set)
            snprintf(lkg, sizeof lkg, "a Last Known Good boot would use %u instead", l->port);
        else if (l_differs)
            snprintf(lkg, sizeof lkg, "a Last Known Good boot would leave it dynamic");
        struct hp_finding_spec spec = {.severity = c_differs ? HP_WARNING : HP_INFO,
                                       .code = "controlset-divergence", .setting_id = cat[i].s->id,
                                       .port = d->port};
        int rc = hp_audit_add(a, &spec, "The port of %s differs between the control sets Select names: %s; %s.",
                              cat[i].s->id, text,
                              c_differs ? "the next boot will not use the port the running system used" : lkg);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    return HIVEPORT_OK;
}

int hp_audit_settings(struct hp_audit *a)
{
    struct cat_entry *cat = NULL;
    struct effective *all = NULL;
    bool *family = NULL;
    size_t ncat = 0;
    int rc = build_catalog(a, &cat, &ncat);
    if (rc != HIVEPORT_OK)
        return rc;
    if (a->nsets > 0 && ncat > 0) {
        all = hp_calloc(a->nsets * ncat, sizeof *all);
        family = hp_calloc(ncat, sizeof *family);
        if (all == NULL || family == NULL)
            rc = hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(a->h));
    }
    /* The control set Windows boots first, so that a finding it shares with others is filed under it. */
    size_t boot_index = a->boot != 0 ? index_of(a, a->boot) : a->nsets;
    if (rc == HIVEPORT_OK && boot_index < a->nsets)
        rc = scan_controlset(a, cat, ncat, a->boot, &all[boot_index * ncat], family);
    for (size_t k = 0; rc == HIVEPORT_OK && k < a->nsets && all != NULL; k++)
        if (k != boot_index)
            rc = scan_controlset(a, cat, ncat, a->sets[k], &all[k * ncat], family);
    if (rc == HIVEPORT_OK && boot_index < a->nsets && all != NULL)
        rc = check_not_in_boot(a, cat, ncat, all, boot_index);
    if (rc == HIVEPORT_OK && boot_index < a->nsets && all != NULL)
        rc = check_divergence(a, cat, ncat, all, boot_index);

    for (size_t k = 0; all != NULL && k < a->nsets * ncat; k++) {
        hp_free(all[k].key);
        hp_free(all[k].key_rel);
        hp_free(all[k].value_name);
    }
    hp_free(all);
    hp_free(family);
    hp_free(cat);
    return rc;
}
