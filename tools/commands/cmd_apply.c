/* cmd_apply.c: 'hiveport apply': a port profile (hiveport-profile(5)) applied to many hives, one atomic
 * commit per hive, or with --check compared with them (drift).
 *
 * Each hive is handled by its own worker process (fork), at most --jobs at once: a hive that crashes the
 * code, hangs on a lock or runs out of memory cannot stop or disturb the others.  A worker sends its
 * result, a JSON object, through a pipe; the parent prints the text results in the order the hives were
 * given, whatever the order they finish in, and --json's JSON Lines as the hives finish. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply_image.h"
#include "apply_jsonl.h"
#include "image.h"
#include "profile.h"
#include "softplan.h"
#include "targets.h"

static const char usage[] =
    "Usage: hiveport apply PROFILE HIVE... [--check] [--jobs N] [--json] [--backup] [--replace-type]\n"
    "                      [--quiet] [--force] [--strict]\n"
    "       hiveport apply PROFILE [HIVE...] --from MANIFEST [--shard K/N] [options]\n"
    "       hiveport apply PROFILE --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] [OPTIONS]\n"
    "Apply the port profile PROFILE (see hiveport-profile(5); a .reg file too; '-' reads standard input)\n"
    "to each HIVE, in one atomic commit per hive; a hive that already matches is not written.  Prints\n"
    "one line per hive (changed, unchanged, or failed and why), in the order given, then a count.  Exit\n"
    "status 0 only when every hive succeeded.\n\n"
    "  --check           write nothing: list, per hive, every setting that differs from the profile;\n"
    "                    exit status 4 when a hive differs\n"
    "  --jobs N          process up to N hives at once (1-256, default 1)\n"
    "  --json            print JSON Lines instead of text: one object per hive as it finishes, then a\n"
    "                    summary (schema in hiveport(1))\n"
    "  --from MANIFEST   also the hives listed in MANIFEST, one per line ('-' reads standard input)\n"
    "                    or images: a line '--wim FILE[:IMAGE]', '--ntfs FILE[@OFFSET|@pN]' or\n"
    "                    '--disk FILE[@OFFSET|@pN] [--disk-format F]' (see hiveport(1))\n"
    "  --shard K/N       only the K-th (0 to N-1) of N disjoint shares of the hives, chosen by a hash\n"
    "                    of each path: N machines running K = 0..N-1 cover every hive once\n"
    "  --backup          keep each previous file as HIVE.bak (replacing it) when it changes\n"
    "  --replace-type    overwrite an existing value of another registry type\n"
    "  --quiet           print only the hives that failed, and the count\n"
    CLI_HELP_RULES CLI_HELP_READ CLI_HELP_WRITE CLI_HELP_IMAGE CLI_HELP_OVERLAY
    "  --help            print this help\n";

#define MAX_JOBS 256

/* Options only this command has (above the shared enum cli_option values). */
enum { OPT_CHECK = 0x300, OPT_JOBS, OPT_FROM, OPT_SHARD };

struct worker {
    pid_t pid; /* 0: the slot is free */
    int fd;
    size_t index;
    char *buf;
    size_t len, cap;
};

struct apply_run {
    const char *prog;
    const char *profile_path;
    const char *manifest_path; /* --from, or NULL */
    unsigned shard_k, shard_n; /* --shard K/N; shard_n 0 without it */
    struct targets targets;
    struct profile profile;
    bool check, json, backup, quiet;
    unsigned set_flags; /* HIVEPORT_SET_* */
    struct cli_rules rules;
    unsigned jobs;
    struct cli_open open;
    char **hives;
    size_t count;
    /* With --wim, --ntfs or --disk: the private copy of the image's hive among hives, and the name its
     * results and messages give it; else NULL. */
    const char *image_path, *image_name;
    json_t **results; /* by hive, until printed */
    struct worker *workers;
    struct pollfd *fds; /* poll() over the running workers, */
    unsigned *slot_of;  /* and the worker slot of each entry */
};

/* ---- one hive (in a worker) ---- */

/* A result under construction: {"hive", "status", "error", "notes", "differences"}. */
struct outcome {
    json_t *obj, *notes, *differences;
};

