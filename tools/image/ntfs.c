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

/* ---- The write-back (issue 21): in the order of the logged commit, each step flushed to the image ---- */

enum { BLOCK = 4096, HEADER = 512 };

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* The base block's checksum: the XOR of its first 127 dwords, 0 and -1 avoided (regf-format.md §2). */
static uint32_t regf_checksum(const unsigned char *h)
{
    uint32_t x = 0;
    for (size_t i = 0; i < 0x1FC; i += 4)
        x ^= get32(h + i);
    return x == 0xFFFFFFFFu ? 0xFFFFFFFEu : x == 0 ? 1 : x;
}

/* A base block (of a hive, or a log's copy of one) with its signature and checksum: its file type, else -1. */
static int base_block_type(const unsigned char *h, size_t len)
{
    if (len < HEADER || memcmp(h, "regf", 4) != 0 || get32(h + 0x1FC) != regf_checksum(h))
        return -1;
    return (int)get32(h + 0x1C);
}

/* A valid primary base block whose sequence numbers are equal. */
static bool hive_clean(const unsigned char *h, size_t len)
{
    return base_block_type(h, len) == 0 && get32(h + 0x04) == get32(h + 0x08);
}

/* One file's write-back: the new bytes and which part of them a step writes. */
struct wb_file {
    struct image_file *f;
    unsigned char *data; /* the edited copy */
    s64 size;
};

enum wb_part {
    WB_ALL,    /* every changed block, resized first */
    WB_BODY,   /* every changed block but the first 512 bytes, resized first */
    WB_HEADER, /* the first 512 bytes only, from hdr */
};

/* Writes part of w over the file's data attribute: only the 4 KiB blocks that differ from what the image
 * holds (its bytes as extracted), so that a copy-on-write image or an overlay gets the hive's changed
 * clusters, not all of them (a hive that grows gains whole 4 KiB bins at its end).  An attribute that
 * keeps its size and is written where it is allocated changes no NTFS metadata: libntfs-3g writes
 * non-resident data in place.  The inode is closed (libntfs-3g syncs its record, and the directory's
 * entry when its size changed) before returning. */
static bool write_part(ntfs_volume *vol, const struct wb_file *w, enum wb_part part, const unsigned char *hdr)
{
    const unsigned char *orig = w->f->orig;
    s64 orig_size = (s64)w->f->orig_size;
    ntfs_inode *ni;
    ntfs_attr *na = open_data(vol, w->f->image_path, &ni);
    if (!na)
        return false;
    bool ok = true;
    errno = 0;
    if (part == WB_HEADER) {
        ok = ntfsapi.ntfs_attr_pwrite(na, 0, HEADER, hdr) == HEADER;
    } else {
        if (na->data_size != w->size && ntfsapi.ntfs_attr_truncate(na, w->size) != 0)
            ok = false;
        for (s64 at = part == WB_BODY ? HEADER : 0; ok && at < w->size;) {
            s64 end = (at / BLOCK + 1) * BLOCK < w->size ? (at / BLOCK + 1) * BLOCK : w->size, n = end - at;
            if (!(end <= orig_size && memcmp(w->data + at, orig + at, (size_t)n) == 0))
                ok = ntfsapi.ntfs_attr_pwrite(na, at, n, w->data + at) == n;
            at = end;
        }
    }
    int e = errno ? errno : EIO; /* a short write sets none */
    ntfsapi.ntfs_attr_close(na);
    if (ntfsapi.ntfs_inode_close(ni) != 0 && ok) {
        e = errno;
        ok = false;
    }
    errno = e;
    return ok;
}

/* Everything written so far reaches the image: libntfs-3g keeps nothing back once the inodes are closed
 * (write_part), so the device's sync is enough: fsync of a raw image, NBD_CMD_FLUSH to qemu-nbd (which
 * writes its caches and fdatasyncs the image).  An overlay is a new file renamed into place only when
 * complete: a crash leaves no overlay, so it is not flushed step by step. */
