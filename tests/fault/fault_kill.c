/* fault_kill.c: a writer killed (SIGKILL) at random moments while it commits, over and over.
 *
 * The hive is the system-basic fixture padded with a few MB of filler values, so that writing it takes long
 * enough for the kills to land inside the write.  Each round forks a writer that commits version k, k+1,
 * ... (three settings at once: ports 3k+1, 3k+2, 3k+3, patched in place; two versions in three also add or
 * remove a value, so that the whole file is rewritten) and reports each finished commit through a pipe;
 * the parent reads the hive the whole time (every read must open and show one whole version), kills the
 * writer after a random delay, then checks that the hive opens cleanly, is not dirty, holds exactly the
 * last reported version or the one in flight (never a mix, never older), and that the next writer gets the
 * lock.  Temporary files a killed writer leaves are counted and removed (nothing can clean up after
 * SIGKILL).  HIVEPORT_FAULT_KILLS (default 60) rounds; HIVEPORT_FAULT_SEED reproduces a run. */
#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "fuzz.h" /* fz_open_nowait */

#define PER_ROUND 300 /* versions a round may reach: k = round * PER_ROUND + i */
#define INITIAL (-1L) /* the fixture's own values */

static const char *const ids[3] = {"exchange-sa-rfr", "ntds", "netlogon"};

static unsigned long rng_state;

static unsigned long rng(void)
{
    rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
    return rng_state >> 33;
}

static long env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : fallback;
}

/* Pads the hive at path with filler values, to about kb kilobytes. */
static void pad(const char *path, long kb)
{
    hive_h *h = hivex_open(path, HIVEX_OPEN_WRITE);
    if (h == NULL)
        fl_bail("hivex_open %s: %s", path, strerror(errno));
    hive_node_h cs = hivex_node_get_child(h, hivex_root(h), "ControlSet001");
    hive_node_h node = cs ? hivex_node_add_child(h, cs, "HiveportFiller") : 0;
    size_t n = (size_t)kb / 16;
    static char blob[16000];
    hive_set_value *values = calloc(n ? n : 1, sizeof *values);
    char (*names)[24] = calloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "v%zu", i);
        memset(blob, (int)(i & 0xFF), sizeof blob);
        values[i] = (hive_set_value){.key = names[i], .t = hive_t_REG_BINARY, .len = sizeof blob, .value = blob};
    }
    if (node == 0 || hivex_node_set_values(h, node, n, values, 0) != 0 || hivex_commit(h, path, 0) != 0)
        fl_bail("padding %s: %s", path, strerror(errno));
    hivex_close(h);
    free(values);
    free(names);
}

/* The version the hive at path holds: k, INITIAL, or -2 with why filled. */
static long version_of(const char *path, char *why, size_t why_len)
{
    hiveport *h = NULL;
    int rc = hiveport_open(path, 0, &h);
    uint32_t port[3] = {0};
    for (int j = 0; j < 3 && rc == HIVEPORT_OK; j++)
        rc = hiveport_get_port(h, hiveport_catalog_find(ids[j]), HIVEPORT_CS_CURRENT, &port[j]);
    if (rc == HIVEPORT_OK && hiveport_is_dirty(h))
        rc = HIVEPORT_E_DIRTY;
    if (rc != HIVEPORT_OK) {
        snprintf(why, why_len, "%s (%s)", hiveport_strerror(rc), hiveport_errmsg(h));
        hiveport_close(h);
        return -2;
    }
    hiveport_close(h);
    if (port[0] == 5001 && port[1] == 5005 && port[2] == 5006)
        return INITIAL;
    if (port[0] >= 1 && (port[0] - 1) % 3 == 0 && port[1] == port[0] + 1 && port[2] == port[0] + 2)
        return (long)(port[0] - 1) / 3;
    snprintf(why, why_len, "a mix of versions: ports %u, %u, %u", port[0], port[1], port[2]);
    return -2;
}

/* One commit of version k; 0 or a status.  Two versions in three also add or remove a value, so that
 * libhivex rewrites the whole file; the third only patches the three values in place. */
static int commit_version(const char *path, long k)
{
    hiveport *h = NULL;
    int rc = hiveport_open(path, HIVEPORT_OPEN_WRITE, &h);
    for (int j = 0; j < 3 && rc == HIVEPORT_OK; j++)
        rc = hiveport_set_port(h, hiveport_catalog_find(ids[j]), HIVEPORT_CS_CURRENT, (uint32_t)(3 * k + 1 + j), 0);
    const hiveport_setting *extra = hiveport_catalog_find("exchange55-ds");
    if (rc == HIVEPORT_OK && k % 3 == 1)
        rc = hiveport_set_port(h, extra, HIVEPORT_CS_CURRENT, 4000, 0);
    else if (rc == HIVEPORT_OK && k % 3 == 2)
        rc = hiveport_unset_port(h, extra, HIVEPORT_CS_CURRENT);
    if (rc == HIVEPORT_OK)
        rc = hiveport_commit(h, NULL);
    if (rc != HIVEPORT_OK)
        fprintf(stderr, "writer: version %ld: %s\n", k, hiveport_errmsg(h));
    hiveport_close(h);
    return rc;
}

