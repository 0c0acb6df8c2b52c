/* fault_concurrent.c: several processes setting different settings on one hive at the same time.
 *
 * P processes (2, then 8) each own one catalog setting and run R rounds (HIVEPORT_FAULT_ROUNDS, default
 * 100): open for writing with the default lock timeout (so they queue for the lock instead of failing),
 * check that their setting still holds what they committed last round (a lost update shows right there),
 * set the next port, commit, close.  Meanwhile the parent keeps reading the hive: every read must open.
 * At the end every process's last port must be present, the hive clean, and no temporary file left. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"

static uint32_t port_of(int p, long round)
{
    return (uint32_t)(1000 + p * 1000 + round); /* round 1..R, R < 1000 */
}

static _Noreturn void worker(const char *path, int p, long rounds)
{
    const hiveport_setting *s = hiveport_catalog_at((size_t)p);
    uint32_t want = 0;
    int want_rc = fl_read_port(path, s, HIVEPORT_CS_CURRENT, &want);
    for (long r = 1; r <= rounds; r++) {
        hiveport *h = NULL;
        int rc = hiveport_open(path, HIVEPORT_OPEN_WRITE, &h);
        if (rc != HIVEPORT_OK) {
            fprintf(stderr, "worker %d round %ld: open: %s\n", p, r, hiveport_errmsg(h));
            _exit(10);
        }
        uint32_t now = 0;
        rc = hiveport_get_port(h, s, HIVEPORT_CS_CURRENT, &now);
        if (rc != want_rc || (rc == HIVEPORT_OK && now != want)) {
            fprintf(stderr, "worker %d round %ld: %s reads %s/%u, but it committed %s/%u: an update was lost\n", p, r,
                    s->id, hiveport_strerror(rc), now, hiveport_strerror(want_rc), want);
            _exit(11);
        }
        rc = hiveport_set_port(h, s, HIVEPORT_CS_CURRENT, port_of(p, r), 0);
        if (rc == HIVEPORT_OK)
            rc = hiveport_commit(h, NULL);
        if (rc != HIVEPORT_OK) {
            fprintf(stderr, "worker %d round %ld: %s\n", p, r, hiveport_errmsg(h));
            _exit(12);
        }
        hiveport_close(h);
        want = port_of(p, r);
        want_rc = HIVEPORT_OK;
    }
    _exit(0);
}

static void run(int procs, long rounds)
{
    char what[100];
    snprintf(what, sizeof what, "%d writers x %ld rounds", procs, rounds);
    char *dir = fl_tmpdir(), *path = fl_join(dir, "SYSTEM");
    fl_fixture("system-basic", path);
    int64_t t0 = fl_now_ms();
    pid_t pids[16];
    for (int p = 0; p < procs; p++) {
        pids[p] = fork();
        if (pids[p] < 0)
            fl_bail("fork: %s", strerror(errno));
        if (pids[p] == 0)
            worker(path, p, rounds);
    }
    /* Read while they write; stop when all have ended. */
    unsigned reads = 0, bad_reads = 0;
    int running = procs, failed = 0;
    while (running > 0) {
        hiveport *h = NULL;
        int rc = hiveport_open(path, 0, &h);
        reads++;
        if (rc != HIVEPORT_OK && bad_reads++ < 3)
            fl_check(false, what, "a reader could not open the hive meanwhile: %s", hiveport_errmsg(h));
        hiveport_close(h);
        int status;
        pid_t done;
        while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
            running--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                failed++;
        }
        usleep(2000);
    }
    long ms = (long)(fl_now_ms() - t0);
    fl_check(failed == 0, what, "%d of %d writers failed (see their messages above)", failed, procs);
    fl_check(bad_reads == 0, what, "%u of %u reads failed", bad_reads, reads);

    hiveport *h = NULL;
    int rc = hiveport_open(path, 0, &h);
    fl_check(rc == HIVEPORT_OK && hiveport_is_dirty(h) == 0, what, "the hive does not open clean: %s",
             hiveport_errmsg(h));
    for (int p = 0; p < procs && rc == HIVEPORT_OK; p++) {
        uint32_t port = 0;
        int grc = hiveport_get_port(h, hiveport_catalog_at((size_t)p), HIVEPORT_CS_CURRENT, &port);
        char one[160];
        snprintf(one, sizeof one, "%s: writer %d's last value", what, p);
        fl_check(grc == HIVEPORT_OK && port == port_of(p, rounds), one, "%s reads %s/%u, want %u",
                 hiveport_catalog_at((size_t)p)->id, hiveport_strerror(grc), port, port_of(p, rounds));
    }
    hiveport_close(h);
    static const char *const keep[] = {"SYSTEM", NULL};
    char *left = fl_leftovers(dir, keep);
    fl_check(left == NULL, what, "left behind: %s", left);
    free(left);
    printf("# %s: %ld commits in %ld ms, %u reads meanwhile\n", what, procs * rounds, ms, reads);
    free(path);
    fl_cleanup(dir);
}

int main(void)
{
    const char *v = getenv("HIVEPORT_FAULT_ROUNDS");
    long rounds = v != NULL && *v != '\0' ? strtol(v, NULL, 10) : 100;
    if (rounds < 1 || rounds > 999)
        fl_bail("HIVEPORT_FAULT_ROUNDS must be 1-999");
    run(2, rounds);
    run(8, rounds);
    return fl_finish();
}
