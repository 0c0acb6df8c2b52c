/* nbd.c: qcow2, VHDX, VHD and VMDK disks through QEMU's own block layer, without root or a kernel module:
 * a qemu-nbd child (Debian qemu-utils) serves the image on a Unix socket in the command's private
 * directory (never -c /dev/nbdX), and libnbd (Debian libnbd-dev, loaded on first use: dynlib.h) talks to
 * it.  The export is read-only unless the command writes.  The child never outlives the command: it is in
 * its own process group (a Ctrl-C meant for hiveport, which defers it, does not reach it), it gets SIGKILL
 * if hiveport dies (PR_SET_PDEATHSIG: a SIGTERM can arrive before qemu-nbd handles it, and is then lost),
 * it exits when its one client disconnects, and close() waits for it, then stops it.  Writes are flushed with NBD_CMD_FLUSH before the child is told to go. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"

#ifndef HIVEPORT_HAVE_NBD

bool disk_nbd_supported(char *version, size_t len)
{
    snprintf(version, len, "this hiveport was built without libnbd (install libnbd-dev and rebuild)");
    return false;
}
struct disk *disk_nbd_open(const struct image *im, const char *file, const char *qemu_format, bool write)
{
    (void)im;
    (void)file;
    (void)qemu_format;
    (void)write;
    return NULL;
}
bool disk_nbd_damaged(const struct image *im, const char *file, const char *qemu_format, char *why, size_t len)
{
    (void)im;
    (void)file;
    (void)qemu_format;
    (void)why;
    (void)len;
    return false;
}
int disk_nbd_create_overlay(const struct image *im, const char *base, const char *base_format, const char *overlay)
{
    (void)im;
    (void)base;
    (void)base_format;
    (void)overlay;
    return CLI_FAILED;
}

#else

#include <libnbd.h>

#include "dynlib.h"

/* prog is an executable in PATH. */
static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char full[4096];
        if (len > 0 && len + strlen(prog) + 2 <= sizeof full) {
            snprintf(full, sizeof full, "%.*s/%s", (int)len, p, prog);
            if (access(full, X_OK) == 0)
                return true;
        }
        p += len + (end ? 1 : 0);
    }
    return false;
}

/* What this backend calls, loaded from HIVEPORT_NBD_SONAME when a command first needs it (dynlib.h). */
#define NBD_API(X) \
    X(nbd_close) \
    X(nbd_connect_unix) \
    X(nbd_create) \
    X(nbd_flush) \
    X(nbd_get_errno) \
    X(nbd_get_error) \
    X(nbd_get_size) \
    X(nbd_get_version) \
    X(nbd_pread) \
    X(nbd_pwrite) \
    X(nbd_shutdown)
static struct {
    NBD_API(DYNLIB_FIELD)
} nbdapi;

enum {
    START_TIMEOUT_MS = 30000, /* qemu-nbd opening the image (a slow disk, a long backing chain) */
    EXIT_TIMEOUT_MS = 10000,  /* qemu-nbd finishing after its client left, before it gets SIGTERM */
    MAX_REQUEST = 4 << 20     /* bytes per NBD request (qemu-nbd accepts up to 32 MiB) */
};

static bool load_nbd(char *why, size_t len)
{
    static int state; /* 0: not tried, 1: loaded, -1: failed (reason kept) */
    static char reason[256];
    if (state == 0) {
        static const char *const names[] = {NBD_API(DYNLIB_NAME)};
#define NBD_SLOT(f) (void *)&nbdapi.f,
        void *const slots[] = {NBD_API(NBD_SLOT)};
#undef NBD_SLOT
        state = dynlib_load(HIVEPORT_NBD_SONAME, names, slots, sizeof names / sizeof names[0], reason,
                            sizeof reason) ? 1 : -1;
    }
    if (state < 0)
        snprintf(why, len, "%s", reason);
    return state > 0;
}

bool disk_nbd_supported(char *version, size_t len)
{
    if (!load_nbd(version, len))
        return false;
    if (!in_path("qemu-nbd") || !in_path("qemu-img")) {
        snprintf(version, len, "qemu-nbd and qemu-img are needed (Debian qemu-utils)");
        return false;
    }
    struct nbd_handle *h = nbdapi.nbd_create();
    const char *v = h ? nbdapi.nbd_get_version(h) : NULL;
    snprintf(version, len, "libnbd %s, qemu-nbd", v ? v : "unknown version");
    nbdapi.nbd_close(h);
    return true;
}

