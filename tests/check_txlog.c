/* check_txlog.c: tests of transaction-log replay (lib/txlog.c) and Marvin32 (lib/marvin32.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "suite.h"
#include "testutil.h"
#include "txlog.h"
#include "le.h"

/* ---- little-endian helpers ---- */

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)hp_le32(p) | (uint64_t)hp_le32(p + 4) << 32;
}

static void fix_checksum(unsigned char *base_block)
{
    hp_put_le32(base_block + 0x1FC, hp_regf_checksum(base_block));
}

/* ---- byte buffers ---- */

struct blob {
    unsigned char *data; /* malloc'd */
    size_t len;
};

static struct blob blob_copy(const struct blob *b, size_t len)
{
    struct blob c = {calloc(1, len ? len : 1), len};
    ck_assert_ptr_nonnull(c.data);
    memcpy(c.data, b->data, len < b->len ? len : b->len);
    return c;
}

/* An hp_malloc'd copy, as hp_txlog_replay wants for the image it may replace. */
static unsigned char *image_of(const struct blob *b)
{
    unsigned char *img = hp_malloc(b->len);
    ck_assert_ptr_nonnull(img);
    memcpy(img, b->data, b->len);
    return img;
}

static struct hp_txlog_input in(const char *name, const struct blob *b)
{
    struct hp_txlog_input i = {name, b->data, b->len};
    return i;
}

/* The header of img is valid (checksum, version, type 0, size) and clean. */
static void assert_clean_header(const unsigned char *img, size_t len, uint32_t sequence)
{
    struct hp_regf_header h;
    char why[256] = "";
    ck_assert_msg(hp_regf_parse_header(img, len, len, &h, why, sizeof why) == HIVEPORT_OK, "header: %s", why);
    ck_assert_uint_eq(h.seq_primary, sequence);
    ck_assert_uint_eq(h.seq_secondary, sequence);
    ck_assert_uint_eq(h.file_type, 0);
}

/* ---- real hives: ../shared/hives/txlog, decompressed once into a temporary directory ---- */

enum real { NEW_HIVE, NEW_LOG1, NEW_LOG2, NEW_RECOVERED, OLD_HIVE, OLD_LOG1, OLD_RECOVERED, REAL_COUNT };
static const char *const real_names[REAL_COUNT] = {
    "new-format/NewDirtyHive",  "new-format/NewDirtyHive.LOG1",  "new-format/NewDirtyHive.LOG2",
    "new-format/RecoveredHive_Windows10", "old-format/OldDirtyHive", "old-format/OldDirtyHive.LOG1",
    "old-format/RecoveredHive_Windows7",
};
static struct blob real[REAL_COUNT];
static char real_absent[600]; /* why the real logs could not be loaded */

/* Stands in for the real-log tests when they cannot run: a skip, or under CI=true a failure. */
START_TEST(real_logs_absent)
{
    tu_skip("real transaction logs", real_absent);
}
END_TEST

/* Loads every real file; returns 0 (with a SKIP message) when the shared hives are absent. */
static int load_real_hives(void)
{
    const char *shared = getenv("HIVEPORT_SHARED");
    char *dir = NULL;
    if (asprintf(&dir, "%s/hives/txlog", shared && *shared ? shared : "../shared") < 0)
        abort();
    if (access(dir, R_OK | X_OK) != 0) {
        snprintf(real_absent, sizeof real_absent, "%s is absent: the replay tests on real Windows logs are "
                 "skipped (the synthetic ones still run)", dir);
        free(dir);
        return 0;
    }
    char *tmp = tu_tmpdir();
    for (int i = 0; i < REAL_COUNT; i++) {
        char *cmd = NULL, *dest = NULL;
        if (asprintf(&dest, "%s/%d", tmp, i) < 0 ||
            asprintf(&cmd, "xz -dc '%s/%s.xz' > '%s'", dir, real_names[i], dest) < 0)
            abort();
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot decompress %s/%s.xz\n", dir, real_names[i]);
            abort();
        }
        real[i].data = tu_read(dest, &real[i].len);
        if (real[i].data == NULL)
            abort();
        free(cmd);
        free(dest);
    }
    tu_rmtree(tmp);
    free(tmp);
    free(dir);
    return 1;
}

/* Bytes 4096 to the end equal the file Windows recovered, and so does the hive-bins size. */
static void assert_matches_recovered(const unsigned char *img, size_t len, const struct blob *recovered)
{
    uint32_t hbins = hp_le32(recovered->data + 0x28);
    ck_assert_uint_eq(hp_le32(img + 0x28), hbins);
    ck_assert_uint_ge(len, 0x1000 + (size_t)hbins);
    ck_assert_msg(memcmp(img + 0x1000, recovered->data + 0x1000, hbins) == 0,
                  "the hive-bins data differs from what Windows recovered");
    ck_assert_uint_eq(len, recovered->len);
    ck_assert_msg(memcmp(img + 0x1000, recovered->data + 0x1000, len - 0x1000) == 0,
                  "bytes after the hive bins differ from what Windows recovered");
}

/* RecoveredHive_Windows7 is not the bare replay: Windows 7 wrote the hive twice more after recovering it
 * (its sequence numbers are 7/7 where the log holds 5), and that changed exactly two fields in the
 * hive bins.  Replaying OldDirtyHive.LOG1 by the rules (ours, and YARP's) gives the log's values there:
 *   0x1014   the first bin's FILETIME, which a flush sets to the header's timestamp: the log has its own
 *            base block's timestamp there, Windows' file its later header timestamp;
 *   0x6BDC8  "largest value name length" of key "4500" (nk cell 0x6BD88, cell offset 0x40): the log
 *            has 0x18, Windows later cut it to 2, the length of the key's only value name "V".
 * Every other byte from 4096 to the end must be Windows' own. */
static void assert_matches_windows7(const unsigned char *img, size_t len)
{
    const struct blob *rec = &real[OLD_RECOVERED];
    ck_assert_uint_eq(hp_le32(img + 0x28), hp_le32(rec->data + 0x28));
    ck_assert_uint_eq(len, rec->len);
    ck_assert_uint_eq(get64(img + 0x1014), get64(real[OLD_LOG1].data + 0x0C));
    ck_assert_uint_eq(get64(rec->data + 0x1014), get64(rec->data + 0x0C));
    ck_assert_uint_eq(hp_le32(img + 0x6BDC8), 0x18);
    ck_assert_uint_eq(hp_le32(rec->data + 0x6BDC8), 2);
    unsigned char *masked = malloc(len);
    ck_assert_ptr_nonnull(masked);
    memcpy(masked, img, len);
    memcpy(masked + 0x1014, rec->data + 0x1014, 8);
    memcpy(masked + 0x6BDC8, rec->data + 0x6BDC8, 4);
    ck_assert_msg(memcmp(masked + 0x1000, rec->data + 0x1000, len - 0x1000) == 0,
                  "the hive-bins data differs from what Windows 7 recovered beyond its two later edits");
    free(masked);
}

/* Runs the replay on a copy of hive; the copy and its length come back in *img / *len. */
static int replay(const struct blob *hive, const struct hp_txlog_input *logs, size_t n, unsigned char **img,
                  size_t *len, struct hp_txlog_result *res, char *why, size_t why_len)
{
    *img = image_of(hive);
    *len = hive->len;
    return hp_txlog_replay(img, len, logs, n, res, why, why_len);
}

