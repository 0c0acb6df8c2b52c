/* partition.h: where a partition lies in a whole-disk image, from its MBR or GPT partition table, for
 * --ntfs DISK@pN.  Numbers follow Linux: MBR primary slots 1-4, logical partitions from 5 in the order of
 * their chain; GPT entries by their index in the table, plus one. */
#ifndef HIVEPORT_PARTITION_H
#define HIVEPORT_PARTITION_H

#include <stddef.h>
#include <stdint.h>

struct partition {
    uint64_t offset; /* bytes from the start of the disk image */
    uint64_t length; /* bytes */
    char scheme[4];  /* "MBR" or "GPT" */
};

/* Finds partition number n in the disk image open on fd (disk_size bytes).  Returns 0, or -1 with the
 * reason in why (no table, no such partition, a table that is damaged or points outside the image). */
int partition_find(int fd, uint64_t disk_size, unsigned n, struct partition *out, char *why, size_t why_len);

#endif
