/* base.h: what every layer of libhiveport uses: limits, allocation, errors on the handle, files, UTF-16,
 * value type names, findings lists.  Not for applications: nothing here is stable.
 *
 * The base calls nothing above it.  Errors are recorded on the handle (struct hiveport, hive/hive.h), whose
 * fields error.c writes: a data dependency only. */
#ifndef HIVEPORT_BASE_H
#define HIVEPORT_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hiveport.h"

/* ---- Limits against hostile input ---- */
#define HP_PATH_MAX_DEPTH 32      /* components in a setting's key */
#define HP_NAME_MAX 255           /* bytes in one key or value name (Windows: 255 characters) */
#define HP_CONTROLSET_MAX 999     /* ControlSet%03u */
#define HP_ERRMSG_MAX 1024

/* ---- alloc.c: every allocation goes through here so tests can fail the Nth one ---- */
void *hp_malloc(size_t n);
void *hp_calloc(size_t count, size_t size);
char *hp_strdup(const char *s);
void hp_free(void *p);
/* items (count used of *cap, size bytes each) with room for one more: items itself when there is room,
 * else a copy of twice the capacity (first at the start; *cap updated) and items freed.  NULL when out
 * of memory, items untouched.  One array-growing rule for every list the library keeps. */
void *hp_grow(void *items, size_t count, size_t *cap, size_t size, size_t first);
/* Test hook: fail the nth allocation from now on (1 = the next one); 0 disables. */
void hp_alloc_fail_after(unsigned long n);

/* ---- error.c: status and message on the handle; the first error of a call wins ---- */
void hp_clear_error(hiveport *h);
int hp_error(hiveport *h, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int hp_verror(hiveport *h, int status, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* The hive file's name as the handle was opened, for messages (layers below the handle use it). */
const char *hp_name(const hiveport *h);
/* The status for an errno value left by a system call. */
int hp_status_from_errno(int err);

/* ---- fileutil.c ---- */
char *hp_dir_of(const char *path);  /* the directory part of path ("." when none); caller hp_free()s */
int hp_fsync_dir(const char *dir);  /* 0, or -1 with errno */
/* A private copy-on-write mapping of fd's first file_len bytes at the start of total bytes of anonymous
 * address space (pages beyond file_len read as zero instead of faulting); writes go to private pages only.
 * MAP_FAILED with errno, else unmapped with munmap(map, total). */
void *hp_map_file_private(int fd, size_t file_len, size_t total);
/* Writes all len bytes at off, again after EINTR and short writes: 0, or -1 with errno (EIO when the file
 * takes no more). */
int hp_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/* ---- utf16.c ---- */
/* The next code point of the UTF-8 text at *p (before end), advancing *p; -1 at the end or on malformed
 * input. */
int32_t hp_utf8_next(const unsigned char **p, const unsigned char *end);
/* Decimal text from a REG_SZ payload (UTF-16LE, optional terminator). Returns 0 and *number, or -1. */
int hp_sz_to_number(const char *data, size_t len, uint32_t *number);
/* UTF-16LE "NNNN\0" for number into buf (>= 24 bytes); returns the byte length. */
size_t hp_number_to_sz(uint32_t number, char *buf);

/* ---- valuetype.c ---- */
const char *hp_type_name(uint32_t type); /* "REG_DWORD", ... */

/* ---- alloc.c ---- */
/* printf into a new string (the caller frees it with hp_free), or NULL when out of memory. */
char *hp_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *hp_vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#include "findings.h"

#endif
