/* plan_load.c: reading a plan file (a profile, or a .reg file recognised by its header line) into the plan
 * the commands apply (struct profile).  The one place that knows both parsers: regfile.c produces the plan
 * through profile_parse(), and profile.c knows nothing of .reg files. */
#include <errno.h>
#include <fcntl.h>
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
    char *text = NULL;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error(prog, "%s: is a directory, not a profile", name);
    } else if ((text = malloc(PROFILE_MAX_BYTES + 1)) == NULL) {
        cli_error(prog, "%s: out of memory", name);
    } else {
        ssize_t len = read_up_to(fd, text, PROFILE_MAX_BYTES);
        if (len < 0)
            cli_error(prog, "%s: cannot read the profile: %s", name, strerror(errno));
        else if (len > PROFILE_MAX_BYTES)
            cli_error(prog, "%s: larger than %d bytes: not a profile", name, PROFILE_MAX_BYTES);
        else if (regfile_detect(text, (size_t)len)) /* a .reg file, by its header line */
            rc = regfile_parse(prog, name, text, (size_t)len, p, errors);
        else
            rc = profile_parse(prog, name, text, (size_t)len, p, errors);
    }
    free(text);
    if (!from_stdin)
        close(fd);
    return rc;
}

