/* timestamp.c: the times a write leaves behind (key last-write times, the header), reproducibly.
 *
 * When SOURCE_DATE_EPOCH is set (https://reproducible-builds.org/specs/source-date-epoch/), every time
 * written is that instant, so the same hive and the same edits give the same bytes on any machine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hive.h"
#include "le.h"

#define FILETIME_UNIX_EPOCH 116444736000000000ULL /* 1970-01-01 in 100 ns units since 1601 */
#define FILETIME_PER_SECOND 10000000ULL
#define SOURCE_DATE_EPOCH_MAX 253402300799ULL /* 9999-12-31T23:59:59Z */

int hp_write_time(hiveport *h, uint64_t *filetime)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde != NULL) {
        size_t n = strlen(sde);
        unsigned long long secs = 0;
        if (n == 0 || n > 12 || strspn(sde, "0123456789") != n ||
            (secs = strtoull(sde, NULL, 10)) > SOURCE_DATE_EPOCH_MAX)
            return hp_error(h, HIVEPORT_E_INVALID_ARG,
                            "%s: SOURCE_DATE_EPOCH=\"%s\" is not a number of seconds since 1970", hp_name(h), sde);
        *filetime = FILETIME_UNIX_EPOCH + secs * FILETIME_PER_SECOND;
        return HIVEPORT_OK;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *filetime = FILETIME_UNIX_EPOCH + (uint64_t)ts.tv_sec * FILETIME_PER_SECOND + (uint64_t)ts.tv_nsec / 100;
    return HIVEPORT_OK;
}

int hp_touch_key(hiveport *h, hive_node_h key)
{
    for (size_t i = 0; i < h->ntouched; i++)
        if (h->touched[i] == key)
            return HIVEPORT_OK;
    hive_node_h *touched = hp_grow(h->touched, h->ntouched, &h->captouched, sizeof *touched, 16);
    if (touched == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    h->touched = touched;
    h->touched[h->ntouched++] = key;
    return HIVEPORT_OK;
}

void hp_touched_clear(hiveport *h)
{
    hp_free(h->touched);
    h->touched = NULL;
    h->ntouched = h->captouched = 0;
}

int hp_stamp_file(hiveport *h, int fd, const hive_node_h *keys, size_t nkeys, bool bump_sequence,
                  uint64_t filetime)
{
    unsigned char stamp[8];
    hp_put_le64(stamp, filetime);
    for (size_t i = 0; i < nkeys; i++) {
        unsigned char nk[8]; /* size, "nk", flags; the timestamp follows at +8 */
        if (pread(fd, nk, sizeof nk, (off_t)keys[i]) != (ssize_t)sizeof nk || memcmp(nk + 4, "nk", 2) != 0)
            return hp_error(h, HIVEPORT_E_CORRUPT, "%s: no key record at offset 0x%zx to time-stamp", hp_name(h),
                            (size_t)keys[i]);
        if (pwrite(fd, stamp, sizeof stamp, (off_t)keys[i] + 8) != (ssize_t)sizeof stamp)
            return hp_error(h, HIVEPORT_E_IO, "%s: cannot write the new hive: %s", hp_name(h), strerror(errno));
    }
    unsigned char header[512];
    if (pread(fd, header, sizeof header, 0) != (ssize_t)sizeof header)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot reread the new header: %s", hp_name(h), strerror(errno));
    if (bump_sequence) {
        /* What a completed Windows write leaves: both numbers one past the old primary. */
        uint32_t seq = (uint32_t)header[4] | (uint32_t)header[5] << 8 | (uint32_t)header[6] << 16 |
                       (uint32_t)header[7] << 24;
        hp_put_le32(header + 0x04, seq + 1);
        hp_put_le32(header + 0x08, seq + 1);
    }
    hp_put_le64(header + 0x0C, filetime);
    hp_put_le32(header + 0x1FC, hp_regf_checksum(header));
    if (pwrite(fd, header, sizeof header, 0) != (ssize_t)sizeof header)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot write the new header: %s", hp_name(h), strerror(errno));
    return HIVEPORT_OK;
}
