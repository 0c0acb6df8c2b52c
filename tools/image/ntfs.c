/* ntfs.c: --ntfs FILE[@OFFSET|@pN] through libntfs-3g (Debian ntfs-3g-dev), when mk/images.mk found it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli.h"
#include "image.h"

#ifndef HIVEPORT_HAVE_NTFS

bool image_ntfs_supported(char *version, size_t len)
{
    snprintf(version, len, "this hiveport was built without NTFS support (install ntfs-3g-dev and rebuild)");
    return false;
}
int image_ntfs_open(struct image *im)
{
    (void)im;
    return CLI_USAGE;
}
int image_ntfs_commit(struct image *im)
{
    (void)im;
    return CLI_FAILED;
}
void image_ntfs_close(struct image *im)
{
    (void)im;
}

#else

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/volume.h>

#include "dynlib.h"
#include "ntfs_window.h"
#include "partition.h"

#define CONFIG_DIR "/Windows/System32/config/"
#ifndef HIVEPORT_NTFS_VERSION
#define HIVEPORT_NTFS_VERSION ""
#endif

/* What this backend calls, loaded from HIVEPORT_NTFS_SONAME when a command first needs it (dynlib.h). */
#define NTFS_API(X) \
    X(ntfs_attr_close) \
    X(ntfs_attr_open) \
    X(ntfs_attr_pread) \
    X(ntfs_attr_pwrite) \
    X(ntfs_attr_truncate) \
    X(ntfs_inode_close) \
    X(ntfs_device_alloc) \
    X(ntfs_device_free) \
    X(ntfs_device_mount) \
    X(ntfs_pathname_to_inode) \
    X(ntfs_set_ignore_case) \
    X(ntfs_umount)
static struct {
    NTFS_API(DYNLIB_FIELD)
} ntfsapi;

static bool load_ntfs(char *why, size_t len)
{
    static int state; /* 0: not tried, 1: loaded, -1: failed (reason kept) */
    static char reason[256];
    if (state == 0) {
        static const char *const names[] = {NTFS_API(DYNLIB_NAME)};
#define NTFS_SLOT(f) (void *)&ntfsapi.f,
        void *const slots[] = {NTFS_API(NTFS_SLOT)};
#undef NTFS_SLOT
        state = dynlib_load(HIVEPORT_NTFS_SONAME, names, slots, sizeof names / sizeof names[0], reason,
                            sizeof reason) ? 1 : -1;
    }
    if (state < 0)
        snprintf(why, len, "%s", reason);
    return state > 0;
}

struct ntfs_state {
    char *file;                  /* the image file (the spec without @OFFSET or @pN) */
    struct ntfs_window window;   /* where the volume lies in it */
    char where[64];              /* "" or " (partition 2 of the GPT, at byte 1048576)" for messages */
};

bool image_ntfs_supported(char *version, size_t len)
{
    if (!load_ntfs(version, len))
        return false;
    /* libntfs-3g declares no version function: the one pkg-config saw at build time. */
    snprintf(version, len, "%s", HIVEPORT_NTFS_VERSION[0] ? HIVEPORT_NTFS_VERSION : "unknown version");
    return true;
}

/* Mounts the volume through the library (no FUSE, no kernel), read-only unless writing, through a
 * device that is the window of the image file holding it (ntfs_window.c). */
static ntfs_volume *mount_volume(const struct image *im, struct ntfs_state *ns, bool write)
{
    struct ntfs_device *dev = ntfsapi.ntfs_device_alloc(ns->file, 0, &ntfs_window_ops, &ns->window);
    ntfs_volume *vol = dev ? ntfsapi.ntfs_device_mount(dev, write ? NTFS_MNT_EXCLUSIVE : NTFS_MNT_RDONLY) : NULL;
    if (!vol) {
        int err = errno;
        if (dev)
            ntfsapi.ntfs_device_free(dev);
        cli_error(im->prog, "%s: cannot open the NTFS volume%s%s: %s", ns->file, ns->where,
                  write ? " for writing" : "", strerror(err));
        return NULL;
    }
    ntfsapi.ntfs_set_ignore_case(vol); /* Windows paths: any case names the same file */
    return vol;
}

/* A byte count: decimal or 0x hexadecimal, optionally followed by s (512-byte sectors), K, M or G. */
static bool parse_offset(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)*text))
        return false;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(text, &end, 0);
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 's': shift = 9; end++; break;
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    default: return false;
    }
    if (errno != 0 || *end != '\0' || n > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)n << shift;
    return true;
}

