/* fault.c: reporting, scratch directories and read-back helpers for the fault-injection drivers. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "testutil.h"

static unsigned passed, failed;

bool fl_check(bool cond, const char *what, const char *fmt, ...)
{
    if (cond) {
        passed++;
        printf("ok - %s\n", what);
    } else {
        failed++;
        printf("not ok - %s: ", what);
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
    }
    fflush(stdout);
    return cond;
}

int fl_finish(void)
{
    printf("# %u passed, %u failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

_Noreturn void fl_bail(const char *fmt, ...)
{
    printf("not ok - ");
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    failed++;
    fl_finish();
    exit(EXIT_FAILURE);
}

char *fl_tmpdir(void)
{
    return tu_tmpdir();
}

void fl_cleanup(char *dir)
{
    if (dir == NULL)
        return;
    tu_rmtree(dir);
    free(dir);
}

char *fl_join(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        fl_bail("out of memory");
    return p;
}

void fl_fixture(const char *name, const char *dest)
{
    const char *src = tu_fixture_path(name);
    if (tu_copy(src, dest) != 0)
        fl_bail("cannot copy fixture %s to %s (run make fixtures)", src, dest);
}

char *fl_leftovers(const char *dir, const char *const *keep)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return strdup("(cannot list the directory)");
    char *list = NULL;
    size_t len = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool kept = false;
        for (size_t i = 0; keep != NULL && keep[i] != NULL; i++)
            kept = kept || strcmp(e->d_name, keep[i]) == 0;
        if (kept)
            continue;
        size_t n = strlen(e->d_name);
        char *bigger = realloc(list, len + n + 3);
        if (bigger == NULL)
            break;
        list = bigger;
        if (len > 0) {
            memcpy(list + len, ", ", 2);
            len += 2;
        }
        memcpy(list + len, e->d_name, n + 1);
        len += n;
    }
    closedir(d);
    return list;
}

int fl_read_port(const char *path, const hiveport_setting *s, int target, uint32_t *port)
{
    hiveport *h = NULL;
    int rc = hiveport_open(path, 0, &h);
    if (rc == HIVEPORT_OK)
        rc = hiveport_get_port(h, s, target, port);
    hiveport_close(h);
    return rc;
}

int64_t fl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fl_shim fl_shim(const char *driver)
{
    struct fl_shim s = {
        .arm = (void (*)(unsigned long, int, int))dlsym(RTLD_DEFAULT, "fault_shim_arm"),
        .disarm = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "fault_shim_disarm"),
        .failed = (const char *(*)(void))dlsym(RTLD_DEFAULT, "fault_shim_failed"),
    };
    if (s.arm == NULL || s.disarm == NULL || s.failed == NULL)
        fl_bail("%s needs LD_PRELOAD=failshim.so", driver);
    return s;
}
