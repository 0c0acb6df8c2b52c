/* check_native.c: keys and values created, replaced and deleted natively (issue 21): free cells first,
 * the list kind of the hive's version, big data, reproducible bytes.  Every hive written is read back
 * through libhivex, the independent reader, and must pass hiveport_check. */
#include <check.h>
#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hiveport.h"
#include "internal.h"
#include "suite.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
    dir = tu_tmpdir();
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
}

static void teardown(void)
{
    unsetenv("SOURCE_DATE_EPOCH");
    tu_rmtree(dir);
    free(dir);
}

static const char *const stamp_ids[] = {"exchange-sa-rfr", "exchange-sa-nspi", "exchange-is", "exchange-srs", "ntds"};

/* A copy of the system-empty fixture in dir (*path, the caller frees it), open for writing. */
static hiveport *open_empty_for_writing(char **path)
{
    *path = tu_fixture_copy(dir, "system-empty");
    return tu_open_or_fail(*path, HIVEPORT_OPEN_WRITE);
}

/* libhivex finds ControlSet00cs\Services\KEY and its DWORD value name = want. */
static void assert_hivex_dword(const char *path, unsigned cs, const char *key, const char *name, uint32_t want)
{
    hive_h *hv = hivex_open(path, 0);
    ck_assert_ptr_nonnull(hv);
    char csname[32];
    snprintf(csname, sizeof csname, "ControlSet%03u", cs);
    hive_node_h node = hivex_node_get_child(hv, hivex_root(hv), csname);
    ck_assert(node != 0);
    node = hivex_node_get_child(hv, node, "Services");
    char *copy = strdup(key), *save = NULL;
    for (char *part = strtok_r(copy, "\\", &save); part != NULL && node != 0; part = strtok_r(NULL, "\\", &save))
        node = hivex_node_get_child(hv, node, part);
    ck_assert_msg(node != 0, "libhivex does not find %s", key);
    hive_value_h v = hivex_node_get_value(hv, node, name);
    ck_assert_msg(v != 0, "libhivex does not find %s:%s", key, name);
    errno = 0;
    int32_t got = hivex_value_dword(hv, v);
    ck_assert_int_eq(errno, 0);
    ck_assert_uint_eq((uint32_t)got, want);
    free(copy);
    hivex_close(hv);
}

/* The bins the last stamp's edit indexed (cellalloc.c indexes those its allocations need), the pages whose
 * bin it knew (all of them when the open walked the chain, else those near the bins it needed), whether its
 * open walked the chain of bins, and how it committed. */
static size_t stamp_indexed_bins, stamp_known_pages;
static bool stamp_walked;
static int stamp_method;

static size_t known_pages(const struct hp_regf_edit *e)
{
    size_t n = 0;
    for (size_t i = 0; e->bins_known != NULL && i < hp_regf_bin_starts_words(e->file_end - 0x1000); i++)
        n += (size_t)__builtin_popcountll(e->bins_known[i]);
    return n;
}

/* Sets the five stamp settings in control set 1 and commits. */
static void stamp(const char *path, uint32_t base)
{
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find(stamp_ids[i]), 1, base + (uint32_t)i, 0),
                         HIVEPORT_OK);
    stamp_indexed_bins = h->edit != NULL ? h->edit->cells.nbins : 0;
    stamp_known_pages = h->edit != NULL ? known_pages(h->edit) : 0;
    stamp_walked = !h->lazy_bins;
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    stamp_method = hiveport_commit_method(h, NULL);
    hiveport_close(h);
}

static void assert_stamped(const char *path, uint32_t base)
{
    for (size_t i = 0; i < 5; i++) {
        const hiveport_setting *s = hiveport_catalog_find(stamp_ids[i]);
        assert_hivex_dword(path, 1, s->key, s->value_name, base + (uint32_t)i);
    }
    tu_assert_check_clean(path);
}

