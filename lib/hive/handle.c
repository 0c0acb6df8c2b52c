/* handle.c: opening, loading, discarding and closing a hive handle. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hive.h"

#define HP_KNOWN_OPEN_FLAGS                                                                                 \
    (HIVEPORT_OPEN_WRITE | HIVEPORT_OPEN_NO_LOGS | HIVEPORT_OPEN_DISCARD_LOGS | HIVEPORT_OPEN_BREAK_LINKS |    \
     HIVEPORT_OPEN_DAMAGED | HIVEPORT_OPEN_COMMIT_LOG | HIVEPORT_OPEN_COMMIT_COPY)
#define HP_DEFAULT_LOCK_TIMEOUT_MS 30000

/* The handle owns its list of in-place edits (inplace.c records them); forgetting them is the handle's. */
void hp_inplace_clear(hiveport *h)
{
    hp_free(h->patches);
    h->patches = NULL;
    h->npatches = h->cappatches = 0;
}

HIVEPORT_API void hiveport_options_init(hiveport_options *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->lock_timeout_ms = HP_DEFAULT_LOCK_TIMEOUT_MS;
}

bool hp_handle_usable(const hiveport *h)
{
    return h != NULL && h->img.data != NULL;
}

int hp_check_handle(const hiveport *h)
{
    return hp_handle_usable(h) ? HIVEPORT_OK : HIVEPORT_E_INVALID_ARG;
}

int hp_check_writable(hiveport *h)
{
    if (!(h->flags & HIVEPORT_OPEN_WRITE))
        return hp_error(h, HIVEPORT_E_READONLY, "%s: the hive was opened read-only", hp_name(h));
    if (h->broken)
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: an earlier change failed half-way; discard the changes first", hp_name(h));
    return HIVEPORT_OK;
}

int hp_findings_call(hiveport *h, hiveport_findings **out, const char *what)
{
    if (out != NULL)
        *out = NULL;
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (out == NULL)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: %s needs a place for the findings", hp_name(h), what);
    return HIVEPORT_OK;
}

/* Reads and checks the header through fd, so that what is validated is what is then mapped. */
static int check_header(hiveport *h, int fd, uint64_t *file_size, uint32_t *hbins_size, bool any_checksum)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat: %s", hp_name(h), strerror(errno));
    if (S_ISDIR(st.st_mode))
        return hp_error(h, HIVEPORT_E_NOT_REGULAR, "%s: is a directory, not a hive file", hp_name(h));
    if (!S_ISREG(st.st_mode))
        return hp_error(h, HIVEPORT_E_NOT_REGULAR, "%s: is not a regular file (a device, FIFO or socket)",
                        hp_name(h));
    if (st.st_size == 0)
        return hp_error(h, HIVEPORT_E_NOT_HIVE, "%s: the file is empty, not a registry hive", hp_name(h));

    unsigned char header[HP_REGF_HEADER_SIZE];
    ssize_t got = pread(fd, header, sizeof header, 0);
    if (got < 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot read: %s", hp_name(h), strerror(errno));

    if (any_checksum && got >= 0x200) { /* the checker reports the checksum (base-checksum); the rest must hold */
        uint32_t sum = hp_regf_checksum(header);
        for (int i = 0; i < 4; i++)
            header[0x1FC + i] = (unsigned char)(sum >> (8 * i));
    }
    struct hp_regf_header hdr;
    char why[256];
    int rc = hp_regf_parse_header(header, (size_t)got, (uint64_t)st.st_size, &hdr, why, sizeof why);
    if (rc != HIVEPORT_OK)
        return hp_error(h, rc, "%s: %s", hp_name(h), why);
    h->seq_primary = hdr.seq_primary;
    h->seq_secondary = hdr.seq_secondary;
    *file_size = (uint64_t)st.st_size;
    *hbins_size = hdr.hbins_size;
    return HIVEPORT_OK;
}

