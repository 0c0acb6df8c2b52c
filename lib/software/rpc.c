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

/* Finds the key and reads the three values (through lib/nav.c: the file, or libhivex once structural). */
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
                          "%s: " HP_RPC_KEY ": \"%s\" is unreadable: %s", h->path, value_names[i],
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
                        h->path);
    if (v->type != hive_t_REG_MULTI_SZ)
        return hp_error(h, HIVEPORT_E_WRONG_TYPE,
                        "%s: " HP_RPC_KEY ": \"Ports\" is %s, not REG_MULTI_SZ: the RPC runtime treats the "
                        "configuration as invalid",
                        h->path, hp_type_name(v->type));
    if (v->data == NULL)
        return hp_error(h, HIVEPORT_E_BAD_DATA, "%s: " HP_RPC_KEY ": \"Ports\" is %zu bytes long, far more than "
                        "a list of ports needs", h->path, v->len);
    char why[160];
    int rc = hp_rpcrange_read(v->data, v->len, ranges, n, why, sizeof why);
    if (rc == HIVEPORT_E_NOMEM)
        return hp_error(h, rc, "%s: out of memory", h->path);
    if (rc != HIVEPORT_OK)
        return hp_error(h, rc, "%s: " HP_RPC_KEY ": \"Ports\" is invalid: %s", h->path, why);
    return HIVEPORT_OK;
}

