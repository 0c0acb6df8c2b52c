/* diff.c: the registry-level differences between two hives (keys, values, key times), for reviewing
 * what a write changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ports.h"

#define DIFF_MAX_DEPTH 512        /* deeper nesting is damage (CVE-2021-3622 was stack exhaustion) */
#define DIFF_MAX_KEYS 20000000UL  /* keys visited in both hives: a bound against shared subkey lists */
#define DATA_TEXT_BYTES 64        /* binary data shown up to this many bytes */

struct entry {
    char *name;
    uint64_t off; /* node or vk */
};

struct diff {
    hiveport *a, *b;
    hiveport_change_fn fn;
    void *ctx;
    unsigned long budget;
    int stopped; /* the callback's non-zero answer */
};

static int cmp_entry(const void *x, const void *y)
{
    return strcasecmp(((const struct entry *)x)->name, ((const struct entry *)y)->name);
}

static void free_entries(struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].name);
    hp_free(e);
}

/* The subkeys (values when want_values) of node, sorted by name; node 0 has none. */
static int list(hiveport *h, hive_node_h node, bool want_values, struct entry **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (node == 0)
        return HIVEPORT_OK;
    hive_node_h *items;
    size_t count;
    int rc = want_values ? hp_nav_values(h, node, (hive_value_h **)&items, &count)
                         : hp_nav_children(h, node, &items, &count);
    if (rc != HIVEPORT_OK)
        return rc;
    struct entry *e = hp_calloc(count, sizeof *e);
    if (e == NULL)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    for (size_t i = 0; rc == HIVEPORT_OK && i < count; i++) {
        e[i].off = items[i];
        e[i].name = want_values ? hp_nav_value_name(h, items[i]) : hp_nav_key_name(h, items[i]);
        if (e[i].name == NULL)
            rc = h->status ? h->status : hp_error(h, HIVEPORT_E_CORRUPT, "%s: unreadable name", hp_name(h));
    }
    free(items);
    if (rc != HIVEPORT_OK) {
        free_entries(e, count);
        return rc;
    }
    qsort(e, count, sizeof *e, cmp_entry);
    *out = e;
    *n = count;
    return HIVEPORT_OK;
}

/* A value as one line of text: "REG_DWORD 5001 (0x00001389)", "REG_SZ \"text\"", "REG_BINARY 01 02 ...". */
static char *value_text(hiveport *h, hive_value_h vk)
{
    hive_type type;
    size_t len;
    char *data = hp_value_data(h, vk, &type, &len);
    if (data == NULL)
        return hp_strdup("(unreadable)");
    const unsigned char *d = (const unsigned char *)data;
    size_t cap = 64 + 4 * (len < DATA_TEXT_BYTES ? len : DATA_TEXT_BYTES) + len * 2;
    char *out = hp_malloc(cap);
    if (out != NULL) {
        int n = snprintf(out, cap, "%s", hp_type_name(type));
        if (type == hive_t_REG_DWORD && len == 4) {
            uint32_t v = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
            snprintf(out + n, cap - (size_t)n, " %u (0x%08x)", v, v);
        } else if ((type == hive_t_REG_SZ || type == hive_t_REG_EXPAND_SZ) && len % 2 == 0) {
            size_t k = (size_t)n;
            out[k++] = ' ';
            out[k++] = '"';
            for (size_t i = 0; i + 1 < len && k + 8 < cap; i += 2) {
                unsigned c = d[i] | (unsigned)d[i + 1] << 8;
                if (c == 0)
                    break;
                if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
                    out[k++] = (char)c;
                else
                    k += (size_t)snprintf(out + k, cap - k, "\\u%04x", c);
            }
            out[k++] = '"';
            out[k] = '\0';
        } else {
            size_t k = (size_t)n;
            for (size_t i = 0; i < len && i < DATA_TEXT_BYTES; i++)
                k += (size_t)snprintf(out + k, cap - k, " %02x", d[i]);
            if (len > DATA_TEXT_BYTES)
                snprintf(out + k, cap - k, " ... (%zu bytes)", len);
        }
    }
    free(data);
    return out;
}

