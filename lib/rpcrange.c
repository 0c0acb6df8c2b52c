/* rpcrange.c: parsing and encoding the RPC runtime's Ports list (SOFTWARE\Microsoft\Rpc\Internet, KB 154596).
 *
 * Ports is a REG_MULTI_SZ: UTF-16LE strings, each ended by a NUL unit, the list ended by an empty string:
 *
 *   "5000-5100" NUL "5984" NUL NUL        ->  [5000, 5100], [5984, 5984]
 *
 * Each string is one port or an inclusive range.  The RPC runtime treats the whole configuration as invalid
 * when any string is outside 0-65535 or cannot be interpreted, so one bad string rejects them all.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "rpcrange.h"

static void set_why(char *why, size_t why_len, const char *text)
{
    if (why != NULL && why_len > 0)
        snprintf(why, why_len, "%s", text);
}

/* A decimal number of at least one digit, at most 65535.  Returns the characters used, or 0. */
static size_t parse_number(const char *p, uint32_t *value)
{
    size_t i = 0;
    uint32_t n = 0;
    while (p[i] >= '0' && p[i] <= '9') {
        n = n * 10 + (uint32_t)(p[i] - '0');
        if (n > 65535)
            return 0;
        i++;
    }
    *value = n;
    return i;
}

int hp_rpcrange_parse_one(const char *text, struct hp_rpc_range *out, char *why, size_t why_len)
{
    if (text[0] == '\0') {
        set_why(why, why_len, "the string is empty");
        return -1;
    }
    if (strspn(text, "0123456789-") != strlen(text)) {
        set_why(why, why_len, "only digits and one '-' may appear");
        return -1;
    }
    uint32_t low, high;
    size_t used = parse_number(text, &low);
    if (used == 0) {
        set_why(why, why_len, text[0] == '-' ? "the range has no low end" : "the port is above 65535");
        return -1;
    }
    if (text[used] == '\0') {
        out->low = out->high = low;
        return 0;
    }
    const char *rest = text + used + 1; /* text[used] is '-' */
    size_t used2 = parse_number(rest, &high);
    if (used2 == 0) {
        set_why(why, why_len, rest[0] == '\0'  ? "the range has no high end"
                              : rest[0] == '-' ? "more than one '-'"
                                               : "the port is above 65535");
        return -1;
    }
    if (rest[used2] != '\0') {
        set_why(why, why_len, "more than one '-'");
        return -1;
    }
    if (low > high) {
        set_why(why, why_len, "the low end is above the high end");
        return -1;
    }
    out->low = low;
    out->high = high;
    return 0;
}

/* The next string of a REG_MULTI_SZ at unit *pos of units: copies it (ASCII, '?' for anything else) into buf,
 * sets *ascii and *too_long, advances *pos past its terminator.  Returns false at the end of the list. */
static bool next_string(const unsigned char *p, size_t units, size_t *pos, char *buf, size_t buf_len,
                        bool *ascii, bool *too_long)
{
    if (*pos >= units || (p[2 * *pos] == 0 && p[2 * *pos + 1] == 0))
        return false;
    size_t n = 0;
    *ascii = true;
    *too_long = false;
    for (; *pos < units; (*pos)++) {
        unsigned c = p[2 * *pos] | (unsigned)p[2 * *pos + 1] << 8;
        if (c == 0) {
            (*pos)++;
            break;
        }
        if (c < 0x20 || c > 0x7e) {
            *ascii = false;
            c = '?';
        }
        if (n + 1 < buf_len)
            buf[n++] = (char)c;
        else
            *too_long = true;
    }
    buf[n] = '\0';
    return true;
}

