/* rpc.c: the RPC runtime's dynamic port range in a SOFTWARE hive, read as Windows reads it and written
 * normalised (KB 154596).
 *
 *   SOFTWARE\Microsoft\Rpc\Internet               absent: no restriction (the default)
 *     Ports                   REG_MULTI_SZ  "5000-5100" NUL "5984" NUL NUL   (lib/rpcrange.c)
 *     PortsInternetAvailable  REG_SZ        "Y": Ports lists the ports dynamic RPC may use; "N": those it must not
 *     UseInternetPorts        REG_SZ        "Y" or "N"
 *
 * Once the key exists the RPC runtime needs all three values, each valid; anything else makes it treat the
 * whole configuration as invalid, and every RPC server that asks for a dynamic TCP port fails (error 87).
 * So reading reports every such problem, and writing refuses to leave one behind.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hive.h"
#include "rpcrange.h"

#define RPC_PARENT "Microsoft\\Rpc"
#define RPC_DATA_MAX 65536 /* bytes of a value worth reading: a Ports list of thousands of strings */

enum { V_PORTS, V_AVAILABLE, V_USE, V_COUNT };

static const char *const value_names[V_COUNT] = {HP_RPC_PORTS, HP_RPC_PORTS_AVAILABLE, HP_RPC_USE_INTERNET};

/* One of the three values as found. */
struct rpc_value {
    hive_value_h vk; /* 0: absent */
    uint32_t type;
    size_t len;
    char *data; /* read when vk and len <= RPC_DATA_MAX; free() */
};

/* The configuration as found. */
struct rpc_state {
    hive_node_h parent; /* Microsoft\Rpc, 0 when absent */
    hive_node_h key;    /* Microsoft\Rpc\Internet, 0 when absent */
    struct rpc_value v[V_COUNT];
};

static void state_free(struct rpc_state *st)
{
    for (int i = 0; i < V_COUNT; i++)
        free(st->v[i].data);
    memset(st, 0, sizeof *st);
}

/* Finds the key and reads the three values (through lib/hive/nav.c: the file, or the session's edited copy). */
static int state_load(hiveport *h, struct rpc_state *st)
{
    memset(st, 0, sizeof *st);
    int rc = hp_key_lookup(h, hp_nav_root(h), RPC_PARENT, &st->parent);
    if (rc == HIVEPORT_OK && st->parent != 0)
        rc = hp_nav_child(h, st->parent, "Internet", &st->key);
    for (int i = 0; rc == HIVEPORT_OK && st->key != 0 && i < V_COUNT; i++) {
        struct rpc_value *v = &st->v[i];
        if ((rc = hp_nav_value(h, st->key, value_names[i], &v->vk)) != HIVEPORT_OK || v->vk == 0)
            continue;
        if ((rc = hp_nav_value_type(h, v->vk, &v->type, &v->len)) != HIVEPORT_OK || v->len > RPC_DATA_MAX)
            continue;
        hive_type type;
        size_t len;
        errno = 0;
        v->data = hp_value_data(h, v->vk, &type, &len);
        if (v->data == NULL)
            rc = hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_CORRUPT,
                          "%s: " HP_RPC_KEY ": \"%s\" is unreadable: %s", hp_name(h), value_names[i],
                          strerror(errno ? errno : EINVAL));
        else
            v->len = len;
    }
    if (rc != HIVEPORT_OK)
        state_free(st);
    return rc;
}

/* The problem with Ports as Windows reads it, reported on h; or HIVEPORT_OK with the ranges (hp_free). */
static int check_ports(hiveport *h, const struct rpc_value *v, struct hp_rpc_range **ranges, size_t *n)
{
    *ranges = NULL;
    *n = 0;
    if (v->vk == 0)
        return hp_error(h, HIVEPORT_E_BAD_DATA,
                        "%s: " HP_RPC_KEY " has no \"Ports\": the RPC runtime treats the configuration as "
                        "invalid",
                        hp_name(h));
    if (v->type != hive_t_REG_MULTI_SZ)
        return hp_error(h, HIVEPORT_E_WRONG_TYPE,
                        "%s: " HP_RPC_KEY ": \"Ports\" is %s, not REG_MULTI_SZ: the RPC runtime treats the "
                        "configuration as invalid",
                        hp_name(h), hp_type_name(v->type));
    if (v->data == NULL)
        return hp_error(h, HIVEPORT_E_BAD_DATA, "%s: " HP_RPC_KEY ": \"Ports\" is %zu bytes long, far more than "
                        "a list of ports needs", hp_name(h), v->len);
    char why[160];
    int rc = hp_rpcrange_read(v->data, v->len, ranges, n, why, sizeof why);
    if (rc == HIVEPORT_E_NOMEM)
        return hp_error(h, rc, "%s: out of memory", hp_name(h));
    if (rc != HIVEPORT_OK)
        return hp_error(h, rc, "%s: " HP_RPC_KEY ": \"Ports\" is invalid: %s", hp_name(h), why);
    return HIVEPORT_OK;
}

