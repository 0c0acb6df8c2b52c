/* apply_image.h: image targets in apply's manifests (apply --from, issue 17).  Besides a hive path, a
 * manifest line may name a Windows image the way the command line does:
 *     --wim FILE[:IMAGE]
 *     --ntfs FILE[@OFFSET|@pN]
 *     --disk FILE[@OFFSET|@pN] [--disk-format FORMAT]
 * ("--wim=FILE" too).  FILE is the rest of the line, spaces included.  A line starting with "--" is
 * always read this way: a hive whose path starts with "--" is written "./--...".  The line as written is
 * the target's name in the output and what --shard hashes. */
#ifndef HIVEPORT_APPLY_IMAGE_H
#define HIVEPORT_APPLY_IMAGE_H

#include <stdbool.h>

#include "cli.h"

/* True when the manifest line names an image (starts with "--"); it may still be malformed. */
bool apply_image_is_target(const char *line);

/* NULL when the image line is well formed, else why not (for "MANIFEST:LINE: WHY"). */
const char *apply_image_problem(const char *line);

/* Applies (or checks) on one image target: fn(ctx, HIVE, NAME) builds apply's result object for the private
 * copy HIVE of the image's SYSTEM hive (cmd_apply.c's schema, apply_jsonl.h), its messages naming it NAME
 * ("install.wim:2:Windows/System32/config/SYSTEM"; hiveport_open_named()); the hive is written back when
 * the result is not "failed", may_write is set and the bytes changed.  Returns the result with "hive" the
 * line as written, or a "failed" result holding the image layer's own error; NULL when out of memory. */
typedef json_t *apply_hive_fn(void *ctx, const char *hive, const char *name);
json_t *apply_image_run(const char *prog, const char *line, bool may_write, bool backup, int lock_wait_ms,
                        apply_hive_fn *fn, void *ctx);

#endif
