/* profile.c: reading port profiles (hiveport-profile(5)).  Every malformed line is reported with its
 * number, and a profile with any problem is refused as a whole, before a hive is opened. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profile.h"
#include "softplan.h"

/* Checking a new setting against the earlier ones is quadratic: keep it bounded. */
#define PROFILE_MAX_SETTINGS 10000

struct parser {
    const char *prog, *name;
    struct profile *p;
    unsigned errors;
    bool out_of_memory;
};

static void problem(struct parser *ps, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct parser *ps, unsigned line, const char *fmt, ...)
{
    if (++ps->errors > PROFILE_MAX_ERRORS)
        return;
    char *message = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&message, fmt, ap) < 0)
        message = NULL;
    va_end(ap);
    /* cli_error escapes what a profile line or its name may hold */
    cli_error(ps->prog, "%s:%u: %s", ps->name, line, message != NULL ? message : "out of memory");
    free(message);
}

/* ---- small text helpers ---- */

static char *skip_blank(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Cuts trailing blanks off s (in place) and returns s. */
static char *trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Ends s at its first '#' (a comment), if any. */
static void cut_comment(char *s)
{
    char *hash = strchr(s, '#');
    if (hash != NULL)
        *hash = '\0';
}

/* True when s starts with the word kw (any case) followed by a blank, a comment or the end. */
static bool keyword(const char *s, const char *kw)
{
    size_t n = strlen(kw);
    return strncasecmp(s, kw, n) == 0 && (s[n] == '\0' || s[n] == ' ' || s[n] == '\t' || s[n] == '#');
}

bool profile_valid_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n)
        if ((n = cli_utf8_valid_at(s + i, len - i)) == 0)
            return false;
    return true;
}

/* Unquotes the setting that starts at the '"' at s, in place: the result starts at s.  Returns the
 * character after the closing quote, or NULL when there is none. */
static char *unquote(char *s)
{
    char *w = s, *r = s + 1;
    for (;;) {
        if (*r == '\0')
            return NULL;
        if (*r == '"') {
            if (r[1] != '"') {
                *w = '\0';
                return r + 1;
            }
            r++; /* "" is one " */
        }
        *w++ = *r++;
    }
}

const char *profile_catalog_id(const hiveport_setting *s)
{
    for (size_t i = 0; i < hiveport_catalog_count(); i++)
        if (cli_setting_same(hiveport_catalog_at(i), s))
            return hiveport_catalog_at(i)->id;
    return NULL;
}

/* ---- one setting line ---- */

/* Why two settings may never share a port, naming the article when there is one. */
static const char *conflict_reason(const hiveport_setting *a, const hiveport_setting *b)
{
    const char *x = profile_catalog_id(a), *y = profile_catalog_id(b);
    if (x == NULL || y == NULL)
        return "two services cannot listen on one port";
    if ((strcmp(x, "ntds") == 0 && strcmp(y, "netlogon") == 0) ||
        (strcmp(x, "netlogon") == 0 && strcmp(y, "ntds") == 0))
        return "Netlogon and NTDS must differ, or Netlogon logs event 5809 (KB 224196)";
    if ((strcmp(x, "ntds") == 0 && strcmp(y, "ntfrs") == 0) || (strcmp(x, "ntfrs") == 0 && strcmp(y, "ntds") == 0))
        return "NTFRS and NTDS must differ (KB 319553)";
    return "two services cannot listen on one port (KB 270836)";
}

/* A setting as messages name it: a catalog id as is, a custom setting in single quotes. */
struct shown {
    char text[600];
};

static const char *shown(struct shown *buf, const struct cli_setting *s)
{
    if (s->setting.id != NULL)
        return s->label;
    snprintf(buf->text, sizeof buf->text, "'%s'", s->label);
    return buf->text;
}

/* Checks the entry against the earlier ones; prints the problem and returns false on a clash. */
static bool fits(struct parser *ps, const struct profile_entry *e)
{
    const struct profile *p = ps->p;
    struct shown a, b;
    const char *label = shown(&a, &e->setting);
    for (size_t i = 0; i < p->count; i++) {
        const struct profile_entry *f = &p->entries[i];
        if (!cli_setting_same(&f->setting.setting, &e->setting.setting))
            continue;
        if (f->unset != e->unset)
            problem(ps, e->line, "%s is %s here and %s on line %u", label, e->unset ? "unset" : "set",
                    f->unset ? "unset" : "set", f->line);
        else if (strcasecmp(f->setting.label, e->setting.label) == 0)
            problem(ps, e->line, "duplicate setting: %s is already %s on line %u", label,
                    f->unset ? "unset" : "set", f->line);
        else
            problem(ps, e->line, "duplicate setting: %s names the same value as %s on line %u", label,
                    shown(&b, &f->setting), f->line);
        return false;
    }
    if (e->unset || e->port == 0) /* 0 is "dynamic", not a port */
        return true;
    for (size_t i = 0; i < p->count; i++) {
        const struct profile_entry *f = &p->entries[i];
        if (f->unset || f->port != e->port)
            continue;
        problem(ps, e->line, "port %u for %s is already set for %s on line %u: %s", e->port, label,
                shown(&b, &f->setting), f->line, conflict_reason(&e->setting.setting, &f->setting.setting));
        return false;
    }
    return true;
}

