/* internal.h: libhiveport's private declarations. Not for applications: nothing here is stable. */
#ifndef HIVEPORT_INTERNAL_H
#define HIVEPORT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hivex.h>

#include "hiveport.h"

/* ---- Limits against hostile input ---- */
#define HP_PATH_MAX_DEPTH 32      /* components in a setting's key */
#define HP_NAME_MAX 255           /* bytes in one key or value name (Windows: 255 characters) */
#define HP_CONTROLSET_MAX 999     /* ControlSet%03u */
#define HP_ERRMSG_MAX 1024
#define HP_REGF_HEADER_SIZE 4096  /* base block */
#define HP_REGF_HBIN_SIZE 4096

/* ---- The handle ---- */

/* The mapped hive file (cells.c reads it): data[0, end) is the header plus the hive bins. */
struct hp_image {
    const unsigned char *data;
    uint64_t end;     /* 0x1000 + hive-bins size */
    size_t map_len;   /* length of the mapping */
};

/* A value edit written in place (inplace.c): data bytes at data_off, the vk's data-size field at size_off. */
struct hp_patch {
    hive_node_h key;      /* the key holding the value (its timestamp is updated) */
    hive_value_h vk;      /* the value's vk cell, as libhivex and the file both know it */
    uint64_t data_off;    /* file offset of the data */
    uint64_t size_off;    /* file offset of the vk data-size field */
    uint32_t size_field;  /* new data-size field (bit 31: inline) */
    uint32_t type;
    uint32_t len;
    unsigned char data[24];
};

struct hiveport {
    char *path;
    unsigned flags;          /* HIVEPORT_OPEN_* */
    struct hp_image img;     /* the file as loaded; img.data NULL when the open failed */
    hive_h *hive;            /* libhivex, opened on demand (hp_hivex_open) */
    bool hive_writable;      /* libhivex opened with HIVEX_OPEN_WRITE (see hp_hive_make_writable) */
    int lock_fd;             /* write handles: the locked hive file, else -1 */
    int read_fd;             /* read handles: the file, else -1 */
    int replay_fd;           /* the hive after log replay (a memory file), else -1 */
    char **log_paths;        /* explicit log files from the options, hp_malloc'd */
    size_t nlog_paths;
    int log_state;           /* enum hiveport_log_state */
    unsigned log_entries;
    char log_report[1024];
    dev_t dev;               /* identity of the file as opened */
    ino_t ino;
    uint32_t seq_primary;
    uint32_t seq_secondary;
    bool changed;            /* uncommitted changes exist */
    bool broken;             /* a change failed half-way in libhivex: commit refused until discard */
    bool structural;         /* libhivex holds changes: commit rewrites through it, no more patches */
    struct hp_patch *patches; /* in-place edits, committed or not (inplace.c) */
    size_t npatches, cappatches;
    hive_node_h *touched;    /* keys whose last-write time the next libhivex commit must set */
    size_t ntouched, captouched;
    int status;              /* status of the last failed call, 0 after a success */
    char errmsg[HP_ERRMSG_MAX];
};

/* ---- alloc.c: every allocation goes through here so tests can fail the Nth one ---- */
void *hp_malloc(size_t n);
void *hp_calloc(size_t count, size_t size);
char *hp_strdup(const char *s);
void hp_free(void *p);
/* Test hook: fail the nth allocation from now on (1 = the next one); 0 disables. */
void hp_alloc_fail_after(unsigned long n);

