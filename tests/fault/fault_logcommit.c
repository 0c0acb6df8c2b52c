/* fault_logcommit.c: a full or failing disk at every write and flush of a logged commit (issue 21).
 *
 * Run with LD_PRELOAD=failshim.so.  A hive (system-basic, its ports patched in place) with its logs beside
 * it: SYSTEM.LOG1 holding a valid header of the new (Windows 8.1+) or the old (Vista/7) format and an empty
 * SYSTEM.LOG2.  The logged commit (HIVEPORT_OPEN_COMMIT_LOG) writes the log, flushes, marks the hive dirty,
 * flushes, writes the pages, flushes, writes the clean base block, flushes.  For each format, error (ENOSPC,
 * EIO) and mode (only the Nth call fails, or every call from the Nth on), N goes 1, 2, ... until the commit
 * no longer reaches an Nth call.  At every N:
 *   - the file is the old hive byte for byte, or the new one (the same commit made without a fault, with
 *     the same SOURCE_DATE_EPOCH), or dirty: then its logs replay (hiveport_open) to exactly the new hive;
 *   - reading the port gives the old or the new port, never an error or a third value; hiveport_check
 *     finds no error;
 *   - a failed commit has a message naming the file; once the hive was marked dirty the handle refuses to
 *     commit again until hiveport_discard(), after which (the log replayed) a commit succeeds.
 * Three kinds of change: the port patched in place, native edits that grow the file (a new key under
 * Services and 40000 bytes of big data, for which system-basic has no free room: a bin is appended, so
 * the file is extended during the commit), and rpc-range unset on a SOFTWARE hive (software-rpc-inside:
 * Microsoft\Rpc\Internet and its values deleted natively, their cells freed).  For the last, "old" and "new"
 * are the range read back and no range (HIVEPORT_E_NOT_SET). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "internal.h"
#include "testutil.h"
#include "le.h"

static struct fl_shim shim;

#define OLD_PORT 7300u
#define NEW_PORT 7301u

static void write_file(const char *path, const unsigned char *data, size_t len)
{
    if (tu_write(path, data, len) != 0)
        fl_bail("cannot write %s", path);
}

static const hiveport_setting *ntds(void)
{
    return hiveport_catalog_find("ntds");
}

/* The native change: a new key under Services with its port, and a big value that makes the hive grow. */
static const hiveport_setting native_setting = {.key = "HpFault\\Parameters", .value_name = "Port",
                                                .type = HIVEPORT_REG_DWORD};
enum mode { PATCHED, NATIVE, RPC_CLEAR };
static enum mode mode;

static int change(hiveport *h, uint32_t port)
{
    if (mode == RPC_CLEAR)
        return hiveport_rpc_clear(h, 0);
    if (mode == PATCHED)
        return hiveport_set_port(h, ntds(), HIVEPORT_CS_ALL, port, 0);
    int rc = hiveport_set_port(h, &native_setting, 1, port, 0);
    static unsigned char big[40000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 13);
    if (rc == HIVEPORT_OK)
        rc = hp_edit_value_set(h, hp_nav_root(h), 0, "Big", 3, big, sizeof big);
    return rc;
}

static int set_and_commit(const char *path, unsigned flags, uint32_t port)
{
    hiveport *h = NULL;
    int rc = hiveport_open(path, HIVEPORT_OPEN_WRITE | flags, &h);
    if (rc == HIVEPORT_OK)
        rc = change(h, port);
    if (rc == HIVEPORT_OK)
        rc = hiveport_commit(h, NULL);
    hiveport_close(h);
    return rc;
}

/* A reader of h sees the old or the new state; what it saw goes into seen. */
static bool old_or_new(hiveport *h, char *seen, size_t seen_len)
{
    uint32_t port = 0;
    int rc = mode == RPC_CLEAR ? hiveport_rpc_get(h, NULL, NULL, NULL, NULL)
                               : hiveport_get_port(h, mode == NATIVE ? &native_setting : ntds(), 1, &port);
    snprintf(seen, seen_len, "status %d, port %u", rc, port);
    if (mode == RPC_CLEAR)
        return rc == HIVEPORT_OK || rc == HIVEPORT_E_NOT_SET;
    return (rc == HIVEPORT_OK && (port == (mode == NATIVE ? 0 : OLD_PORT) || port == NEW_PORT)) ||
           (mode == NATIVE && rc == HIVEPORT_E_NOT_SET);
}

