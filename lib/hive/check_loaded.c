/* check_loaded.c: the structural check of the hive as the handle loaded it, for the audit's hive-damaged
 * finding and for saying where the damage is when a native change meets it. */
#include "hive.h"
#include "hivecheck.h"

int hp_check_loaded(hiveport *h, size_t *errors, char **first)
{
    hiveport_findings *f = NULL;
    *errors = 0;
    *first = NULL;
    int rc = hp_check_run(h, h->img.data, h->img.map_len, NULL, false, &f);
    if (rc == HIVEPORT_OK)
        rc = hp_check_errors(h, f, errors, first);
    hiveport_findings_free(f);
    return rc;
}


int hp_damage_error(hiveport *h, const char *what, uint64_t off)
{
    /* The file as loaded: with native changes under way img is the edited copy, the mapping the file. */
    const unsigned char *data = h->edit != NULL ? h->mapping : h->img.data;
    size_t len = h->edit != NULL ? h->mapping_len : h->img.map_len;
    hiveport_findings *f = NULL;
    size_t errors = 0;
    char *first = NULL;
    int rc = data != NULL ? hp_check_run(h, data, len, NULL, false, &f) : HIVEPORT_E_INVALID_ARG;
    if (rc == HIVEPORT_OK)
        rc = hp_check_errors(h, f, &errors, &first);
    hiveport_findings_free(f);
    hp_clear_error(h);
    if (rc == HIVEPORT_OK && first != NULL)
        rc = hp_error(h, HIVEPORT_E_CORRUPT,
                      "%s: cannot change the %s at offset 0x%llx: the hive structure is damaged (%zu error%s; the "
                      "first: %s)",
                      hp_name(h), what, (unsigned long long)off, errors, errors == 1 ? "" : "s", first);
    else
        rc = hp_error(h, HIVEPORT_E_CORRUPT, "%s: cannot change the %s at offset 0x%llx: it is damaged", hp_name(h),
                      what, (unsigned long long)off);
    hp_free(first);
    return rc;
}
