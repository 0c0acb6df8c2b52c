/* check.c: one run of the structural checker over a hive file's bytes, and the commit-time verification
 * (hiveport_check() itself is the open hive's: hive/check_hive.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hivecheck.h"

/* ---- A run ------------------------------------------------------------------------------------------ */

void hp_check_free(struct hp_check *c)
{
    hp_free(c->start);
    hp_free(c->alloc);
    hp_free(c->ref);
    hp_free(c->sk);
    hp_free(c->sk_keys);
    hp_free(c->name_a);
    hp_free(c->name_b);
    hp_free(c->tiled);
}

int hp_check_start(struct hp_check *c, bool *go_on)
{
    int rc = hp_check_base(c, go_on);
    if (rc != HIVEPORT_OK || !*go_on)
        return rc;
    c->units = (size_t)((c->end - HP_REGF_HEADER_SIZE) / 8);
    size_t words = c->units / 64 + 1;
    c->start = hp_calloc(words, sizeof *c->start);
    c->alloc = hp_calloc(words, sizeof *c->alloc);
    c->ref = hp_calloc(words, sizeof *c->ref);
    c->name_a = hp_malloc(65536 * sizeof *c->name_a);
    c->name_b = hp_malloc(65536 * sizeof *c->name_b);
    if (c->start == NULL || c->alloc == NULL || c->ref == NULL || c->name_a == NULL || c->name_b == NULL)
        return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
    return HIVEPORT_OK;
}

int hp_check_bytes(struct hp_check *c)
{
    bool go_on;
    int rc = hp_check_start(c, &go_on);
    if (rc != HIVEPORT_OK || !go_on)
        return rc;
    if ((rc = hp_check_bins(c)) == HIVEPORT_OK && (rc = hp_check_sk_ring(c)) == HIVEPORT_OK &&
        (rc = hp_check_keys(c)) == HIVEPORT_OK && (rc = hp_check_keys_summary(c)) == HIVEPORT_OK &&
        (rc = hp_check_sk_counts(c)) == HIVEPORT_OK)
        rc = hp_check_leaks(c);
    return rc;
}

int hp_check_run(hiveport *h, const unsigned char *data, uint64_t size, const char *replayed, bool trim,
                 hiveport_findings **out)
{
    struct hp_check c;
    memset(&c, 0, sizeof c);
    c.trim_every = trim ? HP_CHECK_TRIM_BYTES : 0;
    c.h = h;
    c.data = data;
    c.size = size;
    c.list = hp_calloc(1, sizeof *c.list);
    int rc = c.list == NULL ? hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h))
                              : hp_check_bytes(&c);
    if (rc == HIVEPORT_OK && replayed != NULL) /* say which bytes were checked: the file itself differs */
        rc = hp_check_add(&c, HP_INFO, "logs-replayed", NULL, 0, "%s", replayed);
    if (rc == HIVEPORT_OK && hp_findings_finish(c.list, NULL, NULL) != HIVEPORT_OK)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h));
    hp_check_free(&c);
    if (rc == HIVEPORT_OK)
        *out = c.list;
    else
        hiveport_findings_free(c.list);
    return rc;
}

int hp_check_buffer(hiveport *h, const unsigned char *data, uint64_t size, hiveport_findings **out)
{
    *out = NULL;
    return hp_check_run(h, data, size, NULL, false, out);
}

int hp_check_map_fd(hiveport *h, int fd, const char *what, const unsigned char **data, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat %s: %s", hp_name(h), what, strerror(errno));
    *size = (uint64_t)st.st_size;
    *data = NULL;
    if (st.st_size == 0)
        return HIVEPORT_OK;
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO, "%s: cannot map %s: %s", hp_name(h),
                        what, strerror(errno));
    *data = map;
    return HIVEPORT_OK;
}

/* ---- Before a commit -------------------------------------------------------------------------------- */

int hp_check_errors(hiveport *h, const hiveport_findings *f, size_t *errors, char **first)
{
    *errors = 0;
    *first = NULL;
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        if (x->severity != HIVEPORT_SEVERITY_ERROR || (*errors)++ > 0)
            continue;
        *first = hp_format("%s%s%s%s at offset 0x%llx: %s", x->code, x->key != NULL ? " in key \"" : "",
                                 x->key != NULL ? x->key : "", x->key != NULL ? "\"" : "",
                                 (unsigned long long)x->offset, x->message);
        if (*first == NULL)
            return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h));
    }
    return HIVEPORT_OK;
}

int hp_check_refuse(hiveport *h, const hiveport_findings *f, int rc)
{
    size_t errors = 0;
    char *first = NULL;
    if (rc == HIVEPORT_OK)
        rc = hp_check_errors(h, f, &errors, &first);
    if (rc == HIVEPORT_OK && errors > 0)
        rc = hp_error(h, HIVEPORT_E_CORRUPT,
                      "%s: refusing to commit: the new hive would break the format's rules (%zu error%s; the first: "
                      "%s); the file is unchanged",
                      hp_name(h), errors, errors == 1 ? "" : "s", first);
    hp_free(first);
    return rc;
}

int hp_check_before_commit(hiveport *h, int fd, const char *what)
{
    const unsigned char *data;
    uint64_t size;
    hiveport_findings *f = NULL;
    int rc = hp_check_map_fd(h, fd, what, &data, &size);
    if (rc != HIVEPORT_OK)
        return rc;
    rc = hp_check_run(h, data, size, NULL, true, &f);
    rc = hp_check_refuse(h, f, rc);
    hiveport_findings_free(f);
    if (data != NULL)
        munmap((void *)data, (size_t)size);
    return rc;
}
