/* fuzz_open.c: arbitrary bytes as a hive file, opened read-only and read in every way the API offers.
 *
 * Most inputs get the checksum their header's bytes give (1 in 16 keep theirs), so that mutations reach
 * libhivex and our reading code instead of all stopping at the header checksum. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_copy_fixed(data, size);
    if (buf == NULL)
        return 0;
    const char *path = fz_write_file("hive", buf, size);

    hiveport *h = NULL;
    int rc = hiveport_open(path, 0, &h);
    if (rc == HIVEPORT_OK) {
        fz_read_everything(h);
    } else {
        fz_expect_explained(h, rc, "hiveport_open");
        FZ_ASSERT(strstr(hiveport_errmsg(h), path) != NULL, "open's message \"%s\" does not name the file",
                  hiveport_errmsg(h));
        uint32_t v;
        FZ_ASSERT(hiveport_select_value(h, HIVEPORT_SELECT_CURRENT, &v) == HIVEPORT_E_INVALID_ARG,
                  "a failed handle answered");
    }
    hiveport_close(h);
    free(buf);
    return 0;
}