/* Whether any allocated cell of the hive is a list of signature sig. */
static int has_list(const char *path, const char *sig)
{
    size_t len;
    unsigned char *b = tu_read(path, &len);
    ck_assert_ptr_nonnull(b);
    int found = 0;
    uint32_t end = 4096 + (b[0x28] | b[0x29] << 8 | b[0x2A] << 16 | (uint32_t)b[0x2B] << 24);
    for (uint32_t bin = 4096; bin < end && bin < len;) {
        uint32_t bsize = b[bin + 8] | b[bin + 9] << 8 | b[bin + 10] << 16 | (uint32_t)b[bin + 11] << 24;
        for (uint32_t c = bin + 32; c < bin + bsize;) {
            int32_t size = (int32_t)(b[c] | b[c + 1] << 8 | b[c + 2] << 16 | (uint32_t)b[c + 3] << 24);
            if (size < 0 && memcmp(b + c + 4, sig, 2) == 0)
                found = 1;
            c += (uint32_t)(size < 0 ? -size : size);
        }
        bin += bsize;
    }
    free(b);
    return found;
}

static off_t size_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

/* The five settings' keys are created in a 1.5 hive: lh lists, the checker and libhivex agree. */
START_TEST(creates_keys_in_15)
{
    char *path = tu_fixture_copy(dir, "system-empty");
    stamp(path, 5001);
    assert_stamped(path, 5001);
    ck_assert(has_list(path, "lh"));
    stamp(path, 6001); /* restamp: in place */
    assert_stamped(path, 6001);
    free(path);
}
END_TEST

/* A 1.3 hive gets lf lists (never lh), passes the check, and libhivex reads it. */
START_TEST(creates_lf_lists_in_13)
{
    char *path = tu_fixture_copy(dir, "system-v13");
    ck_assert(!has_list(path, "lh"));
    stamp(path, 5001);
    assert_stamped(path, 5001);
    ck_assert(!has_list(path, "lh"));
    ck_assert(has_list(path, "lf"));
    free(path);
}
END_TEST

/* Unset deletes the value natively; the file keeps its size. */
START_TEST(unset_deletes_value)
{
    char *path = tu_fixture_copy(dir, "system-basic");
    off_t before = size_of(path);
    const hiveport_setting *s = hiveport_catalog_find("ntds");
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_unset_port(h, s, 1), HIVEPORT_OK);
    uint32_t port;
    ck_assert_int_eq(hiveport_get_port(h, s, 1, &port), HIVEPORT_E_NOT_SET);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert_int_eq(size_of(path), before);
    hive_h *hv = hivex_open(path, 0);
    ck_assert_ptr_nonnull(hv);
    hive_node_h n = hivex_node_get_child(hv, hivex_root(hv), "ControlSet001");
    n = hivex_node_get_child(hv, hivex_node_get_child(hv, n, "Services"), "NTDS");
    n = hivex_node_get_child(hv, n, "Parameters");
    ck_assert(n != 0);
    errno = 0;
    ck_assert(hivex_node_get_value(hv, n, s->value_name) == 0 && errno == 0);
    hivex_close(hv);
    tu_assert_check_clean(path);
    free(path);
}
END_TEST

/* A DWORD (inline) replaced by a REG_SZ moves into a data cell; libhivex reads the string. */
START_TEST(value_that_no_longer_fits)
{
    char *path = tu_fixture_copy(dir, "system-basic");
    hiveport_setting sz = *hiveport_catalog_find("ntds");
    sz.type = HIVEPORT_REG_SZ;
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hiveport_set_port(h, &sz, 1, 61234, HIVEPORT_SET_REPLACE_TYPE), HIVEPORT_OK);
    uint32_t port = 0;
    ck_assert_int_eq(hiveport_get_port(h, &sz, 1, &port), HIVEPORT_OK);
    ck_assert_uint_eq(port, 61234);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    hive_h *hv = hivex_open(path, 0);
    ck_assert_ptr_nonnull(hv);
    hive_node_h n = hivex_node_get_child(hv, hivex_root(hv), "ControlSet001");
    n = hivex_node_get_child(hv, hivex_node_get_child(hv, n, "Services"), "NTDS");
    n = hivex_node_get_child(hv, n, "Parameters");
    char *text = hivex_value_string(hv, hivex_node_get_value(hv, n, sz.value_name));
    ck_assert_str_eq(text, "61234");
    free(text);
    hivex_close(hv);
    tu_assert_check_clean(path);
    free(path);
}
END_TEST

