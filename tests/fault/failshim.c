/* failshim.c: an LD_PRELOAD shim that makes the Nth file-system call that writes fail, as a full or failing
 * disk would.
 *
 * Counted calls (only while armed): open/openat/creat with O_CREAT, mkstemp and its variants (glibc's own
 * open inside mkstemp cannot be interposed, so mkstemp itself is the call), write, pwrite, writev,
 * copy_file_range, sendfile, ftruncate, fsync,
 * fdatasync, rename/renameat/renameat2, link/linkat, and close of a file created while armed (NFS and
 * full quota report write errors there; the descriptor is closed all the same, as Linux does).
 * libhivex's hivex_commit opens the temporary file again by name and writes it with write() and close(), so
 * its calls are counted too.
 *
 * A driver finds the controls with dlsym(RTLD_DEFAULT, ...):
 *   fault_shim_arm(nth, err, sticky)  count from now; the nth counted call (1-based) fails with err, and
 *                                     with sticky every later one too (a disk that stays full); nth 0 only
 *                                     counts
 *   fault_shim_disarm()               stop; returns how many calls were counted
 *   fault_shim_failed()               the name of the first call made to fail, or NULL
 * FAULT_SHIM_TRACE=1 lists every counted call on stderr.
 * Under AddressSanitizer run with ASAN_OPTIONS=verify_asan_link_order=0: the shim then comes first and
 * hands the calls that pass on to ASan's interceptors (RTLD_NEXT). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 4096

static bool armed;
static bool sticky;
static unsigned long nth;
static unsigned long counted;
static int fail_errno;
static const char *failed_call;
static unsigned char created[MAX_FDS]; /* fds created while armed: their close is counted */

/* Public controls; declared here because the drivers have no header for them (they use dlsym). */
void fault_shim_arm(unsigned long n, int err, int stay);
unsigned long fault_shim_disarm(void);
const char *fault_shim_failed(void);

void fault_shim_arm(unsigned long n, int err, int stay)
{
    nth = n;
    fail_errno = err;
    sticky = stay != 0;
    counted = 0;
    failed_call = NULL;
    for (size_t i = 0; i < MAX_FDS; i++)
        created[i] = 0;
    armed = true;
}

unsigned long fault_shim_disarm(void)
{
    armed = false;
    return counted;
}

const char *fault_shim_failed(void)
{
    return failed_call;
}

/* Counts one call; true when it must fail (errno is then set). */
static bool should_fail(const char *name)
{
    if (!armed)
        return false;
    counted++;
    static int trace = -1;
    if (trace < 0)
        trace = getenv("FAULT_SHIM_TRACE") != NULL;
    if (trace)
        fprintf(stderr, "failshim: call %lu: %s%s\n", counted, name,
                nth != 0 && (counted == nth || (counted > nth && sticky)) ? " (fails)" : "");
    if (nth == 0 || counted < nth || (counted > nth && !sticky))
        return false;
    if (failed_call == NULL)
        failed_call = name;
    errno = fail_errno;
    return true;
}

static void note_created(int fd)
{
    if (armed && fd >= 0 && fd < MAX_FDS)
        created[fd] = 1;
}

/* The next definition of name (libc's, or ASan's interceptor), looked up once. */
#define REAL(name)                                                                                         \
    static __typeof__(&name) real_##name;                                                                  \
    if (real_##name == NULL)                                                                               \
    real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* In an open-like function: the mode that follows flags in its variadic list when flags create a file
 * (O_CREAT, O_TMPFILE), else it stays as it is. */
#define CREATION_MODE(flags, mode)                                                                         \
    do {                                                                                                   \
        if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) {                                     \
            va_list ap;                                                                                    \
            va_start(ap, flags);                                                                           \
            (mode) = (mode_t)va_arg(ap, int);                                                              \
            va_end(ap);                                                                                    \
        }                                                                                                  \
    } while (0)

static int open_common(const char *name, int (*real)(const char *, int, ...), const char *path, int flags,
                       mode_t mode)
{
    bool creating = (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
    if (creating && should_fail(name))
        return -1;
    int fd = real(path, flags, mode);
    if (creating)
        note_created(fd);
    return fd;
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
    REAL(open);
    mode_t mode = 0;
    CREATION_MODE(flags, mode);
    return open_common("open", real_open, path, flags, mode);
}

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
    REAL(open64);
    mode_t mode = 0;
    CREATION_MODE(flags, mode);
    return open_common("open64", real_open64, path, flags, mode);
}

