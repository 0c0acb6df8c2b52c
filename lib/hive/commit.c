/* commit.c: writing the changes atomically: temporary file in the same directory, fsync, rename, fsync
 * of the directory.  A crash at any instant leaves the old file or the new one, never a mix. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hivecheck.h"
#include "hive.h"
#include "pageset.h"
#include "txlog.h"

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

/* Removes the temporary files that commits of this hive left when they were killed ("DIR/.NAME.hiveport-"
 * and the six letters of mkstemp).  Only a writer holding the hive's lock calls it, and every commit of the
 * hive holds that lock while its temporary file exists, so whatever matches is stale. */
static void remove_stale_temps(const hiveport *h, const char *dir)
{
    const char *slash = strrchr(h->path, '/');
    const char *base = slash ? slash + 1 : h->path;
    size_t base_len = strlen(base), suffix_len = strlen(".hiveport-");
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *n = e->d_name;
        if (n[0] != '.' || strncmp(n + 1, base, base_len) != 0 ||
            strncmp(n + 1 + base_len, ".hiveport-", suffix_len) != 0 || strlen(n + 1 + base_len + suffix_len) != 6)
            continue;
        size_t len = strlen(dir) + 1 + strlen(n) + 1;
        char *stale = hp_malloc(len);
        if (stale == NULL)
            break;
        snprintf(stale, len, "%s/%s", dir, n);
        unlink(stale);
        hp_free(stale);
    }
    closedir(d);
}

/* Copies the open file src_fd into a new file at dest (atomically, through a temporary name). */
static int copy_file(hiveport *h, int src_fd, const char *dest)
{
    char *tmp = temp_template(dest);
    if (tmp == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    int rc = HIVEPORT_OK;
    int out = mkstemp(tmp);
    if (out < 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create a backup next to %s: %s", hp_name(h), dest,
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
            rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot write the backup %s: %s", hp_name(h), dest,
                          strerror(errno ? errno : EIO));
            break;
        }
        off += got;
    }
    if (rc == HIVEPORT_OK && fsync(out) != 0)
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot sync the backup %s: %s", hp_name(h), dest, strerror(errno));
    close(out);
    if (rc == HIVEPORT_OK && rename(tmp, dest) != 0)
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create the backup %s: %s", hp_name(h), dest,
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
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    /* mkstemp reserves a unique name; link() needs it free, so drop the file and link in its place. */
    int fd = mkstemp(tmp);
    int rc = HIVEPORT_OK;
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    if (fd >= 0 && link(h->path, tmp) == 0) {
        if (rename(tmp, backup_path) != 0)
            rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create the backup %s: %s", hp_name(h), backup_path,
                          strerror(errno));
        /* rename() does nothing when backup_path is already a link to the hive (a commit retried after a
         * failure): the temporary link would stay behind. */
        unlink(tmp);
    } else {
        rc = copy_file(h, h->lock_fd, backup_path);
    }
    hp_free(tmp);
    return rc;
}

/* Rereads the sequence numbers of the new file's header. */
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

/* Copies the hive as loaded (the locked file, or the image recovered from its logs) into out. */
static int copy_current(hiveport *h, int out, const char *tmp)
{
    off_t in_off = 0, out_off = 0;
    for (;;) {
        ssize_t n = copy_file_range(hp_file_fd(h), &in_off, out, &out_off, 1 << 30, 0);
        if (n == 0)
            return HIVEPORT_OK;
        if (n < 0)
            break;
    }
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot copy into %s: %s", hp_name(h), tmp, strerror(errno));
    /* No in-kernel copy between these files: do it by hand from where it stopped. */
    char buf[1 << 16];
    for (;;) {
        ssize_t got = pread(hp_file_fd(h), buf, sizeof buf, in_off);
        if (got == 0)
            return HIVEPORT_OK;
        if (got < 0 || pwrite(out, buf, (size_t)got, out_off) != got)
            return hp_error(h, HIVEPORT_E_IO, "%s: cannot copy into %s: %s", hp_name(h), tmp,
                            strerror(errno ? errno : EIO));
        in_off += got;
        out_off += got;
    }
}

