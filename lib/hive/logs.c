/* logs.c: a dirty hive's transaction logs: finding them next to the hive, replaying them in memory into
 * a private memory file that the rest of the library then reads instead of the stale primary file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hive.h"
#include "txlog.h"

static const char *const log_suffixes[] = {".LOG1", ".LOG2", ".LOG"}; /* LOG1 first: it wins ties */

/* Finds NAME.LOG1, NAME.LOG2, NAME.LOG next to the hive, matching case-insensitively (images mounted from
 * NTFS keep Windows' case, e.g. SYSTEM.LOG1 next to system).  Fills paths (hp_malloc'd) in that order. */
int hp_logs_find(hiveport *h, char *paths[3])
{
    char *dir = hp_dir_of(h->path);
    if (dir == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    const char *slash = strrchr(h->path, '/');
    const char *base = slash ? slash + 1 : h->path;
    size_t base_len = strlen(base);
    int rc = HIVEPORT_OK;
    DIR *d = opendir(dir);
    for (struct dirent *e; d != NULL && rc == HIVEPORT_OK && (e = readdir(d)) != NULL;) {
        if (strncasecmp(e->d_name, base, base_len) != 0)
            continue;
        for (size_t i = 0; i < 3; i++) {
            if (paths[i] != NULL || strcasecmp(e->d_name + base_len, log_suffixes[i]) != 0)
                continue;
            size_t n = strlen(dir) + strlen(e->d_name) + 2;
            if ((paths[i] = hp_malloc(n)) == NULL)
                rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
            else /* name it as the hive was named: no "./" before a bare file name */
                snprintf(paths[i], n, "%s%s%s", slash ? dir : "", slash ? "/" : "", e->d_name);
        }
    }
    if (d != NULL)
        closedir(d);
    hp_free(dir);
    return rc;
}

/* The whole file open on fd, hp_malloc'd. */
static int read_fd_fully(hiveport *h, int fd, uint64_t size, unsigned char **out)
{
    if (size > HP_TXLOG_MAX_FILE)
        return hp_error(h, HIVEPORT_E_NOT_HIVE, "%s: too large to replay logs into", hp_name(h));
    unsigned char *buf = hp_malloc((size_t)size);
    if (buf == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    for (uint64_t off = 0; off < size;) {
        ssize_t got = pread(fd, buf + off, (size_t)(size - off), (off_t)off);
        if (got <= 0) {
            hp_free(buf);
            return hp_error(h, HIVEPORT_E_IO, "%s: cannot read: %s", hp_name(h), got < 0 ? strerror(errno) : "short read");
        }
        off += (uint64_t)got;
    }
    *out = buf;
    return HIVEPORT_OK;
}

/* A private memory file holding len bytes of data. */
static int memory_file(hiveport *h, const unsigned char *data, size_t len, int *out)
{
    int fd = memfd_create("hiveport-recovered", MFD_CLOEXEC);
    if (fd < 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot create a memory file: %s", hp_name(h), strerror(errno));
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            close(fd);
            return hp_error(h, err == ENOSPC || err == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO,
                            "%s: cannot fill a memory file: %s", hp_name(h), strerror(err));
        }
        off += (size_t)n;
    }
    *out = fd;
    return HIVEPORT_OK;
}

const char *hp_log_name(const hiveport *h, const char *path, char *buf, size_t len)
{
    size_t plen = strlen(path);
    if (h->name == NULL || h->nlog_paths > 0)
        return path;
    for (size_t i = 0; i < sizeof log_suffixes / sizeof log_suffixes[0]; i++) {
        size_t n = strlen(log_suffixes[i]);
        if (plen >= n && strcasecmp(path + plen - n, log_suffixes[i]) == 0) {
            snprintf(buf, len, "%s%s", h->name, path + plen - n); /* the suffix as the file spells it */
            return buf;
        }
    }
    return path;
}

int hp_logs_replay(hiveport *h, int fd, uint64_t size, int *replayed_fd)
{
    *replayed_fd = -1;
    char *found[3] = {NULL, NULL, NULL};
    const char *const *paths = (const char *const *)h->log_paths;
    size_t npaths = h->nlog_paths;
    int rc = HIVEPORT_OK;
    if (npaths == 0) {
        rc = hp_logs_find(h, found);
        paths = (const char *const *)found;
        npaths = 3;
    }
    struct hp_txlog_input logs[HP_TXLOG_MAX_LOGS];
    unsigned char *bytes[HP_TXLOG_MAX_LOGS] = {NULL};
    size_t nlogs = 0;
    char names[512] = "", why[512] = "";
    char shown[HP_TXLOG_MAX_LOGS][512]; /* the names of the logs found beside a named hive */
    for (size_t i = 0; rc == HIVEPORT_OK && i < npaths && nlogs < HP_TXLOG_MAX_LOGS; i++) {
        if (paths[i] == NULL)
            continue;
        const char *name = hp_log_name(h, paths[i], shown[nlogs], sizeof shown[nlogs]);
        size_t len;
        rc = hp_txlog_read_file(paths[i], &bytes[nlogs], &len, why, sizeof why);
        if (rc != HIVEPORT_OK) {
            rc = hp_error(h, rc, "%s: cannot read the log %s: %s", hp_name(h), name, why);
            break;
        }
        logs[nlogs] = (struct hp_txlog_input){name, bytes[nlogs], len};
        nlogs++;
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? ", " : "", name);
    }
    unsigned char *image = NULL;
    size_t image_len = (size_t)size;
    struct hp_txlog_result res = {0};
    if (rc == HIVEPORT_OK && nlogs == 0) {
        h->log_state = HIVEPORT_LOGS_UNUSABLE;
        snprintf(h->log_report, sizeof h->log_report, "no transaction logs (.LOG1/.LOG2/.LOG) found");
    } else if (rc == HIVEPORT_OK && (rc = read_fd_fully(h, fd, size, &image)) == HIVEPORT_OK) {
        rc = hp_txlog_replay(&image, &image_len, logs, nlogs, &res, why, sizeof why);
        if (rc != HIVEPORT_OK) {
            rc = hp_error(h, rc, "%s: cannot replay its logs: %s", hp_name(h), why);
        } else if (res.format == HP_TXLOG_FORMAT_NONE || !res.clean) {
            h->log_state = HIVEPORT_LOGS_UNUSABLE;
            snprintf(h->log_report, sizeof h->log_report, "no usable log among %s: %s", names, why);
        } else if ((rc = memory_file(h, image, image_len, replayed_fd)) == HIVEPORT_OK) {
            h->log_state = HIVEPORT_LOGS_REPLAYED;
            h->log_entries = res.entries_applied;
            const char *unit = res.format == HP_TXLOG_FORMAT_NEW ? (res.entries_applied == 1 ? "log entry" : "log entries")
                                                                 : (res.entries_applied == 1 ? "dirty page" : "dirty pages");
            snprintf(h->log_report, sizeof h->log_report, "replayed %u %s from %s", res.entries_applied, unit, names);
        }
    }
    hp_free(image);
    for (size_t i = 0; i < nlogs; i++)
        hp_free(bytes[i]);
    for (size_t i = 0; i < 3; i++)
        hp_free(found[i]);
    return rc;
}
