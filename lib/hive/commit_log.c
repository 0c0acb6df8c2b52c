/* commit_log.c: the logged commit, as Windows writes a hive: through its own transaction log, in place.
 *
 * When the hive's logs exist beside it (NAME.LOG1/.LOG2, or .LOG, as on every installed Windows), a commit
 * does not copy the file.  It writes the changed pages (struct hp_page_set: of the in-place patches, or the
 * dirty pages of the native edits' copy, pageset.h) as one log entry in the format
 * those logs already use, then the same pages into the primary:
 *
 *   1. the log: its base-block copy and one entry numbered E = old sequence + 1 (HvLE with its Marvin32
 *      hashes for Windows 8.1+ logs, a DIRT log for Vista/7 ones; lib/regf/logwrite.c), from offset 0;
 *      flush.  A crash here leaves the primary as it was: clean, so no reader replays anything.
 *   2. the primary's base block with the primary sequence number raised to E and the secondary left at
 *      the old number (and the new time stamp, which an old-format log must match; when the hive grows,
 *      the hive-bins size of the file as it still is): flush.  From here the primary is dirty with a
 *      complete log entry: hiveport's replay and Windows' turn it into the new hive.
 *   3. the file extended when native edits appended bins, the pages in place: flush.
 *   4. the base block with both sequence numbers E: flush.  The commit is done.
 *
 * The entry number E equals the dirty primary's primary sequence number (the spec's "subsequent entry":
 * >= the primary number) and is >= its secondary number (YARP's and our replay's rule); after replay both
 * numbers are E (txlog.c), which is what step 4 writes, so a replay gives the commit's exact bytes.
 *
 * Which log: new format, the one not holding the latest entries (Windows alternates LOG1 and LOG2, so the
 * entries of the previous write stay whole until the next one), LOG1 when neither holds any; a log whose
 * entries the replay could take instead of ours (numbered from the hive's sequence number on, and not
 * just the previous commit's entry) is the one overwritten.  Old format: LOG1 (.LOG when it is the only
 * one), as Windows before 8 does.  Logs are written from offset 0 (one commit per log write), never created,
 * never truncated; a new-format log longer than the entry gets 512 zero bytes after it, so that no old
 * entry can look like its continuation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hive.h"
#include "hivecheck.h"
#include "pageset.h"
#include "txlog.h"
#include "le.h"

#define PAGE 4096u

/* ---- The page set of the in-place patches ---- */

/* One byte range the commit writes. */
struct span {
    uint64_t off;
    const unsigned char *bytes;
    size_t len;
};