static bool patch_is_effective(hiveport *h, const struct hp_patch *p)
{
    unsigned char now[sizeof p->data], size[4];
    unsigned char want[4] = {(unsigned char)p->size_field, (unsigned char)(p->size_field >> 8),
                             (unsigned char)(p->size_field >> 16), (unsigned char)(p->size_field >> 24)};
    int fd = hp_file_fd(h);
    return pread(fd, now, p->len, (off_t)p->data_off) != (ssize_t)p->len ||
           memcmp(now, p->data, p->len) != 0 || pread(fd, size, 4, (off_t)p->size_off) != 4 ||
           memcmp(size, want, 4) != 0;
}

/* The in-place write: the current file with the value bytes patched.  *wrote is false when every patch
 * is already in the file (nothing to commit). */
static int write_patched(hiveport *h, int fd, const char *tmp, uint64_t filetime, bool *wrote)
{
    *wrote = false;
    hive_node_h *keys = hp_calloc(h->npatches, sizeof *keys);
    if (keys == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    size_t nkeys = 0;
    int rc = HIVEPORT_OK;
    for (size_t i = 0; i < h->npatches; i++) {
        if (!patch_is_effective(h, &h->patches[i]))
            continue;
        bool seen = false;
        for (size_t j = 0; j < nkeys; j++)
            seen = seen || keys[j] == h->patches[i].key;
        if (!seen)
            keys[nkeys++] = h->patches[i].key;
    }
    if (nkeys > 0 && (rc = copy_current(h, fd, tmp)) == HIVEPORT_OK) {
        for (size_t i = 0; i < h->npatches && rc == HIVEPORT_OK; i++) {
            const struct hp_patch *p = &h->patches[i];
            unsigned char size[4] = {(unsigned char)p->size_field, (unsigned char)(p->size_field >> 8),
                                     (unsigned char)(p->size_field >> 16), (unsigned char)(p->size_field >> 24)};
            if (pwrite(fd, p->data, p->len, (off_t)p->data_off) != (ssize_t)p->len ||
                pwrite(fd, size, 4, (off_t)p->size_off) != 4)
                rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot write %s: %s", hp_name(h), tmp,
                              strerror(errno ? errno : EIO));
        }
        if (rc == HIVEPORT_OK)
            rc = hp_stamp_file(h, fd, keys, nkeys, true, filetime);
        *wrote = rc == HIVEPORT_OK;
    }
    hp_free(keys);
    return rc;
}

/* The native write: the edited copy of the hive, whole, with the new base block of its page set. */
static int write_edited(hiveport *h, int fd, const char *tmp, const struct hp_page_set *ps)
{
    const uint64_t head = HP_REGF_HEADER_SIZE, end = h->edit->end;
    /* After the hive bins, the file's bytes as they were (the mapping holds them). */
    bool ok = hp_pwrite_all(fd, ps->base_block, head, 0) == 0 &&
              hp_pwrite_all(fd, h->edit->data + head, (size_t)(end - head), head) == 0 &&
              (ps->new_len <= end ||
               hp_pwrite_all(fd, (const unsigned char *)h->mapping + end, (size_t)(ps->new_len - end), end) == 0);
    if (!ok)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot write %s: %s", hp_name(h), tmp, strerror(errno));
    return HIVEPORT_OK;
}