/* The problem with a Y/N value as Windows reads it, reported on h; or HIVEPORT_OK with *yn 'Y' or 'N'. */
static int check_yn(hiveport *h, const struct rpc_value *v, const char *name, char *yn)
{
    *yn = 0;
    if (v->vk == 0)
        return hp_error(h, HIVEPORT_E_BAD_DATA,
                        "%s: " HP_RPC_KEY " has no \"%s\": the RPC runtime treats the configuration as invalid",
                        hp_name(h), name);
    if (v->type != hive_t_REG_SZ)
        return hp_error(h, HIVEPORT_E_WRONG_TYPE,
                        "%s: " HP_RPC_KEY ": \"%s\" is %s, not REG_SZ \"Y\" or \"N\": the RPC runtime treats "
                        "the configuration as invalid",
                        hp_name(h), name, hp_type_name(v->type));
    char why[128];
    int r = v->data == NULL ? -1 : hp_rpcrange_read_yn(v->data, v->len, why, sizeof why);
    if (v->data == NULL)
        snprintf(why, sizeof why, "it is %zu bytes long", v->len);
    if (r < 0)
        return hp_error(h, HIVEPORT_E_BAD_DATA,
                        "%s: " HP_RPC_KEY ": \"%s\" is not \"Y\" or \"N\" as the RPC runtime reads it (%s): it "
                        "treats the configuration as invalid",
                        hp_name(h), name, why);
    *yn = r ? 'Y' : 'N';
    return HIVEPORT_OK;
}

static int check_handle(hiveport *h)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    return hp_require_software(h);
}

HIVEPORT_API void hiveport_free(void *p)
{
    hp_free(p);
}

HIVEPORT_API int hiveport_rpc_get(hiveport *h, char **ports, char *available, char *use_internet,
                                  uint32_t *port_count)
{
    if (ports != NULL)
        *ports = NULL;
    if (available != NULL)
        *available = 0;
    if (use_internet != NULL)
        *use_internet = 0;
    if (port_count != NULL)
        *port_count = 0;
    int rc = check_handle(h);
    if (rc != HIVEPORT_OK)
        return rc;
    struct rpc_state st;
    if ((rc = state_load(h, &st)) != HIVEPORT_OK)
        return rc;
    struct hp_rpc_range *ranges = NULL;
    size_t n = 0;
    char avail = 0, use = 0, *text = NULL;
    if (st.key == 0)
        rc = hp_error(h, HIVEPORT_E_NOT_SET, "%s: " HP_RPC_KEY " is absent: dynamic RPC may use any port",
                      hp_name(h));
    if (rc == HIVEPORT_OK)
        rc = check_ports(h, &st.v[V_PORTS], &ranges, &n);
    if (rc == HIVEPORT_OK)
        rc = check_yn(h, &st.v[V_AVAILABLE], HP_RPC_PORTS_AVAILABLE, &avail);
    if (rc == HIVEPORT_OK)
        rc = check_yn(h, &st.v[V_USE], HP_RPC_USE_INTERNET, &use);
    if (rc == HIVEPORT_OK) {
        n = hp_rpcrange_normalize(ranges, n);
        if (ports != NULL && (text = hp_rpcrange_text(ranges, n)) == NULL)
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    }
    if (rc == HIVEPORT_OK) {
        if (ports != NULL)
            *ports = text;
        if (available != NULL)
            *available = avail;
        if (use_internet != NULL)
            *use_internet = use;
        if (port_count != NULL)
            *port_count = hp_rpcrange_size(ranges, n);
    }
    hp_free(ranges);
    state_free(&st);
    return rc;
}

/* ---- Writing ---- */

/* One value to write: its registry bytes, or none (remove). */
struct rpc_write {
    bool write;  /* change this value */
    bool remove; /* remove it instead of setting it */
    hive_type type;
    char *data; /* hp_malloc'd, or points into yn_data */
    size_t len;
};

