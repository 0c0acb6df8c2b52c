/* apply_jsonl.h: 'hiveport apply --json' output, JSON Lines (one compact JSON object per line; schema in
 * hiveport(1), JSON OUTPUT): a "target" record per target as it finishes, then one "summary" record, so
 * that the output of many machines (shards) is merged with cat and read with jq. */
#ifndef HIVEPORT_APPLY_JSONL_H
#define HIVEPORT_APPLY_JSONL_H

#include "cli.h"

/* The record of one target (the path as given), from apply's per-hive result object {"hive", "status", "error", "notes",
 * "differences"}; written to stdout and flushed at once.  False when it could not be built or written. */
bool jsonl_print_target(const char *target, const json_t *result, bool check);

struct jsonl_summary {
    const char *profile;    /* as given ("(standard input)" for "-") */
    bool check;
    const char *controlset; /* "current", "all", "3", ...; NULL (null) for a SOFTWARE plan */
    unsigned shard_k, shard_n; /* shard_n 0: no --shard */
    size_t targets;         /* in this shard */
    size_t total;           /* before sharding */
    size_t ok, other, failed; /* changed/unchanged or match/drift, and failed */
};

/* The last record; false when it could not be built or written. */
bool jsonl_print_summary(const struct jsonl_summary *s);

#endif
