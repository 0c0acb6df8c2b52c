/* fuzz_commit.c: arbitrary bytes as a hive file, opened for writing, changed and committed.
 *
 * The input's hash chooses up to four changes (which setting, which control set, which port, set or
 * unset, with or without replacing another type, sometimes a discard) and whether the commit keeps a
 * backup.  After a successful commit the file must open again and read back every change that succeeded;
 * after a failed one it must hold the input's bytes.  Either way no temporary file may remain. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* The SOFTWARE-hive writers may not be in the library yet (weak: NULL until they are). */
#pragma weak hiveport_rpc_set
#pragma weak hiveport_rpc_clear
#pragma weak hiveport_rpc_get
#pragma weak hiveport_dcom_set_port
#pragma weak hiveport_free

#define MAX_CS 8
#define UNKNOWN UINT32_MAX /* a failed change may have done part of its work */
#define ABSENT (UINT32_MAX - 1)

/* What each (setting, control set) must read back after the commit: a port, ABSENT, or UNKNOWN. */
struct expect {
    size_t setting;
    uint32_t cs;
    uint32_t value;
};

static struct expect expects[64];
static size_t nexpects;

static void expect(size_t setting, uint32_t cs, uint32_t value)
{
    for (size_t i = 0; i < nexpects; i++)
        if (expects[i].setting == setting && expects[i].cs == cs) {
            expects[i].value = value;
            return;
        }
    if (nexpects < sizeof expects / sizeof expects[0])
        expects[nexpects++] = (struct expect){setting, cs, value};
}

/* The control sets a target names in h, as the library will resolve them; 0 when it cannot. */
static size_t targets_of(hiveport *h, int target, uint32_t *out)
{
    if (target != HIVEPORT_CS_ALL) {
        uint32_t n;
        if (hiveport_resolve_controlset(h, target, &n) != HIVEPORT_OK)
            return 0;
        out[0] = n;
        return 1;
    }
    size_t count = 0;
    if (hiveport_controlsets(h, out, MAX_CS, &count) != HIVEPORT_OK || count > MAX_CS)
        return 0; /* more than we track: the checks below skip CS_ALL then */
    return count;
}

