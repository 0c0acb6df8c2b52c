/* regfile.c: .reg files read as port profiles (see regfile.h and hiveport-profile(5)). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "regfile.h"
#include "softplan.h"

static const char header4[] = "REGEDIT4";
static const char header5[] = "Windows Registry Editor Version 5.00";

/* ---- detection and decoding ---- */

/* True when s (n bytes) is exactly a header, optionally followed by blanks. */
static bool is_header(const char *s, size_t n, int *version)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n == sizeof header4 - 1 && strncasecmp(s, header4, n) == 0) {
        *version = 4;
        return true;
    }
    if (n == sizeof header5 - 1 && strncasecmp(s, header5, n) == 0) {
        *version = 5;
        return true;
    }
    return false;
}

static bool utf16_bom(const char *text, size_t len)
{
    return len >= 2 && (unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE;
}

bool regfile_detect(const char *text, size_t len)
{
    char first[64];
    size_t n = 0, i = 0;
    int version;
    if (utf16_bom(text, len)) {
        /* The header is ASCII: one byte of each UTF-16LE code unit, the other zero. */
        for (i = 2; i + 1 < len && n < sizeof first && text[i + 1] == '\0' && text[i] != '\n' && text[i] != '\0';
             i += 2)
            first[n++] = text[i];
    } else {
        if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
            i = 3;
        for (; i < len && n < sizeof first && text[i] != '\n'; i++)
            first[n++] = text[i];
    }
    return is_header(first, n, &version);
}

static void append_utf8(char *out, size_t *o, unsigned cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | cp >> 6);
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xE0 | cp >> 12);
        out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xF0 | cp >> 18);
        out[(*o)++] = (char)(0x80 | (cp >> 12 & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* What a file that is not a profile nor a recognised .reg file may yet be: a .reg file in an encoding or
 * with line ends hiveport does not read, or UTF-16 text without the .reg header.  Fills why and returns
 * true then; false for anything else (then it is read as a profile). */
bool regfile_diagnose(const char *text, size_t len, char *why, size_t why_len)
{
    const unsigned char *u = (const unsigned char *)text;
    enum { UTF8, LE, BE } enc = UTF8;
    size_t i = 0;
    bool bom = false;
    if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
        enc = LE, i = 2, bom = true;
    else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
        enc = BE, i = 2, bom = true;
    else if (len >= 3 && memcmp(u, "\xEF\xBB\xBF", 3) == 0)
        i = 3, bom = true;
    else if (len >= 2 && u[0] != 0 && u[1] == 0)
        enc = LE;
    else if (len >= 2 && u[0] == 0 && u[1] != 0)
        enc = BE;
    const char *what = enc == LE ? (bom ? "UTF-16LE text (with a byte-order mark)" : "UTF-16LE text without a byte-order mark")
                       : enc == BE ? (bom ? "UTF-16BE text (big-endian byte-order mark)" : "UTF-16BE text without a byte-order mark")
                                   : "UTF-8 text";
    /* The first line's characters (up to 80), a second byte-order mark, and what ends the line. */
    char first[81];
    size_t n = 0;
    bool second_bom = false, cr_only = false;
    unsigned step = enc == UTF8 ? 1 : 2;
    for (bool start = true; i + step - 1 < len && n < sizeof first - 1; i += step, start = false) {
        unsigned c = enc == UTF8 ? u[i] : enc == LE ? (u[i] | (unsigned)u[i + 1] << 8) : ((unsigned)u[i] << 8 | u[i + 1]);
        if (start && (c == 0xFEFF || (enc == UTF8 && i + 2 < len && memcmp(u + i, "\xEF\xBB\xBF", 3) == 0))) {
            second_bom = true;
            i += enc == UTF8 ? 2 : 0;
            continue;
        }
        if (c == '\n')
            break;
        if (c == '\r') {
            size_t k = i + step;
            unsigned next = k + step - 1 < len ? (enc == UTF8 ? u[k] : enc == LE ? (u[k] | (unsigned)u[k + 1] << 8)
                                                                                 : ((unsigned)u[k] << 8 | u[k + 1]))
                                                : '\n';
            cr_only = next != '\n';
            break;
        }
        first[n++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    first[n] = '\0';
    int version;
    bool header = is_header(first, n, &version);
    if (second_bom && header)
        snprintf(why, why_len, "%s that starts with two byte-order marks (converted twice?): remove one, so that "
                               "the first line is the .reg header",
                 what);
    else if (header && cr_only)
        snprintf(why, why_len, "a .reg file in %s whose lines end with a carriage return alone: .reg lines end "
                               "with CRLF (as regedit writes them) or LF",
                 what);
    else if (header && enc == BE)
        snprintf(why, why_len, "a .reg file in %s: hiveport reads UTF-16LE with its byte-order mark (as regedit "
                               "writes it) or UTF-8; convert it (iconv -f UTF-16BE -t UTF-16LE, then add FF FE)",
                 what);
    else if (header && enc == LE && !bom)
        snprintf(why, why_len, "a .reg file in %s: a UTF-16 .reg file starts with the mark FF FE, as regedit "
                               "writes it; add it",
                 what);
    else if (enc != UTF8 || second_bom)
        snprintf(why, why_len, "%s%s without a .reg header: the first line of a .reg file is REGEDIT4 or %s, and a "
                               "profile is UTF-8",
                 what, second_bom ? " with two byte-order marks" : "", header5);
    else
        return false;
    return true;
}

/* Windows-1252 (what regedit writes a REGEDIT4 file in, on western systems) to UTF-8, in a malloc'd buffer;
 * the five bytes it leaves undefined become the C1 controls, as Windows maps them. */
static char *cp1252_to_utf8(const char *text, size_t len, size_t *out_len)
{
    static const unsigned short high[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152,
        0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122,
        0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)text[i];
        append_utf8(out, &o, c >= 0x80 && c < 0xA0 ? high[c - 0x80] : c);
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* UTF-16LE (after its byte-order mark) to UTF-8, in a malloc'd buffer.  On failure *bad_line is the line
 * of the problem (0: out of memory) and *why says what it is. */
static char *utf16_to_utf8(const char *text, size_t len, size_t *out_len, unsigned *bad_line, const char **why)
{
    const unsigned char *u = (const unsigned char *)text;
    char *out = malloc((len / 2) * 3 + 1); /* a code unit gives at most 3 bytes; a pair, 4 for 2 units */
    *bad_line = 0;
    if (out == NULL)
        return NULL;
    size_t o = 0;
    unsigned line = 1;
    for (size_t i = 2; i < len; i += 2) {
        if (i + 1 >= len) {
            *bad_line = line, *why = "the file ends in the middle of a UTF-16 character";
            break;
        }
        unsigned cp = u[i] | (unsigned)u[i + 1] << 8;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < len) {
            unsigned lo = u[i + 2] | (unsigned)u[i + 3] << 8;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            *bad_line = line, *why = "the line holds an unpaired UTF-16 surrogate";
            break;
        }
        if (cp == '\n')
            line++;
        append_utf8(out, &o, cp);
    }
    if (*bad_line != 0) {
        free(out);
        return NULL;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ---- the parser ---- */

/* The key the values that follow belong to. */
enum key_kind {
    KEY_NONE,     /* no [KEY] line yet */
    KEY_REFUSED,  /* reported already: its values are skipped */
    KEY_SERVICES, /* ...\Services itself: no values allowed */
    KEY_SERVICE,  /* ...\Services\SVC[\...]: key holds "SVC\..." */
    KEY_RPC,      /* ...\SOFTWARE\Microsoft\Rpc\Internet */
    KEY_APPID,    /* ...\SOFTWARE\Classes\AppID\{GUID}: key holds "{GUID}" */
    KEY_SOFTWARE_PARENT, /* SOFTWARE, ...\Microsoft, ...\Microsoft\Rpc, ...\Classes, ...\Classes\AppID */
    KEY_SYSTEM_PARENT,   /* HKEY_LOCAL_MACHINE, SYSTEM, SYSTEM\CurrentControlSet, SYSTEM\ControlSetNNN */
    KEY_DELETED   /* after [-KEY]: no key to hold values */
};

/* The hive a .reg file's keys are in: one per file. */
enum hive_kind { HIVE_NONE, HIVE_SYSTEM, HIVE_SOFTWARE };

struct regparse {
    const char *prog, *name;
    unsigned errors;
    bool out_of_memory;
    int version;
    int controlset;          /* 0 until the first key names one; HIVEPORT_CS_CURRENT or a number */
    unsigned controlset_line;
    enum key_kind kind;
    char *key;               /* for KEY_SERVICE: relative to Services; for KEY_APPID: the GUID (malloc'd) */
    enum hive_kind hive;     /* of the first key accepted */
    unsigned hive_line;
    struct softplan *soft;   /* for HIVE_SOFTWARE (malloc'd) */
    char **stmt;             /* by line - 1: the profile statement the line becomes, or NULL */
    unsigned custom_line;    /* the line of a '; hiveport: custom' waiting for its value line, or 0 */
    bool custom;             /* the value being parsed is marked custom */
    unsigned statements;     /* the statements the file makes: values and '; hiveport:' unset/controlset lines */
    bool cp1252;             /* a REGEDIT4 file read as Windows-1252 */
    unsigned lines;          /* entries in stmt */
};

static void problem(struct regparse *rp, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct regparse *rp, unsigned line, const char *fmt, ...)
{
    if (++rp->errors > PROFILE_MAX_ERRORS)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: %s:%u: ", rp->prog, rp->name, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static char *skip_blank(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* Case-insensitive comparison of the n bytes at s with the word w. */
static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

static void set_key(struct regparse *rp, enum key_kind kind, const char *key, size_t n)
{
    free(rp->key);
    rp->key = NULL;
    rp->kind = kind;
    if ((kind == KEY_SERVICE || kind == KEY_APPID) && key != NULL && (rp->key = strndup(key, n)) == NULL) {
        rp->out_of_memory = true;
        rp->kind = KEY_REFUSED;
    }
}

/* A file holds the keys of one hive, SYSTEM or SOFTWARE: its statements are one kind of plan. */
static bool same_hive(struct regparse *rp, unsigned line, enum hive_kind hive)
{
    if (rp->hive == HIVE_NONE) {
        rp->hive = hive;
        rp->hive_line = line;
    } else if (rp->hive != hive) {
        problem(rp, line, "a %s key in a .reg file of %s keys (line %u): a .reg file holds the keys of one hive",
                hive == HIVE_SYSTEM ? "SYSTEM" : "SOFTWARE", rp->hive == HIVE_SYSTEM ? "SYSTEM" : "SOFTWARE",
                rp->hive_line);
        return false;
    }
    if (hive == HIVE_SOFTWARE && rp->soft == NULL && (rp->soft = calloc(1, sizeof *rp->soft)) == NULL) {
        rp->out_of_memory = true;
        return false;
    }
    return true;
}

/* "{8-4-4-4-12}" in hexadecimal digits of either case, as DCOM names applications. */
static bool braced_guid(const char *s)
{
    static const char form[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    if (strlen(s) != sizeof form - 1)
        return false;
    for (size_t i = 0; i < sizeof form - 1; i++)
        if (form[i] == 'x' ? strchr("0123456789abcdefABCDEF", s[i]) == NULL : s[i] != form[i])
            return false;
    return true;
}

/* A key under HKLM\SOFTWARE, rest after "SOFTWARE\" ("" for SOFTWARE itself): the RPC port range or a
 * DCOM application (tools/softplan.h); deletion for '[-KEY]'. */
static void parse_software_key(struct regparse *rp, unsigned line, const char *rest, bool deletion)
{
    char why[512];
    if (strcasecmp(rest, "Microsoft\\Rpc\\Internet") == 0) {
        if (!same_hive(rp, line, HIVE_SOFTWARE))
            return;
        if (!softplan_rpc_key(rp->soft, line, deletion, why, sizeof why))
            problem(rp, line, "%s", why);
        else
            set_key(rp, deletion ? KEY_DELETED : KEY_RPC, NULL, 0);
        return;
    }
    static const char *const parents[] = {"", "Microsoft", "Microsoft\\Rpc", "Classes", "Classes\\AppID"};
    for (size_t i = 0; !deletion && i < sizeof parents / sizeof parents[0]; i++)
        if (strcasecmp(rest, parents[i]) == 0) {
            /* A parent key line, as regedit writes them: every SOFTWARE hive has it already. */
            if (same_hive(rp, line, HIVE_SOFTWARE))
                set_key(rp, KEY_SOFTWARE_PARENT, NULL, 0);
            return;
        }
    if (deletion) {
        problem(rp, line, "key deletions ([-KEY]) are refused but for the RPC port range "
                          "([-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]): hiveport is not a "
                          "general .reg merger");
        return;
    }
    if (strncasecmp(rest, "Classes\\AppID\\", 14) == 0) {
        if (!braced_guid(rest + 14)) {
            problem(rp, line, "'%s' is not an AppID key: Classes\\AppID\\ is followed by a braced GUID like "
                              "{D99E6E74-FC88-11D0-B498-00A0C90312F3}",
                    rest);
            return;
        }
        if (same_hive(rp, line, HIVE_SOFTWARE))
            set_key(rp, KEY_APPID, rest + 14, strlen(rest + 14));
        return;
    }
    problem(rp, line, "only the SOFTWARE keys Microsoft\\Rpc\\Internet (the RPC port range) and "
                      "Classes\\AppID\\{GUID} (a DCOM endpoint) are port settings");
}

/* Every key (and '; hiveport: controlset' line) of a file names one control set, cs; name is how the line
 * names it. */
static bool same_controlset(struct regparse *rp, unsigned line, int cs, const char *name, size_t n)
{
    if (rp->controlset == 0) {
        rp->controlset = cs;
        rp->controlset_line = line;
    } else if (rp->controlset != cs) {
        problem(rp, line, "'%.*s' here but %s on line %u: a profile applies to one control set", (int)n, name,
                rp->controlset == HIVEPORT_CS_CURRENT ? "CurrentControlSet" : "another ControlSetNNN",
                rp->controlset_line);
        return false;
    }
    return true;
}

/* '[KEY]', s at the '['. */
static void parse_key(struct regparse *rp, unsigned line, char *s)
{
    set_key(rp, KEY_REFUSED, NULL, 0);
    trim_end(s);
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != ']') {
        problem(rp, line, "a key line must end with ']'");
        return;
    }
    s[n - 1] = '\0';
    char *path = s + 1;
    bool deletion = *path == '-';
    path += deletion;
    /* HKEY_LOCAL_MACHINE\SYSTEM\(CurrentControlSet|ControlSetNNN)\Services[\SERVICE...] */
    const char *part[4];
    size_t len[4];
    const char *p = path;
    for (int i = 0; i < 4; i++) {
        part[i] = p;
        len[i] = strcspn(p, "\\");
        p += len[i];
        if (*p == '\\')
            p++;
        else if (i < 3) {
            for (int k = i + 1; k < 4; k++)
                part[k] = p, len[k] = 0;
            break;
        }
    }
    if (!word_is(part[0], len[0], "HKEY_LOCAL_MACHINE") && !word_is(part[0], len[0], "HKLM")) {
        problem(rp, line, "'%.*s': only HKEY_LOCAL_MACHINE (HKLM) keys are port settings", (int)len[0], part[0]);
        return;
    }
    if (len[1] == 0 && !deletion) { /* [HKEY_LOCAL_MACHINE] itself: a parent, of no hive in particular */
        set_key(rp, KEY_SYSTEM_PARENT, NULL, 0);
        return;
    }
    if (word_is(part[1], len[1], "SOFTWARE")) {
        parse_software_key(rp, line, part[1] + len[1] + (part[1][len[1]] == '\\'), deletion);
        return;
    }
    if (deletion) {
        problem(rp, line, "key deletions ([-KEY]) are refused: hiveport removes values (\"NAME\"=-), never keys");
        return;
    }
    if (!word_is(part[1], len[1], "SYSTEM")) {
        problem(rp, line, "only keys under HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services are port settings");
        return;
    }
    if (len[2] == 0) { /* [HKEY_LOCAL_MACHINE\SYSTEM], a parent as regedit writes them: it changes nothing */
        if (same_hive(rp, line, HIVE_SYSTEM))
            set_key(rp, KEY_SYSTEM_PARENT, NULL, 0);
        return;
    }
    int cs;
    if (word_is(part[2], len[2], "CurrentControlSet")) {
        cs = HIVEPORT_CS_CURRENT;
    } else if (len[2] == 13 && strncasecmp(part[2], "ControlSet", 10) == 0 &&
               strspn(part[2] + 10, "0123456789") == 3 && strncmp(part[2] + 10, "000", 3) != 0) {
        cs = atoi(part[2] + 10);
    } else {
        problem(rp, line, "only keys under HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services (or "
                          "ControlSetNNN\\Services) are port settings");
        return;
    }
    if (len[3] != 0 && !word_is(part[3], len[3], "Services")) {
        problem(rp, line, "only keys under ...\\%.*s\\Services are port settings", (int)len[2], part[2]);
        return;
    }
    if (!same_hive(rp, line, HIVE_SYSTEM))
        return;
    if (!same_controlset(rp, line, cs, part[2], len[2]))
        return;
    if (len[3] == 0) { /* [...\CurrentControlSet] or [...\ControlSetNNN], a parent: it changes nothing */
        set_key(rp, KEY_SYSTEM_PARENT, NULL, 0);
        return;
    }
    const char *rest = part[3] + len[3];
    if (*rest == '\0') {
        set_key(rp, KEY_SERVICES, NULL, 0);
        return;
    }
    rest++; /* the backslash */
    for (const char *q = rest;; q++) {
        size_t k = strcspn(q, "\\");
        if (k == 0) {
            problem(rp, line, "empty key name (a doubled or trailing backslash)");
            return;
        }
        q += k;
        if (*q == '\0')
            break;
    }
    if (strchr(rest, ':') != NULL) {
        problem(rp, line, "a key name with ':' cannot be named as a setting (SERVICE\\SUBKEY:VALUE NAME)");
        return;
    }
    set_key(rp, KEY_SERVICE, rest, strlen(rest));
}

/* A quoted string at s (the opening '"'), unescaped in place (\\ and \"); returns what follows the closing
 * quote, or NULL (with *why) when it is malformed. */
static char *unquote(char *s, const char **why)
{
    char *w = s, *r = s + 1;
    for (;; r++) {
        if (*r == '\0') {
            *why = "unterminated quoted string";
            return NULL;
        }
        if (*r == '"')
            break;
        if (*r == '\\') {
            if (r[1] != '\\' && r[1] != '"') {
                *why = "unknown escape in a quoted string (only \\\\ and \\\" are allowed)";
                return NULL;
            }
            r++;
        }
        *w++ = *r;
    }
    *w = '\0';
    return r + 1;
}

static bool hex_digit(char c, unsigned *v)
{
    if (c >= '0' && c <= '9')
        *v = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
        *v = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
        *v = (unsigned)(c - 'A' + 10);
    else
        return false;
    return true;
}

/* Comma-separated hex bytes (blanks allowed around them); false when malformed, with *bad (when not NULL)
 * at the text that is not a hex byte. */
static bool parse_hex_bytes(const char *s, unsigned char *bytes, size_t max, size_t *count, const char **bad)
{
    *count = 0;
    s = skip_blank((char *)s);
    if (*s == '\0')
        return true;
    for (;;) {
        unsigned hi, lo;
        if (bad != NULL)
            *bad = s;
        if (!hex_digit(s[0], &hi))
            return false;
        if (hex_digit(s[1], &lo))
            s += 2;
        else
            lo = hi, hi = 0, s += 1;
        if (*count < max)
            bytes[*count] = (unsigned char)(hi << 4 | lo);
        (*count)++;
        s = skip_blank((char *)s);
        if (*s == '\0')
            return true;
        if (*s != ',')
            return false;
        s = skip_blank((char *)s + 1);
    }
}

/* Text after a value's data: blanks, or a ';' comment (not after a string, whose text may hold one). */
static bool only_comment(const char *s)
{
    s = skip_blank((char *)s);
    return *s == '\0' || *s == ';';
}

static char *format_statement(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format_statement(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* The profile spelling of key:name: its catalog id, or the custom setting in double quotes ("" for "). */
static char *setting_text(const char *key, const char *name, const hiveport_setting **known)
{
    hiveport_setting probe = {.key = key, .value_name = name};
    *known = NULL;
    for (size_t i = 0; i < hiveport_catalog_count() && *known == NULL; i++)
        if (cli_setting_same(hiveport_catalog_at(i), &probe))
            *known = hiveport_catalog_at(i);
    if (*known != NULL)
        return strdup((*known)->id);
    size_t quotes = 0;
    for (const char *p = name; *p != '\0'; p++)
        quotes += *p == '"';
    size_t n = strlen(key) + 1 + strlen(name) + quotes + 3;
    char *out = malloc(n);
    if (out == NULL)
        return NULL;
    char *w = out;
    *w++ = '"';
    for (const char *p = key; *p != '\0'; p++)
        *w++ = *p;
    *w++ = ':';
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '"')
            *w++ = '"';
        *w++ = *p;
    }
    *w++ = '"';
    *w = '\0';
    return out;
}

/* hex(7): data (s after "hex(7):") as the ASCII strings of a REG_MULTI_SZ, up to its terminating empty
 * string; false (reported) when it is anything else. */
static bool multi_sz(struct regparse *rp, unsigned line, const char *name, const char *s, struct soft_data *d)
{
    size_t count;
    if (!parse_hex_bytes(s, NULL, 0, &count, NULL)) {
        problem(rp, line, "hex(7) data of \"%s\" must be comma-separated hex bytes", name);
        return false;
    }
    unsigned char *bytes = malloc(count + 1);
    d->multi = calloc(count / 2 + 1, sizeof *d->multi);
    char *text = malloc(count / 2 + 1);
    bool ok = bytes != NULL && d->multi != NULL && text != NULL;
    if (!ok) {
        rp->out_of_memory = true;
    } else if (parse_hex_bytes(s, bytes, count, &count, NULL), count % 2 != 0) {
        problem(rp, line, "hex(7) data of \"%s\" is %zu bytes: UTF-16 takes two bytes a character", name, count);
        ok = false;
    }
    /* The strings are copied into text, each ended by a NUL, and pointed to by d->multi. */
    size_t units = ok ? count / 2 : 0, t = 0, start = 0;
    bool ended = false;
    for (size_t i = 0; ok && i < units; i++) {
        unsigned c = bytes[2 * i] | (unsigned)bytes[2 * i + 1] << 8;
        if (ended) {
            problem(rp, line, "hex(7) data of \"%s\" goes on after its terminating empty string", name);
            ok = false;
        } else if (c == 0 && t == start) {
            ended = true;
        } else if (c == 0) {
            text[t++] = '\0';
            d->multi[d->multi_count++] = text + start;
            start = t;
        } else if (c < 0x20 || c > 0x7e) {
            problem(rp, line, "string %zu of \"%s\" holds U+%04X: only ASCII names ports and endpoints", d->multi_count + 1,
                    name, c);
            ok = false;
        } else {
            text[t++] = (char)c;
        }
    }
    if (ok && t > start) { /* a last string without its NUL */
        text[t++] = '\0';
        d->multi[d->multi_count++] = text + start;
    }
    free(bytes);
    if (!ok || d->multi_count == 0)
        free(text);
    if (!ok) {
        free(d->multi);
        d->multi = NULL;
    }
    return ok;
}

/* A value of a SOFTWARE key: its data decoded here, its meaning decided by tools/softplan.c. */
static void parse_software_value(struct regparse *rp, unsigned first, const char *name, char *data)
{
    struct soft_data d = {0};
    const char *why = NULL;
    char type[16];
    if (*data == '-' && only_comment(data + 1)) {
        d.deletion = true;
    } else if (*data == '"') {
        char *after = unquote(data, &why);
        if (after == NULL) {
            problem(rp, first, "%s in the data of \"%s\"", why, name);
            return;
        }
        if (!only_comment(after)) {
            problem(rp, first, "unexpected text after the string data of \"%s\"", name);
            return;
        }
        d.string = data;
    } else if (strncasecmp(data, "hex(7):", 7) == 0) {
        char *comment = strchr(data, ';');
        if (comment != NULL)
            *comment = '\0';
        if (!multi_sz(rp, first, name, data + 7, &d))
            return;
    } else if (strncasecmp(data, "hex", 3) == 0 || strncasecmp(data, "dword:", 6) == 0) {
        size_t n = strcspn(data, ":");
        snprintf(type, sizeof type, "%.*s", (int)(n < sizeof type - 1 ? n : sizeof type - 1), data);
        d.other = type; /* refused, with the value's name, by softplan_value() */
    } else {
        problem(rp, first, "\"%s\": expected \"STRING\", hex(7):BYTES or - (deletion) after '='", name);
        return;
    }
    char reason[512];
    bool oom = false;
    if (!softplan_value(rp->soft, first, rp->kind == KEY_APPID ? rp->key : NULL, name, &d, &oom, reason,
                        sizeof reason))
        problem(rp, first, "%s", reason);
    rp->out_of_memory |= oom;
    if (d.multi != NULL && d.multi_count > 0)
        free(d.multi[0]); /* the text all strings point into */
    free(d.multi);
}

/* '"NAME"=DATA' or '@=DATA', s at its first character; first is the line it starts on. */
static void parse_value(struct regparse *rp, unsigned first, char *s)
{
    const char *why = NULL;
    char *name = s, *rest;
    if (*s == '@') {
        problem(rp, first, "the default value (@) of a key is not a port setting");
        return;
    }
    if ((rest = unquote(s, &why)) == NULL) {
        problem(rp, first, "%s in the value name", why);
        return;
    }
    rest = skip_blank(rest);
    if (*rest != '=') {
        problem(rp, first, "expected '=' after the value name");
        return;
    }
    char *data = skip_blank(rest + 1);
    if (rp->kind == KEY_NONE) {
        problem(rp, first, "a value before any [KEY] line");
        return;
    }
    if (rp->kind == KEY_REFUSED)
        return; /* its key has been reported */
    if (rp->kind == KEY_DELETED) {
        problem(rp, first, "a value after a key deletion: name its key in a [KEY] line first");
        return;
    }
    if (rp->kind == KEY_SYSTEM_PARENT) {
        problem(rp, first, "values of this key are not port settings: only those of keys under "
                           "...\\Services\\SERVICE");
        return;
    }
    if (rp->kind == KEY_SOFTWARE_PARENT) {
        problem(rp, first, "values of this SOFTWARE key are not port settings: only those of Microsoft\\Rpc\\Internet "
                           "and Classes\\AppID\\{GUID}");
        return;
    }
    if (rp->custom && rp->kind != KEY_SERVICE) {
        problem(rp, first, "'; hiveport: custom' marks a value of a key under ...\\Services\\SERVICE");
        return;
    }
    if (rp->kind == KEY_RPC || rp->kind == KEY_APPID) {
        parse_software_value(rp, first, name, data);
        return;
    }
    if (rp->kind == KEY_SERVICES) {
        problem(rp, first, "values directly under Services are not port settings: name a service's key");
        return;
    }
    if (*name == '\0') {
        problem(rp, first, "the default value (\"\") of a key is not a port setting");
        return;
    }
    bool unset = false, is_string = false;
    unsigned long long port = 0;
    if (*data == '-' && only_comment(data + 1)) {
        unset = true;
    } else if (*data == '"') {
        char *after = unquote(data, &why);
        if (after == NULL) {
            problem(rp, first, "%s in the data of \"%s\"", why, name);
            return;
        }
        trim_end(after);
        if (*skip_blank(after) != '\0') {
            problem(rp, first, "unexpected text after the string data of \"%s\"", name);
            return;
        }
        size_t n = strlen(data);
        if (n == 0 || n > 10 || strspn(data, "0123456789") != n) {
            problem(rp, first, "\"%s\" holds \"%s\", not a decimal port number", name, data);
            return;
        }
        port = strtoull(data, NULL, 10);
        is_string = true;
    } else if (strncasecmp(data, "dword:", 6) == 0) {
        char *digits = data + 6;
        size_t n = strspn(digits, "0123456789abcdefABCDEF");
        if (n == 0 || n > 8 || !only_comment(digits + n)) {
            problem(rp, first, "dword data of \"%s\" must be 1 to 8 hex digits", name);
            return;
        }
        port = strtoull(digits, NULL, 16);
    } else if (strncasecmp(data, "hex(4):", 7) == 0) {
        unsigned char b[4];
        size_t count;
        char *comment = strchr(data, ';');
        if (comment != NULL)
            *comment = '\0';
        const char *bad = NULL;
        if (!parse_hex_bytes(data + 7, b, sizeof b, &count, &bad)) {
            problem(rp, first, "hex(4) data of \"%s\": '%.*s' is not a hex byte (two hex digits, bytes separated "
                               "by commas)", name, (int)strcspn(bad, ", \t"), bad);
            return;
        }
        if (count != 4) {
            problem(rp, first, "hex(4) data of \"%s\" is %zu byte%s: a REG_DWORD is 4 bytes", name, count,
                    count == 1 ? "" : "s");
            return;
        }
        port = b[0] | (unsigned)b[1] << 8 | (unsigned)b[2] << 16 | (unsigned long long)b[3] << 24;
    } else if (strncasecmp(data, "hex", 3) == 0) {
        problem(rp, first, "\"%s\": only dword: and \"string\" values are port settings, not %.*s data", name,
                (int)strcspn(data, ":"), data);
        return;
    } else {
        problem(rp, first, "\"%s\": expected dword:XXXXXXXX, \"STRING\" or - (deletion) after '='", name);
        return;
    }
    const hiveport_setting *known;
    char *setting = setting_text(rp->key, name, &known);
    if (setting == NULL) {
        rp->out_of_memory = true;
        return;
    }
    if (known == NULL && !rp->custom) {
        problem(rp, first, "\"%s\" of %s is not a port setting: a .reg file holds the settings of the catalog "
                           "(hiveport list), and custom ones marked by a line '; hiveport: custom' right before them",
                name, rp->key);
        free(setting);
        return;
    }
    unsigned type = known != NULL ? known->type : HIVEPORT_REG_DWORD;
    if (!unset && is_string && type != HIVEPORT_REG_SZ) {
        problem(rp, first, "\"%s\" is a string here but %s is a REG_DWORD%s", name,
                known != NULL ? known->id : "a custom setting",
                known != NULL ? "" : " (hiveport writes custom settings as REG_DWORD): use dword:");
        free(setting);
        return;
    }
    if (!unset && !is_string && type != HIVEPORT_REG_DWORD) {
        problem(rp, first, "\"%s\" is a REG_DWORD here but %s is a REG_SZ: write it as a \"string\"", name, known->id);
        free(setting);
        return;
    }
    char *stmt = unset ? format_statement("unset %s", setting) : format_statement("%s = %llu", setting, port);
    free(setting);
    if (stmt == NULL) {
        rp->out_of_memory = true;
        return;
    }
    rp->stmt[first - 1] = stmt;
    rp->statements++;
}

/* A comment line '; hiveport: WORDS', s after "hiveport:": what hiveport reads and every other importer
 * ignores (hiveport-profile(5), section ".reg files"). */
static void parse_directive(struct regparse *rp, unsigned line, char *s)
{
    s = skip_blank(s);
    if (strcasecmp(s, "custom") == 0) {
        rp->custom_line = line;
        return;
    }
    if (strncasecmp(s, "unset", 5) == 0 && (s[5] == ' ' || s[5] == '\t')) {
        if (!same_hive(rp, line, HIVE_SYSTEM))
            return;
        if ((rp->stmt[line - 1] = format_statement("unset %s", skip_blank(s + 5))) == NULL)
            rp->out_of_memory = true;
        rp->statements++;
        return;
    }
    if (strncasecmp(s, "controlset", 10) == 0 && *skip_blank(s + 10) == '=') {
        char *sel = skip_blank(skip_blank(s + 10) + 1);
        int target;
        if (hiveport_parse_controlset(sel, &target) != HIVEPORT_OK ||
            (target != HIVEPORT_CS_CURRENT && target <= 0)) {
            problem(rp, line, "'; hiveport: controlset = %s': a .reg file names one control set, current or a "
                              "number (1-999)", sel);
            return;
        }
        if (same_hive(rp, line, HIVE_SYSTEM) && same_controlset(rp, line, target, sel, strlen(sel)))
            rp->statements++;
        return;
    }
    problem(rp, line, "unknown hiveport line '; hiveport: %s': expected '; hiveport: custom' (before a custom "
                      "port value), '; hiveport: unset SETTING' or '; hiveport: controlset = SEL'", s);
}

/* One logical line (continuations joined), starting on line first. */
static void parse_line(struct regparse *rp, unsigned first, char *s)
{
    unsigned custom = rp->custom_line; /* a '; hiveport: custom' marks the line right after it */
    rp->custom_line = 0;
    s = skip_blank(s);
    trim_end(s);
    bool value = *s == '"' || *s == '@';
    if (custom != 0 && !value)
        problem(rp, custom, "'; hiveport: custom' must be followed, on the next line, by the value it marks");
    if (*s == ';') {
        char *c = skip_blank(s + 1);
        if (strncasecmp(c, "hiveport:", 9) == 0)
            parse_directive(rp, first, c + 9);
        return;
    }
    if (*s == '\0')
        return;
    if (*s == '[') {
        parse_key(rp, first, s);
    } else if (value) {
        rp->custom = custom != 0;
        parse_value(rp, first, s);
        rp->custom = false;
    } else {
        problem(rp, first, "expected [KEY], \"NAME\"=DATA or a ';' comment");
    }
}

/* Checks and copies line n (len bytes at s) into buf; false (reported) when it is not text. */
static bool take_line(struct regparse *rp, unsigned n, const char *s, size_t len, char *buf)
{
    memcpy(buf, s, len);
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        problem(rp, n, "the line holds a NUL byte (a UTF-16 .reg file needs its byte-order mark)");
        return false;
    }
    if (!profile_valid_utf8((const unsigned char *)buf, len)) {
        problem(rp, n, "the line is not valid UTF-8 (a 'Windows Registry Editor Version 5.00' file is UTF-16LE or "
                       "UTF-8; a REGEDIT4 file UTF-8 or Windows-1252)");
        return false;
    }
    return true;
}

/* Does the line (without its end) continue on the next one: hex data ending with a backslash?  A line
 * that is itself a continuation (more hex bytes) goes on the same way. */
static bool continues(const char *buf, bool continuation)
{
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    if (continuation)
        return n > 0 && buf[n - 1] == '\\';
    const char *start = skip_blank((char *)buf), *eq = strchr(buf, '=');
    return n > 0 && buf[n - 1] == '\\' && (*start == '"' || *start == '@') && eq != NULL &&
           strncasecmp(skip_blank((char *)eq + 1), "hex", 3) == 0;
}

static int parse_text(struct regparse *rp, const char *text, size_t len, char **profile_text, size_t *profile_len)
{
    unsigned lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    char *buf = malloc(len + 1), *logical = malloc(len + 1);
    rp->stmt = calloc(lines, sizeof *rp->stmt);
    rp->lines = lines;
    if (buf == NULL || logical == NULL || rp->stmt == NULL) {
        free(buf);
        free(logical);
        return CLI_FAILED;
    }
    size_t start = 0;
    unsigned line = 1, first = 0;
    size_t llen = 0;
    for (; start <= len && rp->errors <= PROFILE_MAX_ERRORS && !rp->out_of_memory; line++) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        bool ok = take_line(rp, line, text + start, end - start, buf);
        if (line == 1) {
            if (ok && !is_header(buf, strlen(buf), &rp->version))
                problem(rp, 1, "expected the header REGEDIT4 or %s", header5);
        } else if (ok) {
            bool continuation = first != 0;
            char *piece = continuation ? skip_blank(buf) : buf;
            if (first == 0)
                first = line, llen = 0;
            bool more = continues(buf, continuation);
            size_t n = strlen(piece);
            if (more) { /* drop the backslash and the blanks around it */
                while (n > 0 && (piece[n - 1] == ' ' || piece[n - 1] == '\t'))
                    n--;
                n--;
            }
            memcpy(logical + llen, piece, n);
            llen += n;
            logical[llen] = '\0';
            if (!more || nl == NULL) {
                parse_line(rp, first, logical);
                first = 0;
            }
        } else {
            first = 0;
            /* A key line that is not text: its values are not reported again, as values without a key. */
            if (*skip_blank(buf) == '[')
                set_key(rp, KEY_REFUSED, NULL, 0);
        }
        if (nl == NULL)
            break;
        start = end + 1;
    }
    free(buf);
    free(logical);
    if (rp->out_of_memory)
        return CLI_FAILED;
    if (rp->custom_line != 0)
        problem(rp, rp->custom_line, "'; hiveport: custom' must be followed, on the next line, by the value it marks");
    if (rp->hive != HIVE_SOFTWARE && rp->errors == 0 && rp->statements == 0)
        problem(rp, 1, "no value in the .reg file (it holds only its header, comments or keys without values): "
                       "nothing to apply or check");
    if (rp->hive == HIVE_SOFTWARE && rp->errors == 0) { /* the plan as a whole, once its lines are right */
        unsigned at = 0;
        char why[512];
        if (rp->soft->rpc == SOFTPLAN_RPC_NONE && rp->soft->dcom_count == 0)
            problem(rp, rp->hive_line, "no value to apply: a .reg file of SOFTWARE keys sets the RPC port range "
                                        "(Microsoft\\Rpc\\Internet) or the Endpoints of a DCOM AppID");
        else if (!softplan_finish(rp->soft, &at, why, sizeof why))
            problem(rp, at, "%s", why);
    }
    if (rp->errors > 0)
        return CLI_USAGE;
    if (rp->hive == HIVE_SOFTWARE)
        return CLI_OK; /* the plan is rp->soft: no profile text */
    /* The profile: line N holds what .reg line N means; line 1 (the header) names the control set. */
    FILE *out = open_memstream(profile_text, profile_len);
    if (out == NULL)
        return CLI_FAILED;
    char target[16] = "current";
    if (rp->controlset > 0)
        snprintf(target, sizeof target, "%d", rp->controlset);
    fprintf(out, "controlset = %s\n", target);
    for (unsigned i = 1; i < lines; i++)
        fprintf(out, "%s\n", rp->stmt[i] != NULL ? rp->stmt[i] : "");
    return fclose(out) == 0 ? CLI_OK : CLI_FAILED;
}

int regfile_parse(const char *prog, const char *name, const char *text, size_t len, struct profile *p,
                  unsigned *errors)
{
    memset(p, 0, sizeof *p);
    p->target = HIVEPORT_CS_CURRENT;
    struct regparse rp = {.prog = prog, .name = name};
    char *decoded = NULL, *profile_text = NULL;
    size_t decoded_len = 0, profile_len = 0;
    int rc;
    if (utf16_bom(text, len)) {
        unsigned bad_line;
        const char *why = NULL;
        decoded = utf16_to_utf8(text, len, &decoded_len, &bad_line, &why);
        if (decoded == NULL && bad_line != 0)
            problem(&rp, bad_line, "%s", why);
        rc = decoded == NULL ? (bad_line != 0 ? CLI_USAGE : CLI_FAILED)
                             : parse_text(&rp, decoded, decoded_len, &profile_text, &profile_len);
    } else {
        size_t skip = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        const char *nl = memchr(text + skip, '\n', len - skip);
        size_t first_len = nl != NULL ? (size_t)(nl - (text + skip)) : len - skip;
        int version = 0;
        /* regedit writes REGEDIT4 files in the ANSI code page: a file that is not UTF-8 is Windows-1252. */
        if (is_header(text + skip, first_len, &version) && version == 4 &&
            !profile_valid_utf8((const unsigned char *)text + skip, len - skip)) {
            decoded = cp1252_to_utf8(text + skip, len - skip, &decoded_len);
            rp.cp1252 = true;
            rc = decoded == NULL ? CLI_FAILED : parse_text(&rp, decoded, decoded_len, &profile_text, &profile_len);
        } else {
            rc = parse_text(&rp, text + skip, len - skip, &profile_text, &profile_len);
        }
    }
    if (rc == CLI_OK && rp.hive == HIVE_SOFTWARE) {
        p->software = rp.soft;
        rp.soft = NULL;
        if (errors != NULL)
            *errors = 0;
    } else if (rc == CLI_OK) {
        rc = profile_parse(prog, name, profile_text, profile_len, p, errors);
    }
    else if (rc == CLI_FAILED)
        cli_error(prog, "%s: out of memory", name);
    else if (errors != NULL)
        *errors = rp.errors;
    if (rc == CLI_USAGE && rp.errors > PROFILE_MAX_ERRORS) {
        cli_error(prog, "%s: too many problems, stopped after %d", name, PROFILE_MAX_ERRORS);
        if (errors != NULL)
            *errors = PROFILE_MAX_ERRORS + 1;
    }
    for (unsigned i = 0; rp.stmt != NULL && i < rp.lines; i++)
        free(rp.stmt[i]);
    free(rp.stmt);
    free(rp.key);
    if (rp.soft != NULL)
        softplan_free(rp.soft);
    free(rp.soft);
    free(decoded);
    free(profile_text);
    return rc;
}
