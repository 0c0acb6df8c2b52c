/* controlsets.c: the Select key, and the control sets a --controlset target stands for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_select_read(hiveport *h, struct cli_select *sel)
{
    memset(sel, 0, sizeof *sel);
    sel->present = true;
    for (int field = HIVEPORT_SELECT_CURRENT; field <= HIVEPORT_SELECT_LASTKNOWNGOOD; field++) {
        int rc = hiveport_select_value(h, field, &sel->value[field]);
        if (rc == HIVEPORT_E_NO_SELECT) {
            sel->present = false;
            return HIVEPORT_OK;
        }
        if (rc != HIVEPORT_OK && rc != HIVEPORT_E_BAD_SELECT)
            return rc;
        sel->valid[field] = rc == HIVEPORT_OK;
    }
    return HIVEPORT_OK;
}

int cli_targets(const char *prog, hiveport *h, int target, uint32_t **numbers, size_t *count)
{
    *numbers = NULL;
    *count = 0;
    size_t total = 1;
    if (target == HIVEPORT_CS_ALL && hiveport_controlsets(h, NULL, 0, &total) != HIVEPORT_OK)
        return cli_fail(prog, h);
    if (total == 0) {
        cli_error(prog, "%s: the hive has no ControlSetNNN key", hiveport_name(h));
        return CLI_FAILED;
    }
    uint32_t *list = calloc(total, sizeof *list);
    if (list == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    int rc = target == HIVEPORT_CS_ALL ? hiveport_controlsets(h, list, total, &total)
                                       : hiveport_resolve_controlset(h, target, &list[0]);
    if (rc != HIVEPORT_OK) {
        free(list);
        /* A reader can still name a control set by its number. */
        return cli_fail_hint(prog, h, rc == HIVEPORT_E_NO_SELECT ? CLI_HINT_NO_SELECT : NULL);
    }
    *numbers = list;
    *count = total;
    return CLI_OK;
}

int cli_check_select(const char *prog, hiveport *h)
{
    static const int fields[] = {HIVEPORT_CS_CURRENT, HIVEPORT_CS_DEFAULT, HIVEPORT_CS_LASTKNOWNGOOD};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint32_t number;
        if (hiveport_resolve_controlset(h, fields[i], &number) != HIVEPORT_OK)
            return cli_fail(prog, h);
    }
    return CLI_OK;
}

void cli_select_roles(const struct cli_select *sel, uint32_t number, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (int field = HIVEPORT_SELECT_CURRENT; field <= HIVEPORT_SELECT_LASTKNOWNGOOD && sel->present; field++) {
        if (!sel->valid[field] || sel->value[field] != number)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", cli_select_field_names[field]);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

void cli_warn_current_default(const char *prog, hiveport *h, int target, const char *verb)
{
    struct cli_select sel;
    uint32_t written;
    if (target == HIVEPORT_CS_ALL || cli_select_read(h, &sel) != HIVEPORT_OK || !sel.present ||
        !sel.valid[HIVEPORT_SELECT_CURRENT] || !sel.valid[HIVEPORT_SELECT_DEFAULT] ||
        sel.value[HIVEPORT_SELECT_CURRENT] == sel.value[HIVEPORT_SELECT_DEFAULT] ||
        hiveport_resolve_controlset(h, target, &written) != HIVEPORT_OK)
        return;
    cli_error(prog,
              "warning: %s: Select\\Current (%u) and Select\\Default (%u) differ: %s ControlSet%03u; "
              "Windows boots ControlSet%03u next (--controlset all writes every control set)",
              hiveport_name(h), sel.value[HIVEPORT_SELECT_CURRENT], sel.value[HIVEPORT_SELECT_DEFAULT], verb,
            written, sel.value[HIVEPORT_SELECT_DEFAULT]);
}
