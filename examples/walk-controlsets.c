/* walk-controlsets.c: lists every ControlSetNNN of a SYSTEM hive, what the Select key calls it, and every
 * catalog setting set in it, with its port.  Never assumes ControlSet001/002: real hives skip numbers.
 *
 *   cc $(pkg-config --cflags hiveport) walk-controlsets.c -o walk-controlsets $(pkg-config --libs hiveport)
 *   ./walk-controlsets SYSTEM */
#include <stdio.h>
#include <stdlib.h>

#include <hiveport.h>

static const char *const field_names[] = {"current", "default", "failed", "lastknowngood"};

static int walk(hiveport *h)
{
    /* First ask how many control sets there are, then fetch them. */
    size_t count = 0;
    int rc = hiveport_controlsets(h, NULL, 0, &count);
    uint32_t *numbers = rc == HIVEPORT_OK ? calloc(count ? count : 1, sizeof *numbers) : NULL;
    if (rc == HIVEPORT_OK && numbers == NULL)
        return HIVEPORT_E_NOMEM;
    if (rc == HIVEPORT_OK)
        rc = hiveport_controlsets(h, numbers, count, &count);

    for (size_t i = 0; rc == HIVEPORT_OK && i < count; i++) {
        printf("ControlSet%03u", numbers[i]);
        for (int field = HIVEPORT_SELECT_CURRENT; field <= HIVEPORT_SELECT_LASTKNOWNGOOD; field++) {
            uint32_t n;
            if (hiveport_select_value(h, field, &n) == HIVEPORT_OK && n == numbers[i])
                printf(" %s", field_names[field]);
        }
        putchar('\n');
        for (size_t j = 0; rc == HIVEPORT_OK && j < hiveport_catalog_count(); j++) {
            const hiveport_setting *s = hiveport_catalog_at(j);
            uint32_t port;
            int got = hiveport_get_port(h, s, (int)numbers[i], &port);
            if (got == HIVEPORT_OK)
                printf("  %-25s %u\n", s->id, port);
            else if (got == HIVEPORT_E_WRONG_TYPE || got == HIVEPORT_E_BAD_DATA)
                printf("  %-25s (%s)\n", s->id, hiveport_strerror(got)); /* Windows ignores such values */
            else if (got != HIVEPORT_E_NOT_SET)
                rc = got;
        }
    }
    free(numbers);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: walk-controlsets HIVE\n");
        return 2;
    }
    hiveport *h = NULL;
    int rc = hiveport_open(argv[1], 0, &h);
    if (rc == HIVEPORT_OK) {
        if (hiveport_is_dirty(h) == 1)
            printf("(dirty: the transaction logs hold newer changes than these)\n");
        rc = walk(h);
    }
    if (rc != HIVEPORT_OK)
        fprintf(stderr, "walk-controlsets: %s\n",
                h != NULL && *hiveport_errmsg(h) ? hiveport_errmsg(h) : hiveport_strerror(rc));
    hiveport_close(h);
    return rc == HIVEPORT_OK ? 0 : 1;
}
