/* apiset.c: the benchmark's library-only writer: apiset HIVE SETTING=PORT... opens HIVE for writing (with the
 * commit of HIVEPORT_BENCH_COMMIT: auto, log or copy), pins each setting in ControlSet001 with
 * hiveport_set_port() and commits: what `hiveport set` does, without the command's preflight (the audit rules
 * run on a private copy before the write), so that the commit's own cost shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiveport.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: apiset HIVE SETTING=PORT...\n");
        return 2;
    }
    const char *how = getenv("HIVEPORT_BENCH_COMMIT");
    hiveport_options o;
    hiveport_options_init(&o);
    o.flags = HIVEPORT_OPEN_WRITE;
    if (how != NULL && strcmp(how, "log") == 0)
        o.flags |= HIVEPORT_OPEN_COMMIT_LOG;
    else if (how != NULL && strcmp(how, "copy") == 0)
        o.flags |= HIVEPORT_OPEN_COMMIT_COPY;
    hiveport *h = NULL;
    int rc = hiveport_open_ext(argv[1], &o, &h);
    for (int i = 2; rc == HIVEPORT_OK && i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            return 2;
        *eq = '\0';
        const hiveport_setting *s = hiveport_catalog_find(argv[i]);
        rc = s == NULL ? HIVEPORT_E_INVALID_ARG : hiveport_set_port(h, s, 1, (uint32_t)strtoul(eq + 1, NULL, 10), 0);
    }
    if (rc == HIVEPORT_OK)
        rc = hiveport_commit(h, NULL);
    if (rc != HIVEPORT_OK)
        fprintf(stderr, "apiset: %s\n", hiveport_errmsg(h));
    hiveport_close(h);
    return rc == HIVEPORT_OK ? 0 : 1;
}
