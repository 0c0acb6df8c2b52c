/* port.c: reading, setting and removing a setting's port in one or every control set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ports.h"

/* Where a setting lives in one control set, and what is there now. */
struct located {
    uint32_t controlset;
    hive_node_h key;    /* 0 when the key is missing */
    hive_value_h value; /* 0 when the value is missing */
    hive_type type;
    size_t len;
};

static int locate(hiveport *h, const hiveport_setting *s, uint32_t controlset, struct located *loc)
{
    memset(loc, 0, sizeof *loc);
    loc->controlset = controlset;
    hive_node_h cs, services;
    int rc = hp_controlset_node(h, controlset, &cs);
    if (rc == HIVEPORT_OK)
        rc = hp_key_lookup(h, cs, "Services", &services);
    if (rc == HIVEPORT_OK && services != 0)
        rc = hp_key_lookup(h, services, s->key, &loc->key);
    if (rc != HIVEPORT_OK || loc->key == 0)
        return rc;
    if ((rc = hp_nav_value(h, loc->key, s->value_name, &loc->value)) != HIVEPORT_OK || loc->value == 0)
        return rc;
    uint32_t type;
    rc = hp_nav_value_type(h, loc->value, &type, &loc->len);
    loc->type = (hive_type)type;
    return rc;
}

/* The port in a located value, checked against the setting's type. */
static int decode(hiveport *h, const hiveport_setting *s, const struct located *loc, uint32_t *port)
{
    if (loc->type != (hive_type)s->type)
        return hp_error(h, HIVEPORT_E_WRONG_TYPE,
                        "%s: ControlSet%03u\\Services\\%s: value \"%s\" is %s, expected %s", hp_name(h),
                        loc->controlset, s->key, s->value_name, hp_type_name(loc->type),
                        hp_type_name(s->type));
    hive_type type;
    size_t len;
    errno = 0;
    char *data = hp_value_data(h, loc->value, &type, &len);
    if (data == NULL)
        return hp_error(h, hp_status_from_errno(errno),
                        "%s: ControlSet%03u\\Services\\%s: value \"%s\" is unreadable: %s", hp_name(h),
                        loc->controlset, s->key, s->value_name, strerror(errno));
    int rc = HIVEPORT_OK;
    if (s->type == HIVEPORT_REG_DWORD) {
        if (len != 4)
            rc = hp_error(h, HIVEPORT_E_BAD_DATA,
                          "%s: ControlSet%03u\\Services\\%s: REG_DWORD \"%s\" holds %zu bytes, not 4",
                          hp_name(h), loc->controlset, s->key, s->value_name, len);
        else
            *port = (uint32_t)(unsigned char)data[0] | (uint32_t)(unsigned char)data[1] << 8 |
                    (uint32_t)(unsigned char)data[2] << 16 | (uint32_t)(unsigned char)data[3] << 24;
    } else if (hp_sz_to_number(data, len, port) != 0) {
        rc = hp_error(h, HIVEPORT_E_BAD_DATA,
                      "%s: ControlSet%03u\\Services\\%s: REG_SZ \"%s\" is not a decimal number", hp_name(h),
                      loc->controlset, s->key, s->value_name);
    }
    free(data);
    return rc;
}

static int check_args(hiveport *h, const hiveport_setting *s)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    return hp_setting_check(h, s);
}

HIVEPORT_API int hiveport_get_port(hiveport *h, const hiveport_setting *s, int target, uint32_t *port)
{
    int rc = check_args(h, s);
    if (rc != HIVEPORT_OK)
        return rc;
    if (port == NULL || target == HIVEPORT_CS_ALL)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: get needs one control set and a place for the port",
                        hp_name(h));
    uint32_t cs;
    struct located loc;
    if ((rc = hiveport_resolve_controlset(h, target, &cs)) != HIVEPORT_OK ||
        (rc = locate(h, s, cs, &loc)) != HIVEPORT_OK)
        return rc;
    if (loc.value == 0)
        return hp_error(h, HIVEPORT_E_NOT_SET, "%s: ControlSet%03u\\Services\\%s: \"%s\" is not set", hp_name(h),
                        cs, s->key, s->value_name);
    return decode(h, s, &loc, port);
}

/* The registry bytes for port in the setting's type; returns the length. */
static size_t encode(const hiveport_setting *s, uint32_t port, char buf[24])
{
    if (s->type == HIVEPORT_REG_SZ)
        return hp_number_to_sz(port, buf);
    for (int i = 0; i < 4; i++)
        buf[i] = (char)(port >> (8 * i));
    return 4;
}

