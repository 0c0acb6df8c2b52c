/* ntfs.c: the NTFS volume of --ntfs FILE[@OFFSET|@pN] and --disk FILE[@OFFSET|@pN] through libntfs-3g
 * (Debian ntfs-3g-dev), when mk/images.mk found it; disk.c says which disk and where on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "image.h"

#ifndef HIVEPORT_HAVE_NTFS

static bool ntfs_supported(char *version, size_t len)
{
    snprintf(version, len, "this hiveport was built without NTFS support (install ntfs-3g-dev and rebuild)");
    return false;
}
static int ntfs_open(struct image *im)
{
    (void)im;
    return CLI_USAGE;
}
static int ntfs_commit(struct image *im)
{
    (void)im;
    return CLI_FAILED;
}
static void ntfs_close(struct image *im)
{
    (void)im;
}

#else

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
    struct volume vol;         /* the disk and where the volume lies on it (disk.c) */
    struct ntfs_window window; /* the libntfs-3g device over it */
};

static bool ntfs_supported(char *version, size_t len)
{
    if (!load_ntfs(version, len))
        return false;
    /* libntfs-3g declares no version function: the one pkg-config saw at build time. */
    snprintf(version, len, "%s", HIVEPORT_NTFS_VERSION[0] ? HIVEPORT_NTFS_VERSION : "unknown version");
    return true;
}

/* Mounts the window [offset, offset + length) of disk through the library (no FUSE, no kernel),
 * read-only unless writing.  errno tells why it failed. */
static ntfs_volume *mount_window(const char *name, struct ntfs_window *w, struct disk *disk, uint64_t offset,
                                 uint64_t length, bool write)
{
    *w = (struct ntfs_window){disk, offset, length, 0};
    struct ntfs_device *dev = ntfsapi.ntfs_device_alloc(name, 0, &ntfs_window_ops, w);
    ntfs_volume *vol = dev ? ntfsapi.ntfs_device_mount(dev, write ? NTFS_MNT_EXCLUSIVE : NTFS_MNT_RDONLY) : NULL;
    if (!vol) {
        int err = errno;
        if (dev)
            ntfsapi.ntfs_device_free(dev);
        errno = err;
        return NULL;
    }
    ntfsapi.ntfs_set_ignore_case(vol); /* Windows paths: any case names the same file */
    return vol;
}

/* What the window holds when it does not start with an NTFS boot sector ("" when it does): a reader's
 * hint rather than libntfs-3g's bare EINVAL. */
static const char *not_ntfs(struct disk *d, uint64_t offset, uint64_t length)
{
    unsigned char boot[1024 + 64];
    if (length < sizeof boot || d->pread(d, boot, sizeof boot, offset) != 0)
        return length < sizeof boot ? "too small to hold one" : "";
    if (memcmp(boot + 3, "NTFS    ", 8) == 0)
        return "";
    if (memcmp(boot + 512, "EFI PART", 8) == 0 || (boot[510] == 0x55 && boot[511] == 0xAA && boot[0x1C2] != 0))
        return "it starts with a partition table: choose a partition with @pN";
    if (boot[1024 + 56] == 0x53 && boot[1024 + 57] == 0xEF)
        return "it holds an ext2/3/4 file system";
    if (memcmp(boot + 3, "MSDOS", 5) == 0 || memcmp(boot + 3, "mkfs.fat", 8) == 0 || memcmp(boot + 82, "FAT32", 5) == 0)
        return "it holds a FAT file system";
    if (memcmp(boot + 3, "EXFAT   ", 8) == 0)
        return "it holds an exFAT file system";
    return "no NTFS boot sector";
}

