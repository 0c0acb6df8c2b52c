/* fuzz_check.c: arbitrary bytes through the structural checker, directly (hp_check_buffer on the bytes, as
 * the commit-time verification runs it) and through the API (hiveport_open with HIVEPORT_OPEN_DAMAGED, then
 * hiveport_check, also with HIVEPORT_CHECK_PRIMARY; and on one input in 4 every other read of that handle).
 *
 * What must hold: no crash, no hang, memory bounded by the input; every finding well formed (a known
 * severity, a code, a message, an offset inside the file); at most the list's limit plus its summary; the
 * API reaches the same number of findings as the direct run on the same bytes.  Most inputs get the
 * checksum their header gives (1 in 16 keep theirs), so that mutations reach the cells. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hivecheck.h"

#ifndef HP_FUZZ_FIXTURES
#define HP_FUZZ_FIXTURES "build/fixtures"
#endif

/* A handle to report failures on: the direct run needs one, whatever the bytes. */
static hiveport *reporter(void)
{
    static hiveport *h;
    if (h == NULL) {
        char path[4096];
        const char *dir = getenv("HIVEPORT_FIXTURES");
        snprintf(path, sizeof path, "%s/system-basic.hive", dir && *dir ? dir : HP_FUZZ_FIXTURES);
        FZ_ASSERT(hiveport_open(path, 0, &h) == HIVEPORT_OK, "cannot open the fixture %s", path);
    }
    return h;
}

static size_t well_formed(const hiveport_findings *f, size_t size)
{
    size_t n = hiveport_findings_count(f);
    FZ_ASSERT(n <= HP_FINDINGS_MAX + 1, "%zu findings", n);
    for (size_t i = 0; i < n; i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        FZ_ASSERT(x != NULL && x->severity >= HIVEPORT_SEVERITY_INFO && x->severity <= HIVEPORT_SEVERITY_ERROR,
                  "finding %zu: bad severity", i);
        FZ_ASSERT(x->code != NULL && x->code[0] != '\0' && x->message != NULL && x->message[0] != '\0',
                  "finding %zu: no code or message", i);
        FZ_ASSERT(x->offset < size || (x->offset == 0 && size == 0), "finding %zu (%s): offset 0x%llx past %zu bytes",
                  i, x->code, (unsigned long long)x->offset, size);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_copy_fixed(data, size);
    if (buf == NULL)
        return 0;

    hiveport_findings *f = NULL;
    int rc = hp_check_buffer(reporter(), buf, size, &f);
    FZ_ASSERT(rc == HIVEPORT_OK, "hp_check_buffer: %s", hiveport_errmsg(reporter()));
    size_t direct = well_formed(f, size);
    hiveport_findings_free(f);

    const char *path = fz_write_file("hive", buf, size);
    hiveport *h = NULL;
    rc = hiveport_open(path, HIVEPORT_OPEN_DAMAGED, &h);
    if (rc == HIVEPORT_OK) {
        /* The primary flag changes nothing without replayed logs: one input in 8 is enough for it. */
        unsigned last = fz_hash(data, size) % 8 == 1 ? HIVEPORT_CHECK_PRIMARY : 0;
        for (unsigned flags = 0; flags <= last; flags++) {
            f = NULL;
            rc = hiveport_check(h, flags, &f);
            if (rc != HIVEPORT_OK) {
                fz_expect_explained(h, rc, "hiveport_check");
                continue;
            }
            size_t n = well_formed(f, size);
            /* No logs beside the file: the handle holds these very bytes. */
            FZ_ASSERT(n == direct, "hiveport_check found %zu, the direct run %zu", n, direct);
            hiveport_findings_free(f);
        }
        /* A damaged hive's handle is for the check, but every other read must still fail cleanly. */
        if (fz_hash(data, size) % 4 == 2)
            fz_read_everything(h);
    } else {
        fz_expect_explained(h, rc, "hiveport_open");
    }
    hiveport_close(h);
    free(buf);
    return 0;
}
