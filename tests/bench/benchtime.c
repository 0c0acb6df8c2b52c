/* benchtime.c: runs one command and prints its wall time and peak memory (issue 9's benchmark).
 *
 *   benchtime [-o OUT] [-e ERR] -- COMMAND [ARG...]
 *
 * The time is taken around fork + exec + wait4 with CLOCK_MONOTONIC (microsecond resolution, unlike
 * GNU time's %e), so only the command is timed: no shell, no setup.  stdin is /dev/null; stdout goes to OUT
 * (default /dev/null) and stderr to ERR (default /dev/null).  Prints one line:
 *
 *   SECONDS MAXRSS_KIB STATUS CPU_SECONDS
 *
 * MAXRSS_KIB is the child's ru_maxrss from wait4(), the number GNU time prints as %M; STATUS is the exit
 * status, or 128 + the signal number; CPU_SECONDS is the child's user + system time (what a loaded
 * machine disturbs least).  benchtime itself exits 0 unless it could not run the command (127).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int open_or_die(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "benchtime: %s: %s\n", path, strerror(errno));
        exit(127);
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *out = "/dev/null", *err = "/dev/null";
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc)
            err = argv[++i];
        else
            break;
    }
    if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
        fprintf(stderr, "usage: benchtime [-o OUT] [-e ERR] -- COMMAND [ARG...]\n");
        return 127;
    }
    char **cmd = argv + i + 1;
    int in_fd = open_or_die("/dev/null", O_RDONLY);
    int out_fd = open_or_die(out, O_WRONLY | O_CREAT | O_TRUNC);
    int err_fd = open_or_die(err, O_WRONLY | O_CREAT | O_TRUNC);
    int ready[2]; /* tells the parent that exec failed (the pipe is closed on a successful exec) */
    if (pipe2(ready, O_CLOEXEC) != 0) {
        perror("benchtime: pipe");
        return 127;
    }
    fflush(NULL);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("benchtime: fork");
        return 127;
    }
    if (pid == 0) {
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execvp(cmd[0], cmd);
        int e = errno;
        if (write(ready[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    close(ready[1]);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("benchtime: wait4");
            return 127;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int e;
    if (read(ready[0], &e, sizeof e) == (ssize_t)sizeof e) {
        fprintf(stderr, "benchtime: %s: %s\n", cmd[0], strerror(e));
        return 127;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    printf("%.6f %ld %d %.6f\n", secs, ru.ru_maxrss, code, cpu);
    return 0;
}
