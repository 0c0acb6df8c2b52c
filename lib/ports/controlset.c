/* controlset.c: the Select key and the ControlSetNNN keys that stand in for CurrentControlSet offline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ports.h"

static const char *const select_names[] = {
    [HIVEPORT_SELECT_CURRENT] = "Current",
    [HIVEPORT_SELECT_DEFAULT] = "Default",
    [HIVEPORT_SELECT_FAILED] = "Failed",
    [HIVEPORT_SELECT_LASTKNOWNGOOD] = "LastKnownGood",
};

static int read_select(hiveport *h, int field, uint32_t *number)
{
    hive_node_h select;
    int rc = hp_nav_child(h, hp_nav_root(h), "Select", &select);
    if (rc != HIVEPORT_OK)
        return rc;
    if (select == 0)
        return hp_error(h, HIVEPORT_E_NO_SELECT, "%s: no Select key at the root: not a usable SYSTEM hive",
                        hp_name(h));
    const char *name = select_names[field];
    hive_value_h value;
    if ((rc = hp_nav_value(h, select, name, &value)) != HIVEPORT_OK)
        return rc;
    if (value == 0)
        return hp_error(h, HIVEPORT_E_BAD_SELECT, "%s: Select has no \"%s\" value", hp_name(h), name);
    hive_type type;
    size_t len;
    char *data = hp_value_data(h, value, &type, &len);
    if (data == NULL)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_CORRUPT,
                        "%s: Select\\%s is unreadable: %s", hp_name(h), name, strerror(errno));
    if (type != hive_t_REG_DWORD || len != 4)
        rc = hp_error(h, HIVEPORT_E_BAD_SELECT, "%s: Select\\%s is %s of %zu bytes, expected a 4-byte REG_DWORD",
                      hp_name(h), name, hp_type_name(type), len);
    else
        *number = (uint32_t)(unsigned char)data[0] | (uint32_t)(unsigned char)data[1] << 8 |
                  (uint32_t)(unsigned char)data[2] << 16 | (uint32_t)(unsigned char)data[3] << 24;
    free(data);
    return rc;
}

HIVEPORT_API int hiveport_select_value(hiveport *h, int field, uint32_t *number)
{
    if (!hp_handle_usable(h) || number == NULL)
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (field < HIVEPORT_SELECT_CURRENT || field > HIVEPORT_SELECT_LASTKNOWNGOOD)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "unknown Select field %d", field);
    int rc = hp_require_system(h);
    return rc != HIVEPORT_OK ? rc : read_select(h, field, number);
}

/* The number in a "ControlSetNNN" name as Windows writes it (%03u, 1-999), or 0. */
static uint32_t controlset_number(const char *name)
{
    if (strncasecmp(name, "ControlSet", 10) != 0)
        return 0;
    const char *digits = name + 10;
    if (strlen(digits) != 3 || strspn(digits, "0123456789") != 3)
        return 0;
    return (uint32_t)strtoul(digits, NULL, 10);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

HIVEPORT_API int hiveport_controlsets(hiveport *h, uint32_t *numbers, size_t capacity, size_t *count)
{
    if (!hp_handle_usable(h) || count == NULL || (numbers == NULL && capacity > 0))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    hive_node_h *children;
    size_t nchildren;
    int rc = hp_require_system(h);
    if (rc != HIVEPORT_OK)
        return rc;
    rc = hp_nav_children(h, hp_nav_root(h), &children, &nchildren);
    if (rc != HIVEPORT_OK)
        return rc;
    /* Collect all, sort, then copy out: the caller's buffer may be smaller than the total. */
    uint32_t found[HP_CONTROLSET_MAX];
    size_t n = 0;
    for (size_t i = 0; i < nchildren; i++) {
        char *name = hp_nav_key_name(h, children[i]);
        if (name == NULL) {
            rc = h->status;
            break;
        }
        uint32_t number = controlset_number(name);
        free(name);
        if (number == 0 || n == HP_CONTROLSET_MAX)
            continue;
        /* A name with NULs in it ("ControlSet001\0\0") reads as one but is another key to Windows:
         * list a number only when looking it up finds this very key. */
        hive_node_h named;
        if (hp_controlset_node(h, number, &named) != HIVEPORT_OK || named != children[i]) {
            hp_clear_error(h);
            continue;
        }
        bool seen = false; /* a corrupt hive may name a key twice */
        for (size_t j = 0; j < n; j++)
            seen = seen || found[j] == number;
        if (!seen)
            found[n++] = number;
    }
    free(children);
    if (rc != HIVEPORT_OK)
        return rc;
    qsort(found, n, sizeof found[0], cmp_u32);
    for (size_t i = 0; i < n && i < capacity; i++)
        numbers[i] = found[i];
    *count = n;
    return HIVEPORT_OK;
}

int hp_controlset_node(hiveport *h, uint32_t number, hive_node_h *node)
{
    char name[32];
    snprintf(name, sizeof name, "ControlSet%03u", number);
    int rc = hp_nav_child(h, hp_nav_root(h), name, node);
    if (rc == HIVEPORT_OK && *node == 0)
        rc = hp_error(h, HIVEPORT_E_NO_CONTROLSET, "%s: %s does not exist", hp_name(h), name);
    return rc;
}

static int resolve(hiveport *h, int target, uint32_t *number)
{
    static const int field_of_target[] = {
        [-HIVEPORT_CS_CURRENT] = HIVEPORT_SELECT_CURRENT,
        [-HIVEPORT_CS_DEFAULT] = HIVEPORT_SELECT_DEFAULT,
        [-HIVEPORT_CS_LASTKNOWNGOOD] = HIVEPORT_SELECT_LASTKNOWNGOOD,
    };
    uint32_t n;
    if (target >= HIVEPORT_CS_LASTKNOWNGOOD && target <= HIVEPORT_CS_CURRENT) {
        int field = field_of_target[-target];
        int rc = read_select(h, field, &n);
        if (rc != HIVEPORT_OK)
            return rc;
        if (n < 1 || n > HP_CONTROLSET_MAX)
            return hp_error(h, HIVEPORT_E_BAD_SELECT,
                            "%s: Select\\%s is %u, which names no control set (1-999)", hp_name(h),
                            select_names[field], n);
    } else if (target >= 1 && target <= HP_CONTROLSET_MAX) {
        n = (uint32_t)target;
    } else {
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: control set target %d is not 1-999, current, "
                        "default or lastknowngood", hp_name(h), target);
    }
    hive_node_h node;
    int rc = hp_controlset_node(h, n, &node);
    if (rc == HIVEPORT_OK)
        *number = n;
    return rc;
}