static bool flush_volume(const struct image *im, ntfs_volume *vol)
{
    if (im->overlay)
        return true;
    return vol->dev->d_ops->sync(vol->dev) == 0;
}

/* The local commit of the edited copy went through the hive's log: the hive was clean and is clean with a
 * higher sequence number, and one log changed, now holding a base block of a log format (old, new) with
 * the new hive's sequence number, as the library's logged commit leaves it (lib/hive/commit_log.c). */
static int logged_log(struct wb_file *w)
{
    const struct wb_file *hive = &w[IMAGE_FILE_HIVE];
    if (!hive->f->changed || !hive_clean(hive->f->orig, hive->f->orig_size) ||
        !hive_clean(hive->data, (size_t)hive->size))
        return -1;
    uint32_t seq = get32(hive->data + 0x04);
    if (seq == get32(hive->f->orig + 0x04))
        return -1;
    int log = -1;
    for (int i = IMAGE_FILE_HIVE + 1; i < IMAGE_FILES; i++) {
        if (!w[i].f->present || !w[i].f->changed)
            continue;
        int type = base_block_type(w[i].data, (size_t)w[i].size);
        if (log >= 0 || (type != 1 && type != 6) || get32(w[i].data + 0x04) != seq)
            return -1;
        log = i;
    }
    return log;
}

/* The dirty mark the write-back puts on the hive before its pages (ntfs_commit). */
static void dirty_mark(const struct wb_file *w, bool logged, unsigned char *hdr)
{
    const struct wb_file *hive = &w[IMAGE_FILE_HIVE];
    memcpy(hdr, hive->data, HEADER);
    if (logged) {
        /* As the logged commit marks the file: the primary sequence number the log entry's, the
         * secondary as it was; its replay then gives the new hive. */
        put32(hdr + 0x08, get32(hive->f->orig + 0x08));
    } else {
        /* No log holds the change: numbers above every log's (a log whose base block is numbered at or
         * above the secondary would be replayed over the half-written pages), the primary one more. */
        uint32_t secondary = get32(hive->data + 0x04);
        for (int i = IMAGE_FILE_HIVE + 1; i < IMAGE_FILES; i++) {
            const unsigned char *b = w[i].f->present ? w[i].data : NULL;
            if (b && base_block_type(b, (size_t)w[i].size) >= 1 && get32(b + 0x04) - secondary < 0x80000000u)
                secondary = get32(b + 0x04) + 1;
        }
        put32(hdr + 0x08, secondary);
        put32(hdr + 0x04, secondary + 1);
    }
    /* A hive that grows keeps the hive-bins size of the file as it still is in the image: a header claiming
     * more bins than the file holds is refused as truncated. */
    if (hive->size > (s64)hive->f->orig_size && hive->f->orig_size >= HEADER)
        memcpy(hdr + 0x28, hive->f->orig + 0x28, 4);
    put32(hdr + 0x1FC, regf_checksum(hdr));
}

/* Writes the changed files back into the mounted volume.  The hive goes in the order of the logged commit
 * (lib/hive/commit_log.c), each step flushed to the image before the next:
 *   1. the changed log (when the local commit went through it: logged_log), whole;
 *   2. the hive's base block marked dirty (dirty_mark);
 *   3. the hive grown if it grows, its other changed blocks;
 *   4. its new base block.
 * A crash leaves the old hive (before 2), a dirty hive whose log entry replays to the new one (2-3), or
 * the new hive.  Without a log of the change (no logs in the image, a copy commit), the same order with
 * a dirty mark no log applies to: a crash in 2-3 leaves a hive marked dirty, with some pages new, that
 * readers take for one whose logs are lost (hiveport reads it with a warning and refuses to write it
 * without --discard-logs), not a clean-looking torn one.  *how says which. */