struct nbd_disk {
    struct disk disk; /* first: the backend's struct disk * is this */
    struct nbd_handle *h;
    pid_t child;
    char *sock, *err; /* in the private directory */
};

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* "a/b/c" in the private directory, numbered so that each child gets its own. */
static char *private_path(const struct image *im, const char *what)
{
    static unsigned serial;
    size_t len = strlen(im->tmpdir) + strlen(what) + 32;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/qemu%u.%s", im->tmpdir, serial++, what);
    return p;
}

/* A path qemu's option parser cannot take for an option. */
static char *safe_path(const char *path)
{
    size_t len = strlen(path) + 3;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s%s", path[0] == '-' ? "./" : "", path);
    return p;
}

/* Starts argv[0] from PATH with stdout into out (NULL: /dev/null) and stderr into err; the child is killed
 * if hiveport dies (like a power cut for the image: hiveport dying in the middle of a write leaves a torn
 * hive either way). */
static pid_t spawn_out(char *const argv[], const char *out, const char *err)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126); /* hiveport died before the line above */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* hiveport's deferred signals must reach the child */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ofd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : null;
    if (null < 0 || efd < 0 || ofd < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(ofd, STDOUT_FILENO) < 0 ||
        dup2(efd, STDERR_FILENO) < 0)
        _exit(126);
    execvp(argv[0], argv);
    dprintf(STDERR_FILENO, "%s: cannot run it: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static pid_t spawn(char *const argv[], const char *err)
{
    return spawn_out(argv, NULL, err);
}

/* Waits up to ms for the child; then SIGTERM, then SIGKILL.  Its exit status (or -1 when it had to be
 * stopped, or died of a signal). */
static int reap(pid_t pid, int ms)
{
    int status;
    for (int waited = 0;; waited += 2) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (got < 0 && errno != EINTR)
            return -1;
        if (waited >= ms)
            break;
        sleep_ms(2);
    }
    kill(pid, SIGTERM);
    for (int waited = 0; waited < 2000; waited += 2) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1;
        sleep_ms(2);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

/* What the child said on stderr: its first line, without qemu's "qemu-nbd: " prefix (static buffer). */
static const char *child_said(const char *err)
{
    static char line[512];
    line[0] = '\0';
    FILE *f = fopen(err, "re");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    const char *p = line;
    if (strncmp(p, "qemu-nbd: ", 10) == 0)
        p += 10;
    else if (strncmp(p, "qemu-img: ", 10) == 0)
        p += 10;
    return *p ? p : "no message";
}

/* One NBD read or write of aligned requests, split to MAX_REQUEST. */
static int transfer(struct nbd_disk *n, void *buf, size_t len, uint64_t off, bool write)
{
    for (size_t done = 0; done < len;) {
        size_t chunk = len - done < MAX_REQUEST ? len - done : MAX_REQUEST;
        int rc = write ? nbdapi.nbd_pwrite(n->h, (char *)buf + done, chunk, off + done, 0)
                       : nbdapi.nbd_pread(n->h, (char *)buf + done, chunk, off + done, 0);
        if (rc != 0) {
            int e = nbdapi.nbd_get_errno();
            errno = e ? e : EIO;
            return -1;
        }
        done += chunk;
    }
    return 0;
}

/* Servers may refuse requests that are not whole sectors (QEMU's VHDX driver does): an unaligned one is
 * done on the sectors around it, read and, for a write, patched and written back. */
static int aligned(struct nbd_disk *n, void *buf, size_t len, uint64_t off, bool write)
{
    enum { SECTOR = 512 };
    if (off % SECTOR == 0 && len % SECTOR == 0)
        return transfer(n, buf, len, off, write);
    uint64_t first = off - off % SECTOR, end = off + len;
    uint64_t last = end % SECTOR ? end + (SECTOR - end % SECTOR) : end;
    if (last > n->disk.size) {
        errno = EINVAL;
        return -1;
    }
    char *bounce = malloc((size_t)(last - first));
    if (!bounce) {
        errno = ENOMEM;
        return -1;
    }
    int rc = transfer(n, bounce, (size_t)(last - first), first, false);
    if (rc == 0 && write) {
        memcpy(bounce + (off - first), buf, len);
        rc = transfer(n, bounce, (size_t)(last - first), first, true);
    } else if (rc == 0) {
        memcpy(buf, bounce + (off - first), len);
    }
    int e = errno;
    free(bounce);
    errno = e;
    return rc;
}

static int nbd_disk_pread(struct disk *d, void *buf, size_t len, uint64_t off)
{
    return aligned((struct nbd_disk *)d, buf, len, off, false);
}

static int nbd_disk_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off)
{
    return aligned((struct nbd_disk *)d, (void *)buf, len, off, true);
}