/* The problem with a Y/N value as Windows reads it, reported on h; or HIVEPORT_OK with *yn 'Y' or 'N'. */
static int check_yn(hiveport *h, const struct rpc_value *v, const char *name, char *yn)
{
    *yn = 0;
    if (v->vk == 0)
        return hp_error(h, HIVEPORT_E_BAD_DATA,
                        "%s: " HP_RPC_KEY " has no \"%s\": the RPC runtime treats the configuration as invalid",
                        h->path, name);
    if (v->type != hive_t_REG_SZ)
        return hp_error(h, HIVEPORT_E_WRONG_TYPE,
                        "%s: " HP_RPC_KEY ": \"%s\" is %s, not REG_SZ \"Y\" or \"N\": the RPC runtime treats "
                        "the configuration as invalid",
                        h->path, name, hp_type_name(v->type));
    char why[128];
    int r = v->data == NULL ? -1 : hp_rpcrange_read_yn(v->data, v->len, why, sizeof why);
    if (v->data == NULL)
        snprintf(why, sizeof why, "it is %zu bytes long", v->len);
    if (r < 0)
        return hp_error(h, HIVEPORT_E_BAD_DATA,
                        "%s: " HP_RPC_KEY ": \"%s\" is not \"Y\" or \"N\" as the RPC runtime reads it (%s): it "
                        "treats the configuration as invalid",
                        h->path, name, why);
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

static int check_writable(hiveport *h)
{
    if (!(h->flags & HIVEPORT_OPEN_WRITE))
        return hp_error(h, HIVEPORT_E_READONLY, "%s: the hive was opened read-only", h->path);
    if (h->broken)
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: an earlier change failed half-way; discard the changes first", h->path);
    return HIVEPORT_OK;
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
                      h->path);
    if (rc == HIVEPORT_OK)
        rc = check_ports(h, &st.v[V_PORTS], &ranges, &n);
    if (rc == HIVEPORT_OK)
        rc = check_yn(h, &st.v[V_AVAILABLE], HP_RPC_PORTS_AVAILABLE, &avail);
    if (rc == HIVEPORT_OK)
        rc = check_yn(h, &st.v[V_USE], HP_RPC_USE_INTERNET, &use);
    if (rc == HIVEPORT_OK) {
        n = hp_rpcrange_normalize(ranges, n);
        if (ports != NULL && (text = hp_rpcrange_text(ranges, n)) == NULL)
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", h->path);
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

/* Rewrites the values of key: those named in writes (compared case-insensitively, keeping an existing
 * spelling) set or removed, the others kept as they are.  One libhivex call, so that the key is never
 * left with half of the change; *attempted says whether that call was made (before it nothing changes). */
static int rewrite_values(hiveport *h, hive_node_h key, const struct rpc_write w[V_COUNT], bool *attempted)
{
    *attempted = false;
    int rc = HIVEPORT_OK;
    errno = 0;
    hive_value_h *values = hivex_node_values(h->hive, key);
    if (values == NULL)
        return hp_error(h, hp_status_from_errno(errno), "%s: " HP_RPC_KEY ": cannot list the values: %s",
                        h->path, strerror(errno));
    size_t n = 0;
    while (values[n] != 0)
        n++;
    hive_set_value *out = hp_calloc(n + V_COUNT, sizeof *out);
    bool *done = hp_calloc(V_COUNT, sizeof *done);
    char **names = hp_calloc(n + 1, sizeof *names); /* what libhivex returned, to free */
    size_t k = 0;
    if (out == NULL || done == NULL || names == NULL)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", h->path);
    for (size_t i = 0; rc == HIVEPORT_OK && i < n; i++) {
        errno = 0;
        char *name = hivex_value_key(h->hive, values[i]);
        if (name == NULL) {
            rc = hp_error(h, hp_status_from_errno(errno), "%s: " HP_RPC_KEY ": a value name is unreadable: %s",
                          h->path, strerror(errno ? errno : EINVAL));
            break;
        }
        names[i] = name;
        int which = -1;
        for (int j = 0; j < V_COUNT; j++)
            if (w[j].write && strcasecmp(name, value_names[j]) == 0)
                which = j;
        if (which >= 0 && done[which])
            continue; /* a second value of the same name (a damaged key): dropped */
        if (which >= 0) {
            done[which] = true;
            if (!w[which].remove)
                out[k++] = (hive_set_value){.key = name, .t = w[which].type, .len = w[which].len,
                                            .value = w[which].data};
            continue;
        }
        errno = 0;
        out[k].key = name;
        out[k].value = hivex_value_value(h->hive, values[i], &out[k].t, &out[k].len);
        if (out[k].value == NULL) {
            rc = hp_error(h, hp_status_from_errno(errno), "%s: " HP_RPC_KEY ": value \"%s\" is unreadable: %s",
                          h->path, name, strerror(errno ? errno : EINVAL));
            break;
        }
        k++;
    }
    for (int j = 0; rc == HIVEPORT_OK && j < V_COUNT; j++)
        if (w[j].write && !w[j].remove && !done[j])
            out[k++] = (hive_set_value){.key = (char *)value_names[j], .t = w[j].type, .len = w[j].len,
                                        .value = w[j].data};
    if (rc == HIVEPORT_OK)
        rc = hp_key_rewritable(h, key);
    if (rc == HIVEPORT_OK) {
        *attempted = true;
        if (hivex_node_set_values(h->hive, key, k, out, 0) != 0)
            rc = hp_error(h, hp_status_from_errno(errno), "%s: " HP_RPC_KEY ": cannot write the values: %s",
                          h->path, strerror(errno));
    }
    /* Free the data libhivex read for the kept values: those whose value is not one of ours. */
    for (size_t i = 0; out != NULL && i < k; i++) {
        bool ours = false;
        for (int j = 0; j < V_COUNT; j++)
            ours = ours || out[i].value == w[j].data;
        if (!ours)
            free(out[i].value);
    }
    for (size_t i = 0; names != NULL && i < n; i++)
        free(names[i]);
    hp_free(names);
    hp_free(done);
    hp_free(out);
    free(values);
    return rc;
}

/* Forgets a deleted key (and so stops the commit from stamping a freed cell). */
static void untouch(hiveport *h, hive_node_h key)
{
    size_t k = 0;
    for (size_t i = 0; i < h->ntouched; i++)
        if (h->touched[i] != key)
            h->touched[k++] = h->touched[i];
    h->ntouched = k;
}

/* Makes libhivex hold the session (a structural change follows) and reloads the state from it. */
static int go_structural(hiveport *h, struct rpc_state *st)
{
    int rc = HIVEPORT_OK;
    if (!h->structural) {
        state_free(st);
        if ((rc = hp_inplace_flush(h)) == HIVEPORT_OK)
            rc = state_load(h, st);
    }
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
    if (rc != HIVEPORT_OK || (rc = check_writable(h)) != HIVEPORT_OK)
        return rc;
    int avail = flag_arg(available), use = flag_arg(use_internet);
    if (avail < 0 || use < 0)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: %s must be 'Y', 'N' or 0 (keep), not 0x%02x", h->path,
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
            rc = rc == HIVEPORT_E_NOMEM ? hp_error(h, rc, "%s: out of memory", h->path)
                                        : hp_error(h, rc, "%s: invalid RPC port list: %s", h->path, why);
            goto out;
        }
        n = hp_rpcrange_normalize(ranges, n);
        w[V_PORTS].write = true;
        w[V_PORTS].type = hive_t_REG_MULTI_SZ;
        if (hp_rpcrange_format(ranges, n, &w[V_PORTS].data, &w[V_PORTS].len) != HIVEPORT_OK) {
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", h->path);
            goto out;
        }
    }

    /* Plan: everything is checked before anything changes. */
    if ((rc = state_load(h, &st)) != HIVEPORT_OK)
        goto out;
    if (ports == NULL) {
        if (st.key == 0 || st.v[V_PORTS].vk == 0) {
            rc = hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: " HP_RPC_KEY " has no \"Ports\" to keep: give the ports",
                          h->path);
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

    /* Apply: the key (created when missing), then every value in one rewrite. */
    if ((rc = go_structural(h, &st)) != HIVEPORT_OK)
        goto out;
    if (st.key == 0 && (rc = hp_key_create(h, hp_nav_root(h), HP_RPC_KEY, &key)) != HIVEPORT_OK) {
        h->broken = h->changed; /* some keys may have been created */
        goto out;
    }
    if (st.key != 0)
        key = st.key;
    bool attempted;
    rc = rewrite_values(h, key, w, &attempted);
    if (rc == HIVEPORT_OK)
        rc = hp_touch_key(h, key);
    if (rc == HIVEPORT_OK)
        h->changed = true;
    else if (attempted || st.key == 0)
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
    if (rc != HIVEPORT_OK || (rc = check_writable(h)) != HIVEPORT_OK)
        return rc;
    if (flags & ~HIVEPORT_RPC_CLEAR_KEEP_KEY)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: unknown RPC clear flags 0x%x", h->path, flags);
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
    if ((rc = go_structural(h, &st)) != HIVEPORT_OK)
        goto out;
    bool attempted = true;
    if (flags & HIVEPORT_RPC_CLEAR_KEEP_KEY) {
        rc = rewrite_values(h, st.key, w, &attempted);
        if (rc == HIVEPORT_OK)
            rc = hp_touch_key(h, st.key);
    } else {
        errno = 0;
        rc = hp_subtree_deletable(h, st.key);
        if (rc == HIVEPORT_OK && hivex_node_delete_child(h->hive, st.key) != 0)
            rc = hp_error(h, hp_status_from_errno(errno), "%s: cannot delete " HP_RPC_KEY ": %s", h->path,
                          strerror(errno ? errno : EINVAL));
        if (rc == HIVEPORT_OK) {
            untouch(h, st.key);
            rc = hp_touch_key(h, st.parent); /* one subkey fewer */
        }
    }
    if (rc == HIVEPORT_OK)
        h->changed = true;
    else if (attempted)
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
