/* fault.h: what the fault-injection drivers share: reporting, scratch directories, reading ports back.
 *
 * Every driver prints one line per check, "ok - WHAT" or "not ok - WHAT: WHY", and exits non-zero when any
 * check failed; tests/fault/run.sh runs the drivers and prints the total as "N passed, N failed". */
#ifndef HIVEPORT_FAULT_H
#define HIVEPORT_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hiveport.h"

/* Records one check: prints "ok - what" or "not ok - what: why" (why formatted from fmt). */
bool fl_check(bool cond, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints this driver's totals; returns its exit status. */
int fl_finish(void);
/* "not ok" for something that stops the driver, then exits. */
_Noreturn void fl_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A fresh scratch directory (under $TMPDIR or /tmp); fl_cleanup removes it and frees the name. */
char *fl_tmpdir(void);
void fl_cleanup(char *dir);
/* dir/name as a new string (caller frees). */
char *fl_join(const char *dir, const char *name);
/* Copies fixture NAME (build/fixtures or $HIVEPORT_FIXTURES) to dest; bails when it cannot. */
void fl_fixture(const char *name, const char *dest);

/* Names in dir other than those in keep (a NULL-terminated list), comma-separated, or NULL when none
 * (caller frees). */
char *fl_leftovers(const char *dir, const char *const *keep);

/* Reads setting s in control set target from the file at path through a fresh read-only handle.
 * Returns the status; *port gets the port on success. */
int fl_read_port(const char *path, const hiveport_setting *s, int target, uint32_t *port);

/* failshim.so's controls (LD_PRELOAD): arm(n, err, sticky) fails the nth write-side call from now with
 * errno err (every later one too when sticky); disarm() stops and says how many calls were counted;
 * failed() names the call that was failed. */
struct fl_shim {
    void (*arm)(unsigned long n, int err, int sticky);
    unsigned long (*disarm)(void);
    const char *(*failed)(void);
};
/* The shim's controls, or a bail naming driver when it is not preloaded. */
struct fl_shim fl_shim(const char *driver);

/* Milliseconds on a monotonic clock. */
int64_t fl_now_ms(void);

#endif
