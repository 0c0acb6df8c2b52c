/* hivecheck.h: what lib/check*.c share to run hiveport_check() and the commit-time verification.  Not for
 * applications.
 *
 * A check works on the bytes of one hive file (the handle's mapping, the primary file, or a temporary file
 * about to be committed).  check_cells.c walks the hive bins and records, one bit per 8-byte unit of the
 * hive-bins area, where cells start, which are allocated and which something references; the other passes
 * ask it whether an offset is a valid reference.  Memory: three bitmaps, 3/64 of the hive's size. */
#ifndef HIVEPORT_HIVECHECK_H
#define HIVEPORT_HIVECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "le.h"
#include "regf.h"

#define HP_CHECK_REL_NIL 0xFFFFFFFFu
#define HP_CHECK_BIG_SEGMENT 16344u   /* bytes of data in one big-data segment; the single-cell limit */
#define HP_CHECK_MAX_DEPTH 512        /* Windows refuses keys nested deeper */
#define HP_CHECK_KEY_NAME_MAX 255     /* characters in a key name */
#define HP_CHECK_VALUE_NAME_MAX 16383 /* characters in a value name */
#define HP_CHECK_TRIM_BYTES (32u << 20)

/* What referenced a cell, for the shared-cell rule and messages. */
enum hp_check_ref {
    HP_REF_KEY,
    HP_REF_LIST,
    HP_REF_VALUE_LIST,
    HP_REF_VALUE,
    HP_REF_DATA,
    HP_REF_CLASS,
    HP_REF_SECURITY,
};

struct hp_check {
    hiveport *h;                 /* failures (memory) are reported on it */
    hiveport_findings *list;     /* findings go through hp_check_add() */
    const unsigned char *data;   /* the file */
    uint64_t size;               /* its length */
    uint64_t end;                /* 0x1000 + hive-bins size, within the file; 0 until the base block passed */
    uint32_t minor;              /* format minor version */
    uint32_t root;               /* root cell (rel) */
    bool bins_ok;                /* the cell map is complete (no bin was skipped) */
    /* Cell map over [0x1000, end): bit i is the 8-byte unit at 0x1000 + 8 i. */
    uint64_t *start, *alloc, *ref;
    size_t units;
    /* The sk ring: cell offsets (rel), sorted, and how many keys reference each. */
    uint32_t *sk;
    uint32_t *sk_keys;
    size_t nsk;
    bool tree_partial;           /* some keys could not be walked: their sk references are unknown */
    bool ring_broken;            /* the ring does not close: keys off it are not reported one by one */
    size_t off_ring;             /* keys whose sk is not on the (broken) ring */
    /* Keys with volatile fields set on disk: common in real hives, summarised in one finding. */
    size_t volatile_keys;
    uint64_t volatile_first;
    /* A commit's check maps a second copy of the hive beside the session's: its pages are given back (not
     * kept resident) every HP_CHECK_TRIM_BYTES read, so that the peak memory of a write stays that of
     * the session.  Off (0) for hiveport_check(), whose caller's mapping is its own business. */
    uint64_t trim_every, read_since_trim;
    /* Scratch for names in UTF-16 code units (a name is at most 65535 bytes). */
    uint16_t *name_a, *name_b;
    /* A check of part of the hive (check_touched.c): bit i set once the hive bin holding the 4 KiB page
     * at 0x1000 + 4096 i was tiled into the cell map, which happens when a cell in it is first looked at.
     * NULL for a whole-hive check, which tiles every bin first. */
    uint64_t *tiled;
    int tile_rc;                 /* a failure (memory) while tiling on demand, reported by the caller */
    /* The pages the change wrote (file offsets), for a check of part of the hive; NULL otherwise.  before:
     * the hive as it was (before_size bytes), where it tells which leaves of an index root the change
     * wrote kept their neighbours (check_keys.c); NULL when unknown. */
    const uint64_t *changed;
    size_t nchanged;
    const unsigned char *before;
    uint64_t before_size;
};

/* ---- check_map.c: findings, bytes read, the cell map (bins tiled into it), names ---- */
/* Tiles the cells of the hive bin at off (size bytes) into the cell map. */
int hp_check_tile(struct hp_check *c, uint64_t off, uint32_t size);
/* Tiles the hive bin holding file offset off, found by its header up to 16 MiB back, unless c->tiled says
 * it was; a finding when no valid bin holds it.  Sets c->tiled for the bin's pages. */
int hp_check_tile_bin_of(struct hp_check *c, uint64_t off);