static json_t *new_result(const char *hive, struct outcome *o)
{
    o->notes = json_array();
    o->differences = json_array();
    o->obj = json_pack("{s:o, s:n, s:n, s:O, s:O}", "hive", cli_json_text(hive), "status", "error", "notes",
                       o->notes, "differences", o->differences);
    json_decref(o->notes);
    json_decref(o->differences);
    return o->obj;
}

static void set_status(struct outcome *o, const char *status)
{
    json_object_set_new(o->obj, "status", json_string(status));
}

/* The reason without the "PATH: " the library starts its messages with (the hive is named already). */
static void fail_text(struct outcome *o, const char *hive, const char *message)
{
    size_t n = strlen(hive);
    if (strncmp(message, hive, n) == 0 && message[n] == ':' && message[n + 1] == ' ')
        message += n + 2;
    set_status(o, "failed");
    json_object_set_new(o->obj, "error", cli_json_text(message));
}

static void fail(struct outcome *o, const char *hive, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct outcome *o, const char *hive, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fail_text(o, hive, message);
}

static void fail_handle(struct outcome *o, const char *hive, const hiveport *h)
{
    fail_text(o, hive, h != NULL ? hiveport_errmsg(h) : hiveport_strerror(HIVEPORT_E_NOMEM));
}

static void note(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct outcome *o, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_array_append_new(o->notes, cli_json_text(text));
}

/* What cli_report_logs() says, as notes. */
static void note_logs(struct outcome *o, const hiveport *h)
{
    switch (hiveport_log_state(h, NULL)) {
    case HIVEPORT_LOGS_REPLAYED:
        note(o, "%s is dirty: %s (in memory; the files are unchanged)", hiveport_name(h), hiveport_log_report(h));
        break;
    case HIVEPORT_LOGS_UNUSABLE:
    case HIVEPORT_LOGS_IGNORED:
        note(o, "warning: %s is dirty and its logs were not replayed (%s): values may be stale", hiveport_name(h),
             hiveport_log_report(h));
        break;
    default:
        break;
    }
}

/* What cli_warn_current_default() says, as a note. */
static void note_current_default(struct outcome *o, hiveport *h, int target, const char *verb)
{
    struct cli_select sel;
    uint32_t used;
    if (target == HIVEPORT_CS_ALL || cli_select_read(h, &sel) != HIVEPORT_OK || !sel.present ||
        !sel.valid[HIVEPORT_SELECT_CURRENT] || !sel.valid[HIVEPORT_SELECT_DEFAULT] ||
        sel.value[HIVEPORT_SELECT_CURRENT] == sel.value[HIVEPORT_SELECT_DEFAULT] ||
        hiveport_resolve_controlset(h, target, &used) != HIVEPORT_OK || used == sel.value[HIVEPORT_SELECT_DEFAULT])
        return; /* nothing to say when the control set used is the one Windows boots next */
    note(o,
         "warning: %s: Select\\Current (%u) and Select\\Default (%u) differ: %s ControlSet%03u; Windows boots "
         "ControlSet%03u next ('controlset = all' in the profile covers every control set)",
         hiveport_name(h), sel.value[HIVEPORT_SELECT_CURRENT], sel.value[HIVEPORT_SELECT_DEFAULT], verb, used,
         sel.value[HIVEPORT_SELECT_DEFAULT]);
}

/* The control sets the profile's target means in this hive, ascending. */
static bool resolve_targets(struct outcome *o, const char *hive, hiveport *h, int target, uint32_t **numbers,
                            size_t *count)
{
    *numbers = NULL;
    *count = 0;
    size_t total = 1;
    if (target == HIVEPORT_CS_ALL && hiveport_controlsets(h, NULL, 0, &total) != HIVEPORT_OK) {
        fail_handle(o, hive, h);
        return false;
    }
    if (total == 0) {
        fail(o, hive, "the hive has no ControlSetNNN key");
        return false;
    }
    uint32_t *list = calloc(total, sizeof *list);
    if (list == NULL) {
        fail(o, hive, "out of memory");
        return false;
    }
    int rc = target == HIVEPORT_CS_ALL ? hiveport_controlsets(h, list, total, &total)
                                       : hiveport_resolve_controlset(h, target, &list[0]);
    if (rc != HIVEPORT_OK) {
        free(list);
        fail_handle(o, hive, h);
        return false;
    }
    *numbers = list;
    *count = total;
    return true;
}

