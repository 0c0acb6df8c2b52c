/* testutil.c: helpers shared by the Check suites: temporary copies, file comparison, hive dumps. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <hivex.h>

#include "testutil.h"
#include "le.h"
#include "regf.h"

char *tu_dir;

void tu_setup_dir(void)
{
    tu_dir = tu_tmpdir();
}

void tu_teardown_dir(void)
{
    tu_rmtree(tu_dir);
    free(tu_dir);
    tu_dir = NULL;
}

hiveport *tu_open_or_fail(const char *path, unsigned flags)
{
    hiveport *h = NULL;
    int rc = hiveport_open(path, flags, &h);
    ck_assert_msg(rc == HIVEPORT_OK, "open %s: %s", path, hiveport_errmsg(h));
    return h;
}

void tu_assert_unwritten(const char *path, const struct stat *before, const char *original)
{
    struct stat after;
    ck_assert_msg(tu_stat(path, &after) == 0, "%s: cannot stat", path);
    ck_assert_msg(before->st_ino == after.st_ino, "%s was replaced", path);
    ck_assert_msg(tu_same_mtime(before, &after), "%s was written", path);
    if (original != NULL)
        ck_assert_msg(tu_same_bytes(path, original), "%s differs from %s", path, original);
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = NULL;
    if (asprintf(&t, "%s/hiveport-test-XXXXXX", base && *base ? base : "/tmp") < 0 || mkdtemp(t) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return t;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    chmod(path, 0700); /* tests make read-only files and directories */
    return remove(path);
}

void tu_rmtree(const char *dir)
{
    chmod(dir, 0700);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_fixture_path(const char *name)
{
    /* A few rotating buffers, so callers can use the result inline without freeing it. */
    static char paths[8][4096];
    static unsigned next;
    char *p = paths[next++ % 8];
    const char *dir = getenv("HIVEPORT_FIXTURES");
    snprintf(p, sizeof paths[0], "%s/%s.hive", dir && *dir ? dir : "build/fixtures", name);
    return p;
}

int tu_copy(const char *src, const char *dest)
{
    size_t len;
    unsigned char *data = tu_read(src, &len);
    if (data == NULL)
        return -1;
    FILE *f = fopen(dest, "wb");
    int rc = (f != NULL && fwrite(data, 1, len, f) == len) ? 0 : -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    free(data);
    return rc;
}

char *tu_fixture_copy(const char *dir, const char *name)
{
    const char *src = tu_fixture_path(name);
    char *dest = NULL;
    if (asprintf(&dest, "%s/%s.hive", dir, name) < 0 || tu_copy(src, dest) != 0) {
        fprintf(stderr, "cannot copy fixture %s (run make fixtures)\n", src);
        abort();
    }
    return dest;
}

char *tu_fixture_copy_logged(const char *dir, const char *name)
{
    char *dest = tu_fixture_copy(dir, name), *log = NULL, *src = NULL;
    if (asprintf(&log, "%s.LOG1", dest) < 0 || asprintf(&src, "%s.LOG1", tu_fixture_path(name)) < 0 ||
        tu_copy(src, log) != 0) {
        fprintf(stderr, "cannot copy the log of fixture %s (run make fixtures)\n", name);
        abort();
    }
    free(log);
    free(src);
    return dest;
}

char *tu_real_hive(const char *dir, const char *name)
{
    const char *shared = getenv("HIVEPORT_SHARED");
    char *src = NULL, *dest = NULL, *cmd = NULL;
    if (asprintf(&src, "%s/hives/%s.xz", shared && *shared ? shared : "../shared", name) < 0)
        abort();
    if (access(src, R_OK) != 0) {
        char *why = NULL;
        if (asprintf(&why, "%s is absent (no ../shared/hives)", src) < 0)
            abort();
        free(src);
        tu_skip("real hive", why);
        free(why);
        return NULL;
    }
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    if (asprintf(&dest, "%s/%s", dir, base) < 0 || asprintf(&cmd, "xz -dc '%s' > '%s'", src, dest) < 0)
        abort();
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot decompress %s\n", src);
        abort();
    }
    free(src);
    free(cmd);
    return dest;
}

unsigned char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int tu_same_bytes(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *da = tu_read(a, &la), *db = tu_read(b, &lb);
    int same = da && db && la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return same;
}

