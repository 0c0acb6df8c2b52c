/* hiveport.h: pin Windows RPC services to static TCP ports in offline registry hives.
 *
 * libhiveport opens a SYSTEM hive file (Windows\System32\config\SYSTEM of an offline image), resolves
 * CurrentControlSet through the Select key, and reads, sets and removes the registry values that pin RPC
 * services to static ports (Exchange, Active Directory, Netlogon, FRS; KB 270836, KB 224196, KB 319553).
 * Writes are atomic: a temporary file in the same directory, fsync, rename.
 *
 * Conventions:
 *   - Every function that can fail returns 0 (HIVEPORT_OK) or a HIVEPORT_E_* status; results come back
 *     through out-parameters.
 *   - The detail of the last failure (file, control set, key, value, reason) is kept on the handle:
 *     hiveport_errmsg().  hiveport_strerror() names a status when there is no handle.
 *   - Strings are UTF-8.  Registry paths use backslashes.  Key and value names compare case-insensitively,
 *     as in Windows.
 *   - Nothing in this header is owned by the caller unless the function says "the caller frees it with ...".
 */
#ifndef HIVEPORT_H
#define HIVEPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HIVEPORT_BUILDING) && defined(__GNUC__)
#define HIVEPORT_API __attribute__((visibility("default")))
#else
#define HIVEPORT_API
#endif

/* ---- Version ------------------------------------------------------------------------------------- */

#define HIVEPORT_VERSION_MAJOR 0
#define HIVEPORT_VERSION_MINOR 3
#define HIVEPORT_VERSION_MICRO 0
#define HIVEPORT_VERSION "0.3.0"
/* 0xMMmmuu: compare with HIVEPORT_VERSION_HEX >= 0x000300 in #if (0.2 added hiveport_check, hiveport_preflight;
 * 0.3 hiveport_commit_method, hiveport_open_named, hiveport_name and the HIVEPORT_OPEN_COMMIT_* flags). */
#define HIVEPORT_VERSION_HEX \
    ((HIVEPORT_VERSION_MAJOR << 16) | (HIVEPORT_VERSION_MINOR << 8) | HIVEPORT_VERSION_MICRO)

/* The version of the library actually loaded, as "MAJOR.MINOR.MICRO". */
HIVEPORT_API const char *hiveport_version(void);

/* ---- Status codes -------------------------------------------------------------------------------- */

enum hiveport_status {
    HIVEPORT_OK = 0,
    HIVEPORT_E_INVALID_ARG = 1,    /* a NULL handle, an unknown flag, a malformed argument */
    HIVEPORT_E_NOMEM = 2,          /* out of memory */
    HIVEPORT_E_IO = 3,             /* a system call on the file or its directory failed */
    HIVEPORT_E_NOT_HIVE = 4,       /* not a regf file, or not a kind this library handles */
    HIVEPORT_E_TRUNCATED = 5,      /* shorter than its header says */
    HIVEPORT_E_CHECKSUM = 6,       /* the header checksum does not match */
    HIVEPORT_E_CORRUPT = 7,        /* the hive structure is damaged */
    HIVEPORT_E_DIRTY = 8,          /* writing refused: sequence numbers differ (unreplayed logs) */
    HIVEPORT_E_NO_SELECT = 9,      /* no Select key: not a usable SYSTEM hive */
    HIVEPORT_E_BAD_SELECT = 10,    /* a Select value is missing, of the wrong type or out of range */
    HIVEPORT_E_NO_CONTROLSET = 11, /* the target ControlSetNNN does not exist */
    HIVEPORT_E_NOT_SET = 12,       /* the value is not present */
    HIVEPORT_E_WRONG_TYPE = 13,    /* the existing value has another registry type */
    HIVEPORT_E_BAD_DATA = 14,      /* the existing value has the right type but unusable data */
    HIVEPORT_E_RANGE = 15,         /* a port outside what the setting accepts */
    HIVEPORT_E_READONLY = 16,      /* a write on a handle, file or directory that is read-only */
    HIVEPORT_E_LOCKED = 17,        /* another writer held the lock past the timeout */
    HIVEPORT_E_NOT_REGULAR = 18    /* a directory, device, FIFO or (for writing) symbolic link, or a file
                                      with several hard links without HIVEPORT_OPEN_BREAK_LINKS */
};

/* A fixed English sentence for a status code; never NULL (unknown codes get a generic sentence). */
HIVEPORT_API const char *hiveport_strerror(int status);

