/* fuzz.h: what the fuzz targets share: scratch files, a header fix-up, reading a whole hive, assertions.
 *
 * Each target defines LLVMFuzzerTestOneInput().  Built with clang -fsanitize=fuzzer it is a libFuzzer
 * binary; built with replay.c instead it runs saved inputs (tests/fuzz/regressions/TARGET/...) under the
 * normal or the sanitizer build, which is how `make check` replays every crash ever found. */
#ifndef HIVEPORT_FUZZ_H
#define HIVEPORT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hiveport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private scratch directory for this process (on tmpfs when there is one, so that the fsync of every
 * commit costs nothing); removed at exit.  HIVEPORT_FUZZ_TMP overrides where it is made. */
const char *fz_scratch_dir(void);

/* Writes size bytes to DIR/name (replacing it) and returns the path, owned by the helper (valid until the
 * next call).  Aborts when the scratch file cannot be written: that is not a finding. */
const char *fz_write_file(const char *name, const uint8_t *data, size_t size);

/* When buf starts with a 512-byte base block, stores the checksum its bytes give at 0x1FC, so that
 * mutations reach the structure behind the header instead of all stopping at the checksum test. */
void fz_fix_checksum(uint8_t *buf, size_t len);
/* A malloc'd copy of the input, its header checksum fixed for 15 inputs in 16 (fz_hash), so that most
 * mutations get past the checksum; NULL when out of memory. */
uint8_t *fz_copy_fixed(const uint8_t *data, size_t size);

/* Calls every read-only function on h: header state, every Select value, every control set, every
 * catalog setting (and a few custom ones) in every control set and target, and the audit when the library
 * has one.  Every failure must come with a status the library names and a message. */
void fz_read_everything(hiveport *h);

/* hiveport_open_ext(path) with these flags and no wait for the lock (lock_timeout_ms 0): its status, the
 * handle in *h (to close even on failure). */
int fz_open_nowait(const char *path, unsigned flags, hiveport **h);

/* A failed call must explain itself: a known status and a non-empty message. */
void fz_expect_explained(hiveport *h, int rc, const char *call);

/* Aborts with a message when cond is false (a finding: libFuzzer saves the input). */
#define FZ_ASSERT(cond, ...) ((cond) ? (void)0 : fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__))
_Noreturn void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A 64-bit FNV-1a hash of the input: targets derive their choices from it, so a saved input replays the
 * same calls. */
uint64_t fz_hash(const uint8_t *data, size_t size);

#endif
