/* txlog.c: replays a hive's transaction logs (old "DIRT" and new "HvLE" formats) over its bytes in memory.
 *
 * Everything here is bytes in, bytes out (regf-format.md sections 1, 2, 7-10): no file is written, and
 * the only file access is hp_txlog_read_file(), a read-only helper for callers.  Every length and offset
 * read from a log is checked against the bytes actually present before it is used, in 64-bit or
 * subtract-first arithmetic so that no sum can wrap.
 *
 * How a log is judged (the checks that decide "of another hive" are marked SAME-HIVE):
 *   - its 512-byte base-block copy must be valid: "regf", good checksum, primary = secondary, major 1,
 *     minor 2-6, file format 1, clustering factor 1, hive-bins size a non-zero multiple of 4096 <= 2 GiB,
 *     file type 6 (new format) or 1/2 (old format);
 *   - new format: the chain of entries from 0x200 must start with the base block's sequence number and
 *     go up by one per entry; replay stops at the first entry that fails a check (section 9.4);
 *   - when the primary header is valid (SAME-HIVE): the log's copy must carry the primary's root cell
 *     offset and its RmId/LogId GUIDs (0x070-0x08F).  These are set when the hive is created and are not
 *     touched by logging; in the samples the log copies differ from the primary only in the sequence
 *     numbers, file type and checksum, and a reload of the hive under another path (RecoveredHive_Windows7)
 *     changed the file-name field but not the GUIDs, which is why the file name is not compared;
 *   - new format, primary header valid (SAME-HIVE): the first log applied must not be older than the
 *     hive's secondary number, and every further log must continue exactly where the previous one
 *     stopped (its first entry = last applied + 1).  "Older" uses 32-bit serial arithmetic (section 9.4's
 *     ordering rule) rather than YARP's plain compare, so that a wrapped counter orders correctly and a
 *     stray huge number from an unrelated log does not count as newer;
 *   - old format, primary header valid (SAME-HIVE): the log's last-written timestamp must equal the
 *     primary's (the Windows rule of section 8.2; YARP's looser ">=" would accept a newer log of an
 *     unrelated hive).  With an invalid primary header the looser YARP rule is used against the first
 *     hbin's timestamp, since the strict rule refuses YARP's own BadBaseBlockHive sample;
 *   - no log may make the image longer than the hive plus all the logs' bytes (growth_limit), so a few
 *     crafted bytes cannot ask for a 2 GiB image.
 *
 * Which logs are applied:
 *   - a clean hive (valid checksum, equal sequence numbers) gets nothing, whatever the logs hold;
 *   - the new format wins when any new-format log is usable, else the old format (section 7);
 *   - new format, valid primary header: start with the earliest log not older than the hive's
 *     secondary number, then add the log whose first entry follows the last one applied, and so on
 *     (section 9.4 for two logs, generalised); invalid header: only the log with the latest entries;
 *     two logs starting at the same number: the longer chain, then the later log (YARP: LOG2 first);
 *   - old format: the usable log with the latest timestamp, the earlier log on a tie (YARP: LOG1);
 *   - not done (UNCONFIRMED in section 12, and YARP does not either): Windows' checks of rebuilt bins
 *     (old format: stop at an invalid bin; new format: replace it by a dummy bin).
 *
 * The result is built in a new buffer that is sized once, before anything is copied, so the only
 * failure after the checks is that allocation, and the caller's image is never half-replayed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "regf.h"
#include "txlog.h"
#include "le.h"

/* ---- Base block fields (section 1) ---- */
#define BB_SEQ_PRIMARY 0x004
#define BB_SEQ_SECONDARY 0x008
#define BB_TIMESTAMP 0x00C
#define BB_MAJOR 0x014
#define BB_MINOR 0x018
#define BB_FILE_TYPE 0x01C
#define BB_FILE_FORMAT 0x020
#define BB_ROOT_CELL 0x024
#define BB_HBINS_SIZE 0x028
#define BB_CLUSTERING 0x02C
#define BB_HIVE_IDS 0x070     /* RmId and LogId GUIDs */
#define BB_HIVE_IDS_LEN 32
#define BB_FLAGS 0x090
#define BB_CHECKSUM 0x1FC
#define LOG_BASE_BLOCK_LEN 512 /* a log keeps only this much of the base block */

#define FILE_TYPE_PRIMARY 0
#define FILE_TYPE_OLD_LOG 1
#define FILE_TYPE_OLD_LOG_NT 2
#define FILE_TYPE_NEW_LOG 6

#define HBINS_AT 0x1000       /* file offset of the hive-bins data ("rel" 0) */
#define HBIN_TIMESTAMP 0x14   /* FILETIME in the first bin's header */