/* ---- The handle ---------------------------------------------------------------------------------- */

typedef struct hiveport hiveport;

#define HIVEPORT_OPEN_WRITE 0x1u        /* open for writing: takes the writer lock */
#define HIVEPORT_OPEN_NO_LOGS 0x2u      /* do not replay a dirty hive's transaction logs */
#define HIVEPORT_OPEN_DISCARD_LOGS 0x4u /* allow writing a dirty hive whose logs were not replayed,
                                           losing the changes they hold */
#define HIVEPORT_OPEN_BREAK_LINKS 0x8u  /* allow writing a file with several hard links: the commit's rename
                                           leaves the other links with the old hive */
#define HIVEPORT_OPEN_DAMAGED 0x10u     /* read-only: open a hive whose hive bins or root key are damaged, so
                                           that hiveport_check() can say where; other reads may fail */
/* How hiveport_commit() writes (0.3; neither flag: automatic, a logged commit when the hive's transaction
 * logs exist and are usable and no backup is asked for, else the copy commit). */
#define HIVEPORT_OPEN_COMMIT_LOG 0x20u  /* always the logged commit: through the hive's .LOG1/.LOG2 (or .LOG),
                                           then in place; hiveport_commit() refuses when it cannot be done */
#define HIVEPORT_OPEN_COMMIT_COPY 0x40u /* always the copy commit: a temporary file renamed over the hive */

/* Options for hiveport_open_ext(); start from hiveport_options_init(). */
typedef struct hiveport_options {
    size_t size;         /* sizeof(hiveport_options) as compiled by the caller; lets the struct grow */
    unsigned flags;      /* HIVEPORT_OPEN_* */
    int lock_timeout_ms; /* how long a writer waits for another writer's lock: <0 forever, 0 not at all */
    const char *const *log_paths; /* the dirty hive's logs, instead of looking for NAME.LOG1/.LOG2/.LOG */
    size_t log_path_count;        /* entries in log_paths (at most 8) */
} hiveport_options;

/* Fills *opts with the defaults: read-only, a 30000 ms lock timeout, logs found next to the hive. */
HIVEPORT_API void hiveport_options_init(hiveport_options *opts);

/* Opens the hive at path.  flags is 0 (read-only) or HIVEPORT_OPEN_WRITE.
 * On success *out is a handle; the caller frees it with hiveport_close().
 * On failure *out is still set, unless the status is HIVEPORT_E_NOMEM or HIVEPORT_E_INVALID_ARG with
 * out == NULL, to a handle on which only hiveport_errmsg() and hiveport_close() may be called, so that the
 * reason (which names the file) can be read.
 * Read-only opens never open the file for writing and never change its bytes or times; on a plain file they
 * take a shared lock (fcntl F_OFD_SETLK, apart from the writers' flock) until hiveport_close(), waiting
 * while a logged commit writes the file in place (HIVEPORT_E_LOCKED after the lock timeout; file systems
 * without locks are read all the same).  Write opens take an exclusive advisory lock (flock) held until
 * hiveport_close(), waiting up to 30 s for another writer. */
HIVEPORT_API int hiveport_open(const char *path, unsigned flags, hiveport **out);

/* hiveport_open() with options (opts may be NULL for the defaults). */
HIVEPORT_API int hiveport_open_ext(const char *path, const hiveport_options *opts, hiveport **out);

/* hiveport_open_ext() for a hive known by another name than the file read, such as a copy extracted from an
 * image (0.3): every message of the handle names the hive name ("install.wim:2:Windows/System32/config/SYSTEM")
 * instead of path, and the logs found next to it NAME.LOG1, NAME.LOG2, NAME.LOG; files are still read and
 * written through path, which hiveport_path() returns.  name NULL or "": hiveport_open_ext(). */
HIVEPORT_API int hiveport_open_named(const char *path, const char *name, const hiveport_options *opts,
                                     hiveport **out);

/* Frees the handle, discarding uncommitted changes and releasing the lock.  NULL is accepted. */
HIVEPORT_API void hiveport_close(hiveport *h);

/* The detail of the last failure on h ("" when the last call succeeded); valid until the next call on h.
 * Never NULL; for h == NULL it returns a fixed sentence. */
HIVEPORT_API const char *hiveport_errmsg(const hiveport *h);

/* The path the handle was opened with. */
HIVEPORT_API const char *hiveport_path(const hiveport *h);

