/* utf16.c: the decimal REG_SZ form of a port ("6001" in UTF-16LE with a terminator). */
#include "base.h"

int hp_sz_to_number(const char *data, size_t len, uint32_t *number)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t units = len / 2, i = 0;
    uint64_t n = 0;
    size_t digits = 0;

    while (i < units && p[2 * i + 1] == 0 && p[2 * i] == ' ') /* Windows' parsers skip blanks */
        i++;
    for (; i < units; i++) {
        unsigned c = p[2 * i] | (unsigned)p[2 * i + 1] << 8;
        if (c < '0' || c > '9')
            break;
        n = n * 10 + (c - '0');
        if (n > UINT32_MAX)
            return -1;
        digits++;
    }
    while (i < units && p[2 * i + 1] == 0 && p[2 * i] == ' ')
        i++;
    /* Only the terminator (and whatever follows it) may remain. */
    if (digits == 0 || (i < units && (p[2 * i] != 0 || p[2 * i + 1] != 0)))
        return -1;
    *number = (uint32_t)n;
    return 0;
}

size_t hp_number_to_sz(uint32_t number, char *buf)
{
    char digits[11];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + number % 10);
        number /= 10;
    } while (number != 0);
    size_t len = 0;
    while (n > 0) {
        buf[len++] = digits[--n];
        buf[len++] = 0;
    }
    buf[len++] = 0;
    buf[len++] = 0;
    return len;
}

int32_t hp_utf8_next(const unsigned char **p, const unsigned char *end)
{
    if (*p >= end)
        return -1;
    uint32_t c = *(*p)++;
    int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0)
        return -1;
    if (extra > 0)
        c &= 0x3Fu >> extra;
    for (; extra > 0; extra--) {
        if (*p >= end || (**p & 0xC0) != 0x80)
            return -1;
        c = c << 6 | (*(*p)++ & 0x3Fu);
    }
    return (int32_t)c;
}