HIVEPORT_API int hiveport_resolve_controlset(hiveport *h, int target, uint32_t *number)
{
    if (!hp_handle_usable(h) || number == NULL)
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    /* A target that is no target is refused as such, whatever the hive. */
    bool valid = (target >= HIVEPORT_CS_LASTKNOWNGOOD && target <= HIVEPORT_CS_CURRENT) ||
                 (target >= 1 && target <= HP_CONTROLSET_MAX);
    int rc = valid ? hp_require_system(h) : HIVEPORT_OK;
    return rc != HIVEPORT_OK ? rc : resolve(h, target, number);
}

int hp_controlset_targets(hiveport *h, int target, uint32_t *numbers, size_t capacity, size_t *count)
{
    int rc = hp_require_system(h);
    if (rc != HIVEPORT_OK)
        return rc;
    if (target != HIVEPORT_CS_ALL) {
        *count = 1;
        return resolve(h, target, &numbers[0]);
    }
    rc = hiveport_controlsets(h, numbers, capacity, count);
    if (rc == HIVEPORT_OK && *count == 0)
        rc = hp_error(h, HIVEPORT_E_NO_CONTROLSET, "%s: the hive has no ControlSetNNN key", hp_name(h));
    return rc;
}

HIVEPORT_API int hiveport_parse_controlset(const char *text, int *target)
{
    static const struct {
        const char *name;
        int target;
    } names[] = {
        {"current", HIVEPORT_CS_CURRENT},
        {"default", HIVEPORT_CS_DEFAULT},
        {"lastknowngood", HIVEPORT_CS_LASTKNOWNGOOD},
        {"all", HIVEPORT_CS_ALL},
    };
    if (text == NULL || target == NULL)
        return HIVEPORT_E_INVALID_ARG;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(text, names[i].name) == 0) {
            *target = names[i].target;
            return HIVEPORT_OK;
        }
    size_t len = strlen(text);
    if (len == 0 || len > 3 || strspn(text, "0123456789") != len)
        return HIVEPORT_E_INVALID_ARG;
    unsigned long n = strtoul(text, NULL, 10);
    if (n < 1 || n > HP_CONTROLSET_MAX)
        return HIVEPORT_E_INVALID_ARG;
    *target = (int)n;
    return HIVEPORT_OK;
}

int hp_select_usable(hiveport *h)
{
    /* Offline editing needs a SYSTEM hive Windows can boot: whatever the target, every control set that
     * Select names must exist (static-rpc-ports.md, "Finding the control set"). */
    static const int targets[] = {HIVEPORT_CS_CURRENT, HIVEPORT_CS_DEFAULT, HIVEPORT_CS_LASTKNOWNGOOD};
    int kind = hp_require_system(h);
    if (kind != HIVEPORT_OK)
        return kind;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        uint32_t n;
        int rc = resolve(h, targets[i], &n);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    return HIVEPORT_OK;
}
