/* check.c: hiveport_check() and the commit-time verification: one run over a hive file's bytes, the cell
 * map the passes share, and the findings. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hivecheck.h"

int hp_check_add(struct hp_check *c, int severity, const char *code, const char *key, uint64_t offset,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct hp_finding_spec spec = {.severity = severity, .code = code, .key = key, .offset = offset};
    return hp_audit_add(&c->a, &spec, "%s", text);
}

void hp_check_read(struct hp_check *c, uint64_t n)
{
    if (c->trim_every == 0 || (c->read_since_trim += n) < c->trim_every)
        return;
    madvise((void *)c->data, (size_t)c->size, MADV_DONTNEED);
    c->read_since_trim = 0;
}

/* ---- The cell map ---------------------------------------------------------------------------------- */

static bool bit(const uint64_t *map, size_t i)
{
    return (map[i / 64] >> (i % 64)) & 1u;
}

static size_t unit_of(const struct hp_check *c, uint32_t rel, bool *ok)
{
    uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + rel;
    *ok = rel != HP_CHECK_REL_NIL && rel % 8 == 0 && off + 8 <= c->end;
    return *ok ? rel / 8 : 0;
}

const unsigned char *hp_check_cell(const struct hp_check *c, uint32_t rel, uint32_t *len)
{
    bool ok;
    size_t u = unit_of(c, rel, &ok);
    if (!ok || !bit(c->alloc, u)) /* alloc is set only where a cell starts: one cache line to look at */
        return NULL;
    const unsigned char *p = c->data + HP_REGF_HEADER_SIZE + rel;
    *len = (uint32_t)-(int32_t)hp_check_le32(p) - 4; /* the bin walk checked the size */
    return p + 4;
}

const char *hp_check_why_not_cell(const struct hp_check *c, uint32_t rel)
{
    bool ok;
    size_t u = unit_of(c, rel, &ok);
    if (rel == HP_CHECK_REL_NIL)
        return "nil";
    if ((uint64_t)HP_REGF_HEADER_SIZE + rel + 8 > c->end)
        return "outside the hive bins";
    if (!ok)
        return "not 8-byte aligned";
    if (!bit(c->start, u))
        return "not the start of a cell (inside another cell, a bin header or a damaged bin)";
    if (!bit(c->alloc, u))
        return "a free cell";
    return "a cell";
}

bool hp_check_mark(struct hp_check *c, uint32_t rel)
{
    size_t u = rel / 8;
    bool was = bit(c->ref, u);
    c->ref[u / 64] |= (uint64_t)1 << (u % 64);
    return was;
}

/* ---- Names ---------------------------------------------------------------------------------------- */

size_t hp_check_name_units(const unsigned char *name, size_t len, bool compressed, uint16_t *units)
{
    if (compressed) {
        for (size_t i = 0; i < len; i++)
            units[i] = name[i];
        return len;
    }
    for (size_t i = 0; i + 1 < len; i += 2)
        units[i / 2] = hp_check_le16(name + i);
    return len / 2;
}

size_t hp_check_name_utf8_into(const unsigned char *name, size_t len, bool compressed, char *out)
{
    size_t n = compressed ? len : len / 2;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        unsigned u = compressed ? name[i] : hp_check_le16(name + 2 * i);
        if (u >= 0xD800 && u <= 0xDFFF) /* a lone surrogate half: shown as U+FFFD */
            u = 0xFFFD;
        if (u < 0x80) {
            *p++ = (char)u;
        } else if (u < 0x800) {
            *p++ = (char)(0xC0 | u >> 6);
            *p++ = (char)(0x80 | (u & 0x3F));
        } else {
            *p++ = (char)(0xE0 | u >> 12);
            *p++ = (char)(0x80 | ((u >> 6) & 0x3F));
            *p++ = (char)(0x80 | (u & 0x3F));
        }
    }
    *p = '\0';
    return (size_t)(p - out);
}

char *hp_check_name_utf8(const unsigned char *name, size_t len, bool compressed)
{
    char *out = hp_malloc((compressed ? len : len / 2) * 3 + 1);
    if (out != NULL)
        hp_check_name_utf8_into(name, len, compressed, out);
    return out;
}

/* ---- A run ------------------------------------------------------------------------------------------ */

static void check_free(struct hp_check *c)
{
    hp_free(c->start);
    hp_free(c->alloc);
    hp_free(c->ref);
    hp_free(c->sk);
    hp_free(c->sk_keys);
    hp_free(c->name_a);
    hp_free(c->name_b);
}

int hp_check_bytes(struct hp_check *c)
{
    bool go_on;
    int rc = hp_check_base(c, &go_on);
    if (rc != HIVEPORT_OK || !go_on)
        return rc;
    c->units = (size_t)((c->end - HP_REGF_HEADER_SIZE) / 8);
    size_t words = c->units / 64 + 1;
    c->start = hp_calloc(words, sizeof *c->start);
    c->alloc = hp_calloc(words, sizeof *c->alloc);
    c->ref = hp_calloc(words, sizeof *c->ref);
    c->name_a = hp_malloc(65536 * sizeof *c->name_a);
    c->name_b = hp_malloc(65536 * sizeof *c->name_b);
    if (c->start == NULL || c->alloc == NULL || c->ref == NULL || c->name_a == NULL || c->name_b == NULL)
        return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", c->h->path);
    if ((rc = hp_check_bins(c)) == HIVEPORT_OK && (rc = hp_check_sk_ring(c)) == HIVEPORT_OK &&
        (rc = hp_check_keys(c)) == HIVEPORT_OK && (rc = hp_check_keys_summary(c)) == HIVEPORT_OK &&
        (rc = hp_check_sk_counts(c)) == HIVEPORT_OK)
        rc = hp_check_leaks(c);
    return rc;
}