/* Writing needs a usable SYSTEM hive whatever the target, as for 'hiveport set' (cli_check_select()). */
static bool check_select(struct outcome *o, const char *hive, hiveport *h)
{
    static const int fields[] = {HIVEPORT_CS_CURRENT, HIVEPORT_CS_DEFAULT, HIVEPORT_CS_LASTKNOWNGOOD};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint32_t number;
        if (hiveport_resolve_controlset(h, fields[i], &number) != HIVEPORT_OK) {
            fail_handle(o, hive, h);
            return false;
        }
    }
    return true;
}

static const char *problem_name(int status)
{
    switch (status) {
    case HIVEPORT_E_NOT_SET:
        return "not set";
    case HIVEPORT_E_WRONG_TYPE:
        return "wrong type";
    case HIVEPORT_E_BAD_DATA:
        return "bad data";
    default:
        return NULL;
    }
}

/* Records every setting of the profile that differs from the hive in the given control sets (control set
 * by control set, in profile order).  False when a value cannot be read (the reason recorded). */
static bool compare(struct outcome *o, const char *hive, hiveport *h, const struct profile *p,
                    const uint32_t *numbers, size_t count)
{
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < p->count; j++) {
            const struct profile_entry *e = &p->entries[j];
            const hiveport_setting *s = &e->setting.setting;
            uint32_t port = 0;
            int rc = hiveport_get_port(h, s, (int)numbers[i], &port);
            if (rc != HIVEPORT_OK && problem_name(rc) == NULL) {
                fail_handle(o, hive, h);
                return false;
            }
            bool differs = e->unset ? rc != HIVEPORT_E_NOT_SET : !(rc == HIVEPORT_OK && port == e->port);
            if (!differs)
                continue;
            json_t *d = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "controlset", (json_int_t)numbers[i],
                                  "setting", cli_json_text(e->setting.label), "key", cli_json_text(s->key),
                                  "value_name", cli_json_text(s->value_name), "expected",
                                  e->unset ? json_null() : json_integer(e->port), "actual",
                                  rc == HIVEPORT_OK ? json_integer(port) : json_null(), "problem",
                                  rc == HIVEPORT_OK ? json_null() : json_string(problem_name(rc)));
            json_array_append_new(o->differences, d);
        }
    return true;
}

static void say_note(void *ctx, const char *line)
{
    note(ctx, "%s", line);
}

/* The audit's rules over the profile's changes (tools/preflight.c): warnings become notes; an error
 * refuses the hive unless --force. */
static bool check_rules(struct outcome *o, const char *hive, hiveport *h, const struct apply_run *r)
{
    const struct profile *p = &r->profile;
    hiveport_plan_item *plan = calloc(p->count, sizeof *plan);
    if (plan == NULL) {
        fail(o, hive, "out of memory");
        return false;
    }
    for (size_t i = 0; i < p->count; i++)
        plan[i] = (hiveport_plan_item){&p->entries[i].setting.setting, p->entries[i].port, p->entries[i].unset};
    char refusal[2048];
    bool ok = cli_preflight(h, plan, p->count, p->target, r->set_flags, &r->rules, say_note, o, refusal,
                            sizeof refusal) == CLI_OK;
    if (!ok)
        fail_text(o, hive, refusal);
    free(plan);
    return ok;
}

static bool apply_changes(struct outcome *o, const char *hive, hiveport *h, const struct apply_run *r)
{
    const struct profile *p = &r->profile;
    for (size_t i = 0; i < p->count; i++) {
        const struct profile_entry *e = &p->entries[i];
        int rc = e->unset ? hiveport_unset_port(h, &e->setting.setting, p->target)
                          : hiveport_set_port(h, &e->setting.setting, p->target, e->port, r->set_flags);
        if (rc == HIVEPORT_E_WRONG_TYPE) {
            fail(o, hive, "%s (--replace-type overwrites it)", hiveport_errmsg(h));
            return false;
        }
        if (rc != HIVEPORT_OK) {
            fail_handle(o, hive, h);
            return false;
        }
    }
    return true;
}