static void time_text(uint64_t filetime, char buf[32])
{
    time_t secs = (time_t)(filetime / 10000000ULL) - (time_t)11644473600LL;
    struct tm tm;
    if (filetime < 116444736000000000ULL || gmtime_r(&secs, &tm) == NULL)
        snprintf(buf, 32, "FILETIME %llu", (unsigned long long)filetime);
    else
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int emit(struct diff *d, int kind, const char *key, const char *value, const char *old_text,
                const char *new_text)
{
    hiveport_change c = {kind, key, value, old_text, new_text};
    d->stopped = d->fn(&c, d->ctx);
    return HIVEPORT_OK;
}

static int compare_values(struct diff *d, hive_node_h ka, hive_node_h kb, const char *path)
{
    struct entry *va = NULL, *vb = NULL;
    size_t na = 0, nb = 0;
    int rc = list(d->a, ka, true, &va, &na);
    if (rc == HIVEPORT_OK)
        rc = list(d->b, kb, true, &vb, &nb);
    size_t i = 0, j = 0;
    while (rc == HIVEPORT_OK && !d->stopped && (i < na || j < nb)) {
        int order = i == na ? 1 : j == nb ? -1 : strcasecmp(va[i].name, vb[j].name);
        char *ta = order <= 0 ? value_text(d->a, va[i].off) : NULL;
        char *tb = order >= 0 ? value_text(d->b, vb[j].off) : NULL;
        if ((order <= 0 && ta == NULL) || (order >= 0 && tb == NULL))
            rc = hp_error(d->b, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(d->b));
        else if (order < 0)
            rc = emit(d, HIVEPORT_CHANGE_VALUE_REMOVED, path, va[i].name, ta, NULL);
        else if (order > 0)
            rc = emit(d, HIVEPORT_CHANGE_VALUE_ADDED, path, vb[j].name, NULL, tb);
        else if (strcmp(ta, tb) != 0)
            rc = emit(d, HIVEPORT_CHANGE_VALUE_CHANGED, path, vb[j].name, ta, tb);
        hp_free(ta);
        hp_free(tb);
        i += order <= 0;
        j += order >= 0;
    }
    free_entries(va, na);
    free_entries(vb, nb);
    return rc;
}

static int compare_keys(struct diff *d, hive_node_h ka, hive_node_h kb, const char *path, unsigned depth)
{
    if (depth > DIFF_MAX_DEPTH || d->budget == 0)
        return hp_error(d->b, HIVEPORT_E_CORRUPT, "%s: keys nested too deep or too many to compare (damage?)",
                        hp_name(d->b));
    d->budget--;
    int rc = HIVEPORT_OK;
    if (ka != 0 && kb != 0) {
        uint64_t ta = hp_nav_key_time(d->a, ka), tb = hp_nav_key_time(d->b, kb);
        if (ta != tb) {
            char sa[32], sb[32];
            time_text(ta, sa);
            time_text(tb, sb);
            rc = emit(d, HIVEPORT_CHANGE_KEY_TIME, path, NULL, sa, sb);
        }
    }
    if (rc == HIVEPORT_OK && !d->stopped)
        rc = compare_values(d, ka, kb, path);
    struct entry *ca = NULL, *cb = NULL;
    size_t na = 0, nb = 0;
    if (rc == HIVEPORT_OK)
        rc = list(d->a, ka, false, &ca, &na);
    if (rc == HIVEPORT_OK)
        rc = list(d->b, kb, false, &cb, &nb);
    size_t i = 0, j = 0;
    while (rc == HIVEPORT_OK && !d->stopped && (i < na || j < nb)) {
        int order = i == na ? 1 : j == nb ? -1 : strcasecmp(ca[i].name, cb[j].name);
        const char *name = order <= 0 ? ca[i].name : cb[j].name;
        size_t len = strlen(path) + strlen(name) + 2;
        char *sub = hp_malloc(len);
        if (sub == NULL) {
            rc = hp_error(d->b, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(d->b));
            break;
        }
        snprintf(sub, len, "%s%s%s", path, *path ? "\\" : "", name);
        if (order < 0)
            rc = emit(d, HIVEPORT_CHANGE_KEY_REMOVED, sub, NULL, NULL, NULL);
        else if (order > 0)
            rc = emit(d, HIVEPORT_CHANGE_KEY_ADDED, sub, NULL, NULL, NULL);
        if (rc == HIVEPORT_OK && !d->stopped)
            rc = compare_keys(d, order <= 0 ? ca[i].off : 0, order >= 0 ? cb[j].off : 0, sub, depth + 1);
        hp_free(sub);
        i += order <= 0;
        j += order >= 0;
    }
    free_entries(ca, na);
    free_entries(cb, nb);
    return rc;
}

HIVEPORT_API int hiveport_diff(hiveport *old_hive, hiveport *new_hive, hiveport_change_fn fn, void *ctx)
{
    if (!hp_handle_usable(old_hive) || !hp_handle_usable(new_hive) || fn == NULL)
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(old_hive);
    hp_clear_error(new_hive);
    struct diff d = {old_hive, new_hive, fn, ctx, DIFF_MAX_KEYS, 0};
    int rc = compare_keys(&d, hp_nav_root(old_hive), hp_nav_root(new_hive), "", 0);
    if (rc != HIVEPORT_OK && new_hive->status == HIVEPORT_OK) /* the failure was reading the old hive */
        hp_error(new_hive, rc, "%s", old_hive->errmsg);
    return rc;
}
