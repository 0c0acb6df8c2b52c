/* image.h: hives inside Windows images (issue 11): --wim FILE[:INDEX|:NAME] and --ntfs FILE[@OFFSET|@pN];
 * VM disks and evidence files (issue 15): --disk FILE[@OFFSET|@pN] in qcow2, VHDX, VHD, VMDK, raw or E01.
 * The image layer sits below the commands: it extracts Windows/System32/config/SYSTEM (and its
 * .LOG1/.LOG2/.LOG) into a private temporary directory, runs the command's work on that copy
 * (image_with_target), and writes the hive back when the command succeeded and the bytes changed.  Each
 * backend has its own optional library (wimlib, libntfs-3g, libnbd, libewf), detected at build time by
 * mk/images.mk and mk/disks.mk (HIVEPORT_HAVE_WIM, _NTFS, _NBD, _EWF) and loaded on first use (dynlib.h).
 * This header is the one interface between the commands (image_with_target; image_with_hive for apply's manifests), the shared layer (image.c, session.c,
 * disk.c) and the backends (wim.c; ntfs.c with its device ntfs_window.c; partition.c; raw.c; nbd.c; ewf.c): no
 * backend includes another's header. */
#ifndef HIVEPORT_IMAGE_H
#define HIVEPORT_IMAGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* A command's target (cli.h: struct cli_target, as its options gave it): image_with_target() runs
 * fn(ctx, HIVE, NAME) on it.  A hive file: HIVE and NAME are its path, and fn's status is returned.  An
 * image: after the usage checks of its options (--backup, --overlay, --disk-format, --allow-incomplete:
 * CLI_USAGE, printed), HIVE is the private copy of its SYSTEM hive and NAME the label messages give it
 * ("install.wim:2:Windows/System32/config/SYSTEM"; fn opens HIVE with hiveport_open_named(HIVE, NAME, ...)
 * or cli_open_named() so that the library's messages say it too).  The image is locked and the deferred
 * signals held from extraction to write-back; the hive goes back when fn returned CLI_OK, may_write is set
 * and the bytes changed (or an overlay was asked for).  An interrupt before the write-back stops it
 * ("interrupted", CLI_FAILED); one during it is held until the image is consistent, then reported.
 * Prints the image layer's errors; returns fn's status, or the image layer's.
 * image_with_hive() does the same for one image named outside a command line (a line of apply's manifest,
 * apply_image.h), run in a worker: no usage checks, and a deferred signal ends the process once the
 * image is consistent. */
typedef int image_hive_fn(void *ctx, const char *hive, const char *label);
int image_with_target(const struct cli_target *t, image_hive_fn *fn, void *ctx);
int image_with_hive(const struct cli_target *t, image_hive_fn *fn, void *ctx);
/* One line for 'hiveport --version': which image formats this build supports. */
void image_print_support(FILE *out);

/* ---- shared between image.c and the backends ---- */
enum { IMAGE_FILE_HIVE, IMAGE_FILE_LOG1, IMAGE_FILE_LOG2, IMAGE_FILE_LOG, IMAGE_FILES };
extern const char *const image_file_names[IMAGE_FILES]; /* "SYSTEM", "SYSTEM.LOG1", ... */

struct image_file {
    bool present;        /* found in the image and extracted */
    char *image_path;    /* its path in the image, as the image spells it ("/Windows/.../SYSTEM") */
    char *local;         /* the extracted copy in the private directory */
    unsigned char *orig; /* its bytes as extracted */
    size_t orig_size;
    bool changed;        /* set by image.c before commit */
};

struct image {
    const char *prog;    /* "hiveport set": messages start with it */
    const char *spec;    /* as given on the command line */
    bool may_write;      /* the command may write (set, unset, apply without --dry-run/--check) */
    bool verbose;        /* --verbose: say when the hive is written back */
    char *tmpdir;        /* private, mode 0700 */
    char label[512];     /* "install.wim:2:Windows/System32/config/SYSTEM": names the copy in messages */
    struct image_file files[IMAGE_FILES];
    bool disk;           /* --disk: any container format, the volume found when no @ is given */
    const char *disk_format; /* --disk-format NAME, or NULL to detect it from the content */
    const char *overlay; /* --overlay NEW.qcow2: writes go there, the image is only read */
    bool allow_incomplete; /* --allow-incomplete: a damaged qcow2 or an incomplete E01 set is read anyway */
    int lock_wait_ms;    /* --lock-timeout of the command (default 30 s) */
    int lock_fd;         /* the image file, flocked (image_lock), else -1 */
    void *backend;
};

/* A backend (wim.c, ntfs.c): the table image.c calls, and the backends never call image.c.  open finds
 * and extracts the files (setting present, image_path, local via image_local_path(); image.c reads orig
 * afterwards) and fills label; commit writes back the files whose changed flag is set, leaving the image
 * as it was on failure where the format allows it; close frees; supported says whether this build and
 * machine can (the library's version into version).  open and commit print their errors (naming the
 * image) and return CLI_OK, CLI_FAILED or CLI_USAGE. */
struct image_backend {
    int (*open)(struct image *im);
    int (*commit)(struct image *im);
    void (*close)(struct image *im);
    bool (*supported)(char *version, size_t len);
};
extern const struct image_backend image_wim_backend;
extern const struct image_backend image_ntfs_backend;

/* ---- session.c: what the backends share with image.c ---- */
/* Serialises hiveport runs on the image file: exclusive for a command that may write into it, shared
 * otherwise (a reader, or a writer with --overlay), from extraction to write-back.  Backends call it once
 * they know the file.  Prints its error. */
int image_lock(struct image *im, const char *file);
/* A command that writes into the image (not --overlay) may: the file is not read-only by its mode
 * (0444 is refused even for root, as a plain hive is: "the file is read-only (mode 0444)") and this
 * process can write it.  Prints its error naming file; CLI_OK or CLI_FAILED. */
int image_check_writable(const struct image *im, const char *file);
/* A damaged or incomplete container (what, "the qcow2 image is damaged: ..."; disk.c and ewf.c): refused
 * (an error naming file, false) unless --allow-incomplete was given for a read, which goes on after a
 * warning (true). */
bool disk_damaged_allowed(const struct image *im, const char *file, const char *what);
/* The signals held back while an image is open (the write-back is not torn by them). */
extern const int image_deferred_signals[4];
/* Blocks the deferred signals (the mask before into old_mask), noting which of them this process ignores. */
void image_signals_hold(sigset_t *old_mask);
/* A deferred SIGINT, SIGTERM, SIGHUP or SIGQUIT that the process does not ignore is pending: long waits give
 * up on it.  image_interrupt_pending() says which (0: none). */
bool image_interrupted(void);
int image_interrupt_pending(void);
/* Discards every pending deferred signal (the process then survives the unblocking); the one that
 * interrupted, as image_interrupt_pending() said, or 0. */
int image_interrupt_take(void);
/* The local path of file i in the private directory (malloc'd; NULL when out of memory). */
char *image_local_path(const struct image *im, int i);

/* ---- disks: the bytes of a disk image whatever its container (disk.c picks; raw.c, nbd.c, ewf.c) ---- */
struct disk {
    uint64_t size;
    bool writable;
    /* 0, or -1 with errno; a short read or write is an error (EIO). */
    int (*pread)(struct disk *d, void *buf, size_t len, uint64_t off);
    int (*pwrite)(struct disk *d, const void *buf, size_t len, uint64_t off);
    int (*flush)(struct disk *d);
    /* Flushes a writable disk, releases everything (a helper process included) and frees d.  0, or -1
     * with the reason in why. */
    int (*close)(struct disk *d, char *why, size_t why_len);
};

/* Container formats: the names --disk-format takes, and the one QEMU uses for each (NULL: not QEMU's). */
enum disk_format { DISK_RAW, DISK_QCOW2, DISK_VHDX, DISK_VPC, DISK_VMDK, DISK_EWF, DISK_FORMATS };
struct disk_format_name {
    const char *name;      /* "qcow2" */
    const char *qemu;      /* "qcow2", or NULL for raw files read directly and for E01 */
    const char *title;     /* "qcow2", "VHD", "E01" for messages */
};
extern const struct disk_format_name disk_formats[DISK_FORMATS];
/* The format --disk-format NAME means (QEMU's names vpc and ewf accepted too); -1 when none. */
int disk_format_named(const char *name);

/* Backends: each prints its errors naming file and returns NULL on failure. */
struct disk *disk_raw_open(const struct image *im, const char *file, bool write);
/* Through a qemu-nbd child serving file on a socket in im->tmpdir; read-only unless write. */
struct disk *disk_nbd_open(const struct image *im, const char *file, const char *qemu_format, bool write);
/* qemu-img check of file in a QEMU format, before it is opened: true when the image is damaged (corrupt
 * metadata, data past the end of a truncated file), with what qemu-img found in why.  A check that cannot
 * run or a format without one says nothing: the open that follows reports its own errors.  Leaked
 * clusters are harmless and pass. */
bool disk_nbd_damaged(const struct image *im, const char *file, const char *qemu_format, char *why, size_t len);
/* Creates overlay (qcow2) backed by base, its format recorded, with qemu-img.  CLI_OK or CLI_FAILED. */
int disk_nbd_create_overlay(const struct image *im, const char *base, const char *base_format, const char *overlay);
/* E01 evidence (and its .E02... segments) through libewf, read-only. */
struct disk *disk_ewf_open(const struct image *im, const char *file);
bool disk_nbd_supported(char *version, size_t len);
bool disk_ewf_supported(char *version, size_t len);

/* ---- volumes: where the NTFS volume lies on a disk (disk.c), for the NTFS backend ---- */
struct volume {
    char *file;               /* the image file (the spec without @OFFSET or @pN) */
    char *shown;              /* the spec for messages: as given, plus @pN when the partition was found */
    enum disk_format format;
    uint64_t offset, length;  /* the volume's bytes on the disk */
    char where[96];           /* "" or " (partition 2 of the GPT, at byte 1048576)" for messages */
    struct disk *disk;        /* while open */
    char *overlay_tmp;        /* --overlay: the new file until it is complete, then renamed */
};
/* Tells whether the window [offset, offset + length) of d is an NTFS volume holding the SYSTEM hive. */
typedef bool volume_probe(const struct image *im, struct disk *d, uint64_t offset, uint64_t length);
/* Parses the spec, locks the file, detects its format and opens it (read-only unless the command may
 * write into it); finds the volume: at @pN or @OFFSET, the whole file for --ntfs, or (--disk without @)
 * the one whose probe says yes.  Leaves the disk open.  Prints its errors; CLI_OK, CLI_FAILED, CLI_USAGE. */
int volume_locate(struct image *im, struct volume *v, volume_probe *probe);
/* The disk open for writing: the image as volume_locate left it, or the new overlay.  Prints its errors. */
int volume_open_write(struct image *im, struct volume *v);
/* Closes the disk (flushing a writable one); with keep, an overlay being written is renamed into place,
 * else removed.  Prints its errors; CLI_OK or CLI_FAILED. */
int volume_close(struct image *im, struct volume *v, bool keep);
void volume_free(struct volume *v);


#endif
