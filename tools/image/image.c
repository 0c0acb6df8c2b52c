/* image.c: the image layer of the hiveport command (issues 11, 15).  'hiveport COMMAND --wim SPEC ...',
 * '--ntfs SPEC' and '--disk SPEC' run COMMAND on a private copy of the image's Windows/System32/config/SYSTEM (plus its
 * transaction logs, for dirty-hive replay), then put the hive back if the command succeeded and the bytes
 * changed.  The commands know nothing of it: the option is taken out of argv and the copy's path given as
 * the HIVE operand.  What the command prints is held back and the copy's path replaced by the image's
 * name ("install.wim:2:Windows/System32/config/SYSTEM"), so messages say where. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"

enum image_kind { KIND_NONE, KIND_WIM, KIND_NTFS };

static const struct image_backend *backend_of(enum image_kind kind)
{
    return kind == KIND_WIM ? &image_wim_backend : &image_ntfs_backend;
}

/* Commands that take a SYSTEM hive: all but apply take it as their first operand.  recover only reads
 * it (its -o OUT is a file outside the image). */
static const char *const image_commands[] = {"show",   "get",      "set",     "unset", "audit", "apply",
                                             "export", "firewall", "recover", "check"};

void image_print_support(FILE *out)
{
    char wv[256] = "", nv[256] = "", qv[256] = "", ev[256] = "";
    bool wim = image_wim_backend.supported(wv, sizeof wv), ntfs = image_ntfs_backend.supported(nv, sizeof nv);
    bool nbd = disk_nbd_supported(qv, sizeof qv), ewf = disk_ewf_supported(ev, sizeof ev);
    fprintf(out, "images: WIM %s%s%s, NTFS %s%s%s\n", wim ? "yes (wimlib " : "no", wim ? wv : "", wim ? ")" : "",
            ntfs ? "yes (libntfs-3g " : "no", ntfs ? nv : "", ntfs ? ")" : "");
    fprintf(out, "disks: raw %s, qcow2/VHDX/VHD/VMDK %s%s%s, E01 %s%s%s\n", ntfs ? "yes" : "no",
            nbd && ntfs ? "yes (" : "no", nbd && ntfs ? qv : "", nbd && ntfs ? ")" : "",
            ewf && ntfs ? "yes (libewf " : "no", ewf && ntfs ? ev : "", ewf && ntfs ? ")" : "");
}

/* Reads what is left of fd; *data is malloc'd (possibly empty). */
static int read_fd(int fd, unsigned char **data, size_t *size)
{
    size_t cap = 65536, len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *data = buf;
    *size = len;
    return 0;
}

/* Reads a whole file; *data is malloc'd (possibly empty). */
static int read_all(const char *path, unsigned char **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = read_fd(fd, data, size), e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Copies what was captured in fd to stream, with every occurrence of from replaced by to. */
static void replay_output(int fd, FILE *stream, const char *from, const char *to)
{
    unsigned char *data = NULL;
    size_t size = 0;
    if (lseek(fd, 0, SEEK_SET) != 0 || read_fd(fd, &data, &size) != 0)
        return;
    size_t flen = strlen(from);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *hit = flen ? memmem(p, (size_t)(end - p), from, flen) : NULL;
        size_t chunk = hit ? (size_t)(hit - p) : (size_t)(end - p);
        fwrite(p, 1, chunk, stream);
        if (!hit)
            break;
        cli_print_text(stream, to); /* the image's name as given: escaped as in cli_error() */
        p = hit + flen;
    }
    free(data);
}

static void image_cleanup(struct image *im, enum image_kind kind)
{
    if (kind != KIND_NONE)
        backend_of(kind)->close(im);
    for (int i = 0; i < IMAGE_FILES; i++) {
        char *p = im->tmpdir ? image_local_path(im, i) : NULL;
        if (p)
            unlink(p);
        free(p);
        free(im->files[i].image_path);
        free(im->files[i].local);
        free(im->files[i].orig);
    }
    if (im->tmpdir) {
        static const char *const extra[] = {"out", "err"};
        for (size_t i = 0; i < 2; i++) {
            size_t len = strlen(im->tmpdir) + 8;
            char *p = malloc(len);
            if (p) {
                snprintf(p, len, "%s/%s", im->tmpdir, extra[i]);
                unlink(p);
                free(p);
            }
        }
        rmdir(im->tmpdir);
        free(im->tmpdir);
    }
    if (im->lock_fd >= 0)
        close(im->lock_fd);
}

