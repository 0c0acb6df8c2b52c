/* disk.c: which disk an image spec names and where its NTFS volume lies (--ntfs and --disk).  The
 * container format comes from the file's content, never its name (--disk-format overrides); raw files are
 * read directly (raw.c), QEMU's formats through a qemu-nbd child (nbd.c), E01 through libewf (ewf.c).  The
 * volume is a partition (@pN, from the MBR or GPT: partition.c), a byte offset (@OFFSET), the whole disk,
 * or, for --disk without @, the one NTFS partition that holds the SYSTEM hive. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"
#include "partition.h"

const struct disk_format_name disk_formats[DISK_FORMATS] = {
    [DISK_RAW] = {"raw", NULL, "raw"},
    [DISK_QCOW2] = {"qcow2", "qcow2", "qcow2"},
    [DISK_VHDX] = {"vhdx", "vhdx", "VHDX"},
    [DISK_VPC] = {"vhd", "vpc", "VHD"},
    [DISK_VMDK] = {"vmdk", "vmdk", "VMDK"},
    [DISK_EWF] = {"e01", NULL, "E01"},
};

#define MAX_PARTITIONS 128

int disk_format_named(const char *name)
{
    if (strcmp(name, "vpc") == 0)
        return DISK_VPC;
    if (strcmp(name, "ewf") == 0 || strcmp(name, "E01") == 0)
        return DISK_EWF;
    for (int i = 0; i < DISK_FORMATS; i++)
        if (strcmp(name, disk_formats[i].name) == 0)
            return i;
    return -1;
}

/* The format from the file's first and last 512 bytes: the magic numbers of each container. */
static enum disk_format format_detected(int fd, uint64_t size)
{
    unsigned char head[512] = {0}, tail[512] = {0};
    ssize_t got = pread(fd, head, sizeof head, 0);
    if (got < 8)
        return DISK_RAW;
    if (memcmp(head, "QFI\xfb", 4) == 0)
        return DISK_QCOW2;
    if (memcmp(head, "vhdxfile", 8) == 0)
        return DISK_VHDX;
    if (memcmp(head, "KDMV", 4) == 0 || memcmp(head, "COWD", 4) == 0 ||
        (got >= 21 && memcmp(head, "# Disk DescriptorFile", 21) == 0))
        return DISK_VMDK;
    if (memcmp(head, "EVF\x09\x0d\x0a\xff\x00", 8) == 0)
        return DISK_EWF;
    /* A dynamic VHD starts with a copy of its footer; a fixed one has it in the last sector only. */
    if (memcmp(head, "conectix", 8) == 0 ||
        (size >= 1024 && pread(fd, tail, sizeof tail, (off_t)(size - 512)) == 512 && memcmp(tail, "conectix", 8) == 0))
        return DISK_VPC;
    return DISK_RAW;
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

static bool partition_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    struct disk *d = ctx;
    return d->pread(d, buf, len, off) == 0;
}

static void describe(struct volume *v, const struct partition *p)
{
    snprintf(v->where, sizeof v->where, " (partition %u of the %s, at byte %llu)", p->number, p->scheme,
             (unsigned long long)p->offset);
}

/* --disk without @: the volume is the whole disk when it starts with an NTFS boot sector, else the one
 * partition the probe accepts. */
static int find_volume(struct image *im, struct volume *v, volume_probe *probe)
{
    struct disk *d = v->disk;
    char boot[8], why[256];
    if (d->pread(d, boot, sizeof boot, 3) == 0 && memcmp(boot, "NTFS    ", 8) == 0)
        return CLI_OK;
    struct partition_disk pd = {partition_read, d, d->size};
    struct partition *parts = calloc(MAX_PARTITIONS, sizeof *parts);
    if (!parts) {
        cli_error(im->prog, "out of memory");
        return CLI_FAILED;
    }
    int n = partition_list(&pd, parts, MAX_PARTITIONS, why, sizeof why);
    if (n < 0) {
        cli_error(im->prog, "%s: %s, and the disk does not start with an NTFS volume", v->file, why);
        free(parts);
        return CLI_FAILED;
    }
    int found = -1, hits = 0;
    char list[1024] = "";
    for (int i = 0; i < n; i++) {
        bool hit = probe(im, d, parts[i].offset, parts[i].length);
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s p%u (%s, at byte %llu, %llu MiB%s)", i ? "," : "", parts[i].number,
                 parts[i].scheme, (unsigned long long)parts[i].offset, (unsigned long long)(parts[i].length >> 20),
                 hit ? ", holds a SYSTEM hive" : "");
        if (hit) {
            hits++;
            found = i;
        }
    }
    int rc = CLI_OK;
    if (hits == 1) {
        v->offset = parts[found].offset;
        v->length = parts[found].length;
        describe(v, &parts[found]);
        char *shown = malloc(strlen(im->spec) + 16);
        if (!shown) {
            cli_error(im->prog, "out of memory");
            rc = CLI_FAILED;
        } else {
            sprintf(shown, "%s@p%u", im->spec, parts[found].number);
            free(v->shown);
            v->shown = shown;
        }
    } else if (hits == 0) {
        cli_error(im->prog, "%s: no NTFS partition holds Windows/System32/config/SYSTEM; partitions:%s", v->file,
                  n ? list : " none");
        rc = CLI_FAILED;
    } else {
        cli_error(im->prog, "%s: %d partitions hold Windows/System32/config/SYSTEM: choose one with @pN;"
                  " partitions:%s", v->file, hits, list);
        rc = CLI_FAILED;
    }
    free(parts);
    return rc;
}

