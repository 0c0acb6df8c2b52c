/* check_check.c: hiveport_check(): one damaged hive per rule, each made from a fixture (or a real hive) by a
 * precise edit and giving exactly its code; the real hives; dirty hives; the commit-time verification. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hivex.h>

#include "hivecheck.h" /* hp_check_buffer, hp_regf_checksum, hp_alloc_fail_after */
#include "hiveport.h"
#include "suite.h"
#include "testutil.h"

/* ---- Editing a hive's bytes ---------------------------------------------------------------------- */

struct ctx {
    unsigned char *b;
    size_t len;
    hive_h *hx; /* libhivex on the unedited hive, to find offsets (node handles are file offsets) */
};

static uint32_t get32(const struct ctx *x, size_t off)
{
    return (uint32_t)x->b[off] | (uint32_t)x->b[off + 1] << 8 | (uint32_t)x->b[off + 2] << 16 |
           (uint32_t)x->b[off + 3] << 24;
}

static void put32(struct ctx *x, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x->b[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static void put16(struct ctx *x, size_t off, uint16_t v)
{
    x->b[off] = (unsigned char)v;
    x->b[off + 1] = (unsigned char)(v >> 8);
}

static void fix_checksum(struct ctx *x)
{
    put32(x, 0x1FC, hp_regf_checksum(x->b));
}

/* The nk cell (file offset) of a backslash path from the root. */
static size_t key(struct ctx *x, const char *path)
{
    hive_node_h n = hivex_root(x->hx);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *save = NULL, *c = strtok_r(copy, "\\", &save); c != NULL; c = strtok_r(NULL, "\\", &save)) {
        n = hivex_node_get_child(x->hx, n, c);
        ck_assert_msg(n != 0, "no key %s", path);
    }
    return n;
}

static size_t value(struct ctx *x, size_t node, const char *name)
{
    hive_value_h v = hivex_node_get_value(x->hx, node, name);
    ck_assert_msg(v != 0, "no value %s", name);
    return v;
}

#define REC(off) ((off) + 4) /* a record starts after its cell's size field */
#define REL(off) ((uint32_t)((off) - 0x1000))

/* The cell holding a value's data (file offset). */
static size_t data_cell(struct ctx *x, size_t vk)
{
    return 0x1000 + get32(x, REC(vk) + 0x08);
}

/* Entry i of a key's value list (file offset of the entry). */
static size_t value_entry(struct ctx *x, size_t nk, size_t i)
{
    return REC(0x1000 + get32(x, REC(nk) + 0x28)) + 4 * i;
}

static size_t subkey_list(struct ctx *x, size_t nk)
{
    return REC(0x1000 + get32(x, REC(nk) + 0x1C));
}

/* The single sk of the fixtures (libhivex gives every key the root's). */
static size_t root_sk(struct ctx *x)
{
    return 0x1000 + get32(x, REC(key(x, "")) + 0x2C);
}

/* The last cell of the hive bin at bin (file offset). */
static size_t last_cell(struct ctx *x, size_t bin)
{
    size_t end = bin + get32(x, bin + 8), p = bin + 32, last = p;
    while (p < end) {
        last = p;
        int32_t s = (int32_t)get32(x, p);
        p += (size_t)(s < 0 ? -s : s);
    }
    return last;
}

/* The lh hash of an ASCII name, computed here independently of lib/check_keys.c. */
static uint32_t lh_hash(const char *name)
{
    uint32_t h = 0;
    for (const char *p = name; *p; p++)
        h = 37 * h + (uint32_t)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    return h;
}

static void grow(struct ctx *x, size_t extra)
{
    x->b = realloc(x->b, x->len + extra);
    ck_assert_ptr_nonnull(x->b);
    memset(x->b + x->len, 0, extra);
    x->len += extra;
}

/* ---- The edits, one per rule ---------------------------------------------------------------------- */

#define LEAF "ControlSet001\\Services\\W32Time\\Parameters"

static void e_base_signature(struct ctx *x) { x->b[0] = 'x'; }
static void e_base_checksum(struct ctx *x) { x->b[0x1FC] ^= 1; }
static void e_base_sequence(struct ctx *x) { put32(x, 0x04, get32(x, 0x04) + 1); fix_checksum(x); }
static void e_base_version(struct ctx *x) { put32(x, 0x18, 7); fix_checksum(x); }
static void e_base_file_type(struct ctx *x) { put32(x, 0x1C, 1); fix_checksum(x); }
static void e_base_format(struct ctx *x) { put32(x, 0x20, 2); fix_checksum(x); }
static void e_base_cluster(struct ctx *x) { put32(x, 0x2C, 2); fix_checksum(x); }
static void e_base_bins_size(struct ctx *x) { put32(x, 0x28, 0x1800); fix_checksum(x); }

static void e_base_root(struct ctx *x)
{
    put32(x, 0x24, REL(value(x, key(x, "Select"), "Current")));
    fix_checksum(x);
}

/* The header counts 4 KiB more hive bins than there are: zeros where a bin should be. */
static void e_bin_signature(struct ctx *x)
{
    grow(x, 4096);
    put32(x, 0x28, get32(x, 0x28) + 4096);
    fix_checksum(x);
}

static void e_bin_offset(struct ctx *x) { put32(x, 0x2000 + 4, 0x5000); }

static void e_bin_size(struct ctx *x)
{
    size_t at = x->len;
    grow(x, 4096);
    memcpy(x->b + at, "hbin", 4);
    put32(x, at + 4, (uint32_t)(at - 0x1000));
    put32(x, at + 8, 0x1234);
    put32(x, 0x28, get32(x, 0x28) + 4096);
    fix_checksum(x);
}

static void e_cell_size(struct ctx *x) { size_t c = last_cell(x, 0x1000); put32(x, c, get32(x, c) - 4); }
static void e_cell_overrun(struct ctx *x) { size_t c = last_cell(x, 0x1000); put32(x, c, get32(x, c) + 8); }
static void e_cell_leak(struct ctx *x) { size_t c = last_cell(x, 0x1000); put32(x, c, (uint32_t)-(int32_t)get32(x, c)); }

/* A value list entry pointing 8 bytes into the value's cell. */
static void e_ref_invalid(struct ctx *x)
{
    size_t select = key(x, "Select");
    put32(x, value_entry(x, select, 0), get32(x, value_entry(x, select, 0)) + 8);
}

/* A value's data size beyond its cell (and the key's largest-data field raised to match). */
static void e_ref_too_small(struct ctx *x)
{
    size_t nk = key(x, "ControlSet001\\Control\\ComputerName\\ComputerName");
    put32(x, REC(value(x, nk, "ComputerName")) + 0x04, 100);
    put32(x, REC(nk) + 0x40, 100);
}

static void e_cell_shared(struct ctx *x)
{
    size_t select = key(x, "Select");
    put32(x, value_entry(x, select, 1), get32(x, value_entry(x, select, 0)));
}

/* The leaf's signature broken; its sk counts one key fewer, as nothing reaches it any more. */
static void e_nk_signature(struct ctx *x)
{
    x->b[REC(key(x, LEAF)) + 1] = 'x';
    put32(x, REC(root_sk(x)) + 0x0C, get32(x, REC(root_sk(x)) + 0x0C) - 1);
}

static void e_nk_root_flag(struct ctx *x) { size_t r = REC(key(x, "")) + 2; put16(x, r, (uint16_t)(x->b[r] & ~4)); }
static void e_nk_flags(struct ctx *x) { x->b[REC(key(x, LEAF)) + 2] |= 1; }
static void e_nk_parent(struct ctx *x) { put32(x, REC(key(x, LEAF)) + 0x10, REL(key(x, ""))); }
static void e_nk_subkey_count(struct ctx *x) { size_t k = REC(key(x, "ControlSet001\\Services\\W32Time")); put32(x, k + 0x14, get32(x, k + 0x14) + 1); }
static void e_nk_volatile(struct ctx *x) { put32(x, REC(key(x, LEAF)) + 0x18, 1); }
static void e_nk_max_lengths(struct ctx *x) { put32(x, REC(key(x, "Select")) + 0x40, 0); }

/* "ComputerName\ComputerNam\" (the only subkey, so order holds), its lh hash updated. */
static void e_nk_name(struct ctx *x)
{
    size_t parent = key(x, "ControlSet001\\Control\\ComputerName");
    size_t nk = key(x, "ControlSet001\\Control\\ComputerName\\ComputerName");
    x->b[REC(nk) + 0x4C + 11] = '\\';
    size_t e = tu_subkey_entry(x->b, x->len, parent, nk);
    ck_assert(e != 0);
    put32(x, e + 4, lh_hash("ComputerNam\\"));
}

static void e_list_kind(struct ctx *x) { put32(x, 0x18, 4); fix_checksum(x); }

/* Root's subkey list behind two ri records carved from the free cell at the end of the first bin. */
static void e_list_ri_nested(struct ctx *x)
{
    size_t free_cell = last_cell(x, 0x1000), root = key(x, "");
    int32_t size = (int32_t)get32(x, free_cell);
    ck_assert_int_ge(size, 64);
    size_t a = free_cell, b = free_cell + 16;
    put32(x, a, (uint32_t)-16);
    memcpy(x->b + a + 4, "ri", 2);
    put16(x, a + 6, 1);
    put32(x, a + 8, REL(b));
    put32(x, b, (uint32_t)-16);
    memcpy(x->b + b + 4, "ri", 2);
    put16(x, b + 6, 1);
    put32(x, b + 8, get32(x, REC(root) + 0x1C));
    put32(x, b + 16, (uint32_t)(size - 32));
    put32(x, REC(root) + 0x1C, REL(a));
}

static void e_list_order(struct ctx *x)
{
    size_t l = subkey_list(x, key(x, "")) + 4;
    unsigned char tmp[8];
    memcpy(tmp, x->b + l, 8);
    memcpy(x->b + l, x->b + l + 8, 8);
    memcpy(x->b + l + 8, tmp, 8);
}

/* ControlSet002 renamed ControlSet001 (its hash updated): two subkeys of one name. */
static void e_list_duplicate(struct ctx *x)
{
    size_t root = key(x, ""), nk = key(x, "ControlSet002");
    x->b[REC(nk) + 0x4C + 12] = '1';
    size_t e = tu_subkey_entry(x->b, x->len, root, nk);
    ck_assert(e != 0);
    put32(x, e + 4, lh_hash("ControlSet001"));
}

static void e_lh_hash(struct ctx *x) { x->b[subkey_list(x, key(x, "")) + 8] ^= 1; }

/* The root's lh list made an lf list with right hints (the first four characters of each name). */
static void to_lf(struct ctx *x)
{
    size_t l = subkey_list(x, key(x, ""));
    x->b[l + 1] = 'f';
    for (size_t i = 0; i < (size_t)(x->b[l + 2] | x->b[l + 3] << 8); i++) {
        size_t nk = 0x1000 + get32(x, l + 4 + 8 * i);
        memset(x->b + l + 8 + 8 * i, 0, 4);
        memcpy(x->b + l + 8 + 8 * i, x->b + REC(nk) + 0x4C, x->b[REC(nk) + 0x48] < 4 ? x->b[REC(nk) + 0x48] : 4);
    }
}

static void e_lf_hint(struct ctx *x)
{
    to_lf(x);
    x->b[subkey_list(x, key(x, "")) + 8] ^= 0x20; /* "controlSet001": a hint is not case-folded */
}

/* A value list entry pointing at another value's data cell. */
static void e_vk_signature(struct ctx *x)
{
    size_t nk = key(x, "ControlSet001\\Control\\ComputerName\\ComputerName");
    put32(x, value_entry(x, key(x, "Select"), 0), REL(data_cell(x, value(x, nk, "ComputerName"))));
}

static void e_vk_name(struct ctx *x) { put16(x, REC(value(x, key(x, "Select"), "Current")) + 0x02, 0xFFFF); }
static void e_vk_inline(struct ctx *x) { put32(x, REC(value(x, key(x, "Select"), "Current")) + 0x04, 0x80000008u); }
static void e_vk_type_length(struct ctx *x) { put32(x, REC(value(x, key(x, "Select"), "Current")) + 0x04, 0x80000002u); }

static void e_vk_not_inline(struct ctx *x)
{
    size_t nk = key(x, "ControlSet001\\Control\\ComputerName\\ComputerName");
    put32(x, REC(value(x, nk, "ComputerName")) + 0x04, 4);
}

/* The leaf names a value cell as its security; the sk counts one key fewer. */
static void e_sk_ref(struct ctx *x)
{
    put32(x, REC(key(x, LEAF)) + 0x2C, REL(value(x, key(x, "Select"), "Current")));
    put32(x, REC(root_sk(x)) + 0x0C, get32(x, REC(root_sk(x)) + 0x0C) - 1);
}

static void e_sk_ring(struct ctx *x) { put32(x, REC(root_sk(x)) + 0x04, REL(value(x, key(x, "Select"), "Current"))); }
static void e_sk_refcount(struct ctx *x) { put32(x, REC(root_sk(x)) + 0x0C, get32(x, REC(root_sk(x)) + 0x0C) - 1); }
static void e_sk_descriptor(struct ctx *x) { x->b[REC(root_sk(x)) + 0x14 + 3] &= 0x7F; /* SE_SELF_RELATIVE */ }

/* On a real Windows 7 hive: its first big-data record (the cell that starts "db"). */
static size_t first_db(struct ctx *x)
{
    for (size_t p = 0x1020; p + 8 < x->len; p += 8)
        if (x->b[p + 4] == 'd' && x->b[p + 5] == 'b' && (int32_t)get32(x, p) == -16)
            return p;
    ck_abort_msg("no big-data record");
    return 0;
}

static void e_vk_big_data(struct ctx *x) { x->b[first_db(x) + 5] = 'x'; }
static void e_db_segments(struct ctx *x) { size_t d = first_db(x); put16(x, d + 6, (uint16_t)(x->b[d + 6] + 1)); }

static void e_none(struct ctx *x) { (void)x; }
static void e_lf_right(struct ctx *x) { to_lf(x); }

#define SEVERITY_NONE (-1)

static const struct edit {
    const char *hive; /* a fixture, or "real:NAME" */
    void (*edit)(struct ctx *);
    const char *code; /* NULL: no finding at all */
    int severity;
} edits[] = {
    {"system-basic", e_none, NULL, SEVERITY_NONE},
    {"system-basic", e_lf_right, NULL, SEVERITY_NONE},
    {"system-basic", e_base_signature, "base-signature", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_base_checksum, "base-checksum", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_base_sequence, "base-sequence", HIVEPORT_SEVERITY_WARNING},
    {"system-basic", e_base_version, "base-version", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_base_file_type, "base-file-type", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_base_format, "base-format", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_base_cluster, "base-cluster", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_base_bins_size, "base-bins-size", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_base_root, "base-root", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_bin_signature, "bin-signature", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_bin_offset, "bin-offset", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_bin_size, "bin-size", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_cell_size, "cell-size", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_cell_overrun, "cell-overrun", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_cell_leak, "cell-leak", HIVEPORT_SEVERITY_INFO},
    {"system-basic", e_ref_invalid, "ref-invalid", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_ref_too_small, "ref-too-small", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_cell_shared, "cell-shared", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_nk_signature, "nk-signature", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_nk_root_flag, "nk-root-flag", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_nk_flags, "nk-flags", HIVEPORT_SEVERITY_WARNING},
    {"system-basic", e_nk_parent, "nk-parent", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_nk_name, "nk-name", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_nk_subkey_count, "nk-subkey-count", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_nk_volatile, "nk-volatile-fields", HIVEPORT_SEVERITY_INFO},
    {"system-basic", e_nk_max_lengths, "nk-max-lengths", HIVEPORT_SEVERITY_WARNING},
    {"system-basic", e_list_kind, "list-kind", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_list_ri_nested, "list-ri-nested", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_list_order, "list-order", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_list_duplicate, "list-duplicate", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_lh_hash, "lh-hash", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_lf_hint, "lf-hint", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_vk_signature, "vk-signature", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_vk_name, "vk-name", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_vk_inline, "vk-inline", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_vk_not_inline, "vk-not-inline", HIVEPORT_SEVERITY_WARNING},
    {"system-basic", e_vk_type_length, "vk-type-length", HIVEPORT_SEVERITY_WARNING},
    {"system-basic", e_sk_ref, "sk-ref", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_sk_ring, "sk-ring", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_sk_refcount, "sk-refcount", HIVEPORT_SEVERITY_ERROR},
    {"system-basic", e_sk_descriptor, "sk-descriptor", HIVEPORT_SEVERITY_ERROR},
    {"real:win7-SYSTEM", e_none, NULL, SEVERITY_NONE},
    {"real:win7-SYSTEM", e_vk_big_data, "vk-big-data", HIVEPORT_SEVERITY_ERROR},
    {"real:win7-SYSTEM", e_db_segments, "db-segments", HIVEPORT_SEVERITY_ERROR},
};
#define NEDITS ((int)(sizeof edits / sizeof edits[0]))

/* hiveport_check(h, 0, ...) succeeds; its findings. */
static hiveport_findings *check_or_fail(hiveport *h)
{
    hiveport_findings *f = NULL;
    ck_assert_int_eq(hiveport_check(h, 0, &f), HIVEPORT_OK);
    return f;
}

/* A copy of the fixture name in tu_dir (*path, the caller frees it), open in libhivex for writing. */
static hive_h *hivex_copy_for_writing(const char *name, char **path)
{
    *path = tu_fixture_copy(tu_dir, name);
    hive_h *hx = hivex_open(*path, HIVEX_OPEN_WRITE);
    ck_assert_ptr_nonnull(hx);
    return hx;
}

/* Commits what libhivex changed in hx and closes it. */
static void hivex_commit_and_close(hive_h *hx)
{
    ck_assert_int_eq(hivex_commit(hx, NULL, 0), 0);
    hivex_close(hx);
}

static void dump(const hiveport_findings *f)
{
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *x = hiveport_findings_at(f, i);
        fprintf(stderr, "  %s %s 0x%llx %s: %s\n", hiveport_severity_name(x->severity), x->code,
                (unsigned long long)x->offset, x->key ? x->key : "-", x->message);
    }
}