/* Locates the setting in every target control set, refusing before anything changes. */
static int plan(hiveport *h, const hiveport_setting *s, int target, unsigned flags, uint32_t port,
                struct located *locs, size_t *count)
{
    uint32_t numbers[HP_CONTROLSET_MAX];
    int rc = hp_select_usable(h);
    if (rc == HIVEPORT_OK)
        rc = hp_controlset_targets(h, target, numbers, HP_CONTROLSET_MAX, count);
    for (size_t i = 0; rc == HIVEPORT_OK && i < *count; i++) {
        rc = locate(h, s, numbers[i], &locs[i]);
        if (rc != HIVEPORT_OK || locs[i].value == 0 || port == UINT32_MAX)
            continue;
        uint32_t current;
        int drc = decode(h, s, &locs[i], &current);
        if (drc == HIVEPORT_OK && current == port) {
            locs[i].controlset = 0; /* already as asked: nothing to do here */
        } else if (drc == HIVEPORT_E_WRONG_TYPE || drc == HIVEPORT_E_BAD_DATA) {
            if (!(flags & HIVEPORT_SET_REPLACE_TYPE) && drc == HIVEPORT_E_WRONG_TYPE)
                return rc = drc;
            hp_clear_error(h); /* replaced below */
        } else {
            rc = drc;
        }
    }
    return rc;
}

/* Writes the encoded port into one control set: in place when it fits, else natively. */
static int apply_set(hiveport *h, const hiveport_setting *s, uint32_t controlset, const char *data, size_t len)
{
    /* Locate afresh: an earlier flush may have moved this key's values. */
    struct located loc;
    int rc = locate(h, s, controlset, &loc);
    if (rc != HIVEPORT_OK)
        return rc;
    if (loc.value != 0 && loc.type == (hive_type)s->type) {
        bool done;
        if ((rc = hp_inplace_set(h, loc.key, loc.value, s->type, data, len, &done)) != HIVEPORT_OK)
            return rc;
        if (done) {
            h->changed = true;
            return HIVEPORT_OK;
        }
    }
    hive_node_h cs, key;
    char path[HP_NAME_MAX * HP_PATH_MAX_DEPTH + 16];
    snprintf(path, sizeof path, "Services\\%s", s->key);
    if ((rc = hp_controlset_node(h, controlset, &cs)) != HIVEPORT_OK || (rc = hp_key_create(h, cs, path, &key)) != HIVEPORT_OK) {
        h->broken = h->changed;
        return rc;
    }
    /* Natively: the value is replaced (keeping its name's spelling) or added. */
    return hp_edit_value_set(h, key, loc.value, s->value_name, s->type, data, len);
}

HIVEPORT_API int hiveport_set_port(hiveport *h, const hiveport_setting *s, int target, uint32_t port,
                                   unsigned flags)
{
    int rc = check_args(h, s);
    if (rc != HIVEPORT_OK || (rc = hp_check_writable(h)) != HIVEPORT_OK)
        return rc;
    if (flags & ~HIVEPORT_SET_REPLACE_TYPE)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: unknown set flags 0x%x", hp_name(h), flags);
    if (port > 65535 || (port == 0 && !(s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC)))
        return hp_error(h, HIVEPORT_E_RANGE, "%s: port %u for %s:%s is outside %s", hp_name(h), port, s->key,
                        s->value_name,
                        (s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC) ? "0-65535 (0 = dynamic)" : "1-65535");

    struct located *locs = hp_calloc(HP_CONTROLSET_MAX, sizeof *locs);
    if (locs == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    size_t count = 0;
    rc = plan(h, s, target, flags, port, locs, &count);

    char data[24];
    size_t len = encode(s, port, data);
    for (size_t i = 0; rc == HIVEPORT_OK && i < count; i++) {
        if (locs[i].controlset != 0)
            rc = apply_set(h, s, locs[i].controlset, data, len);
    }
    hp_free(locs);
    return rc;
}

HIVEPORT_API int hiveport_unset_port(hiveport *h, const hiveport_setting *s, int target)
{
    int rc = check_args(h, s);
    if (rc != HIVEPORT_OK || (rc = hp_check_writable(h)) != HIVEPORT_OK)
        return rc;
    struct located *locs = hp_calloc(HP_CONTROLSET_MAX, sizeof *locs);
    if (locs == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    size_t count = 0;
    rc = plan(h, s, target, 0, UINT32_MAX, locs, &count);
    for (size_t i = 0; rc == HIVEPORT_OK && i < count; i++) {
        if (locs[i].value == 0)
            continue;
        /* Locate afresh: the rewrite of an earlier control set may have moved the values. */
        if ((rc = locate(h, s, locs[i].controlset, &locs[i])) != HIVEPORT_OK || locs[i].value == 0)
            continue;
        rc = hp_edit_value_delete(h, locs[i].key, locs[i].value);
    }
    hp_free(locs);
    return rc;
}
