/* rpcrange.h: the RPC runtime's port restriction (SOFTWARE\Microsoft\Rpc\Internet, KB 154596), parsed and
 * encoded as Windows reads and writes it.  Not for applications: nothing here is stable. */
#ifndef HIVEPORT_RPCRANGE_H
#define HIVEPORT_RPCRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the configuration lives in a SOFTWARE hive, and its values. */
#define HP_RPC_KEY "Microsoft\\Rpc\\Internet"
#define HP_RPC_PORTS "Ports"                          /* REG_MULTI_SZ of "N" or "LOW-HIGH" */
#define HP_RPC_PORTS_AVAILABLE "PortsInternetAvailable" /* REG_SZ "Y" (Ports = available) or "N" (excluded) */
#define HP_RPC_USE_INTERNET "UseInternetPorts"        /* REG_SZ "Y" or "N" */

#define HP_RPC_RANGE_MAX 4096 /* strings in one Ports value: more is treated as hostile */
#define HP_RPC_RANGE_TEXT_MAX 32 /* characters in one string; "65535-65535" needs 11 */

/* One string of Ports: the inclusive range low-high (low == high for a single port), 0 <= low <= high <= 65535. */
struct hp_rpc_range {
    uint32_t low;
    uint32_t high;
};

/* Parses one string of Ports, "N" or "LOW-HIGH": decimal digits only (no sign, no blanks), each number
 * 0-65535, low <= high.  Returns 0 with *out, or -1 with the reason in why (when why_len > 0). */
int hp_rpcrange_parse_one(const char *text, struct hp_rpc_range *out, char *why, size_t why_len);

/* Parses a REG_MULTI_SZ payload (UTF-16LE strings, each ended by a NUL unit, the list ended by an empty string
 * or by the end of the data; an odd trailing byte is ignored) as the RPC runtime does: every string must parse,
 * or the whole configuration is invalid.
 *   HIVEPORT_OK: *ranges (the caller frees it with hp_free; NULL when *count is 0) and *count.
 *   HIVEPORT_E_BAD_DATA: a string is invalid (not ASCII, unparsable, out of range, low above high, too long) or
 *     there are more than HP_RPC_RANGE_MAX; why says which ("string 2, \"6000-5000\": ...").
 *   HIVEPORT_E_NOMEM. */
int hp_rpcrange_parse(const char *data, size_t len, struct hp_rpc_range **ranges, size_t *count, char *why,
                      size_t why_len);

/* A REG_SZ "Y" or "N" (not case-sensitive, optional NUL terminator): 1 for Y, 0 for N, -1 for anything else. */
int hp_rpcrange_parse_yn(const char *data, size_t len);

/* Whether port lies in one of the n ranges. */
bool hp_rpcrange_contains(const struct hp_rpc_range *ranges, size_t n, uint32_t port);

/* How many distinct ports the n ranges cover (overlapping ranges count once); at most 65536. */
uint32_t hp_rpcrange_size(const struct hp_rpc_range *ranges, size_t n);

/* How many ports in 1-65535 dynamic RPC may use: those listed (available == true, PortsInternetAvailable Y)
 * or those not listed (available == false, N). */
uint32_t hp_rpcrange_available(const struct hp_rpc_range *ranges, size_t n, bool available);

/* Encodes n ranges as a REG_MULTI_SZ payload ("N" or "LOW-HIGH" each, then the empty string that ends the
 * list).  Returns 0 with *data (the caller frees it with hp_free) and *len, HIVEPORT_E_INVALID_ARG for a
 * range outside 0-65535 or with low above high, or HIVEPORT_E_NOMEM. */
int hp_rpcrange_format(const struct hp_rpc_range *ranges, size_t n, char **data, size_t *len);

#endif
