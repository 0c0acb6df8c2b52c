/* targets.c: apply's targets, from operands and manifests, and their shards (see targets.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply_image.h"
#include "targets.h"

/* A manifest lists paths: 64 MiB is hundreds of thousands of them. */
#define MANIFEST_MAX_BYTES (64 * 1024 * 1024)
/* The most problems reported for one manifest. */
#define MANIFEST_MAX_ERRORS 20

static bool parse_decimal(const char *s, size_t len, unsigned long max, unsigned *out)
{
    if (len == 0 || len > 9 || strspn(s, "0123456789") < len)
        return false;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

int targets_parse_shard(const char *prog, const char *text, unsigned *k, unsigned *n)
{
    const char *slash = strchr(text, '/');
    if (slash == NULL || !parse_decimal(text, (size_t)(slash - text), TARGETS_MAX_SHARDS, k) ||
        !parse_decimal(slash + 1, strlen(slash + 1), TARGETS_MAX_SHARDS, n) || *n == 0 || *k >= *n)
        return cli_usage_error(prog, "invalid --shard '%s': expected K/N with 0 <= K < N <= %d (e.g. 0/4)", text,
                               TARGETS_MAX_SHARDS);
    return CLI_OK;
}

unsigned targets_shard_of(const char *target, unsigned n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)target; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    /* The low bits of FNV-1a depend only on the low bits of each byte (carries run upwards): folding
     * the high half in lets every bit of the path choose the shard when N is a power of two. */
    return (unsigned)((h ^ h >> 32) % n);
}

static bool add(struct targets *t, size_t *cap, char *item)
{
    if (t->count == *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 64;
        char **grown = realloc(t->items, grown_cap * sizeof *grown);
        if (grown == NULL)
            return false;
        t->items = grown;
        *cap = grown_cap;
    }
    t->items[t->count++] = item;
    return true;
}

/* Reads the whole manifest (NUL-terminated) into *text. */
static int read_manifest(const char *prog, const char *path, const char *name, char **text, size_t *len)
{
    bool from_stdin = strcmp(path, "-") == 0;
    /* read(2), not stdio: apply forks workers, which must not inherit a stream buffer. */
    int fd = from_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error(prog, "%s: cannot open the manifest: %s", name, strerror(errno));
        return CLI_FAILED;
    }
    struct stat st;
    int rc = CLI_OK;
    size_t cap = 65536;
    char *buf = NULL;
    *len = 0;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error(prog, "%s: is a directory, not a manifest", name);
        rc = CLI_FAILED;
    } else if ((buf = malloc(cap + 1)) == NULL) {
        rc = CLI_FAILED;
        cli_error(prog, "out of memory");
    }
    while (rc == CLI_OK) {
        if (*len == cap) {
            char *grown = cap < MANIFEST_MAX_BYTES ? realloc(buf, 2 * cap + 1) : NULL;
            if (grown == NULL) {
                if (cap < MANIFEST_MAX_BYTES)
                    cli_error(prog, "out of memory");
                else
                    cli_error(prog, "%s: larger than 64 MiB: not a manifest", name);
                rc = CLI_FAILED;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error(prog, "%s: cannot read the manifest: %s", name, strerror(errno));
            rc = CLI_FAILED;
        } else if (n == 0) {
            break;
        }
        *len += (size_t)(n > 0 ? n : 0);
    }
    if (!from_stdin)
        close(fd);
    if (rc != CLI_OK) {
        free(buf);
        return rc;
    }
    buf[*len] = '\0';
    *text = buf;
    return CLI_OK;
}

/* Splits the manifest into lines (in place) and adds its targets. */
static int parse_manifest(const char *prog, const char *name, char *text, size_t len, struct targets *t, size_t *cap)
{
    unsigned line = 0, errors = 0;
    for (size_t start = 0; start < len;) {
        line++;
        char *s = text + start, *nl = memchr(s, '\n', len - start);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - start;
        start += n + 1;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        s[n] = '\0';
        const char *problem = NULL;
        if (strlen(s) != n)
            problem = "the line holds a NUL byte: not a manifest";
        else if (n == 0 || s[0] == '#')
            continue;
        else if (strcmp(s, "-") == 0)
            problem = "a target cannot be standard input ('-')";
        else if (apply_image_is_target(s))
            problem = apply_image_problem(s);
        if (problem != NULL) {
            if (++errors <= MANIFEST_MAX_ERRORS)
                cli_error(prog, "%s:%u: %s", name, line, problem);
            continue;
        }
        if (!add(t, cap, s)) {
            cli_error(prog, "out of memory");
            return CLI_FAILED;
        }
    }
    return errors > 0 ? CLI_USAGE : CLI_OK;
}

int targets_collect(const char *prog, char **operands, size_t noperands, const char *manifest_path, unsigned k,
                    unsigned n, struct targets *t)
{
    memset(t, 0, sizeof *t);
    size_t cap = 0;
    for (size_t i = 0; i < noperands; i++)
        if (!add(t, &cap, operands[i])) {
            cli_error(prog, "out of memory");
            targets_free(t);
            return CLI_FAILED;
        }
    if (manifest_path != NULL) {
        const char *name = strcmp(manifest_path, "-") == 0 ? "(standard input)" : manifest_path;
        size_t len;
        int rc = read_manifest(prog, manifest_path, name, &t->text, &len);
        if (rc == CLI_OK)
            rc = parse_manifest(prog, name, t->text, len, t, &cap);
        if (rc != CLI_OK) {
            targets_free(t);
            return rc;
        }
    }
    t->total = t->count;
    size_t kept = 0;
    for (size_t i = 0; i < t->count; i++)
        if (n <= 1 || targets_shard_of(t->items[i], n) == k)
            t->items[kept++] = t->items[i];
    t->count = kept;
    return CLI_OK;
}

void targets_free(struct targets *t)
{
    free(t->items);
    free(t->text);
    memset(t, 0, sizeof *t);
}
