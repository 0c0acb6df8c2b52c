/* fault_commit.c: a full or failing disk during hiveport_commit, at every write-side call in turn.
 *
 * Run with LD_PRELOAD=failshim.so.  Kinds of write: new keys (libhivex writes the file), values patched in
 * place (a patched copy), both over a dirty hive whose log is replayed (the file written is the recovered
 * hive; the log must stay untouched and its change must survive), and hiveport_save_copy.  For each kind,
 * error (ENOSPC, EIO), mode (only the Nth call fails, or every call from the Nth on: a disk that stays
 * full) and with or without a backup, N goes 1, 2, ... until the write no longer reaches an Nth call.
 * At every N:
 *   - a failed commit leaves the hive byte-identical (or, when only the directory sync after the rename
 *     failed, the complete new hive, and the message says it is in place), no temporary file, a backup
 *     (if any) identical to the old hive, and a message that names the file and the cause (strerror);
 *     the changes stay on the handle, and committing again without the fault succeeds;
 *   - a commit that survives the fault (the backup falls back from a hard link to a copy) writes the new
 *     hive correctly, with the same checks on leftovers and the backup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "logmaker.h"
#include "testutil.h"

static struct fl_shim shim;

struct change {
    const char *id;
    int target;
    uint32_t port;
};

/* A structural change (new keys, a type change: libhivex writes the file) and an in-place one (existing
 * REG_DWORDs patched in a copy of the file). */
static const struct change structural[] = {
    {"ntds", HIVEPORT_CS_ALL, 7001},
    {"netlogon", HIVEPORT_CS_CURRENT, 7002},
    {"exchange2010-ab", HIVEPORT_CS_CURRENT, 7003}, /* REG_SZ */
};
static const struct change in_place[] = {
    {"ntds", HIVEPORT_CS_CURRENT, 7001},
    {"netlogon", HIVEPORT_CS_CURRENT, 7002},
};
static const struct change over_log_structural[] = {
    {"ntds", HIVEPORT_CS_CURRENT, 7001},
};
static const struct change over_log_in_place[] = {
    {"exchange-sa-nspi", HIVEPORT_CS_CURRENT, 7004},
};
/* What the dirty fixture's log changes (5001 becomes 5017): it must survive every commit. */
static const struct change logged = {"exchange-sa-rfr", HIVEPORT_CS_CURRENT, 5017};

enum op { COMMIT, SAVE_COPY };

struct scenario {
    const char *name;
    const char *fixture;
    bool log;      /* a SYSTEM.LOG1 that changes exchange-sa-rfr to 5017 */
    enum op op;
    const struct change *changes;
    size_t nchanges;
    int err;
    int sticky;
    int backup;
};