/* Counts n more bytes read; past trim_every, drops the file's pages from the mapping (they stay cached). */
void hp_check_read(struct hp_check *c, uint64_t n);
/* Adds a finding: severity, code, key path (or NULL), file offset (or 0).  HIVEPORT_OK or NOMEM. */
int hp_check_add(struct hp_check *c, int severity, const char *code, const char *key, uint64_t offset,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The record of the allocated cell at rel offset rel (after its size field) and its length, or NULL when
 * rel is not the start of an allocated cell.  Needs the cell map. */
const unsigned char *hp_check_cell(struct hp_check *c, uint32_t rel, uint32_t *len);
/* Why rel is not an allocated cell ("outside the hive bins", "inside another cell", "a free cell"). */
const char *hp_check_why_not_cell(struct hp_check *c, uint32_t rel);
/* Marks rel referenced; true when it already was (a cell two structures claim). */
bool hp_check_mark(struct hp_check *c, uint32_t rel);
/* Decodes a key or value name (Latin-1 when compressed, else UTF-16LE) into units; returns the count. */
size_t hp_check_name_units(const unsigned char *name, size_t len, bool compressed, uint16_t *units);
/* UTF-8 of a name, for messages (malloc'd through hp_malloc; NULL when out of memory). */
char *hp_check_name_utf8(const unsigned char *name, size_t len, bool compressed);
/* The same into out (room for 3 bytes per character and a terminator); returns the bytes written. */
size_t hp_check_name_utf8_into(const unsigned char *name, size_t len, bool compressed, char *out);
/* Runs every pass over data[0, size).  Findings are added to c->a.list. */
int hp_check_bytes(struct hp_check *c);

/* ---- check_base.c: the base block; sets c->end, minor, root.  false: nothing more can be checked ---- */
int hp_check_base(struct hp_check *c, bool *go_on);

/* ---- check_cells.c: the chain of hive bins, each tiled into the cell map; leaks at the end ---- */
int hp_check_bins(struct hp_check *c);
int hp_check_leaks(struct hp_check *c);

/* ---- check_upcase.c: Windows' upper-casing of one UTF-16 code unit, and its order of names ---- */
uint16_t hp_check_upcase_slow(uint16_t unit);
static inline uint16_t hp_check_upcase(uint16_t u) /* most names are ASCII */
{
    return u < 0x80 ? (uint16_t)(u >= 'a' && u <= 'z' ? u - 0x20 : u) : hp_check_upcase_slow(u);
}
/* -1, 0, 1: the name a (na code units) against b as Windows orders subkeys (upper-cased units, then length). */
int hp_check_compare_names(const uint16_t *a, size_t na, const uint16_t *b, size_t nb);

/* ---- check_keys.c: the key tree from the root: nk, subkey lists, order, hashes, hints, limits ---- */
int hp_check_keys(struct hp_check *c);
/* The summary of what hp_check_keys() counted rather than reported (volatile fields). */
int hp_check_keys_summary(struct hp_check *c);
/* One key on its own: its record (with the parent it names), values, security cell, subkey list and
 * longest-name fields; its subkeys are claimed, not walked.  For a check of the keys an edit touched. */
int hp_check_key(struct hp_check *c, uint32_t rel);

/* ---- check_values.c: one key's values (called by check_keys.c); path is the key's, for findings ---- */
/* *max_name / *max_data get the longest value name (UTF-16 bytes) and data size found. */
int hp_check_values(struct hp_check *c, const unsigned char *nk, uint32_t nk_rel, const char *path,
                    uint32_t *max_name, uint32_t *max_data);

/* One value record at vk_rel, alone (its bins already tiled). */
int hp_check_value(struct hp_check *c, uint32_t vk_rel, const char *path);

/* ---- check_security.c: the sk ring (before the keys), each key's sk, reference counts (after) ---- */
int hp_check_sk_ring(struct hp_check *c);
int hp_check_key_sk(struct hp_check *c, uint32_t sk_rel, uint32_t nk_rel, const char *path);
int hp_check_sk_counts(struct hp_check *c);

/* ---- check.c: one run, and the commit-time verification ---- */
/* The base block checked (go_on: the rest can be read) and the cell map allocated, empty. */
int hp_check_start(struct hp_check *c, bool *go_on);
/* Frees what a run allocated in c (not c->list). */
void hp_check_free(struct hp_check *c);
/* Checks data[0, size) (any bytes) into *out; failures on h.  For tests and the fuzz target. */
int hp_check_buffer(hiveport *h, const unsigned char *data, uint64_t size, hiveport_findings **out);
/* Checks data[0, size) into a new *out.  replayed: NULL, or the text of a "logs-replayed" finding saying
 * which bytes these are; trim: give the mapping's pages back as it reads (HP_CHECK_TRIM_BYTES). */
int hp_check_run(hiveport *h, const unsigned char *data, uint64_t size, const char *replayed, bool trim,
                 hiveport_findings **out);
/* Maps the file open on fd read-only (*data NULL for an empty file); munmap() it after. */
int hp_check_map_fd(hiveport *h, int fd, const char *what, const unsigned char **data, uint64_t *size);
/* How many errors f holds, and the first as text ("CODE in key "K" at offset 0x...: MESSAGE"), hp_malloc'd,
 * NULL when there is none. */
int hp_check_errors(hiveport *h, const hiveport_findings *f, size_t *errors, char **first);
/* rc, or when it is HIVEPORT_OK and f holds an error, HIVEPORT_E_CORRUPT on h naming the first. */
int hp_check_refuse(hiveport *h, const hiveport_findings *f, int rc);
/* check_touched.c: the check of a commit of native edits: the base block, the hive bins holding the pages
 * that changed (pages: file offsets), and each key the edits touched (keys: file offsets of nk cells; one
 * no longer a key, because it was deleted, is skipped), tiling other bins only where those keys lead.
 * before: the hive as it was (before_size bytes; NULL when unknown).  Findings into a new *out. */
int hp_check_touched(hiveport *h, const unsigned char *data, uint64_t size, const unsigned char *before,
                     uint64_t before_size, const uint64_t *pages, size_t npages, const uint64_t *keys, size_t nkeys,
                     hiveport_findings **out);
/* Checks the hive file open on fd (a temporary file about to be committed).  HIVEPORT_OK when no error
 * was found; HIVEPORT_E_CORRUPT on h with the first error in the message otherwise. */
int hp_check_before_commit(hiveport *h, int fd, const char *what);

#endif