/* @pN or @OFFSET on the open disk. */
static int place_volume(struct image *im, struct volume *v, const char *sel)
{
    struct disk *d = v->disk;
    if (sel[0] == 'p' && isdigit((unsigned char)sel[1])) {
        char why[256], *end;
        unsigned long n = strtoul(sel + 1, &end, 10);
        struct partition part;
        struct partition_disk pd = {partition_read, d, d->size};
        if (*end != '\0' || n > 4096) {
            cli_error(im->prog, "%s: '@%s' is not a partition number (@p1, @p2, ...)", im->spec, sel);
            return CLI_USAGE;
        }
        if (partition_find(&pd, (unsigned)n, &part, why, sizeof why) != 0) {
            cli_error(im->prog, "%s: %s", im->spec, why);
            return CLI_FAILED;
        }
        v->offset = part.offset;
        v->length = part.length;
        describe(v, &part);
        return CLI_OK;
    }
    uint64_t off;
    if (!parse_offset(sel, &off)) {
        cli_error(im->prog, "%s: '@%s' is neither a byte offset (1048576, 2048s, 1M) nor a partition "
                  "number (p1)", im->spec, sel);
        return CLI_USAGE;
    }
    if (off >= d->size) {
        cli_error(im->prog, "%s: offset %llu is past the end of the image (%llu bytes)", im->spec,
                  (unsigned long long)off, (unsigned long long)d->size);
        return CLI_FAILED;
    }
    v->offset = off;
    v->length = d->size - off;
    snprintf(v->where, sizeof v->where, " (at byte %llu)", (unsigned long long)off);
    return CLI_OK;
}

static struct disk *open_disk(const struct image *im, const char *file, enum disk_format format, bool write)
{
    if (format == DISK_RAW)
        return disk_raw_open(im, file, write);
    if (format == DISK_EWF)
        return disk_ewf_open(im, file);
    return disk_nbd_open(im, file, disk_formats[format].qemu, write);
}

/* The format's backend can be loaded (else a message saying what to install, and false). */
static bool format_usable(const struct image *im, enum disk_format format, bool nbd)
{
    char why[256];
    if (format == DISK_EWF ? !disk_ewf_supported(why, sizeof why) : nbd && !disk_nbd_supported(why, sizeof why)) {
        cli_error(im->prog, "%s: %s images: %s", im->spec, disk_formats[format].title, why);
        return false;
    }
    return true;
}