static bool span_is_new(const hiveport *h, const struct span *s)
{
    return s->off + s->len > h->img.map_len || memcmp(h->img.data + s->off, s->bytes, s->len) != 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int hp_pages_collect_patches(hiveport *h, uint64_t filetime, struct hp_page_set *ps)
{
    memset(ps, 0, sizeof *ps);
    const unsigned char *img = h->img.data;
    size_t img_len = h->img.map_len;
    if (img == NULL || img_len < HP_REGF_HEADER_SIZE)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: no hive loaded", hp_name(h));

    /* The spans: each effective patch's data and size field, and its key's last-write time. */
    size_t cap = 3 * h->npatches, nspans = 0;
    struct span *spans = hp_calloc(cap ? cap : 1, sizeof *spans);
    unsigned char (*sizes)[4] = hp_calloc(h->npatches ? h->npatches : 1, 4);
    unsigned char stamp[8];
    hp_put_le64(stamp, filetime);
    int rc = HIVEPORT_OK;
    if (spans == NULL || sizes == NULL) {
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        goto out;
    }
    for (size_t i = 0; i < h->npatches; i++) {
        const struct hp_patch *p = &h->patches[i];
        hp_put_le32(sizes[i], p->size_field);
        struct span data = {p->data_off, p->data, p->len}, size = {p->size_off, sizes[i], 4};
        if (data.off < HP_REGF_HEADER_SIZE || size.off < HP_REGF_HEADER_SIZE || data.off + data.len > img_len ||
            size.off + 4 > img_len) {
            rc = hp_error(h, HIVEPORT_E_CORRUPT, "%s: a pending change lies outside the hive", hp_name(h));
            goto out;
        }
        if (!span_is_new(h, &data) && !span_is_new(h, &size))
            continue; /* already in the file (an earlier commit wrote it) */
        spans[nspans++] = data;
        spans[nspans++] = size;
        bool seen = false;
        for (size_t j = 0; j < nspans; j++)
            seen = seen || (spans[j].bytes == stamp && spans[j].off == p->key + 8);
        if (seen)
            continue;
        if (p->key < HP_REGF_HEADER_SIZE || p->key + 16 > img_len || memcmp(img + p->key + 4, "nk", 2) != 0) {
            rc = hp_error(h, HIVEPORT_E_CORRUPT, "%s: no key record at offset 0x%llx to time-stamp", hp_name(h),
                          (unsigned long long)p->key);
            goto out;
        }
        spans[nspans++] = (struct span){p->key + 8, stamp, sizeof stamp};
    }
    if (nspans == 0)
        goto out; /* nothing changes: n = 0 */

    /* The pages the spans touch, ascending and once each. */
    uint64_t *offs = hp_calloc(2 * nspans, sizeof *offs);
    if (offs == NULL) {
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < nspans; i++) {
        offs[n++] = spans[i].off / PAGE * PAGE;
        offs[n++] = (spans[i].off + spans[i].len - 1) / PAGE * PAGE;
    }
    qsort(offs, n, sizeof *offs, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || offs[u - 1] != offs[i])
            offs[u++] = offs[i];
    n = u;
    unsigned char *block = hp_malloc(n * PAGE);
    ps->pages = hp_calloc(n, sizeof *ps->pages);
    if (block == NULL || ps->pages == NULL) {
        hp_free(block);
        hp_free(offs);
        hp_free(ps->pages);
        ps->pages = NULL;
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char *page = block + i * PAGE;
        uint64_t at = offs[i];
        size_t have = at >= img_len ? 0 : img_len - at < PAGE ? (size_t)(img_len - at) : PAGE;
        memcpy(page, img + at, have);
        memset(page + have, 0, PAGE - have);
        for (size_t s = 0; s < nspans; s++) {
            uint64_t a = spans[s].off > at ? spans[s].off : at;
            uint64_t b = spans[s].off + spans[s].len < at + PAGE ? spans[s].off + spans[s].len : at + PAGE;
            if (a < b)
                memcpy(page + (a - at), spans[s].bytes + (a - spans[s].off), (size_t)(b - a));
        }
        ps->pages[i] = page;
    }
    ps->owned = block;
    ps->offsets = offs;
    ps->n = n;

out:
    if (rc == HIVEPORT_OK) {
        /* The base block: both sequence numbers one past the old primary (what a completed Windows write
         * leaves, and what the copy commit writes), the time stamp, the checksum last. */
        memcpy(ps->base_block, img, HP_REGF_HEADER_SIZE);
        uint32_t seq = hp_le32(img + 0x04) + 1;
        hp_put_le32(ps->base_block + 0x04, seq);
        hp_put_le32(ps->base_block + 0x08, seq);
        hp_put_le64(ps->base_block + 0x0C, filetime);
        hp_put_le32(ps->base_block + 0x1FC, hp_regf_checksum(ps->base_block));
        ps->new_len = img_len;
    }
    hp_free(spans);
    hp_free(sizes);
    return rc;
}

/* ---- Which log ---- */

/* The first 512 bytes (the base block copy) and the length of the log at path; data NULL when it cannot be
 * read, len 0 for an empty log. */
static int read_log_head(const char *path, unsigned char head[512], size_t *len, bool *regular)
{
    *len = 0;
    *regular = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        *regular = true;
        *len = (size_t)st.st_size;
        rc = st.st_size < 512 || pread(fd, head, 512, 0) == 512 ? 0 : -1;
    }
    close(fd);
    return rc;
}

static bool seq_before(uint32_t a, uint32_t b)
{
    uint32_t d = b - a;
    return d >= 1 && d <= 0x7FFFFFFFu;
}

void hp_log_plan_free(struct hp_log_plan *plan)
{
    hp_free(plan->path);
    plan->path = NULL;
}