int hp_file_fd(const hiveport *h)
{
    return h->replay_fd >= 0 ? h->replay_fd : h->lock_fd >= 0 ? h->lock_fd : h->read_fd;
}

/* The edited copy goes with the hive it was made from; img reads the mapping again. */
void hp_edit_end(hiveport *h)
{
    if (h->edit == NULL)
        return;
    h->img.data = h->mapping;
    h->img.map_len = h->mapping_len;
    h->mapping = NULL;
    hp_regf_edit_free(h->edit);
    hp_free(h->edit);
    h->edit = NULL;
}

void hp_hive_unload(hiveport *h)
{
    hp_edit_end(h);
    hp_free(h->bin_starts);
    h->bin_starts = NULL;
    if (h->img.data != NULL)
        munmap((void *)h->img.data, h->img.map_len);
    memset(&h->img, 0, sizeof h->img);
    if (h->read_fd >= 0)
        close(h->read_fd);
    h->read_fd = -1;
    if (h->replay_fd >= 0)
        close(h->replay_fd);
    h->replay_fd = -1;
}

/* Whether the open may leave out the walk of the chain of bins: a writer whose commit will most likely go
 * through the hive's logs (they are beside it, the hive is clean, no copy was asked for).  The logged
 * commit checks the bins its pages lie in (check_touched.c), a copy commit the whole hive, and an edit
 * that allocates walks the chain's headers then (cellalloc.c): a restamp's cost is set by its change, not
 * by the hive (250 MB: CPU 12.8 -> 2.3 ms, most of it the walk). */
static bool walk_can_wait(hiveport *h)
{
    if (!(h->flags & HIVEPORT_OPEN_WRITE) || (h->flags & (HIVEPORT_OPEN_DAMAGED | HIVEPORT_OPEN_COMMIT_COPY)) ||
        h->replay_fd >= 0 || h->seq_primary != h->seq_secondary)
        return false;
    if (h->nlog_paths > 0)
        return true;
    char *found[3] = {NULL, NULL, NULL};
    bool any = false;
    if (hp_logs_find(h, found) != HIVEPORT_OK)
        hp_clear_error(h); /* out of memory: the walk is done */
    for (size_t i = 0; i < 3; i++) {
        any = any || found[i] != NULL;
        hp_free(found[i]);
    }
    return any;
}

/* Maps the hive bytes open on fd and checks the chain of hive bins (unless walk_can_wait) and the root key. */
static int map_image(hiveport *h, int fd, uint64_t size, uint32_t hbins_size)
{
    if (size > SIZE_MAX / 2)
        return hp_error(h, HIVEPORT_E_NOT_HIVE, "%s: %llu bytes is too large for a hive", hp_name(h),
                        (unsigned long long)size);
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO, "%s: cannot map: %s", hp_name(h),
                        strerror(errno));
    h->img.data = map;
    h->img.map_len = (size_t)size;
    h->img.end = (uint64_t)HP_REGF_HEADER_SIZE + hbins_size;
    char why[256];
    hp_free(h->bin_starts);
    h->bin_starts = NULL;
    h->lazy_bins = walk_can_wait(h);
    int rc = h->lazy_bins ? hp_regf_check_extent(map, size, hbins_size, why, sizeof why)
                          : hp_regf_check_bins(map, size, hbins_size, &h->bin_starts, why, sizeof why);
    h->bin_starts_end = h->img.end;
    if (h->flags & HIVEPORT_OPEN_DAMAGED) /* cells.c bounds every read: damage gives errors, not crashes */
        return rc == HIVEPORT_E_NOMEM || rc == HIVEPORT_E_IO ? hp_error(h, rc, "%s: %s", hp_name(h), why) : HIVEPORT_OK;
    if (rc != HIVEPORT_OK)
        return hp_error(h, rc, "%s: %s", hp_name(h), why);
    if (hp_cells_root(&h->img) == 0)
        return hp_error(h, HIVEPORT_E_CORRUPT, "%s: the root key record is damaged", hp_name(h));
    return HIVEPORT_OK;
}

