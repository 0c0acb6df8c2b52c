/* session.c: what an image's backends share with image.c while it is open: the names and local paths of
 * the extracted files, the lock on the image file, and the signals held back until the write-back ends. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"

const char *const image_file_names[IMAGE_FILES] = {"SYSTEM", "SYSTEM.LOG1", "SYSTEM.LOG2", "SYSTEM.LOG"};

char *image_local_path(const struct image *im, int i)
{
    size_t len = strlen(im->tmpdir) + 1 + strlen(image_file_names[i]) + 1;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", im->tmpdir, image_file_names[i]);
    return p;
}

int image_check_writable(const struct image *im, const char *file)
{
    struct stat st;
    if (stat(file, &st) != 0) {
        cli_error(im->prog, "%s: cannot open the image: %s", file, strerror(errno));
        return CLI_FAILED;
    }
    /* The library's wording for a plain hive (lib/hive/lock.c), so that both read the same. */
    if ((st.st_mode & 0222) == 0) {
        cli_error(im->prog, "%s: the file is read-only (mode %04o); the image is unchanged", file,
                  (unsigned)(st.st_mode & 07777));
        return CLI_FAILED;
    }
    if (access(file, W_OK) != 0) {
        cli_error(im->prog, "%s: cannot open for writing: %s; the image is unchanged", file, strerror(errno));
        return CLI_FAILED;
    }
    return CLI_OK;
}

const int image_deferred_signals[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* The deferred signals this process ignores (SIG_IGN, as a shell leaves SIGINT and SIGQUIT for a background
 * job): blocked, Linux keeps them pending all the same, yet they interrupt nothing. */
static sigset_t ignored_signals;

void image_signals_hold(sigset_t *old_mask)
{
    sigset_t deferred;
    sigemptyset(&deferred);
    sigemptyset(&ignored_signals);
    for (size_t i = 0; i < sizeof image_deferred_signals / sizeof image_deferred_signals[0]; i++) {
        struct sigaction sa;
        sigaddset(&deferred, image_deferred_signals[i]);
        if (sigaction(image_deferred_signals[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            sigaddset(&ignored_signals, image_deferred_signals[i]);
    }
    sigprocmask(SIG_BLOCK, &deferred, old_mask);
}

int image_interrupt_pending(void)
{
    sigset_t pending;
    if (sigpending(&pending) != 0)
        return 0;
    for (size_t i = 0; i < sizeof image_deferred_signals / sizeof image_deferred_signals[0]; i++)
        if (sigismember(&pending, image_deferred_signals[i]) == 1 &&
            sigismember(&ignored_signals, image_deferred_signals[i]) != 1)
            return image_deferred_signals[i];
    return 0;
}

bool image_interrupted(void)
{
    return image_interrupt_pending() != 0;
}

int image_interrupt_take(void)
{
    int sig = image_interrupt_pending();
    sigset_t deferred;
    sigemptyset(&deferred);
    for (size_t i = 0; i < sizeof image_deferred_signals / sizeof image_deferred_signals[0]; i++)
        sigaddset(&deferred, image_deferred_signals[i]);
    /* Every pending one goes (they are blocked: sigtimedwait returns at once). */
    while (sigtimedwait(&deferred, NULL, &(struct timespec){0, 0}) > 0)
        ;
    return sig;
}

int image_lock(struct image *im, const char *file)
{
    enum { STEP_MS = 20 };
    for (int waited = 0;;) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cli_error(im->prog, "%s: cannot open the image: %s", file, strerror(errno));
            return CLI_FAILED;
        }
        /* With --overlay the image is only read. */
        while (flock(fd, (im->may_write && !im->overlay ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
            if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= im->lock_wait_ms) {
                int err = errno;
                close(fd);
                if (err == EWOULDBLOCK)
                    cli_error(im->prog, "%s: another hiveport is using the image (waited %d s; see --lock-timeout)",
                              file, im->lock_wait_ms / 1000);
                else
                    cli_error(im->prog, "%s: cannot lock the image: %s", file, strerror(err));
                return CLI_FAILED;
            }
            if (image_interrupted()) {
                close(fd);
                cli_error(im->prog, "%s: interrupted while waiting for another hiveport's lock", file);
                return CLI_FAILED;
            }
            nanosleep(&(struct timespec){0, STEP_MS * 1000000L}, NULL);
            waited += STEP_MS;
        }
        /* A WIM commit renames a new file over the old one: a lock won on the old file protects nothing. */
        struct stat locked, now;
        if (fstat(fd, &locked) == 0 && stat(file, &now) == 0 && locked.st_dev == now.st_dev &&
            locked.st_ino == now.st_ino) {
            im->lock_fd = fd;
            return CLI_OK;
        }
        close(fd);
    }
}

bool disk_damaged_allowed(const struct image *im, const char *file, const char *what)
{
    if (im->may_write) {
        cli_error(im->prog, "%s: %s; refusing to write %s (the image is unchanged)", file, what,
                  im->overlay ? "an overlay over it" : "into it");
        return false;
    }
    if (!im->allow_incomplete) {
        cli_error(im->prog, "%s: %s; refusing to read it, since what it lacks would read as zeros or fail and "
                  "be taken for the hive's damage (--allow-incomplete reads it anyway, with a warning)", file, what);
        return false;
    }
    cli_error(im->prog, "warning: %s: %s; read anyway (--allow-incomplete): what it lacks reads as zeros or fails, "
              "so what follows may be incomplete or wrong", file, what);
    return true;
}
