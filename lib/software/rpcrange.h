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

/* ---- As the RPC runtime reads them (hiveport_rpc_get(), lib/rpc.c) -------------------------------------
 * The runtime reads each end of a Ports string with wcstol() and checks what follows the low end only, so
 * it accepts blanks (tab, LF, VT, FF, CR, space) before either number, a '+' sign and leading zeros, and
 * ignores what follows the high end.  hiveport accepts the same, except that after the high end it allows
 * only blanks, and a number with no digit at all ("-", "0-") is refused rather than read as 0. */

#define HP_RPC_READ_TEXT_MAX 128 /* characters in one string as read: leading blanks and zeros included */

/* Reads one Ports string as the RPC runtime does.  Returns 0 with *out, or -1 with the reason in why. */
int hp_rpcrange_read_one(const char *text, struct hp_rpc_range *out, char *why, size_t why_len);

/* Reads a Ports REG_MULTI_SZ payload as the RPC runtime does (UTF-16LE strings, each ended by a NUL unit;
 * the list ends at an empty string or at the end of the data; an odd trailing byte is ignored).
 *   HIVEPORT_OK: *ranges (in the order found, the caller frees it with hp_free) and *count >= 1.
 *   HIVEPORT_E_BAD_DATA: what the runtime rejects (a string it cannot read, a list with no string) and an
 *     empty string followed by more strings (the runtime stops at it, silently dropping them); why says
 *     which ("string 2, \"5000-\": ...").
 *   HIVEPORT_E_NOMEM. */
int hp_rpcrange_read(const char *data, size_t len, struct hp_rpc_range **ranges, size_t *count, char *why,
                     size_t why_len);

/* A PortsInternetAvailable or UseInternetPorts REG_SZ payload as the RPC runtime reads it: into a 4-byte
 * buffer (so at most 4 bytes: "Y" and its terminator), of which only the first character counts, Y or N
 * in either case.  Returns 1 for Y, 0 for N, -1 with the reason in why. */
int hp_rpcrange_read_yn(const char *data, size_t len, char *why, size_t why_len);

/* How many ports dynamic RPC may use: with available (Y) the ports listed, except 0; without (N) the
 * ports of 1025-65535 not listed (the runtime never hands out ports below 1025 from an exclusion list). */
uint32_t hp_rpcrange_usable(const struct hp_rpc_range *ranges, size_t n, bool available);

/* ---- What hiveport writes (hiveport_rpc_set(), hiveport_rpc_warnings()) ------------------------------ */

/* Parses a caller's list, "5000-5100,5200": entries separated by commas, blanks (space, tab) around an
 * entry ignored, each entry strictly "N" or "LOW-HIGH" as hp_rpcrange_parse_one() reads it.
 *   HIVEPORT_OK: *ranges (the caller frees it with hp_free) and *count >= 1, in the order given.
 *   HIVEPORT_E_INVALID_ARG: an entry is empty or malformed, or there are more than HP_RPC_RANGE_MAX; why
 *     names it ("entry 2, \"5000-\": the range has no high end").
 *   HIVEPORT_E_NOMEM. */
int hp_rpcrange_parse_list(const char *text, struct hp_rpc_range **ranges, size_t *count, char *why,
                           size_t why_len);

/* Sorts the n ranges and merges those that overlap or touch, in place; returns how many are left. */
size_t hp_rpcrange_normalize(struct hp_rpc_range *ranges, size_t n);

/* The ranges as a caller's list, "5000-5100,5200" ("" when n is 0); the caller frees it with hp_free.
 * NULL when out of memory. */
char *hp_rpcrange_text(const struct hp_rpc_range *ranges, size_t n);

#endif
