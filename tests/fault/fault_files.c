/* fault_files.c: files that are not what a hive should be: each gives a result or a clear error, in time.
 *
 * What tests/check_open.c already covers (a directory, /dev/zero, a FIFO, a missing file, a symbolic link
 * opened for writing, an empty file, text, a short file, a log in the hive's place, a bad checksum, a
 * truncated hive, a read-only file) is not repeated.  Added here:
 *   - 4 GiB sparse files: all zeros; a valid header and hive then zeros (slack); a header announcing
 *     4 GiB of hive bins (valid for the header check, damaged behind it); one byte short of what the
 *     header announces;
 *   - a valid header followed by garbage, in several shapes (random bins, random cells behind good bin
 *     headers, bad bin sizes, a root cell pointing outside or into the middle of a cell, ...), each read
 *     fully, and opened for writing, changed and committed when it opens;
 *   - header edge cases: only a header, a version the library does not know;
 *   - directed damage to what libhivex frees without checking when a key's values are rewritten or a key
 *     is deleted (a data cell or class name pointing into the middle of a cell, a data cell shared by two
 *     values): the change must be refused as HIVEPORT_E_CORRUPT (or succeed), never abort;
 *   - paths: a dangling symbolic link, a symbolic link loop, a trailing slash, a missing directory, a
 *     file used as a directory, a socket, a name longer than PATH_MAX;
 *   - a read-only directory when running as root (check_open covers it only for other users: root may
 *     write anywhere, so the check runs in a child that drops to an unprivileged user).
 * Every case runs in a child process with a time limit (HIVEPORT_FAULT_TIMEOUT, default 60 s): a hang or a
 * crash fails the case.  HIVEPORT_FAULT_NO_HUGE=1 skips the 4 GiB writes-opens (libhivex reads the whole
 * file into memory for writing: 4 GiB of RAM; valgrind cannot). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "fuzz.h"
#include "testutil.h"
#include "le.h"

#define GIB4 (UINT64_C(1) << 32)

static char *dir;
static unsigned char *basic; /* the system-basic fixture */
static size_t basic_len;

static unsigned long rng_state = 12345;

static unsigned rng(void)
{
    rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)(rng_state >> 33);
}

/* Writes data to dir/name, then extends the file (sparse) to total bytes when total > len. */
static char *make_file(const char *name, const unsigned char *data, size_t len, uint64_t total)
{
    char *path = fl_join(dir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (len > 0 && write(fd, data, len) != (ssize_t)len) ||
        (total > len && ftruncate(fd, (off_t)total) != 0) || close(fd) != 0)
        fl_bail("cannot write %s: %s", path, strerror(errno));
    return path;
}

static void fix_checksum(unsigned char *h)
{
    uint32_t sum = 0;
    for (int off = 0; off < 0x1FC; off += 4)
        sum ^= hp_le32(h + off);
    hp_put_le32(h + 0x1FC, sum == 0 ? 1 : sum == 0xFFFFFFFFu ? 0xFFFFFFFEu : sum);
}

/* What a write-open does before committing (NULL: set ntds to 6100 and check it reads back). */
static int (*write_action)(hiveport *h);

/* What a case expects from an open: a status, or -1 for "opens, or fails with any explained status". */
#define ANY (-1)

struct outcome {
    int rc;
    char msg[1100];
    long ms;
};

/* Runs fill(ctx, &o) in a forked child, which sends o back through a pipe and exits 0 (5 when it cannot send
 * it).  The parent's copy in *out (rc -100 when none came), the child's wait status in *status; returns
 * whether the whole outcome arrived. */
static bool in_child(void (*fill)(const void *ctx, struct outcome *o), const void *ctx, struct outcome *out,
                     int *status)
{
    int fds[2];
    if (pipe(fds) != 0)
        fl_bail("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct outcome o = {0};
        fill(ctx, &o);
        if (write(fds[1], &o, sizeof o) != sizeof o)
            _exit(5);
        _exit(0);
    }
    close(fds[1]);
    *out = (struct outcome){.rc = -100};
    ssize_t got = read(fds[0], out, sizeof *out);
    close(fds[0]);
    waitpid(pid, status, 0);
    if (got != (ssize_t)sizeof *out)
        out->rc = -100;
    return got == (ssize_t)sizeof *out;
}