/* How the handle's messages name the hive: the name given to hiveport_open_named(), else the path (0.3). */
HIVEPORT_API const char *hiveport_name(const hiveport *h);

/* ---- Hive state ---------------------------------------------------------------------------------- */

/* The header's primary and secondary sequence numbers (either pointer may be NULL). */
HIVEPORT_API int hiveport_sequence(const hiveport *h, uint32_t *primary, uint32_t *secondary);

/* 1 when the hive file is dirty (sequence numbers differ: its .LOG1/.LOG2 hold changes the file lacks),
 * 0 when clean, -1 for a handle that failed to open.  This is the file's state on disk; whether the
 * handle sees the logged changes is hiveport_log_state(). */
HIVEPORT_API int hiveport_is_dirty(const hiveport *h);

/* What became of a dirty hive's transaction logs when it was opened. */
enum hiveport_log_state {
    HIVEPORT_LOGS_CLEAN = 0,    /* the hive was clean: no logs needed */
    HIVEPORT_LOGS_REPLAYED = 1, /* the logs were replayed in memory: the handle sees what Windows would */
    HIVEPORT_LOGS_UNUSABLE = 2, /* dirty, and no usable log: values may be stale */
    HIVEPORT_LOGS_IGNORED = 3   /* dirty, and replay was turned off (HIVEPORT_OPEN_NO_LOGS) */
};

/* The log state (or -1 for a handle that failed to open); *entries (may be NULL) gets the number of log
 * entries (new format) or dirty pages (old format) replayed. */
HIVEPORT_API int hiveport_log_state(const hiveport *h, unsigned *entries);

/* One English line on what was done with the logs ("replayed 3 log entries from ...", "no usable log
 * among ...: ..."), "" for a clean hive.  Owned by the handle. */
HIVEPORT_API const char *hiveport_log_report(const hiveport *h);

/* Writes the hive as the handle loaded it (after log replay, so clean) to a new file at dest, atomically;
 * refuses an existing dest and uncommitted changes (HIVEPORT_E_INVALID_ARG), and a dirty hive whose
 * logs were not replayed (HIVEPORT_E_DIRTY).  The original file is never touched. */
HIVEPORT_API int hiveport_save_copy(hiveport *h, const char *dest);

/* 1 when the handle has changes not yet committed, else 0. */
HIVEPORT_API int hiveport_has_changes(const hiveport *h);

/* ---- Control sets -------------------------------------------------------------------------------- */

/* Which Select value, for hiveport_select_value(). */
enum hiveport_select_field {
    HIVEPORT_SELECT_CURRENT = 0,
    HIVEPORT_SELECT_DEFAULT = 1,
    HIVEPORT_SELECT_FAILED = 2,
    HIVEPORT_SELECT_LASTKNOWNGOOD = 3
};

/* Reads one REG_DWORD of the Select key into *number (0 for Failed means none).
 * HIVEPORT_E_NO_SELECT when there is no Select key, HIVEPORT_E_BAD_SELECT when the value is missing or
 * not a 4-byte REG_DWORD. */
HIVEPORT_API int hiveport_select_value(hiveport *h, int field, uint32_t *number);

/* Lists the numbers of every ControlSetNNN key under the root, ascending.  Stores at most capacity numbers
 * in numbers (which may be NULL when capacity is 0) and the total found in *count. */
HIVEPORT_API int hiveport_controlsets(hiveport *h, uint32_t *numbers, size_t capacity, size_t *count);

/* Targets: a control set number (1 = ControlSet001) or one of these. */
#define HIVEPORT_CS_CURRENT (-1)       /* Select\Current: what Windows calls CurrentControlSet */
#define HIVEPORT_CS_DEFAULT (-2)       /* Select\Default: what the next boot uses */
#define HIVEPORT_CS_LASTKNOWNGOOD (-3) /* Select\LastKnownGood */
#define HIVEPORT_CS_ALL (-4)           /* every ControlSetNNN present (set and unset only) */

/* Resolves a target to an existing control set number.  HIVEPORT_E_NO_SELECT / HIVEPORT_E_BAD_SELECT as
 * for hiveport_select_value(); HIVEPORT_E_NO_CONTROLSET when the named ControlSetNNN is absent;
 * HIVEPORT_E_INVALID_ARG for HIVEPORT_CS_ALL or a number outside 1-999. */