/* ---- HvLE entries (section 9.1) ---- */
#define HVLE_FIRST_ENTRY 0x200
#define HVLE_ALIGN 512
#define HVLE_SIZE 0x04
#define HVLE_FLAGS 0x08
#define HVLE_SEQ 0x0C
#define HVLE_HBINS_SIZE 0x10
#define HVLE_PAGE_COUNT 0x14
#define HVLE_HASH1 0x18
#define HVLE_HASH2 0x20
#define HVLE_REFS 0x28        /* also the entry header's length */
#define HVLE_REF_LEN 8

/* ---- DIRT logs (section 8.1) ---- */
#define DIRT_AT 0x200
#define DIRT_BITMAP_AT 0x204
#define DIRT_PAGE 512

enum log_kind { LOG_EMPTY, LOG_BAD, LOG_OLD, LOG_NEW };

/* What a first pass found in one log, before anything is applied. */
struct log_scan {
    enum log_kind kind;
    uint32_t base_seq;     /* the base-block copy's sequence number (primary = secondary) */
    uint64_t timestamp;    /* its last-written FILETIME */
    uint32_t base_hbins;   /* its hive-bins size */
    /* new format: the valid chain of entries from 0x200 */
    unsigned entries;
    uint32_t last_seq;
    uint32_t last_hbins;
    uint32_t last_flags;
    uint64_t max_extent;   /* largest 0x1000 + hive-bins size over the chain: the image must be this long */
    /* old format */
    size_t pages_at;       /* file offset of the first dirty page */
    unsigned pages;        /* set bits in the vector */
    bool candidate;        /* passes every check that does not depend on the other logs */
    bool used;
    char reason[200];      /* why it is not used, or where its chain stops */
};

struct hvle_entry {
    uint32_t size, flags, seq, hbins, count;
};

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)hp_le32(p) | (uint64_t)hp_le32(p + 4) << 32;
}

/* a is earlier than b in 32-bit serial arithmetic: (b - a) mod 2^32 in 1..0x7FFFFFFF. */
static bool seq_before(uint32_t a, uint32_t b)
{
    uint32_t d = b - a;
    return d >= 1 && d <= 0x7FFFFFFFu;
}

