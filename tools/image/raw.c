/* raw.c: a raw disk or volume image, read and written in place with pread and pwrite. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"

struct raw_disk {
    struct disk disk; /* first: the backend's struct disk * is this */
    int fd;
};

/* Moves all len bytes, again after EINTR and short transfers; a file that ends early is EIO.  buf is only
 * written to when reading. */
static int transfer(int fd, char *buf, size_t len, uint64_t off, bool write)
{
    for (size_t done = 0; done < len;) {
        off_t at = (off_t)(off + done);
        ssize_t n = write ? pwrite(fd, buf + done, len - done, at) : pread(fd, buf + done, len - done, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

static int raw_pread(struct disk *d, void *buf, size_t len, uint64_t off)
{
    return transfer(((struct raw_disk *)d)->fd, buf, len, off, false);
}

static int raw_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off)
{
    return transfer(((struct raw_disk *)d)->fd, (char *)buf, len, off, true);
}

static int raw_flush(struct disk *d)
{
    return d->writable ? fsync(((struct raw_disk *)d)->fd) : 0;
}

static int raw_close(struct disk *d, char *why, size_t why_len)
{
    struct raw_disk *r = (struct raw_disk *)d;
    int rc = raw_flush(d);
    if (rc != 0)
        snprintf(why, why_len, "cannot sync the image: %s", strerror(errno));
    if (close(r->fd) != 0 && rc == 0) {
        snprintf(why, why_len, "cannot close the image: %s", strerror(errno));
        rc = -1;
    }
    free(r);
    return rc;
}

struct disk *disk_raw_open(const struct image *im, const char *file, bool write)
{
    struct raw_disk *r = calloc(1, sizeof *r);
    if (!r) {
        cli_error(im->prog, "out of memory");
        return NULL;
    }
    struct stat st;
    r->fd = open(file, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (r->fd < 0 || fstat(r->fd, &st) != 0) {
        cli_error(im->prog, "%s: cannot open the image%s: %s", file, write ? " for writing" : "", strerror(errno));
        if (r->fd >= 0)
            close(r->fd);
        free(r);
        return NULL;
    }
    r->disk = (struct disk){(uint64_t)st.st_size, write, raw_pread, raw_pwrite, raw_flush, raw_close};
    return &r->disk;
}