static ntfs_volume *mount_volume(const struct image *im, struct ntfs_state *ns, bool write)
{
    struct volume *v = &ns->vol;
    const char *other = not_ntfs(v->disk, v->offset, v->length);
    if (*other) {
        cli_error(im->prog, "%s: not an NTFS volume%s: %s", v->file, v->where, other);
        return NULL;
    }
    ntfs_volume *vol = mount_window(v->file, &ns->window, v->disk, v->offset, v->length, write);
    if (!vol)
        cli_error(im->prog, "%s: cannot open the NTFS volume%s%s: %s", v->file, v->where,
                  write ? " for writing" : "", strerror(errno));
    return vol;
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

/* volume_probe (disk.c): an NTFS volume in the window holds the SYSTEM hive. */
static bool holds_hive(const struct image *im, struct disk *d, uint64_t offset, uint64_t length)
{
    (void)im;
    char boot[8];
    if (length < 512 || d->pread(d, boot, sizeof boot, offset + 3) != 0 || memcmp(boot, "NTFS    ", 8) != 0)
        return false;
    struct ntfs_window w;
    ntfs_volume *vol = mount_window("probe", &w, d, offset, length, false);
    if (!vol)
        return false;
    ntfs_inode *ni = ntfsapi.ntfs_pathname_to_inode(vol, NULL, CONFIG_DIR "SYSTEM");
    if (ni)
        ntfsapi.ntfs_inode_close(ni);
    ntfsapi.ntfs_umount(vol, FALSE);
    return ni != NULL;
}

/* Why Windows would lose an offline change to this volume, or NULL: it is hibernated (hiberfil.sys
 * starts with the signature of an image to resume: "hibr", "HIBR", or "RSTR" while resuming; "wake" and
 * zeros mean it was resumed), or it was not cleanly unmounted (the dirty flag in $Volume, which Fast
 * Startup and crashes leave set). */
static const char *in_use_reason(ntfs_volume *vol)
{
    if (vol->flags & VOLUME_IS_DIRTY)
        return "the NTFS volume is marked dirty (Windows was not shut down cleanly, or Fast Startup left it in use)";
    ntfs_inode *ni;
    ntfs_attr *na = open_data(vol, "/hiberfil.sys", &ni);
    if (!na)
        return NULL;
    char sig[4] = {0};
    const char *why = NULL;
    if (ntfsapi.ntfs_attr_pread(na, 0, sizeof sig, sig) == (s64)sizeof sig &&
        (strncasecmp(sig, "hibr", 4) == 0 || strncasecmp(sig, "rstr", 4) == 0))
        why = "Windows is hibernated on this volume (hiberfil.sys holds a memory image to resume; \"Fast Startup\" "
              "leaves one too): Windows would resume from it and lose or corrupt the change";
    ntfsapi.ntfs_attr_close(na);
    ntfsapi.ntfs_inode_close(ni);
    return why;
}

static int ntfs_open(struct image *im)
{
    struct ntfs_state *ns = calloc(1, sizeof *ns);
    if (!ns) {
        cli_error(im->prog, "out of memory");
        return CLI_FAILED;
    }
    im->backend = ns;
    int rc = volume_locate(im, &ns->vol, holds_hive);
    if (rc != CLI_OK)
        return rc;
    snprintf(im->label, sizeof im->label, "%s:Windows/System32/config/SYSTEM", ns->vol.shown);
    ntfs_volume *vol = mount_volume(im, ns, false);
    if (!vol)
        return CLI_FAILED;
    const char *in_use = im->may_write ? in_use_reason(vol) : NULL;
    if (in_use) {
        cli_error(im->prog, "%s%s: %s; refusing to write (the image is unchanged)", ns->vol.file, ns->vol.where, in_use);
        rc = CLI_FAILED;
    }
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
            cli_error(im->prog, "%s: cannot read %s: %s", ns->vol.file, f->image_path + 1, strerror(errno));
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
        cli_error(im->prog, "%s: cannot close the NTFS volume: %s", ns->vol.file, strerror(errno));
        rc = CLI_FAILED;
    }
    /* A writer keeps the disk for the write-back; a reader is done with it. */
    if ((rc != CLI_OK || !ns->vol.disk->writable) && volume_close(im, &ns->vol, false) != CLI_OK)
        rc = CLI_FAILED;
    return rc;
}