/* Adds 'SETTING = PORT' (port_text != NULL) or 'unset SETTING'. */
static void add_setting(struct parser *ps, unsigned line, const char *setting, const char *port_text)
{
    struct profile *p = ps->p;
    struct profile_entry e = {.unset = port_text == NULL, .line = line};
    char why[512];
    int rc = cli_setting_parse_msg(setting, &e.setting, why, sizeof why);
    if (rc == CLI_FAILED) {
        ps->out_of_memory = true;
        return;
    }
    if (rc != CLI_OK) {
        problem(ps, line, "%s", why);
        return;
    }
    const hiveport_setting *s = &e.setting.setting;
    struct shown buf;
    const char *label = shown(&buf, &e.setting);
    bool ok = true;
    char range[700];
    if (!e.unset && !cli_port_parse(port_text, s, label, &e.port, range, sizeof range)) {
        problem(ps, line, "%s", range);
        ok = false;
    }
    if (ok && p->count == PROFILE_MAX_SETTINGS) {
        problem(ps, line, "too many settings (at most %d)", PROFILE_MAX_SETTINGS);
        ok = false;
    }
    if (ok && !fits(ps, &e))
        ok = false;
    if (ok && p->count == p->capacity) {
        size_t cap = p->capacity ? 2 * p->capacity : 16;
        struct profile_entry *grown = realloc(p->entries, cap * sizeof *grown);
        if (grown == NULL) {
            ps->out_of_memory = true;
            ok = false;
        } else {
            p->entries = grown;
            p->capacity = cap;
        }
    }
    if (!ok) {
        cli_setting_free(&e.setting);
        return;
    }
    p->entries[p->count++] = e;
}

static void parse_controlset(struct parser *ps, unsigned line, const char *value)
{
    int target;
    if (*value == '\0')
        problem(ps, line, "missing control set after 'controlset ='");
    else if (hiveport_parse_controlset(value, &target) != HIVEPORT_OK)
        problem(ps, line, "invalid control set '%s': expected current, default, lastknowngood, all or a number 1-999",
                value);
    else if (ps->p->target_line != 0)
        problem(ps, line, "controlset is given twice (first on line %u)", ps->p->target_line);
    else {
        ps->p->target = target;
        ps->p->target_line = line;
    }
}

/* Unquotes the setting at s (at its '"') in place: the rest of the line after the closing quote and its
 * blanks, or NULL after the problem when the quote is not closed. */
static char *quoted_setting(struct parser *ps, unsigned line, char *s)
{
    char *rest = unquote(s);
    if (rest == NULL) {
        problem(ps, line, "unterminated quoted setting (a \" inside quotes is written \"\")");
        return NULL;
    }
    return skip_blank(rest);
}

/* 'unset SETTING', s just after the keyword and its blanks. */
static void parse_unset(struct parser *ps, unsigned line, char *s)
{
    char *setting = s;
    if (*s == '\0' || *s == '#') {
        problem(ps, line, "'unset' needs a setting: unset SETTING");
        return;
    }
    if (*s == '"') {
        char *rest = quoted_setting(ps, line, s);
        if (rest == NULL)
            return;
        cut_comment(rest);
        trim_end(rest);
        if (*rest == '=') {
            problem(ps, line, "'unset' takes a setting and no port: unset SETTING");
            return;
        }
        if (*rest != '\0') {
            problem(ps, line, "unexpected text after the quoted setting: '%s'", rest);
            return;
        }
    } else {
        cut_comment(s);
        trim_end(s);
        if (strchr(s, '=') != NULL) {
            problem(ps, line, "'unset' takes a setting and no port: unset SETTING (quote a value name that "
                              "contains '=')");
            return;
        }
    }
    if (*setting == '\0') {
        problem(ps, line, "empty setting \"\"");
        return;
    }
    add_setting(ps, line, setting, NULL);
}

/* 'SETTING = PORT' or 'controlset = SEL', s at the first non-blank character. */
static void parse_assignment(struct parser *ps, unsigned line, char *s)
{
    char *setting = s, *value;
    if (*s == '"') {
        char *rest = quoted_setting(ps, line, s);
        if (rest == NULL)
            return;
        if (*rest != '=') {
            cut_comment(rest);
            trim_end(rest);
            if (*rest == '\0')
                problem(ps, line, "expected '= PORT' after the quoted setting (or 'unset' before it)");
            else
                problem(ps, line, "unexpected text after the quoted setting: '%s'", rest);
            return;
        }
        value = skip_blank(rest + 1);
        cut_comment(value);
        trim_end(value);
        if (*setting == '\0') {
            problem(ps, line, "empty setting \"\"");
            return;
        }
    } else {
        cut_comment(s);
        /* The last '=': value names may contain '=', ports never do (as for 'hiveport set'). */
        char *eq = strrchr(s, '=');
        if (eq == NULL) {
            trim_end(s);
            if (strcasecmp(s, "controlset") == 0)
                problem(ps, line, "expected 'controlset = SEL'");
            else
                problem(ps, line, "expected SETTING = PORT, 'unset SETTING' or 'controlset = SEL', not '%s'", s);
            return;
        }
        *eq = '\0';
        trim_end(s);
        value = skip_blank(eq + 1);
        trim_end(value);
        if (*setting == '\0') {
            problem(ps, line, "missing setting before '='");
            return;
        }
        if (strcasecmp(setting, "controlset") == 0) {
            parse_controlset(ps, line, value);
            return;
        }
    }
    if (*value == '\0') {
        problem(ps, line, "missing port after '=' for '%s'", setting);
        return;
    }
    add_setting(ps, line, setting, value);
}