static bool same(const unsigned char *a, size_t a_len, const unsigned char *b, size_t b_len)
{
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* dir/orig (the hive: system-basic with ntds OLD_PORT, patchable; software-rpc-inside for RPC_CLEAR) and
 * dir/orig.LOG1 (a log header of type type). */
static void prepare(const char *dir, uint32_t type)
{
    char *orig = fl_join(dir, "orig"), *log = fl_join(dir, "orig.LOG1");
    fl_fixture(mode == RPC_CLEAR ? "software-rpc-inside" : "system-basic", orig);
    enum mode was = mode;
    mode = PATCHED;
    int rc = was == RPC_CLEAR ? HIVEPORT_OK : set_and_commit(orig, HIVEPORT_OPEN_COMMIT_COPY, OLD_PORT);
    mode = was;
    if (rc != HIVEPORT_OK)
        fl_bail("cannot prepare %s", orig);
    if (tu_write_caught_up_log(orig, log, type) != 0)
        fl_bail("cannot write %s", log);
    free(orig);
    free(log);
}

/* Copies orig, orig.LOG1 and an empty LOG2 to SYSTEM, SYSTEM.LOG1, SYSTEM.LOG2. */
static void fresh(const char *dir)
{
    char *orig = fl_join(dir, "orig"), *olog = fl_join(dir, "orig.LOG1");
    char *path = fl_join(dir, "SYSTEM"), *log1 = fl_join(dir, "SYSTEM.LOG1"), *log2 = fl_join(dir, "SYSTEM.LOG2");
    if (tu_copy(orig, path) != 0 || tu_copy(olog, log1) != 0)
        fl_bail("cannot copy %s", orig);
    write_file(log2, NULL, 0);
    free(orig);
    free(olog);
    free(path);
    free(log1);
    free(log2);
}

static void run(uint32_t type, int err, int sticky)
{
    char *dir = fl_tmpdir();
    char *path = fl_join(dir, "SYSTEM"), *recovered = fl_join(dir, "recovered");
    prepare(dir, type);
    char label[200];
    static const char *const kinds[] = {"", " of native edits (grown)", " of rpc-range unset (native key deletion)"};
    snprintf(label, sizeof label, "logged commit%s, %s logs, %s, %s", kinds[mode],
             type == 6 ? "new-format" : "old-format", err == ENOSPC ? "ENOSPC" : "EIO",
             sticky ? "every call from the Nth" : "the Nth call");

    /* The old and the new hive, byte for byte. */
    fresh(dir);
    size_t old_len, new_len;
    unsigned char *old_bytes = tu_read(path, &old_len);
    if (set_and_commit(path, HIVEPORT_OPEN_COMMIT_LOG, NEW_PORT) != HIVEPORT_OK)
        fl_bail("%s: the commit fails without a fault", label);
    unsigned char *new_bytes = tu_read(path, &new_len);
    if (mode == NATIVE && new_len <= old_len)
        fl_bail("%s: the native change did not grow the hive (%zu bytes)", label, new_len);

    unsigned long n;
    unsigned failed = 0, dirty = 0;
    for (n = 1; n < 100; n++) {
        char what[300];
        snprintf(what, sizeof what, "%s: call %lu", label, n);
        fresh(dir);
        unlink(recovered);
        hiveport *h = NULL;
        if (hiveport_open(path, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_LOG, &h) != HIVEPORT_OK ||
            change(h, NEW_PORT) != HIVEPORT_OK)
            fl_bail("%s: cannot prepare the change: %s", what, hiveport_errmsg(h));
        shim.arm(n, err, sticky);
        int rc = hiveport_commit(h, NULL);
        unsigned long calls = shim.disarm();
        const char *call = shim.failed();
        char msg[1100];
        snprintf(msg, sizeof msg, "%s", hiveport_errmsg(h));
        if (rc != HIVEPORT_OK) {
            failed++;
            fl_check(strstr(msg, path) != NULL && strstr(msg, strerror(err)) != NULL, what,
                     "the message does not name the file and the cause: %s", msg);
            /* Committing again works at once (nothing reached the hive), or is refused until
             * hiveport_discard(), which rereads the file (its log replayed when it is dirty). */
            if (hiveport_commit(h, NULL) != HIVEPORT_OK) {
                char seen[64] = "";
                fl_check(hiveport_discard(h) == HIVEPORT_OK && old_or_new(h, seen, sizeof seen), what,
                         "after the failure, discard gives %s, %s", hiveport_errmsg(h), seen);
            }
        }
        hiveport_close(h);

        /* What the failure leaves, without the retry: the same fault once more. */
        fresh(dir);
        h = NULL;
        if (hiveport_open(path, HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_COMMIT_LOG, &h) != HIVEPORT_OK ||
            change(h, NEW_PORT) != HIVEPORT_OK)
            fl_bail("%s: cannot prepare the change: %s", what, hiveport_errmsg(h));
        shim.arm(n, err, sticky);
        int rc2 = hiveport_commit(h, NULL);
        shim.disarm();
        hiveport_close(h);
        size_t now_len;
        unsigned char *now = tu_read(path, &now_len);
        bool is_old = same(now, now_len, old_bytes, old_len), is_new = same(now, now_len, new_bytes, new_len);
        if (rc2 == HIVEPORT_OK)
            fl_check(is_new, what, "the commit succeeded but the file is not the new hive");
        else if (!is_old && !is_new) {
            /* Dirty: the logs must replay to exactly the new hive. */
            dirty++;
            hiveport *r = NULL;
            int orc = hiveport_open(path, 0, &r);
            bool replayed = orc == HIVEPORT_OK && hiveport_log_state(r, NULL) == HIVEPORT_LOGS_REPLAYED;
            if (fl_check(replayed, what, "the file is neither hive and its logs do not replay: %s",
                         orc == HIVEPORT_OK ? hiveport_log_report(r) : hiveport_errmsg(r)) &&
                hiveport_save_copy(r, recovered) == HIVEPORT_OK) {
                size_t rl;
                unsigned char *rb = tu_read(recovered, &rl);
                fl_check(same(rb, rl, new_bytes, new_len), what, "the replayed logs do not give the new hive");
                free(rb);
            }
            hiveport_close(r);
        }
        hiveport *rd = NULL;
        char seen[64] = "";
        int orc = hiveport_open(path, 0, &rd);
        fl_check(orc == HIVEPORT_OK && old_or_new(rd, seen, sizeof seen), what, "reading gives %s (%s)", seen,
                 hiveport_errmsg(rd));
        hiveport_close(rd);
        hiveport *c = NULL;
        hiveport_findings *f = NULL;
        if (hiveport_open(path, 0, &c) == HIVEPORT_OK && hiveport_check(c, 0, &f) == HIVEPORT_OK) {
            size_t errors = 0;
            for (size_t i = 0; i < hiveport_findings_count(f); i++)
                errors += hiveport_findings_at(f, i)->severity == HIVEPORT_SEVERITY_ERROR;
            fl_check(errors == 0, what, "hiveport_check finds %zu errors", errors);
        } else {
            fl_check(false, what, "cannot check: %s", hiveport_errmsg(c));
        }
        hiveport_findings_free(f);
        hiveport_close(c);
        free(now);
        (void)call;
        if (calls < n)
            break; /* the commit no longer reaches an Nth call */
    }
    printf("# %s: %lu calls, %u failed commits, %u left dirty with a complete log entry\n", label, n - 1, failed,
           dirty);
    fl_check(n > 6 && failed > 0, label, "the logged commit made only %lu calls", n - 1);
    free(old_bytes);
    free(new_bytes);
    free(path);
    free(recovered);
    fl_cleanup(dir);
}

int main(void)
{
    shim = fl_shim("fault_logcommit");
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    static const uint32_t types[] = {6, 1};
    static const int errs[] = {ENOSPC, EIO};
    for (int m = PATCHED; m <= RPC_CLEAR; m++) {
        mode = (enum mode)m;
        for (size_t t = 0; t < 2; t++)
            for (size_t e = 0; e < 2; e++)
                for (int sticky = 0; sticky < 2; sticky++)
                    run(types[t], errs[e], sticky);
    }
    return fl_finish();
}