/* A dirty hive: replay its logs unless told not to; decide whether it may be written. */
static int handle_dirty(hiveport *h, int fd, uint64_t size, int header_rc)
{
    int rc = HIVEPORT_OK;
    if (h->flags & HIVEPORT_OPEN_NO_LOGS) {
        h->log_state = HIVEPORT_LOGS_IGNORED;
        snprintf(h->log_report, sizeof h->log_report, "log replay turned off");
    } else {
        hp_clear_error(h); /* a bad header checksum may yet be repaired from a log */
        rc = hp_logs_replay(h, fd, size, &h->replay_fd);
    }
    if (rc != HIVEPORT_OK)
        return rc;
    if (h->replay_fd < 0 && header_rc != HIVEPORT_OK && !(h->flags & HIVEPORT_OPEN_DAMAGED))
        return hp_error(h, header_rc, "%s: the header checksum does not match and %s", hp_name(h), h->log_report);
    if (h->replay_fd < 0 && (h->flags & HIVEPORT_OPEN_WRITE) && !(h->flags & HIVEPORT_OPEN_DISCARD_LOGS))
        return hp_error(h, HIVEPORT_E_DIRTY,
                        "%s: the hive is dirty (sequence numbers %u and %u differ) and %s: its transaction "
                        "logs hold changes this file lacks, and writing it would discard them; it can still "
                        "be opened read-only",
                        hp_name(h), h->seq_primary, h->seq_secondary, h->log_report);
    return HIVEPORT_OK;
}

int hp_hive_load(hiveport *h)
{
    int fd = h->lock_fd;
    if (fd < 0) {
        fd = open(h->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && errno == ENXIO) /* a socket (or a device without a driver) cannot be opened at all */
            return hp_error(h, HIVEPORT_E_NOT_REGULAR, "%s: is not a regular file (a device, FIFO or socket)",
                            hp_name(h));
        if (fd < 0)
            return hp_error(h, errno == EISDIR ? HIVEPORT_E_NOT_REGULAR : HIVEPORT_E_IO,
                            "%s: cannot open: %s", hp_name(h), strerror(errno));
        h->read_fd = fd;
        int rc = hp_read_lock(h, fd, h->lock_timeout_ms);
        if (rc != HIVEPORT_OK)
            return rc;
    }
    uint64_t size = 0;
    uint32_t hbins_size = 0;
    h->log_state = HIVEPORT_LOGS_CLEAN;
    h->log_entries = 0;
    h->log_report[0] = '\0';
    int rc = check_header(h, fd, &size, &hbins_size, false);
    bool bad_checksum = rc == HIVEPORT_E_CHECKSUM;
    if (bad_checksum || (rc == HIVEPORT_OK && h->seq_primary != h->seq_secondary)) {
        if (bad_checksum) {
            struct stat st;
            size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
        }
        rc = handle_dirty(h, fd, size, rc);
    }
    /* A damaged hive opened for hiveport_check(): a checksum no log repaired is one of its findings. */
    if (rc == HIVEPORT_OK && bad_checksum && h->replay_fd < 0)
        rc = check_header(h, fd, &size, &hbins_size, true);
    if (rc == HIVEPORT_OK && h->replay_fd >= 0) {
        /* From here on the recovered image is the hive. */
        uint32_t disk_primary = h->seq_primary, disk_secondary = h->seq_secondary;
        rc = check_header(h, h->replay_fd, &size, &hbins_size, false);
        h->seq_primary = disk_primary;
        h->seq_secondary = disk_secondary;
        fd = h->replay_fd;
    }
    if (rc == HIVEPORT_OK)
        rc = map_image(h, fd, size, hbins_size);
    if (rc != HIVEPORT_OK)
        hp_hive_unload(h);
    return rc;
}