int tu_stat(const char *path, struct stat *st)
{
    return stat(path, st);
}

/* ---- hive dump ---- */

struct dump {
    char **lines;
    size_t n, cap;
};

static void add_line(struct dump *d, char *line)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->lines = realloc(d->lines, d->cap * sizeof *d->lines);
        if (d->lines == NULL)
            abort();
    }
    d->lines[d->n++] = line;
}

static void dump_node(hive_h *h, hive_node_h node, const char *path, struct dump *d, int depth)
{
    char *line;
    if (asprintf(&line, "%s", path) < 0)
        abort();
    add_line(d, line);
    hive_value_h *values = hivex_node_values(h, node);
    for (size_t i = 0; values && values[i]; i++) {
        char *name = hivex_value_key(h, values[i]);
        hive_type t;
        size_t len;
        char *data = hivex_value_value(h, values[i], &t, &len);
        size_t hexlen = 2 * len + 1;
        char *hex = malloc(hexlen);
        for (size_t j = 0; j < len; j++)
            snprintf(hex + 2 * j, 3, "%02x", (unsigned char)data[j]);
        hex[2 * len] = '\0';
        if (asprintf(&line, "%s:%s=%d:%s", path, name ? name : "?", (int)t, hex) < 0)
            abort();
        add_line(d, line);
        free(hex);
        free(data);
        free(name);
    }
    free(values);
    hive_node_h *children = hivex_node_children(h, node);
    for (size_t i = 0; children && children[i] && depth < 64; i++) {
        char *name = hivex_node_name(h, children[i]), *sub;
        if (asprintf(&sub, "%s\\%s", path, name) < 0)
            abort();
        dump_node(h, children[i], sub, d, depth + 1);
        free(sub);
        free(name);
    }
    free(children);
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(struct dump *d)
{
    if (d->n > 0) /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(d->lines, d->n, sizeof *d->lines, cmp_lines);
    size_t total = 1;
    for (size_t i = 0; i < d->n; i++)
        total += strlen(d->lines[i]) + 1;
    char *out = malloc(total), *p = out;
    for (size_t i = 0; i < d->n; i++) {
        p = stpcpy(p, d->lines[i]);
        *p++ = '\n';
        free(d->lines[i]);
    }
    *p = '\0';
    free(d->lines);
    return out;
}

char *tu_dump_hive(const char *path)
{
    hive_h *h = hivex_open(path, 0);
    if (h == NULL)
        return NULL;
    struct dump d = {0};
    dump_node(h, hivex_root(h), "", &d, 0);
    hivex_close(h);
    return join(&d);
}

static void split_lines(const char *text, struct dump *d)
{
    char *copy = strdup(text);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        add_line(d, strdup(line));
    free(copy);
    if (d->n > 0) /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(d->lines, d->n, sizeof *d->lines, cmp_lines);
}

char *tu_lines_added(const char *a, const char *b)
{
    struct dump da = {0}, db = {0}, out = {0};
    split_lines(a, &da);
    split_lines(b, &db);
    size_t i = 0;
    for (size_t j = 0; j < db.n; j++) {
        while (i < da.n && strcmp(da.lines[i], db.lines[j]) < 0)
            i++;
        if (i < da.n && strcmp(da.lines[i], db.lines[j]) == 0)
            i++;
        else
            add_line(&out, strdup(db.lines[j]));
    }
    free(join(&da));
    free(join(&db));
    return join(&out);
}

char *tu_lines_added_in_order(const char *a, const char *b)
{
    size_t alen = strlen(a);
    char *haystack = malloc(alen + 2), *out = calloc(1, strlen(b) + 1);
    ck_assert(haystack != NULL && out != NULL);
    haystack[0] = '\n';
    memcpy(haystack + 1, a, alen + 1);
    size_t used = 0;
    for (const char *line = b; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
        char *needle = malloc(n + 2);
        ck_assert_ptr_nonnull(needle);
        needle[0] = '\n';
        memcpy(needle + 1, line, n);
        needle[n + 1] = '\0';
        if (strstr(haystack, needle) == NULL) {
            memcpy(out + used, line, n);
            used += n;
        }
        free(needle);
        line += n;
    }
    free(haystack);
    return out;
}

void tu_expect_diff(const char *before, const char *path, const char *added, const char *removed)
{
    char *after = tu_dump_hive(path);
    ck_assert_ptr_nonnull(after);
    char *a = tu_lines_added_in_order(before, after), *r = tu_lines_added_in_order(after, before);
    ck_assert_str_eq(a, added);
    ck_assert_str_eq(r, removed);
    free(a);
    free(r);
    free(after);
}

size_t tu_subkey_entry(const unsigned char *hive, size_t len, uint64_t parent, uint64_t child)
{
    if (parent + 4 + 0x20 > len)
        return 0;
    uint64_t list = 0x1000 + (uint64_t)hp_le32(hive + parent + 4 + 0x1C) + 4; /* past the cell's size */
    if (list + 4 > len || hive[list] != 'l')
        return 0;
    size_t stride = hive[list + 1] == 'i' ? 4 : 8;
    size_t count = (size_t)hive[list + 2] | (size_t)hive[list + 3] << 8;
    for (size_t i = 0; i < count && list + 4 + (i + 1) * stride <= len; i++) {
        size_t entry = (size_t)list + 4 + i * stride;
        if (0x1000 + (uint64_t)hp_le32(hive + entry) == child)
            return entry;
    }
    return 0;
}

int tu_same_mtime(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

void tu_skip(const char *what, const char *reason)
{
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        /* Inside a Check test (a forked child) this exit is the test's error; elsewhere it ends the run. */
        printf("FAIL: %s: %s (CI=true: a skip in CI is a failure; install what .ci/packages lists)\n", what,
               reason);
        fflush(stdout);
        exit(1);
    }
    printf("SKIP: %s: %s\n", what, reason);
}

char *tu_copy_beside(const char *path, const char *suffix)
{
    char *copy = NULL;
    if (asprintf(&copy, "%s%s", path, suffix) < 0 || tu_copy(path, copy) != 0)
        abort();
    return copy;
}

size_t tu_utf16(const char *ascii, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = ascii[i];
        out[2 * i + 1] = 0;
    }
    return 2 * n;
}

