/* fuzz.c: helpers shared by the fuzz targets: scratch files, header fix-up, reading everything. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "le.h"
#include "regf.h"

/* Functions still being written when these targets were: called once the library has them (weak: NULL
 * until then; the targets link the library's objects, so a new one is picked up without a change here). */
#pragma weak hiveport_audit
#pragma weak hiveport_findings_count
#pragma weak hiveport_findings_at
#pragma weak hiveport_findings_free
#pragma weak hiveport_severity_name
#pragma weak hiveport_rpc_get
#pragma weak hiveport_dcom_get_port
#pragma weak hiveport_free

static char *scratch;

_Noreturn void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: FUZZ FINDING: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

uint64_t fz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * UINT64_C(0x100000001b3);
    return h;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_scratch(void)
{
    if (scratch != NULL)
        nftw(scratch, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(scratch);
    scratch = NULL;
}

const char *fz_scratch_dir(void)
{
    if (scratch != NULL)
        return scratch;
    const char *base = getenv("HIVEPORT_FUZZ_TMP");
    if (base == NULL || *base == '\0')
        base = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    /* HIVEPORT_FUZZ_FIXED_DIR: a name without random letters, which libFuzzer would otherwise pick up from
     * the compared strings into its dictionary, making a seeded run differ from machine to machine. */
    bool fixed = getenv("HIVEPORT_FUZZ_FIXED_DIR") != NULL;
    if (asprintf(&scratch, fixed ? "%s/work" : "%s/hiveport-fuzz-XXXXXX", base) < 0 ||
        (fixed ? mkdir(scratch, 0700) != 0 ? NULL : scratch : mkdtemp(scratch)) == NULL) {
        perror("fuzz: cannot make a scratch directory");
        abort();
    }
    atexit(remove_scratch);
    return scratch;
}

const char *fz_write_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", fz_scratch_dir(), name);
    unlink(path); /* a commit may have left a file with another mode in its place */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(path);
        abort();
    }
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror(path);
            abort();
        }
        done += (size_t)n;
    }
    if (close(fd) != 0) {
        perror(path);
        abort();
    }
    return path;
}

uint8_t *fz_copy_fixed(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return NULL;
    memcpy(buf, data, size);
    if (fz_hash(data, size) % 16 != 0)
        fz_fix_checksum(buf, size);
    return buf;
}

void fz_fix_checksum(uint8_t *buf, size_t len)
{
    if (len < 0x200 || memcmp(buf, "regf", 4) != 0)
        return;
    hp_put_le32(buf + 0x1FC, hp_regf_checksum(buf)); /* the library's own rule, so the input gets past it */
}

int fz_open_nowait(const char *path, unsigned flags, hiveport **h)
{
    hiveport_options opts;
    hiveport_options_init(&opts);
    opts.flags = flags;
    opts.lock_timeout_ms = 0;
    *h = NULL;
    return hiveport_open_ext(path, &opts, h);
}

void fz_expect_explained(hiveport *h, int rc, const char *call)
{
    FZ_ASSERT(rc > HIVEPORT_OK && rc <= HIVEPORT_E_NOT_REGULAR, "%s returned unknown status %d", call, rc);
    FZ_ASSERT(strcmp(hiveport_strerror(rc), "unknown hiveport status") != 0, "%s: status %d has no name", call,
              rc);
    const char *msg = hiveport_errmsg(h);
    FZ_ASSERT(msg != NULL && msg[0] != '\0', "%s failed with %d (%s) and no message", call, rc,
              hiveport_strerror(rc));
    FZ_ASSERT(strlen(msg) < 1024, "%s: message longer than the handle's buffer", call);
}

/* Settings of our own on keys the fixtures have, so that values of every shape get decoded. */
static const hiveport_setting custom[] = {
    {"Tcpip\\Parameters", "Hostname", HIVEPORT_REG_SZ, 0, NULL, NULL, NULL},
    {"Tcpip\\Parameters", "MaxUserPort", HIVEPORT_REG_DWORD, 0, NULL, NULL, NULL},
    {"W32Time\\Parameters", "Type", HIVEPORT_REG_DWORD, 0, NULL, NULL, NULL},
    {"MSExchangeSA\\Parameters", "Mailbox Server", HIVEPORT_REG_SZ, HIVEPORT_SETTING_ZERO_DYNAMIC, NULL, NULL,
     NULL},
};