struct open_try {
    const char *path;
    unsigned flags;
    bool commit;
};

/* try_open's child: with a time limit, opens the path; when it opens, reads everything, and with commit (for
 * writes) also sets a port and commits (the file must then reopen). */
static void open_in_child(const void *ctx, struct outcome *o)
{
    const struct open_try *t = ctx;
    const char *path = t->path;
    unsigned flags = t->flags;
    const char *limit = getenv("HIVEPORT_FAULT_TIMEOUT");
    alarm(limit != NULL && *limit ? (unsigned)atoi(limit) : 60);
    hiveport *h = NULL;
    o->rc = hiveport_open(path, flags, &h);
    snprintf(o->msg, sizeof o->msg, "%s", hiveport_errmsg(h));
    if (o->rc == HIVEPORT_OK) {
        fz_read_everything(h);
        if (t->commit && (flags & HIVEPORT_OPEN_WRITE)) {
            int rc = write_action ? write_action(h)
                                  : hiveport_set_port(h, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, 6100, 0);
            o->rc = rc; /* for directed damage, what the change itself said */
            snprintf(o->msg, sizeof o->msg, "%s", hiveport_errmsg(h));
            if (rc == HIVEPORT_OK)
                rc = hiveport_commit(h, NULL);
            if (rc != HIVEPORT_OK)
                fz_expect_explained(h, rc, "change and commit");
            hiveport_close(h);
            h = NULL;
            if (rc == HIVEPORT_OK && write_action != NULL) {
                hiveport *again = NULL;
                rc = hiveport_open(path, 0, &again);
                FZ_ASSERT(rc == HIVEPORT_OK, "the committed file does not open: %s", hiveport_errmsg(again));
                hiveport_close(again);
            } else if (rc == HIVEPORT_OK) {
                uint32_t port = 0;
                rc = fl_read_port(path, hiveport_catalog_find("ntds"), HIVEPORT_CS_CURRENT, &port);
                FZ_ASSERT(rc == HIVEPORT_OK && port == 6100, "the committed file reads %d, port %u", rc, port);
            }
        }
    } else {
        fz_expect_explained(h, o->rc, "hiveport_open");
    }
    hiveport_close(h);
}

/* In a child (open_in_child), with a time limit: opens path with flags, and with commit also writes. */
static bool try_open(const char *path, unsigned flags, bool commit, struct outcome *out, char *why, size_t why_len)
{
    struct open_try t = {path, flags, commit};
    int64_t t0 = fl_now_ms();
    int status;
    bool got = in_child(open_in_child, &t, out, &status);
    out->ms = (long)(fl_now_ms() - t0);
    if (WIFSIGNALED(status)) {
        snprintf(why, why_len, "the open (or what followed) %s (signal %d) after %ld ms",
                 WTERMSIG(status) == SIGALRM ? "hung" : "crashed", WTERMSIG(status), out->ms);
        return false;
    }
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, why_len, "the child failed (status 0x%x)", status);
        return false;
    }
    return true;
}

static bool commit_after_open = true;
static bool long_path; /* the message cannot hold the whole path: check only its start */ /* off for the 4 GiB files: a commit copies the whole file */

/* One case: open path read-only and for writing (want -2: not tried); each must give want (or, for ANY,
 * success or an explained failure), with a message naming the file and containing reason (if given). */
