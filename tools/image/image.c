/* image.c: the image layer of the hiveport command (issues 11, 15).  'hiveport COMMAND --wim SPEC ...',
 * '--ntfs SPEC' and '--disk SPEC' run COMMAND on a private copy of the image's Windows/System32/config/SYSTEM (plus its
 * transaction logs, for dirty-hive replay), then put the hive back if the command succeeded and the bytes
 * changed.  The command parses its options (struct cli_target) and hands its work to image_with_target(),
 * which calls it with the copy's path and the image's name ("install.wim:2:Windows/System32/config/SYSTEM"),
 * the name the command opens the copy under, so that every message says where from the start. */
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
        rmdir(im->tmpdir);
        free(im->tmpdir);
    }
    if (im->lock_fd >= 0)
        close(im->lock_fd);
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

/* Extracts the hive of the image im describes (may_write, spec and the options set), runs fn on it and
 * writes the hive back when fn returned CLI_OK and the bytes changed (or an overlay was asked for). */
/* own_interrupts: the process is this one command (image_with_target), which reports an interrupt itself:
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

/* The image t names, ready for with_image(). */
static enum image_kind image_init(struct image *im, const struct cli_target *t)
{
    bool disk = strcmp(t->option, "--disk") == 0;
    memset(im, 0, sizeof *im);
    im->lock_wait_ms = t->lock_wait_ms;
    im->prog = t->prog;
    im->spec = t->spec;
    im->verbose = t->verbose;
    im->disk = disk;
    im->disk_format = disk ? t->disk_format : NULL;
    im->overlay = disk ? t->overlay : NULL;
    im->may_write = t->may_write;
    im->allow_incomplete = disk && t->allow_incomplete;
    return strcmp(t->option, "--wim") == 0 ? KIND_WIM : KIND_NTFS;
}

/* Runs fn on the image t names (with_image()); unsupported: the status when this build cannot read it. */
static int run_image(const struct cli_target *t, image_hive_fn *fn, void *ctx, bool own_interrupts, int unsupported)
{
    struct image im;
    enum image_kind kind = image_init(&im, t);
    char version[256];
    if (!backend_of(kind)->supported(version, sizeof version)) {
        cli_error(t->prog, "%s: %s", t->option, version);
        return unsupported;
    }
    struct hive_call call = {fn, ctx};
    return with_image(&im, kind, run_hive_fn, &call, own_interrupts);
}

int image_with_hive(const struct cli_target *t, image_hive_fn *fn, void *ctx)
{
    return run_image(t, fn, ctx, false, CLI_FAILED);
}

/* What the image options of a command line may not ask for, checked before the image is opened. */
static int image_usage(const struct cli_target *t)
{
    const char *prog = t->prog, *opt = t->option, *overlay = t->overlay;
    if (t->backup)
        return cli_usage_error(prog, "--backup cannot be used with %s (the image keeps no HIVE.bak)", opt);
    if (*t->spec == '\0' || (overlay && *overlay == '\0'))
        return cli_usage_error(prog, "%s needs an image file", *t->spec ? "--overlay" : opt);
    if (overlay && overlay_misnamed(overlay))
        return cli_usage_error(prog, "--overlay %s: an overlay is always a qcow2 image; give it a name that does not "
                               "say %s (NAME.qcow2)", overlay, strrchr(overlay, '.') + 1);
    if (t->disk_format && disk_format_named(t->disk_format) < 0)
        return cli_usage_error(prog, "--disk-format '%s': not a format (raw, qcow2, vhdx, vhd, vmdk, e01)",
                               t->disk_format);
    if (overlay && !t->may_write)
        return cli_usage_error(prog, "--overlay is for a command that writes (set, unset, apply without --check "
                               "or --dry-run)");
    if (t->allow_incomplete && t->may_write)
        return cli_usage_error(prog, "--allow-incomplete only reads: a damaged or incomplete disk is never written "
                               "(use it with --dry-run, apply --check, or a command that reads)");
    return CLI_OK;
}

int image_with_target(const struct cli_target *t, image_hive_fn *fn, void *ctx)
{
    if (t->option == NULL)
        return fn(ctx, t->hive, t->hive);
    int rc = image_usage(t);
    if (rc != CLI_OK)
        return rc;
    return run_image(t, fn, ctx, true, CLI_USAGE);
}