static void check_no_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    FZ_ASSERT(d != NULL, "cannot list %s", dir);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *n = e->d_name;
        FZ_ASSERT(strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, "hive") == 0 ||
                      strcmp(n, "hive.bak") == 0,
                  "%s/%s left behind", dir, n);
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    uint64_t r = fz_hash(data, size);
    if (r % 16 != 0)
        fz_fix_checksum(buf, size);
    r /= 16;
    const char *dir = fz_scratch_dir();
    char path[4096], backup[4096];
    snprintf(path, sizeof path, "%s/hive", dir);
    snprintf(backup, sizeof backup, "%s/hive.bak", dir);
    remove(backup);
    fz_write_file("hive", buf, size);

    hiveport *h;
    int rc = fz_open_nowait(path, HIVEPORT_OPEN_WRITE, &h);
    if (rc != HIVEPORT_OK) {
        fz_expect_explained(h, rc, "hiveport_open_ext(write)");
        hiveport_close(h);
        free(buf);
        return 0;
    }

    static const int targets[] = {HIVEPORT_CS_CURRENT, HIVEPORT_CS_DEFAULT, HIVEPORT_CS_LASTKNOWNGOOD,
                                  HIVEPORT_CS_ALL,     1,                   2,
                                  3,                   HIVEPORT_CS_CURRENT};
    size_t ncat = hiveport_catalog_count();
    nexpects = 0;
    bool track_all = true; /* false once a CS_ALL change hit more control sets than we track */
    static int verbose = -1; /* HIVEPORT_FUZZ_VERBOSE=1: say what each input does */
    if (verbose < 0)
        verbose = getenv("HIVEPORT_FUZZ_VERBOSE") != NULL;
    unsigned nops = 1 + (unsigned)(r % 4);
    r /= 4;
    for (unsigned op = 0; op < nops; op++) {
        size_t si = (size_t)(r % ncat);
        r /= ncat;
        int target = targets[r % 8];
        r /= 8;
        unsigned kind = (unsigned)(r % 8); /* 0-4 set, 5 set replacing the type, 6 unset, 7 discard */
        r /= 8;
        uint32_t port = (uint32_t)(r % 65536);
        r = (r / 65536) ^ fz_hash((const uint8_t *)&op, sizeof op);
        const hiveport_setting *s = hiveport_catalog_at(si);

        uint32_t cs[MAX_CS];
        size_t ncs = targets_of(h, target, cs);
        if (target == HIVEPORT_CS_ALL && ncs == 0)
            track_all = false;
        if (kind == 7) {
            if (verbose)
                fprintf(stderr, "fuzz_commit: discard\n");
            rc = hiveport_discard(h);
            FZ_ASSERT(rc == HIVEPORT_OK, "discard failed: %d (%s)", rc, hiveport_errmsg(h));
            FZ_ASSERT(!hiveport_has_changes(h), "changes after a discard");
            nexpects = 0;
            continue;
        }
        if (kind == 6)
            rc = hiveport_unset_port(h, s, target);
        else
            rc = hiveport_set_port(h, s, target, port, kind == 5 ? HIVEPORT_SET_REPLACE_TYPE : 0);
        if (verbose)
            fprintf(stderr, "fuzz_commit: %s %s target %d port %u%s: %d %s\n", kind == 6 ? "unset" : "set", s->id,
                    target, port, kind == 5 ? " (replace type)" : "", rc, hiveport_errmsg(h));
        if (rc != HIVEPORT_OK) {
            fz_expect_explained(h, rc, kind == 6 ? "hiveport_unset_port" : "hiveport_set_port");
            for (size_t i = 0; i < ncs; i++)
                expect(si, cs[i], UNKNOWN);
            continue;
        }
        for (size_t i = 0; i < ncs; i++)
            expect(si, cs[i], kind == 6 ? ABSENT : port);
    }

    /* One SOFTWARE-hive change in two, chosen from another hash, so that the choices above stay what they
     * were for saved inputs. */
    uint64_t r2 = fz_hash(data, size) * UINT64_C(0x9E3779B97F4A7C15);
    r2 ^= r2 >> 29;
    int rpc_expect = -1; /* 1: the range set below must read back; 0: no check */
    unsigned sw = (unsigned)(r2 % 8);
    if (sw <= 1 && hiveport_rpc_set != NULL) {
        rc = sw == 0 ? hiveport_rpc_set(h, "5984,5000-5100", 'y', 'Y', NULL) : hiveport_rpc_set(h, NULL, 'N', 0, NULL);
        if (rc != HIVEPORT_OK)
            fz_expect_explained(h, rc, "hiveport_rpc_set");
        rpc_expect = rc == HIVEPORT_OK && sw == 0;
    } else if (sw <= 3 && hiveport_rpc_clear != NULL) {
        rc = hiveport_rpc_clear(h, sw == 3 ? HIVEPORT_RPC_CLEAR_KEEP_KEY : 0);
        if (rc != HIVEPORT_OK)
            fz_expect_explained(h, rc, "hiveport_rpc_clear");
    } else if (sw == 4 && hiveport_dcom_set_port != NULL) {
        static const char *const appids[] = {"{11111111-1111-1111-1111-111111111111}",
                                             "{22222222-2222-2222-2222-222222222222}"};
        rc = hiveport_dcom_set_port(h, appids[(r2 >> 8) % 2], (uint32_t)(1 + (r2 >> 16) % 65535));
        if (rc != HIVEPORT_OK)
            fz_expect_explained(h, rc, "hiveport_dcom_set_port");
    }
    if (verbose && sw <= 4)
        fprintf(stderr, "fuzz_commit: SOFTWARE change %u: %d %s\n", sw, rc, hiveport_errmsg(h));

    bool changed = hiveport_has_changes(h);
    bool with_backup = r % 4 == 0;
    rc = hiveport_commit(h, with_backup ? backup : NULL);
    if (rc != HIVEPORT_OK) {
        fz_expect_explained(h, rc, "hiveport_commit");
        hiveport_close(h);
        FILE *f = fopen(path, "rb");
        FZ_ASSERT(f != NULL, "the hive is gone after a failed commit");
        uint8_t *now = malloc(size + 1);
        size_t got = fread(now, 1, size + 1, f);
        fclose(f);
        FZ_ASSERT(got == size && memcmp(now, buf, size) == 0, "a failed commit changed the file");
        free(now);
        check_no_leftovers(dir);
        free(buf);
        return 0;
    }
    FZ_ASSERT(!hiveport_has_changes(h), "changes left after a commit");
    hiveport_close(h);
    check_no_leftovers(dir);

    /* What was committed must open and read back. */
    rc = hiveport_open(path, 0, &h);
    FZ_ASSERT(rc == HIVEPORT_OK, "the committed hive (changed: %d) does not open: %d (%s)", changed, rc,
              hiveport_errmsg(h));
    FZ_ASSERT(hiveport_is_dirty(h) == 0, "the committed hive is dirty");
    for (size_t i = 0; i < nexpects; i++) {
        const struct expect *e = &expects[i];
        if (e->value == UNKNOWN || !track_all)
            continue;
        uint32_t port = 0;
        rc = hiveport_get_port(h, hiveport_catalog_at(e->setting), (int)e->cs, &port);
        if (e->value == ABSENT)
            FZ_ASSERT(rc == HIVEPORT_E_NOT_SET, "%s in ControlSet%03u: unset but reads %d (%s), port %u",
                      hiveport_catalog_at(e->setting)->id, e->cs, rc, hiveport_errmsg(h), port);
        else
            FZ_ASSERT(rc == HIVEPORT_OK && port == e->value, "%s in ControlSet%03u: set to %u, reads %d (%s), %u",
                      hiveport_catalog_at(e->setting)->id, e->cs, e->value, rc, hiveport_errmsg(h), port);
    }
    if (rpc_expect == 1 && hiveport_rpc_get != NULL) {
        char *ports = NULL, available = 0, use_internet = 0;
        rc = hiveport_rpc_get(h, &ports, &available, &use_internet, NULL);
        FZ_ASSERT(rc == HIVEPORT_OK && ports != NULL && strcmp(ports, "5000-5100,5984") == 0 && available == 'Y' &&
                      use_internet == 'Y',
                  "the RPC range set reads back %d (%s): %s %c %c", rc, hiveport_errmsg(h), ports ? ports : "-",
                  available ? available : '-', use_internet ? use_internet : '-');
        hiveport_free(ports);
    }
    fz_read_everything(h);
    hiveport_close(h);
    free(buf);
    return 0;
}