__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Appends to a message that may already be full (then the tail is silently cut). */
__attribute__((format(printf, 3, 4))) static void say_more(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strnlen(buf, len);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static const char *log_name(const struct hp_txlog_input *log)
{
    return log->name != NULL ? log->name : "log";
}

/* A log's base-block copy (the first 512 bytes):
 *
 *   0x000 "regf"          0x014 major = 1         0x024 root cell (rel)    0x070 RmId, 0x080 LogId
 *   0x004 primary seq     0x018 minor = 2..6      0x028 hive-bins size     0x090 flags
 *   0x008 secondary seq   0x01C type 1/2 or 6     0x02C clustering = 1     0x1FC checksum
 *   0x00C timestamp       0x020 format = 1
 *
 * Sets kind (LOG_EMPTY, LOG_BAD with a reason, LOG_OLD or LOG_NEW) and the base-block numbers.
 */
static void scan_log_base_block(const struct hp_txlog_input *log, struct log_scan *s)
{
    const unsigned char *bb = log->data;
    memset(s, 0, sizeof *s);
    s->kind = LOG_BAD;
    if (log->len == 0) {
        s->kind = LOG_EMPTY;
        say(s->reason, sizeof s->reason, "empty");
        return;
    }
    if (log->len < LOG_BASE_BLOCK_LEN) {
        say(s->reason, sizeof s->reason, "%zu bytes is shorter than a log's 512-byte header", log->len);
        return;
    }
    if (memcmp(bb, "regf", 4) != 0) {
        say(s->reason, sizeof s->reason, "no \"regf\" signature");
        return;
    }
    uint32_t stored = hp_le32(bb + BB_CHECKSUM), computed = hp_regf_checksum(bb);
    if (stored != computed) {
        say(s->reason, sizeof s->reason, "header checksum 0x%08x, its bytes give 0x%08x", stored, computed);
        return;
    }
    uint32_t primary = hp_le32(bb + BB_SEQ_PRIMARY), secondary = hp_le32(bb + BB_SEQ_SECONDARY);
    if (primary != secondary) {
        say(s->reason, sizeof s->reason, "header sequence numbers differ (%u, %u)", primary, secondary);
        return;
    }
    uint32_t major = hp_le32(bb + BB_MAJOR), minor = hp_le32(bb + BB_MINOR);
    if (major != 1 || minor < 2 || minor > 6 || hp_le32(bb + BB_FILE_FORMAT) != 1) {
        say(s->reason, sizeof s->reason, "unsupported format %u.%u", major, minor);
        return;
    }
    if (hp_le32(bb + BB_CLUSTERING) != 1) {
        say(s->reason, sizeof s->reason, "clustering factor %u (only 1 is supported)",
            hp_le32(bb + BB_CLUSTERING));
        return;
    }
    uint32_t hbins = hp_le32(bb + BB_HBINS_SIZE);
    if (hbins == 0 || hbins % HP_REGF_HBIN_SIZE != 0 || hbins > HP_TXLOG_MAX_HBINS) {
        say(s->reason, sizeof s->reason, "hive-bins size 0x%x in its header", hbins);
        return;
    }
    uint32_t type = hp_le32(bb + BB_FILE_TYPE);
    if (type == FILE_TYPE_NEW_LOG)
        s->kind = LOG_NEW;
    else if (type == FILE_TYPE_OLD_LOG || type == FILE_TYPE_OLD_LOG_NT)
        s->kind = LOG_OLD;
    else {
        say(s->reason, sizeof s->reason, "file type %u is not a transaction log", type);
        return;
    }
    s->base_seq = primary;
    s->timestamp = get64(bb + BB_TIMESTAMP);
    s->base_hbins = hbins;
}

/* One HvLE entry at file offset off of a new-format log:
 *
 *   +0x00 "HvLE"
 *   +0x04 entry size: >= 512, a multiple of 512, within the file
 *   +0x08 flags (bit 0: the hive was KTM-locked)
 *   +0x0C sequence number: must be expected_seq
 *   +0x10 hive-bins size: a non-zero multiple of 4096, <= 2 GiB
 *   +0x14 dirty page count: non-zero, its references inside the entry
 *   +0x18 Hash-1 = Marvin32(entry bytes [0x28, size))
 *   +0x20 Hash-2 = Marvin32(entry bytes [0x00, 0x20))
 *   +0x28 count x { u32 rel offset, u32 length }: each page inside the hive-bins size
 *   then  the pages' bytes back to back (their total inside the entry), then padding to the entry size
 *
 * off <= log_len.  Returns NULL and fills *e when the entry passes every check, else why it does not.
 */
static const char *hvle_entry_check(const unsigned char *log, size_t log_len, size_t off,
                                    uint32_t expected_seq, struct hvle_entry *e, char *buf, size_t buf_len)
{
    const unsigned char *p = log + off;
    if (log_len - off < HVLE_REFS)
        return "end of log";
    if (memcmp(p, "HvLE", 4) != 0)
        return "no HvLE signature";
    e->size = hp_le32(p + HVLE_SIZE);
    e->flags = hp_le32(p + HVLE_FLAGS);
    e->seq = hp_le32(p + HVLE_SEQ);
    e->hbins = hp_le32(p + HVLE_HBINS_SIZE);
    e->count = hp_le32(p + HVLE_PAGE_COUNT);
    if (e->size < HVLE_ALIGN || e->size % HVLE_ALIGN != 0)
        return "entry size is not a positive multiple of 512";
    if (e->size > log_len - off)
        return "entry runs past the end of the log (truncated)";
    if (e->hbins == 0 || e->hbins % HP_REGF_HBIN_SIZE != 0 || e->hbins > HP_TXLOG_MAX_HBINS)
        return "bad hive-bins size";
    if (e->count == 0 || e->count > (e->size - HVLE_REFS) / HVLE_REF_LEN)
        return "bad dirty page count";
    /* Hash-2 covers Hash-1, so a changed Hash-1 is caught by Hash-2 and changed data by Hash-1. */
    if (hp_marvin32(HP_MARVIN32_REGF_SEED, p, HVLE_HASH2) != get64(p + HVLE_HASH2))
        return "header hash (Hash-2) mismatch";
    if (hp_marvin32(HP_MARVIN32_REGF_SEED, p + HVLE_REFS, e->size - HVLE_REFS) != get64(p + HVLE_HASH1))
        return "data hash (Hash-1) mismatch";
    if (e->seq != expected_seq) {
        say(buf, buf_len, "sequence number %u where %u was expected", e->seq, expected_seq);
        return buf;
    }
    uint64_t data_len = 0;
    for (uint32_t i = 0; i < e->count; i++) {
        const unsigned char *ref = p + HVLE_REFS + (size_t)i * HVLE_REF_LEN;
        uint64_t rel = hp_le32(ref), len = hp_le32(ref + 4);
        if (rel + len > e->hbins)
            return "a dirty page lies outside the hive-bins size";
        data_len += len;
    }
    if (data_len > e->size - HVLE_REFS - (uint64_t)e->count * HVLE_REF_LEN)
        return "dirty pages run past the end of the entry";
    return NULL;
}

/* Walks the chain of entries from 0x200 and records how far it is valid (section 9.4).  An entry that
 * would make the image longer than max_image also ends it (see growth_limit). */
static void scan_hvle_chain(const struct hp_txlog_input *log, struct log_scan *s, uint64_t max_image)
{
    size_t off = HVLE_FIRST_ENTRY;
    uint32_t expected = s->base_seq;
    char buf[80];

    while (off < log->len) {
        struct hvle_entry e;
        const char *bad = hvle_entry_check(log->data, log->len, off, expected, &e, buf, sizeof buf);
        if (bad != NULL) {
            say(s->reason, sizeof s->reason, "entry at 0x%zx: %s", off, bad);
            return;
        }
        if ((uint64_t)HBINS_AT + e.hbins > max_image) {
            say(s->reason, sizeof s->reason,
                "entry at 0x%zx: hive-bins size 0x%x grows the hive beyond what the logs hold", off, e.hbins);
            return;
        }
        s->entries++;
        s->last_seq = e.seq;
        s->last_hbins = e.hbins;
        s->last_flags = e.flags;
        if ((uint64_t)HBINS_AT + e.hbins > s->max_extent)
            s->max_extent = (uint64_t)HBINS_AT + e.hbins;
        expected++;
        off += e.size;
    }
    say(s->reason, sizeof s->reason, "entries end at the end of the log");
}

/* Copies the pages of the first s->entries entries (already checked by scan_hvle_chain) into out,
 * which is at least s->max_extent bytes long. */
static void apply_hvle_chain(const struct hp_txlog_input *log, const struct log_scan *s, unsigned char *out)
{
    size_t off = HVLE_FIRST_ENTRY;
    for (unsigned n = 0; n < s->entries; n++) {
        const unsigned char *p = log->data + off;
        uint32_t count = hp_le32(p + HVLE_PAGE_COUNT);
        const unsigned char *page = p + HVLE_REFS + (size_t)count * HVLE_REF_LEN;
        for (uint32_t i = 0; i < count; i++) {
            const unsigned char *ref = p + HVLE_REFS + (size_t)i * HVLE_REF_LEN;
            uint32_t rel = hp_le32(ref), len = hp_le32(ref + 4);
            memcpy(out + HBINS_AT + rel, page, len);
            page += len;
        }
        off += hp_le32(p + HVLE_SIZE);
    }
}

/* An old-format log after its base-block copy:
 *
 *   0x200   "DIRT"
 *   0x204   dirty vector: hive-bins size / 4096 bytes (from the log's base block); bit i, LSB first,
 *           set = 512-byte page i of the hive-bins data is dirty
 *   align_up(0x204 + vector bytes, 512)
 *           the dirty pages, 512 bytes each, in bit order: the k-th page goes to file offset
 *           0x1000 + 512 * i, where i is the k-th set bit
 *
 * Bytes after the last page are remnants.  Sets pages_at and pages, or LOG_BAD with a reason (also when
 * the log's hive-bins size would make the image longer than max_image, see growth_limit).
 */
static void scan_dirt(const struct hp_txlog_input *log, struct log_scan *s, uint64_t max_image)
{
    size_t vector_len = s->base_hbins / HP_REGF_HBIN_SIZE;
    if ((uint64_t)HBINS_AT + s->base_hbins > max_image) {
        s->kind = LOG_BAD;
        say(s->reason, sizeof s->reason, "hive-bins size 0x%x grows the hive beyond what the logs hold",
            s->base_hbins);
        return;
    }
    if (log->len < DIRT_BITMAP_AT || memcmp(log->data + DIRT_AT, "DIRT", 4) != 0) {
        s->kind = LOG_BAD;
        say(s->reason, sizeof s->reason, "no DIRT signature at 0x200");
        return;
    }
    if (vector_len > log->len - DIRT_BITMAP_AT) {
        s->kind = LOG_BAD;
        say(s->reason, sizeof s->reason, "dirty vector of %zu bytes is cut off (truncated)", vector_len);
        return;
    }
    unsigned pages = 0;
    for (size_t i = 0; i < vector_len; i++)
        pages += (unsigned)__builtin_popcount(log->data[DIRT_BITMAP_AT + i]);
    /* vector_len <= 2 GiB / 4096, so this cannot wrap. */
    size_t pages_at = (DIRT_BITMAP_AT + vector_len + DIRT_PAGE - 1) / DIRT_PAGE * DIRT_PAGE;
    if (pages_at > log->len || pages > (log->len - pages_at) / DIRT_PAGE) {
        s->kind = LOG_BAD;
        say(s->reason, sizeof s->reason, "%u dirty pages announced but the log ends first (truncated)",
            pages);
        return;
    }
    s->pages_at = pages_at;
    s->pages = pages;
}

/* Copies every dirty page (checked by scan_dirt) to out, which is at least 0x1000 + hive-bins size long. */
static void apply_dirt(const struct hp_txlog_input *log, const struct log_scan *s, unsigned char *out)
{
    const unsigned char *vector = log->data + DIRT_BITMAP_AT;
    const unsigned char *page = log->data + s->pages_at;
    size_t vector_bits = (size_t)(s->base_hbins / HP_REGF_HBIN_SIZE) * 8;
    for (size_t i = 0; i < vector_bits; i++) {
        if (vector[i / 8] & (1u << (i % 8))) {
            memcpy(out + HBINS_AT + i * DIRT_PAGE, page, DIRT_PAGE);
            page += DIRT_PAGE;
        }
    }
}

/* The longest image a replay may produce: the hive as it is (or as its valid header says it should be)
 * plus every byte of the logs.  A hive grows by whole new bins, and new bins are dirty, so their bytes
 * must be in some log; a claim beyond this is not a real log, and refusing it keeps the allocation
 * proportional to the input instead of the 2 GiB a few crafted bytes could ask for. */
static uint64_t growth_limit(size_t hive_len, bool header_valid, uint32_t header_hbins,
                             const struct hp_txlog_input *logs, size_t nlogs)
{
    uint64_t limit = hive_len;
    if (header_valid && (uint64_t)HBINS_AT + header_hbins > limit)
        limit = (uint64_t)HBINS_AT + header_hbins;
    for (size_t i = 0; i < nlogs; i++)
        limit += logs[i].len;
    return limit;
}

/* SAME-HIVE: fields that logging never changes must agree between the primary header and a log's copy. */
static const char *same_hive_check(const unsigned char *primary_bb, const unsigned char *log_bb)
{
    if (hp_le32(primary_bb + BB_ROOT_CELL) != hp_le32(log_bb + BB_ROOT_CELL))
        return "its root cell offset differs from the hive's: a log of another hive";
    if (memcmp(primary_bb + BB_HIVE_IDS, log_bb + BB_HIVE_IDS, BB_HIVE_IDS_LEN) != 0)
        return "its RmId/LogId differ from the hive's: a log of another hive";
    return NULL;
}

/* What the judgement of a log needs to know about the hive. */
struct hive_facts {
    const unsigned char *header;  /* the primary base block */
    bool header_valid;
    uint32_t secondary;           /* its secondary sequence number (header_valid only) */
    bool have_first_bin;
    uint64_t first_bin_timestamp;
    uint64_t max_image;           /* growth_limit() */
};

/* Judges one log on its own: its base block, whether it belongs to this hive and this write, then its
 * structure (HvLE chain or DIRT vector).  Sets s->candidate, or s->reason for why not. */
static void judge_log(const struct hp_txlog_input *log, const struct hive_facts *hive, struct log_scan *s)
{
    scan_log_base_block(log, s);
    if (s->kind != LOG_NEW && s->kind != LOG_OLD)
        return;
    if (hive->header_valid) {
        const char *other = same_hive_check(hive->header, log->data);
        if (other != NULL) {
            say(s->reason, sizeof s->reason, "%s", other);
            return;
        }
        uint64_t hive_timestamp = get64(hive->header + BB_TIMESTAMP);
        if (s->kind == LOG_OLD && s->timestamp != hive_timestamp) {
            say(s->reason, sizeof s->reason,
                "its timestamp 0x%016llx is not the hive's 0x%016llx: not this write's log",
                (unsigned long long)s->timestamp, (unsigned long long)hive_timestamp);
            return;
        }
        if (s->kind == LOG_NEW && seq_before(s->base_seq, hive->secondary)) {
            say(s->reason, sizeof s->reason,
                "its entries start at %u, older than the hive's secondary sequence number %u", s->base_seq,
                hive->secondary);
            return;
        }
    } else if (s->kind == LOG_OLD && hive->have_first_bin && s->timestamp < hive->first_bin_timestamp) {
        say(s->reason, sizeof s->reason, "its timestamp is older than the hive's first bin");
        return;
    }
    if (s->kind == LOG_NEW) {
        scan_hvle_chain(log, s, hive->max_image);
        /* No valid first entry, or one not numbered as the base block says: nothing from this log
         * (SPEC note 7); the reason says where the chain broke. */
        s->candidate = s->entries > 0;
    } else {
        scan_dirt(log, s, hive->max_image);
        s->candidate = s->kind == LOG_OLD;
    }
}

/* Among the new-format candidates not used yet, the one the chain continues with: with from_hive, the
 * earliest not older than hive_secondary; otherwise the one whose first entry is next.  Ties (two logs
 * starting at the same number) go to the longer chain, then to the later log (YARP's LOG2-first rule).
 * Returns an index or -1. */
static int next_new_log(const struct log_scan *scans, size_t n, bool from_hive, uint32_t hive_secondary,
                        uint32_t next)
{
    int best = -1;
    uint32_t best_distance = 0;
    for (size_t i = 0; i < n; i++) {
        const struct log_scan *s = &scans[i];
        if (s->kind != LOG_NEW || !s->candidate || s->used)
            continue;
        uint32_t distance;
        if (from_hive) {
            if (seq_before(s->base_seq, hive_secondary))
                continue;
            distance = s->base_seq - hive_secondary;
        } else {
            if (s->base_seq != next)
                continue;
            distance = 0;
        }
        if (best < 0 || distance < best_distance ||
            (distance == best_distance && s->entries >= scans[best].entries)) {
            best = (int)i;
            best_distance = distance;
        }
    }
    return best;
}

/* With an invalid primary header: the log with the latest entries (by base-block number, serial order;
 * ties to the longer chain, then the later log).  Returns an index or -1. */
static int latest_new_log(const struct log_scan *scans, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const struct log_scan *s = &scans[i];
        if (s->kind != LOG_NEW || !s->candidate)
            continue;
        if (best < 0 || seq_before(scans[best].base_seq, s->base_seq) ||
            (s->base_seq == scans[best].base_seq && s->entries >= scans[best].entries))
            best = (int)i;
    }
    return best;
}

