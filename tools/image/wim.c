/* wim.c: --wim FILE[:INDEX|:NAME] through wimlib (Debian libwim-dev), when mk/images.mk found it.
 * The hive and its logs are found case-insensitively under /Windows/System32/config of the chosen image
 * and extracted; a write replaces them with an image update and commits with wimlib_overwrite() in
 * rebuild mode: the new WIM is written to a temporary file next to the old one, synced and renamed over
 * it, so a failure at any point leaves the original WIM as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"

#ifndef HIVEPORT_HAVE_WIM

static bool wim_supported(char *version, size_t len)
{
    snprintf(version, len, "this hiveport was built without WIM support (install libwim-dev and rebuild)");
    return false;
}
static int wim_open(struct image *im)
{
    (void)im;
    return CLI_USAGE;
}
static int wim_commit(struct image *im)
{
    (void)im;
    return CLI_FAILED;
}
static void wim_close(struct image *im)
{
    (void)im;
}

#else

#include <wimlib.h>

#include "dynlib.h"

#define CONFIG_DIR "/Windows/System32/config"

/* What this backend calls, loaded from HIVEPORT_WIM_SONAME when a command first needs it (dynlib.h). */
#define WIM_API(X) \
    X(wimlib_extract_paths) \
    X(wimlib_free) \
    X(wimlib_get_error_string) \
    X(wimlib_get_image_name) \
    X(wimlib_get_version) \
    X(wimlib_get_wim_info) \
    X(wimlib_global_init) \
    X(wimlib_iterate_dir_tree) \
    X(wimlib_open_wim) \
    X(wimlib_overwrite) \
    X(wimlib_resolve_image) \
    X(wimlib_set_print_errors) \
    X(wimlib_update_image)
static struct {
    WIM_API(DYNLIB_FIELD)
} wimapi;

static bool load_wimlib(char *why, size_t len)
{
    static int state; /* 0: not tried, 1: loaded, -1: failed (reason kept) */
    static char reason[256];
    if (state == 0) {
        static const char *const names[] = {WIM_API(DYNLIB_NAME)};
#define WIM_SLOT(f) (void *)&wimapi.f,
        void *const slots[] = {WIM_API(WIM_SLOT)};
#undef WIM_SLOT
        state = dynlib_load(HIVEPORT_WIM_SONAME, names, slots, sizeof names / sizeof names[0], reason,
                            sizeof reason) ? 1 : -1;
    }
    if (state < 0)
        snprintf(why, len, "%s", reason);
    return state > 0;
}

struct wim_state {
    WIMStruct *wim;
    int image;
    char *file;       /* the WIM file's path (the spec without its selector) */
};

static bool wim_supported(char *version, size_t len)
{
    if (!load_wimlib(version, len))
        return false;
    uint32_t v = wimapi.wimlib_get_version();
    snprintf(version, len, "%u.%u.%u", v >> 20, (v >> 10) & 0x3ff, v & 0x3ff);
    return true;
}

/* Splits FILE[:SELECTOR]: the whole spec when it names a file, else the first prefix before a ':' that
 * does (so that image names may hold a ':'). */
static int split_spec(const struct image *im, char **file, const char **selector)
{
    struct stat st = {0}; /* read below even when no stat() succeeded */
    const char *spec = im->spec;
    if (stat(spec, &st) == 0 && !S_ISDIR(st.st_mode)) {
        *file = strdup(spec);
        *selector = NULL;
        return *file ? CLI_OK : CLI_FAILED;
    }
    int first_errno = errno;
    for (const char *colon = strchr(spec, ':'); colon; colon = strchr(colon + 1, ':')) {
        char *prefix = strndup(spec, (size_t)(colon - spec));
        if (!prefix)
            return CLI_FAILED;
        if (*prefix && stat(prefix, &st) == 0 && !S_ISDIR(st.st_mode)) {
            *file = prefix;
            *selector = colon + 1;
            return CLI_OK;
        }
        if (colon == strrchr(spec, ':'))
            first_errno = errno;
        free(prefix);
    }
    cli_error(im->prog, "%s: cannot open the WIM file: %s", spec,
              S_ISDIR(st.st_mode) && first_errno == 0 ? "is a directory" : strerror(first_errno ? first_errno : ENOENT));
    return CLI_FAILED;
}

static void list_images(WIMStruct *wim, int count)
{
    for (int i = 1; i <= count; i++) {
        const char *name = wimapi.wimlib_get_image_name(wim, i);
        fprintf(stderr, "  %d  ", i);
        cli_print_text(stderr, name && *name ? name : "(no name)");
        fputc('\n', stderr);
    }
}

struct find_ctx {
    struct image *im;
    int error;
};