static int apply(hiveport *h, const struct scenario *sc)
{
    for (size_t i = 0; i < sc->nchanges; i++) {
        const struct change *c = &sc->changes[i];
        int rc = hiveport_set_port(h, hiveport_catalog_find(c->id), c->target, c->port, HIVEPORT_SET_REPLACE_TYPE);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    return HIVEPORT_OK;
}

/* NULL when the file at path opens clean and holds every change (and the logged one), else what is wrong. */
static const char *has_changes(const char *path, const struct scenario *sc)
{
    static char why[512];
    hiveport *h = NULL;
    int rc = hiveport_open(path, HIVEPORT_OPEN_NO_LOGS, &h);
    if (rc != HIVEPORT_OK || hiveport_is_dirty(h) != 0) {
        snprintf(why, sizeof why, "it does not open clean: %s", rc ? hiveport_errmsg(h) : "dirty");
        hiveport_close(h);
        return why;
    }
    for (size_t i = 0; i <= sc->nchanges; i++) {
        const struct change *c = i < sc->nchanges ? &sc->changes[i] : sc->log ? &logged : NULL;
        if (c == NULL)
            break;
        uint32_t port = 0;
        int target = c->target == HIVEPORT_CS_ALL ? HIVEPORT_CS_CURRENT : c->target;
        rc = hiveport_get_port(h, hiveport_catalog_find(c->id), target, &port);
        if (rc != HIVEPORT_OK || port != c->port) {
            snprintf(why, sizeof why, "%s reads %s, port %u (want %u)", c->id, hiveport_strerror(rc), port, c->port);
            hiveport_close(h);
            return why;
        }
    }
    hiveport_close(h);
    return NULL;
}

/* Checks shared by every outcome: leftovers, the backup, the log. Returns true when all hold. */
static bool check_dir(const char *what, const char *dir, const char *backup, const char *orig, bool backup_required,
                      const char *log, const char *orig_log)
{
    static const char *const keep[] = {"SYSTEM", "SYSTEM.bak", "SYSTEM.LOG1", "orig", "orig.LOG1", "copy", NULL};
    char *left = fl_leftovers(dir, keep);
    bool ok = fl_check(left == NULL, what, "left behind: %s", left);
    free(left);
    if (backup != NULL && (backup_required || access(backup, F_OK) == 0))
        ok = fl_check(tu_same_bytes(backup, orig), what, "the backup %s is not the old hive", backup) && ok;
    if (log != NULL)
        ok = fl_check(tu_same_bytes(log, orig_log), what, "the log %s changed", log) && ok;
    return ok;
}

static void run(const struct scenario *sc)
{
    char *dir = fl_tmpdir();
    char *path = fl_join(dir, "SYSTEM"), *orig = fl_join(dir, "orig");
    char *backup = sc->backup ? fl_join(dir, "SYSTEM.bak") : NULL;
    char *log = sc->log ? fl_join(dir, "SYSTEM.LOG1") : NULL, *orig_log = sc->log ? fl_join(dir, "orig.LOG1") : NULL;
    char *copy = fl_join(dir, "copy");
    fl_fixture(sc->fixture, orig);
    if (sc->log) {
        size_t len;
        unsigned char *hive = tu_read(orig, &len);
        static const unsigned char port_le[4] = {0x89, 0x13, 0, 0}, new_port[4] = {0x99, 0x13, 0, 0};
        uint32_t at = hive ? lm_find(hive, len, port_le, 4) : UINT32_MAX;
        if (at == UINT32_MAX)
            fl_bail("%s: no 5001 to change in the log", sc->fixture);
        struct lm_patch patch = {at / 4096 * 4096, at % 4096, new_port, 4};
        static unsigned char buf[LM_LOG_SIZE(1)];
        size_t n = lm_new_log(hive, buf, (uint32_t)hive[8] | (uint32_t)hive[9] << 8, &patch, 1);
        FILE *f = fopen(orig_log, "wb");
        if (f == NULL || fwrite(buf, 1, n, f) != n || fclose(f) != 0)
            fl_bail("cannot write %s", orig_log);
        free(hive);
    }
    char label[200];
    snprintf(label, sizeof label, "%s, %s, %s%s", sc->name, sc->err == ENOSPC ? "ENOSPC" : "EIO",
             sc->sticky ? "every call from the Nth" : "the Nth call", sc->backup ? ", with a backup" : "");
    const char *cause = strerror(sc->err);

    unsigned long n;
    unsigned failures = 0, survived = 0, in_place_after = 0;
    for (n = 1; n < 1000; n++) {
        char what[400];
        snprintf(what, sizeof what, "%s: call %lu", label, n);
        if (tu_copy(orig, path) != 0 || (log != NULL && tu_copy(orig_log, log) != 0))
            fl_bail("cannot copy %s", orig);
        if (backup != NULL)
            unlink(backup);
        unlink(copy);
        hiveport *h = NULL;
        int rc = hiveport_open(path, sc->op == COMMIT ? HIVEPORT_OPEN_WRITE : 0, &h);
        if (rc == HIVEPORT_OK && sc->log && hiveport_log_state(h, NULL) != HIVEPORT_LOGS_REPLAYED)
            fl_bail("%s: the log was not replayed: %s", what, hiveport_log_report(h));
        if (rc == HIVEPORT_OK)
            rc = apply(h, sc);
        if (rc != HIVEPORT_OK)
            fl_bail("%s: cannot prepare the change: %s", what, hiveport_errmsg(h));

        shim.arm(n, sc->err, sc->sticky);
        rc = sc->op == COMMIT ? hiveport_commit(h, backup) : hiveport_save_copy(h, copy);
        unsigned long calls = shim.disarm();
        const char *call = shim.failed();
        char msg[1100];
        snprintf(msg, sizeof msg, "%s", hiveport_errmsg(h));
        snprintf(what, sizeof what, "%s: call %lu (%s)", label, n, call ? call : "none left");
        const char *result = sc->op == COMMIT ? path : copy;

        if (call == NULL || rc == HIVEPORT_OK) {
            /* Past the last call the commit runs clean; before it a fault may be absorbed (a hard link
             * that fails falls back to copying).  Either way all must be right. */
            const char *bad = rc == HIVEPORT_OK ? has_changes(result, sc) : msg;
            fl_check(bad == NULL, what, "%s", bad);
            check_dir(what, dir, backup, orig, true, log, orig_log);
            hiveport_close(h);
            if (call != NULL) {
                survived++;
                continue;
            }
            fl_check(true, label, "%s", "");
            printf("# %s: %lu write-side calls; %u refused cleanly (%u with the new hive already in place), "
                   "%u survived\n",
                   label, calls, failures, in_place_after, survived);
            break;
        }

        failures++;
        fl_check(strstr(msg, cause) != NULL && strstr(msg, path) != NULL, what,
                 "the message \"%s\" does not name the file and \"%s\"", msg, cause);
        if (sc->op == SAVE_COPY) {
            fl_check(access(copy, F_OK) != 0 && tu_same_bytes(path, orig), what,
                     "a failed copy left %s, or changed the hive", copy);
        } else if (tu_same_bytes(path, orig)) {
            fl_check(hiveport_has_changes(h) == 1, what, "the changes were dropped from the handle");
        } else if (strstr(msg, "in place") != NULL) {
            /* Only the directory sync after the rename failed: the new hive is complete and says so. */
            in_place_after++;
            const char *bad = has_changes(path, sc);
            fl_check(bad == NULL, what, "reported in place, but %s", bad);
        } else {
            fl_check(false, what, "failed with \"%s\" and the hive is neither the old one nor the new", msg);
        }
        check_dir(what, dir, backup, orig, false, log, orig_log);

        /* The handle keeps its changes and its lock: a second try without the fault goes through. */
        unlink(copy);
        rc = sc->op == COMMIT ? hiveport_commit(h, backup) : hiveport_save_copy(h, copy);
        const char *bad = rc == HIVEPORT_OK ? has_changes(result, sc) : "the retry failed";
        char retry[450];
        snprintf(retry, sizeof retry, "%s, then a retry", what);
        fl_check(rc == HIVEPORT_OK && bad == NULL, retry, "%s (%s)", bad, hiveport_errmsg(h));
        check_dir(retry, dir, backup, orig, false, log, orig_log);
        hiveport_close(h);
    }
    if (n == 1000)
        fl_check(false, label, "%s", "the commit never ran out of calls to fail");
    free(path);
    free(orig);
    free(backup);
    free(log);
    free(orig_log);
    free(copy);
    fl_cleanup(dir);
}

#define CHANGES(a) a, sizeof a / sizeof a[0]

/* A backup path that names the hive itself would leave no backup at all (the new hive replaces it): it
 * must be refused before anything is written, not reported as a success. */
static void backup_is_the_hive(void)
{
    const char *what = "a backup path naming the hive itself";
    char *dir = fl_tmpdir(), *path = fl_join(dir, "SYSTEM"), *orig = fl_join(dir, "orig");
    char *same = NULL;
    if (asprintf(&same, "%s/./SYSTEM", dir) < 0)
        fl_bail("out of memory");
    fl_fixture("system-basic", orig);
    fl_fixture("system-basic", path);
    hiveport *h = NULL;
    int rc = hiveport_open(path, HIVEPORT_OPEN_WRITE, &h);
    if (rc == HIVEPORT_OK)
        rc = hiveport_set_port(h, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, 7001, 0);
    if (rc != HIVEPORT_OK)
        fl_bail("%s: %s", what, hiveport_errmsg(h));
    rc = hiveport_commit(h, same);
    fl_check(rc == HIVEPORT_E_INVALID_ARG && strstr(hiveport_errmsg(h), "backup") != NULL, what,
             "got %s \"%s\"", hiveport_strerror(rc), hiveport_errmsg(h));
    fl_check(tu_same_bytes(path, orig) && hiveport_has_changes(h) == 1, what, "%s", "the hive or the handle changed");
    hiveport_close(h);
    static const char *const keep[] = {"SYSTEM", "orig", NULL};
    char *left = fl_leftovers(dir, keep);
    fl_check(left == NULL, what, "left behind: %s", left);
    free(left);
    free(same);
    free(path);
    free(orig);
    fl_cleanup(dir);
}

int main(void)
{
    shim = fl_shim("fault_commit");
    backup_is_the_hive();

    static const struct scenario kinds[] = {
        {"system-basic, new keys", "system-basic", false, COMMIT, CHANGES(structural), 0, 0, 0},
        {"system-empty, new keys", "system-empty", false, COMMIT, CHANGES(structural), 0, 0, 0},
        {"system-basic, values patched in place", "system-basic", false, COMMIT, CHANGES(in_place), 0, 0, 0},
        {"dirty hive with a log, new keys", "dirty", true, COMMIT, CHANGES(over_log_structural), 0, 0, 0},
        {"dirty hive with a log, a value patched", "dirty", true, COMMIT, CHANGES(over_log_in_place), 0, 0, 0},
        {"dirty hive with a log, hiveport_save_copy", "dirty", true, SAVE_COPY, NULL, 0, 0, 0, 0},
    };
    static const int errs[] = {ENOSPC, EIO};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t e = 0; e < 2; e++)
            for (int sticky = 0; sticky < 2; sticky++)
                for (int backup = 0; backup < (kinds[k].op == COMMIT ? 2 : 1); backup++) {
                    struct scenario sc = kinds[k];
                    sc.err = errs[e];
                    sc.sticky = sticky;
                    sc.backup = backup;
                    run(&sc);
                }
    return fl_finish();
}