/* ---- error.c: status and message on the handle; the first error of a call wins ---- */
void hp_clear_error(hiveport *h);
int hp_error(hiveport *h, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int hp_verror(hiveport *h, int status, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* The status for an errno value left by libhivex or a system call. */
int hp_status_from_errno(int err);

/* ---- regf.c: the base block (header), read straight from the bytes ---- */
struct hp_regf_header {
    uint32_t seq_primary;
    uint32_t seq_secondary;
    uint32_t major, minor;
    uint32_t file_type;
    uint32_t hbins_size;
    uint32_t checksum_stored;
    uint32_t checksum_computed;
};
uint32_t hp_regf_checksum(const unsigned char *base_block);
/* Checks the chain of hive bins of the file open on fd: each "hbin" where the previous one ends, its
 * offset field right, its size a multiple of 4096 inside the hive-bins area. */
int hp_regf_check_bins(int fd, uint64_t file_size, uint32_t hbins_size, char *why, size_t why_len);
/* Parses and validates a base block of file_size-byte file. Returns 0 or a status, with a reason in why. */
int hp_regf_parse_header(const unsigned char *buf, size_t buf_len, uint64_t file_size,
                         struct hp_regf_header *out, char *why, size_t why_len);

/* ---- fileutil.c ---- */
char *hp_dir_of(const char *path);  /* the directory part of path ("." when none); caller hp_free()s */
int hp_fsync_dir(const char *dir);  /* 0, or -1 with errno */

/* ---- cells.c: bounded reads of the mapped file; offsets are absolute; -1/NULL on damage ---- */
const unsigned char *hp_cells_nk(const struct hp_image *img, uint64_t off, uint32_t *len);
const unsigned char *hp_cells_vk(const struct hp_image *img, uint64_t off, uint32_t *len);
uint64_t hp_cells_root(const struct hp_image *img);
char *hp_cells_key_name(const struct hp_image *img, uint64_t nk_off);
char *hp_cells_value_name(const struct hp_image *img, uint64_t vk_off);
int hp_cells_walk_subkeys(const struct hp_image *img, uint64_t nk_off, int (*visit)(uint64_t, void *), void *ctx);
int hp_cells_child(const struct hp_image *img, uint64_t nk_off, const char *name, uint64_t *child);
int hp_cells_values(const struct hp_image *img, uint64_t nk_off, const unsigned char **list, uint32_t *count);
uint64_t hp_cells_value_at(const unsigned char *list, uint32_t i);
int hp_cells_value(const struct hp_image *img, uint64_t nk_off, const char *name, uint64_t *vk_off);
int hp_cells_value_type(const struct hp_image *img, uint64_t vk_off, uint32_t *type, size_t *len);
char *hp_cells_value_data(const struct hp_image *img, uint64_t vk_off, uint32_t *type, size_t *len);
uint64_t hp_cells_key_time(const struct hp_image *img, uint64_t nk_off); /* FILETIME, 0 if unreadable */
uint64_t hp_cells_key_parent(const struct hp_image *img, uint64_t nk_off); /* the nk's parent field, absolute */

/* ---- nav.c: keys and values from the file (with the overlay) or from libhivex once structural.
 * Statuses carry a message; lists are zero-terminated and freed with free(); names are freed with free().
 * A child or value that is absent is 0 with HIVEPORT_OK. ---- */
hive_node_h hp_nav_root(hiveport *h);
int hp_nav_child(hiveport *h, hive_node_h node, const char *name, hive_node_h *child);
int hp_nav_children(hiveport *h, hive_node_h node, hive_node_h **out, size_t *count);
char *hp_nav_key_name(hiveport *h, hive_node_h node);
int hp_nav_value(hiveport *h, hive_node_h node, const char *name, hive_value_h *vk);
int hp_nav_values(hiveport *h, hive_node_h node, hive_value_h **out, size_t *count);
char *hp_nav_value_name(hiveport *h, hive_value_h vk);
int hp_nav_value_type(hiveport *h, hive_value_h vk, uint32_t *type, size_t *len);
uint64_t hp_nav_key_time(hiveport *h, hive_node_h node);
/* Asks the CPU to start loading a key's cells: a walk over every key of a large hive waits on memory, one
 * cache miss per key, unless it asks for the keys HP_NAV_PREFETCH_AHEAD places ahead of the one it reads. */
#define HP_NAV_PREFETCH_AHEAD 16
void hp_nav_prefetch_key(const hiveport *h, hive_node_h node);

/* ---- guard.c: before libhivex rewrites a key's values or deletes a subtree (it aborts on damage) ---- */
int hp_key_rewritable(hiveport *h, hive_node_h key);
int hp_subtree_deletable(hiveport *h, hive_node_h key);

/* ---- logs.c ---- */
/* Replays the logs of the dirty hive open on fd (size bytes).  On success *replayed_fd is a memory file
 * holding the recovered hive, or -1 when no log was usable (h->log_state and h->log_report say why). */
int hp_logs_replay(hiveport *h, int fd, uint64_t size, int *replayed_fd);

/* ---- lock.c: the writer lock ---- */
/* Opens path for writing-permission checks and takes an exclusive flock, waiting up to timeout_ms
 * (<0 forever). Retries when the path was replaced while waiting. Sets h->lock_fd, dev, ino. */
int hp_lock_acquire(hiveport *h, int timeout_ms);
void hp_lock_release(hiveport *h);

/* ---- handle.c ---- */
int hp_hive_load(hiveport *h);   /* (re)reads header and opens libhivex (read-only) on h->path */
int hp_hive_make_writable(hiveport *h); /* opens libhivex for writing before a structural change */
void hp_hive_unload(hiveport *h);
int hp_file_fd(const hiveport *h); /* the descriptor of the file the handle loaded */
int hp_hivex(hiveport *h);          /* makes sure h->hive is open (read-only unless already writable) */
bool hp_handle_usable(const hiveport *h);
int hp_check_handle(const hiveport *h); /* HIVEPORT_E_INVALID_ARG for NULL or failed handles */

/* ---- controlset.c ---- */
/* Node of ControlSetNNN, or 0 with HIVEPORT_E_NO_CONTROLSET. */
int hp_controlset_node(hiveport *h, uint32_t number, hive_node_h *node);
/* HIVEPORT_OK when Select's Current, Default and LastKnownGood name existing control sets (writes need it). */
int hp_select_usable(hiveport *h);
/* Resolves target (also HIVEPORT_CS_ALL) into numbers[]; *count set. */
int hp_controlset_targets(hiveport *h, int target, uint32_t *numbers, size_t capacity, size_t *count);

/* ---- hivekind.c: the kind of hive a call needs (HIVEPORT_E_NOT_HIVE, one message per kind, otherwise) ---- */
int hp_require_system(hiveport *h);   /* a Select key or a ControlSetNNN key at the root */
int hp_require_software(hiveport *h); /* Microsoft and Classes at the root */

/* ---- keypath.c: walk and create backslash-separated key paths ---- */
/* Finds path below node; *found = 0 when a component is missing (not an error). */
int hp_key_lookup(hiveport *h, hive_node_h node, const char *path, hive_node_h *found);
/* Finds or creates every component of path below node. */
int hp_key_create(hiveport *h, hive_node_h node, const char *path, hive_node_h *out);
/* Checks a setting's key and value name: non-empty components, no empty names, limits. */
int hp_setting_check(hiveport *h, const hiveport_setting *s);

/* ---- inplace.c ---- */
/* Records an edit of value vk (in key) that fits its current storage; *done false when it does not
 * (or the session is already structural), in which case nothing was recorded. */
int hp_inplace_set(hiveport *h, hive_node_h key, hive_value_h vk, uint32_t type, const void *data, size_t len,
                   bool *done);
struct hp_patch *hp_inplace_find(hiveport *h, hive_value_h vk);
/* The value's data as the handle sees it (overlay first); free() the result. NULL with errno. */
char *hp_value_data(hiveport *h, hive_value_h vk, hive_type *type, size_t *len);
/* Moves every overlay edit into libhivex and makes the session structural. */
int hp_inplace_flush(hiveport *h);
void hp_inplace_clear(hiveport *h);

/* ---- timestamp.c ---- */
/* The FILETIME to write: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
int hp_write_time(hiveport *h, uint64_t *filetime);
/* Remembers that key's last-write time must change at the next commit. */
int hp_touch_key(hiveport *h, hive_node_h key);
void hp_touched_clear(hiveport *h);
/* Stamps key last-write times (nk at each offset) and the header (timestamp, optional sequence bump,
 * checksum) in the file open on fd. */
int hp_stamp_file(hiveport *h, int fd, const hive_node_h *keys, size_t nkeys, bool bump_sequence,
                  uint64_t filetime);

/* ---- port.c ---- */
const char *hp_type_name(uint32_t type);

/* ---- utf16.c ---- */
/* Decimal text from a REG_SZ payload (UTF-16LE, optional terminator). Returns 0 and *number, or -1. */
int hp_sz_to_number(const char *data, size_t len, uint32_t *number);
/* UTF-16LE "NNNN\0" for number into buf (>= 24 bytes); returns the byte length. */
size_t hp_number_to_sz(uint32_t number, char *buf);

#endif
