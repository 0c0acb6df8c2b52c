/* regwrite.c: port settings as a .reg file (see regwrite.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "regwrite.h"

/* A name inside double quotes, as regedit writes it: \ and " escaped with a backslash. */
static void put_quoted(FILE *out, const char *s)
{
    putc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            putc('\\', out);
        putc(*s, out);
    }
    putc('"', out);
}

/* The comment stays one ASCII line whatever the path holds. */
static void put_comment(FILE *out, const char *note)
{
    fputs("; ", out);
    for (const unsigned char *p = (const unsigned char *)note; *p != '\0'; p++)
        putc(*p < 0x20 || *p > 0x7E ? '?' : *p, out);
    fputs("\r\n", out);
}

static void put_value(FILE *out, const struct regwrite_value *v)
{
    put_quoted(out, v->setting->value_name);
    if (v->unset)
        fputs("=-\r\n", out);
    else if (v->setting->type == HIVEPORT_REG_SZ)
        fprintf(out, "=\"%u\"\r\n", v->port);
    else
        fprintf(out, "=dword:%08x\r\n", v->port);
}

/* UTF-8 to UTF-16LE with a byte-order mark, in place of *text. */
static bool to_utf16(char **text, size_t *len)
{
    const unsigned char *s = (const unsigned char *)*text;
    size_t n = *len, o = 0;
    unsigned char *out = malloc(2 + 4 * n);
    if (out == NULL)
        return false;
    out[o++] = 0xFF;
    out[o++] = 0xFE;
    for (size_t i = 0; i < n;) {
        unsigned cp = s[i], extra = 0;
        if (cp >= 0xF0)
            cp &= 0x07, extra = 3;
        else if (cp >= 0xE0)
            cp &= 0x0F, extra = 2;
        else if (cp >= 0xC0)
            cp &= 0x1F, extra = 1;
        i++;
        for (; extra > 0 && i < n; extra--, i++)
            cp = cp << 6 | (s[i] & 0x3F);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            unsigned hi = 0xD800 | cp >> 10, lo = 0xDC00 | (cp & 0x3FF);
            out[o++] = (unsigned char)hi, out[o++] = (unsigned char)(hi >> 8);
            out[o++] = (unsigned char)lo, out[o++] = (unsigned char)(lo >> 8);
        } else {
            out[o++] = (unsigned char)cp, out[o++] = (unsigned char)(cp >> 8);
        }
    }
    free(*text);
    *text = (char *)out;
    *len = o;
    return true;
}

/* True when k is key or one of its subkeys (key is n bytes). */
static bool at_or_under(const char *k, const char *key, size_t n)
{
    return strncasecmp(k, key, n) == 0 && (k[n] == '\0' || k[n] == '\\');
}

/* Is the value written in a section: set, or deleted in a key that a value set creates anyway (a deletion
 * alone would make every importer create its key)? */
static bool in_section(const struct regwrite_value *values, size_t count, size_t i)
{
    if (values[i].left_out != NULL)
        return false;
    if (!values[i].unset)
        return true;
    const char *key = values[i].setting->key;
    for (size_t j = 0; j < count; j++)
        if (!values[j].unset && values[j].left_out == NULL && at_or_under(values[j].setting->key, key, strlen(key)))
            return true;
    return false;
}

/* True when key is an earlier key of values in sections (before index end) or one of their parents. */
static bool written_before(const struct regwrite_value *values, size_t count, size_t end, const char *key, size_t n)
{
    for (size_t j = 0; j < end; j++)
        if (in_section(values, count, j) && at_or_under(values[j].setting->key, key, n))
            return true;
    return false;
}

/* A .reg file in memory (*text, *len), begun with the format's first line and the note: NULL when out of
 * memory. */
static FILE *begin_file(enum regwrite_format format, const char *note, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *out = open_memstream(text, len);
    if (out == NULL)
        return NULL;
    fputs(format == REGWRITE_REG5 ? "Windows Registry Editor Version 5.00\r\n" : "REGEDIT4\r\n", out);
    fputs("\r\n", out);
    put_comment(out, note);
    return out;
}

/* Ends the file begun by begin_file() and gives it in its format's encoding (UTF-16LE for REG5); false,
 * with *text freed, when out of memory. */