static int nbd_disk_flush(struct disk *d)
{
    struct nbd_disk *n = (struct nbd_disk *)d;
    if (!d->writable)
        return 0;
    if (nbdapi.nbd_flush(n->h, 0) != 0) {
        int e = nbdapi.nbd_get_errno();
        errno = e ? e : EIO;
        return -1;
    }
    return 0;
}

static void release(struct nbd_disk *n)
{
    if (n->sock)
        unlink(n->sock);
    if (n->err)
        unlink(n->err);
    free(n->sock);
    free(n->err);
    free(n);
}

static int nbd_disk_close(struct disk *d, char *why, size_t why_len)
{
    struct nbd_disk *n = (struct nbd_disk *)d;
    int rc = 0;
    if (d->writable && nbd_disk_flush(d) != 0) {
        snprintf(why, why_len, "NBD flush failed: %s", nbdapi.nbd_get_error());
        rc = -1;
    }
    /* qemu-nbd ends when its only client leaves, after writing back what it cached. */
    nbdapi.nbd_shutdown(n->h, 0);
    nbdapi.nbd_close(n->h);
    int status = reap(n->child, EXIT_TIMEOUT_MS);
    if (status != 0 && rc == 0) {
        snprintf(why, why_len, "qemu-nbd %s: %s", status < 0 ? "had to be stopped" : "failed", child_said(n->err));
        rc = -1;
    }
    release(n);
    return rc;
}

struct disk *disk_nbd_open(const struct image *im, const char *file, const char *qemu_format, bool write)
{
    char why[256];
    if (!load_nbd(why, sizeof why)) {
        cli_error(im->prog, "%s: %s", file, why);
        return NULL;
    }
    struct nbd_disk *n = calloc(1, sizeof *n);
    char *path = safe_path(file), sock_opt[4200], fmt_opt[64];
    if (!n || !path || !(n->sock = private_path(im, "sock")) || !(n->err = private_path(im, "err"))) {
        cli_error(im->prog, "out of memory");
        free(path);
        if (n)
            release(n);
        return NULL;
    }
    if (strlen(n->sock) >= sizeof ((struct sockaddr_un *)NULL)->sun_path) {
        cli_error(im->prog, "%s: the private directory %s is too long a path for a Unix socket: set TMPDIR to a "
                  "shorter one", file, im->tmpdir);
        free(path);
        release(n);
        return NULL;
    }
    snprintf(sock_opt, sizeof sock_opt, "--socket=%s", n->sock);
    snprintf(fmt_opt, sizeof fmt_opt, "--format=%s", qemu_format);
    char *argv[] = {"qemu-nbd", sock_opt, fmt_opt, write ? path : "--read-only", write ? NULL : path, NULL};
    n->child = spawn(argv, n->err);
    free(path);
    if (n->child < 0) {
        cli_error(im->prog, "%s: cannot start qemu-nbd: %s", file, strerror(errno));
        n->child = 0;
        release(n);
        return NULL;
    }
    /* The socket appears once qemu-nbd has opened the image, and answers once it listens. */
    const char *failure = NULL;
    struct stat st;
    int status;
    for (int waited = 0;; waited++) {
        if (stat(n->sock, &st) == 0) {
            if (!(n->h = nbdapi.nbd_create())) {
                failure = nbdapi.nbd_get_error();
                break;
            }
            if (nbdapi.nbd_connect_unix(n->h, n->sock) == 0)
                break;
            if (nbdapi.nbd_get_errno() != ECONNREFUSED || waited >= START_TIMEOUT_MS) {
                failure = nbdapi.nbd_get_error();
                break;
            }
            nbdapi.nbd_close(n->h);
            n->h = NULL;
        }
        if (waitpid(n->child, &status, WNOHANG) == n->child) {
            n->child = 0;
            failure = child_said(n->err);
        } else if (image_interrupted()) {
            failure = "interrupted";
        } else if (waited >= START_TIMEOUT_MS) {
            failure = "timed out waiting for qemu-nbd";
        }
        if (failure)
            break;
        sleep_ms(1);
    }
    int64_t size = failure ? -1 : nbdapi.nbd_get_size(n->h);
    if (!failure && size < 0)
        failure = nbdapi.nbd_get_error();
    /* A connection that qemu-nbd dropped: its own message says why (a lock, a damaged image). */
    for (int waited = 0; failure && n->child > 0 && !image_interrupted() && waited < 1000; waited += 2) {
        if (waitpid(n->child, &status, WNOHANG) == n->child) {
            n->child = 0;
            failure = child_said(n->err);
        } else {
            sleep_ms(2);
        }
    }
    if (failure) {
        cli_error(im->prog, "%s: cannot open the %s image%s: %s", file, qemu_format, write ? " for writing" : "",
                  failure);
        nbdapi.nbd_close(n->h);
        if (n->child > 0)
            reap(n->child, 0);
        release(n);
        return NULL;
    }
    unlink(n->sock); /* the connection stays; nobody else can connect */
    n->disk = (struct disk){(uint64_t)size, write, nbd_disk_pread, nbd_disk_pwrite, nbd_disk_flush, nbd_disk_close};
    return &n->disk;
}

