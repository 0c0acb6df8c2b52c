/* fuzz_rpcrange.c: arbitrary bytes through the RPC port-range parsers of lib/rpcrange.c.
 *
 * Input: byte 0 is a mode, the rest the data.
 *   mode 0: a Ports REG_MULTI_SZ payload read as the RPC runtime reads it (hp_rpcrange_read)
 *   mode 1: the same payload parsed strictly, as hiveport writes it (hp_rpcrange_parse)
 *   mode 2: a caller's list, "5000-5100,5200" (hp_rpcrange_parse_list), the data up to its first NUL
 *   mode 3: a PortsInternetAvailable / UseInternetPorts REG_SZ payload (hp_rpcrange_read_yn)
 * Whatever is accepted must be well formed (each range low <= high <= 65535, at least one where the
 * function promises it); what hiveport would write of it (hp_rpcrange_format) must read back, as the
 * runtime reads it, to the same ranges; normalising must give sorted, disjoint ranges covering the same
 * ports; and a refusal must say why.  The sanitizers catch the rest. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "rpcrange.h"

static void check_ranges(const struct hp_rpc_range *r, size_t n, const char *who)
{
    for (size_t i = 0; i < n; i++)
        FZ_ASSERT(r[i].low <= r[i].high && r[i].high <= 65535, "%s: range %zu is %u-%u", who, i, r[i].low,
                  r[i].high);
}

/* Normalising keeps the same ports, sorted and disjoint. */
static void check_normalize(const struct hp_rpc_range *r, size_t n)
{
    if (n == 0)
        return;
    struct hp_rpc_range *copy = malloc(n * sizeof *copy);
    if (copy == NULL)
        return;
    memcpy(copy, r, n * sizeof *copy);
    size_t m = hp_rpcrange_normalize(copy, n);
    FZ_ASSERT(m >= 1 && m <= n, "normalize left %zu of %zu ranges", m, n);
    for (size_t i = 1; i < m; i++)
        FZ_ASSERT(copy[i - 1].high + 1 < copy[i].low, "normalize left %u-%u before %u-%u", copy[i - 1].low,
                  copy[i - 1].high, copy[i].low, copy[i].high);
    FZ_ASSERT(hp_rpcrange_size(copy, m) == hp_rpcrange_size(r, n), "normalize changed the number of ports");
    for (size_t i = 0; i < n; i++)
        FZ_ASSERT(hp_rpcrange_contains(copy, m, r[i].low) && hp_rpcrange_contains(copy, m, r[i].high),
                  "normalize lost %u-%u", r[i].low, r[i].high);
    FZ_ASSERT(hp_rpcrange_usable(r, n, true) <= 65535 && hp_rpcrange_usable(r, n, false) <= 65535,
              "more usable ports than there are");
    free(copy);
}

/* Ranges formatted as hiveport writes them read back, as the RPC runtime reads them, to the same ranges. */
static void check_round_trip(const struct hp_rpc_range *r, size_t n)
{
    char *data = NULL;
    size_t len = 0;
    int rc = hp_rpcrange_format(r, n, &data, &len);
    if (rc == HIVEPORT_E_NOMEM)
        return;
    FZ_ASSERT(rc == HIVEPORT_OK, "format refused %zu parsed ranges: %d", n, rc);
    struct hp_rpc_range *again = NULL;
    size_t m = 0;
    char why[256];
    rc = n == 0 ? HIVEPORT_OK : hp_rpcrange_read(data, len, &again, &m, why, sizeof why);
    FZ_ASSERT(rc == HIVEPORT_OK || rc == HIVEPORT_E_NOMEM, "what format wrote does not read back: %s", why);
    FZ_ASSERT(m == n && (n == 0 || memcmp(again, r, n * sizeof *r) == 0), "the round trip changed the ranges");
    hp_free(again);
    hp_free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0] % 4;
    const char *payload = (const char *)data + 1;
    size_t len = size - 1;
    struct hp_rpc_range *ranges = NULL;
    size_t n = 0;
    char why[256] = "";
    int rc;
    switch (mode) {
    case 0:
        rc = hp_rpcrange_read(payload, len, &ranges, &n, why, sizeof why);
        if (rc == HIVEPORT_OK) {
            FZ_ASSERT(n >= 1, "read accepted a list with no range");
            check_ranges(ranges, n, "read");
            check_normalize(ranges, n);
        } else {
            FZ_ASSERT(rc == HIVEPORT_E_BAD_DATA || rc == HIVEPORT_E_NOMEM, "read returned %d", rc);
            FZ_ASSERT(rc == HIVEPORT_E_NOMEM || why[0] != '\0', "read refused without a reason");
        }
        break;
    case 1:
        rc = hp_rpcrange_parse(payload, len, &ranges, &n, why, sizeof why);
        if (rc == HIVEPORT_OK) {
            check_ranges(ranges, n, "parse");
            check_normalize(ranges, n);
            check_round_trip(ranges, n);
        } else {
            FZ_ASSERT(rc == HIVEPORT_E_BAD_DATA || rc == HIVEPORT_E_NOMEM, "parse returned %d", rc);
            FZ_ASSERT(rc == HIVEPORT_E_NOMEM || why[0] != '\0', "parse refused without a reason");
        }
        break;
    case 2: {
        char *text = malloc(len + 1);
        if (text == NULL)
            return 0;
        memcpy(text, payload, len);
        text[len] = '\0';
        rc = hp_rpcrange_parse_list(text, &ranges, &n, why, sizeof why);
        if (rc == HIVEPORT_OK) {
            FZ_ASSERT(n >= 1, "parse_list accepted a list with no range");
            check_ranges(ranges, n, "parse_list");
            check_normalize(ranges, n);
            check_round_trip(ranges, n);
        } else {
            FZ_ASSERT(rc == HIVEPORT_E_INVALID_ARG || rc == HIVEPORT_E_NOMEM, "parse_list returned %d", rc);
            FZ_ASSERT(rc == HIVEPORT_E_NOMEM || why[0] != '\0', "parse_list refused without a reason");
        }
        free(text);
        break;
    }
    default: {
        int yn = hp_rpcrange_read_yn(payload, len, why, sizeof why);
        FZ_ASSERT(yn >= -1 && yn <= 1, "read_yn returned %d", yn);
        FZ_ASSERT(yn != -1 || why[0] != '\0', "read_yn refused without a reason");
        bool letter = len >= 2 && len <= 4 && payload[1] == 0 && payload[0] != 0 && strchr("YyNn", payload[0]);
        FZ_ASSERT(yn == -1 || (letter && (yn == 1) == (payload[0] == 'Y' || payload[0] == 'y')),
                  "read_yn read %d from %zu bytes", yn, len);
        break;
    }
    }
    hp_free(ranges);
    return 0;
}