HIVEPORT_API int hiveport_resolve_controlset(hiveport *h, int target, uint32_t *number);

/* Parses "current", "default", "lastknowngood", "all" or a decimal 1-999 (case-insensitive) into a
 * target.  Needs no handle: HIVEPORT_E_INVALID_ARG for anything else. */
HIVEPORT_API int hiveport_parse_controlset(const char *text, int *target);

/* ---- Settings ------------------------------------------------------------------------------------ */

#define HIVEPORT_REG_SZ 1u    /* a decimal string, e.g. "6001" */
#define HIVEPORT_REG_DWORD 4u /* a 32-bit little-endian number */

#define HIVEPORT_SETTING_ZERO_DYNAMIC 0x1u /* 0 is valid and means "dynamic" */

/* One registry value that pins a port.  The catalog's entries are const data owned by the library.
 * To use a setting of your own, zero-initialise one and fill key, value_name and type (and flags): the
 * library reads only those four fields from a setting passed to it, and fields added later go at the end. */
typedef struct hiveport_setting {
    const char *key;         /* relative to ControlSetNNN\Services, e.g. "MSExchangeSA\\Parameters" */
    const char *value_name;  /* e.g. "TCP/IP Port" */
    unsigned type;           /* HIVEPORT_REG_DWORD or HIVEPORT_REG_SZ */
    unsigned flags;          /* HIVEPORT_SETTING_* */
    const char *id;          /* catalog id, e.g. "exchange-sa-rfr"; NULL for a custom setting */
    const char *description; /* what it pins */
    const char *source;      /* where the setting is documented, e.g. "KB 270836" */
} hiveport_setting;

/* The number of settings in the catalog. */
HIVEPORT_API size_t hiveport_catalog_count(void);

/* The catalog setting at index i (0-based), or NULL when i is out of range. */
HIVEPORT_API const hiveport_setting *hiveport_catalog_at(size_t i);

/* The catalog setting with this id (case-insensitive), or NULL. */
HIVEPORT_API const hiveport_setting *hiveport_catalog_find(const char *id);

/* ---- Ports --------------------------------------------------------------------------------------- */

/* Reads the port pinned by setting s in control set target (a number or HIVEPORT_CS_CURRENT/DEFAULT/
 * LASTKNOWNGOOD).  *port gets the value as Windows reads it, which may be outside 1-65535.
 * HIVEPORT_E_NOT_SET when the key or the value is absent; HIVEPORT_E_WRONG_TYPE when the value has another
 * type than s->type; HIVEPORT_E_BAD_DATA for a REG_DWORD that is not 4 bytes or a REG_SZ that is not a
 * decimal number below 2^32. */
HIVEPORT_API int hiveport_get_port(hiveport *h, const hiveport_setting *s, int target, uint32_t *port);

#define HIVEPORT_SET_REPLACE_TYPE 0x1u /* overwrite an existing value of another type */

/* Pins setting s to port in control set target (or every control set, HIVEPORT_CS_ALL), creating the keys
 * that are missing.  Like every write, it needs a usable SYSTEM hive: Select's Current, Default and
 * LastKnownGood must name existing control sets, whatever the target (HIVEPORT_E_NO_SELECT,
 * HIVEPORT_E_BAD_SELECT or HIVEPORT_E_NO_CONTROLSET otherwise).  port must be 1-65535, or 0 when s has HIVEPORT_SETTING_ZERO_DYNAMIC
 * (HIVEPORT_E_RANGE otherwise).  An existing value of another type is refused with HIVEPORT_E_WRONG_TYPE
 * unless flags has HIVEPORT_SET_REPLACE_TYPE.  A value that already holds port is left alone.
 * The change is in memory until hiveport_commit(); on failure nothing is changed. */
HIVEPORT_API int hiveport_set_port(hiveport *h, const hiveport_setting *s, int target, uint32_t port,
                                   unsigned flags);

/* Removes the value of setting s in control set target (or HIVEPORT_CS_ALL); keys are kept.  Removing a
 * value that is absent succeeds and changes nothing. */
HIVEPORT_API int hiveport_unset_port(hiveport *h, const hiveport_setting *s, int target);

/* ---- Committing ---------------------------------------------------------------------------------- */