/* Writes data (size bytes) over the file's data attribute, resized first if the size changed: only the
 * 4 KiB blocks that differ from orig (orig_size bytes), so that a copy-on-write image or an overlay gets
 * the hive's changed clusters, not all of them (a hive that grows gains whole 4 KiB bins at its end). */
static bool write_changes(ntfs_attr *na, const char *data, s64 size, const unsigned char *orig, s64 orig_size)
{
    enum { BLOCK = 4096 };
    if (na->data_size != size && ntfsapi.ntfs_attr_truncate(na, size) != 0)
        return false;
    for (s64 at = 0; at < size; at += BLOCK) {
        s64 n = size - at < BLOCK ? size - at : BLOCK;
        if (at + n <= orig_size && memcmp(data + at, orig + at, (size_t)n) == 0)
            continue;
        if (ntfsapi.ntfs_attr_pwrite(na, at, n, data + at) != n)
            return false;
    }
    return true;
}

static int ntfs_commit(struct image *im)
{
    struct ntfs_state *ns = im->backend;
    const char *target = im->overlay ? im->overlay : ns->vol.file;
    bool any = false;
    for (int i = 0; i < IMAGE_FILES; i++)
        any |= im->files[i].present && im->files[i].changed;
    if (volume_open_write(im, &ns->vol) != CLI_OK)
        return CLI_FAILED;
    ntfs_volume *vol = any ? mount_volume(im, ns, true) : NULL;
    if (any && !vol) {
        volume_close(im, &ns->vol, false);
        return CLI_FAILED;
    }
    int rc = CLI_OK;
    for (int i = 0; any && rc == CLI_OK && i < IMAGE_FILES; i++) {
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
            cli_error(im->prog, "%s: cannot open %s for writing: %s", target, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        }
        if (rc == CLI_OK && !write_changes(na, buf, (s64)st.st_size, f->orig, (s64)f->orig_size)) {
            cli_error(im->prog, "%s: cannot write %s: %s", target, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        }
        free(buf);
        if (na)
            ntfsapi.ntfs_attr_close(na);
        if (ni && ntfsapi.ntfs_inode_close(ni) != 0 && rc == CLI_OK) {
            cli_error(im->prog, "%s: cannot write %s: %s", target, f->image_path + 1, strerror(errno));
            rc = CLI_FAILED;
        }
    }
    if (vol && ntfsapi.ntfs_umount(vol, FALSE) != 0 && rc == CLI_OK) {
        cli_error(im->prog, "%s: cannot close the NTFS volume: %s", target, strerror(errno));
        rc = CLI_FAILED;
    }
    if (volume_close(im, &ns->vol, rc == CLI_OK) != CLI_OK)
        rc = CLI_FAILED;
    if (rc == CLI_OK && im->overlay && im->verbose && !any)
        fprintf(stderr, "%s: created the new qcow2 overlay %s with no change in it (%s is as in %s, which is "
                "unchanged)\n", im->prog, im->overlay, im->label, ns->vol.file);
    else if (rc == CLI_OK && im->overlay && im->verbose)
        fprintf(stderr, "%s: wrote %s into the new qcow2 overlay %s (backed by %s, which is unchanged)\n", im->prog,
                im->label, im->overlay, ns->vol.file);
    else if (rc == CLI_OK && im->verbose)
        fprintf(stderr, "%s: wrote %s back into %s\n", im->prog, im->label, ns->vol.file);
    return rc;
}

static void ntfs_close(struct image *im)
{
    struct ntfs_state *ns = im->backend;
    if (!ns)
        return;
    volume_close(im, &ns->vol, false);
    volume_free(&ns->vol);
    free(ns);
    im->backend = NULL;
}

#endif

const struct image_backend image_ntfs_backend = {ntfs_open, ntfs_commit, ntfs_close, ntfs_supported};
