/* testutil.h: helpers shared by the Check suites: temporary copies, file comparison, hive dumps. */
#ifndef HIVEPORT_TESTUTIL_H
#define HIVEPORT_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "hiveport.h"

/* The temporary directory of the running Check test: tu_setup_dir makes it, tu_teardown_dir removes it
 * (the fixture pair of a test case; see tu_tcase in suite.h). */
extern char *tu_dir;
void tu_setup_dir(void);
void tu_teardown_dir(void);
/* hiveport_open(path, flags), or the test fails with the library's message. */
hiveport *tu_open_or_fail(const char *path, unsigned flags);
/* The hive at path was not written since before was taken: the same inode, the same modification time
 * and, when original is not NULL, the same bytes as original; otherwise the test fails. */
void tu_assert_unwritten(const char *path, const struct stat *before, const char *original);
/* The lines of the dump of path (tu_dump_hive) that before lacks, and those it lost, are added and removed
 * exactly; otherwise the test fails. */
void tu_expect_diff(const char *before, const char *path, const char *added, const char *removed);
/* A fresh temporary directory (removed by tu_rmtree). */
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);
/* build/fixtures/NAME.hive copied into dir; returns the copy's path (caller frees). */
char *tu_fixture_copy(const char *dir, const char *name);
/* tu_fixture_copy, with the fixture's .LOG1 beside the copy (a dirty fixture whose log holds its latest
 * changes, such as system-logged). */
char *tu_fixture_copy_logged(const char *dir, const char *name);
/* Path of the generated fixture itself (never write to it); valid for the next 7 calls. */
const char *tu_fixture_path(const char *name);
/* ../shared/hives/NAME.xz decompressed into dir, or NULL (through tu_skip) when the hives are absent. */
char *tu_real_hive(const char *dir, const char *name);
/* Copies src to dest; returns 0 on success. */
int tu_copy(const char *src, const char *dest);
/* The whole file in a malloc'd buffer (NULL if unreadable). */
unsigned char *tu_read(const char *path, size_t *len);
/* 1 when both files have the same bytes. */
int tu_same_bytes(const char *a, const char *b);
/* A sorted text dump of every key and value ("KEY\n", "KEY:NAME=TYPE:HEX\n"), caller frees. */
char *tu_dump_hive(const char *path);
/* The lines of b that are not in a (a and b newline-separated, each sorted), caller frees. */
char *tu_lines_added(const char *a, const char *b);
/* The same, in b's order, for dumps that may be equal (tu_lines_added() then passes NULL to qsort(), which
 * the sanitizer build rejects); the caller frees it. */
char *tu_lines_added_in_order(const char *a, const char *b);
int tu_stat(const char *path, struct stat *st);
/* A test that cannot run: prints "SKIP: WHAT: REASON" and returns; under CI=true a skip is a test that
 * did not run, so it prints FAIL and exits 1 instead (in a Check test's forked child: the test's error). */
void tu_skip(const char *what, const char *reason);
/* 1 when a and b have the same modification time, to the nanosecond (a write that changed nothing). */
int tu_same_mtime(const struct stat *a, const struct stat *b);
/* Where, in the hive bytes, the entry of parent's subkey list (lf, lh or li; not ri) that points at child
 * lies (parent and child: key offsets as libhivex gives them); 0 when there is none.  For tests that
 * damage a list on purpose. */
size_t tu_subkey_entry(const unsigned char *hive, size_t len, uint64_t parent, uint64_t child);
/* A copy of the file path beside it, as path followed by suffix ("%s.orig"); its name (caller frees); aborts
 * when it cannot. */
char *tu_copy_beside(const char *path, const char *suffix);
/* UTF-16LE of n bytes of ASCII (explicit NULs included, none added) into out (2n bytes); returns 2n.  For
 * REG_SZ and REG_MULTI_SZ payloads; TU_UTF16 takes a string literal. */
size_t tu_utf16(const char *ascii, size_t n, char *out);
#define TU_UTF16(lit, buf) tu_utf16(lit, sizeof lit - 1, buf)
/* dir/name (caller frees). */
char *tu_path_in(const char *dir, const char *name);
/* Writes len bytes of data as the file path (created or truncated): 0, or -1. */
int tu_write(const char *path, const void *data, size_t len);
/* log: a log as Windows leaves it after the primary caught up: the hive's base block (both sequence
 * numbers the primary's, file type type: 6 new format, 1 old) and no entry.  0, or -1. */
int tu_write_caught_up_log(const char *hive, const char *log, uint32_t type);
/* tu_write, and the test fails when it cannot. */
void tu_write_file(const char *path, const unsigned char *data, size_t len);
/* tu_write_caught_up_log, and the test fails when it cannot.  A hive with such a .LOG1 and an empty .LOG2
 * takes the logged commit. */
void tu_make_log(const char *hive_path, const char *log_path, uint32_t type);
/* libhivex reads the root key's value name in the hive at path as exactly len bytes of data. */
void tu_assert_root_value(const char *path, const char *name, const void *data, size_t len);
/* hiveport_check() finds no error in the hive at path; otherwise the test fails, naming the first. */
void tu_assert_check_clean(const char *path);

#endif
