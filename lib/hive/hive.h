/* hive.h: an open hive: the handle, its lock, log replay, navigation, in-place and native edits,
 * time stamps and commits.  Not for applications.  Uses the base and the regf format below it. */
#ifndef HIVEPORT_HIVE_H
#define HIVEPORT_HIVE_H

#include <hivex.h>

#include "base.h"
#include "regf.h"

/* ---- The handle ---- */

/* A value edit written in place (inplace.c): data bytes at data_off, the vk's data-size field at size_off. */
struct hp_patch {
    hive_node_h key;      /* the key holding the value (its timestamp is updated) */
    hive_value_h vk;      /* the value's vk cell (its file offset) */
    uint64_t data_off;    /* file offset of the data */
    uint64_t size_off;    /* file offset of the vk data-size field */
    uint32_t size_field;  /* new data-size field (bit 31: inline) */
    uint32_t type;
    uint32_t len;
    unsigned char data[24];
};

struct hiveport {
    char *path;              /* the path opened: every file operation uses it */
    char *name;              /* hiveport_open_named() (a hive inside an image), hp_malloc'd; NULL: messages
                                name the hive by path (hp_name()) */
    unsigned flags;          /* HIVEPORT_OPEN_* */
    struct hp_image img;     /* the file as loaded; img.data NULL when the open failed */
    int lock_fd;             /* write handles: the locked hive file, else -1 */
    int lock_timeout_ms;     /* from the open options: how long to wait for a lock */
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
    bool broken;             /* a change failed half-way: commit refused until discard */
    bool scratch;            /* changes in memory only, never committed (preflight.c): see no_reuse in regf.h */
    struct hp_patch *patches; /* in-place edits, committed or not (inplace.c) */
    size_t npatches, cappatches;
    uint64_t *bin_starts;    /* where the bins of img start (hp_regf_check_bins), for the edit's index */
    uint64_t bin_starts_end; /* the img.end they describe */
    bool lazy_bins;          /* the open did not walk the chain of bins (a logged writer's: handle.c) */
    struct hp_regf_edit *edit; /* native changes (edit.c): the hive bytes being edited, NULL until one */
    const void *mapping;     /* the file's mapping while img.data points at the edit's bytes */
    size_t mapping_len;      /* and its length (img.map_len is the copy's then) */
    hive_node_h *touched;    /* keys whose last-write time the next commit must set */
    size_t ntouched, captouched;
    int commit_method;       /* enum hiveport_commit_method of the last commit that wrote */
    char commit_report[512]; /* one line on it */
    int status;              /* status of the last failed call, 0 after a success */
    char errmsg[HP_ERRMSG_MAX];
};
/* ---- nav.c: keys and values from the file, or the edited copy once native changes began (with the overlay).
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

/* ---- logs.c ---- */
/* Replays the logs of the dirty hive open on fd (size bytes).  On success *replayed_fd is a memory file
 * holding the recovered hive, or -1 when no log was usable (h->log_state and h->log_report say why). */
int hp_logs_replay(hiveport *h, int fd, uint64_t size, int *replayed_fd);

/* Finds NAME.LOG1, NAME.LOG2, NAME.LOG next to the hive (paths[0..2], hp_malloc'd, NULL when absent). */
int hp_logs_find(hiveport *h, char *paths[3]);
/* How messages name the log at path: path, or for a log found beside a hive opened with a name
 * (hiveport_open_named()), NAME.LOG1, NAME.LOG2 or NAME.LOG (the suffix as the file spells it), in buf. */
const char *hp_log_name(const hiveport *h, const char *path, char *buf, size_t len);

/* ---- commit_log.c: the logged commit (pageset.h has the page set and its collection) ---- */
struct hp_page_set;
/* The log a logged commit would write: path NULL (and why says why) when the hive has no usable logs. */
struct hp_log_plan {
    char *path;       /* hp_malloc'd */
    int format;       /* enum hp_txlog_format */
    size_t log_len;   /* its length now */
    char why[256];
};
int hp_log_plan(hiveport *h, struct hp_log_plan *plan);
void hp_log_plan_free(struct hp_log_plan *plan);
/* Writes ps through the planned log, then in place (commit_log.c's header has the order and the flushes). */
int hp_commit_logged(hiveport *h, const struct hp_log_plan *plan, const struct hp_page_set *ps);

/* ---- lock.c: the writer lock ---- */
/* Opens path for writing-permission checks and takes an exclusive flock, waiting up to timeout_ms
 * (<0 forever). Retries when the path was replaced while waiting. Sets h->lock_fd, dev, ino. */