/* 600 keys under one parent: the leaf fills (507 entries), splits under an ri, and stays sorted. */
START_TEST(full_leaf_splits_under_ri)
{
    char *path = NULL;
    hiveport *h = open_empty_for_writing(&path);
    char key[64];
    hiveport_setting s = {.key = key, .value_name = "Port", .type = HIVEPORT_REG_DWORD};
    for (unsigned i = 0; i < 600; i++) {
        snprintf(key, sizeof key, "Many\\K%04u", (i * 337) % 600); /* not in order */
        ck_assert_int_eq(hiveport_set_port(h, &s, 1, 1000 + i, 0), HIVEPORT_OK);
    }
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert(has_list(path, "ri"));
    tu_assert_check_clean(path);
    for (unsigned i = 0; i < 600; i += 37) {
        snprintf(key, sizeof key, "Many\\K%04u", (i * 337) % 600);
        assert_hivex_dword(path, 1, key, "Port", 1000 + i);
    }
    free(path);
}
END_TEST

/* Data over 16344 bytes goes to big data in 1.4+ (set through the library's own native call). */
START_TEST(big_data_in_15)
{
    char *path = NULL;
    hiveport *h = open_empty_for_writing(&path);
    size_t len = 40000;
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 7);
    ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), 0, "Big", 3, data, len), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    ck_assert(has_list(path, "db"));
    tu_assert_check_clean(path);
    tu_assert_root_value(path, "Big", data, len);
    free(data);
    free(path);
}
END_TEST

/* The edited copy starts as a copy-on-write mapping of the file with room to grow (regf/edit.c); data past
 * that room (18 MiB of big data into a hive of a few pages) moves it into memory of its own, which must
 * carry every byte over: libhivex reads the value back and the check passes. */
/* Bytes that differ from one 64 KiB to the next and from one value (k) to the next. */
static void fill(unsigned char *data, size_t len, int k)
{
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 16) + (size_t)k);
}

START_TEST(grows_past_the_mapping)
{
    char *path = NULL;
    hiveport *h = open_empty_for_writing(&path);
    unsigned char small[4] = {1, 2, 3, 4};
    ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), 0, "Small", 3, small, sizeof small), HIVEPORT_OK);
    ck_assert(h->edit->mapped);
    /* Three values of 6 MiB (libhivex reads at most 8 MB of one value): 18 MiB of big data. */
    size_t len = (size_t)6 << 20;
    const char *names[] = {"Huge0", "Huge1", "Huge2"};
    unsigned char *data = malloc(len);
    ck_assert_ptr_nonnull(data);
    for (int k = 0; k < 3; k++) {
        fill(data, len, k);
        ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), 0, names[k], 3, data, len), HIVEPORT_OK);
    }
    ck_assert(!h->edit->mapped);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_OK);
    hiveport_close(h);
    tu_assert_check_clean(path);
    for (int k = 0; k < 3; k++) {
        fill(data, len, k);
        tu_assert_root_value(path, names[k], data, len);
    }
    tu_assert_root_value(path, "Small", small, sizeof small);
    free(data);
    free(path);
}
END_TEST

/* The same edits give the same bytes (SOURCE_DATE_EPOCH). */
START_TEST(reproducible)
{
    char *a = tu_fixture_copy(dir, "system-empty");
    char b[4096];
    snprintf(b, sizeof b, "%s/second.hive", dir);
    ck_assert_int_eq(tu_copy(a, b), 0);
    stamp(a, 5001);
    stamp(b, 5001);
    ck_assert(tu_same_bytes(a, b));
    free(a);
}
END_TEST

/* The hive-bins size in the base block: what the hive uses of its file (win10-pruned's file has 204 KiB of
 * slack after its bins, so the file's size alone would not show a bin appended). */