/* The old-format log to apply: the candidate with the latest timestamp, the earlier log on a tie. */
static int latest_old_log(const struct log_scan *scans, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n; i++)
        if (scans[i].kind == LOG_OLD && scans[i].candidate &&
            (best < 0 || scans[i].timestamp > scans[best].timestamp))
            best = (int)i;
    return best;
}

/* Section 10: the header after recovery.  When the primary header was invalid it is replaced by the
 * log's 512-byte copy, padded with zeros to 4096.  File type back to 0; checksum last. */
static void finish_header(unsigned char *out, const unsigned char *log_bb, bool header_from_log,
                          uint32_t sequence, uint32_t hbins_size, uint32_t flags)
{
    if (header_from_log) {
        memcpy(out, log_bb, LOG_BASE_BLOCK_LEN);
        memset(out + LOG_BASE_BLOCK_LEN, 0, HP_REGF_HEADER_SIZE - LOG_BASE_BLOCK_LEN);
    }
    hp_put_le32(out + BB_SEQ_PRIMARY, sequence);
    hp_put_le32(out + BB_SEQ_SECONDARY, sequence);
    hp_put_le32(out + BB_FILE_TYPE, FILE_TYPE_PRIMARY);
    hp_put_le32(out + BB_HBINS_SIZE, hbins_size);
    hp_put_le32(out + BB_FLAGS, flags);
    hp_put_le32(out + BB_CHECKSUM, hp_regf_checksum(out));
}