static int find_entry(const struct wimlib_dir_entry *d, void *user)
{
    struct find_ctx *ctx = user;
    if (d->attributes & WIMLIB_FILE_ATTRIBUTE_DIRECTORY)
        return 0;
    for (int i = 0; i < IMAGE_FILES; i++) {
        struct image_file *f = &ctx->im->files[i];
        if (f->image_path || strcasecmp(d->filename, image_file_names[i]) != 0)
            continue;
        if (!(f->image_path = strdup(d->full_path)))
            ctx->error = ENOMEM;
        break;
    }
    return 0;
}

static int wim_open(struct image *im)
{
    static bool initialised;
    if (!initialised) {
        /* Windows paths: "windows/system32/CONFIG/system" is the same file. */
        int err = wimapi.wimlib_global_init(WIMLIB_INIT_FLAG_DEFAULT_CASE_INSENSITIVE);
        if (err) {
            cli_error(im->prog, "cannot initialise wimlib: %s", wimapi.wimlib_get_error_string(err));
            return CLI_FAILED;
        }
        wimapi.wimlib_set_print_errors(false);
        initialised = true;
    }
    struct wim_state *ws = calloc(1, sizeof *ws);
    if (!ws) {
        cli_error(im->prog, "out of memory");
        return CLI_FAILED;
    }
    im->backend = ws;
    const char *selector;
    if (split_spec(im, &ws->file, &selector) != CLI_OK ||
        (im->may_write && image_check_writable(im, ws->file) != CLI_OK) || image_lock(im, ws->file) != CLI_OK)
        return CLI_FAILED;
    int flags = WIMLIB_OPEN_FLAG_ERROR_IF_SPLIT | (im->may_write ? WIMLIB_OPEN_FLAG_WRITE_ACCESS : 0);
    int err = wimapi.wimlib_open_wim(ws->file, flags, &ws->wim);
    if (err == WIMLIB_ERR_WIM_IS_READONLY) {
        cli_error(im->prog, "%s: the WIM is read-only (its header's read-only flag is set, or the file is not "
                  "writable): it cannot be changed; nothing was written", ws->file);
        return CLI_FAILED;
    }
    if (err) {
        cli_error(im->prog, "%s: not a usable WIM file: %s", ws->file, wimapi.wimlib_get_error_string(err));
        return CLI_FAILED;
    }
    struct wimlib_wim_info info;
    wimapi.wimlib_get_wim_info(ws->wim, &info);
    if (info.image_count == 0) {
        cli_error(im->prog, "%s: the WIM holds no image", ws->file);
        return CLI_FAILED;
    }
    if (!selector) {
        if (info.image_count > 1) {
            cli_error(im->prog, "%s holds %u images: choose one with --wim %s:INDEX or --wim %s:NAME", ws->file,
                      info.image_count, ws->file, ws->file);
            list_images(ws->wim, (int)info.image_count);
            return CLI_USAGE;
        }
        ws->image = 1;
    } else {
        int image = *selector ? wimapi.wimlib_resolve_image(ws->wim, selector) : WIMLIB_NO_IMAGE;
        if (image == WIMLIB_NO_IMAGE || image == WIMLIB_ALL_IMAGES) {
            cli_error(im->prog, "%s: no image '%s' in the WIM (give an index 1-%u or a name); its images are:",
                      ws->file, selector, info.image_count);
            list_images(ws->wim, (int)info.image_count);
            return CLI_USAGE;
        }
        ws->image = image;
    }

    struct find_ctx ctx = {im, 0};
    err = wimapi.wimlib_iterate_dir_tree(ws->wim, ws->image, CONFIG_DIR, WIMLIB_ITERATE_DIR_TREE_FLAG_CHILDREN, find_entry,
                                  &ctx);
    struct image_file *hive = &im->files[IMAGE_FILE_HIVE];
    snprintf(im->label, sizeof im->label, "%s:%d:%s", ws->file, ws->image,
             hive->image_path ? hive->image_path + 1 : "Windows/System32/config/SYSTEM");
    if (err && err != WIMLIB_ERR_PATH_DOES_NOT_EXIST && err != WIMLIB_ERR_NOTDIR) {
        cli_error(im->prog, "%s: cannot read the image: %s", im->label, wimapi.wimlib_get_error_string(err));
        return CLI_FAILED;
    }
    if (ctx.error) {
        cli_error(im->prog, "out of memory");
        return CLI_FAILED;
    }
    if (!hive->image_path) {
        cli_error(im->prog, "%s: no SYSTEM hive in image %d of %s (looked for Windows\\System32\\config\\SYSTEM, "
                  "in any case)", im->label, ws->image, ws->file);
        return CLI_FAILED;
    }

    /* Each file is extracted alone into a scratch directory, then named as the library expects. */
    size_t len = strlen(im->tmpdir) + 3;
    char *scratch = malloc(len);
    if (!scratch) {
        cli_error(im->prog, "out of memory");
        return CLI_FAILED;
    }
    snprintf(scratch, len, "%s/x", im->tmpdir);
    int rc = CLI_OK;
    for (int i = 0; rc == CLI_OK && i < IMAGE_FILES; i++) {
        struct image_file *f = &im->files[i];
        if (!f->image_path)
            continue;
        if (!(f->local = image_local_path(im, i)) || mkdir(scratch, 0700) != 0) {
            cli_error(im->prog, "%s: cannot create %s: %s", im->label, scratch, strerror(errno));
            rc = CLI_FAILED;
            break;
        }
        const char *paths[1] = {f->image_path};
        err = wimapi.wimlib_extract_paths(ws->wim, ws->image, scratch, paths, 1,
                                   WIMLIB_EXTRACT_FLAG_NO_PRESERVE_DIR_STRUCTURE | WIMLIB_EXTRACT_FLAG_NO_ACLS);
        const char *base = strrchr(f->image_path, '/');
        base = base ? base + 1 : f->image_path;
        char *got = malloc(len + strlen(base) + 1);
        if (!got) {
            cli_error(im->prog, "out of memory");
            rc = CLI_FAILED;
        } else if (err) {
            cli_error(im->prog, "%s:%d:%s: cannot extract: %s", ws->file, ws->image, f->image_path + 1,
                      wimapi.wimlib_get_error_string(err));
            rc = CLI_FAILED;
        } else {
            snprintf(got, len + strlen(base) + 1, "%s/%s", scratch, base);
            if (rename(got, f->local) != 0) {
                cli_error(im->prog, "%s: cannot rename %s: %s", im->label, got, strerror(errno));
                rc = CLI_FAILED;
            } else {
                f->present = true;
            }
        }
        if (got && rc != CLI_OK) {
            snprintf(got, len + strlen(base) + 1, "%s/%s", scratch, base);
            unlink(got);
        }
        free(got);
        rmdir(scratch);
    }
    free(scratch);
    return rc;
}