static uint32_t hbins_of(const char *path)
{
    size_t len;
    unsigned char *b = tu_read(path, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_ge(len, 0x2C);
    uint32_t size = b[0x28] | b[0x29] << 8 | b[0x2A] << 16 | (uint32_t)b[0x2B] << 24;
    free(b);
    return size;
}

/* The signature of ControlSet001\Services' subkey list in the hive at path. */
static void services_list(const char *path, char sig[3])
{
    hiveport *h = tu_open_or_fail(path, 0);
    hive_node_h cs = 0, services = 0;
    ck_assert_int_eq(hp_nav_child(h, hp_nav_root(h), "ControlSet001", &cs), HIVEPORT_OK);
    ck_assert_int_eq(hp_nav_child(h, cs, "Services", &services), HIVEPORT_OK);
    const unsigned char *list = h->img.data + 0x1000 + hp_le32(h->img.data + services + 4 + 0x1C) + 4;
    memcpy(sig, list, 2);
    sig[2] = '\0';
    hiveport_close(h);
}

/* The real hives: the stamp creates the keys in free cells as Windows would, indexing only the bins it
 * needs, libhivex reads the result, the check passes; the restamp changes values in place.  Neither adds
 * a bin.
 *   win10-pruned: Services' lh leaf (97 entries, a full 784-byte cell) grows once by half (CmpAddToLeaf),
 *     into its 1712-byte free cell; the rest fits the freed leaf and what is left.  It stays one lh leaf.
 *   win7: Services' lh leaf (467 entries, a full 3744-byte cell) must grow, and the hive has 4608 free
 *     bytes, 3680 of them in its largest free cell: no free cell holds even 3752 bytes (one more entry).
 *     Windows would grow the leaf by half, to a 5616-byte cell, for which HvpAddBin adds a bin of 8192
 *     bytes; here the leaf is split in two halves under an ri instead (subkeys.c), the upper half in the
 *     3680-byte free cell, and the other new cells fit what is left: the file keeps its size.
 * logged: with (Vista/7-format) logs beside the hive, so that the writer's open leaves out the walk of the
 * bins (handle.c) and the allocator walks the chain only near the bins it needs (cellalloc.c, learn_bins:
 * win7: 258 of its 2873 pages): the same result. */
static void real_stamp(const char *name, const char *services_kind, bool logged)
{
    char *path = tu_real_hive(dir, name);
    if (path == NULL)
        return;
    if (logged) {
        char *log1 = tu_path_in(dir, "SYSTEM.LOG1"), *log2 = tu_path_in(dir, "SYSTEM.LOG2");
        char *hive = tu_path_in(dir, "SYSTEM");
        ck_assert_int_eq(rename(path, hive), 0);
        free(path);
        path = hive;
        tu_make_log(path, log1, 1);
        tu_write_file(log2, (const unsigned char *)"", 0);
        free(log1);
        free(log2);
    }
    off_t before = size_of(path);
    uint32_t bins = hbins_of(path);
    stamp(path, 5001);
    ck_assert_int_eq(stamp_walked, !logged);
    ck_assert_int_eq(stamp_method, logged ? HIVEPORT_COMMIT_LOG : HIVEPORT_COMMIT_COPY);
    /* The allocator indexed the bins it needed (win7: 4 of 2736, win10: 2), not every one. */
    ck_assert_msg(stamp_indexed_bins > 0 && stamp_indexed_bins * 20 <= bins / 4096, "%s: the stamp indexed %zu bins",
                  name, stamp_indexed_bins);
    if (logged && bins > (6u << 20)) /* win7: the walks leave out most of the chain */
        ck_assert_msg(stamp_known_pages * 4 <= bins / 4096, "%s: the stamp walked to %zu of %u pages", name,
                      stamp_known_pages, bins / 4096);
    assert_stamped(path, 5001);
    ck_assert_uint_eq(hbins_of(path), bins);
    ck_assert_int_eq(size_of(path), before);
    char sig[3];
    services_list(path, sig);
    ck_assert_str_eq(sig, services_kind);
    stamp(path, 6001);
    assert_stamped(path, 6001);
    ck_assert_uint_eq(hbins_of(path), bins);
    ck_assert_int_eq(size_of(path), before);
    free(path);
}

START_TEST(real_win10)
{
    real_stamp("win10-pruned-SYSTEM", "lh", _i);
}
END_TEST

START_TEST(real_win7)
{
    real_stamp("win7-SYSTEM", "ri", _i);
}
END_TEST

/* system-basic with a last bin of size bytes (one free cell) that holds the header of every 4 KiB bin it
 * was merged from, each with its one free cell after it, as Windows leaves merged bins
 * (HvpCoalesceDiscardedBins), and logs beside it, at path; the real bin's offset into *bin. */
static void hive_with_a_merged_bin(const char *path, const char *log1, const char *log2, uint32_t size, uint64_t *bin)
{
    size_t len;
    unsigned char *b = tu_read(tu_fixture_path("system-basic"), &len);
    ck_assert_ptr_nonnull(b);
    uint64_t end = 0x1000 + (uint64_t)hp_le32(b + 0x28);
    ck_assert_uint_eq(end, len);
    b = realloc(b, end + size);
    ck_assert_ptr_nonnull(b);
    memset(b + end, 0, size);
    for (uint64_t at = end; at < end + size; at += 0x1000) { /* the real bin, then the stale headers */
        uint32_t bin_size = at == end ? size : 0x1000;
        memcpy(b + at, "hbin", 4);
        hp_put_le32(b + at + 4, (uint32_t)(at - 0x1000));
        hp_put_le32(b + at + 8, bin_size);
        hp_put_le32(b + at + 0x20, bin_size - 0x20); /* a free cell filling it */
    }
    hp_put_le32(b + 0x28, (uint32_t)(end + size - 0x1000));
    hp_put_le32(b + 0x1FC, hp_regf_checksum(b));
    tu_write_file(path, b, end + size);
    free(b);
    tu_assert_check_clean(path);
    tu_make_log(path, log1, 6);
    tu_write_file(log2, (const unsigned char *)"", 0);
    *bin = end;
}

/* With a merged bin at the end and logs beside the hive, the writer's open leaves out the walk of the
 * chain, and the new cells must still come from the real bin, not the stale one inside it (found by its
 * header alone, they overlapped the real bin's free cell: ref-invalid). */
START_TEST(stale_bin_header_inside_a_bin)
{
    char *path = tu_path_in(dir, "SYSTEM"), *log1 = tu_path_in(dir, "SYSTEM.LOG1"), *log2 = tu_path_in(dir, "SYSTEM.LOG2");
    uint64_t bin;
    hive_with_a_merged_bin(path, log1, log2, 0x2000, &bin);

    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert(h->lazy_bins);
    hiveport_setting s = {.key = "NewSvc\\Parameters", .value_name = "Port", .type = HIVEPORT_REG_DWORD};
    ck_assert_int_eq(hiveport_set_port(h, &s, HIVEPORT_CS_ALL, 5000, 0), HIVEPORT_OK);
    ck_assert_msg(hiveport_commit(h, NULL) == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_commit_method(h, NULL), HIVEPORT_COMMIT_LOG);
    hiveport_close(h);
    tu_assert_check_clean(path);
    assert_hivex_dword(path, 1, "NewSvc\\Parameters", "Port", 5000);
    free(path);
    free(log1);
    free(log2);
}
END_TEST

/* A merged bin longer than the span the allocator walks the chain from (cellalloc.c, TRUST_SPAN: 4 MiB),
 * so that the walk for the last MiB starts among the headers it left: those start bins of one free cell,
 * so the walk starts at none of them but walks the whole chain, and a value's data goes into the real
 * bin's free cell, not a stale bin's (which overlapped it: ref-invalid). */
START_TEST(merged_bin_longer_than_the_span)
{
    char *path = tu_path_in(dir, "SYSTEM"), *log1 = tu_path_in(dir, "SYSTEM.LOG1"), *log2 = tu_path_in(dir, "SYSTEM.LOG2");
    uint64_t bin;
    hive_with_a_merged_bin(path, log1, log2, 6u << 20, &bin);
    unsigned char data[2000];
    memset(data, 0xA5, sizeof data);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert(h->lazy_bins);
    hive_value_h vk = 0;
    ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), 0, "Big", 3, data, sizeof data), HIVEPORT_OK);
    ck_assert_int_eq(hp_nav_value(h, hp_nav_root(h), "Big", &vk), HIVEPORT_OK);
    uint64_t at = 0x1000 + (uint64_t)hp_le32(h->img.data + vk + 4 + 8);
    ck_assert_msg(hiveport_commit(h, NULL) == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_commit_method(h, NULL), HIVEPORT_COMMIT_LOG);
    hiveport_close(h);
    tu_assert_check_clean(path);
    tu_assert_root_value(path, "Big", data, sizeof data);
    ck_assert_msg(at < bin + 0x1000, "the data is at 0x%llx, the merged bin at 0x%llx", (unsigned long long)at,
                  (unsigned long long)bin);
    free(path);
    free(log1);
    free(log2);
}
END_TEST