/* Writes the changes.  The logged commit (when the hive's transaction logs exist, as beside every installed
 * Windows hive; see HIVEPORT_OPEN_COMMIT_LOG and hiveport_commit_method()) writes them through the log, then
 * in place: a crash leaves the hive as it was, or dirty with a complete log entry that opening it (or
 * Windows at boot) replays into the new hive; every change (ports, RPC range, DCOM) can take it.  The copy
 * commit (no logs, a backup asked for, breaking hard links, a hive recovered from its logs,
 * HIVEPORT_OPEN_COMMIT_COPY) writes atomically: a temporary file in the same directory, fsync, rename over
 * the original (keeping its mode and, where permitted, its owner), fsync of the directory.  When
 * backup_path is not NULL the previous file is kept there first (replacing any file of that name).
 * With no effective change nothing is written: the file's bytes and times are untouched.
 * On failure the original file is unchanged and no temporary file is left behind. */
HIVEPORT_API int hiveport_commit(hiveport *h, const char *backup_path);

/* How the last commit on h that wrote was done (0.3). */
enum hiveport_commit_method {
    HIVEPORT_COMMIT_NONE = 0, /* no commit has written anything yet */
    HIVEPORT_COMMIT_COPY = 1, /* a temporary file in the same directory, fsync, rename over the hive */
    HIVEPORT_COMMIT_LOG = 2   /* as Windows writes: the changed pages as one entry in the hive's transaction
                                 log (flushed), the primary marked dirty (flushed), the pages in place
                                 (flushed), the base block with equal sequence numbers (flushed) */
};

/* The method of the last commit on h that wrote (or -1 for a handle that failed to open); *report (may be
 * NULL) gets one English line on it, naming the log written and why a copy was made ("" before any
 * commit), owned by the handle.  Since 0.3. */
HIVEPORT_API int hiveport_commit_method(const hiveport *h, const char **report);

/* Drops every uncommitted change, rereading the file (the lock stays held). */
HIVEPORT_API int hiveport_discard(hiveport *h);

/* ---- Comparing two hives ------------------------------------------------------------------------- */

enum hiveport_change_kind {
    HIVEPORT_CHANGE_KEY_ADDED = 0,
    HIVEPORT_CHANGE_KEY_REMOVED = 1,
    HIVEPORT_CHANGE_KEY_TIME = 2, /* the same key with another last-write time */
    HIVEPORT_CHANGE_VALUE_ADDED = 3,
    HIVEPORT_CHANGE_VALUE_REMOVED = 4,
    HIVEPORT_CHANGE_VALUE_CHANGED = 5
};

/* One difference, valid during the callback only; fields may be added at the end. */
typedef struct hiveport_change {
    int kind;               /* enum hiveport_change_kind */
    const char *key;        /* path from the root key, backslash-separated ("" for the root) */
    const char *value_name; /* for value changes ("" is the default value), else NULL */
    const char *old_text;   /* the old value or time as text ("REG_DWORD 5001 (0x00001389)"), or NULL */
    const char *new_text;   /* the new one, or NULL */
} hiveport_change;

/* Called for each difference; a non-zero return stops the comparison. */
typedef int (*hiveport_change_fn)(const hiveport_change *change, void *ctx);

/* Walks both hives and calls fn for every key added or removed, key time changed, and value added,
 * removed or changed (keys and values of an added or removed key are reported too), in name order.
 * Failures (damage, memory) are reported on new_hive. */
HIVEPORT_API int hiveport_diff(hiveport *old_hive, hiveport *new_hive, hiveport_change_fn fn, void *ctx);

/* ---- Audit --------------------------------------------------------------------------------------- */

enum hiveport_severity {
    HIVEPORT_SEVERITY_INFO = 0,
    HIVEPORT_SEVERITY_WARNING = 1,
    HIVEPORT_SEVERITY_ERROR = 2
};

/* One thing the audit (or the check) found.  Owned by its hiveport_findings list, never allocated by a
 * caller; fields may be added at the end (offset came in 0.2). */
typedef struct hiveport_finding {
    int severity;            /* enum hiveport_severity */
    const char *code;        /* stable identifier, e.g. "wrong-type"; see hiveport_audit(3) */
    uint32_t controlset;     /* ControlSetNNN the finding is about, 0 for the hive as a whole */
    const char *setting_id;  /* catalog id concerned, or NULL */
    const char *key;         /* key as found in the hive (relative to the root), or NULL */
    const char *value_name;  /* value name as found in the hive, or NULL */
    uint32_t port;           /* the port concerned, 0 when none */
    const char *message;     /* one English sentence */
    uint64_t offset;         /* hiveport_check(): file offset of the damaged structure, 0 when none */
} hiveport_finding;