/* 'Y', 'N' (either case) or 0 into 'Y', 'N' or 0; -1 for anything else. */
static int flag_arg(char c)
{
    return c == 'Y' || c == 'y' ? 'Y' : c == 'N' || c == 'n' ? 'N' : c == 0 ? 0 : -1;
}

/* True when value v already holds exactly type/data/len. */
static bool holds(const struct rpc_value *v, hive_type type, const char *data, size_t len)
{
    return v->vk != 0 && v->type == (uint32_t)type && v->data != NULL && v->len == len &&
           memcmp(v->data, data, len) == 0;
}

/* Sets or removes the values of key named in writes (compared case-insensitively): an existing value keeps
 * its spelling and its place, a new one goes after the others, and a second value of one of those names (a
 * damaged key) goes.  Natively (lib/hive/editvalue.c), one value at a time: *attempted says whether a change
 * was begun (before it nothing changed; after it a failure leaves the session broken). */
static int rewrite_values(hiveport *h, hive_node_h key, const struct rpc_write w[V_COUNT], bool *attempted)
{
    *attempted = false;
    hive_value_h *values, found[V_COUNT] = {0};
    size_t n;
    int rc = hp_nav_values(h, key, &values, &n);
    if (rc != HIVEPORT_OK)
        return rc;
    size_t nextra = 0;
    for (size_t i = 0; rc == HIVEPORT_OK && i < n; i++) {
        errno = 0;
        char *name = hp_nav_value_name(h, values[i]);
        if (name == NULL) {
            int err = errno ? errno : EINVAL;
            hp_clear_error(h);
            rc = hp_error(h, hp_status_from_errno(err), "%s: " HP_RPC_KEY ": a value name is unreadable: %s",
                          hp_name(h), strerror(err));
            break;
        }
        for (int j = 0; j < V_COUNT; j++) {
            if (!w[j].write || strcasecmp(name, value_names[j]) != 0)
                continue;
            if (found[j] == 0)
                found[j] = values[i];
            else
                values[nextra++] = values[i]; /* to delete: kept at the front, read already */
        }
        free(name);
    }
    for (int j = 0; rc == HIVEPORT_OK && j < V_COUNT; j++) {
        if (!w[j].write || (w[j].remove && found[j] == 0))
            continue;
        *attempted = true;
        rc = w[j].remove ? hp_edit_value_delete(h, key, found[j])
                         : hp_edit_value_set(h, key, found[j], value_names[j], w[j].type, w[j].data, w[j].len);
    }
    for (size_t i = 0; rc == HIVEPORT_OK && i < nextra; i++)
        rc = hp_edit_value_delete(h, key, values[i]);
    free(values);
    return rc;
}

/* Decides what to write for a Y/N value: the caller's flag, or the default for a missing value, or
 * nothing when the value is valid and not given.  Refuses a value Windows rejects that is not given. */
static int plan_yn(hiveport *h, const struct rpc_value *v, const char *name, int given, char buf[4],
                   struct rpc_write *w)
{
    char current = 0;
    if (given == 0 && v->vk != 0) {
        int rc = check_yn(h, v, name, &current);
        if (rc != HIVEPORT_OK) {
            size_t used = strlen(h->errmsg);
            snprintf(h->errmsg + used, sizeof h->errmsg - used, "; give the flag to replace it");
            return rc;
        }
        return HIVEPORT_OK; /* valid, and the caller keeps it */
    }
    buf[0] = (char)(given ? given : 'Y');
    buf[1] = buf[2] = buf[3] = 0;
    if (holds(v, hive_t_REG_SZ, buf, 4))
        return HIVEPORT_OK;
    *w = (struct rpc_write){.write = true, .type = hive_t_REG_SZ, .data = buf, .len = 4};
    return HIVEPORT_OK;
}