/* FILE, FILE@OFFSET or FILE@pN: the file and the window of it that holds the volume.  A spec that names
 * an existing file is that file whole, so that names holding '@' still work. */
static int locate_volume(struct image *im, struct ntfs_state *ns)
{
    struct stat st;
    const char *at = strrchr(im->spec, '@');
    const char *sel = NULL;
    if (stat(im->spec, &st) != 0 && at && at != im->spec) {
        sel = at + 1;
        ns->file[at - im->spec] = '\0';
    }
    int fd = open(ns->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cli_error(im->prog, "%s: cannot open the NTFS image: %s", ns->file,
                  fd < 0 ? strerror(errno) : S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        if (fd >= 0)
            close(fd);
        return CLI_FAILED;
    }
    uint64_t size = (uint64_t)st.st_size;
    int rc = CLI_OK;
    ns->window.offset = 0;
    ns->window.length = size;
    if (sel && sel[0] == 'p' && isdigit((unsigned char)sel[1])) {
        char why[256], *end;
        unsigned long n = strtoul(sel + 1, &end, 10);
        struct partition part;
        if (*end != '\0' || n > 4096) {
            cli_error(im->prog, "%s: '@%s' is not a partition number (@p1, @p2, ...)", im->spec, sel);
            rc = CLI_USAGE;
        } else if (partition_find(fd, size, (unsigned)n, &part, why, sizeof why) != 0) {
            cli_error(im->prog, "%s: %s", im->spec, why);
            rc = CLI_FAILED;
        } else {
            ns->window.offset = part.offset;
            ns->window.length = part.length;
            snprintf(ns->where, sizeof ns->where, " (partition %lu of the %s, at byte %llu)", n, part.scheme,
                     (unsigned long long)part.offset);
        }
    } else if (sel) {
        uint64_t off;
        if (!parse_offset(sel, &off)) {
            cli_error(im->prog, "%s: '@%s' is neither a byte offset (1048576, 2048s, 1M) nor a partition "
                      "number (p1)", im->spec, sel);
            rc = CLI_USAGE;
        } else if (off >= size) {
            cli_error(im->prog, "%s: offset %llu is past the end of the image (%llu bytes)", im->spec,
                      (unsigned long long)off, (unsigned long long)size);
            rc = CLI_FAILED;
        } else {
            ns->window.offset = off;
            ns->window.length = size - off;
            snprintf(ns->where, sizeof ns->where, " (at byte %llu)", (unsigned long long)off);
        }
    }
    close(fd);
    return rc;
}

static ntfs_attr *open_data(ntfs_volume *vol, const char *path, ntfs_inode **ni)
{
    *ni = ntfsapi.ntfs_pathname_to_inode(vol, NULL, path);
    if (!*ni)
        return NULL;
    /* The unnamed data stream: an empty name of our own (libntfs-3g's AT_UNNAMED is data, not loaded). */
    static ntfschar unnamed[1];
    ntfs_attr *na = ntfsapi.ntfs_attr_open(*ni, AT_DATA, unnamed, 0);
    if (!na) {
        int e = errno;
        ntfsapi.ntfs_inode_close(*ni);
        *ni = NULL;
        errno = e;
    }
    return na;
}

int image_ntfs_open(struct image *im)
{
    struct ntfs_state *ns = calloc(1, sizeof *ns);
    if (!ns || !(ns->file = strdup(im->spec))) {
        free(ns);
        cli_error(im->prog, "out of memory");
        return CLI_FAILED;
    }
    im->backend = ns;
    int rc = locate_volume(im, ns);
    if (rc == CLI_OK && image_lock(im, ns->file) != CLI_OK)
        rc = CLI_FAILED;
    if (rc != CLI_OK)
        return rc;
    snprintf(im->label, sizeof im->label, "%s:Windows/System32/config/SYSTEM", im->spec);
    ntfs_volume *vol = mount_volume(im, ns, false);
    if (!vol)
        return CLI_FAILED;
    for (int i = 0; rc == CLI_OK && i < IMAGE_FILES; i++) {
        struct image_file *f = &im->files[i];
        size_t plen = strlen(CONFIG_DIR) + strlen(image_file_names[i]) + 1;
        if (!(f->image_path = malloc(plen)) || !(f->local = image_local_path(im, i))) {
            cli_error(im->prog, "out of memory");
            rc = CLI_FAILED;
            break;
        }
        snprintf(f->image_path, plen, "%s%s", CONFIG_DIR, image_file_names[i]);
        ntfs_inode *ni;
        ntfs_attr *na = open_data(vol, f->image_path, &ni);
        if (!na) {
            if (i == IMAGE_FILE_HIVE) {
                cli_error(im->prog, "%s: no SYSTEM hive in the NTFS volume (looked for "
                          "Windows\\System32\\config\\SYSTEM, in any case)", im->label);
                rc = CLI_FAILED;
            }
            continue;
        }
        s64 size = na->data_size;
        char *buf = size > 0 ? malloc((size_t)size) : NULL;
        if (size > 0 && !buf) {
            cli_error(im->prog, "out of memory");
            rc = CLI_FAILED;
        } else if (size > 0 && ntfsapi.ntfs_attr_pread(na, 0, size, buf) != size) {
            cli_error(im->prog, "%s: cannot read %s: %s", ns->file, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        } else {
            int fd = open(f->local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            ssize_t w = fd >= 0 ? (size > 0 ? write(fd, buf, (size_t)size) : 0) : -1;
            if (fd < 0 || w != (ssize_t)size || close(fd) != 0) {
                cli_error(im->prog, "%s: cannot write %s: %s", im->label, f->local, strerror(errno));
                rc = CLI_FAILED;
            } else {
                f->present = true;
            }
        }
        free(buf);
        ntfsapi.ntfs_attr_close(na);
        ntfsapi.ntfs_inode_close(ni);
    }
    if (ntfsapi.ntfs_umount(vol, FALSE) != 0 && rc == CLI_OK) {
        cli_error(im->prog, "%s: cannot close the NTFS volume: %s", ns->file, strerror(errno));
        rc = CLI_FAILED;
    }
    return rc;
}

int image_ntfs_commit(struct image *im)
{
    struct ntfs_state *ns = im->backend;
    ntfs_volume *vol = mount_volume(im, ns, true);
    if (!vol)
        return CLI_FAILED;
    int rc = CLI_OK;
    for (int i = 0; rc == CLI_OK && i < IMAGE_FILES; i++) {
        struct image_file *f = &im->files[i];
        if (!f->present || !f->changed)
            continue;
        int fd = open(f->local, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf = NULL;
        if (fd < 0 || fstat(fd, &st) != 0 || !(buf = malloc((size_t)st.st_size + 1)) ||
            read(fd, buf, (size_t)st.st_size) != (ssize_t)st.st_size) {
            cli_error(im->prog, "%s: cannot read %s: %s", im->label, f->local, strerror(errno));
            rc = CLI_FAILED;
        }
        if (fd >= 0)
            close(fd);
        ntfs_inode *ni = NULL;
        ntfs_attr *na = rc == CLI_OK ? open_data(vol, f->image_path, &ni) : NULL;
        if (rc == CLI_OK && !na) {
            cli_error(im->prog, "%s: cannot open %s for writing: %s", ns->file, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        }
        /* Same size (the usual case: hives grow in 4 KiB bins): the bytes are overwritten in place. */
        if (rc == CLI_OK && na->data_size != (s64)st.st_size && ntfsapi.ntfs_attr_truncate(na, (s64)st.st_size) != 0) {
            cli_error(im->prog, "%s: cannot resize %s: %s", ns->file, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        }
        if (rc == CLI_OK && st.st_size > 0 && ntfsapi.ntfs_attr_pwrite(na, 0, (s64)st.st_size, buf) != (s64)st.st_size) {
            cli_error(im->prog, "%s: cannot write %s: %s", ns->file, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        }
        free(buf);
        if (na)
            ntfsapi.ntfs_attr_close(na);
        if (ni && ntfsapi.ntfs_inode_close(ni) != 0 && rc == CLI_OK) {
            cli_error(im->prog, "%s: cannot write %s: %s", ns->file, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        }
    }
    if (ntfsapi.ntfs_umount(vol, FALSE) != 0 && rc == CLI_OK) {
        cli_error(im->prog, "%s: cannot close the NTFS volume: %s", ns->file, strerror(errno));
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK)
        fprintf(stderr, "%s: wrote %s back into %s\n", im->prog, im->label, ns->file);
    return rc;
}

void image_ntfs_close(struct image *im)
{
    struct ntfs_state *ns = im->backend;
    if (!ns)
        return;
    free(ns->file);
    free(ns);
    im->backend = NULL;
}

#endif