/* What a replay that must succeed gives: the image (hp_free it), its length, the result and the message. */
struct replayed {
    unsigned char *img;
    size_t len;
    struct hp_txlog_result res;
    char why[512];
};

/* replay() of logs on hive, which must return HIVEPORT_OK (the message names why not). */
static void replay_ok(const struct blob *hive, const struct hp_txlog_input *logs, size_t n, struct replayed *r)
{
    int rc = replay(hive, logs, n, &r->img, &r->len, &r->res, r->why, sizeof r->why);
    ck_assert_msg(rc == HIVEPORT_OK, "replay: %d: %s", rc, r->why);
}

/* A replay that must change nothing: OK, format NONE, the same buffer and bytes. */
static void assert_nothing_applied(const struct blob *hive, const struct hp_txlog_input *logs, size_t n,
                                   struct hp_txlog_result *res, char *why, size_t why_len)
{
    unsigned char *img = image_of(hive), *before = img;
    size_t len = hive->len;
    ck_assert_int_eq(hp_txlog_replay(&img, &len, logs, n, res, why, why_len), HIVEPORT_OK);
    ck_assert_int_eq(res->format, HP_TXLOG_FORMAT_NONE);
    ck_assert_uint_eq(res->entries_applied, 0);
    ck_assert_uint_eq(res->logs_used, 0);
    ck_assert_ptr_eq(img, before);
    ck_assert_uint_eq(len, hive->len);
    ck_assert_mem_eq(img, hive->data, len);
    hp_free(img);
}

/* log as the only log (LOG1) of real[hive]: nothing of it applies (assert_nothing_applied) and why names
 * reason; the result. */
static struct hp_txlog_result assert_lone_log_refused(int hive, const struct blob *log, const char *reason)
{
    struct hp_txlog_result res;
    char why[512];
    struct hp_txlog_input logs[] = {in("LOG1", log)};
    assert_nothing_applied(&real[hive], logs, 1, &res, why, sizeof why);
    ck_assert_msg(strstr(why, reason) != NULL, "expected \"%s\" in: %s", reason, why);
    return res;
}

/* log1 and log2 as LOG1 and LOG2 of the new-format hive, replayed (the image is dropped): the result, and in
 * why what the replay says. */
static struct hp_txlog_result replay_new_logs(const struct blob *log1, const struct blob *log2, char *why,
                                              size_t why_len)
{
    struct hp_txlog_input logs[] = {in("LOG1", log1), in("LOG2", log2)};
    struct hp_txlog_result res;
    unsigned char *img;
    size_t len;
    ck_assert_int_eq(replay(&real[NEW_HIVE], logs, 2, &img, &len, &res, why, why_len), HIVEPORT_OK);
    hp_free(img);
    return res;
}

/* A whole copy of real[which] with the byte at `at` XORed with mask (the caller frees its data). */
static struct blob flipped(int which, size_t at, unsigned char mask)
{
    struct blob b = blob_copy(&real[which], real[which].len);
    b.data[at] ^= mask;
    return b;
}

/* ---- Marvin32 ---- */

START_TEST(marvin32_test_vectors)
{
    unsigned char bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)i;
    ck_assert_uint_eq(hp_marvin32(UINT64_C(0x004FB61A001BDBCC), NULL, 0), UINT64_C(0x30ED35C100CD3C7D));
    ck_assert_uint_eq(hp_marvin32(UINT64_C(0x004FB61A001BDBCC), (const unsigned char *)"\xAF", 1),
                      UINT64_C(0x48E73FC77D75DDC1));
    ck_assert_uint_eq(hp_marvin32(UINT64_C(0x804FB61A001BDBCC), bytes, 256), UINT64_C(0x73B4AE569E0DB919));
    /* Tails of 2 and 3 bytes differ from each other and from their prefixes. */
    uint64_t h2 = hp_marvin32(HP_MARVIN32_REGF_SEED, bytes, 6);
    uint64_t h3 = hp_marvin32(HP_MARVIN32_REGF_SEED, bytes, 7);
    ck_assert_uint_ne(h2, h3);
    ck_assert_uint_ne(h2, hp_marvin32(HP_MARVIN32_REGF_SEED, bytes, 5));
}
END_TEST

START_TEST(marvin32_matches_real_entry_hashes)
{
    /* Entry 3 of NewDirtyHive.LOG2 at 0x200: Hash-1 over [0x28, size), Hash-2 over [0, 0x20). */
    const unsigned char *e = real[NEW_LOG2].data + 0x200;
    uint32_t size = hp_le32(e + 4);
    uint64_t hash1 = (uint64_t)hp_le32(e + 0x18) | (uint64_t)hp_le32(e + 0x1C) << 32;
    uint64_t hash2 = (uint64_t)hp_le32(e + 0x20) | (uint64_t)hp_le32(e + 0x24) << 32;
    ck_assert_uint_eq(hp_marvin32(HP_MARVIN32_REGF_SEED, e + 0x28, size - 0x28), hash1);
    ck_assert_uint_eq(hp_marvin32(HP_MARVIN32_REGF_SEED, e, 0x20), hash2);
}
END_TEST

/* ---- real logs ---- */