int hp_rpcrange_parse(const char *data, size_t len, struct hp_rpc_range **ranges, size_t *count, char *why,
                      size_t why_len)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t units = data == NULL ? 0 : len / 2;
    char text[HP_RPC_RANGE_TEXT_MAX + 1];
    bool ascii, too_long;
    char reason[128];

    *ranges = NULL;
    *count = 0;
    /* First pass: count and check every string, so that nothing is allocated for an invalid list. */
    size_t n = 0;
    for (size_t pos = 0; next_string(p, units, &pos, text, sizeof text, &ascii, &too_long); n++) {
        struct hp_rpc_range r;
        if (n == HP_RPC_RANGE_MAX) {
            if (why != NULL && why_len > 0)
                snprintf(why, why_len, "more than %d strings", HP_RPC_RANGE_MAX);
            return HIVEPORT_E_BAD_DATA;
        }
        const char *bad = NULL;
        if (!ascii)
            bad = "only digits and one '-' may appear";
        else if (too_long)
            bad = "the string is too long";
        else if (hp_rpcrange_parse_one(text, &r, reason, sizeof reason) != 0)
            bad = reason;
        if (bad != NULL) {
            if (why != NULL && why_len > 0)
                snprintf(why, why_len, "string %zu, \"%s%s\": %s", n + 1, text, too_long ? "..." : "", bad);
            return HIVEPORT_E_BAD_DATA;
        }
    }
    if (n == 0)
        return HIVEPORT_OK;
    struct hp_rpc_range *out = hp_calloc(n, sizeof *out);
    if (out == NULL) {
        set_why(why, why_len, "out of memory");
        return HIVEPORT_E_NOMEM;
    }
    size_t i = 0;
    for (size_t pos = 0; i < n && next_string(p, units, &pos, text, sizeof text, &ascii, &too_long); i++)
        (void)hp_rpcrange_parse_one(text, &out[i], NULL, 0); /* checked above */
    *ranges = out;
    *count = n;
    return HIVEPORT_OK;
}

int hp_rpcrange_parse_yn(const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    if (data == NULL || len < 2 || p[1] != 0)
        return -1;
    /* Only a terminator (and whatever follows it) may come after the letter. */
    if (len >= 4 && (p[2] != 0 || p[3] != 0))
        return -1;
    if (p[0] == 'Y' || p[0] == 'y')
        return 1;
    if (p[0] == 'N' || p[0] == 'n')
        return 0;
    return -1;
}

bool hp_rpcrange_contains(const struct hp_rpc_range *ranges, size_t n, uint32_t port)
{
    for (size_t i = 0; i < n; i++)
        if (port >= ranges[i].low && port <= ranges[i].high)
            return true;
    return false;
}

/* Marks every port of the ranges (clamped to 0-65535) in a 65536-bit map. */
static void mark(const struct hp_rpc_range *ranges, size_t n, unsigned char map[8192])
{
    memset(map, 0, 8192);
    for (size_t i = 0; i < n; i++) {
        uint32_t lo = ranges[i].low, hi = ranges[i].high > 65535 ? 65535 : ranges[i].high;
        while (lo <= hi && (lo & 7) != 0)
            map[lo >> 3] |= (unsigned char)(1u << (lo & 7)), lo++;
        if (lo <= hi && hi - lo + 1 >= 8) {
            uint32_t bytes = (hi - lo + 1) / 8;
            memset(map + (lo >> 3), 0xff, bytes);
            lo += bytes * 8;
        }
        while (lo <= hi)
            map[lo >> 3] |= (unsigned char)(1u << (lo & 7)), lo++;
    }
}

uint32_t hp_rpcrange_size(const struct hp_rpc_range *ranges, size_t n)
{
    unsigned char map[8192];
    mark(ranges, n, map);
    uint32_t total = 0;
    for (size_t i = 0; i < sizeof map; i++)
        total += (uint32_t)__builtin_popcount(map[i]);
    return total;
}

uint32_t hp_rpcrange_available(const struct hp_rpc_range *ranges, size_t n, bool available)
{
    uint32_t listed = hp_rpcrange_size(ranges, n);
    if (hp_rpcrange_contains(ranges, n, 0))
        listed--; /* port 0 is never handed out */
    return available ? listed : 65535 - listed;
}

int hp_rpcrange_format(const struct hp_rpc_range *ranges, size_t n, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    size_t chars = 1; /* the empty string that ends the list */
    char text[HP_RPC_RANGE_TEXT_MAX];
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].low > ranges[i].high || ranges[i].high > 65535)
            return HIVEPORT_E_INVALID_ARG;
        int t = ranges[i].low == ranges[i].high ? snprintf(text, sizeof text, "%u", ranges[i].low)
                                                : snprintf(text, sizeof text, "%u-%u", ranges[i].low,
                                                           ranges[i].high);
        chars += (size_t)t + 1;
    }
    char *out = hp_malloc(chars * 2);
    if (out == NULL)
        return HIVEPORT_E_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int t = ranges[i].low == ranges[i].high ? snprintf(text, sizeof text, "%u", ranges[i].low)
                                                : snprintf(text, sizeof text, "%u-%u", ranges[i].low,
                                                           ranges[i].high);
        for (int j = 0; j <= t; j++) { /* the characters and their NUL */
            out[k++] = text[j];
            out[k++] = 0;
        }
    }
    out[k++] = 0;
    out[k++] = 0;
    *data = out;
    *len = k;
    return HIVEPORT_OK;
}