/* The --lock-timeout SECONDS among the command's arguments, in ms, read as the command reads it; 30 s
 * when absent or malformed (the command itself then reports the bad value). */
static int lock_wait_of(char **args, int n)
{
    int ms = 30000;
    for (int i = 1; i < n && strcmp(args[i], "--") != 0; i++) {
        const char *v = strncmp(args[i], "--lock-timeout=", 15) == 0 ? args[i] + 15
                      : strcmp(args[i], "--lock-timeout") == 0 && i + 1 < n ? args[i + 1] : NULL;
        if (v != NULL && cli_parse_lock_timeout(v, &ms))
            break;
    }
    return ms;
}

/* A file in the private directory for the command's stdout or stderr. */
static int capture_file(const struct image *im, const char *name)
{
    size_t len = strlen(im->tmpdir) + strlen(name) + 2;
    char *p = malloc(len);
    if (!p)
        return -1;
    snprintf(p, len, "%s/%s", im->tmpdir, name);
    int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    free(p);
    return fd;
}

/* Runs the command on the extracted hive; its output goes through replay_output(). */
static int run_captured(struct image *im, int (*run)(int, char **), int argc, char **argv)
{
    int out = capture_file(im, "out"), err = capture_file(im, "err");
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    if (out < 0 || err < 0 || saved_out < 0 || saved_err < 0 || dup2(out, STDOUT_FILENO) < 0 ||
        dup2(err, STDERR_FILENO) < 0) {
        cli_error(im->prog, "cannot capture the output: %s", strerror(errno));
        if (saved_out >= 0) {
            dup2(saved_out, STDOUT_FILENO);
            close(saved_out);
        }
        if (saved_err >= 0) {
            dup2(saved_err, STDERR_FILENO);
            close(saved_err);
        }
        if (out >= 0)
            close(out);
        if (err >= 0)
            close(err);
        return CLI_FAILED;
    }
    int rc = run(argc, argv);
    bool out_error = fflush(stdout) != 0 || ferror(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    const char *from = im->files[IMAGE_FILE_HIVE].local;
    replay_output(out, stdout, from, im->label);
    fflush(stdout);
    replay_output(err, stderr, from, im->label);
    close(out);
    close(err);
    if (out_error) {
        cli_error(im->prog, "write error on standard output");
        rc = CLI_FAILED;
    }
    return rc;
}

static bool is_option(const char *arg, const char *name)
{
    return strcmp(arg, name) == 0;
}

/* Operands a command needs besides the hive, counted before the image is opened so that a usage error
 * costs no extraction: get, set and unset need a setting, apply its profile. */
static int operands_needed(const char *name)
{
    static const char *const needing_one[] = {"get", "set", "unset", "apply"};
    for (size_t i = 0; i < sizeof needing_one / sizeof needing_one[0]; i++)
        if (strcmp(name, needing_one[i]) == 0)
            return 1;
    return 0;
}

/* The operands among args[1..n-1].  An option missing from the list below that takes its value as the
 * next argument only makes the count too high, and the command then reports what is missing. */
static int count_operands(char **args, int n)
{
    static const char *const with_value[] = {"--controlset", "--log", "--lock-timeout", "--software",
                                             "--fail-on", "--jobs", "--format"};
    int operands = 0;
    for (int i = 1; i < n; i++) {
        const char *a = args[i];
        if (is_option(a, "--"))
            return operands + (n - i - 1);
        if (a[0] != '-' || a[1] == '\0') {
            operands++;
            continue;
        }
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            if (is_option(a, with_value[k])) {
                i++;
                break;
            }
    }
    return operands;
}

/* The overlay's name ends in another format's extension (.vmdk, .vhd, ...): it would be a qcow2 under a
 * name that says otherwise, and tools that go by the name would misread it. */
static bool overlay_misnamed(const char *overlay)
{
    static const char *const others[] = {"vmdk", "vhd", "vhdx", "vpc", "raw", "img", "e01", "wim", "iso", "vdi"};
    const char *ext = strrchr(overlay, '.');
    if (!ext || strchr(ext, '/'))
        return false;
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (strcasecmp(ext + 1, others[i]) == 0)
            return true;
    return false;
}

/* A command run by image_dispatch(): its arguments, without the image options. */
struct command_call {
    const char *name;
    int (*run)(int argc, char **argv);
    char **args; /* room for two more, and the NULL */
    int n;
    bool dashdash;
};

static int run_command(struct image *im, void *ctx)
{
    struct command_call *c = ctx;
    /* The hive is the first operand, except for apply PROFILE HIVE, where it goes last. */
    char *hive = im->files[IMAGE_FILE_HIVE].local;
    if (strcmp(c->name, "apply") == 0) {
        if (!c->dashdash)
            c->args[c->n++] = (char *)"--";
        c->args[c->n++] = hive;
    } else {
        memmove(c->args + 2, c->args + 1, (size_t)(c->n - 1) * sizeof *c->args);
        c->args[1] = hive;
        c->n++;
    }
    c->args[c->n] = NULL;
    return run_captured(im, c->run, c->n, c->args);
}

/* Extracts the hive of the image im describes (may_write, spec and the options set), runs fn on it and
 * writes the hive back when fn returned CLI_OK and the bytes changed (or an overlay was asked for). */
/* own_interrupts: the process is this one command (image_dispatch), which reports an interrupt itself:
 * one that came before the write-back (the point of no return) stops it, nothing written, "interrupted"
 * and CLI_FAILED; one that came during the write-back is held until the image is consistent, then reported
 * with the write's own status, so that the exit status always says whether the image changed.  Otherwise
 * (a manifest's worker) a deferred signal ends the process once the image is consistent. */
static int with_image(struct image *im, enum image_kind kind, int (*fn)(struct image *im, void *ctx), void *ctx,
                      bool own_interrupts)
{
    const char *prog = im->prog;
    im->lock_fd = -1;
    /* Ctrl-C, kill and hang-up wait until the image is consistent and the private copies are gone: the
     * work happens inside wimlib and libntfs-3g, which cannot be stopped half-way safely.  A wait for
     * another command's lock still ends on them (image_lock). */
    sigset_t old_mask;
    image_signals_hold(&old_mask);
    bool wrote = false;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || *tmp != '/')
        tmp = "/tmp";
    size_t tlen = strlen(tmp) + 32;
    im->tmpdir = malloc(tlen);
    if (!im->tmpdir || (snprintf(im->tmpdir, tlen, "%s/hiveport-image.XXXXXX", tmp), !mkdtemp(im->tmpdir))) {
        cli_error(prog, "cannot create a private directory in %s: %s", tmp, strerror(errno));
        free(im->tmpdir);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return CLI_FAILED;
    }
    int rc = backend_of(kind)->open(im);
    for (int i = 0; rc == CLI_OK && i < IMAGE_FILES; i++) {
        struct image_file *f = &im->files[i];
        if (!f->present)
            continue;
        if (read_all(f->local, &f->orig, &f->orig_size) != 0) {
            cli_error(prog, "%s: cannot read the extracted copy: %s", f->local, strerror(errno));
            rc = CLI_FAILED;
        }
    }
    if (rc == CLI_OK)
        rc = fn(im, ctx);
    if (rc == CLI_OK) {
        bool any = false;
        for (int i = 0; i < IMAGE_FILES; i++) {
            struct image_file *f = &im->files[i];
            unsigned char *now = NULL;
            size_t size = 0;
            if (!f->present)
                continue;
            if (read_all(f->local, &now, &size) != 0) {
                cli_error(prog, "%s: cannot read the edited copy: %s", f->local, strerror(errno));
                rc = CLI_FAILED;
                break;
            }
            f->changed = size != f->orig_size || memcmp(now, f->orig, size) != 0;
            any |= f->changed;
            free(now);
        }
        /* An overlay is made even when nothing changed: the command asked for the new disk. */
        if (rc == CLI_OK && (any || im->overlay)) {
            if (!im->may_write) {
                cli_error(prog, "%s: internal error: a read-only command changed the hive; the image is unchanged",
                          im->label);
                rc = CLI_FAILED;
            } else if (own_interrupts && image_interrupted()) {
                cli_error(prog, "%s: interrupted (%s) before the write: nothing was written; the image is unchanged",
                          im->label, strsignal(image_interrupt_take()));
                rc = CLI_FAILED;
            } else {
                /* The point of no return: from here the command finishes and says how it ended. */
                rc = backend_of(kind)->commit(im);
                wrote = true;
            }
        }
    }
    image_cleanup(im, kind);
    /* A reader's interrupt stays pending and ends the process below, as the signal says. */
    if (own_interrupts && im->may_write && image_interrupted()) {
        int sig = image_interrupt_take();
        const char *what = im->label[0] ? im->label : im->spec;
        if (wrote && rc == CLI_OK) {
            cli_error(prog, "%s: written; the interrupt (%s) came during the write and was held until it was "
                      "complete", what, strsignal(sig));
        } else if (wrote) {
            cli_error(prog, "%s: interrupted (%s) during a write that failed (see above)", what, strsignal(sig));
        } else {
            cli_error(prog, "%s: interrupted (%s): nothing was written; the image is unchanged", what, strsignal(sig));
            rc = CLI_FAILED;
        }
    }
    fflush(NULL);
    /* Once the image changed, the signals stay held until exit: one that came after the check above would
     * otherwise end the process (130, said nothing) with the new port already in the image. */
    if (!(own_interrupts && wrote))
        sigprocmask(SIG_SETMASK, &old_mask, NULL); /* a deferred signal ends the process here */
    return rc;
}