static void expect(const char *what, const char *path, int want_ro, int want_rw, const char *reason)
{
    for (int w = 0; w < 2; w++) {
        int want = w ? want_rw : want_ro;
        if (want == -2)
            continue; /* not tried */
        char label[300], why[300];
        snprintf(label, sizeof label, "%s (%s)", what, w ? "write" : "read");
        struct outcome o;
        if (!try_open(path, w ? HIVEPORT_OPEN_WRITE : 0, commit_after_open, &o, why, sizeof why)) {
            fl_check(false, label, "%s", why);
            continue;
        }
        bool ok = want == ANY || o.rc == want;
        if (o.rc != HIVEPORT_OK) {
            bool named = long_path ? strncmp(o.msg, path, 64) == 0 : strstr(o.msg, path) != NULL;
            ok = ok && named && (reason == NULL || strstr(o.msg, reason) != NULL);
        }
        fl_check(ok, label, "got %s \"%s\", want %s%s%s", hiveport_strerror(o.rc), o.msg,
                 want == ANY ? "any" : hiveport_strerror(want), reason ? " mentioning " : "", reason ? reason : "");
        printf("#   %s: %s%s%.200s%s in %ld ms\n", label, o.rc == HIVEPORT_OK ? "opened" : hiveport_strerror(o.rc),
               o.rc == HIVEPORT_OK ? "" : ": ", o.msg, strlen(o.msg) > 200 ? "..." : "", o.ms);
    }
}

static void huge_files(bool write_too)
{
    int huge_rw = write_too ? ANY : -2;
    commit_after_open = false;
    char *p = make_file("zeros-4g", NULL, 0, GIB4);
    expect("4 GiB of zeros", p, HIVEPORT_E_NOT_HIVE, HIVEPORT_E_NOT_HIVE, "not a registry hive");
    free(p);

    /* A whole valid hive, then 4 GiB of slack: the format allows slack, so this opens. */
    p = make_file("slack-4g", basic, basic_len, GIB4);
    expect("a valid hive followed by zeros to 4 GiB", p, HIVEPORT_OK, huge_rw, NULL);
    free(p);

    /* The header announces 4 GiB - 4 KiB of hive bins, which the file has: only the bins are wrong. */
    unsigned char *h = malloc(basic_len);
    memcpy(h, basic, basic_len);
    hp_put_le32(h + 0x28, 0xFFFFF000u);
    fix_checksum(h);
    p = make_file("bins-4g", h, basic_len, GIB4);
    expect("a header announcing 4 GiB of hive bins, zeros behind the first", p, HIVEPORT_E_CORRUPT,
           write_too ? HIVEPORT_E_CORRUPT : -2, "damaged");
    free(p);
    p = make_file("bins-4g-short", h, basic_len, GIB4 - 1);
    expect("4 GiB - 1 byte where the header announces 4 GiB", p, HIVEPORT_E_TRUNCATED, HIVEPORT_E_TRUNCATED,
           "the file holds");
    free(p);
    free(h);
    commit_after_open = true;
}

/* A copy of system-basic damaged by fn, written under name and tried both ways. */
static void garbage(const char *what, const char *name, void (*fn)(unsigned char *, size_t), int want)
{
    unsigned char *h = malloc(basic_len);
    memcpy(h, basic, basic_len);
    fn(h, basic_len);
    fix_checksum(h);
    char *p = make_file(name, h, basic_len, 0);
    expect(what, p, want, want, NULL);
    free(p);
    free(h);
}

static void random_bins(unsigned char *h, size_t len)
{
    for (size_t i = 4096; i < len; i++)
        h[i] = (unsigned char)rng();
}

/* Cells: everything but the 32-byte bin headers. */
static void random_cells(unsigned char *h, size_t len)
{
    for (size_t i = 4096; i < len; i++)
        if ((i - 4096) % 4096 >= 32)
            h[i] = (unsigned char)rng();
}

/* One byte in 16 of the cells changed (bin headers kept): mostly intact, everywhere a little wrong. */
static void sprinkled(unsigned char *h, size_t len)
{
    for (size_t i = 4096; i < len; i += 16) {
        size_t j = i + rng() % 16;
        if (j < len && (j - 4096) % 4096 >= 32)
            h[j] ^= (unsigned char)(1 + rng() % 255);
    }
}

/* Every cell size turned positive (free): the root is then no key. */
static void all_cells_free(unsigned char *h, size_t len)
{
    for (size_t bin = 4096; bin + 32 < len; bin += 4096)
        for (size_t off = bin + 32; off + 4 <= bin + 4096;) {
            int32_t size = (int32_t)hp_le32(h + off);
            if (size == 0)
                break;
            uint32_t abs = size < 0 ? (uint32_t)-size : (uint32_t)size;
            hp_put_le32(h + off, abs);
            if (abs < 8)
                break;
            off += abs;
        }
}