/* The result of an audit: an opaque list. */
typedef struct hiveport_findings hiveport_findings;

/* Audits the SYSTEM hive open on h (read-only or not; nothing is changed) and, when software is not
 * NULL, cross-checks against the RPC port range of that open SOFTWARE hive.  On success *out is a list
 * (possibly empty) that the caller frees with hiveport_findings_free().  Problems with the hive itself
 * (no Select, a missing control set) are findings, not failures. */
HIVEPORT_API int hiveport_audit(hiveport *h, hiveport *software, hiveport_findings **out);

/* The number of findings in the list. */
HIVEPORT_API size_t hiveport_findings_count(const hiveport_findings *f);

/* Finding i (0-based), ordered by control set, then severity (errors first), or NULL past the end. */
HIVEPORT_API const hiveport_finding *hiveport_findings_at(const hiveport_findings *f, size_t i);

/* Frees the list and every finding in it.  NULL is accepted. */
HIVEPORT_API void hiveport_findings_free(hiveport_findings *f);

/* "info", "warning" or "error" (and "unknown" otherwise). */
HIVEPORT_API const char *hiveport_severity_name(int severity);

/* ---- Preflight: the audit's rules before a write -------------------------------------------------- */

/* One planned change for hiveport_preflight(). */
typedef struct hiveport_plan_item {
    const hiveport_setting *setting;
    uint32_t port; /* the port to pin (ignored when unset) */
    int unset;     /* non-zero: the value is to be removed, as hiveport_unset_port() does */
} hiveport_plan_item;

/* Checks count planned changes (for control set target, with HIVEPORT_SET_* flags, as hiveport_set_port()
 * and hiveport_unset_port() take them) against the rules of hiveport_audit(), changing nothing: they are
 * made on a private copy of the hive as its file holds it (logs replayed as for h), which is audited before
 * and after.  On success *out (freed with hiveport_findings_free()) lists the findings the changes bring,
 * those the hive does not have already: an error there (port-conflict, port-reserved, port-in-rpc-range
 * with software, ...) is what the audit would call an error once the changes are committed; warnings are
 * for the user.  Last come findings of its own: "service-key-created" (a warning) for each setting outside
 * the catalog whose service key does not exist in a target control set, which the change would create.
 * h may be read-only.  Fails as hiveport_set_port() would on the plan (HIVEPORT_E_RANGE, _WRONG_TYPE,
 * _NO_SELECT, ...) and as hiveport_audit() would, the message on h. */
HIVEPORT_API int hiveport_preflight(hiveport *h, const hiveport_plan_item *plan, size_t count, int target,
                                    unsigned flags, hiveport *software, hiveport_findings **out);

/* ---- Structural check ------------------------------------------------------------------------------ */

#define HIVEPORT_CHECK_PRIMARY 0x1u /* check the primary file as it is on disk, not its logs replayed */

/* Checks every structural rule of the regf format that Windows applies when it loads a hive (base block,
 * hive bins, cells, keys and subkey lists, values and big data, security descriptors) on the hive as the
 * handle loaded it: a dirty hive's logs replayed (an info finding "logs-replayed" says so), or with
 * HIVEPORT_CHECK_PRIMARY the file itself.  Uncommitted changes are not part of it (hiveport_commit()
 * checks what it writes).  Read-only; time and memory grow linearly with the hive.  On success *out is a
 * list (possibly empty) freed with hiveport_findings_free(); each finding has a code listed in
 * hiveport_check(3), the key path where one applies, and the file offset.  Damage is findings, not a
 * failure. */
HIVEPORT_API int hiveport_check(hiveport *h, unsigned flags, hiveport_findings **out);

/* ---- RPC port range and DCOM endpoints ------------------------------------------------------------ */
/* In a SOFTWARE hive (Windows\System32\config\SOFTWARE), keys from the root, no control sets:
 * Microsoft\Rpc\Internet restricts the ports dynamic RPC may use (KB 154596); Classes\AppID\{GUID}\Endpoints
 * pins a DCOM application.  Port lists are text, "5000-5100,5984": entries separated by commas, each a
 * port or an inclusive range within 0-65535. */

/* Frees a string the library allocated (see "the caller frees it with hiveport_free()").  NULL is
 * accepted. */
HIVEPORT_API void hiveport_free(void *p);

