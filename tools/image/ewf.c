/* ewf.c: E01 evidence files (EnCase / Expert Witness format, and their .E02... segments) through libewf
 * (Debian libewf-dev, loaded on first use: dynlib.h).  Read-only: evidence is never written (disk.c
 * refuses writing commands before anything is opened). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    X(libewf_handle_read_random) \
    X(libewf_handle_segment_files_corrupted)
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

/* The segment extension after ext (3 characters, in place): E01 ... E99, EAA ... EZZ, FAA ...  False past
 * the end of the names. */
static bool next_extension(char *ext)
{
    if (isdigit((unsigned char)ext[1]) && isdigit((unsigned char)ext[2])) {
        int n = (ext[1] - '0') * 10 + (ext[2] - '0');
        if (n < 99) {
            ext[1] = (char)('0' + (n + 1) / 10);
            ext[2] = (char)('0' + (n + 1) % 10);
        } else {
            char a = islower((unsigned char)ext[0]) ? 'a' : 'A';
            ext[1] = ext[2] = a;
        }
        return true;
    }
    for (int i = 2; i >= 0; i--) {
        char z = islower((unsigned char)ext[i]) ? 'z' : 'Z', a = islower((unsigned char)ext[i]) ? 'a' : 'A';
        if (ext[i] != z) {
            ext[i]++;
            return true;
        }
        ext[i] = a;
    }
    return false;
}

/* The segment file ends the set: its last section is "done" (each other segment ends with "next"). */
static bool ends_set(const char *path)
{
    char type[16] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return false;
    bool done = fstat(fd, &st) == 0 && st.st_size >= 76 && pread(fd, type, sizeof type, st.st_size - 76) == (ssize_t)sizeof type &&
                memcmp(type, "done", 5) == 0;
    close(fd);
    return done;
}

/* Why libewf finds the set incomplete, from the segment files next to first (FILE.E01): which are missing
 * and how many the set has, when its last segment is there to say so. */
static void describe_incomplete(const char *first, char *what, size_t len)
{
    enum { MAX_SEGMENTS = 14971, GIVE_UP = 100 };
    size_t flen = strlen(first);
    char *name = strdup(first);
    if (!name || flen < 4 || first[flen - 4] != '.') {
        snprintf(what, len, "the E01 set is incomplete or damaged (libewf finds its segment files corrupted)");
        free(name);
        return;
    }
    char *ext = name + flen - 3;
    int highest = 0, missing = 0, first_missing = 0;
    char highest_name[8] = "", missing_names[64] = "";
    for (int i = 1; i <= MAX_SEGMENTS && i - highest <= GIVE_UP; i++) {
        if (i > 1 && !next_extension(ext))
            break;
        if (access(name, F_OK) == 0) {
            highest = i;
            snprintf(highest_name, sizeof highest_name, "%s", ext);
            continue;
        }
        missing++;
        if (!first_missing)
            first_missing = i;
        size_t used = strlen(missing_names);
        if (used + 6 < sizeof missing_names)
            snprintf(missing_names + used, sizeof missing_names - used, "%s%s", used ? ", " : "", ext);
    }
    /* The names after the last segment present count as missing only when it does not end the set. */
    int gaps = 0;
    char gap_names[64] = "";
    snprintf(ext, 4, "%s", first + flen - 3);
    for (int i = 1; i < highest; i++) {
        if (i > 1)
            next_extension(ext);
        if (access(name, F_OK) != 0) {
            size_t used = strlen(gap_names);
            gaps++;
            if (used + 6 < sizeof gap_names)
                snprintf(gap_names + used, sizeof gap_names - used, "%s%s", used ? ", " : "", ext);
        }
    }
    memcpy(ext, highest_name, 4);
    bool complete_end = highest > 0 && ends_set(name);
    char after[4];
    memcpy(after, highest_name, 4);
    next_extension(after);
    if (gaps > 0 && complete_end)
        snprintf(what, len, "the E01 set is incomplete: segment%s %s of %d %s missing", gaps > 1 ? "s" : "", gap_names,
                 highest, gaps > 1 ? "are" : "is");
    else if (gaps > 0)
        snprintf(what, len, "the E01 set is incomplete: segment%s %s %s missing, and %s, the last one present, does not "
                 "end the set (more are missing after it)", gaps > 1 ? "s" : "", gap_names, gaps > 1 ? "are" : "is",
                 highest_name);
    else if (!complete_end && highest > 0)
        snprintf(what, len, "the E01 set is incomplete: its last segment present, %s, does not end the set (%s and "
                 "perhaps more are missing)", highest_name, after);
    else
        snprintf(what, len, "the E01 set is damaged: libewf finds its segment files corrupted (all %d present)",
                 highest);
    free(name);
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
    /* A missing or truncated segment: libewf reads zeros where its chunks were, silently. */
    if (ewfapi.libewf_handle_segment_files_corrupted(e->handle, NULL) == 1) {
        char what[512];
        describe_incomplete(segments[0], what, sizeof what);
        if (!disk_damaged_allowed(im, file, what)) {
            ewfapi.libewf_glob_free(segments, count, NULL);
            ewf_close(&e->disk, why, sizeof why);
            return NULL;
        }
    }
    ewfapi.libewf_glob_free(segments, count, NULL);
    e->disk = (struct disk){(uint64_t)size, false, ewf_pread, ewf_pwrite, ewf_flush, ewf_close};
    return &e->disk;
}

#endif
