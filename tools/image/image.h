/* image.h: hives inside Windows images (issue 11): --wim FILE[:INDEX|:NAME] and --ntfs FILE[@OFFSET|@pN].
 * The image layer wraps a command: it extracts Windows/System32/config/SYSTEM (and its .LOG1/.LOG2/.LOG)
 * into a private temporary directory, runs the command on that copy, and writes the hive back when the
 * command succeeded and the bytes changed.  Each backend has its own optional library (wimlib,
 * libntfs-3g), detected at build time by mk/images.mk (HIVEPORT_HAVE_WIM, HIVEPORT_HAVE_NTFS). */
#ifndef HIVEPORT_IMAGE_H
#define HIVEPORT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Runs run(argc, argv) for the command name, through the image layer when argv holds --wim or --ntfs,
 * directly otherwise.  Returns the exit status. */
int image_dispatch(const char *name, int (*run)(int argc, char **argv), int argc, char **argv);
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
    char *tmpdir;        /* private, mode 0700 */
    char label[512];     /* "install.wim:2:Windows/System32/config/SYSTEM": replaces the temporary path */
    struct image_file files[IMAGE_FILES];
    int lock_wait_ms;    /* --lock-timeout of the command (default 30 s) */
    int lock_fd;         /* the image file, flocked (image_lock), else -1 */
    void *backend;
};

/* Backends: open finds and extracts the files (setting present, image_path, local via
 * image_local_path(); image.c reads orig afterwards) and fills label; commit writes back the files whose
 * changed flag is set, leaving the image as it was on failure where the format allows it; close frees.
 * open and commit print their errors (naming the image) and return CLI_OK, CLI_FAILED or CLI_USAGE. */
int image_wim_open(struct image *im);
int image_wim_commit(struct image *im);
void image_wim_close(struct image *im);
int image_ntfs_open(struct image *im);
int image_ntfs_commit(struct image *im);
void image_ntfs_close(struct image *im);
bool image_wim_supported(char *version, size_t len);
bool image_ntfs_supported(char *version, size_t len);

/* Serialises hiveport runs on the image file: exclusive for a command that may write, shared otherwise,
 * from extraction to write-back.  Backends call it once they know the file.  Prints its error. */
int image_lock(struct image *im, const char *file);

/* The local path of file i in the private directory (malloc'd; NULL when out of memory). */
char *image_local_path(const struct image *im, int i);

#endif