static void bin_size_zero(unsigned char *h, size_t len)
{
    (void)len;
    hp_put_le32(h + 4096 + 8, 0);
}

static void bin_size_huge(unsigned char *h, size_t len)
{
    (void)len;
    hp_put_le32(h + 4096 + 8, 0x7FFFF000u);
}

static void root_outside(unsigned char *h, size_t len)
{
    (void)len;
    hp_put_le32(h + 0x24, 0xFFFFFFF0u);
}

static void root_mid_cell(unsigned char *h, size_t len)
{
    (void)len;
    hp_put_le32(h + 0x24, hp_le32(h + 0x24) + 8);
}

static void header_only_bins(unsigned char *h, size_t len)
{
    (void)len;
    hp_put_le32(h + 0x28, 4096); /* fewer bins than the file has: the rest is slack, the root still inside */
}

static void garbage_files(void)
{
    garbage("a valid header, then random bytes", "random-bins", random_bins, HIVEPORT_E_CORRUPT);
    for (int i = 0; i < 8; i++) {
        char what[100], name[40];
        snprintf(what, sizeof what, "a valid header and bin headers, random cells #%d", i);
        snprintf(name, sizeof name, "random-cells-%d", i);
        garbage(what, name, random_cells, ANY);
        snprintf(what, sizeof what, "a valid hive with bytes changed all over #%d", i);
        snprintf(name, sizeof name, "sprinkled-%d", i);
        garbage(what, name, sprinkled, ANY);
    }
    garbage("every cell marked free", "all-free", all_cells_free, HIVEPORT_E_CORRUPT);
    garbage("a hive bin of size 0", "bin-size-0", bin_size_zero, HIVEPORT_E_CORRUPT);
    garbage("a hive bin of size 2 GiB", "bin-size-huge", bin_size_huge, HIVEPORT_E_CORRUPT);
    garbage("the root cell offset outside the file", "root-outside", root_outside, HIVEPORT_E_CORRUPT);
    garbage("the root cell offset inside a cell", "root-mid-cell", root_mid_cell, HIVEPORT_E_CORRUPT);
    garbage("the header counts fewer bins than the file has", "fewer-bins", header_only_bins, ANY);

    /* The header alone (4096 bytes), one field of it changed and its checksum made again. */
    static const struct {
        const char *what, *name;
        size_t at;
        uint32_t value;
        int want;
        const char *reason;
    } headers[] = {
        {"only a header, announcing no hive bins", "header-only", 0x28, 0, HIVEPORT_E_CORRUPT, "hive-bins"},
        {"format version 1.7", "minor-7", 0x18, 7, HIVEPORT_E_NOT_HIVE, "version"},
        {"a hive-bins size that is not a multiple of 4096", "bins-unaligned", 0x28, 0x1001, HIVEPORT_E_CORRUPT,
         "multiple of 4096"},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        unsigned char h[4096];
        memcpy(h, basic, 4096);
        hp_put_le32(h + headers[i].at, headers[i].value);
        fix_checksum(h);
        char *p = make_file(headers[i].name, h, 4096, 0);
        expect(headers[i].what, p, headers[i].want, headers[i].want, headers[i].reason);
        free(p);
    }
}

/* ---- directed damage: what libhivex frees, unchecked, when it rewrites values or deletes a key ---- */

#pragma weak hiveport_rpc_clear

/* The record offset of the (allocated) vk or nk named name in h, or 0. */
static size_t record_named(const unsigned char *h, size_t len, const char *sig, const char *name)
{
    bool vk = strcmp(sig, "vk") == 0;
    size_t n = strlen(name), name_at = vk ? 0x14 : 0x4C, len_at = vk ? 0x02 : 0x48;
    for (size_t i = 0x1000 + name_at; i + n <= len; i++) {
        const unsigned char *rec = h + i - name_at;
        if (memcmp(h + i, name, n) == 0 && memcmp(rec, sig, 2) == 0 && (rec[len_at] | rec[len_at + 1] << 8) == (int)n &&
            (int32_t)hp_le32(rec - 4) < 0) /* an allocated cell, not an old record left in a free one */
            return i - name_at;
    }
    return 0;
}