/* Makes the written temporary file the hive: mode, owner, fsync, lock, backup, rename, directory fsync. */
static int publish(hiveport *h, char **tmp, int *fd, const char *dir, const struct stat *orig,
                   const char *backup_path)
{
    if (fchmod(*fd, orig->st_mode & 07777) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot set the mode of %s: %s", hp_name(h), *tmp, strerror(errno));
    if (fchown(*fd, orig->st_uid, orig->st_gid) != 0 && errno != EPERM)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot set the owner of %s: %s", hp_name(h), *tmp, strerror(errno));
    if (fsync(*fd) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot sync %s: %s", hp_name(h), *tmp, strerror(errno));
    /* Lock the new file before its name goes public, so that no other writer slips in between. */
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot lock %s: %s", hp_name(h), *tmp, strerror(errno));
    int rc;
    if (backup_path != NULL && (rc = make_backup(h, backup_path)) != HIVEPORT_OK)
        return rc;
    if (rename(*tmp, h->path) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot replace the file: %s", hp_name(h), strerror(errno));
    hp_free(*tmp);
    *tmp = NULL; /* renamed: no longer ours to remove */
    rc = HIVEPORT_OK;
    if (hp_fsync_dir(dir) != 0)
        rc = hp_error(h, HIVEPORT_E_IO, "%s: the new hive is in place but syncing %s failed: %s", hp_name(h), dir,
                      strerror(errno));
    hp_lock_release(h);
    h->lock_fd = *fd;
    *fd = -1;
    if (h->replay_fd >= 0) { /* the new file holds the recovered hive now */
        close(h->replay_fd);
        h->replay_fd = -1;
    }
    struct stat now;
    if (fstat(h->lock_fd, &now) == 0) {
        h->dev = now.st_dev;
        h->ino = now.st_ino;
    }
    refresh_sequence(h, h->lock_fd);
    h->changed = false;
    return rc;
}

/* true when path names the directory entry of the hive itself (the same name in the same directory),
 * as opposed to another link to the same file, which a retried commit leaves as its backup. */
static bool names_the_hive(const hiveport *h, const char *path)
{
    const char *a = strrchr(h->path, '/'), *b = strrchr(path, '/');
    if (strcmp(a ? a + 1 : h->path, b ? b + 1 : path) != 0)
        return false;
    char *da = hp_dir_of(h->path), *db = hp_dir_of(path);
    struct stat sa, sb;
    bool same = da != NULL && db != NULL && stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev &&
                sa.st_ino == sb.st_ino;
    hp_free(da);
    hp_free(db);
    return same;
}

static const char *log_format_name(int format)
{
    return format == HP_TXLOG_FORMAT_NEW ? "new format, Windows 8.1+" : "old format, Vista/7";
}

/* Why the copy commit must be used whatever the logs (NULL: the logged commit may be tried). */
static const char *copy_needed(const hiveport *h, const char *backup_path, const struct stat *orig)
{
    if (h->flags & HIVEPORT_OPEN_COMMIT_COPY)
        return "the copy commit was asked for";
    if (backup_path != NULL)
        return "a backup was asked for";
    if (orig->st_nlink > 1)
        return "the file has several hard links, which the commit breaks";
    if (h->replay_fd >= 0)
        return "the hive was recovered from its logs, and the recovered hive is written whole";
    if (h->seq_primary != h->seq_secondary)
        return "the hive is dirty (its logs were not replayed)";
    return NULL;
}

/* The logged commit (commit_log.c) when it applies: *logged true when it ran (rc its status).  With
 * HIVEPORT_OPEN_COMMIT_LOG it must apply, else the commit is refused; otherwise the copy commit follows
 * and commit_report says why. */
static int try_logged(hiveport *h, const char *backup_path, const struct stat *orig, uint64_t filetime,
                      bool *logged)
{
    *logged = false;
    const char *why = copy_needed(h, backup_path, orig);
    struct hp_log_plan plan = {0};
    int rc = HIVEPORT_OK;
    if (why == NULL) {
        if ((rc = hp_log_plan(h, &plan)) != HIVEPORT_OK)
            return rc;
        if (plan.path == NULL)
            why = plan.why;
    }
    if (why != NULL) {
        snprintf(h->commit_report, sizeof h->commit_report, "copy commit (temporary file, rename): %s", why);
        if (h->flags & HIVEPORT_OPEN_COMMIT_LOG)
            rc = hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: a logged commit was asked for, but %s; nothing was written",
                          hp_name(h), why);
        hp_log_plan_free(&plan);
        *logged = rc != HIVEPORT_OK;
        return rc;
    }
    struct hp_page_set ps;
    *logged = true;
    bool locked = false;
    if ((rc = hp_pages_collect(h, filetime, &ps)) == HIVEPORT_OK && ps.n > 0) {
        /* Readers of the file must not see half a commit: wait for them with --commit log; otherwise a
         * copy (renamed over the hive) leaves them the old file and need not wait. */
        bool must_log = (h->flags & HIVEPORT_OPEN_COMMIT_LOG) != 0;
        rc = hp_inplace_lock(h, must_log ? h->lock_timeout_ms : 0);
        locked = rc == HIVEPORT_OK;
        if (rc == HIVEPORT_E_LOCKED && !must_log) {
            hp_clear_error(h);
            rc = HIVEPORT_OK;
            *logged = false;
            snprintf(h->commit_report, sizeof h->commit_report,
                     "copy commit (temporary file, rename): readers hold the hive open, and a copy leaves them "
                     "the old file");
        }
    }
    if (rc == HIVEPORT_OK && *logged) {
        if (ps.n == 0) {
            h->changed = false; /* every edit already matches the file */
        } else if ((rc = hp_commit_logged(h, &plan, &ps)) == HIVEPORT_OK) {
            h->changed = false;
            h->commit_method = HIVEPORT_COMMIT_LOG;
            char grew[96] = "";
            if (ps.new_len > (uint64_t)orig->st_size)
                snprintf(grew, sizeof grew, "; the file grew from %llu to %llu bytes",
                         (unsigned long long)orig->st_size, (unsigned long long)ps.new_len);
            char log[512];
            snprintf(h->commit_report, sizeof h->commit_report,
                     "logged commit: %zu page%s through %s (%s, entry %u), then in place%s", ps.n,
                     ps.n == 1 ? "" : "s", hp_log_name(h, plan.path, log, sizeof log), log_format_name(plan.format),
                     h->seq_primary, grew);
        }
        if (rc == HIVEPORT_OK && ps.native) {
            /* The file holds the edited copy now: the copy's base block is the file's, nothing is dirty
             * (as after the copy commit's publish). */
            memcpy(h->edit->data, ps.base_block, HP_REGF_HEADER_SIZE);
            hp_regf_edit_clean(h->edit, true);
            hp_touched_clear(h);
        }
    }
    if (locked)
        hp_inplace_unlock(h);
    hp_pages_free(&ps);
    hp_log_plan_free(&plan);
    return rc;
}

HIVEPORT_API int hiveport_commit_method(const hiveport *h, const char **report)
{
    if (report != NULL)
        *report = h != NULL ? h->commit_report : "";
    if (!hp_handle_usable(h))
        return -1;
    return h->commit_method;
}

HIVEPORT_API int hiveport_commit(hiveport *h, const char *backup_path)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (!(h->flags & HIVEPORT_OPEN_WRITE))
        return hp_error(h, HIVEPORT_E_READONLY, "%s: the hive was opened read-only", hp_name(h));
    if (h->broken)
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: an earlier change failed half-way; nothing was written (discard the changes)",
                        hp_name(h));
    if (!h->changed)
        return HIVEPORT_OK; /* nothing to do: the file keeps its bytes and its mtime */
    if (backup_path != NULL && names_the_hive(h, backup_path))
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: the backup path %s names the hive itself; the new hive would replace the backup",
                        hp_name(h), backup_path);

    struct stat orig;
    uint64_t filetime;
    if (fstat(h->lock_fd, &orig) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat: %s", hp_name(h), strerror(errno));
    int rc = hp_write_time(h, &filetime);
    if (rc != HIVEPORT_OK)
        return rc;
    bool logged = false;
    if ((rc = try_logged(h, backup_path, &orig, filetime, &logged)) != HIVEPORT_OK || logged)
        return rc;
    char *tmp = temp_template(h->path);
    char *dir = hp_dir_of(h->path);
    int fd = -1;
    if (tmp == NULL || dir == NULL) {
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        goto out;
    }
    remove_stale_temps(h, dir);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = hp_error(h, errno == EROFS || errno == EACCES ? HIVEPORT_E_READONLY : HIVEPORT_E_IO,
                      "%s: cannot create a temporary file in %s: %s", hp_name(h), dir, strerror(errno));
        goto out;
    }
    if (hp_edit_active(h)) {
        struct hp_page_set ps;
        if ((rc = hp_pages_collect(h, filetime, &ps)) != HIVEPORT_OK)
            goto out;
        if ((rc = write_edited(h, fd, tmp, &ps)) == HIVEPORT_OK &&
            (rc = hp_check_before_commit(h, fd, tmp)) == HIVEPORT_OK)
            rc = publish(h, &tmp, &fd, dir, &orig, backup_path);
        if (tmp == NULL) { /* published: the copy is the file now */
            memcpy(h->edit->data, ps.base_block, HP_REGF_HEADER_SIZE);
            hp_regf_edit_clean(h->edit, false);
            hp_touched_clear(h);
            h->commit_method = HIVEPORT_COMMIT_COPY;
        }
        hp_pages_free(&ps);
    } else {
        bool wrote;
        if ((rc = write_patched(h, fd, tmp, filetime, &wrote)) != HIVEPORT_OK)
            goto out;
        if (!wrote) {
            h->changed = false; /* every edit already matches the file */
            goto out;
        }
        if ((rc = hp_check_patched(h, fd, tmp)) != HIVEPORT_OK)
            goto out;
        rc = publish(h, &tmp, &fd, dir, &orig, backup_path);
        if (tmp == NULL)
            h->commit_method = HIVEPORT_COMMIT_COPY;
    }
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

