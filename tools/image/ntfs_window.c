/* ntfs_window.c: see ntfs_window.h.  libntfs-3g calls these the way it calls its own unix_io operations:
 * open with O_RDONLY or O_RDWR (plus O_EXCL when mounting exclusively), positioned and unpositioned I/O,
 * sync, close; the d_state bits (open, read-only, dirty) are ours to keep.  The disk stays open across
 * them: its owner (disk.c) opens and closes it. */
#ifdef HIVEPORT_HAVE_NTFS
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <string.h>

#include "image.h"
#include "ntfs_window.h"

static struct ntfs_window *window_of(struct ntfs_device *dev)
{
    return dev->d_private;
}

static int window_open(struct ntfs_device *dev, int flags)
{
    struct ntfs_window *w = window_of(dev);
    if (NDevOpen(dev)) {
        errno = EBUSY;
        return -1;
    }
    int mode = flags & O_ACCMODE;
    if (mode != O_RDONLY && !w->disk->writable) {
        errno = EROFS;
        return -1;
    }
    if (mode == O_RDONLY)
        NDevSetReadOnly(dev);
    else
        NDevClearReadOnly(dev);
    w->pos = 0;
    NDevSetOpen(dev);
    return 0;
}

static int window_close(struct ntfs_device *dev)
{
    struct ntfs_window *w = window_of(dev);
    if (!NDevOpen(dev)) {
        errno = EBADF;
        return -1;
    }
    int rc = NDevDirty(dev) ? w->disk->flush(w->disk) : 0;
    NDevClearDirty(dev);
    NDevClearOpen(dev);
    return rc;
}

static s64 window_seek(struct ntfs_device *dev, s64 offset, int whence)
{
    struct ntfs_window *w = window_of(dev);
    s64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? w->pos : whence == SEEK_END ? (s64)w->length : -1;
    if (base < 0 || offset < -base) {
        errno = EINVAL;
        return -1;
    }
    return w->pos = base + offset;
}

/* count limited to the window; -1 (EINVAL) for a negative position. */
static s64 clamp(const struct ntfs_window *w, s64 count, s64 pos)
{
    if (pos < 0 || count < 0) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)pos >= w->length)
        return 0;
    return (uint64_t)count > w->length - (uint64_t)pos ? (s64)(w->length - (uint64_t)pos) : count;
}

static s64 window_pread(struct ntfs_device *dev, void *buf, s64 count, s64 pos)
{
    struct ntfs_window *w = window_of(dev);
    s64 want = clamp(w, count, pos);
    if (want > 0 && w->disk->pread(w->disk, buf, (size_t)want, w->offset + (uint64_t)pos) != 0)
        return -1;
    return want;
}

static s64 window_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 pos)
{
    struct ntfs_window *w = window_of(dev);
    if (NDevReadOnly(dev)) {
        errno = EROFS;
        return -1;
    }
    s64 want = clamp(w, count, pos);
    if (want == 0 && count > 0) {
        errno = ENOSPC; /* past the end of the partition */
        return -1;
    }
    NDevSetDirty(dev);
    if (want > 0 && w->disk->pwrite(w->disk, buf, (size_t)want, w->offset + (uint64_t)pos) != 0)
        return -1;
    return want;
}

static s64 window_read(struct ntfs_device *dev, void *buf, s64 count)
{
    s64 n = window_pread(dev, buf, count, window_of(dev)->pos);
    if (n > 0)
        window_of(dev)->pos += n;
    return n;
}

static s64 window_write(struct ntfs_device *dev, const void *buf, s64 count)
{
    s64 n = window_pwrite(dev, buf, count, window_of(dev)->pos);
    if (n > 0)
        window_of(dev)->pos += n;
    return n;
}

static int window_sync(struct ntfs_device *dev)
{
    if (!NDevReadOnly(dev) && window_of(dev)->disk->flush(window_of(dev)->disk) != 0)
        return -1;
    NDevClearDirty(dev);
    return 0;
}

static int window_stat(struct ntfs_device *dev, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | 0600;
    st->st_size = (off_t)window_of(dev)->length;
    return 0;
}

static int window_ioctl(struct ntfs_device *dev, unsigned long request, void *argp)
{
    (void)dev;
    (void)request;
    (void)argp;
    errno = ENOTTY; /* not a block device: libntfs-3g falls back to stat and reads */
    return -1;
}

struct ntfs_device_operations ntfs_window_ops = {
    .open = window_open,
    .close = window_close,
    .seek = window_seek,
    .read = window_read,
    .write = window_write,
    .pread = window_pread,
    .pwrite = window_pwrite,
    .sync = window_sync,
    .stat = window_stat,
    .ioctl = window_ioctl,
};
#endif
