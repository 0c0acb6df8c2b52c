/* apply_jsonl.c: apply --json as JSON Lines (see apply_jsonl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_jsonl.h"

/* One object as one line, flushed: a reader (or a fleet's log collector) sees each target when it ends. */
static bool print_line(json_t *record)
{
    char *text = record != NULL ? json_dumps(record, JSON_COMPACT) : NULL;
    json_decref(record);
    if (text == NULL)
        return false;
    bool ok = puts(text) >= 0 && fflush(stdout) == 0;
    free(text);
    return ok;
}

bool jsonl_print_target(const char *target, const json_t *result, bool check)
{
    const char *status = json_string_value(json_object_get(result, "status"));
    json_t *error = json_object_get(result, "error"), *notes = json_object_get(result, "notes");
    json_t *differences = json_object_get(result, "differences");
    bool failed = status == NULL || strcmp(status, "failed") == 0;
    /* What was written (apply) or found to differ (--check); neither for a target that failed, whose
     * differences may be partial and were not written. */
    json_t *changes = !check && !failed && strcmp(status, "changed") == 0 ? json_copy(differences) : json_array();
    json_t *findings = check && !failed ? json_copy(differences) : json_array();
    json_t *record = json_pack("{s:s, s:o, s:s, s:o, s:o, s:O?, s:O?}", "type", "target", "target",
                               cli_json_text(target), "status", failed ? "failed" : status, "changes",
                               changes != NULL ? changes : json_array(), "findings",
                               findings != NULL ? findings : json_array(), "error",
                               failed && error == NULL ? NULL : error, "notes", notes);
    if (record != NULL && failed && !json_is_string(error))
        json_object_set_new(record, "error", json_string("out of memory"));
    return print_line(record);
}

bool jsonl_print_summary(const struct jsonl_summary *s)
{
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", s->shard_k, s->shard_n);
    const char *ok = s->check ? "match" : "changed", *other = s->check ? "drift" : "unchanged";
    json_t *record = json_pack("{s:s, s:o, s:b, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I}", "type", "summary", "profile",
                               cli_json_text(s->profile), "check", s->check, "controlset", s->controlset, "shard",
                               s->shard_n > 0 ? shard : NULL, "targets", (json_int_t)s->targets, "total",
                               (json_int_t)s->total, ok, (json_int_t)s->ok, other, (json_int_t)s->other, "failed",
                               (json_int_t)s->failed);
    return print_line(record);
}