/* Plants a fake cell header (size -8) 8 bytes into the data cell of the vk at rec and returns its offset:
 * it looks like an allocated cell but is none (libhivex's map of cells says so). */
static size_t fake_cell_in_data(unsigned char *h, size_t rec)
{
    size_t data = 0x1000 + hp_le32(h + rec + 8);
    int32_t size = (int32_t)hp_le32(h + data);
    if (size > -16)
        fl_bail("the data cell at 0x%zx is too small to hide a fake cell in", data);
    hp_put_le32(h + data + 8, (uint32_t)-8);
    return data + 8;
}

static int unset_ab(hiveport *h)
{
    return hiveport_unset_port(h, hiveport_catalog_find("exchange2010-ab"), HIVEPORT_CS_ALL);
}

static int unset_rfr(hiveport *h)
{
    return hiveport_unset_port(h, hiveport_catalog_find("exchange-sa-rfr"), HIVEPORT_CS_ALL);
}

static int rpc_clear(hiveport *h)
{
    return hiveport_rpc_clear(h, 0);
}

/* fixture damaged by fn, opened for writing, changed by action: CORRUPT (or success), never a crash. */
static void directed(const char *what, const char *fixture, void (*fn)(unsigned char *, size_t),
                     int (*action)(hiveport *))
{
    const char *src = tu_fixture_path(fixture);
    size_t len;
    unsigned char *h = tu_read(src, &len);
    if (h == NULL)
        fl_bail("cannot read %s", src);
    fn(h, len);
    fix_checksum(h);
    char *p = make_file("directed", h, len, 0);
    write_action = action;
    char label[300], why[300];
    snprintf(label, sizeof label, "%s (write, change)", what);
    struct outcome o;
    if (try_open(p, HIVEPORT_OPEN_WRITE, true, &o, why, sizeof why))
        fl_check(o.rc == HIVEPORT_OK || o.rc == HIVEPORT_E_CORRUPT, label, "got %s \"%s\"",
                 hiveport_strerror(o.rc), o.msg);
    else
        fl_check(false, label, "%s", why);
    printf("#   %s: %s%s%.200s in %ld ms\n", label, o.rc == HIVEPORT_OK ? "done" : hiveport_strerror(o.rc),
           o.rc == HIVEPORT_OK ? "" : ": ", o.msg, o.ms);
    write_action = NULL;
    free(p);
    free(h);
}

/* exchange2010-ab (REG_SZ "6001") with its data pointing into the middle of a cell. */
static void ab_data_mid_cell(unsigned char *h, size_t len)
{
    size_t rec = record_named(h, len, "vk", "RpcTcpPort");
    if (rec == 0)
        fl_bail("no RpcTcpPort value in regsz-port");
    hp_put_le32(h + rec + 8, (uint32_t)(fake_cell_in_data(h, rec) - 0x1000));
}

/* The vk named name in the same key (value list) as the vk at other, or 0. */
static size_t sibling_named(const unsigned char *h, size_t len, size_t other, const char *name)
{
    size_t n = strlen(name);
    for (size_t nk = 0x1004; nk + 0x50 <= len; nk += 8) { /* records follow 4-byte cell sizes */
        if (memcmp(h + nk, "nk", 2) != 0)
            continue;
        uint32_t count = hp_le32(h + nk + 0x24), list = hp_le32(h + nk + 0x28);
        size_t at = 0x1000 + (size_t)list + 4;
        if (list == 0xFFFFFFFFu || count > 64 || at + 4 * (size_t)count > len)
            continue;
        bool holds = false;
        for (uint32_t i = 0; i < count; i++)
            holds = holds || 0x1000 + (size_t)hp_le32(h + at + 4 * i) + 4 == other;
        for (uint32_t i = 0; holds && i < count; i++) {
            size_t vk = 0x1000 + (size_t)hp_le32(h + at + 4 * i) + 4;
            if (vk + 0x14 + n <= len && memcmp(h + vk, "vk", 2) == 0 && hp_le32(h + vk + 2) % 65536 == n &&
                memcmp(h + vk + 0x14, name, n) == 0)
                return vk;
        }
    }
    return 0;
}