static int openat_common(const char *name, int (*real)(int, const char *, int, ...), int dirfd,
                         const char *path, int flags, mode_t mode)
{
    bool creating = (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
    if (creating && should_fail(name))
        return -1;
    int fd = real(dirfd, path, flags, mode);
    if (creating)
        note_created(fd);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat);
    mode_t mode = 0;
    CREATION_MODE(flags, mode);
    return openat_common("openat", real_openat, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...)
{
    REAL(openat64);
    mode_t mode = 0;
    CREATION_MODE(flags, mode);
    return openat_common("openat64", real_openat64, dirfd, path, flags, mode);
}

int creat(const char *path, mode_t mode);
int creat(const char *path, mode_t mode)
{
    REAL(creat);
    if (should_fail("creat"))
        return -1;
    int fd = real_creat(path, mode);
    note_created(fd);
    return fd;
}

#define MKSTEMP_LIKE(name, params, args)                                                                   \
    int name params;                                                                                       \
    int name params                                                                                        \
    {                                                                                                      \
        REAL(name);                                                                         \
        if (should_fail(#name))                                                                            \
            return -1;                                                                                     \
        int fd = real_##name args;                                                                         \
        note_created(fd);                                                                                  \
        return fd;                                                                                         \
    }

MKSTEMP_LIKE(mkstemp, (char *tmpl), (tmpl))
MKSTEMP_LIKE(mkstemp64, (char *tmpl), (tmpl))
MKSTEMP_LIKE(mkostemp, (char *tmpl, int flags), (tmpl, flags))
MKSTEMP_LIKE(mkostemp64, (char *tmpl, int flags), (tmpl, flags))
MKSTEMP_LIKE(mkstemps, (char *tmpl, int suffixlen), (tmpl, suffixlen))
MKSTEMP_LIKE(mkostemps, (char *tmpl, int suffixlen, int flags), (tmpl, suffixlen, flags))

ssize_t write(int fd, const void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    /* stdout and stderr are the test's own reporting, never the library's file. */
    if (fd > 2 && should_fail("write"))
        return -1;
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite);
    if (should_fail("pwrite"))
        return -1;
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite64);
    if (should_fail("pwrite64"))
        return -1;
    return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n);
ssize_t writev(int fd, const struct iovec *iov, int n)
{
    REAL(writev);
    if (fd > 2 && should_fail("writev"))
        return -1;
    return real_writev(fd, iov, n);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t n, unsigned flags);
ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t n, unsigned flags)
{
    REAL(copy_file_range);
    if (should_fail("copy_file_range"))
        return -1;
    return real_copy_file_range(in, in_off, out, out_off, n, flags);
}

ssize_t sendfile(int out, int in, off_t *off, size_t n);
ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
    REAL(sendfile);
    if (should_fail("sendfile"))
        return -1;
    return real_sendfile(out, in, off, n);
}

int ftruncate(int fd, off_t len);
int ftruncate(int fd, off_t len)
{
    REAL(ftruncate);
    if (should_fail("ftruncate"))
        return -1;
    return real_ftruncate(fd, len);
}

int fsync(int fd);
int fsync(int fd)
{
    REAL(fsync);
    if (should_fail("fsync"))
        return -1;
    return real_fsync(fd);
}

int fdatasync(int fd);
int fdatasync(int fd)
{
    REAL(fdatasync);
    if (should_fail("fdatasync"))
        return -1;
    return real_fdatasync(fd);
}

int rename(const char *from, const char *to);
int rename(const char *from, const char *to)
{
    REAL(rename);
    if (should_fail("rename"))
        return -1;
    return real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to);
int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    REAL(renameat);
    if (should_fail("renameat"))
        return -1;
    return real_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags);
int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
    REAL(renameat2);
    if (should_fail("renameat2"))
        return -1;
    return real_renameat2(fromfd, from, tofd, to, flags);
}

int link(const char *from, const char *to);
int link(const char *from, const char *to)
{
    REAL(link);
    if (should_fail("link"))
        return -1;
    return real_link(from, to);
}

int linkat(int fromfd, const char *from, int tofd, const char *to, int flags);
int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
    REAL(linkat);
    if (should_fail("linkat"))
        return -1;
    return real_linkat(fromfd, from, tofd, to, flags);
}

int close(int fd);
int close(int fd)
{
    REAL(close);
    if (fd >= 0 && fd < MAX_FDS && created[fd]) {
        created[fd] = 0;
        if (should_fail("close")) {
            int err = errno;
            real_close(fd); /* Linux frees the descriptor even when close reports an error */
            errno = err;
            return -1;
        }
    }
    return real_close(fd);
}
