/* ntfs_window.h: a libntfs-3g device that is a byte range of a file: the partition of a whole-disk image
 * (--ntfs DISK@OFFSET, DISK@pN), or the whole file for a partition image.  Only with HIVEPORT_HAVE_NTFS. */
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

struct ntfs_window {
    uint64_t offset; /* where the volume starts in the file */
    uint64_t length; /* its size in bytes */
    int fd;          /* while the device is open */
    s64 pos;         /* where the unpositioned read and write calls are */
};

/* Give to ntfs_device_alloc() with a struct ntfs_window as its private data and the file's path as its
 * name.  Reads and writes outside [0, length) of the window are refused (EINVAL past the end, ENOSPC). */
extern struct ntfs_device_operations ntfs_window_ops;

#endif