/* Every finding at or above the expected severity has the expected code, and there is one; below it only
 * info findings (a cell an edit cut off is a leak). */
START_TEST(each_edit_gives_exactly_its_code)
{
    const struct edit *e = &edits[_i];
    char *path;
    if (strncmp(e->hive, "real:", 5) == 0) {
        if ((path = tu_real_hive(tu_dir, e->hive + 5)) == NULL)
            return;
    } else {
        path = tu_fixture_copy(tu_dir, e->hive);
    }
    struct ctx x = {.b = tu_read(path, &x.len)};
    ck_assert_ptr_nonnull(x.b);
    x.hx = hivex_open(path, 0);
    ck_assert_ptr_nonnull(x.hx);
    e->edit(&x);
    hiveport *h = tu_open_or_fail(path, 0);
    hiveport_findings *f = NULL;
    ck_assert_int_eq(hp_check_buffer(h, x.b, x.len, &f), HIVEPORT_OK);
    bool found = false, wrong = false;
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *y = hiveport_findings_at(f, i);
        if (e->code != NULL && strcmp(y->code, e->code) == 0 && y->severity == e->severity) {
            found = true;
            ck_assert_msg(y->message != NULL && y->message[0] != '\0', "no message");
        } else if (y->severity > HIVEPORT_SEVERITY_INFO || e->code == NULL ||
                   e->severity == HIVEPORT_SEVERITY_INFO) {
            wrong = true;
        }
    }
    if (e->code == NULL ? hiveport_findings_count(f) != 0 : !found || wrong) {
        fprintf(stderr, "edit %d on %s, expected %s:\n", _i, e->hive, e->code ? e->code : "nothing");
        dump(f);
        ck_abort_msg("edit %d on %s: expected exactly %s", _i, e->hive, e->code ? e->code : "no finding");
    }
    hiveport_findings_free(f);
    hiveport_close(h);
    hivex_close(x.hx);
    free(x.b);
    free(path);
}
END_TEST