HIVEPORT_API int hiveport_rpc_set(hiveport *h, const char *ports, char available, char use_internet,
                                  uint32_t *port_count)
{
    if (port_count != NULL)
        *port_count = 0;
    int rc = check_handle(h);
    if (rc != HIVEPORT_OK || (rc = hp_check_writable(h)) != HIVEPORT_OK)
        return rc;
    int avail = flag_arg(available), use = flag_arg(use_internet);
    if (avail < 0 || use < 0)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: %s must be 'Y', 'N' or 0 (keep), not 0x%02x", hp_name(h),
                        avail < 0 ? HP_RPC_PORTS_AVAILABLE : HP_RPC_USE_INTERNET,
                        (unsigned char)(avail < 0 ? available : use_internet));

    struct hp_rpc_range *ranges = NULL;
    size_t n = 0;
    char why[160], avail_buf[4], use_buf[4];
    struct rpc_write w[V_COUNT] = {{0}};
    struct rpc_state st = {0};
    hive_node_h key = 0;
    if (ports != NULL) {
        rc = hp_rpcrange_parse_list(ports, &ranges, &n, why, sizeof why);
        if (rc != HIVEPORT_OK) {
            rc = rc == HIVEPORT_E_NOMEM ? hp_error(h, rc, "%s: out of memory", hp_name(h))
                                        : hp_error(h, rc, "%s: invalid RPC port list: %s", hp_name(h), why);
            goto out;
        }
        n = hp_rpcrange_normalize(ranges, n);
        w[V_PORTS].write = true;
        w[V_PORTS].type = hive_t_REG_MULTI_SZ;
        if (hp_rpcrange_format(ranges, n, &w[V_PORTS].data, &w[V_PORTS].len) != HIVEPORT_OK) {
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
            goto out;
        }
    }

    /* Plan: everything is checked before anything changes. */
    if ((rc = state_load(h, &st)) != HIVEPORT_OK)
        goto out;
    if (ports == NULL) {
        if (st.key == 0 || st.v[V_PORTS].vk == 0) {
            rc = hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: " HP_RPC_KEY " has no \"Ports\" to keep: give the ports",
                          hp_name(h));
            goto out;
        }
        if ((rc = check_ports(h, &st.v[V_PORTS], &ranges, &n)) != HIVEPORT_OK)
            goto out;
        n = hp_rpcrange_normalize(ranges, n);
    } else if (holds(&st.v[V_PORTS], w[V_PORTS].type, w[V_PORTS].data, w[V_PORTS].len)) {
        w[V_PORTS].write = false;
    }
    if ((rc = plan_yn(h, &st.v[V_AVAILABLE], HP_RPC_PORTS_AVAILABLE, avail, avail_buf, &w[V_AVAILABLE])) !=
            HIVEPORT_OK ||
        (rc = plan_yn(h, &st.v[V_USE], HP_RPC_USE_INTERNET, use, use_buf, &w[V_USE])) != HIVEPORT_OK)
        goto out;
    if (port_count != NULL)
        *port_count = hp_rpcrange_size(ranges, n);
    if (!w[V_PORTS].write && !w[V_AVAILABLE].write && !w[V_USE].write)
        goto out; /* already as asked */

    /* Apply: the key (created when missing), then the values. */
    if (st.key == 0 && (rc = hp_key_create(h, hp_nav_root(h), HP_RPC_KEY, &key)) != HIVEPORT_OK) {
        h->broken = h->changed; /* some keys may have been created */
        goto out;
    }
    if (st.key != 0)
        key = st.key;
    bool attempted;
    rc = rewrite_values(h, key, w, &attempted);
    if (rc != HIVEPORT_OK && (attempted || st.key == 0))
        h->broken = true; /* the key was created, or its values may be half-rewritten */
out:
    if (rc != HIVEPORT_OK && port_count != NULL)
        *port_count = 0;
    hp_free(w[V_PORTS].data);
    hp_free(ranges);
    state_free(&st);
    return rc;
}

HIVEPORT_API int hiveport_rpc_clear(hiveport *h, unsigned flags)
{
    int rc = check_handle(h);
    if (rc != HIVEPORT_OK || (rc = hp_check_writable(h)) != HIVEPORT_OK)
        return rc;
    if (flags & ~HIVEPORT_RPC_CLEAR_KEEP_KEY)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: unknown RPC clear flags 0x%x", hp_name(h), flags);
    struct rpc_state st;
    if ((rc = state_load(h, &st)) != HIVEPORT_OK)
        return rc;
    struct rpc_write w[V_COUNT] = {{0}};
    bool any = false;
    for (int i = 0; i < V_COUNT; i++) {
        w[i].write = w[i].remove = st.v[i].vk != 0;
        any = any || w[i].write;
    }
    if (st.key == 0 || ((flags & HIVEPORT_RPC_CLEAR_KEEP_KEY) && !any))
        goto out; /* nothing to remove */
    bool attempted = true;
    if (flags & HIVEPORT_RPC_CLEAR_KEEP_KEY)
        rc = rewrite_values(h, st.key, w, &attempted);
    else /* the key, its values and whatever lies below it; its parent has one subkey fewer */
        rc = hp_edit_subtree_delete(h, st.parent, st.key);
    if (rc != HIVEPORT_OK && attempted)
        h->broken = true;
out:
    state_free(&st);
    return rc;
}