int hp_log_plan(hiveport *h, struct hp_log_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    char *found[3] = {NULL, NULL, NULL};
    const char *const *paths = (const char *const *)h->log_paths;
    size_t npaths = h->nlog_paths;
    int rc = HIVEPORT_OK;
    if (npaths == 0) {
        if ((rc = hp_logs_find(h, found)) != HIVEPORT_OK)
            return rc;
        paths = (const char *const *)found;
        npaths = 3;
    }
    struct {
        const char *path;
        bool exists;
        size_t len;
        unsigned char head[512];
        struct hp_txlog_probe probe;
    } logs[HP_TXLOG_MAX_LOGS];
    size_t nlogs = 0, nexist = 0;
    bool any_new = false, any_old = false;
    for (size_t i = 0; i < npaths && nlogs < HP_TXLOG_MAX_LOGS; i++) {
        if (paths[i] == NULL)
            continue;
        logs[nlogs].path = paths[i];
        bool regular;
        logs[nlogs].exists = read_log_head(paths[i], logs[nlogs].head, &logs[nlogs].len, &regular) == 0 && regular;
        memset(&logs[nlogs].probe, 0, sizeof logs[nlogs].probe);
        if (logs[nlogs].exists) {
            nexist++;
            struct hp_txlog_input in = {paths[i], logs[nlogs].head, logs[nlogs].len < 512 ? logs[nlogs].len : 512};
            hp_txlog_probe(&in, &logs[nlogs].probe);
            any_new = any_new || logs[nlogs].probe.format == HP_TXLOG_FORMAT_NEW;
            any_old = any_old || logs[nlogs].probe.format == HP_TXLOG_FORMAT_OLD;
        }
        nlogs++;
    }
    uint32_t s = h->seq_secondary;
    int target = -1;
    if (nexist == 0) {
        snprintf(plan->why, sizeof plan->why, "no transaction logs (.LOG1/.LOG2/.LOG) beside the hive");
    } else if (!any_new && !any_old) {
        snprintf(plan->why, sizeof plan->why,
                 "no log beside the hive has a valid header, so the format Windows writes them in is unknown");
    } else if (any_new) {
        plan->format = HP_TXLOG_FORMAT_NEW;
        /* The log holding the latest entries; the target is another one (LOG1 first). */
        int latest = -1;
        for (size_t i = 0; i < nlogs; i++)
            if (logs[i].exists && logs[i].probe.format == HP_TXLOG_FORMAT_NEW &&
                (latest < 0 || seq_before(logs[latest].probe.base_seq, logs[i].probe.base_seq)))
                latest = (int)i;
        for (size_t i = 0; i < nlogs && target < 0; i++)
            if (logs[i].exists && (int)i != latest)
                target = (int)i;
        if (target < 0)
            target = latest; /* the only log */
        /* A log the replay could take instead of ours: a valid new-format log numbered from the hive's
         * secondary on, other than just the previous commit's entry s (which the primary already holds). */
        int interfering = -1, count = 0;
        for (size_t i = 0; i < nlogs; i++) {
            if ((int)i == target || !logs[i].exists || logs[i].probe.format != HP_TXLOG_FORMAT_NEW ||
                seq_before(logs[i].probe.base_seq, s))
                continue;
            unsigned char *data = NULL;
            size_t len = 0;
            char why[256];
            struct hp_txlog_probe full = {0};
            if (hp_txlog_read_file(logs[i].path, &data, &len, why, sizeof why) == HIVEPORT_OK) {
                struct hp_txlog_input in = {logs[i].path, data, len};
                hp_txlog_probe(&in, &full);
            }
            hp_free(data);
            if (full.entries == 0 || (full.base_seq == s && full.last_seq == s))
                continue;
            interfering = (int)i;
            count++;
        }
        if (count > 1) {
            snprintf(plan->why, sizeof plan->why,
                     "the logs hold entries numbered past the hive's sequence number %u (not this hive's "
                     "history)", s);
            target = -1;
        } else if (interfering >= 0) {
            target = interfering;
        }
    } else {
        plan->format = HP_TXLOG_FORMAT_OLD;
        for (size_t i = 0; i < nlogs && target < 0; i++)
            if (logs[i].exists)
                target = (int)i;
    }
    if (target >= 0 && access(logs[target].path, W_OK) != 0) {
        char shown[HP_ERRMSG_MAX / 2];
        snprintf(plan->why, sizeof plan->why, "the log %s is not writable: %s",
                 hp_log_name(h, logs[target].path, shown, sizeof shown), strerror(errno));
        target = -1;
    }
    if (target >= 0) {
        plan->path = hp_strdup(logs[target].path);
        plan->log_len = logs[target].len;
        if (plan->path == NULL)
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    } else {
        plan->format = HP_TXLOG_FORMAT_NONE;
    }
    for (size_t i = 0; i < 3; i++)
        hp_free(found[i]);
    return rc;
}