static int write_back(const struct image *im, ntfs_volume *vol, struct wb_file *w, const char **step,
                      const char **left, const char **how)
{
    int log = logged_log(w);
    bool logged = log >= 0;
    struct wb_file *hive = &w[IMAGE_FILE_HIVE];
    *how = logged ? "through its log" : hive->f->changed ? "marked dirty until complete" : "";
    *left = "the hive is as it was";
    bool logs = false;
    for (int i = IMAGE_FILE_HIVE + 1; i < IMAGE_FILES; i++) {
        if (!w[i].f->present || !w[i].f->changed)
            continue;
        *step = w[i].f->image_path + 1;
        if (!write_part(vol, &w[i], WB_ALL, NULL))
            return -1;
        logs = true;
    }
    *step = "the logs";
    if (logs && !flush_volume(im, vol))
        return -1;
    if (!hive->f->changed)
        return 0;
    *step = "the hive's dirty mark";
    *left = logged ? "the hive is as it was, or marked dirty with its log holding the change (reading it replays "
                     "the log)"
                   : "the hive is as it was, or marked dirty (see hiveport(1), IMAGES)";
    unsigned char hdr[HEADER];
    dirty_mark(w, logged, hdr);
    if (!write_part(vol, hive, WB_HEADER, hdr) || !flush_volume(im, vol))
        return -1;
    *step = "the hive's pages";
    *left = logged ? "the hive is marked dirty and its log holds the change: reading it replays the log"
                   : "the hive is marked dirty with some of its pages written: see hiveport(1), IMAGES";
    if (!write_part(vol, hive, WB_BODY, NULL) || !flush_volume(im, vol))
        return -1;
    *step = "the hive's base block";
    if (!write_part(vol, hive, WB_HEADER, hive->data) || !flush_volume(im, vol))
        return -1;
    return 0;
}

static void free_files(struct wb_file *w)
{
    for (int i = 0; i < IMAGE_FILES; i++)
        free(w[i].data);
}

static int ntfs_commit(struct image *im)
{
    struct ntfs_state *ns = im->backend;
    const char *target = im->overlay ? im->overlay : ns->vol.file;
    bool any = false;
    for (int i = 0; i < IMAGE_FILES; i++)
        any |= im->files[i].present && im->files[i].changed;
    struct wb_file w[IMAGE_FILES];
    memset(w, 0, sizeof w);
    int rc = CLI_OK;
    for (int i = 0; i < IMAGE_FILES && rc == CLI_OK; i++) {
        struct image_file *f = &im->files[i];
        w[i].f = f;
        if (!f->present)
            continue;
        /* Every present file's bytes, changed or not: the dirty mark looks at the logs' numbers. */
        int fd = open(f->local, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !(w[i].data = malloc((size_t)st.st_size + 1)) ||
            read(fd, w[i].data, (size_t)st.st_size) != (ssize_t)st.st_size) {
            cli_error(im->prog, "%s: cannot read %s: %s", im->label, f->local, strerror(errno));
            rc = CLI_FAILED;
        }
        w[i].size = rc == CLI_OK ? (s64)st.st_size : 0;
        if (fd >= 0)
            close(fd);
    }
    if (rc != CLI_OK || volume_open_write(im, &ns->vol) != CLI_OK) {
        free_files(w);
        return CLI_FAILED;
    }
    ntfs_volume *vol = any ? mount_volume(im, ns, true) : NULL;
    if (any && !vol) {
        volume_close(im, &ns->vol, false);
        free_files(w);
        return CLI_FAILED;
    }
    const char *step = "", *left = "", *how = "";
    if (any && write_back(im, vol, w, &step, &left, &how) != 0) {
        if (im->overlay)
            cli_error(im->prog, "%s: cannot write %s: %s", target, step, strerror(errno));
        else
            cli_error(im->prog, "%s: cannot write %s: %s; %s", target, step, strerror(errno), left);
        rc = CLI_FAILED;
    }
    free_files(w);
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
        fprintf(stderr, "%s: wrote %s back into %s%s%s%s\n", im->prog, im->label, ns->vol.file, *how ? " (" : "",
                how, *how ? ", each step flushed)" : "");
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