int hp_hive_open_scratch(hiveport *h, hiveport **out)
{
    *out = NULL;
    hiveport *s = hp_calloc(1, sizeof *s);
    if (s == NULL || (s->path = hp_strdup(h->path)) == NULL ||
        (h->name != NULL && (s->name = hp_strdup(h->name)) == NULL)) {
        if (s != NULL)
            hp_free(s->path);
        hp_free(s);
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    }
    s->lock_fd = -1;
    s->replay_fd = -1;
    s->read_fd = fcntl(hp_file_fd(h), F_DUPFD_CLOEXEC, 0); /* the same open file: its read lock covers both */
    void *map = s->read_fd < 0 ? MAP_FAILED : mmap(NULL, h->img.map_len, PROT_READ, MAP_SHARED, s->read_fd, 0);
    if (map == MAP_FAILED) {
        int rc = hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO, "%s: cannot map: %s", hp_name(h),
                          strerror(errno));
        hiveport_close(s);
        return rc;
    }
    s->img = (struct hp_image){map, h->img.end, h->img.map_len};
    s->flags = (h->flags & (HIVEPORT_OPEN_NO_LOGS | HIVEPORT_OPEN_DISCARD_LOGS)) | HIVEPORT_OPEN_WRITE;
    s->scratch = true;
    s->lock_timeout_ms = h->lock_timeout_ms;
    s->log_state = h->log_state;
    s->log_entries = h->log_entries;
    memcpy(s->log_report, h->log_report, sizeof s->log_report);
    s->dev = h->dev;
    s->ino = h->ino;
    s->seq_primary = h->seq_primary;
    s->seq_secondary = h->seq_secondary;
    *out = s;
    return HIVEPORT_OK;
}

void hp_hive_release_pages(hiveport *h)
{
    const void *map = h->edit != NULL ? h->mapping : h->img.data; /* never the edit's private pages */
    size_t len = h->edit != NULL ? h->mapping_len : h->img.map_len;
    if (map != NULL)
        madvise((void *)map, len, MADV_DONTNEED);
}

static int copy_log_paths(hiveport *h, const char *const *paths, size_t n)
{
    if (paths == NULL || n > 8)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: give 1 to 8 log paths", hp_name(h));
    if ((h->log_paths = hp_calloc(n, sizeof *h->log_paths)) == NULL)
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
    for (size_t i = 0; i < n; i++) {
        if (paths[i] == NULL || *paths[i] == '\0')
            return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: log path %zu is empty", hp_name(h), i + 1);
        if ((h->log_paths[i] = hp_strdup(paths[i])) == NULL)
            return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        h->nlog_paths = i + 1;
    }
    return HIVEPORT_OK;
}

HIVEPORT_API int hiveport_open_named(const char *path, const char *name, const hiveport_options *opts,
                                     hiveport **out)
{
    if (out == NULL)
        return HIVEPORT_E_INVALID_ARG;
    *out = NULL;
    hiveport_options defaults;
    hiveport_options_init(&defaults);
    if (opts == NULL)
        opts = &defaults;

    hiveport *h = hp_calloc(1, sizeof *h);
    if (h == NULL)
        return HIVEPORT_E_NOMEM;
    h->lock_fd = -1;
    h->read_fd = -1;
    h->replay_fd = -1;
    *out = h;
    if (path == NULL || *path == '\0') {
        h->path = hp_strdup("");
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "no hive path given");
    }
    h->path = hp_strdup(path);
    if (h->path == NULL) {
        hiveport_close(h);
        *out = NULL;
        return HIVEPORT_E_NOMEM;
    }
    if (opts->size < offsetof(hiveport_options, lock_timeout_ms) + sizeof opts->lock_timeout_ms)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: hiveport_options.size %zu is too small", path,
                        opts->size);
    if (name != NULL && *name != '\0' && (h->name = hp_strdup(name)) == NULL) {
        hiveport_close(h);
        *out = NULL;
        return HIVEPORT_E_NOMEM;
    }
    if (opts->flags & ~HP_KNOWN_OPEN_FLAGS)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: unknown open flags 0x%x", hp_name(h),
                        opts->flags & ~HP_KNOWN_OPEN_FLAGS);
    h->flags = opts->flags;
    h->lock_timeout_ms = opts->lock_timeout_ms;
    if ((h->flags & HIVEPORT_OPEN_COMMIT_LOG) && (h->flags & HIVEPORT_OPEN_COMMIT_COPY))
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: a commit is either logged or copied, not both",
                        hp_name(h));
    if ((h->flags & HIVEPORT_OPEN_DAMAGED) && (h->flags & HIVEPORT_OPEN_WRITE))
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: a damaged hive is opened read-only", hp_name(h));
    if (opts->size >= offsetof(hiveport_options, log_path_count) + sizeof opts->log_path_count &&
        opts->log_path_count > 0) {
        int rc = copy_log_paths(h, opts->log_paths, opts->log_path_count);
        if (rc != HIVEPORT_OK)
            return rc;
    }

    int rc = HIVEPORT_OK;
    if (h->flags & HIVEPORT_OPEN_WRITE)
        rc = hp_lock_acquire(h, opts->lock_timeout_ms);
    if (rc == HIVEPORT_OK)
        rc = hp_hive_load(h);
    if (rc != HIVEPORT_OK) {
        /* Keep only the message: a failed handle holds no hive and no lock. */
        hp_hive_unload(h);
        hp_lock_release(h);
    }
    return rc;
}

