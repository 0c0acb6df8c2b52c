/* commit.c: writing the changes atomically: temporary file in the same directory, fsync, rename, fsync
 * of the directory.  A crash at any instant leaves the old file or the new one, never a mix. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* "DIR/.NAME.hiveport-XXXXXX" next to path. */
static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dir_len;
    size_t n = dir_len + 1 + strlen(base) + sizeof ".hiveport-XXXXXX";
    char *t = hp_malloc(n);
    if (t != NULL)
        snprintf(t, n, "%.*s.%s.hiveport-XXXXXX", (int)dir_len, path, base);
    return t;
}

/* Copies the open file src_fd into a new file at dest (atomically, through a temporary name). */
static int copy_file(hiveport *h, int src_fd, const char *dest)
{
    char *tmp = temp_template(dest);
    if (tmp == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", h->path);
    int rc = HIVEPORT_OK;
    int out = mkstemp(tmp);
    if (out < 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create a backup next to %s: %s", h->path, dest,
                      strerror(errno));
        hp_free(tmp);
        return rc;
    }
    char buf[65536];
    off_t off = 0;
    for (;;) {
        ssize_t got = pread(src_fd, buf, sizeof buf, off);
        if (got == 0)
            break;
        if (got < 0 || write(out, buf, (size_t)got) != got) {
            rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot write the backup %s: %s", h->path, dest,
                          strerror(errno ? errno : EIO));
            break;
        }
        off += got;
    }
    if (rc == HIVEPORT_OK && fsync(out) != 0)
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot sync the backup %s: %s", h->path, dest, strerror(errno));
    close(out);
    if (rc == HIVEPORT_OK && rename(tmp, dest) != 0)
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create the backup %s: %s", h->path, dest,
                      strerror(errno));
    if (rc != HIVEPORT_OK)
        unlink(tmp);
    hp_free(tmp);
    return rc;
}

/* Keeps the current file under backup_path: a hard link when the file system allows, else a copy. */
static int make_backup(hiveport *h, const char *backup_path)
{
    char *tmp = temp_template(backup_path);
    if (tmp == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", h->path);
    /* mkstemp reserves a unique name; link() needs it free, so drop the file and link in its place. */
    int fd = mkstemp(tmp);
    int rc = HIVEPORT_OK;
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    if (fd >= 0 && link(h->path, tmp) == 0) {
        if (rename(tmp, backup_path) != 0) {
            rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create the backup %s: %s", h->path, backup_path,
                          strerror(errno));
            unlink(tmp);
        }
    } else {
        rc = copy_file(h, h->lock_fd, backup_path);
    }
    hp_free(tmp);
    return rc;
}

/* Rereads the sequence numbers libhivex wrote into the new header. */
static void refresh_sequence(hiveport *h, int fd)
{
    unsigned char header[HP_REGF_HEADER_SIZE];
    struct hp_regf_header hdr;
    char why[128];
    struct stat st;
    if (fstat(fd, &st) == 0 && pread(fd, header, sizeof header, 0) == (ssize_t)sizeof header &&
        hp_regf_parse_header(header, sizeof header, (uint64_t)st.st_size, &hdr, why, sizeof why) == 0) {
        h->seq_primary = hdr.seq_primary;
        h->seq_secondary = hdr.seq_secondary;
    }
}

HIVEPORT_API int hiveport_commit(hiveport *h, const char *backup_path)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (!(h->flags & HIVEPORT_OPEN_WRITE))
        return hp_error(h, HIVEPORT_E_READONLY, "%s: the hive was opened read-only", h->path);
    if (h->broken)
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: an earlier change failed half-way; nothing was written (discard the changes)",
                        h->path);
    if (!h->changed)
        return HIVEPORT_OK; /* nothing to do: the file keeps its bytes and its mtime */

    struct stat orig;
    if (fstat(h->lock_fd, &orig) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat: %s", h->path, strerror(errno));
    char *tmp = temp_template(h->path);
    char *dir = hp_dir_of(h->path);
    int fd = -1, rc = HIVEPORT_OK;
    if (tmp == NULL || dir == NULL) {
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", h->path);
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = hp_error(h, errno == EROFS || errno == EACCES ? HIVEPORT_E_READONLY : HIVEPORT_E_IO,
                      "%s: cannot create a temporary file in %s: %s", h->path, dir, strerror(errno));
        goto out;
    }
    errno = 0;
    if (hivex_commit(h->hive, tmp, 0) != 0) {
        rc = hp_error(h, hp_status_from_errno(errno), "%s: cannot write the new hive to %s: %s", h->path, tmp,
                      strerror(errno ? errno : EIO));
        goto out;
    }
    if (fchmod(fd, orig.st_mode & 07777) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot set the mode of %s: %s", h->path, tmp, strerror(errno));
        goto out;
    }
    if (fchown(fd, orig.st_uid, orig.st_gid) != 0 && errno != EPERM) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot set the owner of %s: %s", h->path, tmp, strerror(errno));
        goto out;
    }
    if (fsync(fd) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot sync %s: %s", h->path, tmp, strerror(errno));
        goto out;
    }
    /* Lock the new file before its name goes public, so that no other writer slips in between. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot lock %s: %s", h->path, tmp, strerror(errno));
        goto out;
    }
    if (backup_path != NULL && (rc = make_backup(h, backup_path)) != HIVEPORT_OK)
        goto out;
    if (rename(tmp, h->path) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot replace the file: %s", h->path, strerror(errno));
        goto out;
    }
    hp_free(tmp);
    tmp = NULL; /* renamed: no longer ours to remove */
    if (hp_fsync_dir(dir) != 0)
        rc = hp_error(h, HIVEPORT_E_IO, "%s: the new hive is in place but syncing %s failed: %s", h->path,
                      dir, strerror(errno));
    hp_lock_release(h);
    h->lock_fd = fd;
    fd = -1;
    struct stat now;
    if (fstat(h->lock_fd, &now) == 0) {
        h->dev = now.st_dev;
        h->ino = now.st_ino;
    }
    refresh_sequence(h, h->lock_fd);
    h->changed = false;
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL) {
        unlink(tmp);
        hp_free(tmp);
    }
    hp_free(dir);
    return rc;
}