static void parse_line(struct parser *ps, unsigned line, char *s)
{
    s = skip_blank(s);
    if (*s == '\0' || *s == '#')
        return;
    if (keyword(s, "unset"))
        parse_unset(ps, line, skip_blank(s + 5));
    else
        parse_assignment(ps, line, s);
}

/* ---- the file ---- */

void profile_free(struct profile *p)
{
    for (size_t i = 0; i < p->count; i++)
        cli_setting_free(&p->entries[i].setting);
    free(p->entries);
    if (p->software != NULL)
        softplan_free(p->software);
    free(p->software);
    memset(p, 0, sizeof *p);
    p->target = HIVEPORT_CS_CURRENT;
}

int profile_parse(const char *prog, const char *name, const char *text, size_t len, struct profile *p,
                  unsigned *errors)
{
    memset(p, 0, sizeof *p);
    p->target = HIVEPORT_CS_CURRENT;
    struct parser ps = {.prog = prog, .name = name, .p = p};
    char *buf = malloc(len + 1);
    if (buf == NULL) {
        cli_error(prog, "%s: out of memory", name);
        return CLI_FAILED;
    }
    size_t start = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* the byte-order mark some editors write */
        start = 3;
    for (unsigned line = 1; start <= len && ps.errors <= PROFILE_MAX_ERRORS && !ps.out_of_memory; line++) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t n = end - start;
        memcpy(buf, text + start, n);
        if (n > 0 && buf[n - 1] == '\r') /* CRLF line ends */
            n--;
        buf[n] = '\0';
        if (memchr(buf, '\0', n) != NULL)
            problem(&ps, line, "the line holds a NUL byte: not a text file");
        else if (!profile_valid_utf8((const unsigned char *)buf, n))
            problem(&ps, line, "the line is not valid UTF-8");
        else
            parse_line(&ps, line, buf);
        if (nl == NULL)
            break;
        start = end + 1;
    }
    free(buf);
    if (ps.out_of_memory) {
        cli_error(prog, "%s: out of memory", name);
        profile_free(p);
        return CLI_FAILED;
    }
    if (ps.errors > PROFILE_MAX_ERRORS) {
        cli_error(prog, "%s: too many problems, stopped after %d", name, PROFILE_MAX_ERRORS);
        ps.errors = PROFILE_MAX_ERRORS + 1;
    }
    /* A profile without a statement is a mistake (often a failed 'hiveport export' upstream in a pipe): it
     * would "match" every hive.  An export of a hive without ports still has its controlset line. */
    if (ps.errors == 0 && p->count == 0 && p->target_line == 0) {
        cli_error(prog, "%s: no statement in the profile (it is empty, or holds only comments): nothing to apply "
                        "or check",
                  name);
        ps.errors = 1;
    }
    if (errors != NULL)
        *errors = ps.errors;
    if (ps.errors > 0) {
        profile_free(p);
        return CLI_USAGE;
    }
    return CLI_OK;
}

void profile_target_name(int target, char *buf, size_t len)
{
    switch (target) {
    case HIVEPORT_CS_CURRENT:
        snprintf(buf, len, "current");
        break;
    case HIVEPORT_CS_DEFAULT:
        snprintf(buf, len, "default");
        break;
    case HIVEPORT_CS_LASTKNOWNGOOD:
        snprintf(buf, len, "lastknowngood");
        break;
    case HIVEPORT_CS_ALL:
        snprintf(buf, len, "all");
        break;
    default:
        snprintf(buf, len, "%d", target);
    }
}

/* Would the label read back unquoted?  Not with a comment sign, a quote or an '=' in it, blanks at
 * either end, or a first word 'unset'. */
static bool needs_quotes(const char *label)
{
    size_t n = strlen(label);
    return strpbrk(label, "#\"=") != NULL || n == 0 || label[0] == ' ' || label[0] == '\t' ||
           label[n - 1] == ' ' || label[n - 1] == '\t' || keyword(label, "unset");
}

void profile_print_setting(FILE *out, const char *label)
{
    if (!needs_quotes(label)) {
        cli_print_text(out, label);
        return;
    }
    putc('"', out);
    for (const char *p = label; *p != '\0'; p++) {
        char one[2] = {*p, '\0'};
        if (*p == '"')
            putc('"', out);
        cli_print_text(out, one);
    }
    putc('"', out);
}
