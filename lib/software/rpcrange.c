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
#include <stdlib.h>
#include <string.h>

#include "hive.h"
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

/* The string of a REG_MULTI_SZ that starts at unit *pos: its units up to (not including) its NUL or the
 * end of the data, copied into buf as ASCII ('?' for anything that is not printable ASCII, or with blanks
 * a blank); *len gets its length in units (which may exceed what buf holds) and *ascii whether every unit
 * was one of those.  *pos moves past the string and its NUL. */
static void take_string(const unsigned char *p, size_t units, size_t *pos, char *buf, size_t buf_len, size_t *len,
                        bool *ascii, bool blanks)
{
    size_t n = 0;
    *ascii = true;
    for (; *pos < units; (*pos)++) {
        unsigned c = p[2 * *pos] | (unsigned)p[2 * *pos + 1] << 8;
        if (c == 0) {
            (*pos)++;
            break;
        }
        if (!(c >= 0x20 && c <= 0x7e) && !(blanks && c >= '\t' && c <= '\r')) {
            *ascii = false;
            c = '?';
        }
        if (n + 1 < buf_len)
            buf[n] = (char)c;
        n++;
    }
    buf[n < buf_len ? n : buf_len - 1] = '\0';
    *len = n;
}

/* The next string of a REG_MULTI_SZ at unit *pos of units: copies it (ASCII, '?' for anything else) into buf,
 * sets *ascii and *too_long, advances *pos past its terminator.  Returns false at the end of the list. */