static int wim_commit(struct image *im)
{
    struct wim_state *ws = im->backend;
    struct wimlib_update_command cmds[IMAGE_FILES];
    size_t n = 0;
    memset(cmds, 0, sizeof cmds);
    for (int i = 0; i < IMAGE_FILES; i++) {
        struct image_file *f = &im->files[i];
        if (!f->present || !f->changed)
            continue;
        cmds[n].op = WIMLIB_UPDATE_OP_ADD;
        cmds[n].add.fs_source_path = f->local;
        cmds[n].add.wim_target_path = f->image_path;
        cmds[n].add.config_file = NULL;
        cmds[n].add.add_flags = 0; /* replaces the file of that name */
        n++;
    }
    int err = wimapi.wimlib_update_image(ws->wim, ws->image, cmds, n, 0);
    if (err) {
        cli_error(im->prog, "%s: cannot update the image: %s; the WIM is unchanged", im->label,
                  wimapi.wimlib_get_error_string(err));
        return CLI_FAILED;
    }
    struct stat before;
    bool have_before = stat(ws->file, &before) == 0;
    /* Rebuild: a new WIM in a temporary file beside the old one, fsynced, renamed over it. */
    err = wimapi.wimlib_overwrite(ws->wim, WIMLIB_WRITE_FLAG_REBUILD | WIMLIB_WRITE_FLAG_FSYNC, 0);
    wimapi.wimlib_free(ws->wim);
    ws->wim = NULL;
    if (err) {
        cli_error(im->prog, "%s: cannot write the WIM: %s; the WIM is unchanged", ws->file,
                  wimapi.wimlib_get_error_string(err));
        return CLI_FAILED;
    }
    /* The renamed file is wimlib's new one: give it the old one's mode (and owner, where permitted). */
    struct stat after;
    if (have_before && stat(ws->file, &after) == 0) {
        if ((after.st_mode & 07777) != (before.st_mode & 07777))
            (void)chmod(ws->file, before.st_mode & 07777);
        /* Not permitted is no error; an if, not a cast: chown is warn_unused_result under _FORTIFY_SOURCE. */
        if ((after.st_uid != before.st_uid || after.st_gid != before.st_gid) &&
            chown(ws->file, before.st_uid, before.st_gid) != 0) {
        }
    }
    if (im->verbose)
        fprintf(stderr, "%s: wrote %s back into image %d of %s\n", im->prog, im->label, ws->image, ws->file);
    return CLI_OK;
}

static void wim_close(struct image *im)
{
    struct wim_state *ws = im->backend;
    if (!ws)
        return;
    if (ws->wim)
        wimapi.wimlib_free(ws->wim);
    free(ws->file);
    free(ws);
    im->backend = NULL;
}

#endif

const struct image_backend image_wim_backend = {wim_open, wim_commit, wim_close, wim_supported};