static void get_all(hiveport *h, int target)
{
    size_t n = hiveport_catalog_count() + sizeof custom / sizeof custom[0];
    for (size_t i = 0; i < n; i++) {
        const hiveport_setting *s = i < hiveport_catalog_count() ? hiveport_catalog_at(i)
                                                                 : &custom[i - hiveport_catalog_count()];
        uint32_t port = 0;
        int rc = hiveport_get_port(h, s, target, &port);
        if (rc != HIVEPORT_OK)
            fz_expect_explained(h, rc, "hiveport_get_port");
        else
            FZ_ASSERT(hiveport_errmsg(h)[0] == '\0', "a successful get left the message \"%s\"",
                      hiveport_errmsg(h));
    }
}

static void audit(hiveport *h, hiveport *software)
{
    if (hiveport_audit == NULL)
        return;
    hiveport_findings *f = NULL;
    int rc = hiveport_audit(h, software, &f);
    if (rc != HIVEPORT_OK) {
        fz_expect_explained(h, rc, "hiveport_audit");
        hiveport_findings_free(f);
        return;
    }
    FZ_ASSERT(f != NULL, "hiveport_audit succeeded without a list");
    size_t n = hiveport_findings_count(f);
    for (size_t i = 0; i < n; i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        FZ_ASSERT(x != NULL, "finding %zu of %zu is NULL", i, n);
        FZ_ASSERT(x->severity >= HIVEPORT_SEVERITY_INFO && x->severity <= HIVEPORT_SEVERITY_ERROR,
                  "finding %zu has severity %d", i, x->severity);
        FZ_ASSERT(x->code != NULL && x->code[0] != '\0', "finding %zu has no code", i);
        FZ_ASSERT(x->message != NULL && x->message[0] != '\0', "finding %zu has no message", i);
        FZ_ASSERT(strcmp(hiveport_severity_name(x->severity), "unknown") != 0, "finding %zu", i);
        /* Touch every string, so that a dangling pointer shows under the sanitizers. */
        FZ_ASSERT(strlen(x->code) + strlen(x->message) + (x->key ? strlen(x->key) : 0) +
                          (x->value_name ? strlen(x->value_name) : 0) +
                          (x->setting_id ? strlen(x->setting_id) : 0) >
                      0,
                  "finding %zu", i);
    }
    FZ_ASSERT(hiveport_findings_at(f, n) == NULL, "a finding past the end");
    hiveport_findings_free(f);
}

struct diff_count {
    size_t changes;
    size_t bytes; /* of text seen: makes the reads happen */
};

static int count_change(const hiveport_change *c, void *ctx)
{
    FZ_ASSERT(c->kind >= HIVEPORT_CHANGE_KEY_ADDED && c->kind <= HIVEPORT_CHANGE_VALUE_CHANGED, "change kind %d",
              c->kind);
    FZ_ASSERT(c->key != NULL, "a change without a key");
    /* Touch every string, so that a dangling pointer shows under the sanitizers. */
    size_t n = strlen(c->key) + (c->value_name ? strlen(c->value_name) : 0) + (c->old_text ? strlen(c->old_text) : 0) +
               (c->new_text ? strlen(c->new_text) : 0);
    ((struct diff_count *)ctx)->changes++;
    ((struct diff_count *)ctx)->bytes += n;
    return 0;
}

/* The hive against itself (through a second handle): no difference at all.  And against a fixture, when
 * HIVEPORT_FIXTURES names the directory: any differences, well formed. */
static void diff(hiveport *h)
{
    hiveport *same = NULL;
    if (hiveport_open(hiveport_path(h), 0, &same) == HIVEPORT_OK) {
        struct diff_count n = {0};
        int rc = hiveport_diff(h, same, count_change, &n);
        if (rc != HIVEPORT_OK)
            fz_expect_explained(same, rc, "hiveport_diff(self)");
        else
            FZ_ASSERT(n.changes == 0, "a hive differs from itself in %zu places", n.changes);
    }
    hiveport_close(same);
    const char *dir = getenv("HIVEPORT_FIXTURES");
    char other_path[4096];
    snprintf(other_path, sizeof other_path, "%s/system-basic.hive", dir && *dir ? dir : "build/fixtures");
    hiveport *other = NULL;
    if (hiveport_open(other_path, 0, &other) == HIVEPORT_OK) {
        struct diff_count n = {0};
        int rc = hiveport_diff(other, h, count_change, &n);
        if (rc != HIVEPORT_OK)
            fz_expect_explained(h, rc, "hiveport_diff(fixture, fuzzed)");
    }
    hiveport_close(other);
}

