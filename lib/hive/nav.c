/* nav.c: one way to walk keys and values: the hive as loaded (cells.c on the mapped file, or on the
 * session's edited copy once a native change was made; edit.c), with the overlay of in-place edits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hive.h"

static int corrupt(hiveport *h, const char *what, uint64_t off)
{
    return hp_error(h, HIVEPORT_E_CORRUPT, "%s: damaged %s at offset 0x%llx", hp_name(h), what,
                    (unsigned long long)off);
}

static int unreadable(hiveport *h, const char *what, uint64_t off)
{
    int err = errno;
    if (err == ENOMEM)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    return hp_error(h, HIVEPORT_E_CORRUPT, "%s: cannot read %s at offset 0x%llx: %s", hp_name(h), what,
                    (unsigned long long)off, strerror(err ? err : EINVAL));
}

hive_node_h hp_nav_root(hiveport *h)
{
    return (hive_node_h)hp_cells_root(&h->img);
}

/* A key must name as its parent the key whose list holds it.  One that does not is reached by two paths
 * (a damaged or forged hive whose lists share a key): a change made through one path would silently
 * change the other, so such a key is refused, as Windows' hive check refuses a parent mismatch. */
static int check_parent(hiveport *h, hive_node_h node, hive_node_h child)
{
    hive_node_h parent = (hive_node_h)hp_cells_key_parent(&h->img, child);
    if (parent == node)
        return HIVEPORT_OK;
    return hp_error(h, HIVEPORT_E_CORRUPT,
                    "%s: damaged key at offset 0x%llx: it is listed under the key at 0x%llx but names 0x%llx as "
                    "its parent (one key reached by two paths)",
                    hp_name(h), (unsigned long long)child, (unsigned long long)node, (unsigned long long)parent);
}

int hp_nav_child(hiveport *h, hive_node_h node, const char *name, hive_node_h *child)
{
    uint64_t found;
    if (hp_cells_child(&h->img, node, name, &found) != 0)
        return corrupt(h, "subkey list", node);
    *child = (hive_node_h)found;
    return *child == 0 ? HIVEPORT_OK : check_parent(h, node, *child);
}

struct collect {
    hive_node_h *items;
    size_t n, cap;
    bool nomem;
};

static int collect_one(uint64_t off, void *ctx)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        hive_node_h *bigger = hp_calloc(cap + 1, sizeof *bigger);
        if (bigger == NULL) {
            c->nomem = true;
            return 1;
        }
        if (c->n)
            memcpy(bigger, c->items, c->n * sizeof *bigger);
        hp_free(c->items);
        c->items = bigger;
        c->cap = cap;
    }
    c->items[c->n++] = (hive_node_h)off;
    return 0;
}

int hp_nav_children(hiveport *h, hive_node_h node, hive_node_h **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    struct collect c = {0};
    int rc = hp_cells_walk_subkeys(&h->img, node, collect_one, &c);
    if (c.nomem) {
        hp_free(c.items);
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    }
    if (rc < 0) {
        hp_free(c.items);
        return corrupt(h, "subkey list", node);
    }
    if (c.items == NULL && (c.items = hp_calloc(1, sizeof *c.items)) == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    *out = c.items; /* zero-terminated */
    *count = c.n;
    return HIVEPORT_OK;
}

/* name, or NULL with the error that what at off could not be read. */
static char *name_or_error(hiveport *h, char *name, const char *what, uint64_t off)
{
    if (name == NULL)
        unreadable(h, what, off);
    return name;
}

char *hp_nav_key_name(hiveport *h, hive_node_h node)
{
    return name_or_error(h, hp_cells_key_name(&h->img, node), "a key name", node);
}

int hp_nav_value(hiveport *h, hive_node_h node, const char *name, hive_value_h *vk)
{
    uint64_t found;
    if (hp_cells_value(&h->img, node, name, &found) != 0)
        return corrupt(h, "value list", node);
    *vk = (hive_value_h)found;
    return HIVEPORT_OK;
}

int hp_nav_values(hiveport *h, hive_node_h node, hive_value_h **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    const unsigned char *list;
    uint32_t n;
    if (hp_cells_values(&h->img, node, &list, &n) != 0)
        return corrupt(h, "value list", node);
    hive_value_h *values = hp_calloc((size_t)n + 1, sizeof *values);
    if (values == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    for (uint32_t i = 0; i < n; i++)
        values[i] = (hive_value_h)hp_cells_value_at(list, i);
    *out = values;
    *count = n;
    return HIVEPORT_OK;
}

char *hp_nav_value_name(hiveport *h, hive_value_h vk)
{
    return name_or_error(h, hp_cells_value_name(&h->img, vk), "a value name", vk);
}

int hp_nav_value_type(hiveport *h, hive_value_h vk, uint32_t *type, size_t *len)
{
    const struct hp_patch *p = hp_inplace_find(h, vk);
    if (p != NULL) {
        *type = p->type;
        *len = p->len;
        return HIVEPORT_OK;
    }
    return hp_cells_value_type(&h->img, vk, type, len) == 0 ? HIVEPORT_OK : corrupt(h, "value", vk);
}

char *hp_value_data(hiveport *h, hive_value_h vk, hive_type *type, size_t *len)
{
    const struct hp_patch *p = hp_inplace_find(h, vk);
    if (p != NULL) {
        char *copy = hp_malloc(p->len ? p->len : 1);
        if (copy == NULL) {
            errno = ENOMEM;
            return NULL;
        }
        memcpy(copy, p->data, p->len);
        *type = (hive_type)p->type;
        *len = p->len;
        return copy;
    }
    uint32_t t;
    char *data = hp_cells_value_data(&h->img, vk, &t, len);
    *type = (hive_type)t;
    return data;
}

void hp_nav_prefetch_key(const hiveport *h, hive_node_h node)
{
    if (node >= HP_REGF_HEADER_SIZE && node + 0x60 <= h->img.end) {
        __builtin_prefetch(h->img.data + node);        /* size, signature, flags, counts */
        __builtin_prefetch(h->img.data + node + 0x50); /* the name */
    }
}

uint64_t hp_nav_key_time(hiveport *h, hive_node_h node)
{
    return hp_cells_key_time(&h->img, node);
}