int image_dispatch(const char *name, int (*run)(int argc, char **argv), int argc, char **argv)
{
    /* Find --wim/--ntfs/--disk and --disk-format/--overlay (before any "--"), and remove them. */
    enum image_kind kind = KIND_NONE;
    const char *spec = NULL, *opt = NULL, *disk_format = NULL, *overlay = NULL;
    int found = 0;
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (!args) {
        cli_error(argv[0], "out of memory");
        return CLI_FAILED;
    }
    int n = 0;
    bool dashdash = false, help = false, backup = false, no_write = false, verbose = false, allow_incomplete = false;
    args[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        /* The image options, in the order of enum image_option. */
        static const char *const image_options[] = {"--wim", "--ntfs", "--disk", "--disk-format", "--overlay"};
        enum image_option { OPT_WIM, OPT_NTFS, OPT_DISK, OPT_DISK_FORMAT, OPT_OVERLAY, OPT_NONE };
        enum image_option which = OPT_NONE;
        for (int o = 0; !dashdash && which == OPT_NONE && o < OPT_NONE; o++) {
            size_t len = strlen(image_options[o]);
            if (strncmp(a, image_options[o], len) == 0 && (a[len] == '\0' || a[len] == '='))
                which = (enum image_option)o;
        }
        if (which == OPT_NONE && !dashdash && is_option(a, "--allow-incomplete")) {
            allow_incomplete = true;
            continue;
        }
        if (which == OPT_NONE) {
            /* not an image option: handled below */
        } else if (strchr(a, '=')) {
            value = strchr(a, '=') + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            free(args);
            return cli_usage_error(argv[0], "option '%s' requires an argument", a);
        }
        if (which == OPT_DISK_FORMAT) {
            disk_format = value;
            continue;
        }
        if (which == OPT_OVERLAY) {
            overlay = value;
            continue;
        }
        if (which != OPT_NONE) {
            kind = which == OPT_WIM ? KIND_WIM : KIND_NTFS;
            spec = value;
            opt = image_options[which];
            found++;
            continue;
        }
        if (!dashdash) {
            if (is_option(a, "--"))
                dashdash = true;
            else if (is_option(a, "--help") || is_option(a, "-h"))
                help = true;
            else if (is_option(a, "--backup"))
                backup = true;
            else if (is_option(a, "--verbose"))
                verbose = true;
            else if (is_option(a, "--dry-run") || is_option(a, "--check"))
                no_write = true;
        }
        args[n++] = argv[i];
    }
    const char *prog = argv[0];
    if (found == 0 && (disk_format || overlay || allow_incomplete)) {
        free(args);
        return cli_usage_error(prog, "%s needs --disk", disk_format ? "--disk-format" : overlay ? "--overlay"
                               : "--allow-incomplete");
    }
    if (found == 0) {
        free(args);
        return run(argc, argv);
    }
    if (found > 1) {
        free(args);
        return cli_usage_error(prog, "give at most one --wim, --ntfs or --disk");
    }
    bool disk = strcmp(opt, "--disk") == 0;
    if (!disk && (disk_format || overlay || allow_incomplete)) {
        free(args);
        return cli_usage_error(prog, "%s goes with --disk, not %s", disk_format ? "--disk-format" : overlay ? "--overlay"
                               : "--allow-incomplete", opt);
    }
    if (help) { /* the command's own help */
        int rc = run(n, args);
        free(args);
        return rc;
    }
    bool supported = false;
    for (size_t i = 0; i < sizeof image_commands / sizeof image_commands[0]; i++)
        supported |= strcmp(name, image_commands[i]) == 0;
    if (!supported) {
        free(args);
        return cli_usage_error(prog, "%s is not supported by 'hiveport %s' (only show, get, set, unset, audit, "
                               "apply, export, firewall, recover and check)", opt, name);
    }
    if (backup) {
        free(args);
        return cli_usage_error(prog, "--backup cannot be used with %s (the image keeps no HIVE.bak)", opt);
    }
    if (*spec == '\0' || (overlay && *overlay == '\0')) {
        free(args);
        return cli_usage_error(prog, "%s needs an image file", *spec ? "--overlay" : opt);
    }
    if (overlay && overlay_misnamed(overlay)) {
        free(args);
        return cli_usage_error(prog, "--overlay %s: an overlay is always a qcow2 image; give it a name that does not "
                               "say %s (NAME.qcow2)", overlay, strrchr(overlay, '.') + 1);
    }
    if (disk_format && disk_format_named(disk_format) < 0) {
        free(args);
        return cli_usage_error(prog, "--disk-format '%s': not a format (raw, qcow2, vhdx, vhd, vmdk, e01)", disk_format);
    }
    bool writer = !no_write && (strcmp(name, "set") == 0 || strcmp(name, "unset") == 0 || strcmp(name, "apply") == 0);
    if (overlay && !writer) {
        free(args);
        return cli_usage_error(prog, "--overlay is for a command that writes (set, unset, apply without --check "
                               "or --dry-run)");
    }
    if (allow_incomplete && writer) {
        free(args);
        return cli_usage_error(prog, "--allow-incomplete only reads: a damaged or incomplete disk is never written "
                               "(use it with --dry-run, apply --check, or a command that reads)");
    }
    if (count_operands(args, n) < operands_needed(name)) {
        free(args);
        return cli_usage_error(prog, "missing operand");
    }
    char version[256];
    if (!backend_of(kind)->supported(version, sizeof version)) {
        free(args);
        cli_error(prog, "%s: %s", opt, version);
        return CLI_USAGE;
    }

    struct image im;
    memset(&im, 0, sizeof im);
    im.lock_wait_ms = lock_wait_of(args, n);
    im.prog = prog;
    im.spec = spec;
    im.verbose = verbose;
    im.disk = disk;
    im.disk_format = disk_format;
    im.overlay = overlay;
    im.may_write = writer;
    im.allow_incomplete = allow_incomplete;
    struct command_call call = {name, run, args, n, dashdash};
    int rc = with_image(&im, kind, run_command, &call, true);
    free(args);
    return rc;
}