static _Noreturn void writer(const char *path, long first, int report)
{
    for (long k = first;; k++) {
        if (commit_version(path, k) != HIVEPORT_OK)
            _exit(3);
        if (write(report, &k, sizeof k) != sizeof k)
            _exit(4);
    }
}

int main(void)
{
    long rounds = env_long("HIVEPORT_FAULT_KILLS", 60);
    long kb = env_long("HIVEPORT_FAULT_FILLER_KB", 4000);
    rng_state = (unsigned long)env_long("HIVEPORT_FAULT_SEED", (long)time(NULL));
    printf("# %ld kills, %ld KB of filler, HIVEPORT_FAULT_SEED=%lu\n", rounds, kb, rng_state);
    if (rounds > 21844 / PER_ROUND)
        rounds = 21844 / PER_ROUND;

    char *dir = fl_tmpdir(), *path = fl_join(dir, "SYSTEM");
    fl_fixture("system-basic", path);
    pad(path, kb);

    /* Calibrate: how long one commit takes here, so the kills spread over a few commits. */
    int64_t t0 = fl_now_ms();
    for (long k = 0; k < 3; k++)
        if (commit_version(path, k) != HIVEPORT_OK)
            fl_bail("a plain commit fails");
    long commit_ms = (long)(fl_now_ms() - t0) / 3 + 1;
    printf("# one commit of a %ld KB hive takes about %ld ms\n", kb, commit_ms);

    char why[1400];
    long state = version_of(path, why, sizeof why);
    if (state != 2)
        fl_bail("calibration left version %ld (%s)", state, why);
    unsigned torn_reads = 0, reads = 0, leftovers = 0, kills_mid_commit = 0;
    for (long round = 1; round <= rounds; round++) {
        char what[100];
        snprintf(what, sizeof what, "kill %ld", round);
        int fds[2];
        if (pipe(fds) != 0)
            fl_bail("pipe: %s", strerror(errno));
        long first = round * PER_ROUND;
        pid_t pid = fork();
        if (pid < 0)
            fl_bail("fork: %s", strerror(errno));
        if (pid == 0) {
            close(fds[0]);
            writer(path, first, fds[1]);
        }
        close(fds[1]);
        fcntl(fds[0], F_SETFL, O_NONBLOCK);

        /* Read while the writer writes: every read must see one whole version. */
        int64_t deadline = fl_now_ms() + (long)(rng() % (unsigned long)(4 * commit_ms + 1));
        while (fl_now_ms() < deadline) {
            reads++;
            if (version_of(path, why, sizeof why) == -2 && torn_reads++ < 5)
                fl_check(false, what, "a reader saw a broken hive while the writer ran: %s", why);
        }
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        long last = -3, k;
        while (read(fds[0], &k, sizeof k) == sizeof k)
            last = k;
        close(fds[0]);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fl_check(false, what, "the writer ended by itself (status 0x%x): a commit failed", status);

        long now = version_of(path, why, sizeof why);
        bool ok;
        if (last == -3) /* no commit reported: the old version, or the first one if it landed */
            ok = now == state || now == first;
        else /* the last reported, or the next if it landed before the report */
            ok = now == last || now == last + 1;
        if (now != (last == -3 ? state : last))
            kills_mid_commit++;
        fl_check(ok && now != -2, what, "after the kill the hive is %s (last reported version %ld, before %ld)",
                 now == -2 ? why : "an unexpected version", last, state);
        if (now != -2)
            state = now;

        /* The lock died with the writer; clean up what SIGKILL left. */
        hiveport *h;
        int rc = fz_open_nowait(path, HIVEPORT_OPEN_WRITE, &h);
        fl_check(rc == HIVEPORT_OK, what, "the next writer cannot open: %s", hiveport_errmsg(h));
        hiveport_close(h);
        static const char *const keep[] = {"SYSTEM", NULL};
        char *left = fl_leftovers(dir, keep);
        if (left != NULL) {
            leftovers++;
            for (char *name = strtok(left, ", "); name != NULL; name = strtok(NULL, ", ")) {
                char *p = fl_join(dir, name);
                unlink(p);
                free(p);
            }
        }
        free(left);
    }
    fl_check(torn_reads == 0, "readers during the commits", "%u of %u reads saw a broken hive", torn_reads, reads);
    printf("# %u reads during the commits; %u kills after a commit landed but before it was reported; "
           "%u kills left a temporary file\n",
           reads, kills_mid_commit, leftovers);
    free(path);
    fl_cleanup(dir);
    return fl_finish();
}