/* Checks data[0, size) into a new findings list; replayed: the bytes are the handle's logs replayed. */
static int run(hiveport *h, const unsigned char *data, uint64_t size, bool replayed, bool trim,
               hiveport_findings **out)
{
    struct hp_check c;
    memset(&c, 0, sizeof c);
    c.trim_every = trim ? HP_CHECK_TRIM_BYTES : 0;
    c.h = h;
    c.a.h = h;
    c.data = data;
    c.size = size;
    c.a.list = hp_calloc(1, sizeof *c.a.list);
    int rc = c.a.list == NULL ? hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", h->path)
                              : hp_check_bytes(&c);
    if (rc == HIVEPORT_OK && replayed) /* say which bytes were checked: the file itself is dirty, and differs */
        rc = hp_check_add(&c, HP_INFO, "logs-replayed", NULL, 0,
                          "The hive is dirty (sequence numbers %u and %u differ); its transaction logs were "
                          "replayed in memory (%s) and this check read the result, as Windows would load it; "
                          "check the primary file as it is with --no-logs.",
                          h->seq_primary, h->seq_secondary, h->log_report);
    if (rc == HIVEPORT_OK)
        rc = hp_audit_finish(&c.a);
    check_free(&c);
    if (rc == HIVEPORT_OK)
        *out = c.a.list;
    else
        hiveport_findings_free(c.a.list);
    return rc;
}

int hp_check_buffer(hiveport *h, const unsigned char *data, uint64_t size, hiveport_findings **out)
{
    *out = NULL;
    return run(h, data, size, false, false, out);
}

/* Maps the file open on fd read-only. */
static int map_fd(hiveport *h, int fd, const char *what, const unsigned char **data, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat %s: %s", h->path, what, strerror(errno));
    *size = (uint64_t)st.st_size;
    *data = NULL;
    if (st.st_size == 0)
        return HIVEPORT_OK;
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO, "%s: cannot map %s: %s", h->path,
                        what, strerror(errno));
    *data = map;
    return HIVEPORT_OK;
}

HIVEPORT_API int hiveport_check(hiveport *h, unsigned flags, hiveport_findings **out)
{
    if (out != NULL)
        *out = NULL;
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (out == NULL)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: check needs a place for the findings", h->path);
    if (flags & ~HIVEPORT_CHECK_PRIMARY)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: unknown check flags 0x%x", h->path,
                        flags & ~HIVEPORT_CHECK_PRIMARY);
    bool primary = (flags & HIVEPORT_CHECK_PRIMARY) && h->replay_fd >= 0;
    const unsigned char *data = h->img.data;
    uint64_t size = h->img.map_len;
    int rc = HIVEPORT_OK;
    if (primary)
        rc = map_fd(h, h->lock_fd >= 0 ? h->lock_fd : h->read_fd, "the primary file", &data, &size);
    if (rc == HIVEPORT_OK)
        rc = run(h, data, size, !primary && h->log_state == HIVEPORT_LOGS_REPLAYED, false, out);
    if (primary && data != NULL)
        munmap((void *)data, (size_t)size);
    return rc;
}

/* ---- Before a commit -------------------------------------------------------------------------------- */

/* How many errors f holds, and the first as text ("CODE in key "K" at offset 0x...: MESSAGE"), hp_malloc'd,
 * NULL when there is none. */
static int errors_in(hiveport *h, const hiveport_findings *f, size_t *errors, char **first)
{
    *errors = 0;
    *first = NULL;
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        if (x->severity != HIVEPORT_SEVERITY_ERROR || (*errors)++ > 0)
            continue;
        *first = hp_audit_format("%s%s%s%s at offset 0x%llx: %s", x->code, x->key != NULL ? " in key \"" : "",
                                 x->key != NULL ? x->key : "", x->key != NULL ? "\"" : "",
                                 (unsigned long long)x->offset, x->message);
        if (*first == NULL)
            return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", h->path);
    }
    return HIVEPORT_OK;
}

int hp_check_loaded(hiveport *h, size_t *errors, char **first)
{
    hiveport_findings *f = NULL;
    *errors = 0;
    *first = NULL;
    int rc = run(h, h->img.data, h->img.map_len, false, false, &f);
    if (rc == HIVEPORT_OK)
        rc = errors_in(h, f, errors, first);
    hiveport_findings_free(f);
    return rc;
}

int hp_check_refuse(hiveport *h, const hiveport_findings *f, int rc)
{
    size_t errors = 0;
    char *first = NULL;
    if (rc == HIVEPORT_OK)
        rc = errors_in(h, f, &errors, &first);
    if (rc == HIVEPORT_OK && errors > 0)
        rc = hp_error(h, HIVEPORT_E_CORRUPT,
                      "%s: refusing to commit: the new hive would break the format's rules (%zu error%s; the first: "
                      "%s); the file is unchanged",
                      h->path, errors, errors == 1 ? "" : "s", first);
    hp_free(first);
    return rc;
}

int hp_check_before_commit(hiveport *h, int fd, const char *what)
{
    const unsigned char *data;
    uint64_t size;
    hiveport_findings *f = NULL;
    int rc = map_fd(h, fd, what, &data, &size);
    if (rc != HIVEPORT_OK)
        return rc;
    rc = run(h, data, size, false, true, &f);
    rc = hp_check_refuse(h, f, rc);
    hiveport_findings_free(f);
    if (data != NULL)
        munmap((void *)data, (size_t)size);
    return rc;
}