/* The adapter from image_with_hive()'s callback to with_image()'s. */
struct hive_call {
    image_hive_fn *fn;
    void *ctx;
};

static int run_hive_fn(struct image *im, void *ctx)
{
    struct hive_call *call = ctx;
    return call->fn(call->ctx, im->files[IMAGE_FILE_HIVE].local, im->label);
}

int image_with_hive(const struct image_target *t, image_hive_fn *fn, void *ctx)
{
    bool disk = strcmp(t->option, "--disk") == 0;
    enum image_kind kind = strcmp(t->option, "--wim") == 0 ? KIND_WIM : KIND_NTFS;
    char version[256];
    if (!backend_of(kind)->supported(version, sizeof version)) {
        cli_error(t->prog, "%s: %s", t->option, version);
        return CLI_FAILED;
    }
    struct image im;
    memset(&im, 0, sizeof im);
    im.lock_wait_ms = t->lock_wait_ms;
    im.prog = t->prog;
    im.spec = t->spec;
    im.disk = disk;
    im.disk_format = disk ? t->disk_format : NULL;
    im.may_write = t->may_write;
    im.allow_incomplete = disk && t->allow_incomplete;
    struct hive_call call = {fn, ctx};
    return with_image(&im, kind, run_hive_fn, &call, false);
}