/* The SOFTWARE-hive readers, on the same bytes. */
static void software(hiveport *h)
{
    if (hiveport_rpc_get != NULL) {
        char *ports = NULL, available = 0, use_internet = 0;
        uint32_t count = 0;
        int rc = hiveport_rpc_get(h, &ports, &available, &use_internet, &count);
        if (rc != HIVEPORT_OK) {
            fz_expect_explained(h, rc, "hiveport_rpc_get");
            FZ_ASSERT(ports == NULL && count == 0, "a failed hiveport_rpc_get left results");
        } else {
            FZ_ASSERT(ports != NULL && (available == 'Y' || available == 'N') &&
                          (use_internet == 'Y' || use_internet == 'N'),
                      "hiveport_rpc_get: ports %p, flags %d %d", (void *)ports, available, use_internet);
            FZ_ASSERT(strlen(ports) < 1u << 20, "ports");
        }
        hiveport_free(ports);
    }
    if (hiveport_dcom_get_port != NULL) {
        static const char *const appids[] = {
            "{D99E6E74-FC88-11D0-B498-00A0C90312F3}", "{11111111-1111-1111-1111-111111111111}",
            "{22222222-2222-2222-2222-222222222222}", "{33333333-3333-3333-3333-333333333333}"};
        for (size_t i = 0; i < sizeof appids / sizeof appids[0]; i++) {
            uint32_t port = 0;
            int rc = hiveport_dcom_get_port(h, appids[i], &port);
            if (rc != HIVEPORT_OK)
                fz_expect_explained(h, rc, "hiveport_dcom_get_port");
            else
                FZ_ASSERT(port >= 1 && port <= 65535, "DCOM port %u", port);
        }
    }
}

void fz_read_everything(hiveport *h)
{
    uint32_t p, s, v;
    FZ_ASSERT(hiveport_sequence(h, &p, &s) == HIVEPORT_OK, "hiveport_sequence on an open handle");
    int dirty = hiveport_is_dirty(h);
    FZ_ASSERT(dirty == (p != s), "hiveport_is_dirty says %d for sequence numbers %u and %u", dirty, p, s);
    FZ_ASSERT(hiveport_has_changes(h) == 0, "changes right after open");

    for (int field = HIVEPORT_SELECT_CURRENT; field <= HIVEPORT_SELECT_LASTKNOWNGOOD; field++) {
        int rc = hiveport_select_value(h, field, &v);
        if (rc != HIVEPORT_OK)
            fz_expect_explained(h, rc, "hiveport_select_value");
    }

    size_t count = 0;
    int rc = hiveport_controlsets(h, NULL, 0, &count);
    uint32_t sets[8];
    size_t listed = 0;
    if (rc != HIVEPORT_OK) {
        fz_expect_explained(h, rc, "hiveport_controlsets");
    } else {
        FZ_ASSERT(count <= 999, "%zu control sets", count);
        size_t again = 0;
        rc = hiveport_controlsets(h, sets, 8, &again);
        FZ_ASSERT(rc == HIVEPORT_OK && again == count, "a second listing gave %d, %zu (first: %zu)", rc, again,
                  count);
        listed = count < 8 ? count : 8;
        for (size_t i = 0; i < listed; i++)
            FZ_ASSERT(sets[i] >= 1 && sets[i] <= 999 && (i == 0 || sets[i] > sets[i - 1]),
                      "control set list not ascending 1-999 at %zu", i);
    }

    static const int symbolic[] = {HIVEPORT_CS_CURRENT, HIVEPORT_CS_DEFAULT, HIVEPORT_CS_LASTKNOWNGOOD};
    for (size_t i = 0; i < sizeof symbolic / sizeof symbolic[0]; i++) {
        rc = hiveport_resolve_controlset(h, symbolic[i], &v);
        if (rc != HIVEPORT_OK)
            fz_expect_explained(h, rc, "hiveport_resolve_controlset");
        else
            FZ_ASSERT(v >= 1 && v <= 999, "resolved to control set %u", v);
        get_all(h, symbolic[i]);
    }
    for (size_t i = 0; i < listed; i++) {
        rc = hiveport_resolve_controlset(h, (int)sets[i], &v);
        FZ_ASSERT(rc == HIVEPORT_OK && v == sets[i], "listed control set %u does not resolve: %d (%s)", sets[i],
                  rc, hiveport_errmsg(h));
        get_all(h, (int)sets[i]);
    }
    /* Targets that must be refused without touching the hive. */
    FZ_ASSERT(hiveport_resolve_controlset(h, HIVEPORT_CS_ALL, &v) == HIVEPORT_E_INVALID_ARG, "CS_ALL");
    FZ_ASSERT(hiveport_get_port(h, hiveport_catalog_at(0), HIVEPORT_CS_ALL, &v) == HIVEPORT_E_INVALID_ARG,
              "get CS_ALL");
    FZ_ASSERT(hiveport_resolve_controlset(h, 1000, &v) == HIVEPORT_E_INVALID_ARG, "target 1000");

    audit(h, NULL);
    audit(h, h); /* the same bytes read as the SOFTWARE hive as well */
    software(h);
    diff(h);
}
