/* lock.c: the exclusive writer lock (flock on the hive file itself), held from open to close; and the
 * in-place lock between readers and a logged commit (open file description locks, fcntl F_OFD_*, which
 * Linux keeps apart from flock): a reader of a plain file holds a shared one from open to close, a logged
 * commit an exclusive one while it writes the hive in place, so that no reader sees half a commit.
 *
 * A commit renames a new file over the hive, so a writer that waited on the old inode must notice that the
 * path now names another file and lock that one instead; the committing writer locks the new inode before
 * the rename (see commit.c), so ownership never lapses. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hive.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Everything that makes a path unfit for writing, checked before any lock is taken. */
static int check_writable_path(hiveport *h)
{
    struct stat st;
    if (lstat(h->path, &st) != 0)
        return hp_error(h, errno == ENOENT ? HIVEPORT_E_IO : hp_status_from_errno(errno),
                        "%s: cannot open: %s", hp_name(h), strerror(errno));
    if (S_ISLNK(st.st_mode))
        return hp_error(h, HIVEPORT_E_NOT_REGULAR,
                        "%s: is a symbolic link; writing would replace the link with a file, so give the "
                        "path of its target",
                        hp_name(h));
    if (S_ISDIR(st.st_mode))
        return hp_error(h, HIVEPORT_E_NOT_REGULAR, "%s: is a directory, not a hive file", hp_name(h));
    if (!S_ISREG(st.st_mode))
        return hp_error(h, HIVEPORT_E_NOT_REGULAR, "%s: is not a regular file (a device, FIFO or socket)",
                        hp_name(h));
    /* A commit renames a new file over the path: other names of the same file would silently keep the
     * old hive.  Only on request. */
    if (st.st_nlink > 1 && !(h->flags & HIVEPORT_OPEN_BREAK_LINKS))
        return hp_error(h, HIVEPORT_E_NOT_REGULAR,
                        "%s: the file has %lu hard links; a write replaces the file, so the other %lu would keep "
                        "the old hive (allow it with --break-links, HIVEPORT_OPEN_BREAK_LINKS)",
                        hp_name(h), (unsigned long)st.st_nlink, (unsigned long)st.st_nlink - 1);
    if ((st.st_mode & 0222) == 0)
        return hp_error(h, HIVEPORT_E_READONLY, "%s: the file is read-only (mode %04o)", hp_name(h),
                        (unsigned)(st.st_mode & 07777));
    char *dir = hp_dir_of(h->path);
    if (dir == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    int rc = HIVEPORT_OK;
    if (access(dir, W_OK | X_OK) != 0)
        rc = hp_error(h, errno == EROFS || errno == EACCES ? HIVEPORT_E_READONLY : HIVEPORT_E_IO,
                      "%s: its directory %s is not writable (%s); a commit needs to create a "
                      "temporary file there",
                      hp_name(h), dir, strerror(errno));
    hp_free(dir);
    return rc;
}

static int open_for_lock(hiveport *h, int *fd_out)
{
    int fd = open(h->path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        int status = (err == EACCES || err == EPERM || err == EROFS || err == ETXTBSY)
                         ? HIVEPORT_E_READONLY
                         : (err == ELOOP ? HIVEPORT_E_NOT_REGULAR : HIVEPORT_E_IO);
        return hp_error(h, status, "%s: cannot open for writing: %s", hp_name(h), strerror(err));
    }
    *fd_out = fd;
    return HIVEPORT_OK;
}

int hp_lock_acquire(hiveport *h, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    long pause_ms = 5;

    for (;;) {
        int rc = check_writable_path(h);
        if (rc != HIVEPORT_OK)
            return rc;
        int fd = -1;
        if ((rc = open_for_lock(h, &fd)) != HIVEPORT_OK)
            return rc;
        while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EINTR)
                continue;
            if (errno != EWOULDBLOCK) {
                int err = errno;
                close(fd);
                return hp_error(h, HIVEPORT_E_IO, "%s: cannot lock: %s", hp_name(h), strerror(err));
            }
            if (now_ms() >= deadline) {
                close(fd);
                return hp_error(h, HIVEPORT_E_LOCKED,
                                "%s: locked by another writer (waited %d ms); try again later or raise "
                                "the lock timeout",
                                hp_name(h), timeout_ms);
            }
            sleep_ms(pause_ms);
            if (pause_ms < 50)
                pause_ms *= 2;
        }
        /* Locked. If a commit replaced the file meanwhile, this lock guards a dead inode: start over. */
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(h->path, &named) == 0 && held.st_dev == named.st_dev &&
            held.st_ino == named.st_ino) {
            h->lock_fd = fd;
            h->dev = held.st_dev;
            h->ino = held.st_ino;
            return HIVEPORT_OK;
        }
        close(fd);
    }
}

void hp_lock_release(hiveport *h)
{
    if (h->lock_fd >= 0) {
        close(h->lock_fd); /* closing the last descriptor drops the flock */
        h->lock_fd = -1;
    }
}

/* An F_OFD_SETLK on the whole file; 0, or -1 with errno (EAGAIN/EACCES when someone else holds it). */
static int ofd_lock(int fd, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Waits up to timeout_ms (<0 forever) for the lock; 0, 1 on time-out, -1 with errno on another error. */
static int ofd_lock_wait(int fd, short type, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    long pause_ms = 1;
    while (ofd_lock(fd, type) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EACCES)
            return -1;
        if (now_ms() >= deadline)
            return 1;
        sleep_ms(pause_ms);
        if (pause_ms < 20)
            pause_ms *= 2;
    }
    return 0;
}

int hp_read_lock(hiveport *h, int fd, int timeout_ms)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return HIVEPORT_OK; /* not a plain file: nothing commits it in place */
    int rc = ofd_lock_wait(fd, F_RDLCK, timeout_ms);
    if (rc == 1)
        return hp_error(h, HIVEPORT_E_LOCKED,
                        "%s: a writer is committing it in place (waited %d ms); try again later or raise the "
                        "lock timeout",
                        hp_name(h), timeout_ms);
    /* Locks refused (a file system without them): read all the same. */
    return HIVEPORT_OK;
}

int hp_inplace_lock(hiveport *h, int timeout_ms)
{
    int rc = ofd_lock_wait(h->lock_fd, F_WRLCK, timeout_ms);
    if (rc == 1)
        return hp_error(h, HIVEPORT_E_LOCKED,
                        "%s: readers hold the hive open (waited %d ms for them to finish before writing it in "
                        "place)",
                        hp_name(h), timeout_ms);
    if (rc < 0 && errno != ENOLCK && errno != EINVAL && errno != EOPNOTSUPP)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot lock it for writing in place: %s", hp_name(h), strerror(errno));
    return HIVEPORT_OK;
}

void hp_inplace_unlock(hiveport *h)
{
    if (h->lock_fd >= 0)
        ofd_lock(h->lock_fd, F_UNLCK);
}