/* Deeper than 512 levels, written by libhivex itself. */
START_TEST(keys_deeper_than_512_levels)
{
    char *path = NULL;
    hive_h *hx = hivex_copy_for_writing("system-basic", &path);
    hive_node_h n = hivex_root(hx);
    for (int i = 0; i < 515; i++)
        ck_assert((n = hivex_node_add_child(hx, n, "D")) != 0);
    hivex_commit_and_close(hx);
    hiveport *h = tu_open_or_fail(path, 0);
    hiveport_findings *f = check_or_fail(h);
    size_t depth = 0;
    for (size_t i = 0; i < hiveport_findings_count(f); i++) {
        const hiveport_finding *y = hiveport_findings_at(f, i);
        ck_assert_msg(strcmp(y->code, "nk-depth") == 0 || y->severity == HIVEPORT_SEVERITY_INFO, "%s: %s", y->code,
                      y->message);
        depth += strcmp(y->code, "nk-depth") == 0;
    }
    ck_assert_uint_eq(depth, 1);
    hiveport_findings_free(f);
    hiveport_close(h);
    free(path);
}
END_TEST

/* libhivex stores 20 KB of data in one cell, where format 1.5 needs big data: the check catches it, and a
 * commit over such a hive is refused with the finding, the file untouched. */