HIVEPORT_API int hiveport_open_ext(const char *path, const hiveport_options *opts, hiveport **out)
{
    return hiveport_open_named(path, NULL, opts, out);
}

HIVEPORT_API int hiveport_open(const char *path, unsigned flags, hiveport **out)
{
    hiveport_options opts;
    hiveport_options_init(&opts);
    opts.flags = flags;
    return hiveport_open_ext(path, &opts, out);
}

HIVEPORT_API void hiveport_close(hiveport *h)
{
    if (h == NULL)
        return;
    hp_hive_unload(h);
    hp_lock_release(h);
    hp_inplace_clear(h);
    hp_touched_clear(h);
    for (size_t i = 0; i < h->nlog_paths; i++)
        hp_free(h->log_paths[i]);
    hp_free(h->log_paths);
    hp_free(h->path);
    hp_free(h->name);
    hp_free(h);
}

HIVEPORT_API const char *hiveport_path(const hiveport *h)
{
    return h != NULL && h->path != NULL ? h->path : "";
}

HIVEPORT_API const char *hiveport_name(const hiveport *h)
{
    return h != NULL && h->path != NULL ? hp_name(h) : "";
}

HIVEPORT_API int hiveport_sequence(const hiveport *h, uint32_t *primary, uint32_t *secondary)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    if (primary != NULL)
        *primary = h->seq_primary;
    if (secondary != NULL)
        *secondary = h->seq_secondary;
    return HIVEPORT_OK;
}

HIVEPORT_API int hiveport_is_dirty(const hiveport *h)
{
    if (!hp_handle_usable(h))
        return -1;
    return h->seq_primary != h->seq_secondary;
}

HIVEPORT_API int hiveport_has_changes(const hiveport *h)
{
    return hp_handle_usable(h) && h->changed;
}

HIVEPORT_API int hiveport_discard(hiveport *h)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (!h->changed && !h->broken)
        return HIVEPORT_OK;
    hp_hive_unload(h);
    h->changed = false;
    h->broken = false;
    hp_inplace_clear(h); /* the file already holds what earlier commits patched */
    hp_touched_clear(h);
    return hp_hive_load(h);
}

HIVEPORT_API int hiveport_log_state(const hiveport *h, unsigned *entries)
{
    if (!hp_handle_usable(h))
        return -1;
    if (entries != NULL)
        *entries = h->log_entries;
    return h->log_state;
}

HIVEPORT_API const char *hiveport_log_report(const hiveport *h)
{
    return hp_handle_usable(h) ? h->log_report : "";
}
