/* fileutil.c: small file-system helpers shared by the lock, the edit copy and the commit. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base.h"

char *hp_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return hp_strdup(".");
    if (slash == path)
        return hp_strdup("/");
    size_t n = (size_t)(slash - path);
    char *dir = hp_malloc(n + 1);
    if (dir != NULL) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

int hp_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    /* Some file systems cannot fsync a directory; the rename is then as durable as they allow. */
    if (rc != 0 && (errno == EINVAL || errno == ENOTSUP))
        rc = 0;
    return rc;
}

void *hp_map_file_private(int fd, size_t file_len, size_t total)
{
    if (file_len > total) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    void *room = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (room == MAP_FAILED || file_len == 0)
        return room;
    if (mmap(room, file_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
        int saved = errno;
        munmap(room, total);
        errno = saved;
        return MAP_FAILED;
    }
    return room;
}

int hp_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            off += (uint64_t)n;
        } else if (n == 0 || errno != EINTR) {
            errno = n == 0 ? EIO : errno;
            return -1;
        }
    }
    return 0;
}
