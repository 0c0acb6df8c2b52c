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

const int image_deferred_signals[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

bool image_interrupted(void)
{
    sigset_t pending;
    if (sigpending(&pending) != 0)
        return false;
    for (size_t i = 0; i < sizeof image_deferred_signals / sizeof image_deferred_signals[0]; i++)
        if (sigismember(&pending, image_deferred_signals[i]) == 1)
            return true;
    return false;
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

