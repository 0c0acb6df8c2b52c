/* targets.h: the targets 'hiveport apply' works on: its HIVE operands, the lines of a manifest (--from),
 * and the deterministic share of them one machine of a fleet takes (--shard K/N).
 *
 * A target belongs to shard  (h XOR (h >> 32)) mod N  where h is FNV-1a-64 of the target's bytes (offset
 * basis 0xcbf29ce484222325, prime 0x100000001b3, over the path as given, without its line end).  It
 * depends on the target alone, not on its position: the N shards are disjoint, cover every target, and
 * stay the same when a manifest is reordered or split differently. */
#ifndef HIVEPORT_TARGETS_H
#define HIVEPORT_TARGETS_H

#include "cli.h"

struct targets {
    char **items; /* the targets of this shard, in the order given (operands first, then the manifest) */
    size_t count;
    size_t total; /* before sharding */
    char *text;   /* the manifest's text, which the items from it point into */
};

/* --shard K/N: 0 <= K < N <= TARGETS_MAX_SHARDS, decimal; prints a usage error otherwise. */
#define TARGETS_MAX_SHARDS 65536
int targets_parse_shard(const char *prog, const char *text, unsigned *k, unsigned *n);

/* The shard (0..n-1) of a target. */
unsigned targets_shard_of(const char *target, unsigned n);

/* Collects the operands and the manifest at manifest_path (NULL: none; "-": standard input), then keeps
 * the targets of shard k of n (n = 1: all).  Manifest lines are paths as given; empty lines and lines
 * starting with '#' are skipped, a CR before the LF is dropped.  A problem in the manifest is printed as
 * "PROG: MANIFEST:LINE: MESSAGE" and gives CLI_USAGE; an unreadable manifest CLI_FAILED. */
int targets_collect(const char *prog, char **operands, size_t noperands, const char *manifest_path, unsigned k,
                    unsigned n, struct targets *t);

void targets_free(struct targets *t);

#endif