static bool commit(struct outcome *o, const char *hive, hiveport *h, const struct apply_run *r)
{
    char *backup = NULL;
    if (r->backup && (backup = cli_backup_path(hiveport_path(h))) == NULL) {
        fail(o, hive, "out of memory");
        return false;
    }
    bool ok = hiveport_commit(h, backup) == HIVEPORT_OK;
    if (!ok)
        fail_handle(o, hive, h);
    free(backup);
    return ok;
}

/* A plan of SOFTWARE keys (tools/softplan.h) on the SOFTWARE hive h: the library refuses another kind. */
static void process_software(struct outcome *o, const char *hive, hiveport *h, const struct apply_run *r)
{
    const struct softplan *sp = r->profile.software;
    if (softplan_compare(sp, h, o->differences) != HIVEPORT_OK) {
        fail_handle(o, hive, h);
    } else if (r->check) {
        set_status(o, json_array_size(o->differences) > 0 ? "drift" : "match");
    } else if (softplan_apply(sp, h) != HIVEPORT_OK) {
        fail_handle(o, hive, h); /* closing without a commit writes nothing */
    } else if (!hiveport_has_changes(h)) {
        set_status(o, "unchanged");
    } else if (commit(o, hive, h, r)) {
        softplan_warnings(sp, say_note, o);
        set_status(o, "changed");
    }
}

/* Applies (or checks) the profile on the hive at path, which results and messages name hive (the path, or
 * the name of a hive inside an image); returns the result object, NULL when out of memory. */
static json_t *process_hive(const struct apply_run *r, const char *path, const char *hive)
{
    struct outcome o;
    if (new_result(hive, &o) == NULL)
        return NULL;
    const struct profile *p = &r->profile;
    hiveport *h = NULL;
    uint32_t *numbers = NULL;
    size_t count = 0;
    int opened = cli_open_named(path, hive, &r->open, r->check ? 0 : HIVEPORT_OPEN_WRITE, &h);
    if (opened != HIVEPORT_OK) {
        if (opened == HIVEPORT_E_DIRTY && h != NULL)
            fail(&o, hive, "%s (%s)", hiveport_errmsg(h), CLI_HINT_DIRTY);
        else
            fail_handle(&o, hive, h);
        goto out;
    }
    note_logs(&o, h);
    if (p->software != NULL) {
        process_software(&o, hive, h, r);
        goto out;
    }
    if ((!r->check && !check_select(&o, hive, h)) || !resolve_targets(&o, hive, h, p->target, &numbers, &count) ||
        !compare(&o, hive, h, p, numbers, count))
        goto out;
    if (r->check) {
        set_status(&o, json_array_size(o.differences) > 0 ? "drift" : "match");
        note_current_default(&o, h, p->target, "checked");
        goto out;
    }
    /* Closing without a commit drops every change: a failure below writes nothing. */
    if (!check_rules(&o, hive, h, r) || !apply_changes(&o, hive, h, r))
        goto out;
    if (hiveport_has_changes(h)) {
        if (!commit(&o, hive, h, r))
            goto out;
        set_status(&o, "changed");
    } else {
        set_status(&o, "unchanged");
    }
    note_current_default(&o, h, p->target, "applied to");
out:
    free(numbers);
    hiveport_close(h);
    return o.obj;
}

static json_t *process_image_hive(void *ctx, const char *hive, const char *name)
{
    return process_hive(ctx, hive, name);
}

/* How results name hive index: its path, or the command line's image. */
static const char *shown(const struct apply_run *r, size_t index)
{
    const char *hive = r->hives[index];
    return r->image_path != NULL && strcmp(hive, r->image_path) == 0 ? r->image_name : hive;
}

/* A hive, or an image named by a manifest line (apply_image.h). */
static json_t *process_target(const struct apply_run *r, size_t index)
{
    const char *target = r->hives[index];
    if (!apply_image_is_target(target))
        return process_hive(r, target, shown(r, index));
    return apply_image_run(r->prog, target, !r->check, r->backup, r->open.lock_timeout_ms, process_image_hive,
                           (void *)r);
}

/* ---- workers ---- */