HIVEPORT_API int hiveport_save_copy(hiveport *h, const char *dest)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (dest == NULL || *dest == '\0')
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: no destination given", hp_name(h));
    if (h->changed || h->broken)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: commit or discard the changes before saving a copy",
                        hp_name(h));
    if (h->seq_primary != h->seq_secondary && h->log_state != HIVEPORT_LOGS_REPLAYED && h->replay_fd < 0 &&
        h->lock_fd < 0)
        return hp_error(h, HIVEPORT_E_DIRTY, "%s: the hive is dirty and %s; a copy would be as stale", hp_name(h),
                        h->log_report);
    struct stat st;
    if (lstat(dest, &st) == 0 || errno != ENOENT)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: will not write %s: it already exists", hp_name(h), dest);
    char *tmp = temp_template(dest);
    if (tmp == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    int rc = HIVEPORT_OK, fd = mkstemp(tmp);
    if (fd < 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create a file next to %s: %s", hp_name(h), dest, strerror(errno));
    } else if ((rc = copy_current(h, fd, tmp)) == HIVEPORT_OK) {
        /* The patches of earlier in-place commits are in the file already; apply them to a recovered image. */
        for (size_t i = 0; rc == HIVEPORT_OK && i < h->npatches; i++) {
            const struct hp_patch *p = &h->patches[i];
            unsigned char size[4] = {(unsigned char)p->size_field, (unsigned char)(p->size_field >> 8),
                                     (unsigned char)(p->size_field >> 16), (unsigned char)(p->size_field >> 24)};
            if (pwrite(fd, p->data, p->len, (off_t)p->data_off) != (ssize_t)p->len ||
                pwrite(fd, size, 4, (off_t)p->size_off) != 4)
                rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot write %s: %s", hp_name(h), tmp, strerror(errno ? errno : EIO));
        }
        /* The copy gets the mode of the hive file (not of a replayed image), as a commit keeps it; mkstemp
         * made it 0600. */
        struct stat src;
        int file_fd = h->lock_fd >= 0 ? h->lock_fd : h->read_fd;
        if (rc == HIVEPORT_OK && (fstat(file_fd, &src) != 0 || fchmod(fd, src.st_mode & 07777) != 0))
            rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot give %s the mode of the hive: %s", hp_name(h), tmp,
                          strerror(errno));
        if (rc == HIVEPORT_OK)
            rc = hp_check_before_commit(h, fd, tmp);
        if (rc == HIVEPORT_OK && fsync(fd) != 0)
            rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot sync %s: %s", hp_name(h), tmp, strerror(errno));
        /* link() refuses an existing name: a file that appeared meanwhile is not overwritten either. */
        if (rc == HIVEPORT_OK && link(tmp, dest) != 0)
            rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot create %s: %s", hp_name(h), dest, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    char *dir = rc == HIVEPORT_OK ? hp_dir_of(dest) : NULL;
    if (dir != NULL) {
        hp_fsync_dir(dir);
        hp_free(dir);
    }
    hp_free(tmp);
    return rc;
}
