/* findings.c: what audit and check do alike with a list of findings: count them by severity against
 * --fail-on, print the summary line, and give the counts and the list as JSON. */
#include <stdio.h>

#include "cli.h"

bool cli_findings_count(const hiveport_findings *f, int fail_on, size_t counts[3])
{
    bool failed = false;
    counts[0] = counts[1] = counts[2] = 0;
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        int s = hiveport_findings_at(f, i)->severity;
        if (s >= HIVEPORT_SEVERITY_INFO && s <= HIVEPORT_SEVERITY_ERROR)
            counts[s]++;
        failed = failed || s >= fail_on;
    }
    return failed;
}

void cli_findings_summary(const size_t counts[3])
{
    size_t e = counts[HIVEPORT_SEVERITY_ERROR], w = counts[HIVEPORT_SEVERITY_WARNING];
    printf("summary: %zu error%s, %zu warning%s, %zu info\n", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s",
           counts[HIVEPORT_SEVERITY_INFO]);
}

json_t *cli_findings_json(const hiveport_findings *f, json_t *(*finding_json)(const hiveport_finding *x))
{
    json_t *findings = json_array();
    for (size_t i = 0; findings != NULL && i < hiveport_findings_count(f); i++)
        cli_json_append(&findings, finding_json(hiveport_findings_at(f, i)));
    return findings;
}

json_t *cli_findings_counts_json(const size_t counts[3])
{
    return json_pack("{s:i, s:i, s:i}", "error", (json_int_t)counts[HIVEPORT_SEVERITY_ERROR], "warning",
                     (json_int_t)counts[HIVEPORT_SEVERITY_WARNING], "info", (json_int_t)counts[HIVEPORT_SEVERITY_INFO]);
}