START_TEST(big_value_in_one_cell_is_caught_and_never_committed)
{
    char *path = NULL;
    hive_h *hx = hivex_copy_for_writing("system-basic", &path);
    static char big[20000];
    hive_node_h select = hivex_node_get_child(hx, hivex_root(hx), "Setup");
    hive_set_value v = {.key = (char *)"Big", .t = hive_t_REG_BINARY, .len = sizeof big, .value = big};
    ck_assert_int_eq(hivex_node_set_values(hx, select, 1, &v, 0), 0);
    hivex_commit_and_close(hx);

    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
    hiveport_findings *f = check_or_fail(h);
    bool big_data = false;
    for (size_t i = 0; i < hiveport_findings_count(f); i++)
        big_data = big_data || strcmp(hiveport_findings_at(f, i)->code, "vk-big-data") == 0;
    ck_assert_msg(big_data, "20 KB in one cell not reported");
    hiveport_findings_free(f);

    unsigned char *before;
    size_t before_len;
    ck_assert_ptr_nonnull(before = tu_read(path, &before_len));
    /* ControlSet002 has no NTDS key: libhivex writes the hive, which is checked whole */
    ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), 2, 6000, 0), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_E_CORRUPT);
    ck_assert_msg(strstr(hiveport_errmsg(h), "vk-big-data") != NULL && strstr(hiveport_errmsg(h), "refusing") != NULL,
                  "%s", hiveport_errmsg(h));
    unsigned char *after;
    size_t after_len;
    ck_assert_ptr_nonnull(after = tu_read(path, &after_len));
    ck_assert(before_len == after_len && memcmp(before, after, before_len) == 0);
    hiveport_close(h);
    free(before);
    free(after);
    free(path);
}
END_TEST