static json_t *failed_result(const char *hive, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *failed_result(const char *hive, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    struct outcome o;
    if (new_result(hive, &o) == NULL)
        return json_null(); /* out of memory: still a result, counted as a failure */
    fail_text(&o, hive, message);
    return o.obj;
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static void run_free(struct apply_run *r)
{
    for (size_t i = 0; r->results != NULL && i < r->count; i++)
        json_decref(r->results[i]);
    free(r->results);
    r->results = NULL;
    for (unsigned i = 0; r->workers != NULL && i < r->jobs; i++)
        free(r->workers[i].buf);
    free(r->workers);
    r->workers = NULL;
    free(r->fds);
    r->fds = NULL;
    free(r->slot_of);
    r->slot_of = NULL;
    profile_free(&r->profile);
    targets_free(&r->targets);
}

/* A hive's result is in: --json prints it at once (JSON Lines, in the order hives finish); the text
 * output waits for flush_ready(), in the order given. */
static void result_ready(struct apply_run *r, size_t index, json_t *result)
{
    r->results[index] = result;
    if (!r->json)
        return;
    /* Notes go to stderr as well, as the other commands' notes do. */
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(result, "notes"), i, v) {
        fprintf(stderr, "%s: ", r->prog);
        cli_print_text(stderr, json_string_value(v));
        fputc('\n', stderr);
    }
    if (!jsonl_print_target(shown(r, index), result, r->check))
        cli_error(r->prog, "%s: cannot print the result", shown(r, index));
}

/* Starts the worker for hive index in slot w; on failure the result says why and the slot stays free. */
static void start_worker(struct apply_run *r, struct worker *w, size_t index)
{
    const char *hive = shown(r, index);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        result_ready(r, index, failed_result(hive, "cannot create a pipe for the worker: %s", strerror(errno)));
        return;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        result_ready(r, index, failed_result(hive, "cannot start a worker process: %s", strerror(err)));
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        json_t *result = process_target(r, index);
        char *text = result != NULL ? json_dumps(result, JSON_COMPACT) : NULL;
        json_decref(result);
        bool sent = text != NULL && write_all(fds[1], text, strlen(text));
        free(text);
        close(fds[1]);
        run_free(r); /* this process's copy of the parent's memory, for leak checkers */
        _exit(sent ? 0 : 1);
    }
    close(fds[1]);
    w->pid = pid;
    w->fd = fds[0];
    w->index = index;
    w->len = 0;
}

