/* dry_run.h: what a --dry-run shares, so that it behaves like a read (the hive opened read-only, no
 * writer lock, the file never opened for writing) while checking what the write would refuse. */
#ifndef HIVEPORT_DRY_RUN_H
#define HIVEPORT_DRY_RUN_H

#include "cli.h"

/* A write open refuses a dirty hive unless its logs were replayed (or --discard-logs): the same refusal
 * for the read-only handle h of a dry run.  verb is the command ("set", "unset"). CLI_OK or CLI_FAILED
 * (printed). */
int cli_dry_run_dirty(const char *prog, hiveport *h, const struct cli_open *open, const char *verb);

/* Opens the hive of a dry run read-only, as a reader (cli_open_reader), and refuses it as above (verb:
 * cli_dry_run_dirty).  CLI_OK or CLI_FAILED (printed; *h may still need hiveport_close). */
int cli_dry_run_open(const char *prog, const char *hive, const struct cli_open *open, const char *verb, hiveport **h);

/* A private writable copy of a read-only handle's hive, for the library's own change functions
 * (hiveport_rpc_set(), hiveport_dcom_set_port(), ...) to run on and be discarded: their checks are the
 * real write's, and the user's file is only read.  It lives in $TMPDIR (default /tmp), as one copy of the
 * hive. */
struct cli_scratch {
    char *dir, *file; /* malloc'd: the private directory and the copy in it */
    const char *hive; /* the user's path, for messages */
    hiveport *h;      /* the copy, opened for writing; never committed */
};
/* Copies src (opened read-only on hive) and opens the copy.  CLI_OK or CLI_FAILED (printed, and
 * nothing left behind). */
int cli_scratch_open(const char *prog, hiveport *src, const char *hive, struct cli_scratch *s);
/* Prints the copy's last error as if it were on the user's hive; returns CLI_FAILED. */
int cli_scratch_fail(const char *prog, const struct cli_scratch *s);
/* Closes the copy without a commit and removes it. */
void cli_scratch_close(struct cli_scratch *s);

#endif