/* The last cell of the hive bin holding ControlSet001's NTDS port value given a size that is not a multiple
 * of 8: what an in-place write of that value checks (the bins it touches). */
static void e_bin_of_ntds_port(struct ctx *x)
{
    size_t vk = value(x, key(x, "ControlSet001\\Services\\NTDS\\Parameters"), "TCP/IP Port");
    size_t c = last_cell(x, vk - (vk - 0x1000) % 4096);
    put32(x, c, get32(x, c) - 4);
}

/* A copy of system-basic damaged by edit; returns its path, *bytes its content. */
static char *damaged_copy(void (*edit)(struct ctx *), unsigned char **bytes, size_t *len)
{
    char *path = tu_fixture_copy(tu_dir, "system-basic");
    struct ctx x = {.b = tu_read(path, &x.len)};
    x.hx = hivex_open(path, 0);
    ck_assert_ptr_nonnull(x.hx);
    edit(&x);
    hivex_close(x.hx);
    FILE *out = fopen(path, "wb");
    ck_assert(out != NULL && fwrite(x.b, 1, x.len, out) == x.len && fclose(out) == 0);
    *bytes = x.b;
    *len = x.len;
    return path;
}

/* Both commit paths refuse a hive the check fails, naming the finding, and leave the file as it was: a value
 * patched in place (the bins it touches are checked) and keys created through libhivex (the whole hive).
 * So does a recovered copy. */
