/* ewf.c: E01 evidence files (EnCase / Expert Witness format, and their .E02... segments) through libewf
 * (Debian libewf-dev, loaded on first use: dynlib.h).  Read-only: evidence is never written (disk.c
 * refuses writing commands before anything is opened). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"

#ifndef HIVEPORT_HAVE_EWF

bool disk_ewf_supported(char *version, size_t len)
{
    snprintf(version, len, "this hiveport was built without libewf (install libewf-dev and rebuild)");
    return false;
}
struct disk *disk_ewf_open(const struct image *im, const char *file)
{
    (void)im;
    (void)file;
    return NULL;
}

#else

#include <libewf.h>

#include "dynlib.h"

/* What this backend calls, loaded from HIVEPORT_EWF_SONAME when a command first needs it (dynlib.h). */
#define EWF_API(X) \
    X(libewf_error_free) \
    X(libewf_error_sprint) \
    X(libewf_get_version) \
    X(libewf_glob) \
    X(libewf_glob_free) \
    X(libewf_handle_close) \
    X(libewf_handle_free) \
    X(libewf_handle_get_media_size) \
    X(libewf_handle_initialize) \
    X(libewf_handle_open) \
    X(libewf_handle_read_random)
static struct {
    EWF_API(DYNLIB_FIELD)
} ewfapi;

static bool load_ewf(char *why, size_t len)
{
    static int state; /* 0: not tried, 1: loaded, -1: failed (reason kept) */
    static char reason[256];
    if (state == 0) {
        static const char *const names[] = {EWF_API(DYNLIB_NAME)};
#define EWF_SLOT(f) (void *)&ewfapi.f,
        void *const slots[] = {EWF_API(EWF_SLOT)};
#undef EWF_SLOT
        state = dynlib_load(HIVEPORT_EWF_SONAME, names, slots, sizeof names / sizeof names[0], reason,
                            sizeof reason) ? 1 : -1;
    }
    if (state < 0)
        snprintf(why, len, "%s", reason);
    return state > 0;
}

bool disk_ewf_supported(char *version, size_t len)
{
    if (!load_ewf(version, len))
        return false;
    snprintf(version, len, "%s", ewfapi.libewf_get_version());
    return true;
}

struct ewf_disk {
    struct disk disk; /* first: the backend's struct disk * is this */
    libewf_handle_t *handle;
};

/* libewf's message for error (then freed), into why. */
static void ewf_reason(libewf_error_t *error, char *why, size_t len)
{
    snprintf(why, len, "unknown error");
    if (error) {
        ewfapi.libewf_error_sprint(error, why, len);
        ewfapi.libewf_error_free(&error);
    }
}

static int ewf_pread(struct disk *d, void *buf, size_t len, uint64_t off)
{
    struct ewf_disk *e = (struct ewf_disk *)d;
    for (size_t done = 0; done < len;) {
        libewf_error_t *error = NULL;
        ssize_t n = ewfapi.libewf_handle_read_random(e->handle, (char *)buf + done, len - done,
                                                     (off64_t)(off + done), &error);
        if (error)
            ewfapi.libewf_error_free(&error);
        if (n <= 0) {
            errno = EIO; /* a damaged chunk, or past the end */
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

static int ewf_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off)
{
    (void)d;
    (void)buf;
    (void)len;
    (void)off;
    errno = EROFS;
    return -1;
}

static int ewf_flush(struct disk *d)
{
    (void)d;
    return 0;
}

static int ewf_close(struct disk *d, char *why, size_t why_len)
{
    struct ewf_disk *e = (struct ewf_disk *)d;
    libewf_error_t *error = NULL;
    int rc = 0;
    if (ewfapi.libewf_handle_close(e->handle, &error) != 0) {
        ewf_reason(error, why, why_len);
        rc = -1;
    }
    error = NULL;
    ewfapi.libewf_handle_free(&e->handle, &error);
    if (error)
        ewfapi.libewf_error_free(&error);
    free(e);
    return rc;
}

struct disk *disk_ewf_open(const struct image *im, const char *file)
{
    char why[512];
    if (!load_ewf(why, sizeof why)) {
        cli_error(im->prog, "%s: %s", file, why);
        return NULL;
    }
    struct ewf_disk *e = calloc(1, sizeof *e);
    if (!e) {
        cli_error(im->prog, "out of memory");
        return NULL;
    }
    libewf_error_t *error = NULL;
    char **segments = NULL;
    int count = 0;
    size64_t size = 0;
    bool opened = false;
    /* FILE.E01 names the set: libewf finds FILE.E02 ... next to it. */
    if (ewfapi.libewf_glob(file, strlen(file), LIBEWF_FORMAT_UNKNOWN, &segments, &count, &error) != 1 ||
        ewfapi.libewf_handle_initialize(&e->handle, &error) != 1 ||
        !(opened = ewfapi.libewf_handle_open(e->handle, segments, count, LIBEWF_OPEN_READ, &error) == 1) ||
        ewfapi.libewf_handle_get_media_size(e->handle, &size, &error) != 1) {
        ewf_reason(error, why, sizeof why);
        cli_error(im->prog, "%s: cannot read the E01 evidence file: %s", file, why);
        error = NULL;
        if (opened)
            ewfapi.libewf_handle_close(e->handle, &error);
        if (e->handle)
            ewfapi.libewf_handle_free(&e->handle, &error);
        if (error)
            ewfapi.libewf_error_free(&error);
        if (segments)
            ewfapi.libewf_glob_free(segments, count, NULL);
        free(e);
        return NULL;
    }
    ewfapi.libewf_glob_free(segments, count, NULL);
    e->disk = (struct disk){(uint64_t)size, false, ewf_pread, ewf_pwrite, ewf_flush, ewf_close};
    return &e->disk;
}

#endif