int hp_lock_acquire(hiveport *h, int timeout_ms);
void hp_lock_release(hiveport *h);
/* Readers of a plain file: a shared lock against in-place commits, waiting up to timeout_ms for one to end
 * (HIVEPORT_E_LOCKED after); a file system without locks is read all the same. */
int hp_read_lock(hiveport *h, int fd, int timeout_ms);
/* A logged commit: the exclusive lock against readers while it writes in place (timeout_ms 0: try once;
 * HIVEPORT_E_LOCKED while readers hold it), and its release. */
int hp_inplace_lock(hiveport *h, int timeout_ms);
void hp_inplace_unlock(hiveport *h);

/* ---- handle.c ---- */
int hp_hive_load(hiveport *h);   /* (re)reads and checks the header and maps the hive at h->path */
void hp_hive_unload(hiveport *h);
/* A scratch handle (h->scratch) on what h loaded: the same file or recovered image, mapped again without
 * the checks h's open made.  h must hold no changes and not be a damaged hive's.  Returns the status with
 * the message on h. */
int hp_hive_open_scratch(hiveport *h, hiveport **out);
/* Drops the pages of the file's mapping from this process (they stay in the page cache, and come back on
 * the next read): after a walk over the whole hive, so that the next one does not hold them twice. */
void hp_hive_release_pages(hiveport *h);
int hp_file_fd(const hiveport *h); /* the descriptor of the file the handle loaded */
bool hp_handle_usable(const hiveport *h);
void hp_inplace_clear(hiveport *h); /* forgets the in-place edits (the handle owns the list) */
int hp_check_handle(const hiveport *h); /* HIVEPORT_E_INVALID_ARG for NULL or failed handles */
/* Before a change: HIVEPORT_E_READONLY for a read-only handle, HIVEPORT_E_INVALID_ARG after a change failed
 * half-way (until hiveport_discard), with the message on h. */
int hp_check_writable(hiveport *h);
/* The start of a call that gives a findings list (check, audit: what): *out NULL, then h usable and out
 * given, else HIVEPORT_E_INVALID_ARG (with the error on h when it is usable). */
int hp_findings_call(hiveport *h, hiveport_findings **out, const char *what);
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
 * (or native changes began), in which case nothing was recorded. */
int hp_inplace_set(hiveport *h, hive_node_h key, hive_value_h vk, uint32_t type, const void *data, size_t len,
                   bool *done);
struct hp_patch *hp_inplace_find(hiveport *h, hive_value_h vk);
/* The value's data as the handle sees it (overlay first); free() the result. NULL with errno. */
char *hp_value_data(hiveport *h, hive_value_h vk, hive_type *type, size_t *len);

/* ---- edit.c, editkey.c, editvalue.c: native changes, made in an editable copy of the hive (regf.h's
 * struct hp_regf_edit) that every read of the session sees (img points at it).  Each marks the session
 * changed and the keys it changed touched; a failure half-way marks it broken. ---- */
int hp_edit_begin(hiveport *h);   /* makes the copy (once); in-place edits pending move into it */
bool hp_edit_active(const hiveport *h); /* native changes are being made */
void hp_edit_end(hiveport *h);    /* drops the copy (handle.c, at unload) */
void hp_edit_sync(hiveport *h);   /* img follows the copy after it grew or moved */
/* Creates the key name under parent (which must not have it). */
int hp_edit_key_add(hiveport *h, hive_node_h parent, const char *name, hive_node_h *child);
/* Deletes key, its values and its subkeys, and its entry in parent's list. */
int hp_edit_subtree_delete(hiveport *h, hive_node_h parent, hive_node_h key);
/* Sets a value of key: vk, when not 0, is the value to replace (its name stays), else one named name is
 * added. */
int hp_edit_value_set(hiveport *h, hive_node_h key, hive_value_h vk, const char *name, uint32_t type,
                      const void *data, size_t len);
int hp_edit_value_delete(hiveport *h, hive_node_h key, hive_value_h vk);

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

/* ---- check_patched.c: what an in-place commit changed: the base block, and each patched value and key
 * with the hive bins that hold them ---- */
int hp_check_patched(hiveport *h, int fd, const char *what);
/* The same on the hive's bytes in memory (size of them: the logged commit's new hive, before it writes). */
int hp_check_patched_image(hiveport *h, const unsigned char *data, uint64_t size);

/* ---- check_loaded.c: the structural check of the hive as the handle loaded it ---- */
/* The number of errors in the hive as the handle loaded it, and the first as text (hp_malloc'd, or NULL). */
int hp_check_loaded(hiveport *h, size_t *errors, char **first);
/* HIVEPORT_E_CORRUPT on h for a native change that met damage at off (what: "key", ...), naming the checker's
 * count and first error in the file as loaded when it finds one. */
int hp_damage_error(hiveport *h, const char *what, uint64_t off);

#endif