/* exchange-sa-rfr ("TCP/IP Port") made non-inline, sharing the data cell of "Mailbox Server" (same key). */
static void rfr_shares_data(unsigned char *h, size_t len)
{
    size_t mbx = record_named(h, len, "vk", "Mailbox Server");
    size_t rfr = mbx ? sibling_named(h, len, mbx, "TCP/IP Port") : 0;
    if (rfr == 0 || mbx == 0)
        fl_bail("no TCP/IP Port next to Mailbox Server in system-basic");
    hp_put_le32(h + rfr + 4, 4);                    /* 4 bytes, not inline */
    hp_put_le32(h + rfr + 8, hp_le32(h + mbx + 8)); /* the other value's data cell */
}

/* Microsoft\Rpc\Internet with its class name pointing into the middle of a cell. */
static void internet_class_mid_cell(unsigned char *h, size_t len)
{
    size_t nk = record_named(h, len, "nk", "Internet"), ports = record_named(h, len, "vk", "Ports");
    if (nk == 0 || ports == 0)
        fl_bail("no Internet key or Ports value in software-rpc-inside");
    hp_put_le32(h + nk + 0x30, (uint32_t)(fake_cell_in_data(h, ports) - 0x1000));
    hp_put_le32(h + nk + 0x4A, 8); /* class name length */
}

/* ... and with the data of Ports pointing into the middle of a cell. */
static void internet_data_mid_cell(unsigned char *h, size_t len)
{
    size_t ports = record_named(h, len, "vk", "Ports");
    if (ports == 0)
        fl_bail("no Ports value in software-rpc-inside");
    hp_put_le32(h + ports + 8, (uint32_t)(fake_cell_in_data(h, ports) - 0x1000));
}

static void directed_damage(void)
{
    directed("a removed value whose data points into the middle of a cell", "regsz-port", ab_data_mid_cell,
             unset_ab);
    directed("a removed value sharing its data cell with another value of the key", "system-basic", rfr_shares_data,
             unset_rfr);
    if (hiveport_rpc_clear == NULL) {
        printf("# hiveport_rpc_clear is not in the library: deleting a damaged key not tried\n");
        return;
    }
    directed("a deleted key whose class name points into the middle of a cell", "software-rpc-inside",
             internet_class_mid_cell, rpc_clear);
    directed("a deleted key whose value data points into the middle of a cell", "software-rpc-inside",
             internet_data_mid_cell, rpc_clear);
}