/* The same bin, but its stale bins of two free cells each and its own first cell allocated, so that the
 * walk for the last MiB starts at a stale header and finds stale bins (a case the span does not cover):
 * the walk for a cell of the real bin then walks the real bin over them, and the edit fails rather than
 * use both. */
START_TEST(walks_that_disagree_fail)
{
    char *path = tu_path_in(dir, "SYSTEM"), *log1 = tu_path_in(dir, "SYSTEM.LOG1"), *log2 = tu_path_in(dir, "SYSTEM.LOG2");
    uint64_t bin;
    const uint32_t size = 6u << 20;
    hive_with_a_merged_bin(path, log1, log2, size, &bin);
    size_t len;
    unsigned char *b = tu_read(path, &len);
    ck_assert_ptr_nonnull(b);
    hp_put_le32(b + bin + 0x20, (uint32_t)-0x7E0); /* an allocated cell, then the rest of the bin free */
    hp_put_le32(b + bin + 0x800, size - 0x800);
    for (uint64_t at = bin + 0x1000; at < bin + size; at += 0x1000) {
        hp_put_le32(b + at + 0x20, 0x7E0); /* two free cells in each stale bin */
        hp_put_le32(b + at + 0x800, 0x800);
    }
    tu_write_file(path, b, len);
    free(b);
    tu_make_log(path, log1, 6);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert(h->lazy_bins);
    ck_assert_int_eq(hp_edit_begin(h), HIVEPORT_OK);
    uint64_t cell = hp_regf_cell_alloc(h->edit, 100);
    ck_assert_msg(cell > bin + 0x1000, "the cell is at 0x%llx", (unsigned long long)cell); /* in a stale bin */
    ck_assert_int_eq(hp_regf_cell_free(h->edit, bin + 0x20), -1);
    hiveport_close(h);
    free(path);
    free(log1);
    free(log2);
}
END_TEST