/* A zero-extended copy of the image, new_len >= image_len bytes long, or NULL. */
static unsigned char *grown_copy(const unsigned char *image, size_t image_len, uint64_t new_len)
{
    if (new_len > SIZE_MAX)
        return NULL;
    unsigned char *out = hp_malloc((size_t)new_len);
    if (out == NULL)
        return NULL;
    memcpy(out, image, image_len);
    memset(out + image_len, 0, (size_t)new_len - image_len);
    return out;
}

/* Lists the logs that were not used, with why, after the account already in why.  Candidates left out by
 * the choice (rather than by their own checks) get their reason here. */
static void explain_unused(const struct hp_txlog_input *logs, struct log_scan *scans, size_t n, int format,
                           bool header_valid, struct hp_txlog_result *res, char *why, size_t why_len)
{
    for (size_t i = 0; i < n; i++) {
        struct log_scan *s = &scans[i];
        if (s->kind == LOG_EMPTY || s->used)
            continue;
        if (s->candidate && s->kind == LOG_NEW && format == HP_TXLOG_FORMAT_NEW && header_valid)
            say(s->reason, sizeof s->reason, "its entries (%u-%u) do not continue the replayed ones",
                s->base_seq, s->last_seq);
        else if (s->candidate && s->kind == LOG_NEW && format == HP_TXLOG_FORMAT_NEW)
            say(s->reason, sizeof s->reason, "entries %u-%u are not the latest: only the latest log "
                "rebuilds a lost header", s->base_seq, s->last_seq);
        else if (s->candidate && s->kind == LOG_OLD && format == HP_TXLOG_FORMAT_NEW)
            say(s->reason, sizeof s->reason, "an old-format log, and new-format logs were replayed");
        else if (s->candidate && s->kind == LOG_OLD)
            say(s->reason, sizeof s->reason, "another old-format log has a later timestamp");
        res->logs_rejected++;
        say_more(why, why_len, "; %s not used: %s", log_name(&logs[i]), scans[i].reason);
    }
}

