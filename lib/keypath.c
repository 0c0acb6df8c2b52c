/* keypath.c: backslash-separated key paths: checking, walking and creating them with libhivex. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define HP_VALUE_NAME_MAX 16383 /* Windows' limit, in characters */

/* Copies component number i (0-based) of path into buf; returns its length, or -1 past the end. */
static int path_component(const char *path, size_t i, char *buf, size_t buf_len)
{
    const char *start = path;
    for (; i > 0; i--) {
        start = strchr(start, '\\');
        if (start == NULL)
            return -1;
        start++;
    }
    size_t len = strcspn(start, "\\");
    if (len >= buf_len)
        len = buf_len - 1;
    memcpy(buf, start, len);
    buf[len] = '\0';
    return (int)len;
}

int hp_setting_check(hiveport *h, const hiveport_setting *s)
{
    if (s == NULL || s->key == NULL || s->value_name == NULL)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: setting has no key or value name", h->path);
    if (s->type != HIVEPORT_REG_DWORD && s->type != HIVEPORT_REG_SZ)
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: setting %s:%s has type %u; only REG_DWORD (4) and REG_SZ (1) hold ports",
                        h->path, s->key, s->value_name, s->type);
    if (s->value_name[0] == '\0' || strlen(s->value_name) > HP_VALUE_NAME_MAX)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: setting %s has an empty or overlong value name",
                        h->path, s->key);
    size_t depth = 0;
    for (const char *p = s->key;; depth++) {
        size_t len = strcspn(p, "\\");
        if (len == 0 || len > HP_NAME_MAX || depth == HP_PATH_MAX_DEPTH)
            return hp_error(h, HIVEPORT_E_INVALID_ARG,
                            "%s: key \"%s\" must be 1-%d names of 1-%d bytes separated by single "
                            "backslashes",
                            h->path, s->key, HP_PATH_MAX_DEPTH, HP_NAME_MAX);
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return HIVEPORT_OK;
}

int hp_key_lookup(hiveport *h, hive_node_h node, const char *path, hive_node_h *found)
{
    char name[HP_NAME_MAX + 1];
    for (size_t i = 0; path_component(path, i, name, sizeof name) >= 0; i++) {
        int rc = hp_nav_child(h, node, name, &node);
        if (rc != HIVEPORT_OK)
            return rc;
        if (node == 0) {
            *found = 0;
            return HIVEPORT_OK;
        }
    }
    *found = node;
    return HIVEPORT_OK;
}

int hp_key_create(hiveport *h, hive_node_h node, const char *path, hive_node_h *out)
{
    char name[HP_NAME_MAX + 1];
    for (size_t i = 0; path_component(path, i, name, sizeof name) >= 0; i++) {
        errno = 0;
        hive_node_h child = hivex_node_get_child(h->hive, node, name);
        if (child == 0 && errno == 0) {
            child = hivex_node_add_child(h->hive, node, name);
            if (child != 0) {
                h->changed = true;
                int rc = hp_touch_key(h, node); /* a new subkey is a change to its parent */
                if (rc == HIVEPORT_OK)
                    rc = hp_touch_key(h, child);
                if (rc != HIVEPORT_OK)
                    return rc;
            }
        }
        if (child == 0)
            return hp_error(h, hp_status_from_errno(errno), "%s: cannot create key %s in %s: %s",
                            h->path, name, path, strerror(errno));
        node = child;
    }
    *out = node;
    return HIVEPORT_OK;
}