START_TEST(writes_refuse_a_damaged_result)
{
    static void (*const damage[2])(struct ctx *) = {e_bin_of_ntds_port, e_sk_refcount};
    static const char *const code[2] = {"cell-size", "sk-refcount"};
    for (int structural = 0; structural < 2; structural++) {
        unsigned char *bytes;
        size_t len;
        char *path = damaged_copy(damage[structural], &bytes, &len);
        hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_WRITE);
        /* ntds is set in ControlSet001 (patched in place); ControlSet002 has no NTDS key (libhivex makes it) */
        ck_assert_int_eq(hiveport_set_port(h, hiveport_catalog_find("ntds"), structural ? 2 : 1, 6001, 0),
                         HIVEPORT_OK);
        ck_assert_int_eq(hiveport_commit(h, NULL), HIVEPORT_E_CORRUPT);
        ck_assert_msg(strstr(hiveport_errmsg(h), code[structural]) != NULL, "%s", hiveport_errmsg(h));
        hiveport_close(h);
        unsigned char *now;
        size_t now_len;
        ck_assert_ptr_nonnull(now = tu_read(path, &now_len));
        ck_assert_msg(now_len == len && memcmp(now, bytes, len) == 0, "the hive changed (structural %d)", structural);
        if (structural) {
            char copy[4096];
            snprintf(copy, sizeof copy, "%s/copy", tu_dir);
            ck_assert_int_eq(hiveport_open(path, 0, &h), HIVEPORT_OK);
            ck_assert_int_eq(hiveport_save_copy(h, copy), HIVEPORT_E_CORRUPT);
            struct stat st;
            ck_assert_int_ne(stat(copy, &st), 0);
            hiveport_close(h);
        }
        free(now);
        free(bytes);
        free(path);
    }
}
END_TEST