/* A 6 MiB merged bin that Windows allocated from its start up to a cell whose unwritten end holds the
 * header of a bin it took, at path with logs; the bin's offset into *bin.  Then the free rest, right after
 * that header's bin header; or, real_cell: a cell filling the rest of the taken bin, then the free rest,
 * whose size is written over the next header. */
static void hive_with_a_used_merged_bin(const char *path, const char *log1, const char *log2, bool real_cell,
                                        uint64_t *bin)
{
    const uint32_t size = 6u << 20;
    hive_with_a_merged_bin(path, log1, log2, size, bin);
    size_t len;
    unsigned char *b = tu_read(path, &len);
    ck_assert_ptr_nonnull(b);
    /* 1 MiB in: where the walk for the last MiB starts; 5 MiB in: that MiB's first bin */
    uint64_t stale = *bin + (real_cell ? 0x500000 : 0x100000), rest = stale + 0x20;
    memset(b + *bin + 0x24, 0, stale - (*bin + 0x24));
    hp_put_le32(b + *bin + 0x20, (uint32_t)-(int32_t)(stale - 0x600 - (*bin + 0x20))); /* written cells */
    hp_put_le32(b + stale - 0x600, (uint32_t)-0x620); /* a list ending at stale + 0x20, its end unwritten */
    memcpy(b + stale - 0x600 + 4, "lh", 2);
    if (real_cell) {
        hp_put_le32(b + rest, (uint32_t)-0xFE0);
        rest = stale + 0x1000;
    }
    hp_put_le32(b + rest, (uint32_t)(*bin + size - rest)); /* the free rest */
    tu_write_file(path, b, len);
    free(b);
    tu_make_log(path, log1, 6);
}