/* Reads Microsoft\Rpc\Internet as the RPC runtime does.  *ports gets Ports sorted and merged, e.g.
 * "5000-5100,5984" (the caller frees it with hiveport_free()), *available and *use_internet 'Y' or 'N'
 * (PortsInternetAvailable: Ports lists the ports dynamic RPC may use, or those it must not; and
 * UseInternetPorts), *port_count the number of ports Ports lists; any of them may be NULL, and on failure
 * they are NULL and 0.  HIVEPORT_E_NOT_SET when the key is absent (no restriction).  Once the key exists
 * Windows needs all three values valid, or RPC fails everywhere (error 87): HIVEPORT_E_WRONG_TYPE for a
 * value of the wrong type, HIVEPORT_E_BAD_DATA for a missing value or data Windows rejects, the message
 * naming the value and the entry. */
HIVEPORT_API int hiveport_rpc_get(hiveport *h, char **ports, char *available, char *use_internet,
                                  uint32_t *port_count);

/* Sets the RPC port range, creating the key.  ports is a list as above, written sorted and merged (NULL
 * keeps the Ports already there); available and use_internet are 'Y' or 'N' (either case), or 0 to keep
 * the value there ('Y' when there is none).  Malformed input, and an existing flag Windows rejects that
 * is not given, are refused before anything changes (HIVEPORT_E_INVALID_ARG, HIVEPORT_E_WRONG_TYPE,
 * HIVEPORT_E_BAD_DATA, naming the entry or value).  Values that already hold what is asked are left
 * alone.  *port_count (may be NULL) gets the number of ports listed.  In memory until hiveport_commit(). */
HIVEPORT_API int hiveport_rpc_set(hiveport *h, const char *ports, char available, char use_internet,
                                  uint32_t *port_count);

#define HIVEPORT_RPC_CLEAR_KEEP_KEY 0x1u /* remove only the three values, keeping the Internet key */

/* Removes the RPC port range: deletes the Microsoft\Rpc\Internet key and everything in it, or with
 * HIVEPORT_RPC_CLEAR_KEEP_KEY only Ports, PortsInternetAvailable and UseInternetPorts (Windows reads an
 * Internet key without them as an invalid configuration).  Nothing to remove is no error. */
HIVEPORT_API int hiveport_rpc_clear(hiveport *h, unsigned flags);

/* Checks a port list as KB 154596 advises, for available 'Y' (the ports dynamic RPC may use; also 0) or
 * 'N' (the ports it must not use).  *text gets one English line per warning, each ended by a newline:
 * fewer than 100 ports left to dynamic RPC and, for 'Y', ports inside the dynamic ranges of Windows
 * (1025-5000, 49152-65535) or among the well-known ports Windows listens on; NULL when there is nothing
 * to say.  The caller frees it with hiveport_free().  Needs no handle: HIVEPORT_E_INVALID_ARG for a
 * malformed flag, or a malformed list with the reason in *text ("entry 2, \"5000-\": ..."). */
HIVEPORT_API int hiveport_rpc_warnings(const char *ports, char available, char **text);

/* Reads the port of DCOM application appid (a braced GUID, "{D99E6E74-FC88-11D0-B498-00A0C90312F3}")
 * from the "ncacn_ip_tcp,0,PORT" string of Classes\AppID\{GUID}\Endpoints.  HIVEPORT_E_NOT_SET when
 * the AppID, its Endpoints or a TCP endpoint is absent; HIVEPORT_E_WRONG_TYPE when Endpoints is not a
 * REG_MULTI_SZ; HIVEPORT_E_BAD_DATA for a TCP endpoint that is not a port 1-65535, or two that differ. */
HIVEPORT_API int hiveport_dcom_get_port(hiveport *h, const char *appid, uint32_t *port);

/* Pins DCOM application appid to TCP port (1-65535, else HIVEPORT_E_RANGE): its TCP endpoint becomes
 * "ncacn_ip_tcp,0,PORT", the other strings of Endpoints are kept.  The AppID key must exist
 * (HIVEPORT_E_NOT_SET); an Endpoints of another type is refused (HIVEPORT_E_WRONG_TYPE).  A value that
 * already holds it is left alone.  In memory until hiveport_commit(). */
HIVEPORT_API int hiveport_dcom_set_port(hiveport *h, const char *appid, uint32_t port);

#ifdef __cplusplus
}
#endif

#endif /* HIVEPORT_H */