int hp_txlog_replay(unsigned char **image, size_t *image_len, const struct hp_txlog_input *logs,
                    size_t nlogs, struct hp_txlog_result *res, char *why, size_t why_len)
{
    struct hp_txlog_result ignored;
    struct log_scan scans[HP_TXLOG_MAX_LOGS];
    struct hp_regf_header hdr;
    char scratch[1];

    if (res == NULL)
        res = &ignored;
    memset(res, 0, sizeof *res);
    if (why == NULL || why_len == 0) {
        why = scratch;
        why_len = sizeof scratch;
    }
    why[0] = '\0';

    if (image == NULL || *image == NULL || image_len == NULL || (nlogs > 0 && logs == NULL)) {
        say(why, why_len, "no hive image or no log array");
        return HIVEPORT_E_INVALID_ARG;
    }
    if (nlogs > HP_TXLOG_MAX_LOGS) {
        say(why, why_len, "%zu logs given, at most %d are handled", nlogs, HP_TXLOG_MAX_LOGS);
        return HIVEPORT_E_INVALID_ARG;
    }
    for (size_t i = 0; i < nlogs; i++) {
        if (logs[i].data == NULL && logs[i].len != 0) {
            say(why, why_len, "%s: %zu bytes announced without data", log_name(&logs[i]), logs[i].len);
            return HIVEPORT_E_INVALID_ARG;
        }
    }

    const unsigned char *hive = *image;
    size_t hive_len = *image_len;
    if (hive_len < HP_REGF_HEADER_SIZE) {
        say(why, why_len, "%zu bytes is shorter than the 4096-byte hive header", hive_len);
        return HIVEPORT_E_TRUNCATED;
    }

    /* A bad checksum means the header itself is lost (section 9.4): logs may rebuild it.  A valid
     * header announcing more hive bins than the file holds is kept: the logs may supply them. */
    char header_problem[256];
    int rc = hp_regf_parse_header(hive, hive_len, hive_len, &hdr, header_problem, sizeof header_problem);
    bool header_valid;
    if (rc == HIVEPORT_OK || rc == HIVEPORT_E_TRUNCATED)
        header_valid = true;
    else if (rc == HIVEPORT_E_CHECKSUM)
        header_valid = false;
    else {
        say(why, why_len, "%s", header_problem);
        return rc;
    }

    res->was_dirty = !header_valid || hdr.seq_primary != hdr.seq_secondary;
    if (!res->was_dirty) {
        res->clean = true;
        say(why, why_len, "the hive is clean (sequence numbers %u, %u): logs are not replayed",
            hdr.seq_primary, hdr.seq_secondary);
        return HIVEPORT_OK;
    }

    /* First pass: judge every log on its own. */
    struct hive_facts facts = {
        .header = hive,
        .header_valid = header_valid,
        .secondary = hdr.seq_secondary,
        .max_image = growth_limit(hive_len, header_valid, hdr.hbins_size, logs, nlogs),
    };
    if (hive_len >= HBINS_AT + HBIN_TIMESTAMP + 8 && memcmp(hive + HBINS_AT, "hbin", 4) == 0) {
        facts.have_first_bin = true;
        facts.first_bin_timestamp = get64(hive + HBINS_AT + HBIN_TIMESTAMP);
    }
    for (size_t i = 0; i < nlogs; i++)
        judge_log(&logs[i], &facts, &scans[i]);

    /* Second pass: choose.  The new format wins when any new-format log is usable (section 7). */
    unsigned char *out = NULL;
    uint64_t new_len = hive_len;
    int chosen = header_valid ? next_new_log(scans, nlogs, true, hdr.seq_secondary, 0)
                              : latest_new_log(scans, nlogs);
    if (chosen >= 0) {
        /* Plan the chain across logs, then size the image once, so applying cannot fail half-way. */
        int plan[HP_TXLOG_MAX_LOGS]; /* log indexes in the order their entries follow each other */
        size_t planned = 0;
        struct log_scan *last = NULL;
        for (int i = chosen; i >= 0 && planned < nlogs;) {
            plan[planned++] = i;
            last = &scans[i];
            last->used = true;
            res->used_mask |= 1u << i;
            res->logs_used++;
            res->entries_applied += last->entries;
            if (last->max_extent > new_len)
                new_len = last->max_extent;
            if (!header_valid)
                break; /* only the latest log when the header is lost (section 9.4) */
            i = next_new_log(scans, nlogs, false, 0, last->last_seq + 1);
        }
        out = grown_copy(hive, hive_len, new_len);
        if (out == NULL)
            goto nomem;
        for (size_t i = 0; i < planned; i++)
            apply_hvle_chain(&logs[plan[i]], &scans[plan[i]], out);
        /* Flags bit 0 comes from the last entry; the other bits are not logged and stay as in the
         * header kept (the primary's, or the log's copy when the primary's is lost). */
        const unsigned char *kept = header_valid ? hive : logs[chosen].data;
        uint32_t flags = (hp_le32(kept + BB_FLAGS) & ~1u) | (last->last_flags & 1u);
        finish_header(out, logs[chosen].data, !header_valid, last->last_seq, last->last_hbins, flags);
        res->format = HP_TXLOG_FORMAT_NEW;
        res->new_sequence = last->last_seq;
        say(why, why_len, "replayed %u new-format entries from", res->entries_applied);
        for (size_t i = 0; i < planned; i++)
            say_more(why, why_len, "%s %s (%u-%u)", i > 0 ? "," : "", log_name(&logs[plan[i]]),
                     scans[plan[i]].base_seq, scans[plan[i]].last_seq);
    } else if ((chosen = latest_old_log(scans, nlogs)) >= 0) {
        struct log_scan *s = &scans[chosen];
        const unsigned char *log_bb = logs[chosen].data;
        s->used = true;
        res->used_mask = 1u << chosen;
        res->logs_used = 1;
        res->entries_applied = s->pages;
        new_len = (uint64_t)HBINS_AT + s->base_hbins;
        if (new_len < hive_len)
            new_len = hive_len;
        out = grown_copy(hive, hive_len, new_len);
        if (out == NULL)
            goto nomem;
        apply_dirt(&logs[chosen], s, out);
        /* Section 8.3: hive-bins size, root, minor, flags and timestamp come from the log.  The sequence
         * number is the primary's of the header kept (section 10, YARP): the log's is N-1 on XP/2003. */
        uint32_t sequence = header_valid ? hdr.seq_primary : s->base_seq;
        if (header_valid) {
            memcpy(out + BB_TIMESTAMP, log_bb + BB_TIMESTAMP, 8);
            memcpy(out + BB_MINOR, log_bb + BB_MINOR, 4);
            memcpy(out + BB_ROOT_CELL, log_bb + BB_ROOT_CELL, 4);
        }
        finish_header(out, log_bb, !header_valid, sequence, s->base_hbins, hp_le32(log_bb + BB_FLAGS));
        res->format = HP_TXLOG_FORMAT_OLD;
        res->new_sequence = sequence;
        say(why, why_len, "replayed %u dirty pages from old-format %s", s->pages, log_name(&logs[chosen]));
    } else {
        say(why, why_len, "the hive is dirty (%s) but no log is usable",
            header_valid ? "sequence numbers differ" : "header checksum is bad");
        if (nlogs == 0)
            say_more(why, why_len, ": none given");
        explain_unused(logs, scans, nlogs, HP_TXLOG_FORMAT_NONE, header_valid, res, why, why_len);
        return HIVEPORT_OK;
    }

    res->header_from_log = !header_valid;
    res->clean = true;
    say_more(why, why_len, "; sequence numbers now %u", res->new_sequence);
    explain_unused(logs, scans, nlogs, res->format, header_valid, res, why, why_len);
    hp_free(*image);
    *image = out;
    *image_len = (size_t)new_len;
    return HIVEPORT_OK;

nomem:
    memset(res, 0, sizeof *res);
    res->was_dirty = true;
    say(why, why_len, "out of memory for the replayed hive image");
    return HIVEPORT_E_NOMEM;
}