START_TEST(new_format_matches_windows)
{
    struct hp_txlog_input logs[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", &real[NEW_LOG2])};
    struct replayed r;
    replay_ok(&real[NEW_HIVE], logs, 2, &r);
    ck_assert_int_eq(r.res.format, HP_TXLOG_FORMAT_NEW);
    ck_assert_uint_eq(r.res.entries_applied, 4); /* LOG1: 2; LOG2: 3, 4, 5 */
    ck_assert_uint_eq(r.res.logs_used, 2);
    ck_assert_uint_eq(r.res.used_mask, 3);
    ck_assert_uint_eq(r.res.logs_rejected, 0);
    ck_assert_uint_eq(r.res.new_sequence, 5);
    ck_assert(r.res.was_dirty && r.res.clean && !r.res.header_from_log);
    ck_assert_ptr_nonnull(strstr(r.why, "replayed 4 new-format entries"));
    assert_clean_header(r.img, r.len, 5);
    assert_matches_recovered(r.img, r.len, &real[NEW_RECOVERED]);
    /* Besides the sequence numbers and the checksum, the header is the primary's. */
    ck_assert_mem_eq(r.img + 0x0C, real[NEW_HIVE].data + 0x0C, 0x1FC - 0x0C);
    ck_assert_mem_eq(r.img + 0x200, real[NEW_HIVE].data + 0x200, 0xE00);

    /* Replaying the result again changes nothing: it is clean now. */
    struct blob once = {malloc(r.len), r.len};
    memcpy(once.data, r.img, r.len);
    assert_nothing_applied(&once, logs, 2, &r.res, r.why, sizeof r.why);
    ck_assert(r.res.clean && !r.res.was_dirty);
    free(once.data);
    hp_free(r.img);
}
END_TEST

START_TEST(new_format_logs_in_either_order)
{
    struct hp_txlog_input forward[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", &real[NEW_LOG2])};
    struct hp_txlog_input backward[] = {in("LOG2", &real[NEW_LOG2]), in("LOG1", &real[NEW_LOG1])};
    struct hp_txlog_result r1, r2;
    unsigned char *a, *b;
    size_t la, lb;
    ck_assert_int_eq(replay(&real[NEW_HIVE], forward, 2, &a, &la, &r1, NULL, 0), HIVEPORT_OK);
    ck_assert_int_eq(replay(&real[NEW_HIVE], backward, 2, &b, &lb, &r2, NULL, 0), HIVEPORT_OK);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(a, b, la);
    ck_assert_uint_eq(r1.entries_applied, r2.entries_applied);
    ck_assert_uint_eq(r1.new_sequence, r2.new_sequence);
    assert_matches_recovered(b, lb, &real[NEW_RECOVERED]);
    hp_free(a);
    hp_free(b);
}
END_TEST

START_TEST(old_format_matches_windows)
{
    struct hp_txlog_input logs[] = {in("OldDirtyHive.LOG1", &real[OLD_LOG1]), {"LOG2", NULL, 0}};
    struct replayed r;
    replay_ok(&real[OLD_HIVE], logs, 2, &r);
    ck_assert_int_eq(r.res.format, HP_TXLOG_FORMAT_OLD);
    ck_assert_uint_eq(r.res.entries_applied, 64); /* 64 dirty 512-byte pages */
    ck_assert_uint_eq(r.res.logs_used, 1);
    ck_assert_uint_eq(r.res.used_mask, 1);
    ck_assert_uint_eq(r.res.logs_rejected, 0); /* an empty LOG2 is normal */
    ck_assert_uint_eq(r.res.new_sequence, 5);  /* the primary's primary number (5/4 before) */
    ck_assert(r.res.clean && !r.res.header_from_log);
    assert_clean_header(r.img, r.len, 5);
    assert_matches_windows7(r.img, r.len);
    hp_free(r.img);
}
END_TEST

START_TEST(clean_hive_with_logs_is_left_alone)
{
    struct hp_txlog_input logs[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", &real[NEW_LOG2])};
    struct hp_txlog_result res;
    char why[512];
    assert_nothing_applied(&real[NEW_RECOVERED], logs, 2, &res, why, sizeof why);
    ck_assert(res.clean && !res.was_dirty);
    ck_assert_ptr_nonnull(strstr(why, "clean"));

    struct hp_txlog_input old[] = {in("LOG1", &real[OLD_LOG1])};
    assert_nothing_applied(&real[OLD_RECOVERED], old, 1, &res, why, sizeof why);
    ck_assert(res.clean);
}
END_TEST

/* The dirty new-format hive with its sequence numbers replaced (checksum recomputed). */
static struct blob new_hive_with_sequence(uint32_t primary, uint32_t secondary)
{
    struct blob h = blob_copy(&real[NEW_HIVE], real[NEW_HIVE].len);
    hp_put_le32(h.data + 4, primary);
    hp_put_le32(h.data + 8, secondary);
    fix_checksum(h.data);
    return h;
}

START_TEST(logs_older_than_the_hive_are_not_applied)
{
    struct hp_txlog_input logs[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", &real[NEW_LOG2])};
    struct hp_txlog_result res;
    char why[512];
    struct blob newer = new_hive_with_sequence(7, 6); /* LOG1 starts at 2, LOG2 at 3: both older */
    assert_nothing_applied(&newer, logs, 2, &res, why, sizeof why);
    ck_assert(res.was_dirty && !res.clean);
    ck_assert_uint_eq(res.logs_rejected, 2);
    ck_assert_ptr_nonnull(strstr(why, "no log is usable"));
    ck_assert_ptr_nonnull(strstr(why, "older than the hive"));
    free(newer.data);

    /* Secondary 3: LOG1 (entry 2) is older and skipped; LOG2 (3-5) applies alone. */
    struct blob mid = new_hive_with_sequence(4, 3);
    unsigned char *img;
    size_t len;
    ck_assert_int_eq(replay(&mid, logs, 2, &img, &len, &res, why, sizeof why), HIVEPORT_OK);
    ck_assert_int_eq(res.format, HP_TXLOG_FORMAT_NEW);
    ck_assert_uint_eq(res.entries_applied, 3);
    ck_assert_uint_eq(res.used_mask, 2);
    ck_assert_uint_eq(res.logs_rejected, 1);
    ck_assert_uint_eq(res.new_sequence, 5);
    assert_clean_header(img, len, 5);
    /* Entry 4 rewrote all 0x5000 bytes, so the result is still Windows'. */
    ck_assert_mem_eq(img + 0x1000, real[NEW_RECOVERED].data + 0x1000, 0x5000);
    hp_free(img);
    free(mid.data);

    /* An entry equal to the hive's secondary number is applied (section 9.4 rule 3). */
    struct blob equal = new_hive_with_sequence(9, 2);
    ck_assert_int_eq(replay(&equal, logs, 2, &img, &len, &res, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(res.entries_applied, 4);
    hp_free(img);
    free(equal.data);
}
END_TEST

/* The dirty new-format hive with LOG1's entry 2 and LOG2's entry 3 applied by hand: what replay must give
 * when it stops before LOG2's entry 4. */
static struct blob expected_after_entry_3(void)
{
    const unsigned char *e2 = real[NEW_LOG1].data + 0x200, *e3 = real[NEW_LOG2].data + 0x200;
    /* Each has one reference at rel 0: 0x5000 bytes for entry 2, 0x1000 for entry 3. */
    ck_assert_uint_eq(hp_le32(e2 + 0x14), 1);
    ck_assert_uint_eq(hp_le32(e2 + 0x28), 0);
    ck_assert_uint_eq(hp_le32(e2 + 0x2C), 0x5000);
    ck_assert_uint_eq(hp_le32(e3 + 0x14), 1);
    ck_assert_uint_eq(hp_le32(e3 + 0x28), 0);
    ck_assert_uint_eq(hp_le32(e3 + 0x2C), 0x1000);
    struct blob x = blob_copy(&real[NEW_HIVE], real[NEW_HIVE].len);
    memcpy(x.data + 0x1000, e2 + 0x30, 0x5000);
    memcpy(x.data + 0x1000, e3 + 0x30, 0x1000);
    return x;
}

/* LOG1 and a changed LOG2 replay entries 2 and 3 only. */
static void assert_stops_after_entry_3(const struct blob *log2)
{
    struct hp_txlog_input logs[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", log2)};
    struct replayed r;
    replay_ok(&real[NEW_HIVE], logs, 2, &r);
    ck_assert_int_eq(r.res.format, HP_TXLOG_FORMAT_NEW);
    ck_assert_uint_eq(r.res.entries_applied, 2);
    ck_assert_uint_eq(r.res.logs_used, 2);
    ck_assert_uint_eq(r.res.new_sequence, 3);
    assert_clean_header(r.img, r.len, 3);
    struct blob expected = expected_after_entry_3();
    ck_assert_uint_eq(r.len, expected.len);
    ck_assert_mem_eq(r.img + 0x1000, expected.data + 0x1000, r.len - 0x1000);
    /* Entry 4's data is not there: Windows' result differs. */
    ck_assert(memcmp(r.img + 0x1000, real[NEW_RECOVERED].data + 0x1000, 0x5000) != 0);
    free(expected.data);
    hp_free(r.img);
}

START_TEST(corrupted_entry_stops_replay_before_it)
{
    /* LOG2's entry 4 is at 0x2000 (entry 3 at 0x200 is 0x1E00 long). */
    ck_assert_uint_eq(hp_le32(real[NEW_LOG2].data + 0x2000 + 0x0C), 4);

    /* A byte of entry 4 changed: a page byte (Hash-1), the stored Hash-1 (Hash-2), the padding (hashed too). */
    static const struct {
        size_t at;
        unsigned char mask;
    } entry4[] = {{0x2000 + 0x30 + 0x123, 0x01}, {0x2000 + 0x18, 0x80}, {0x2000 + 0x6000 - 1, 0x40}};
    for (size_t i = 0; i < sizeof entry4 / sizeof entry4[0]; i++) {
        struct blob log2 = flipped(NEW_LOG2, entry4[i].at, entry4[i].mask);
        assert_stops_after_entry_3(&log2);
        free(log2.data);
    }

    /* Corrupting entry 3 (LOG2's first) leaves LOG2 out entirely: only LOG1's entry 2 applies. */
    struct blob first = flipped(NEW_LOG2, 0x200 + 0x40, 0x01);
    char why[512];
    struct hp_txlog_result res = replay_new_logs(&real[NEW_LOG1], &first, why, sizeof why);
    ck_assert_uint_eq(res.entries_applied, 1);
    ck_assert_uint_eq(res.used_mask, 1);
    ck_assert_uint_eq(res.new_sequence, 2);
    ck_assert_ptr_nonnull(strstr(why, "Hash-1"));
    free(first.data);
}
END_TEST

START_TEST(truncated_log)
{
    /* Cut in the middle of entry 4 (0x2000-0x8000). */
    struct blob cut = blob_copy(&real[NEW_LOG2], 0x5000);
    assert_stops_after_entry_3(&cut);
    free(cut.data);
    /* Cut inside entry 4's header. */
    cut = blob_copy(&real[NEW_LOG2], 0x2010);
    assert_stops_after_entry_3(&cut);
    free(cut.data);

    /* A log cut inside its base block is ignored. */
    struct blob stub = blob_copy(&real[NEW_LOG2], 300);
    char why[512];
    struct hp_txlog_result res = replay_new_logs(&real[NEW_LOG1], &stub, why, sizeof why);
    ck_assert_uint_eq(res.entries_applied, 1);
    ck_assert_uint_eq(res.logs_rejected, 1);
    free(stub.data);

    /* LOG1 cut inside its only entry: LOG2 (3-5) still applies, it is not older than the hive. */
    struct blob log1 = blob_copy(&real[NEW_LOG1], 0x3000);
    res = replay_new_logs(&log1, &real[NEW_LOG2], why, sizeof why);
    ck_assert_uint_eq(res.entries_applied, 3);
    ck_assert_uint_eq(res.used_mask, 2);
    ck_assert_ptr_nonnull(strstr(why, "truncated"));
    free(log1.data);

    /* An old-format log cut inside its dirty pages is refused as a whole. */
    struct blob old = blob_copy(&real[OLD_LOG1], real[OLD_LOG1].len - 100);
    assert_lone_log_refused(OLD_HIVE, &old, "truncated");
    free(old.data);
}
END_TEST

START_TEST(log_of_another_hive)
{
    struct hp_txlog_result res;
    char why[512];

    /* The old-format log of another hive, on the new-format hive. */
    res = assert_lone_log_refused(NEW_HIVE, &real[OLD_LOG1], "another hive");
    ck_assert_uint_eq(res.logs_rejected, 1);

    /* The new-format logs, on the old-format hive. */
    struct hp_txlog_input swapped2[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", &real[NEW_LOG2])};
    assert_nothing_applied(&real[OLD_HIVE], swapped2, 2, &res, why, sizeof why);
    ck_assert_uint_eq(res.logs_rejected, 2);

    /* LOG2 with another LogId, root cell or number in its base block (checksum made valid again):
     * only LOG1 applies. */
    for (int variant = 0; variant < 4; variant++) {
        struct blob log2 = blob_copy(&real[NEW_LOG2], real[NEW_LOG2].len);
        if (variant == 0)
            log2.data[0x80] ^= 0xFF; /* LogId */
        else if (variant == 1)
            hp_put_le32(log2.data + 0x24, 0x1020); /* root cell */
        else if (variant == 2) {
            hp_put_le32(log2.data + 4, 9); /* its entries (3..) do not start at its number */
            hp_put_le32(log2.data + 8, 9);
        } else
            log2.data[0x200 + 0x0C] = 7; /* entry 3 renumbered 7: no longer follows 2 (hash fails too) */
        fix_checksum(log2.data);
        res = replay_new_logs(&real[NEW_LOG1], &log2, why, sizeof why);
        ck_assert_msg(res.entries_applied == 1 && res.used_mask == 1 && res.new_sequence == 2,
                      "variant %d: %s", variant, why);
        ck_assert_uint_eq(res.logs_rejected, 1);
        free(log2.data);
    }

    /* An old log whose timestamp is not the hive's belongs to another write. */
    struct blob stale = flipped(OLD_LOG1, 0x0C, 1);
    fix_checksum(stale.data);
    assert_lone_log_refused(OLD_HIVE, &stale, "timestamp");
    free(stale.data);

    /* A log with a broken base block (checksum) is invalid. */
    struct blob broken = flipped(NEW_LOG1, 0x40, 1);
    assert_lone_log_refused(NEW_HIVE, &broken, "checksum");
    free(broken.data);
}
END_TEST

START_TEST(invalid_primary_header_is_rebuilt_from_the_log)
{
    struct hp_txlog_result res;
    char why[512];
    unsigned char *img;
    size_t len;

    /* New format: only the log with the latest entries (LOG2) is used, and its header copy. */
    struct blob hive = flipped(NEW_HIVE, 0x40, 0x20); /* a file-name byte: the checksum no longer matches */
    struct hp_txlog_input logs[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", &real[NEW_LOG2])};
    ck_assert_int_eq(replay(&hive, logs, 2, &img, &len, &res, why, sizeof why), HIVEPORT_OK);
    ck_assert_int_eq(res.format, HP_TXLOG_FORMAT_NEW);
    ck_assert(res.header_from_log && res.clean);
    ck_assert_uint_eq(res.used_mask, 2);
    ck_assert_uint_eq(res.entries_applied, 3);
    assert_clean_header(img, len, 5);
    assert_matches_recovered(img, len, &real[NEW_RECOVERED]);
    ck_assert_mem_eq(img + 0x0C, real[NEW_LOG2].data + 0x0C, 0x1C - 0x0C); /* the log's, not the hive's */
    ck_assert_mem_eq(img + 0x30, real[NEW_LOG2].data + 0x30, 0x1FC - 0x30);
    for (size_t i = 0x200; i < 0x1000; i++)
        ck_assert_uint_eq(img[i], 0);
    hp_free(img);
    free(hive.data);

    /* Old format. */
    hive = flipped(OLD_HIVE, 0x40, 0x20);
    struct hp_txlog_input old[] = {in("LOG1", &real[OLD_LOG1])};
    ck_assert_int_eq(replay(&hive, old, 1, &img, &len, &res, why, sizeof why), HIVEPORT_OK);
    ck_assert_int_eq(res.format, HP_TXLOG_FORMAT_OLD);
    ck_assert(res.header_from_log);
    assert_clean_header(img, len, 5);
    assert_matches_windows7(img, len);
    hp_free(img);

    /* No usable log: nothing changes and the result says the hive is not clean. */
    assert_nothing_applied(&hive, NULL, 0, &res, why, sizeof why);
    ck_assert(res.was_dirty && !res.clean);
    ck_assert_ptr_nonnull(strstr(why, "checksum"));
    free(hive.data);
}
END_TEST

/* Every allocation failure gives HIVEPORT_E_NOMEM with the image untouched, until the call succeeds
 * (valgrind checks that nothing leaks). */
static void walk_allocation_failures(const struct blob *hive, const struct hp_txlog_input *logs, size_t n)
{
    unsigned long fail_at;
    for (fail_at = 1; fail_at < 100; fail_at++) {
        unsigned char *img = image_of(hive), *before = img;
        size_t len = hive->len;
        struct hp_txlog_result res;
        char why[512];
        hp_alloc_fail_after(fail_at);
        int rc = hp_txlog_replay(&img, &len, logs, n, &res, why, sizeof why);
        hp_alloc_fail_after(0);
        if (rc == HIVEPORT_OK) {
            ck_assert_int_ne(res.format, HP_TXLOG_FORMAT_NONE);
            hp_free(img);
            break;
        }
        ck_assert_int_eq(rc, HIVEPORT_E_NOMEM);
        ck_assert_ptr_nonnull(strstr(why, "out of memory"));
        ck_assert_ptr_eq(img, before);
        ck_assert_uint_eq(len, hive->len);
        ck_assert_mem_eq(img, hive->data, len);
        hp_free(img);
    }
    ck_assert_uint_gt(fail_at, 1); /* the first allocation did fail */
    ck_assert_uint_lt(fail_at, 100);
}

START_TEST(allocation_failures_on_real_logs)
{
    struct hp_txlog_input logs[] = {in("LOG1", &real[NEW_LOG1]), in("LOG2", &real[NEW_LOG2])};
    walk_allocation_failures(&real[NEW_HIVE], logs, 2);
    struct hp_txlog_input old[] = {in("LOG1", &real[OLD_LOG1])};
    walk_allocation_failures(&real[OLD_HIVE], old, 1);
}
END_TEST

/* ---- synthetic hives and logs, so that the rules are tested without ../shared ---- */

#define SYN_TIMESTAMP UINT64_C(0x01D2950000000000)

static void syn_base_block(unsigned char *bb, uint32_t primary, uint32_t secondary, uint32_t type,
                           uint32_t hbins)
{
    memset(bb, 0, 512);
    memcpy(bb, "regf", 4);
    hp_put_le32(bb + 0x04, primary);
    hp_put_le32(bb + 0x08, secondary);
    hp_put_le64(bb + 0x0C, SYN_TIMESTAMP);
    hp_put_le32(bb + 0x14, 1);
    hp_put_le32(bb + 0x18, 5);
    hp_put_le32(bb + 0x1C, type);
    hp_put_le32(bb + 0x20, 1);
    hp_put_le32(bb + 0x24, 0x20);
    hp_put_le32(bb + 0x28, hbins);
    hp_put_le32(bb + 0x2C, 1);
    for (int i = 0x70; i < 0x90; i++) /* RmId, LogId */
        bb[i] = (unsigned char)(i * 7);
    fix_checksum(bb);
}

/* A primary file: header and hbins of 4096 bytes, each holding one free cell. */
static struct blob syn_hive(uint32_t primary, uint32_t secondary, uint32_t hbins)
{
    struct blob h = {calloc(1, 0x1000 + (size_t)hbins), 0x1000 + (size_t)hbins};
    ck_assert_ptr_nonnull(h.data);
    syn_base_block(h.data, primary, secondary, 0, hbins);
    for (uint32_t rel = 0; rel < hbins; rel += 0x1000) {
        unsigned char *bin = h.data + 0x1000 + rel;
        memcpy(bin, "hbin", 4);
        hp_put_le32(bin + 4, rel);
        hp_put_le32(bin + 8, 0x1000);
        hp_put_le32(bin + 0x20, 0x1000 - 0x20);
    }
    return h;
}

struct syn_page {
    uint32_t rel, len;
    unsigned char fill;
};

struct syn_entry {
    uint32_t seq, hbins, flags;
    unsigned npages;
    struct syn_page pages[3];
};

/* Hash-1 and Hash-2 of the entry at e (its size field already set). */
static void syn_hash_entry(unsigned char *e)
{
    uint32_t size = hp_le32(e + 4);
    hp_put_le64(e + 0x18, hp_marvin32(HP_MARVIN32_REGF_SEED, e + 0x28, size - 0x28));
    hp_put_le64(e + 0x20, hp_marvin32(HP_MARVIN32_REGF_SEED, e, 0x20));
}

/* A new-format log whose base block says base_seq, holding the entries given. */
static struct blob syn_new_log(uint32_t base_seq, const struct syn_entry *entries, unsigned n)
{
    size_t total = 0x200;
    for (unsigned i = 0; i < n; i++) {
        size_t size = 0x28 + 8 * (size_t)entries[i].npages;
        for (unsigned p = 0; p < entries[i].npages; p++)
            size += entries[i].pages[p].len;
        total += (size + 511) / 512 * 512;
    }
    struct blob log = {calloc(1, total), total};
    ck_assert_ptr_nonnull(log.data);
    syn_base_block(log.data, base_seq, base_seq, 6, n > 0 ? entries[0].hbins : 0x1000);
    size_t off = 0x200;
    for (unsigned i = 0; i < n; i++) {
        const struct syn_entry *se = &entries[i];
        unsigned char *e = log.data + off;
        size_t size = 0x28 + 8 * (size_t)se->npages;
        memcpy(e, "HvLE", 4);
        hp_put_le32(e + 0x08, se->flags);
        hp_put_le32(e + 0x0C, se->seq);
        hp_put_le32(e + 0x10, se->hbins);
        hp_put_le32(e + 0x14, se->npages);
        unsigned char *data = e + 0x28 + 8 * (size_t)se->npages;
        for (unsigned p = 0; p < se->npages; p++) {
            hp_put_le32(e + 0x28 + 8 * p, se->pages[p].rel);
            hp_put_le32(e + 0x2C + 8 * p, se->pages[p].len);
            memset(data, se->pages[p].fill, se->pages[p].len);
            data += se->pages[p].len;
            size += se->pages[p].len;
        }
        size = (size + 511) / 512 * 512;
        hp_put_le32(e + 4, (uint32_t)size);
        syn_hash_entry(e);
        off += size;
    }
    return log;
}

/* An old-format log: pages[] lists the dirty 512-byte page numbers, each filled with its number. */
static struct blob syn_old_log(uint32_t seq, uint32_t hbins, const unsigned *pages, unsigned n)
{
    size_t vector = hbins / 4096, pages_at = (0x204 + vector + 511) / 512 * 512;
    struct blob log = {calloc(1, pages_at + 512 * (size_t)n), pages_at + 512 * (size_t)n};
    ck_assert_ptr_nonnull(log.data);
    syn_base_block(log.data, seq, seq, 1, hbins);
    memcpy(log.data + 0x200, "DIRT", 4);
    for (unsigned i = 0; i < n; i++)
        log.data[0x204 + pages[i] / 8] |= (unsigned char)(1u << (pages[i] % 8));
    /* Pages go in bit order, whatever the order of pages[]. */
    unsigned k = 0;
    for (unsigned bit = 0; bit < vector * 8; bit++)
        if (log.data[0x204 + bit / 8] & (1u << (bit % 8)))
            memset(log.data + pages_at + 512 * (size_t)k++, (int)(bit & 0xFF), 512);
    return log;
}

START_TEST(synthetic_chain_grows_the_hive)
{
    struct blob hive = syn_hive(11, 10, 0x1000);
    struct syn_entry e[] = {
        {10, 0x1000, 0, 1, {{0x0, 0x1000, 0xA1}}},
        {11, 0x3000, 1, 2, {{0x1000, 0x1000, 0xB2}, {0x2000, 0x200, 0xC3}}},
    };
    struct syn_entry e2[] = {{12, 0x3000, 1, 1, {{0x2200, 0x100, 0xD4}}}};
    struct blob log1 = syn_new_log(10, e, 2), log2 = syn_new_log(12, e2, 1);
    struct hp_txlog_input logs[] = {in("LOG2", &log2), in("LOG1", &log1)};
    struct replayed r;
    replay_ok(&hive, logs, 2, &r);
    ck_assert_uint_eq(r.res.entries_applied, 3);
    ck_assert_uint_eq(r.res.used_mask, 3);
    ck_assert_uint_eq(r.res.new_sequence, 12);
    ck_assert_uint_eq(r.len, 0x4000); /* grown to 0x1000 + the entries' hive-bins size */
    assert_clean_header(r.img, r.len, 12);
    ck_assert_uint_eq(hp_le32(r.img + 0x28), 0x3000);
    ck_assert_uint_eq(hp_le32(r.img + 0x90) & 1, 1); /* the last entry's KTM flag */
    ck_assert_uint_eq(r.img[0x1000], 0xA1);
    ck_assert_uint_eq(r.img[0x2FFF], 0xB2);
    ck_assert_uint_eq(r.img[0x31FF], 0xC3);
    ck_assert_uint_eq(r.img[0x3200], 0xD4);
    ck_assert_uint_eq(r.img[0x32FF], 0xD4);
    ck_assert_uint_eq(r.img[0x3300], 0); /* grown with zeros */
    hp_free(r.img);
    free(log1.data);
    free(log2.data);
    free(hive.data);
}
END_TEST

START_TEST(synthetic_sequence_wraps_around)
{
    /* Serial arithmetic: 0xFFFFFFFF, 0, 1 is a chain, and 0 is not older than 0xFFFFFFFF. */
    struct blob hive = syn_hive(0, 0xFFFFFFFFu, 0x1000);
    struct syn_entry e1[] = {
        {0xFFFFFFFFu, 0x1000, 0, 1, {{0, 0x1000, 1}}},
        {0, 0x1000, 0, 1, {{0, 0x200, 2}}},
    };
    struct syn_entry e2[] = {{1, 0x1000, 0, 1, {{0x200, 0x200, 3}}}};
    struct blob log1 = syn_new_log(0xFFFFFFFFu, e1, 2), log2 = syn_new_log(1, e2, 1);
    struct hp_txlog_input logs[] = {in("LOG1", &log1), in("LOG2", &log2)};
    struct hp_txlog_result res;
    unsigned char *img;
    size_t len;
    ck_assert_int_eq(replay(&hive, logs, 2, &img, &len, &res, NULL, 0), HIVEPORT_OK);
    ck_assert_uint_eq(res.entries_applied, 3);
    ck_assert_uint_eq(res.new_sequence, 1);
    ck_assert_uint_eq(img[0x1000], 2);
    ck_assert_uint_eq(img[0x1200], 3);
    ck_assert_uint_eq(img[0x1400], 1);
    hp_free(img);

    /* A hive at 5/4 and a log at 0xFFFFFFF0: older in serial order (a plain compare would say newer). */
    struct blob hive5 = syn_hive(5, 4, 0x1000);
    struct syn_entry stale[] = {{0xFFFFFFF0u, 0x1000, 0, 1, {{0, 0x200, 9}}}};
    struct blob old = syn_new_log(0xFFFFFFF0u, stale, 1);
    struct hp_txlog_input olds[] = {in("LOG1", &old)};
    char why[512];
    assert_nothing_applied(&hive5, olds, 1, &res, why, sizeof why);
    ck_assert_ptr_nonnull(strstr(why, "older"));
    free(old.data);
    free(hive5.data);
    free(log1.data);
    free(log2.data);
    free(hive.data);
}
END_TEST

START_TEST(synthetic_bad_entries_stop_the_chain)
{
    struct blob hive = syn_hive(3, 2, 0x1000);
    struct hp_txlog_result res;
    char why[512];
    struct syn_entry good = {2, 0x1000, 0, 1, {{0, 0x200, 0x11}}};
    /* Each case: a valid first entry, then a second one that must be refused (hashes made valid). */
    struct syn_entry bad[] = {
        {3, 0x1000, 0, 1, {{0xF00, 0x200, 0x22}}},      /* page beyond the hive-bins size */
        {3, 0x1000, 0, 1, {{0xFFFFFF00u, 0x200, 0x22}}}, /* rel + len wraps in 32 bits */
        {3, 0x1800, 0, 1, {{0, 0x200, 0x22}}},           /* hive-bins size not a multiple of 4096 */
        {4, 0x1000, 0, 1, {{0, 0x200, 0x22}}},           /* sequence gap */
        {3, 0x1000, 0, 0, {{0}}},                         /* no pages */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct syn_entry pair[] = {good, bad[i]};
        struct blob log = syn_new_log(2, pair, 2);
        struct hp_txlog_input logs[] = {in("LOG1", &log)};
        unsigned char *img;
        size_t len;
        ck_assert_int_eq(replay(&hive, logs, 1, &img, &len, &res, why, sizeof why), HIVEPORT_OK);
        ck_assert_msg(res.entries_applied == 1 && res.new_sequence == 2, "case %u: %s", i, why);
        ck_assert_uint_eq(img[0x1000], 0x11);
        ck_assert_uint_eq(len, hive.len);
        hp_free(img);
        free(log.data);
    }

    /* A page count larger than the entry can hold, and pages longer than the entry (hashes valid). */
    for (int variant = 0; variant < 3; variant++) {
        struct syn_entry pair[] = {good, {3, 0x1000, 0, 1, {{0, 0x200, 0x22}}}};
        struct blob log = syn_new_log(2, pair, 2);
        unsigned char *e = log.data + 0x200 + hp_le32(log.data + 0x204); /* the second entry */
        if (variant == 0)
            hp_put_le32(e + 0x14, 0x10000000u);
        else if (variant == 1)
            hp_put_le32(e + 0x2C, 0x1000); /* entry is 0x400 bytes */
        else
            hp_put_le32(e + 4, 0xFFFFFE00u); /* size beyond the file */
        if (variant != 2)
            syn_hash_entry(e);
        struct hp_txlog_input logs[] = {in("LOG1", &log)};
        unsigned char *img;
        size_t len;
        ck_assert_int_eq(replay(&hive, logs, 1, &img, &len, &res, why, sizeof why), HIVEPORT_OK);
        ck_assert_msg(res.entries_applied == 1, "variant %d: %s", variant, why);
        hp_free(img);
        free(log.data);
    }
    free(hive.data);
}
END_TEST

START_TEST(synthetic_old_format)
{
    struct blob hive = syn_hive(8, 7, 0x2000);
    /* The hive grows by a bin (rel 0x2000-0x2FFF, pages 16-23), which the log must then hold. */
    unsigned pages[] = {9, 0, 1, 16, 17, 18, 19, 20, 21, 22, 23};
    struct blob log = syn_old_log(8, 0x3000, pages, 11);
    struct hp_txlog_input logs[] = {{"LOG", NULL, 0}, in("LOG1", &log)};
    struct replayed r;
    replay_ok(&hive, logs, 2, &r);
    ck_assert_int_eq(r.res.format, HP_TXLOG_FORMAT_OLD);
    ck_assert_uint_eq(r.res.entries_applied, 11);
    ck_assert_uint_eq(r.res.used_mask, 2);
    ck_assert_uint_eq(r.len, 0x4000);
    assert_clean_header(r.img, r.len, 8);
    ck_assert_uint_eq(hp_le32(r.img + 0x28), 0x3000);
    ck_assert_uint_eq(r.img[0x1000], 0);
    ck_assert_uint_eq(r.img[0x1200], 1);
    ck_assert_uint_eq(r.img[0x1000 + 9 * 512], 9);
    ck_assert_uint_eq(r.img[0x1000 + 9 * 512 + 511], 9);
    ck_assert_mem_eq(r.img + 0x1400, hive.data + 0x1400, 9 * 512 - 0x400);
    ck_assert_uint_eq(r.img[0x1000 + 23 * 512 + 511], 23);
    hp_free(r.img);

    /* The same log without the new bin's pages claims growth it does not hold. */
    struct blob no_growth = syn_old_log(8, 0x3000, pages, 3);
    struct hp_txlog_input claims[] = {in("LOG1", &no_growth)};
    assert_nothing_applied(&hive, claims, 1, &r.res, r.why, sizeof r.why);
    ck_assert_ptr_nonnull(strstr(r.why, "beyond what the logs hold"));
    free(no_growth.data);

    /* A new-format log that applies wins over an old-format one. */
    struct blob newer = syn_new_log(7, (struct syn_entry[]){{7, 0x2000, 0, 1, {{0, 0x200, 0x77}}}}, 1);
    struct hp_txlog_input both[] = {in("LOG1", &log), in("LOG2", &newer)};
    ck_assert_int_eq(replay(&hive, both, 2, &r.img, &r.len, &r.res, r.why, sizeof r.why), HIVEPORT_OK);
    ck_assert_int_eq(r.res.format, HP_TXLOG_FORMAT_NEW);
    ck_assert_uint_eq(r.res.logs_rejected, 1);
    hp_free(r.img);
    free(newer.data);

    /* A dirty vector that announces more pages than the log holds. */
    struct blob cut = blob_copy(&log, log.len - 512);
    struct hp_txlog_input cuts[] = {in("LOG1", &cut)};
    assert_nothing_applied(&hive, cuts, 1, &r.res, r.why, sizeof r.why);
    free(cut.data);
    free(log.data);
    free(hive.data);
}
END_TEST

START_TEST(synthetic_allocation_failures)
{
    struct blob hive = syn_hive(3, 2, 0x1000);
    struct blob log = syn_new_log(2, (struct syn_entry[]){{2, 0x2000, 0, 1, {{0x1000, 0x1000, 5}}}}, 1);
    struct hp_txlog_input logs[] = {in("LOG1", &log)};
    walk_allocation_failures(&hive, logs, 1);
    unsigned pages[] = {3};
    struct blob old = syn_old_log(3, 0x1000, pages, 1);
    struct hp_txlog_input olds[] = {in("LOG1", &old)};
    hive.data[0x40] ^= 1; /* header from the log */
    walk_allocation_failures(&hive, olds, 1);
    free(old.data);
    free(log.data);
    free(hive.data);
}
END_TEST

START_TEST(bad_arguments_and_images)
{
    struct blob hive = syn_hive(3, 2, 0x1000);
    struct hp_txlog_result res;
    char why[256];
    unsigned char *img = image_of(&hive);
    size_t len = hive.len;
    struct hp_txlog_input logs[HP_TXLOG_MAX_LOGS + 1];
    memset(logs, 0, sizeof logs);

    ck_assert_int_eq(hp_txlog_replay(NULL, &len, NULL, 0, &res, why, sizeof why), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hp_txlog_replay(&img, NULL, NULL, 0, &res, why, sizeof why), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hp_txlog_replay(&img, &len, NULL, 1, &res, why, sizeof why), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hp_txlog_replay(&img, &len, logs, HP_TXLOG_MAX_LOGS + 1, &res, why, sizeof why),
                     HIVEPORT_E_INVALID_ARG);
    logs[0].len = 10; /* length without data */
    ck_assert_int_eq(hp_txlog_replay(&img, &len, logs, 1, &res, why, sizeof why), HIVEPORT_E_INVALID_ARG);

    len = 4095;
    ck_assert_int_eq(hp_txlog_replay(&img, &len, NULL, 0, &res, why, sizeof why), HIVEPORT_E_TRUNCATED);
    len = hive.len;
    img[0] = 'R';
    ck_assert_int_eq(hp_txlog_replay(&img, &len, NULL, 0, &res, why, sizeof why), HIVEPORT_E_NOT_HIVE);
    img[0] = 'r';
    hp_put_le32(img + 0x1C, 6); /* a log passed as the hive */
    fix_checksum(img);
    ck_assert_int_eq(hp_txlog_replay(&img, &len, NULL, 0, &res, why, sizeof why), HIVEPORT_E_NOT_HIVE);
    ck_assert_ptr_nonnull(strstr(why, "transaction log"));
    ck_assert_uint_eq(len, hive.len);

    /* A valid header that announces more hive bins than the file has: the logs may supply them. */
    memcpy(img, hive.data, 0x1000);
    hp_put_le32(img + 0x28, 0x3000);
    fix_checksum(img);
    struct blob shortened = {img, len};
    struct blob log = syn_new_log(2, (struct syn_entry[]){{2, 0x3000, 0, 1, {{0x2000, 0x1000, 6}}}}, 1);
    struct hp_txlog_input one[] = {in("LOG1", &log)};
    unsigned char *out;
    size_t out_len;
    ck_assert_int_eq(replay(&shortened, one, 1, &out, &out_len, &res, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(out_len, 0x4000);
    assert_clean_header(out, out_len, 2);
    hp_free(out);
    free(log.data);
    hp_free(img);
    free(hive.data);
}
END_TEST

START_TEST(read_file_helper)
{
    char *dir = tu_tmpdir(), *path = NULL, *fifo = NULL;
    if (asprintf(&path, "%s/log", dir) < 0 || asprintf(&fifo, "%s/fifo", dir) < 0)
        abort();
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs("regf and more", f) >= 0, 1);
    fclose(f);
    unsigned char *data;
    size_t len;
    char why[256];
    ck_assert_int_eq(hp_txlog_read_file(path, &data, &len, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(len, 13);
    ck_assert_mem_eq(data, "regf and more", 13);
    hp_free(data);

    /* Empty files are normal (the unused log slot). */
    f = fopen(path, "wb");
    fclose(f);
    ck_assert_int_eq(hp_txlog_read_file(path, &data, &len, why, sizeof why), HIVEPORT_OK);
    ck_assert_uint_eq(len, 0);
    hp_free(data);

    hp_alloc_fail_after(1);
    ck_assert_int_eq(hp_txlog_read_file(path, &data, &len, why, sizeof why), HIVEPORT_E_NOMEM);
    hp_alloc_fail_after(0);
    ck_assert_ptr_null(data);

    ck_assert_int_eq(hp_txlog_read_file(dir, &data, &len, why, sizeof why), HIVEPORT_E_NOT_REGULAR);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(hp_txlog_read_file(fifo, &data, &len, why, sizeof why), HIVEPORT_E_NOT_REGULAR);
    unlink(path);
    ck_assert_int_eq(hp_txlog_read_file(path, &data, &len, why, sizeof why), HIVEPORT_E_IO);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(why, "cannot open"));
    ck_assert_int_eq(hp_txlog_read_file(NULL, &data, &len, NULL, 0), HIVEPORT_E_INVALID_ARG);
    tu_rmtree(dir);
    free(dir);
    free(path);
    free(fifo);
}
END_TEST

/* ---- robustness: mutated inputs must never crash, read out of bounds (see the sanitizer build),
 * half-apply or leave an unclean result behind an OK that claims a replay ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Changes a few bytes, biased towards headers, then sometimes makes the hashes and checksum valid again
 * so that the checks behind them are reached too. */
static void mutate(struct blob *b)
{
    unsigned changes = 1 + rng() % 4;
    for (unsigned i = 0; i < changes && b->len > 0; i++) {
        size_t where;
        switch (rng() % 4) {
        case 0:
            where = rng() % (b->len < 0x200 ? b->len : 0x200);
            break;
        case 1:
            where = (0x200 + (size_t)(rng() % 0x30)) % b->len;
            break;
        default:
            where = rng() % b->len;
        }
        if (rng() % 3 == 0 && where + 4 <= b->len) {
            static const uint32_t nasty[] = {0, 1, 0x1000, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 0xFFFFF000u};
            hp_put_le32(b->data + where, nasty[rng() % (sizeof nasty / sizeof nasty[0])]);
        } else
            b->data[where] ^= (unsigned char)(1u << (rng() % 8));
    }
    if (rng() % 4 == 0 && b->len > 0)
        b->len = rng() % b->len; /* truncated */
    if (rng() % 2 == 0 && b->len >= 512) {
        fix_checksum(b->data);
        for (size_t off = 0x200; off + 0x28 <= b->len;) {
            uint32_t size = hp_le32(b->data + off + 4);
            if (memcmp(b->data + off, "HvLE", 4) != 0 || size < 0x28 || size > b->len - off)
                break;
            syn_hash_entry(b->data + off);
            if (size < 512)
                break;
            off += size;
        }
    }
}

static void fuzz_round(const struct blob *hive, const struct blob *const *logs, size_t n)
{
    struct blob copies[3], image_blob;
    struct hp_txlog_input inputs[3];
    for (size_t i = 0; i < n; i++) {
        copies[i] = blob_copy(logs[i], logs[i]->len);
        if (rng() % 2)
            mutate(&copies[i]);
        inputs[i] = in("fuzz", &copies[i]);
    }
    image_blob = blob_copy(hive, hive->len);
    if (rng() % 8 == 0)
        mutate(&image_blob);
    unsigned char *img = image_of(&image_blob), *before = img;
    size_t len = image_blob.len;
    struct hp_txlog_result res;
    char why[64]; /* short on purpose: messages must be cut, not overflow */
    int rc = hp_txlog_replay(&img, &len, inputs, n, &res, why, sizeof why);
    ck_assert_uint_lt(strlen(why), sizeof why);
    if (rc != HIVEPORT_OK || res.format == HP_TXLOG_FORMAT_NONE) {
        ck_assert_ptr_eq(img, before);
        ck_assert_uint_eq(len, image_blob.len);
        ck_assert_mem_eq(img, image_blob.data, len);
    } else {
        ck_assert_uint_ge(len, image_blob.len);
        assert_clean_header(img, len, res.new_sequence);
    }
    hp_free(img);
    free(image_blob.data);
    for (size_t i = 0; i < n; i++)
        free(copies[i].data);
}

START_TEST(mutated_real_logs_are_handled)
{
    const struct blob *new_logs[] = {&real[NEW_LOG1], &real[NEW_LOG2]};
    const struct blob *old_logs[] = {&real[OLD_LOG1]};
    const struct blob *mixed[] = {&real[NEW_LOG2], &real[OLD_LOG1], &real[NEW_LOG1]};
    for (int round = 0; round < 300; round++) {
        fuzz_round(&real[NEW_HIVE], new_logs, 2);
        if (round % 3 == 0)
            fuzz_round(&real[OLD_HIVE], old_logs, 1);
        if (round % 5 == 0)
            fuzz_round(&real[NEW_HIVE], mixed, 3);
    }
}
END_TEST

START_TEST(mutated_synthetic_logs_are_handled)
{
    struct blob hive = syn_hive(3, 2, 0x2000);
    struct syn_entry e[] = {
        {2, 0x2000, 0, 2, {{0, 0x200, 1}, {0x1000, 0x400, 2}}},
        {3, 0x3000, 1, 1, {{0x2000, 0x1000, 3}}},
    };
    struct blob log1 = syn_new_log(2, e, 2);
    unsigned pages[] = {1, 8};
    struct blob old = syn_old_log(3, 0x2000, pages, 2);
    const struct blob *logs[] = {&log1, &old};
    for (int round = 0; round < 2000; round++)
        fuzz_round(&hive, logs, 1 + round % 2);
    free(old.data);
    free(log1.data);
    free(hive.data);
}
END_TEST

int main(void)
{
    int have_real = load_real_hives();
    Suite *s = suite_create("txlog");

    TCase *basic = tcase_create("synthetic");
    tcase_set_timeout(basic, 300);
    tcase_add_test(basic, marvin32_test_vectors);
    tcase_add_test(basic, synthetic_chain_grows_the_hive);
    tcase_add_test(basic, synthetic_sequence_wraps_around);
    tcase_add_test(basic, synthetic_bad_entries_stop_the_chain);
    tcase_add_test(basic, synthetic_old_format);
    tcase_add_test(basic, synthetic_allocation_failures);
    tcase_add_test(basic, bad_arguments_and_images);
    tcase_add_test(basic, read_file_helper);
    tcase_add_test(basic, mutated_synthetic_logs_are_handled);
    suite_add_tcase(s, basic);

    if (have_real) {
        TCase *windows = tcase_create("real-logs");
        tcase_set_timeout(windows, 300);
        tcase_add_test(windows, marvin32_matches_real_entry_hashes);
        tcase_add_test(windows, new_format_matches_windows);
        tcase_add_test(windows, new_format_logs_in_either_order);
        tcase_add_test(windows, old_format_matches_windows);
        tcase_add_test(windows, clean_hive_with_logs_is_left_alone);
        tcase_add_test(windows, logs_older_than_the_hive_are_not_applied);
        tcase_add_test(windows, corrupted_entry_stops_replay_before_it);
        tcase_add_test(windows, truncated_log);
        tcase_add_test(windows, log_of_another_hive);
        tcase_add_test(windows, invalid_primary_header_is_rebuilt_from_the_log);
        tcase_add_test(windows, allocation_failures_on_real_logs);
        tcase_add_test(windows, mutated_real_logs_are_handled);
        suite_add_tcase(s, windows);
    } else {
        TCase *absent = tcase_create("real-logs-absent");
        tcase_add_test(absent, real_logs_absent);
        suite_add_tcase(s, absent);
    }

    int status = tu_run_suite(s);
    for (int i = 0; i < REAL_COUNT; i++)
        free(real[i].data);
    return status;
}
