/* keypath.c: backslash-separated key paths: checking, walking and creating them natively. */
#include <string.h>

#include "hive.h"

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

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF): nothing else has a UTF-16
 * name to store. */
static bool valid_utf8(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned c = *p, n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (n == 9 || (n == 1 && c < 0xC2))
            return false;
        unsigned long cp = n ? c & (0x3Fu >> n) : c;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3Fu);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += n + 1;
    }
    return true;
}

int hp_setting_check(hiveport *h, const hiveport_setting *s)
{
    if (s == NULL || s->key == NULL || s->value_name == NULL)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: setting has no key or value name", hp_name(h));
    if (s->type != HIVEPORT_REG_DWORD && s->type != HIVEPORT_REG_SZ)
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: setting %s:%s has type %u; only REG_DWORD (4) and REG_SZ (1) hold ports",
                        hp_name(h), s->key, s->value_name, s->type);
    if (!valid_utf8(s->key) || !valid_utf8(s->value_name))
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: setting names must be valid UTF-8", hp_name(h));
    if (s->value_name[0] == '\0' || strlen(s->value_name) > HP_VALUE_NAME_MAX)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: setting %s has an empty or overlong value name",
                        hp_name(h), s->key);
    size_t depth = 0;
    for (const char *p = s->key;; depth++) {
        size_t len = strcspn(p, "\\");
        if (len == 0 || len > HP_NAME_MAX || depth == HP_PATH_MAX_DEPTH)
            return hp_error(h, HIVEPORT_E_INVALID_ARG,
                            "%s: key \"%s\" must be 1-%d names of 1-%d bytes separated by single "
                            "backslashes",
                            hp_name(h), s->key, HP_PATH_MAX_DEPTH, HP_NAME_MAX);
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

/* Creates what is missing natively (editkey.c). */
int hp_key_create(hiveport *h, hive_node_h node, const char *path, hive_node_h *out)
{
    char name[HP_NAME_MAX + 1];
    for (size_t i = 0; path_component(path, i, name, sizeof name) >= 0; i++) {
        hive_node_h child;
        int rc = hp_nav_child(h, node, name, &child);
        if (rc == HIVEPORT_OK && child == 0)
            rc = hp_edit_key_add(h, node, name, &child);
        if (rc != HIVEPORT_OK)
            return rc;
        node = child;
    }
    *out = node;
    return HIVEPORT_OK;
}
