/* plan_load.c: reading a plan file (a profile, or a .reg file recognised by its header line) into the plan
 * the commands apply (struct profile).  The one place that knows both parsers: regfile.c produces the plan
 * through profile_parse(), and profile.c knows nothing of .reg files. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"
#include "regfile.h"

/* A profile is a short text file; anything bigger is something else given by mistake. */
#define PROFILE_MAX_BYTES (1024 * 1024)

/* Reads up to max + 1 bytes of fd into buf; returns the count, or -1 (errno set). */
static ssize_t read_up_to(int fd, char *buf, size_t max)
{
    size_t len = 0;
    while (len <= max) {
        ssize_t n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

/* A problem of the file as a whole, reported on its line 1 as the parsers report theirs: CLI_USAGE. */
static int one_problem(const char *prog, const char *name, unsigned *errors, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int one_problem(const char *prog, const char *name, unsigned *errors, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: %s:1: ", prog, name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (errors != NULL)
        *errors = 1;
    return CLI_USAGE;
}

int profile_load(const char *prog, const char *path, struct profile *p, unsigned *errors)
{
    memset(p, 0, sizeof *p);
    p->target = HIVEPORT_CS_CURRENT;
    if (errors != NULL)
        *errors = 0;
    /* read(2), not stdio: no stream buffer is left behind, in this process or in the workers it forks. */
    bool from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "(standard input)" : path;
    int fd = from_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error(prog, "%s: cannot open the profile: %s", name, strerror(errno));
        return CLI_FAILED;
    }
    int rc = CLI_FAILED;
    char *text = NULL, why[512];
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error(prog, "%s: is a directory, not a profile", name);
    } else if ((text = malloc(PROFILE_MAX_BYTES + 1)) == NULL) {
        cli_error(prog, "%s: out of memory", name);
    } else {
        ssize_t len = read_up_to(fd, text, PROFILE_MAX_BYTES);
        if (len < 0)
            cli_error(prog, "%s: cannot read the profile: %s", name, strerror(errno));
        else if (len > PROFILE_MAX_BYTES) /* malformed, as a profile that breaks a rule: status 2 */
            rc = one_problem(prog, name, errors, "larger than %d bytes (1 MiB): not a profile", PROFILE_MAX_BYTES);
        else if (regfile_detect(text, (size_t)len)) /* a .reg file, by its header line */
            rc = regfile_parse(prog, name, text, (size_t)len, p, errors);
        else if (regfile_diagnose(text, (size_t)len, why, sizeof why)) /* a .reg file hiveport does not read */
            rc = one_problem(prog, name, errors, "%s", why);
        else
            rc = profile_parse(prog, name, text, (size_t)len, p, errors);
    }
    free(text);
    if (!from_stdin)
        close(fd);
    return rc;
}

