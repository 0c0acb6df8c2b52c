/* txlog.h: internal, not for applications: Marvin32 and transaction-log replay over an in-memory hive. */
#ifndef HIVEPORT_TXLOG_H
#define HIVEPORT_TXLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- marvin32.c ---- */

/* The seed of both HvLE entry hashes (regf-format.md section 9.2). */
#define HP_MARVIN32_REGF_SEED UINT64_C(0x82EF4D887A4E55C5)

/* Marvin32 of len bytes (data may be NULL when len is 0), as (hi << 32) | lo. */
uint64_t hp_marvin32(uint64_t seed, const unsigned char *data, size_t len);

/* ---- txlog.c ---- */

/* Limits against hostile input. */
#define HP_TXLOG_MAX_LOGS 8                           /* .LOG, .LOG1, .LOG2 and room to spare */
#define HP_TXLOG_MAX_HBINS UINT32_C(0x80000000)       /* hive-bins data size: 2 GiB */
#define HP_TXLOG_MAX_FILE (UINT64_C(0x80000000) * 2)  /* hp_txlog_read_file refuses larger files */

enum hp_txlog_format {
    HP_TXLOG_FORMAT_NONE = 0, /* nothing replayed */
    HP_TXLOG_FORMAT_OLD = 1,  /* "DIRT" dirty-page vector (XP .. Windows 8.0) */
    HP_TXLOG_FORMAT_NEW = 2   /* "HvLE" entries (Windows 8.1 and later) */
};

/* One log file's bytes (.LOG, .LOG1, .LOG2).  A 0-byte log is normal (the unused slot).  name is used
 * only in messages; pass LOG1 before LOG2, since ties between old-format logs go to the earlier one. */
struct hp_txlog_input {
    const char *name;
    const unsigned char *data;
    size_t len;
};

struct hp_txlog_result {
    int format;               /* enum hp_txlog_format: which kind of log was replayed, NONE if none */
    unsigned entries_applied; /* HvLE entries (new format) or 512-byte dirty pages (old format) written */
    unsigned logs_used;       /* how many logs contributed */
    unsigned used_mask;       /* bit i set: logs[i] contributed */
    unsigned logs_rejected;   /* non-empty logs that were invalid, of another hive, or too old */
    uint32_t new_sequence;    /* both header sequence numbers after replay (when format != NONE) */
    bool was_dirty;           /* the hive needed recovery: bad header checksum or sequence numbers differ */
    bool header_from_log;     /* the primary header was invalid and was rebuilt from a log's copy */
    bool clean;               /* the image's header is now valid with equal sequence numbers */
};

/* Replays transaction logs over a hive image.
 * *image is the primary hive file's bytes (*image_len of them), allocated with hp_malloc(); on success
 * it may be replaced by a new hp_malloc'd buffer (the old one is freed) that is at least as long.
 * Returns HIVEPORT_OK, or HIVEPORT_E_INVALID_ARG, HIVEPORT_E_NOMEM, HIVEPORT_E_TRUNCATED (image shorter
 * than the 4096-byte header), HIVEPORT_E_NOT_HIVE / HIVEPORT_E_CORRUPT (the image is not a primary
 * hive file with a usable header), with a reason in why.  On any error *image and *image_len are untouched.
 * A clean hive gets nothing applied.  A dirty hive whose logs are all unusable (invalid, truncated, of
 * another hive, older than the hive) also gets nothing applied: the call still returns HIVEPORT_OK, with
 * res->format == HP_TXLOG_FORMAT_NONE, res->clean false and the reasons in why.  On HIVEPORT_OK why
 * always holds a one-line account of what was done.  res may be NULL; why may be NULL if why_len is 0. */
int hp_txlog_replay(unsigned char **image, size_t *image_len, const struct hp_txlog_input *logs,
                    size_t nlogs, struct hp_txlog_result *res, char *why, size_t why_len);

/* Reads the whole regular file at path (opened O_RDONLY) into an hp_malloc'd buffer.
 * Returns HIVEPORT_OK with *data and *len set (the caller frees *data with hp_free()), or
 * HIVEPORT_E_IO (errno kept, so ENOENT can be told apart), HIVEPORT_E_NOT_REGULAR, HIVEPORT_E_NOMEM,
 * HIVEPORT_E_CORRUPT (larger than HP_TXLOG_MAX_FILE), with a reason in why. */
int hp_txlog_read_file(const char *path, unsigned char **data, size_t *len, char *why, size_t why_len);

/* What one log file holds, judged on its own (no hive needed): its format, the base block's sequence
 * number and timestamp, and for the new format how far its chain of entries is valid. */
struct hp_txlog_probe {
    int format;           /* enum hp_txlog_format: NONE for an empty, unreadable or invalid log */
    bool empty;           /* 0 bytes (the unused slot) */
    uint32_t base_seq;    /* the base block's sequence number (primary = secondary) */
    uint64_t timestamp;   /* its last-written FILETIME */
    unsigned entries;     /* new format: valid entries from 0x200 */
    uint32_t last_seq;    /* new format: the last valid entry's number (when entries > 0) */
};
void hp_txlog_probe(const struct hp_txlog_input *log, struct hp_txlog_probe *p);

/* ---- logwrite.c: the logs a logged commit writes (the reverse of the replay above) ---- */

/* One commit's changed 4 KiB pages of the hive-bins area: file offsets (ascending, multiples of 4096,
 * >= 4096) and their new contents. */
struct hp_log_pages {
    size_t n;
    const uint64_t *offsets;
    const unsigned char *const *pages;
};

/* A new-format log holding one HvLE entry numbered seq: the 512-byte copy of base_block (the commit's new
 * base block: its hive-bins size and flags are the entry's) with both sequence numbers seq and file type 6,
 * then at 0x200 the entry (contiguous pages in one reference, Marvin32 hashes), padded so that the next
 * entry would start on a 4 KiB boundary.  *out is hp_malloc'd; HIVEPORT_E_NOMEM or HIVEPORT_E_INVALID_ARG. */
int hp_logwrite_new(const unsigned char *base_block, uint32_t seq, const struct hp_log_pages *pg,
                    unsigned char **out, size_t *out_len);

/* An old-format (DIRT) log of the same pages: the 512-byte base-block copy (both sequence numbers seq, file
 * type 1, base_block's timestamp and hive-bins size), "DIRT", the bitmap of 512-byte pages, the pages. */
int hp_logwrite_old(const unsigned char *base_block, uint32_t seq, const struct hp_log_pages *pg,
                    unsigned char **out, size_t *out_len);

#endif