/* On that hive a value's data goes into the real free rest.  The stale header before it does not start
 * the walk for the last MiB (its cells do not tile its bin), the ones after it are one free cell each, so
 * the whole chain is walked (its allocations once went into the stale bins: ref-invalid after a logged
 * commit).  real_cell (_i): that header's cells tile its bin, but the chain from it breaks at the next;
 * the edit still succeeds (such a walk once recorded that bin, and the walk of the whole chain that
 * followed disagreed with it: "damaged"). */
START_TEST(stale_header_before_a_real_cell)
{
    char *path = tu_path_in(dir, "SYSTEM"), *log1 = tu_path_in(dir, "SYSTEM.LOG1"), *log2 = tu_path_in(dir, "SYSTEM.LOG2");
    uint64_t bin;
    hive_with_a_used_merged_bin(path, log1, log2, _i != 0, &bin);
    unsigned char data[2000];
    memset(data, 0xA5, sizeof data);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert(h->lazy_bins);
    ck_assert_msg(hp_edit_value_set(h, hp_nav_root(h), 0, "Big", 3, data, sizeof data) == HIVEPORT_OK, "%s",
                  hiveport_errmsg(h));
    ck_assert_msg(hiveport_commit(h, NULL) == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_commit_method(h, NULL), HIVEPORT_COMMIT_LOG);
    hiveport_close(h);
    tu_assert_root_value(path, "Big", data, sizeof data);
    tu_assert_check_clean(path);
    free(path);
    free(log1);
    free(log2);
}
END_TEST

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

/* The same hive: a value's data over the stale header, whose bytes look like that header (as data may):
 * the check before the logged commit tiles the bin the chain says holds that page, not the one the
 * nearest header claims (which made it refuse a sound commit). */
START_TEST(checked_bins_come_from_the_chain)
{
    char *path = tu_path_in(dir, "SYSTEM"), *log1 = tu_path_in(dir, "SYSTEM.LOG1"), *log2 = tu_path_in(dir, "SYSTEM.LOG2");
    uint64_t bin;
    hive_with_a_merged_bin(path, log1, log2, 0x2000, &bin);
    unsigned char data[0x1100];
    memset(data, 0, sizeof data);
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    hive_value_h vk = 0;
    ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), 0, "Big", 3, data, sizeof data), HIVEPORT_OK);
    ck_assert_int_eq(hp_nav_value(h, hp_nav_root(h), "Big", &vk), HIVEPORT_OK);
    uint64_t at = 0x1000 + (uint64_t)hp_le32(h->img.data + vk + 4 + 8) + 4; /* the data's first byte */
    ck_assert_msg(at < bin + 0x1000 && bin + 0x1000 + 32 <= at + sizeof data, "the data is at 0x%llx",
                  (unsigned long long)at);
    unsigned char *fake = data + (bin + 0x1000 - at);
    memcpy(fake, "hbin", 4);
    hp_put_le32(fake + 4, (uint32_t)bin); /* its offset field: (bin + 0x1000) - 0x1000 */
    hp_put_le32(fake + 8, 0x1000);
    ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), vk, "Big", 3, data, sizeof data), HIVEPORT_OK);
    unsigned char small[64];
    memset(small, 0x5A, sizeof small);
    ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), 0, "Small", 3, small, sizeof small), HIVEPORT_OK);
    ck_assert_msg(hiveport_commit(h, NULL) == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_commit_method(h, NULL), HIVEPORT_COMMIT_LOG);
    hiveport_close(h);
    tu_assert_check_clean(path);
    tu_assert_root_value(path, "Big", data, sizeof data);
    /* A second session changes only Small, whose data lies in the page of the look-alike header. */
    h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    ck_assert_int_eq(hp_nav_value(h, hp_nav_root(h), "Small", &vk), HIVEPORT_OK);
    uint64_t small_at = 0x1000 + (uint64_t)hp_le32(h->img.data + vk + 4 + 8);
    ck_assert_msg(small_at > bin + 0x1000 && small_at < bin + 0x2000, "Small is at 0x%llx", (unsigned long long)small_at);
    memset(small, 0xA5, sizeof small);
    ck_assert_int_eq(hp_edit_value_set(h, hp_nav_root(h), vk, "Small", 3, small, sizeof small), HIVEPORT_OK);
    ck_assert_msg(hiveport_commit(h, NULL) == HIVEPORT_OK, "%s", hiveport_errmsg(h));
    ck_assert_int_eq(hiveport_commit_method(h, NULL), HIVEPORT_COMMIT_LOG);
    hiveport_close(h);
    tu_assert_check_clean(path);
    tu_assert_root_value(path, "Small", small, sizeof small);
    free(path);
    free(log1);
    free(log2);
}
END_TEST