/* A dirty hive: checked with its log replayed (and saying so), or the primary file as it is. */
START_TEST(dirty_hive_replayed_or_primary)
{
    char *path = tu_fixture_copy_logged(tu_dir, "system-logged");
    for (int mode = 0; mode < 3; mode++) {
        hiveport *h = tu_open_or_fail(path, mode == 2 ? HIVEPORT_OPEN_NO_LOGS : 0);
        hiveport_findings *f = NULL;
        ck_assert_int_eq(hiveport_check(h, mode == 1 ? HIVEPORT_CHECK_PRIMARY : 0, &f), HIVEPORT_OK);
        bool replayed = false, sequence = false;
        for (size_t i = 0; i < hiveport_findings_count(f); i++) {
            const hiveport_finding *y = hiveport_findings_at(f, i);
            replayed = replayed || strcmp(y->code, "logs-replayed") == 0;
            sequence = sequence || strcmp(y->code, "base-sequence") == 0;
            ck_assert_msg(y->severity < HIVEPORT_SEVERITY_ERROR, "%s: %s", y->code, y->message);
        }
        ck_assert_msg(replayed == (mode == 0) && sequence == (mode != 0), "mode %d: replayed %d sequence %d", mode,
                      replayed, sequence);
        hiveport_findings_free(f);
        hiveport_close(h);
    }
    free(path);
}
END_TEST

static const struct real {
    const char *name;
    const char *first_error; /* NULL: no error at all */
    uint64_t offset;
} reals[] = {
    {"win7-SYSTEM", NULL, 0},
    {"vista-SYSTEM", NULL, 0},
    {"win10-pruned-SYSTEM", NULL, 0},
    {"dirty-nolog-SYSTEM", NULL, 0},
    /* Format 1.6, Windows Sandbox's differencing hive: a valid hive (no Select is not a structural matter). */
    {"delta-1.6-SYSTEM", NULL, 0},
    /* Bins zeroed from 0x1a000 on (the first of 30 runs): bin-signature there, then what they held. */
    {"corrupt-SYSTEM", "bin-signature", 0x1a000},
};

