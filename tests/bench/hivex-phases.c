/* hivex-phases.c: where a libhivex structural edit spends its time (issue 9's profile).
 *
 *   hivex-phases HIVE
 *
 * Times, wall and CPU, each step that `hiveport set` goes through when it must create keys (the "stamp"
 * job), on HIVE (a SYSTEM hive with ControlSet001\Services, which is not modified: the result goes to
 * HIVE.phases, removed afterwards), next to what reading the same bytes costs without libhivex:
 *
 *   read(2) of the whole file into fresh heap memory   what hivex_open(HIVEX_OPEN_WRITE) starts with
 *   mmap + one byte per 4 KiB                          what hiveport's own open costs (hp_regf_check_bins)
 *   hivex_open read-only / for writing                 the second also copies the file and walks every cell
 *   hivex_node_add_child x 2, hivex_node_set_value     the edit itself
 *   hivex_commit                                       writes the whole file again
 *   fsync, hivex_close
 */
#include <fcntl.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static long faults(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_minflt + r.ru_majflt;
}

static double w0, c0;
static long f0;

static void start(void)
{
    w0 = wall();
    c0 = cpu();
    f0 = faults();
}

static void stop(const char *what)
{
    printf("| %s | %.1f | %.1f | %ld |\n", what, (wall() - w0) * 1e3, (cpu() - c0) * 1e3, faults() - f0);
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hivex-phases HIVE\n");
        return 2;
    }
    const char *path = argv[1];
    char out[4096];
    snprintf(out, sizeof out, "%s.phases", path);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        die(path);
    size_t size = (size_t)st.st_size;
    printf("| step (%s, %zu bytes) | wall ms | CPU ms | page faults |\n|---|---:|---:|---:|\n", path, size);

    start();
    char *buf = malloc(size);
    if (buf == NULL || read(fd, buf, size) != (ssize_t)size)
        die("read");
    stop("read(2) the whole file into fresh heap memory");
    start();
    free(buf);
    stop("free it");

    start();
    const unsigned char *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        die("mmap");
    volatile unsigned sum = 0;
    for (size_t off = 0; off < size; off += 4096)
        sum += map[off];
    stop("mmap + touch one byte per 4 KiB (as hp_regf_check_bins)");
    munmap((void *)map, size);

    start();
    hive_h *h = hivex_open(path, 0);
    if (h == NULL)
        die("hivex_open");
    stop("hivex_open read-only (mmap; walks every cell)");
    hivex_close(h);

    start();
    h = hivex_open(path, HIVEX_OPEN_WRITE);
    if (h == NULL)
        die("hivex_open");
    stop("hivex_open(HIVEX_OPEN_WRITE) (heap copy; walks every cell)");

    start();
    hive_node_h cs = hivex_node_get_child(h, hivex_root(h), "ControlSet001");
    hive_node_h services = cs ? hivex_node_get_child(h, cs, "Services") : 0;
    if (services == 0)
        die("no ControlSet001\\Services");
    hive_node_h key = hivex_node_add_child(h, services, "HiveportPhasesProbe");
    key = key ? hivex_node_add_child(h, key, "Parameters") : 0;
    if (key == 0)
        die("hivex_node_add_child");
    stop("hivex_node_add_child x 2 (Services\\X\\Parameters)");

    start();
    hive_set_value v = {.key = "TCP/IP Port", .t = hive_t_REG_DWORD, .len = 4, .value = "\x89\x13\0\0"};
    if (hivex_node_set_value(h, key, &v, 0) != 0)
        die("hivex_node_set_value");
    stop("hivex_node_set_value");

    start();
    if (hivex_commit(h, out, 0) != 0)
        die("hivex_commit");
    stop("hivex_commit (writes the whole file; no fsync)");

    start();
    int ofd = open(out, O_RDWR);
    if (ofd < 0 || fsync(ofd) != 0)
        die("fsync");
    close(ofd);
    stop("fsync of the result");

    start();
    hivex_close(h);
    stop("hivex_close (frees the heap copy)");
    unlink(out);
    return 0;
}