static bool end_file(FILE *out, enum regwrite_format format, char **text, size_t *len)
{
    fputs("\r\n", out); /* regedit ends its files with an empty line */
    bool ok = fclose(out) == 0;
    if (ok && format == REGWRITE_REG5)
        ok = to_utf16(text, len);
    if (!ok) {
        free(*text);
        *text = NULL;
    }
    return ok;
}

bool regwrite_build(enum regwrite_format format, const char *controlset, const char *note,
                    const struct regwrite_value *values, size_t count, char **text, size_t *len)
{
    FILE *out = begin_file(format, note, text, len);
    if (out == NULL)
        return false;
    for (size_t i = 0; i < count; i++)
        if (values[i].left_out != NULL) {
            char line[512];
            snprintf(line, sizeof line, "%s left out: Windows cannot use its value (%s)", values[i].setting->id,
                     values[i].left_out);
            put_comment(out, line);
        }
    /* The control set, for hiveport: a file whose every setting is absent has no key line to name it. */
    if (strncmp(controlset, "ControlSet", 10) == 0)
        fprintf(out, "; hiveport: controlset = %d\r\n", atoi(controlset + 10));
    else if (*controlset != '\0') /* "": the empty file of a SOFTWARE hive without an RPC range */
        fputs("; hiveport: controlset = current\r\n", out);
    for (size_t i = 0; i < count; i++) {
        if (!in_section(values, count, i))
            continue;
        const char *key = values[i].setting->key;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = in_section(values, count, j) && strcasecmp(values[j].setting->key, key) == 0;
        if (seen)
            continue; /* written with the first value of its key */
        /* Each parent first, as regedit writes them: importers that do not create missing parents
         * (hivexregedit --merge) accept the file too. */
        for (size_t n = strcspn(key, "\\"); key[n] != '\0'; n += 1 + strcspn(key + n + 1, "\\"))
            if (!written_before(values, count, i, key, n))
                fprintf(out, "\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\%s\\Services\\%.*s]\r\n", controlset, (int)n, key);
        fprintf(out, "\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\%s\\Services\\%s]\r\n", controlset, key);
        for (size_t j = i; j < count; j++)
            if (in_section(values, count, j) && strcasecmp(values[j].setting->key, key) == 0)
                put_value(out, &values[j]);
    }
    bool header = false;
    for (size_t i = 0; i < count; i++) {
        if (in_section(values, count, i) || !values[i].unset)
            continue;
        if (!header)
            fputs("\r\n; Absent, in keys no value here creates: a deletion (\"NAME\"=-) would make regedit, reg import\r\n"
                  "; and hivexregedit create the key on a machine that lacks it.  hiveport apply --check reads\r\n"
                  "; these lines and reports a value that appears.\r\n",
                  out);
        header = true;
        fprintf(out, "; hiveport: unset %s\r\n", values[i].setting->id);
    }
    return end_file(out, format, text, len);
}

/* The strings of a REG_MULTI_SZ, one per comma-separated entry of list, as regedit writes hex(7) data:
 * UTF-16LE bytes, each string and the list ended by a NUL, lines continued after a backslash. */
static void put_multi_sz(FILE *out, const char *list)
{
    size_t column = strlen("\"Ports\"=hex(7):");
    bool first = true;
    for (const char *p = list;; p++) {
        unsigned char c = *p == ',' ? 0 : (unsigned char)*p;
        for (int half = 0; half < 2; half++) {
            if (!first && column > 74) {
                fputs(",\\\r\n  ", out);
                column = 2;
            } else if (!first) {
                putc(',', out);
                column++;
            }
            fprintf(out, "%02x", half == 0 ? c : 0);
            column += 2;
            first = false;
        }
        if (*p == '\0')
            break;
    }
    fputs(",00,00\r\n", out); /* the empty string that ends the list */
}

bool regwrite_build_rpc(enum regwrite_format format, const char *note, const char *ports, char available,
                        char use_internet, char **text, size_t *len)
{
    FILE *out = begin_file(format, note, text, len);
    if (out == NULL)
        return false;
    if (ports == NULL) {
        fputs("\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\r\n", out);
    } else {
        /* No parent keys: Microsoft\Rpc is in every SOFTWARE hive, and apply takes only this key. */
        fputs("\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\r\n\"Ports\"=hex(7):", out);
        put_multi_sz(out, ports);
        fprintf(out, "\"PortsInternetAvailable\"=\"%c\"\r\n\"UseInternetPorts\"=\"%c\"\r\n", available, use_internet);
    }
    return end_file(out, format, text, len);
}
