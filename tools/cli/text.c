/* text.c: names read from a hive, printed safely: one line of text, or a valid JSON string.  A hive is
 * untrusted input (forensic use): a key name with a newline must not forge a line of a report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_print_text(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7F)
            fprintf(out, "\\u%04x", *p); /* the notation hiveport_diff() uses inside REG_SZ text */
        else
            putc(*p, out);
    }
}

size_t cli_utf8_valid_at(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (avail < n)
        return 0;
    unsigned cp = c & (0x3Fu >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

json_t *cli_json_text(const char *s)
{
    if (s == NULL)
        return json_null();
    json_t *j = json_string(s);
    if (j != NULL)
        return j;
    /* Not valid UTF-8 (a lone UTF-16 surrogate in a name, say): U+FFFD for each bad byte. */
    size_t len = strlen(s);
    char *fixed = malloc(len * 3 + 1);
    if (fixed == NULL)
        return NULL;
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        size_t n = cli_utf8_valid_at(p, len - (size_t)(p - (const unsigned char *)s));
        if (n == 0) {
            memcpy(fixed + k, "\xEF\xBF\xBD", 3);
            k += 3;
            p++;
        } else {
            memcpy(fixed + k, p, n);
            k += n;
            p += n;
        }
    }
    fixed[k] = '\0';
    j = json_string(fixed);
    free(fixed);
    return j;
}
