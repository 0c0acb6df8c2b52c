/* check_hive.c: hiveport_check() on an open hive (the file as loaded, logs replayed, or the primary file as
 * it is), and the audit's check of the loaded hive; the checker itself is regf/check*.c. */
#include <stdbool.h>
#include <sys/mman.h>

#include "hive.h"
#include "hivecheck.h"

HIVEPORT_API int hiveport_check(hiveport *h, unsigned flags, hiveport_findings **out)
{
    int rc = hp_findings_call(h, out, "check");
    if (rc != HIVEPORT_OK)
        return rc;
    if (flags & ~HIVEPORT_CHECK_PRIMARY)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: unknown check flags 0x%x", hp_name(h),
                        flags & ~HIVEPORT_CHECK_PRIMARY);
    bool primary = (flags & HIVEPORT_CHECK_PRIMARY) && h->replay_fd >= 0;
    const unsigned char *data = h->img.data;
    uint64_t size = h->img.map_len;
    if (primary)
        rc = hp_check_map_fd(h, h->lock_fd >= 0 ? h->lock_fd : h->read_fd, "the primary file", &data, &size);
    char *note = NULL;
    if (rc == HIVEPORT_OK && !primary && h->log_state == HIVEPORT_LOGS_REPLAYED &&
        (note = hp_format("The hive is dirty (sequence numbers %u and %u differ); its transaction logs were "
                          "replayed in memory (%s) and this check read the result, as Windows would load it; "
                          "check the primary file as it is with --no-logs.",
                          h->seq_primary, h->seq_secondary, h->log_report)) == NULL)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h));
    if (rc == HIVEPORT_OK)
        rc = hp_check_run(h, data, size, note, false, out);
    hp_free(note);
    if (primary && data != NULL)
        munmap((void *)data, (size_t)size);
    return rc;
}