static bool next_string(const unsigned char *p, size_t units, size_t *pos, char *buf, size_t buf_len,
                        bool *ascii, bool *too_long)
{
    if (*pos >= units || (p[2 * *pos] == 0 && p[2 * *pos + 1] == 0))
        return false;
    size_t len;
    take_string(p, units, pos, buf, buf_len, &len, ascii, false);
    *too_long = len >= buf_len;
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

/* ---- As the RPC runtime reads them ------------------------------------------------------------------------
 *
 * The runtime reads each string with wcstol(), in outline:
 *
 *   low = wcstol(s, &end, 10)        blanks, a sign, digits; no digit: 0, end = s
 *   low outside 0-65535              invalid
 *   *end not NUL and not '-'         invalid
 *   '-': high = wcstol(end + 1, ...) outside 0-65535 or below low: invalid; whatever follows is not looked at
 */

static bool is_blank(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* wcstol(text, &end, 10) in ASCII, saturating far above 65535.  *digits is false when no digit was read,
 * in which case *end is text (wcstol's rule). */
static long crt_strtol(const char *text, const char **end, bool *digits)
{
    const char *p = text;
    while (is_blank(*p))
        p++;
    bool negative = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    long value = 0;
    *digits = false;
    for (; *p >= '0' && *p <= '9'; p++) {
        *digits = true;
        if (value <= 1000000)
            value = value * 10 + (*p - '0');
    }
    *end = *digits ? p : text;
    return negative ? -value : value;
}

/* What is wrong with one end of a range, in the words for that end. */
struct end_words {
    const char *no_digit, *negative, *above;
};

/* One end of a range as the RPC runtime reads it (crt_strtol), which must be 0-65535: 0 with *value and
 * *end, or -1 with the reason in why. */
static int read_end(const char *text, const char **end, long *value, const struct end_words *words, char *why,
                    size_t why_len)
{
    bool digits;
    *value = crt_strtol(text, end, &digits);
    const char *problem = !digits       ? words->no_digit
                          : *value < 0    ? words->negative
                          : *value > 65535 ? words->above
                                          : NULL;
    if (problem != NULL)
        set_why(why, why_len, problem);
    return problem != NULL ? -1 : 0;
}

int hp_rpcrange_read_one(const char *text, struct hp_rpc_range *out, char *why, size_t why_len)
{
    const char *first = text, *end;
    while (is_blank(*first))
        first++;
    const struct end_words low_words = {*first == '-' ? "the range has no low end" : "not a port number",
                                        "a negative port", "the port is above 65535"};
    static const struct end_words high_words = {"the range has no high end", "a negative high end",
                                                "the high end is above 65535"};
    long low, high;
    if (read_end(text, &end, &low, &low_words, why, why_len) != 0)
        return -1;
    if (*end == '\0') {
        out->low = out->high = (uint32_t)low;
        return 0;
    }
    if (*end != '-') {
        set_why(why, why_len,
                is_blank(*end) ? "a blank after the port (the RPC runtime allows blanks only before a number)"
                               : "only '-' and a high end may follow the port");
        return -1;
    }
    if (read_end(end + 1, &end, &high, &high_words, why, why_len) != 0)
        return -1;
    if (low > high) {
        set_why(why, why_len, "the low end is above the high end");
        return -1;
    }
    while (is_blank(*end))
        end++;
    if (*end != '\0') {
        set_why(why, why_len, "text after the high end");
        return -1;
    }
    out->low = (uint32_t)low;
    out->high = (uint32_t)high;
    return 0;
}

/* text as it may be quoted in a message: blanks other than space shown as '?', cut at 40 characters. */
static void quotable(const char *text, size_t len, char *out, size_t out_len)
{
    size_t n = 0;
    for (; text[n] != '\0' && n < 40 && n + 1 < out_len; n++)
        out[n] = text[n] == ' ' || !is_blank(text[n]) ? text[n] : '?';
    out[n] = '\0';
    if (len > n && out_len > n + 4)
        memcpy(out + n, "...", 4);
}

int hp_rpcrange_read(const char *data, size_t len, struct hp_rpc_range **ranges, size_t *count, char *why,
                     size_t why_len)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t units = data == NULL ? 0 : len / 2;
    char text[HP_RPC_READ_TEXT_MAX + 1], shown[48], reason[128];
    bool ascii;
    size_t n = 0, text_len, pos = 0;

    *ranges = NULL;
    *count = 0;
    /* First pass: count and check every string, so that nothing is allocated for an invalid list. */
    while (pos < units) {
        take_string(p, units, &pos, text, sizeof text, &text_len, &ascii, true);
        if (text_len == 0) { /* the end of the list, unless more strings follow */
            size_t more = 0;
            for (size_t at = pos; at < units;) {
                size_t l;
                bool a;
                char ignored[2];
                take_string(p, units, &at, ignored, sizeof ignored, &l, &a, true);
                more += l > 0;
            }
            if (more > 0) {
                if (why != NULL && why_len > 0)
                    snprintf(why, why_len,
                             "string %zu is empty: the RPC runtime stops reading there and ignores the %zu "
                             "string%s after it",
                             n + 1, more, more == 1 ? "" : "s");
                return HIVEPORT_E_BAD_DATA;
            }
            break;
        }
        if (n == HP_RPC_RANGE_MAX) {
            if (why != NULL && why_len > 0)
                snprintf(why, why_len, "more than %d strings", HP_RPC_RANGE_MAX);
            return HIVEPORT_E_BAD_DATA;
        }
        struct hp_rpc_range r;
        const char *bad = NULL;
        if (!ascii)
            bad = "a character other than digits, '-', '+' and blanks";
        else if (text_len > HP_RPC_READ_TEXT_MAX)
            bad = "the string is too long";
        else if (hp_rpcrange_read_one(text, &r, reason, sizeof reason) != 0)
            bad = reason;
        if (bad != NULL) {
            quotable(text, text_len, shown, sizeof shown);
            if (why != NULL && why_len > 0)
                snprintf(why, why_len, "string %zu, \"%s\": %s", n + 1, shown, bad);
            return HIVEPORT_E_BAD_DATA;
        }
        n++;
    }
    if (n == 0) {
        set_why(why, why_len, "it lists no port, which the RPC runtime treats as invalid");
        return HIVEPORT_E_BAD_DATA;
    }
    struct hp_rpc_range *out = hp_calloc(n, sizeof *out);
    if (out == NULL) {
        set_why(why, why_len, "out of memory");
        return HIVEPORT_E_NOMEM;
    }
    pos = 0;
    for (size_t i = 0; i < n; i++) {
        take_string(p, units, &pos, text, sizeof text, &text_len, &ascii, true);
        (void)hp_rpcrange_read_one(text, &out[i], NULL, 0); /* checked above */
    }
    *ranges = out;
    *count = n;
    return HIVEPORT_OK;
}

int hp_rpcrange_read_yn(const char *data, size_t len, char *why, size_t why_len)
{
    const unsigned char *p = (const unsigned char *)data;
    if (data == NULL || len < 2) {
        set_why(why, why_len, "it is empty");
        return -1;
    }
    if (len > 4) {
        if (why != NULL && why_len > 0)
            snprintf(why, why_len, "it is %zu bytes long; the RPC runtime reads at most 4 (one letter and its "
                                   "terminator)",
                     len);
        return -1;
    }
    if (p[1] == 0 && (p[0] == 'Y' || p[0] == 'y'))
        return 1;
    if (p[1] == 0 && (p[0] == 'N' || p[0] == 'n'))
        return 0;
    set_why(why, why_len, "it does not start with Y or N");
    return -1;
}

uint32_t hp_rpcrange_usable(const struct hp_rpc_range *ranges, size_t n, bool available)
{
    unsigned char map[8192];
    mark(ranges, n, map);
    uint32_t total = 0;
    if (available) {
        for (size_t i = 0; i < sizeof map; i++)
            total += (uint32_t)__builtin_popcount(map[i]);
        return total - (map[0] & 1u); /* port 0 is never handed out */
    }
    for (uint32_t port = 1025; port <= 65535; port++)
        total += !(map[port >> 3] & (1u << (port & 7)));
    return total;
}

/* ---- What hiveport writes ------------------------------------------------------------------------------ */

int hp_rpcrange_parse_list(const char *text, struct hp_rpc_range **ranges, size_t *count, char *why,
                           size_t why_len)
{
    *ranges = NULL;
    *count = 0;
    size_t n = 1;
    for (const char *c = text; *c != '\0'; c++)
        n += *c == ',';
    if (n > HP_RPC_RANGE_MAX) {
        if (why != NULL && why_len > 0)
            snprintf(why, why_len, "more than %d entries", HP_RPC_RANGE_MAX);
        return HIVEPORT_E_INVALID_ARG;
    }
    struct hp_rpc_range *out = hp_calloc(n, sizeof *out);
    if (out == NULL) {
        set_why(why, why_len, "out of memory");
        return HIVEPORT_E_NOMEM;
    }
    const char *entry = text;
    char one[HP_RPC_RANGE_TEXT_MAX + 1], reason[128];
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(entry, ",");
        const char *start = entry, *stop = entry + len;
        while (start < stop && (*start == ' ' || *start == '\t'))
            start++;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        size_t used = (size_t)(stop - start);
        const char *bad = NULL;
        if (used == 0)
            bad = "the entry is empty";
        else if (used > HP_RPC_RANGE_TEXT_MAX)
            bad = "the entry is too long";
        if (bad == NULL) {
            memcpy(one, start, used);
            one[used] = '\0';
            if (hp_rpcrange_parse_one(one, &out[i], reason, sizeof reason) != 0)
                bad = reason;
        }
        if (bad != NULL) {
            if (why != NULL && why_len > 0)
                snprintf(why, why_len, "entry %zu, \"%.*s%s\": %s", i + 1, used > 40 ? 40 : (int)used, start,
                         used > 40 ? "..." : "", bad);
            hp_free(out);
            return HIVEPORT_E_INVALID_ARG;
        }
        entry += len + (entry[len] == ',');
    }
    *ranges = out;
    *count = n;
    return HIVEPORT_OK;
}

static int by_low(const void *a, const void *b)
{
    const struct hp_rpc_range *x = a, *y = b;
    return x->low < y->low ? -1 : x->low > y->low ? 1 : x->high < y->high ? -1 : x->high > y->high;
}

size_t hp_rpcrange_normalize(struct hp_rpc_range *ranges, size_t n)
{
    if (n == 0)
        return 0;
    qsort(ranges, n, sizeof *ranges, by_low);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (ranges[i].low <= ranges[k].high + 1) { /* overlaps or touches: one range */
            if (ranges[i].high > ranges[k].high)
                ranges[k].high = ranges[i].high;
        } else {
            ranges[++k] = ranges[i];
        }
    }
    return k + 1;
}

char *hp_rpcrange_text(const struct hp_rpc_range *ranges, size_t n)
{
    char *out = hp_malloc(n * 24 + 1); /* "65535-65535," at most, and room for any uint32_t pair */
    if (out == NULL)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].low == ranges[i].high)
            used += (size_t)sprintf(out + used, "%s%u", i ? "," : "", ranges[i].low);
        else
            used += (size_t)sprintf(out + used, "%s%u-%u", i ? "," : "", ranges[i].low, ranges[i].high);
    }
    out[used] = '\0';
    return out;
}
