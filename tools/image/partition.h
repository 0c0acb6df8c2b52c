/* partition.h: where a partition lies in a whole-disk image, from its MBR or GPT partition table, for
 * --ntfs DISK@pN.  Numbers follow Linux: MBR primary slots 1-4, logical partitions from 5 in the order of
 * their chain; GPT entries by their index in the table, plus one. */
#ifndef HIVEPORT_PARTITION_H
#define HIVEPORT_PARTITION_H

#include <stddef.h>
#include <stdint.h>

struct partition {
    unsigned number; /* as in DISK@pN */
    uint64_t offset; /* bytes from the start of the disk image */
    uint64_t length; /* bytes */
    char scheme[4];  /* "MBR" or "GPT" */
};

#include <stdbool.h>

/* The disk image: read(ctx, buf, len, off) fills buf with len bytes at off, false when it cannot. */
struct partition_disk {
    bool (*read)(void *ctx, void *buf, size_t len, uint64_t off);
    void *ctx;
    uint64_t size; /* bytes */
};

/* Finds partition number n.  Returns 0, or -1 with the reason in why (no table, no such partition, a
 * table that is damaged or points outside the image). */
int partition_find(const struct partition_disk *disk, unsigned n, struct partition *out, char *why, size_t why_len);
/* Lists the partitions (at most max, in number order): the count, or -1 with the reason in why. */
int partition_list(const struct partition_disk *disk, struct partition *out, size_t max, char *why, size_t why_len);

#endif