/* A key whose stored name holds a NUL ("AB\0X") is not the key "AB": the search by halves leaves such a
 * name to the comparison of whole names, as the lookup by every entry did. */
START_TEST(a_name_with_a_nul_is_not_its_prefix)
{
    for (int kind = 0; kind < 2; kind++) {
        unsigned char *d = calloc(1, 0x2000);
        ck_assert_ptr_nonnull(d);
        memcpy(d + 0x1000, "hbin", 4);
        hp_put_le32(d + 0x1008, 0x1000);
        const char names[2][4] = {{'R', 'O', 'O', 'T'}, {'A', 'B', 0, 'X'}};
        for (int k = 0; k < 2; k++) { /* two nk records: the root with one subkey, and "AB\0X" */
            unsigned char *c = d + 0x1020 + 0x60 * k, *r = c + 4;
            hp_put_le32(c, (uint32_t)-0x60);
            r[0] = 'n';
            r[1] = 'k';
            put16(r + 2, 0x20); /* an ASCII (compressed) name */
            hp_put_le32(r + 0x14, k == 0);
            hp_put_le32(r + 0x1C, k == 0 ? 0x0E0 : 0xFFFFFFFFu);
            hp_put_le32(r + 0x28, 0xFFFFFFFFu);
            put16(r + 0x48, 4);
            memcpy(r + 0x4C, names[k], 4);
        }
        unsigned char *l = d + 0x10E0;
        hp_put_le32(l, (uint32_t)-0x10);
        l[4] = 'l';
        l[5] = kind == 0 ? 'f' : 'i';
        put16(l + 6, 1);
        hp_put_le32(l + 8, 0x080);
        if (kind == 0)
            memcpy(l + 12, names[1], 4);
        hp_put_le32(d + 0x10F0, 0x1000 - 0xF0);
        struct hp_image img = {d, 0x2000, 0x2000};
        uint64_t child = 1;
        ck_assert_int_eq(hp_cells_child(&img, 0x1020, "AB", &child), 0);
        ck_assert_msg(child == 0, "l%c: \"AB\" found the key \"AB\\0X\"", kind == 0 ? 'f' : 'i');
        free(d);
    }
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {creates_keys_in_15, creates_lf_lists_in_13, unset_deletes_value,
                                  value_that_no_longer_fits, full_leaf_splits_under_ri, big_data_in_15,
                                  grows_past_the_mapping, reproducible, stale_bin_header_inside_a_bin, merged_bin_longer_than_the_span, walks_that_disagree_fail,
                                  checked_bins_come_from_the_chain, a_name_with_a_nul_is_not_its_prefix, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "native", "native", 120, setup, teardown);
    tcase_add_loop_test(tc, real_win10, 0, 2); /* _i: logs beside the hive */
    tcase_add_loop_test(tc, real_win7, 0, 2);
    tcase_add_loop_test(tc, stale_header_before_a_real_cell, 0, 2); /* _i: a real cell after the header */
    return tu_run_tests(s, tc, tests);
}