START_TEST(real_hives)
{
    const struct real *r = &reals[_i];
    char *path = tu_real_hive(tu_dir, r->name);
    if (path == NULL)
        return;
    hiveport *h = tu_open_or_fail(path, HIVEPORT_OPEN_DAMAGED);
    hiveport_findings *f = check_or_fail(h);
    const hiveport_finding *first = NULL;
    for (size_t i = 0; i < hiveport_findings_count(f) && first == NULL; i++)
        if (hiveport_findings_at(f, i)->severity == HIVEPORT_SEVERITY_ERROR)
            first = hiveport_findings_at(f, i);
    if (r->first_error == NULL) {
        if (first != NULL)
            dump(f);
        ck_assert_msg(first == NULL, "%s: unexpected error", r->name);
    } else {
        ck_assert_msg(first != NULL && strcmp(first->code, r->first_error) == 0 && first->offset == r->offset,
                      "%s: first error %s at 0x%llx", r->name, first ? first->code : "none",
                      first ? (unsigned long long)first->offset : 0ull);
    }
    hiveport_findings_free(f);
    hiveport_close(h);
    free(path);
}
END_TEST

/* Every allocation of a check may fail: the result is the whole list or HIVEPORT_E_NOMEM, nothing between. */
START_TEST(allocation_failures_are_clean)
{
    char *path = tu_fixture_copy(tu_dir, "system-logged");
    hiveport *h = tu_open_or_fail(path, 0);
    hiveport_findings *f = check_or_fail(h);
    size_t expected = hiveport_findings_count(f);
    hiveport_findings_free(f);
    unsigned long n;
    int rc = HIVEPORT_E_NOMEM;
    for (n = 1; n < 1000 && rc != HIVEPORT_OK; n++) {
        f = (hiveport_findings *)&f;
        hp_alloc_fail_after(n);
        rc = hiveport_check(h, 0, &f);
        hp_alloc_fail_after(0);
        ck_assert_msg(rc == HIVEPORT_OK || rc == HIVEPORT_E_NOMEM, "n=%lu: %d %s", n, rc, hiveport_errmsg(h));
        if (rc == HIVEPORT_OK)
            ck_assert_uint_eq(hiveport_findings_count(f), expected);
        else
            ck_assert_ptr_null(f);
        hiveport_findings_free(rc == HIVEPORT_OK ? f : NULL);
    }
    ck_assert_int_eq(rc, HIVEPORT_OK);
    ck_assert_uint_gt(n, 5);
    hiveport_close(h);
    free(path);
}
END_TEST

START_TEST(arguments)
{
    hiveport *h = NULL;
    hiveport_findings *f = (hiveport_findings *)&f;
    ck_assert_int_eq(hiveport_check(NULL, 0, &f), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(hiveport_open(tu_fixture_path("system-basic"), 0, &h), HIVEPORT_OK);
    ck_assert_int_eq(hiveport_check(h, 0, NULL), HIVEPORT_E_INVALID_ARG);
    ck_assert_int_eq(hiveport_check(h, 0x80, &f), HIVEPORT_E_INVALID_ARG);
    ck_assert_ptr_null(f);
    hiveport_close(h);
    ck_assert_int_eq(hiveport_open(tu_fixture_path("system-basic"), HIVEPORT_OPEN_DAMAGED | HIVEPORT_OPEN_WRITE, &h),
                     HIVEPORT_E_INVALID_ARG);
    hiveport_close(h);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {keys_deeper_than_512_levels, big_value_in_one_cell_is_caught_and_never_committed,
                                  writes_refuse_a_damaged_result, dirty_hive_replayed_or_primary,
                                  allocation_failures_are_clean, arguments, NULL};
    Suite *s;
    TCase *tc = tu_tcase(&s, "check", "check", 120, tu_setup_dir, tu_teardown_dir);
    tcase_add_loop_test(tc, each_edit_gives_exactly_its_code, 0, NEDITS);
    tcase_add_loop_test(tc, real_hives, 0, (int)(sizeof reals / sizeof reals[0]));
    return tu_run_tests(s, tc, tests);
}