int volume_locate(struct image *im, struct volume *v, volume_probe *probe)
{
    memset(v, 0, sizeof *v);
    if (!(v->file = strdup(im->spec)) || !(v->shown = strdup(im->spec))) {
        cli_error(im->prog, "out of memory");
        return CLI_FAILED;
    }
    /* A spec that names an existing file is that file whole, so that names holding '@' still work. */
    struct stat st;
    const char *at = strrchr(im->spec, '@'), *sel = NULL;
    if (stat(im->spec, &st) != 0 && at && at != im->spec) {
        sel = at + 1;
        v->file[at - im->spec] = '\0';
    }
    int fd = open(v->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cli_error(im->prog, "%s: cannot open the %s image: %s", v->file, im->disk ? "disk" : "NTFS",
                  fd < 0 ? strerror(errno) : S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        if (fd >= 0)
            close(fd);
        return CLI_FAILED;
    }
    v->format = DISK_RAW;
    if (im->disk && im->disk_format) {
        v->format = (enum disk_format)disk_format_named(im->disk_format); /* checked before (image.c, apply_image.c) */
    } else if (im->disk) {
        v->format = format_detected(fd, (uint64_t)st.st_size);
    }
    close(fd);
    if (v->format == DISK_EWF && (im->may_write || im->overlay)) {
        cli_error(im->prog, "%s: E01 evidence files are read-only: hiveport reads them (show, get, audit, export, "
                  "firewall, apply --check, --dry-run) but never writes them; the image is unchanged", v->file);
        return CLI_FAILED;
    }
    if (im->may_write && !im->overlay && image_check_writable(im, v->file) != CLI_OK)
        return CLI_FAILED;
    if (!format_usable(im, v->format, disk_formats[v->format].qemu != NULL) ||
        (im->overlay && !format_usable(im, DISK_QCOW2, true)))
        return CLI_FAILED;
    if (im->overlay && access(im->overlay, F_OK) == 0) {
        cli_error(im->prog, "%s: the overlay already exists (hiveport creates it, never overwrites it)", im->overlay);
        return CLI_FAILED;
    }
    if (image_lock(im, v->file) != CLI_OK)
        return CLI_FAILED;
    /* A damaged container is named before anything in it is blamed (a truncated qcow2 reads zeros where
     * its clusters are missing: "no hive bin", "no partition table"). */
    char why[512], what[700];
    if (disk_formats[v->format].qemu && disk_nbd_damaged(im, v->file, disk_formats[v->format].qemu, why, sizeof why)) {
        snprintf(what, sizeof what, "the %s image is damaged: %s", disk_formats[v->format].title, why);
        if (!disk_damaged_allowed(im, v->file, what))
            return CLI_FAILED;
    }
    /* A writer opens the image writable at once (one qemu-nbd, not two); the volume is still mounted
     * read-only until there is something to write, and opening writes nothing. */
    if (!(v->disk = open_disk(im, v->file, v->format, im->may_write && !im->overlay)))
        return CLI_FAILED;
    v->offset = 0;
    v->length = v->disk->size;
    if (sel)
        return place_volume(im, v, sel);
    return im->disk ? find_volume(im, v, probe) : CLI_OK;
}

/* Creates the overlay under a temporary name next to where it goes; volume_close renames it. */
static struct disk *open_overlay(struct image *im, struct volume *v)
{
    size_t len = strlen(im->overlay) + 20;
    char *base = realpath(v->file, NULL);
    if (!base || !(v->overlay_tmp = malloc(len))) {
        cli_error(im->prog, "%s: %s", v->file, base ? "out of memory" : strerror(errno));
        free(base);
        return NULL;
    }
    snprintf(v->overlay_tmp, len, "%s.hiveport-XXXXXX", im->overlay);
    int fd = mkstemp(v->overlay_tmp);
    if (fd < 0) {
        cli_error(im->prog, "%s: cannot create the overlay: %s", im->overlay, strerror(errno));
        free(v->overlay_tmp);
        v->overlay_tmp = NULL;
        free(base);
        return NULL;
    }
    /* mkstemp makes it 0600: a disk gets the mode any new file gets. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    close(fd);
    const char *fmt = disk_formats[v->format].qemu ? disk_formats[v->format].qemu : "raw";
    struct disk *d = NULL;
    if (disk_nbd_create_overlay(im, base, fmt, v->overlay_tmp) == CLI_OK)
        d = disk_nbd_open(im, v->overlay_tmp, "qcow2", true);
    free(base);
    return d;
}

int volume_open_write(struct image *im, struct volume *v)
{
    if (v->disk && v->disk->writable)
        return CLI_OK;
    v->disk = im->overlay ? open_overlay(im, v) : open_disk(im, v->file, v->format, true);
    if (v->disk && v->disk->size < v->offset + v->length) {
        char why[256];
        cli_error(im->prog, "%s: the image shrank while hiveport was reading it", v->file);
        v->disk->close(v->disk, why, sizeof why);
        v->disk = NULL;
    }
    return v->disk ? CLI_OK : CLI_FAILED;
}

int volume_close(struct image *im, struct volume *v, bool keep)
{
    int rc = CLI_OK;
    char why[512];
    if (v->disk && v->disk->close(v->disk, why, sizeof why) != 0) {
        cli_error(im->prog, "%s: %s", v->overlay_tmp ? im->overlay : v->file, why);
        rc = CLI_FAILED;
    }
    v->disk = NULL;
    if (v->overlay_tmp) {
        /* Never over a file that appeared meanwhile. */
        if (rc == CLI_OK && keep && renameat2(AT_FDCWD, v->overlay_tmp, AT_FDCWD, im->overlay, RENAME_NOREPLACE) != 0) {
            cli_error(im->prog, "%s: cannot create the overlay: %s", im->overlay, strerror(errno));
            rc = CLI_FAILED;
        }
        if (rc != CLI_OK || !keep)
            unlink(v->overlay_tmp);
        free(v->overlay_tmp);
        v->overlay_tmp = NULL;
    }
    return rc;
}

void volume_free(struct volume *v)
{
    free(v->file);
    free(v->shown);
    v->file = v->shown = NULL;
}
