/* ntfs_window.h: a libntfs-3g device that is a byte range of a disk (image.h: a raw file, an NBD export,
 * an E01): the partition of a whole-disk image (DISK@OFFSET, DISK@pN), or the whole disk for a partition
 * image.  Only with HIVEPORT_HAVE_NTFS. */
#ifndef HIVEPORT_NTFS_WINDOW_H
#define HIVEPORT_NTFS_WINDOW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/device.h>

struct disk;

struct ntfs_window {
    struct disk *disk; /* open for the device's lifetime: opening the device does not open it */
    uint64_t offset;   /* where the volume starts on the disk */
    uint64_t length;   /* its size in bytes */
    s64 pos;           /* where the unpositioned read and write calls are */
};

/* Give to ntfs_device_alloc() with a struct ntfs_window as its private data and the file's path as its
 * name.  Reads and writes outside [0, length) of the window are refused (EINVAL past the end, ENOSPC);
 * opening for writing a disk that is not writable fails with EROFS. */
extern struct ntfs_device_operations ntfs_window_ops;

#endif
