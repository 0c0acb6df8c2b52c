/* check_loaded.c: the structural check of the hive as the handle loaded it, for the audit's hive-damaged
 * finding and for saying where the damage is when libhivex refuses a hive. */
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