void hp_txlog_probe(const struct hp_txlog_input *log, struct hp_txlog_probe *p)
{
    struct log_scan s;
    memset(p, 0, sizeof *p);
    if (log == NULL || (log->data == NULL && log->len != 0))
        return;
    scan_log_base_block(log, &s);
    p->empty = s.kind == LOG_EMPTY;
    if (s.kind != LOG_NEW && s.kind != LOG_OLD)
        return;
    p->base_seq = s.base_seq;
    p->timestamp = s.timestamp;
    if (s.kind == LOG_OLD) {
        p->format = HP_TXLOG_FORMAT_OLD;
        return;
    }
    p->format = HP_TXLOG_FORMAT_NEW;
    scan_hvle_chain(log, &s, UINT64_MAX);
    p->entries = s.entries;
    p->last_seq = s.last_seq;
}

int hp_txlog_read_file(const char *path, unsigned char **data, size_t *len, char *why, size_t why_len)
{
    char scratch[1];
    unsigned char *buf = NULL;
    int fd = -1, rc = HIVEPORT_OK, saved_errno = 0;

    if (why == NULL || why_len == 0) {
        why = scratch;
        why_len = sizeof scratch;
    }
    why[0] = '\0';
    if (path == NULL || data == NULL || len == NULL) {
        say(why, why_len, "no path or no place for the result");
        return HIVEPORT_E_INVALID_ARG;
    }
    *data = NULL;
    *len = 0;

    /* O_NONBLOCK so that a FIFO in the log's place cannot hang the open; regular files ignore it. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        saved_errno = errno;
        say(why, why_len, "%s: cannot open: %s", path, strerror(saved_errno));
        rc = HIVEPORT_E_IO;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        saved_errno = errno;
        say(why, why_len, "%s: cannot stat: %s", path, strerror(saved_errno));
        rc = HIVEPORT_E_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        say(why, why_len, "%s: not a regular file", path);
        rc = HIVEPORT_E_NOT_REGULAR;
        goto out;
    }
    if ((uint64_t)st.st_size > HP_TXLOG_MAX_FILE || (uint64_t)st.st_size > SIZE_MAX) {
        say(why, why_len, "%s: %llu bytes is larger than any hive or log this library reads", path,
            (unsigned long long)st.st_size);
        rc = HIVEPORT_E_CORRUPT;
        goto out;
    }
    size_t want = (size_t)st.st_size, got = 0;
    buf = hp_malloc(want);
    if (buf == NULL) {
        say(why, why_len, "%s: out of memory for %zu bytes", path, want);
        rc = HIVEPORT_E_NOMEM;
        goto out;
    }
    /* A file that shrinks meanwhile gives what is there; one that grows gives its first st_size bytes. */
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved_errno = errno;
            say(why, why_len, "%s: read failed: %s", path, strerror(saved_errno));
            rc = HIVEPORT_E_IO;
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *data = buf;
    *len = got;
    buf = NULL;

out:
    hp_free(buf);
    if (fd >= 0)
        close(fd);
    if (saved_errno != 0)
        errno = saved_errno;
    return rc;
}