/* ---- Advice (KB 154596, KB 929851, KB 270836) ---- */

static const struct {
    uint32_t low, high;
    const char *what;
} dynamic_ranges[] = {
    {1025, 5000, "the dynamic port range of Windows 2000 and Server 2003"},
    {49152, 65535, "the dynamic port range of Windows Vista, Server 2008 and later (KB 929851)"},
};

static const uint32_t well_known[] = {53, 88, 123, 135, 137, 138, 139, 389, 445, 464, 636, 3268, 3269};

struct text_buf {
    char *s;
    size_t len, cap;
    bool nomem;
};

static void append(struct text_buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(struct text_buf *t, const char *fmt, ...)
{
    if (t->nomem)
        return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0 || t->len + (size_t)need + 1 > t->cap) {
        size_t cap = (t->len + (size_t)(need < 0 ? 0 : need) + 1) * 2;
        char *bigger = need < 0 ? NULL : hp_malloc(cap);
        if (bigger == NULL) {
            t->nomem = true;
            return;
        }
        if (t->len)
            memcpy(bigger, t->s, t->len);
        hp_free(t->s);
        t->s = bigger;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)need;
}

HIVEPORT_API int hiveport_rpc_warnings(const char *ports, char available, char **text)
{
    int avail = flag_arg(available);
    if (text != NULL)
        *text = NULL;
    if (text == NULL || ports == NULL || avail < 0)
        return HIVEPORT_E_INVALID_ARG;
    struct hp_rpc_range *ranges = NULL;
    size_t n = 0;
    char why[160];
    int rc = hp_rpcrange_parse_list(ports, &ranges, &n, why, sizeof why);
    if (rc == HIVEPORT_E_INVALID_ARG)
        *text = hp_strdup(why); /* there is no handle to hold the reason */
    if (rc != HIVEPORT_OK)
        return rc;
    n = hp_rpcrange_normalize(ranges, n);
    char *shown = hp_rpcrange_text(ranges, n);
    struct text_buf t = {0};
    if (shown == NULL)
        t.nomem = true;
    bool listed = avail != 'N';
    uint32_t usable = hp_rpcrange_usable(ranges, n, listed);
    if (usable < 100) {
        if (listed)
            append(&t, "Ports %s leaves dynamic RPC only %u port%s: KB 154596 advises at least 100.\n", shown,
                   usable, usable == 1 ? "" : "s");
        else
            append(&t, "Excluding %s leaves dynamic RPC only %u port%s of 1025-65535: KB 154596 advises at "
                       "least 100.\n",
                   shown, usable, usable == 1 ? "" : "s");
    }
    for (size_t i = 0; listed && i < sizeof dynamic_ranges / sizeof dynamic_ranges[0]; i++) {
        struct hp_rpc_range window = {dynamic_ranges[i].low, dynamic_ranges[i].high};
        uint32_t inside = 0;
        for (size_t j = 0; j < n; j++) {
            uint32_t lo = ranges[j].low > window.low ? ranges[j].low : window.low;
            uint32_t hi = ranges[j].high < window.high ? ranges[j].high : window.high;
            inside += lo <= hi ? hi - lo + 1 : 0;
        }
        if (inside > 0)
            append(&t, "Ports %s has %u port%s in %u-%u, %s: other programs' connections may hold them.\n",
                   shown, inside, inside == 1 ? "" : "s", window.low, window.high, dynamic_ranges[i].what);
    }
    if (listed) {
        char list[128] = "";
        size_t used = 0;
        for (size_t i = 0; i < sizeof well_known / sizeof well_known[0]; i++)
            if (hp_rpcrange_contains(ranges, n, well_known[i]))
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", used ? ", " : "", well_known[i]);
        if (used > 0)
            append(&t, "Ports %s includes %s, which Windows services listen on (KB 270836, KB 179442).\n", shown,
                   list);
    }
    if (t.nomem) {
        hp_free(t.s);
        rc = HIVEPORT_E_NOMEM;
    } else {
        *text = t.s;
    }
    hp_free(shown);
    hp_free(ranges);
    return rc;
}
