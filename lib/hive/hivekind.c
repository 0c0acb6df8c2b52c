/* hivekind.c: is this the kind of hive a call needs?  A SYSTEM hive has a Select key or ControlSetNNN keys at
 * its root; a SOFTWARE hive has Microsoft and Classes.  Without this, a SOFTWARE hive given where a SYSTEM
 * hive belongs (or the reverse) reads as one where nothing is set, and the answers are wrong, not refused.
 * One message per kind, whatever the call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hive.h"

/* Whether the root has a key of this name; *has false when absent. */
static int root_has(hiveport *h, const char *name, bool *has)
{
    hive_node_h node = 0;
    int rc = hp_nav_child(h, hp_nav_root(h), name, &node);
    *has = rc == HIVEPORT_OK && node != 0;
    return rc;
}

/* Select, or any ControlSetNNN: a SYSTEM hive, perhaps damaged (the callers say what is missing). */
static int looks_like_system(hiveport *h, bool *system)
{
    int rc = root_has(h, "Select", system);
    if (rc != HIVEPORT_OK || *system)
        return rc;
    hive_node_h *children;
    size_t n;
    if ((rc = hp_nav_children(h, hp_nav_root(h), &children, &n)) != HIVEPORT_OK)
        return rc;
    for (size_t i = 0; i < n && !*system; i++) {
        char *name = hp_nav_key_name(h, children[i]);
        if (name == NULL) {
            rc = h->status;
            break;
        }
        /* "ControlSet" and three digits, not 000, as Windows names them */
        *system = strncasecmp(name, "ControlSet", 10) == 0 && strlen(name) == 13 &&
                  strspn(name + 10, "0123456789") == 3 && strcmp(name + 10, "000") != 0;
        free(name);
    }
    free(children);
    return rc;
}

static int looks_like_software(hiveport *h, bool *software)
{
    bool microsoft, classes;
    int rc = root_has(h, "Microsoft", &microsoft);
    if (rc == HIVEPORT_OK)
        rc = root_has(h, "Classes", &classes);
    *software = rc == HIVEPORT_OK && microsoft && classes;
    return rc;
}

/* One kind of hive: how to recognize it, and what its root lacks when it is not one. */
struct kind {
    const char *name;
    int (*looks_like)(hiveport *h, bool *is);
    const char *lacks;
};
static const struct kind system_kind = {"SYSTEM", looks_like_system, "has no Select key and no ControlSetNNN key"};
static const struct kind software_kind = {"SOFTWARE", looks_like_software, "lacks the Microsoft and Classes keys"};

/* HIVEPORT_OK when h is of kind want; else NOT_HIVE, naming the other kind when h is that. */
static int require(hiveport *h, const struct kind *want, const struct kind *other)
{
    bool is_want, is_other;
    int rc = want->looks_like(h, &is_want);
    if (rc != HIVEPORT_OK || is_want)
        return rc;
    if ((rc = other->looks_like(h, &is_other)) != HIVEPORT_OK)
        return rc;
    char note[32] = "";
    if (is_other)
        snprintf(note, sizeof note, " (it is a %s hive)", other->name);
    return hp_error(h, HIVEPORT_E_NOT_HIVE, "%s: not a %s hive: its root %s%s; give Windows\\System32\\config\\%s",
                    hp_name(h), want->name, want->lacks, note, want->name);
}

int hp_require_system(hiveport *h)
{
    return require(h, &system_kind, &software_kind);
}

int hp_require_software(hiveport *h)
{
    return require(h, &software_kind, &system_kind);
}