/* ---- The protocol ---- */

static int flush(int fd)
{
    while (fdatasync(fd) != 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* The check every commit makes before it writes (check_patched.c): on the hive as it will be, a private
 * copy-on-write mapping of the file with the new base block and pages in it (only they are copied). */
static int check_new_hive(hiveport *h, const struct hp_page_set *ps)
{
    struct stat st;
    if (fstat(h->lock_fd, &st) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat: %s", hp_name(h), strerror(errno));
    uint64_t size = ps->new_len > (uint64_t)st.st_size ? ps->new_len : (uint64_t)st.st_size;
    if (size > SIZE_MAX || size < HP_REGF_HEADER_SIZE)
        return hp_error(h, HIVEPORT_E_CORRUPT, "%s: refusing to commit: the new hive has %llu bytes", hp_name(h),
                        (unsigned long long)size);
    /* Beyond the file's end (a grown hive) the mapping would fault: map anonymous memory there. */
    unsigned char *map = hp_map_file_private(h->lock_fd, (size_t)st.st_size, (size_t)size);
    if (map == MAP_FAILED)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO, "%s: cannot map the new hive to check "
                        "it: %s", hp_name(h), strerror(errno));
    memcpy(map, ps->base_block, sizeof ps->base_block);
    for (size_t i = 0; i < ps->n; i++)
        memcpy(map + ps->offsets[i], ps->pages[i], PAGE);
    int rc;
    if (ps->native) {
        /* Native edits change cells only in the pages they mark and lists only of the keys they touch: those
         * are checked (check_touched.c), not the whole hive. */
        hiveport_findings *f = NULL;
        uint64_t *keys = hp_calloc(h->ntouched + 1, sizeof *keys);
        if (keys == NULL) {
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory to check the new hive", hp_name(h));
        } else {
            for (size_t i = 0; i < h->ntouched; i++)
                keys[i] = h->touched[i];
            /* The file as it was, for what the change kept (a shared mapping: nothing is copied). */
            void *before = st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, h->lock_fd, 0)
                                          : MAP_FAILED;
            rc = hp_check_touched(h, map, size, before != MAP_FAILED ? before : NULL,
                                  before != MAP_FAILED ? (uint64_t)st.st_size : 0, ps->offsets, ps->n, keys,
                                  h->ntouched, &f);
            if (before != MAP_FAILED)
                munmap(before, (size_t)st.st_size);
            rc = hp_check_refuse(h, f, rc);
        }
        hp_free(keys);
        hiveport_findings_free(f);
    } else {
        rc = hp_check_patched_image(h, map, ps->new_len);
    }
    munmap(map, (size_t)size);
    return rc;
}

int hp_commit_logged(hiveport *h, const struct hp_log_plan *plan, const struct hp_page_set *ps)
{
    if (ps->new_len < HP_REGF_HEADER_SIZE || (ps->n > 0 && ps->offsets[ps->n - 1] + PAGE > ps->new_len))
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: the pages lie beyond the new hive's length", hp_name(h));
    int crc = check_new_hive(h, ps);
    if (crc != HIVEPORT_OK)
        return crc;
    char log_buf[HP_ERRMSG_MAX / 2];
    const char *log_name = hp_log_name(h, plan->path, log_buf, sizeof log_buf);
    int rc = HIVEPORT_OK, log_fd = -1;
    unsigned char *log = NULL;
    size_t log_len = 0;
    uint32_t seq = hp_le32(ps->base_block + 0x04);
    struct hp_log_pages pg = {ps->n, ps->offsets, (const unsigned char *const *)ps->pages};
    rc = plan->format == HP_TXLOG_FORMAT_NEW ? hp_logwrite_new(ps->base_block, seq, &pg, &log, &log_len)
                                             : hp_logwrite_old(ps->base_block, seq, &pg, &log, &log_len);
    if (rc != HIVEPORT_OK)
        return hp_error(h, rc, "%s: cannot build the log entry for %s", hp_name(h), log_name);
    size_t write_len = log_len;
    if (plan->format == HP_TXLOG_FORMAT_NEW && plan->log_len > log_len) {
        /* 512 zero bytes after the entry: no remnant entry may pass for the next one. */
        size_t extra = plan->log_len - log_len < 512 ? plan->log_len - log_len : 512;
        unsigned char *bigger = hp_calloc(1, log_len + extra);
        if (bigger == NULL) {
            hp_free(log);
            return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        }
        memcpy(bigger, log, log_len);
        hp_free(log);
        log = bigger;
        write_len = log_len + extra;
    }

    /* 1. The log entry, flushed. */
    log_fd = open(plan->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (log_fd < 0) {
        rc = hp_error(h, hp_status_from_errno(errno), "%s: cannot open the log %s for writing: %s", hp_name(h),
                      log_name, strerror(errno));
        goto out;
    }
    if (hp_pwrite_all(log_fd, log, write_len, 0) != 0 || flush(log_fd) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot write the log %s: %s; the hive is unchanged", hp_name(h),
                      log_name, strerror(errno));
        goto out;
    }

    /* 2. The primary marked dirty: primary sequence number raised to the entry's, secondary as it was.
     * From here a failure leaves the file ahead of the handle (dirty, maybe pages written): the handle
     * refuses further commits until hiveport_discard() rereads the file, replaying the log. */
    int fd = h->lock_fd;
    unsigned char header[512];
    memcpy(header, ps->base_block, sizeof header);
    hp_put_le32(header + 0x08, h->seq_secondary);
    /* A hive that grows (a bin appended) keeps the hive-bins size of the file as it stands in the dirty
     * mark: the file is not longer yet, and a header claiming more bins than the file holds is refused as
     * truncated before any replay.  The replay takes the size from the log (its base block, old format;
     * the entry, new format), so the new size still comes back from it. */
    struct stat st;
    unsigned char old_size[4];
    if (fstat(fd, &st) != 0 || pread(fd, old_size, 4, 0x28) != 4) {
        rc = hp_error(h, HIVEPORT_E_IO, "%s: cannot read the hive's header: %s; the hive is unchanged", hp_name(h),
                      strerror(errno ? errno : EIO));
        goto out;
    }
    bool grows = ps->new_len > (uint64_t)st.st_size;
    if (grows)
        memcpy(header + 0x28, old_size, 4);
    hp_put_le32(header + 0x1FC, hp_regf_checksum(header));
    h->broken = true;
    if (hp_pwrite_all(fd, header, sizeof header, 0) != 0 || flush(fd) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO,
                      "%s: cannot mark the hive dirty: %s; its log %s holds the commit, which opening it "
                      "replays if the mark reached the disk",
                      hp_name(h), strerror(errno), log_name);
        goto out;
    }

    /* 3. The file grown to its new length (zeros, then the new bins' pages), the pages in place
     * (contiguous ones in one write), flushed. */
    if (grows && ftruncate(fd, (off_t)ps->new_len) != 0)
        rc = HIVEPORT_E_IO;
    for (size_t i = 0; i < ps->n && rc == HIVEPORT_OK;) {
        size_t j = i + 1;
        while (j < ps->n && ps->offsets[j] == ps->offsets[j - 1] + PAGE && ps->pages[j] == ps->pages[j - 1] + PAGE)
            j++;
        if (hp_pwrite_all(fd, ps->pages[i], (j - i) * PAGE, ps->offsets[i]) != 0)
            rc = HIVEPORT_E_IO;
        i = j;
    }
    if (rc != HIVEPORT_OK || flush(fd) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO,
                      "%s: cannot write the hive's pages: %s; the hive is dirty and its log %s holds the "
                      "commit: opening it replays the log",
                      hp_name(h), strerror(errno), log_name);
        goto out;
    }

    /* 4. The base block with equal sequence numbers, flushed. */
    if (hp_pwrite_all(fd, ps->base_block, 512, 0) != 0 || flush(fd) != 0) {
        rc = hp_error(h, HIVEPORT_E_IO,
                      "%s: cannot write the final base block: %s; the hive is dirty and its log %s holds the "
                      "commit: opening it replays the log",
                      hp_name(h), strerror(errno), log_name);
        goto out;
    }
    h->seq_primary = h->seq_secondary = seq;
    h->broken = false;

out:
    if (log_fd >= 0)
        close(log_fd);
    hp_free(log);
    return rc;
}
