/* dry_run.c: --dry-run as a read.  The user's hive is opened read-only; a change the library makes only on
 * a writable handle (rpc-range, dcom) is made on a private copy that is thrown away, so the dry run checks
 * exactly what the write would and never opens the user's file for writing or locks it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dry_run.h"

int cli_dry_run_dirty(const char *prog, hiveport *h, const struct cli_open *open, const char *verb)
{
    if (hiveport_is_dirty(h) == 1 && hiveport_log_state(h, NULL) != HIVEPORT_LOGS_REPLAYED &&
        !(open->flags & HIVEPORT_OPEN_DISCARD_LOGS)) {
        cli_error(prog, "%s: the hive is dirty and %s: %s would refuse to write it (%s)", hiveport_name(h),
                  hiveport_log_report(h), verb, CLI_HINT_DIRTY);
        return CLI_FAILED;
    }
    return CLI_OK;
}

int cli_dry_run_open(const char *prog, const char *hive, const struct cli_open *open, const char *verb, hiveport **h)
{
    if (cli_open_reader(prog, hive, open, 0, h) != CLI_OK)
        return CLI_FAILED;
    return cli_dry_run_dirty(prog, *h, open, verb);
}

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (path != NULL)
        snprintf(path, len, "%s/%s", dir, name);
    return path;
}

/* Copies the file at from to to (created, 0600): CLI_OK, or CLI_FAILED (printed). */
static int copy_file(const char *prog, const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in != NULL ? fopen(to, "wbx") : NULL;
    char buf[65536];
    size_t n;
    bool ok = in != NULL && out != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in);
    if (out != NULL && fclose(out) != 0)
        ok = false;
    if (in != NULL)
        fclose(in);
    if (!ok)
        cli_error(prog, "%s: cannot copy it to %s for --dry-run: %s", from, to, strerror(errno));
    return ok ? CLI_OK : CLI_FAILED;
}

int cli_scratch_open(const char *prog, hiveport *src, const char *hive, struct cli_scratch *s)
{
    *s = (struct cli_scratch){.hive = hive};
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    if ((s->dir = join(tmp, "hiveport-dry-run.XXXXXX")) == NULL || (s->file = join(s->dir, "hive")) == NULL) {
        cli_error(prog, "%s: out of memory", hive);
        goto fail;
    }
    if (mkdtemp(s->dir) == NULL) {
        cli_error(prog, "%s: --dry-run needs a private copy of the hive, but %s cannot be created: %s", hive,
                  s->dir, strerror(errno));
        goto fail;
    }
    snprintf(s->file, strlen(s->dir) + sizeof "/hive", "%s/hive", s->dir);
    /* A dirty hive whose logs were not replayed reaches here only with --discard-logs (cli_dry_run_dirty):
     * the write would then write the primary file as it is, so the copy is its bytes, opened as the write
     * opens it.  Any other hive is copied as read (its logs replayed). */
    bool stale = hiveport_is_dirty(src) == 1 && hiveport_log_state(src, NULL) != HIVEPORT_LOGS_REPLAYED;
    if (stale ? copy_file(prog, hiveport_path(src), s->file) != CLI_OK
              : hiveport_save_copy(src, s->file) != HIVEPORT_OK) {
        if (!stale)
            cli_fail(prog, src);
        goto fail;
    }
    /* The copy has the hive's mode; a read-only one is still ours to open for writing. */
    if (chmod(s->file, 0600) != 0) {
        cli_error(prog, "%s: cannot make the private copy %s writable: %s", hive, s->file, strerror(errno));
        goto fail;
    }
    hiveport_options opts;
    hiveport_options_init(&opts);
    opts.flags = HIVEPORT_OPEN_WRITE | (stale ? HIVEPORT_OPEN_DISCARD_LOGS | HIVEPORT_OPEN_NO_LOGS : 0);
    if (hiveport_open_named(s->file, s->hive, &opts, &s->h) != HIVEPORT_OK) { /* its messages name the user's hive */
        cli_scratch_fail(prog, s);
        goto fail;
    }
    return CLI_OK;
fail:
    cli_scratch_close(s);
    return CLI_FAILED;
}

int cli_scratch_fail(const char *prog, const struct cli_scratch *s)
{
    const char *msg = hiveport_errmsg(s->h);
    size_t len = strlen(s->hive);
    /* The copy was opened under the user's hive's name: the library's messages begin with it. */
    if (strncmp(msg, s->hive, len) == 0)
        cli_error(prog, "%s", msg);
    else
        cli_error(prog, "%s: %s", s->hive, msg);
    return CLI_FAILED;
}

void cli_scratch_close(struct cli_scratch *s)
{
    hiveport_close(s->h);
    s->h = NULL;
    if (s->file != NULL)
        unlink(s->file);
    if (s->dir != NULL)
        rmdir(s->dir);
    free(s->file);
    free(s->dir);
    s->file = s->dir = NULL;
}