char *tu_path_in(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    return p;
}

int tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && (len == 0 || fwrite(data, 1, len, f) == len);
    if (f != NULL && fclose(f) != 0)
        ok = false;
    return ok ? 0 : -1;
}

int tu_write_caught_up_log(const char *hive, const char *log, uint32_t type)
{
    size_t len;
    unsigned char *h = tu_read(hive, &len);
    if (h == NULL || len < 512) {
        free(h);
        return -1;
    }
    unsigned char bb[512];
    memcpy(bb, h, sizeof bb);
    free(h);
    hp_put_le32(bb + 0x08, hp_le32(bb + 0x04));
    hp_put_le32(bb + 0x1C, type);
    hp_put_le32(bb + 0x1FC, hp_regf_checksum(bb));
    return tu_write(log, bb, sizeof bb);
}

void tu_write_file(const char *path, const unsigned char *data, size_t len)
{
    ck_assert_msg(tu_write(path, data, len) == 0, "cannot write %s: %s", path, strerror(errno));
}

void tu_make_log(const char *hive_path, const char *log_path, uint32_t type)
{
    ck_assert_msg(tu_write_caught_up_log(hive_path, log_path, type) == 0, "cannot make the log %s of %s", log_path,
                  hive_path);
}

void tu_assert_check_clean(const char *path)
{
    hiveport *h = tu_open_or_fail(path, 0);
    hiveport_findings *f = NULL;
    ck_assert_int_eq(hiveport_check(h, 0, &f), HIVEPORT_OK);
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        ck_assert_msg(x->severity != HIVEPORT_SEVERITY_ERROR, "%s: %s: %s", path, x->code, x->message);
    }
    hiveport_findings_free(f);
    hiveport_close(h);
}

void tu_assert_root_value(const char *path, const char *name, const void *data, size_t len)
{
    hive_h *hv = hivex_open(path, 0);
    ck_assert_msg(hv != NULL, "libhivex cannot open %s", path);
    hive_type t;
    size_t got_len = 0;
    char *got = hivex_value_value(hv, hivex_node_get_value(hv, hivex_root(hv), name), &t, &got_len);
    ck_assert_msg(got != NULL, "libhivex does not read the value %s of %s", name, path);
    ck_assert_msg(got_len == len && memcmp(got, data, len) == 0, "%s: the value %s is not what was written", path,
                  name);
    free(got);
    hivex_close(hv);
}