int disk_nbd_create_overlay(const struct image *im, const char *base, const char *base_format, const char *overlay)
{
    char *err = private_path(im, "err"), *path = safe_path(overlay), *backing = safe_path(base);
    int rc = CLI_FAILED;
    if (!err || !path || !backing) {
        cli_error(im->prog, "out of memory");
    } else {
        char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", (char *)base_format, path, NULL};
        pid_t pid = spawn(argv, err);
        int status = pid < 0 ? -1 : reap(pid, START_TIMEOUT_MS);
        if (status == 0)
            rc = CLI_OK;
        else
            cli_error(im->prog, "%s: cannot create the overlay: %s", im->overlay,
                      pid < 0 ? strerror(errno) : child_said(err));
        unlink(err);
    }
    free(err);
    free(path);
    free(backing);
    return rc;
}

/* The number after "key": in qemu-img's JSON text, or -1. */
static long long json_number(const char *text, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(text, pattern);
    return p ? strtoll(p + strlen(pattern), NULL, 10) : -1;
}

bool disk_nbd_damaged(const struct image *im, const char *file, const char *qemu_format, char *why, size_t len)
{
    char *err = private_path(im, "err"), *out = private_path(im, "json"), *path = safe_path(file);
    bool damaged = false;
    if (err && out && path) {
        char fmt_opt[64];
        snprintf(fmt_opt, sizeof fmt_opt, "%s", qemu_format);
        /* Read-only and without -U: an image in use by a VM fails here (status 1) and then in qemu-nbd,
         * which says so. */
        char *argv[] = {"qemu-img", "check", "--output=json", "-f", fmt_opt, path, NULL};
        pid_t pid = spawn_out(argv, out, err);
        int status = pid < 0 ? -1 : reap(pid, START_TIMEOUT_MS);
        /* 0: clean, 3: leaked clusters only, 63: no check for this format, 1: the check could not run. */
        if (status == 2) {
            char text[4096] = "";
            FILE *f = fopen(out, "re");
            if (f) {
                size_t n = fread(text, 1, sizeof text - 1, f);
                text[n] = '\0';
                fclose(f);
            }
            long long corruptions = json_number(text, "corruptions"), end = json_number(text, "image-end-offset");
            struct stat st;
            int used = snprintf(why, len, "qemu-img check finds %lld corrupt%s", corruptions,
                                corruptions == 1 ? "ion" : "ions");
            if (used > 0 && (size_t)used < len && stat(file, &st) == 0 && end > (long long)st.st_size)
                snprintf(why + used, len - (size_t)used, " (the file is %lld bytes, its clusters reach byte %lld: "
                         "truncated)", (long long)st.st_size, end);
            damaged = true;
        }
    }
    if (err)
        unlink(err);
    if (out)
        unlink(out);
    free(err);
    free(out);
    free(path);
    return damaged;
}

#endif