static void odd_paths(void)
{
    char *target = fl_join(dir, "no-such-target"), *dangling = fl_join(dir, "dangling");
    if (symlink(target, dangling) != 0)
        fl_bail("symlink: %s", strerror(errno));
    expect("a dangling symbolic link", dangling, HIVEPORT_E_IO, -2, "No such file");
    expect("a dangling symbolic link", dangling, -2, HIVEPORT_E_NOT_REGULAR, "symbolic link");

    char *loop_a = fl_join(dir, "loop-a"), *loop_b = fl_join(dir, "loop-b");
    if (symlink(loop_a, loop_b) != 0 || symlink(loop_b, loop_a) != 0)
        fl_bail("symlink: %s", strerror(errno));
    expect("a symbolic link loop", loop_a, HIVEPORT_E_IO, HIVEPORT_E_NOT_REGULAR, NULL);

    char *hive = make_file("hive", basic, basic_len, 0);
    char *slash = NULL, *under = NULL, *missing = NULL;
    if (asprintf(&slash, "%s/", hive) < 0 || asprintf(&under, "%s/SYSTEM", hive) < 0 ||
        asprintf(&missing, "%s/no-such-dir/SYSTEM", dir) < 0)
        fl_bail("out of memory");
    expect("a trailing slash after a file name", slash, HIVEPORT_E_IO, HIVEPORT_E_IO, "Not a directory");
    expect("a file used as a directory", under, HIVEPORT_E_IO, HIVEPORT_E_IO, "Not a directory");
    expect("a directory that does not exist", missing, HIVEPORT_E_IO, HIVEPORT_E_IO, "No such file");

    char *sock = fl_join(dir, "socket");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(sock) < sizeof addr.sun_path) {
        memcpy(addr.sun_path, sock, strlen(sock) + 1);
        if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0)
            fl_bail("socket %s: %s", sock, strerror(errno));
        expect("a socket", sock, HIVEPORT_E_NOT_REGULAR, HIVEPORT_E_NOT_REGULAR, "not a regular file");
    }
    if (s >= 0)
        close(s);

    char name[300];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char *longname = fl_join(dir, name);
    expect("a file name longer than NAME_MAX", longname, HIVEPORT_E_IO, HIVEPORT_E_IO, "too long");
    free(longname);
    /* Longer than the 1024-byte message: the status still says what happened. */
    size_t n = PATH_MAX + 100;
    char *longp = malloc(n + 1);
    memset(longp, 'a', n);
    longp[0] = '/';
    longp[n] = '\0';
    long_path = true;
    expect("a path longer than PATH_MAX", longp, HIVEPORT_E_IO, HIVEPORT_E_IO, NULL);
    long_path = false;
    free(longp);
    free(target);
    free(dangling);
    free(loop_a);
    free(loop_b);
    free(hive);
    free(slash);
    free(under);
    free(missing);
    free(sock);
}

/* Root may write anywhere; the library's directory check must still refuse for an unprivileged user. */
/* read_only_dir_as_root's child: as nobody, opens the path (ctx) for writing; rc -99 when it cannot become
 * nobody. */
static void write_open_as_nobody(const void *ctx, struct outcome *o)
{
    if (setgid(65534) != 0 || setuid(65534) != 0) {
        o->rc = -99;
        return;
    }
    hiveport *h = NULL;
    o->rc = hiveport_open(ctx, HIVEPORT_OPEN_WRITE, &h);
    snprintf(o->msg, sizeof o->msg, "%s", hiveport_errmsg(h));
    hiveport_close(h);
}

static void read_only_dir_as_root(void)
{
    if (geteuid() != 0) {
        printf("# read-only directory: not root, covered by check_open\n");
        return;
    }
    char *sub = fl_join(dir, "ro"), *path = NULL;
    if (mkdir(sub, 0755) != 0 || asprintf(&path, "%s/SYSTEM", sub) < 0)
        fl_bail("mkdir %s: %s", sub, strerror(errno));
    free(make_file("ro/SYSTEM", basic, basic_len, 0));
    chmod(path, 0666);
    chmod(sub, 0555);
    chmod(dir, 0755);
    struct outcome o;
    int status;
    in_child(write_open_as_nobody, path, &o, &status);
    if (o.rc == -99)
        printf("# read-only directory as root: cannot drop privileges here; skipped\n");
    else
        fl_check(o.rc == HIVEPORT_E_READONLY && strstr(o.msg, "not writable") != NULL,
                 "a writable file in a read-only directory (as an unprivileged user, from root)",
                 "got %s \"%s\"", hiveport_strerror(o.rc), o.msg);
    chmod(sub, 0755);
    free(sub);
    free(path);
}

int main(void)
{
    const char *src = tu_fixture_path("system-basic");
    basic = tu_read(src, &basic_len);
    if (basic == NULL || basic_len < 8192)
        fl_bail("cannot read %s (run make fixtures)", src);
    dir = fl_tmpdir();
    const char *no_huge = getenv("HIVEPORT_FAULT_NO_HUGE");
    huge_files(no_huge == NULL || strcmp(no_huge, "1") != 0);
    garbage_files();
    directed_damage();
    odd_paths();
    read_only_dir_as_root();
    fl_cleanup(dir);
    free(basic);
    return fl_finish();
}