/* Reads what the worker sent; returns true at the end of its output. */
static bool read_worker(struct worker *w)
{
    if (w->cap - w->len < 4096) {
        size_t cap = w->cap ? 2 * w->cap : 16384;
        char *grown = realloc(w->buf, cap);
        if (grown == NULL)
            return true; /* the result will be incomplete, hence reported as missing */
        w->buf = grown;
        w->cap = cap;
    }
    ssize_t n = read(w->fd, w->buf + w->len, w->cap - w->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return false;
    if (n <= 0)
        return true;
    w->len += (size_t)n;
    return false;
}

/* Reaps the worker and stores its result, or a failure saying what became of it. */
static void finish_worker(struct apply_run *r, struct worker *w)
{
    const char *hive = shown(r, w->index);
    close(w->fd);
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    json_t *result = w->len > 0 ? json_loadb(w->buf, w->len, 0, NULL) : NULL;
    const char *reported = json_string_value(json_object_get(result, "status"));
    if (reported == NULL) {
        json_decref(result);
        result = NULL;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && result != NULL) {
        result_ready(r, w->index, result);
    } else {
        char how[128];
        if (WIFSIGNALED(status))
            snprintf(how, sizeof how, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(how, sizeof how, "exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        result_ready(r, w->index,
                     reported != NULL
                         ? failed_result(hive, "the worker process %s after reporting '%s'", how, reported)
                         : failed_result(hive, "the worker process %s without a result; the hive is as it was or "
                                               "fully written, never partly (commits are atomic)",
                                         how));
        json_decref(result);
    }
    w->pid = 0;
    w->fd = -1;
}

/* ---- output ---- */

struct tally {
    size_t ok, other, failed; /* changed/unchanged or match/drift, and failed */
};

/* The hive is named as given (the JSON "hive" has U+FFFD for bytes that are not UTF-8). */
static void print_text_result(const struct apply_run *r, const char *hive, json_t *res)
{
    const char *status = json_string_value(json_object_get(res, "status"));
    const char *error = json_string_value(json_object_get(res, "error"));
    json_t *notes = json_object_get(res, "notes"), *diffs = json_object_get(res, "differences");
    size_t i;
    json_t *v;
    json_array_foreach(notes, i, v) {
        fprintf(stderr, "%s: ", r->prog);
        cli_print_text(stderr, json_string_value(v));
        fputc('\n', stderr);
    }
    if (r->quiet && status != NULL && strcmp(status, "failed") != 0)
        return;
    cli_print_text(stdout, hive);
    size_t n = json_array_size(diffs);
    if (status == NULL || strcmp(status, "failed") == 0) {
        fputs(": failed: ", stdout);
        cli_print_text(stdout, error != NULL ? error : "out of memory");
        putchar('\n');
        return;
    }
    if (strcmp(status, "changed") == 0 && n > 0)
        printf(": changed (%zu value%s)\n", n, n == 1 ? "" : "s");
    else if (strcmp(status, "drift") == 0)
        printf(": drift (%zu difference%s)\n", n, n == 1 ? "" : "s");
    else
        printf(": %s\n", status);
    if (!r->check)
        return;
    json_array_foreach(diffs, i, v) {
        if (r->profile.software != NULL) {
            softplan_print_difference(stdout, v);
            continue;
        }
        json_t *expected = json_object_get(v, "expected"), *actual = json_object_get(v, "actual");
        printf("  ControlSet%03u ", (unsigned)json_integer_value(json_object_get(v, "controlset")));
        profile_print_setting(stdout, json_string_value(json_object_get(v, "setting")));
        if (json_is_integer(actual))
            printf(": %u", (unsigned)json_integer_value(actual));
        else
            printf(": %s", json_string_value(json_object_get(v, "problem")));
        if (json_is_integer(expected))
            printf(", expected %u\n", (unsigned)json_integer_value(expected));
        else
            printf(", expected unset\n");
    }
}

static void count_result(const struct apply_run *r, json_t *res, struct tally *t)
{
    const char *status = json_string_value(json_object_get(res, "status"));
    if (status == NULL || strcmp(status, "failed") == 0)
        t->failed++;
    else if (strcmp(status, r->check ? "match" : "changed") == 0)
        t->ok++;
    else
        t->other++;
}

/* Counts the results that are next in order, and prints them as text (--json printed them already). */
static void flush_ready(struct apply_run *r, size_t *printed, struct tally *t)
{
    while (*printed < r->count && r->results[*printed] != NULL) {
        json_t *res = r->results[*printed];
        r->results[*printed] = NULL;
        count_result(r, res, t);
        if (!r->json) {
            print_text_result(r, shown(r, *printed), res);
            fflush(stdout);
        }
        json_decref(res);
        (*printed)++;
    }
}

static int run_all(struct apply_run *r, struct tally *t)
{
    r->results = calloc(r->count > 0 ? r->count : 1, sizeof *r->results); /* a shard may be empty */
    r->workers = calloc(r->jobs, sizeof *r->workers);
    r->fds = calloc(r->jobs, sizeof *r->fds);
    r->slot_of = calloc(r->jobs, sizeof *r->slot_of);
    if (r->results == NULL || r->workers == NULL || r->fds == NULL || r->slot_of == NULL) {
        cli_error(r->prog, "out of memory");
        return CLI_FAILED;
    }
    size_t next = 0, printed = 0;
    unsigned active = 0;
    while (printed < r->count) {
        for (unsigned s = 0; s < r->jobs && next < r->count; s++)
            if (r->workers[s].pid == 0) {
                start_worker(r, &r->workers[s], next++);
                active += r->workers[s].pid != 0;
            }
        flush_ready(r, &printed, t);
        if (active == 0)
            continue;
        nfds_t n = 0;
        for (unsigned s = 0; s < r->jobs; s++)
            if (r->workers[s].pid != 0) {
                r->fds[n] = (struct pollfd){.fd = r->workers[s].fd, .events = POLLIN};
                r->slot_of[n++] = s;
            }
        if (poll(r->fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            for (nfds_t i = 0; i < n; i++) /* cannot wait: read each worker to its end in turn */
                r->fds[i].revents = POLLIN;
        }
        for (nfds_t i = 0; i < n; i++) {
            struct worker *w = &r->workers[r->slot_of[i]];
            if (r->fds[i].revents == 0)
                continue;
            if (read_worker(w)) {
                finish_worker(r, w);
                active--;
            }
        }
        flush_ready(r, &printed, t);
    }
    return CLI_OK;
}

static int print_summary(struct apply_run *r, const struct tally *t)
{
    const char *ok = r->check ? "match" : "changed", *other = r->check ? "drift" : "unchanged";
    if (!r->json) {
        printf("%zu hive%s: %zu %s, %zu %s, %zu failed\n", r->count, r->count == 1 ? "" : "s", t->ok, ok, t->other,
               other, t->failed);
        return CLI_OK;
    }
    char target[16];
    profile_target_name(r->profile.target, target, sizeof target);
    struct jsonl_summary s = {.profile = strcmp(r->profile_path, "-") == 0 ? "(standard input)" : r->profile_path,
                              .check = r->check, .controlset = r->profile.software != NULL ? NULL : target,
                              .shard_k = r->shard_k,
                              .shard_n = r->shard_n, .targets = r->count, .total = r->targets.total,
                              .ok = t->ok, .other = t->other, .failed = t->failed};
    if (jsonl_print_summary(&s))
        return CLI_OK;
    cli_error(r->prog, "out of memory");
    return CLI_FAILED;
}

/* ---- the command ---- */

struct file_id {
    dev_t dev;
    ino_t ino;
    size_t index;
};

static int compare_ids(const void *a, const void *b)
{
    const struct file_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Writing the same file twice at once would make the result depend on which worker locks it first. */
static int refuse_same_file(const struct apply_run *r)
{
    struct file_id *ids = calloc(r->count > 0 ? r->count : 1, sizeof *ids);
    if (ids == NULL) {
        cli_error(r->prog, "out of memory");
        return CLI_FAILED;
    }
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++) {
        struct stat st;
        /* lstat: a symbolic link is refused for writing anyway; a missing hive fails on its own. */
        if (lstat(r->hives[i], &st) == 0)
            ids[n++] = (struct file_id){st.st_dev, st.st_ino, i};
    }
    qsort(ids, n, sizeof *ids, compare_ids);
    int rc = CLI_OK;
    for (size_t i = 1; i < n && rc == CLI_OK; i++)
        if (ids[i].dev == ids[i - 1].dev && ids[i].ino == ids[i - 1].ino)
            rc = cli_usage_error(r->prog, "'%s' and '%s' are the same file", r->hives[ids[i - 1].index],
                                 r->hives[ids[i].index]);
    free(ids);
    return rc;
}

static int parse_jobs(const char *prog, const char *text, unsigned *jobs)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || text[0] == '-' || n < 1 || n > MAX_JOBS)
        return cli_usage_error(prog, "invalid --jobs '%s': expected a number 1-%d", text, MAX_JOBS);
    *jobs = (unsigned)n;
    return CLI_OK;
}

/* --jobs and --shard (cli_parse_options()). */
static int parse_option(void *ctx, const char *prog, int c, const char *arg)
{
    struct apply_run *r = ctx;
    int rc = c == OPT_JOBS ? parse_jobs(prog, arg, &r->jobs) : targets_parse_shard(prog, arg, &r->shard_k, &r->shard_n);
    return rc == CLI_OK ? CLI_CONTINUE : rc;
}

/* The hives of the command line (operands), for apply_to(). */
struct apply_call {
    struct apply_run *r;
    char **operands;
    size_t count;
};

/* Applies (or checks) the profile on the operands, then the hive at path when it is an image's copy
 * (named name), and the manifest's targets. */
static int apply_to(void *ctx, const char *path, const char *name)
{
    struct apply_call *call = ctx;
    struct apply_run *r = call->r;
    int rc;
    size_t n = call->count;
    char **hives = calloc(n + 1, sizeof *hives);
    if (hives == NULL) {
        cli_error(r->prog, "out of memory");
        return CLI_FAILED;
    }
    memcpy(hives, call->operands, n * sizeof *hives);
    if (path != NULL) {
        hives[n++] = (char *)path;
        r->image_path = path;
        r->image_name = name;
    }
    rc = targets_collect(r->prog, hives, n, r->manifest_path, r->shard_k, r->shard_n, &r->targets);
    free(hives);
    if (rc != CLI_OK)
        return rc;
    r->hives = r->targets.items;
    r->count = r->targets.count;
    if (r->jobs > r->count)
        r->jobs = r->count > 0 ? (unsigned)r->count : 1;
    if (!r->check && (rc = refuse_same_file(r)) != CLI_OK) {
        targets_free(&r->targets);
        return rc;
    }

    unsigned errors = 0;
    rc = profile_load(r->prog, r->profile_path, &r->profile, &errors);
    if (rc == CLI_USAGE) {
        cli_error(r->prog, "%s: %s%u problem%s in the profile; no hive was opened",
                  strcmp(r->profile_path, "-") == 0 ? "(standard input)" : r->profile_path,
                  errors > PROFILE_MAX_ERRORS ? "more than " : "",
                  errors > PROFILE_MAX_ERRORS ? PROFILE_MAX_ERRORS : errors, errors == 1 ? "" : "s");
        targets_free(&r->targets);
        return rc;
    }
    if (rc == CLI_OK && r->profile.software != NULL && (r->set_flags != 0 || r->rules.force || r->rules.strict))
        rc = cli_usage_error(r->prog, "--replace-type, --force and --strict are for SYSTEM settings, not for a "
                                     ".reg file of SOFTWARE keys");
    if (rc != CLI_OK) {
        profile_free(&r->profile);
        targets_free(&r->targets);
        return rc;
    }

    struct tally t = {0};
    rc = run_all(r, &t);
    if (rc == CLI_OK)
        rc = print_summary(r, &t);
    run_free(r);
    if (rc != CLI_OK)
        return rc;
    return t.failed > 0 ? CLI_FAILED : (r->check && t.other > 0) ? CLI_DRIFT : CLI_OK;
}

int cmd_apply(int argc, char **argv)
{
    static const struct option longopts[] = {{"check", no_argument, NULL, OPT_CHECK},
                                             {"jobs", required_argument, NULL, OPT_JOBS},
                                             {"from", required_argument, NULL, OPT_FROM},
                                             {"shard", required_argument, NULL, OPT_SHARD}, CLI_LONGOPT_JSON,
                                             CLI_LONGOPT_BACKUP, CLI_LONGOPT_REPLACE_TYPE, CLI_LONGOPTS_RULES,
                                             CLI_LONGOPT_QUIET, CLI_LONGOPTS_READ, CLI_LONGOPTS_WRITE,
                                             CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    struct apply_run r = {.prog = argv[0], .jobs = 1};
    struct cli_target t;
    cli_open_init(&r.open);
    bool replace_type = false;
    const struct cli_store store[] = {CLI_FLAG(OPT_CHECK, r.check), CLI_FLAG(OPT_JSON, r.json),
                                      CLI_TEXT(OPT_FROM, r.manifest_path), CLI_FLAG(OPT_BACKUP, r.backup),
                                      CLI_FLAG(OPT_REPLACE_TYPE, replace_type), CLI_FLAG(OPT_FORCE, r.rules.force),
                                      CLI_FLAG(OPT_STRICT, r.rules.strict), CLI_FLAG(OPT_QUIET, r.quiet),
                                      CLI_STORE_END};
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .store = store, .open = &r.open,
                                                               .option = parse_option, .ctx = &r,
                                                               .min_operands = -1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    r.set_flags = replace_type ? HIVEPORT_SET_REPLACE_TYPE : 0;
    /* An image (--wim, --ntfs, --disk) is one more HIVE. */
    if ((rc = cli_check_operands(r.prog, argc, argv, r.manifest_path != NULL || t.option != NULL ? 1 : 2, -1)) !=
        CLI_OK)
        return rc;
    r.profile_path = argv[optind];
    for (int i = optind + 1; i < argc; i++)
        if (strcmp(argv[i], "-") == 0)
            return cli_usage_error(r.prog, "a HIVE cannot be standard input ('-' is for PROFILE only)");
    if (r.manifest_path != NULL && strcmp(r.manifest_path, "-") == 0 && strcmp(r.profile_path, "-") == 0)
        return cli_usage_error(r.prog, "the profile and the manifest cannot both be standard input");
    t.may_write = !r.check;
    t.backup = r.backup;
    t.lock_wait_ms = r.open.lock_timeout_ms;
    t.hive = NULL; /* a hive file is an operand like the others */
    struct apply_call call = {&r, argv + optind + 1, (size_t)(argc - optind - 1)};
    return image_with_target(&t, apply_to, &call);
}
