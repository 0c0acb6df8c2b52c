/* mkbighive.c: writes a large, valid, Windows-like SYSTEM hive for the scaling benchmark (issue 9).
 *
 *   mkbighive OUT SIZE_MB [CONTROLSETS]      (CONTROLSETS: 1-9, default 3)
 *
 * The regf file is written directly, not through libhivex: libhivex inserts a subkey by rewriting its
 * parent's list, so building tens of thousands of services under one Services key through it is quadratic.
 * Layout, like a real SYSTEM hive:
 *
 *   Select (Current 1, Default 1, Failed 0, LastKnownGood 2 when there is a ControlSet002), Setup,
 *   MountedDevices, and ControlSet001..00N, each with Control\ComputerName\ComputerName, Control\Lsa,
 *   Enum\Root, Hardware Profiles, and Services: NTDS (a "RID Values" subkey only, as in real non-DC hives),
 *   Tcpip, Netlogon, W32Time and enough "SvcNNNNNN" services to reach SIZE_MB in total.  Each service has
 *   Type/Start/ErrorControl/ImagePath/DisplayName/Description (+ Group, DependOnService on some), a
 *   Parameters subkey with 2-9 values, and on some an Enum subkey and a Security subkey (REG_BINARY).
 *
 * Cells live in 4 KiB hive bins (larger only for a cell that needs it), as Windows writes them; subkey lists
 * are lh lists sorted by upper-case name, split under an ri index past 500 entries; every key shares one
 * security cell.  The content of service i depends only on i (a per-service PRNG), so sizes grow linearly
 * with the service count.  The output is the same bytes on every run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HBIN 4096u
#define LH_MAX 500u
#define FILETIME_2020 0x01D5C03669E5C000ull /* 2020-01-01 00:00:00 UTC */

static unsigned char *buf;  /* the whole file: 4 KiB base block, then the hive bins */
static size_t cap, used;    /* used: end of the last hive bin (absolute) */
static size_t bin_start;    /* absolute offset of the current bin */
static size_t pos;          /* next free byte in the current bin (absolute) */
static uint32_t sk_rel, sk_refs;

static void die(const char *msg)
{
    fprintf(stderr, "mkbighive: %s\n", msg);
    exit(1);
}

static void put16(size_t at, uint16_t v)
{
    buf[at] = (unsigned char)v;
    buf[at + 1] = (unsigned char)(v >> 8);
}

static void put32(size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        buf[at + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static void put64(size_t at, uint64_t v)
{
    put32(at, (uint32_t)v);
    put32(at + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(size_t at)
{
    return (uint32_t)buf[at] | (uint32_t)buf[at + 1] << 8 | (uint32_t)buf[at + 2] << 16 |
           (uint32_t)buf[at + 3] << 24;
}

static void reserve(size_t n)
{
    if (n <= cap)
        return;
    size_t c = cap ? cap : (1u << 20);
    while (c < n)
        c *= 2;
    unsigned char *b = realloc(buf, c);
    if (b == NULL)
        die("out of memory");
    memset(b + cap, 0, c - cap);
    buf = b;
    cap = c;
}

/* Closes the current bin: whatever is left becomes one free cell. */
static void close_bin(void)
{
    if (used > 0 && pos < used)
        put32(pos, (uint32_t)(used - pos));
    pos = used;
}

static void new_bin(size_t need)
{
    close_bin();
    size_t size = (need + 0x20 + HBIN - 1) / HBIN * HBIN;
    bin_start = used;
    reserve(bin_start + size);
    memset(buf + bin_start, 0, size);
    memcpy(buf + bin_start, "hbin", 4);
    put32(bin_start + 4, (uint32_t)(bin_start - HBIN));
    put32(bin_start + 8, (uint32_t)size);
    put64(bin_start + 0x14, FILETIME_2020);
    used = bin_start + size;
    pos = bin_start + 0x20;
}

/* Allocates a cell for a record of len bytes; returns its relative offset (absolute - 4096). */
static uint32_t cell(size_t len)
{
    size_t size = (len + 4 + 7) / 8 * 8;
    if (pos + size > used)
        new_bin(size);
    size_t at = pos;
    pos += size;
    put32(at, (uint32_t)-(int32_t)size);
    return (uint32_t)(at - HBIN);
}

#define REC(rel) ((size_t)(rel) + HBIN + 4) /* absolute offset of a cell's record */

/* ---- keys and values ---- */

static uint32_t key_new(const char *name, uint32_t parent_rel, int root)
{
    size_t n = strlen(name);
    uint32_t rel = cell(0x4C + n);
    size_t r = REC(rel);
    memcpy(buf + r, "nk", 2);
    put16(r + 0x02, root ? 0x2C : 0x20); /* COMP_NAME (+ HIVE_ENTRY | NO_DELETE for the root) */
    put64(r + 0x04, FILETIME_2020);
    put32(r + 0x10, root ? 0xFFFFFFFFu : parent_rel);
    put32(r + 0x1C, 0xFFFFFFFFu);
    put32(r + 0x20, 0xFFFFFFFFu);
    put32(r + 0x28, 0xFFFFFFFFu);
    put32(r + 0x2C, sk_rel);
    put32(r + 0x30, 0xFFFFFFFFu);
    put16(r + 0x48, (uint16_t)n);
    memcpy(buf + r + 0x4C, name, n);
    sk_refs++;
    return rel;
}

static uint32_t value_new(const char *name, uint32_t type, const void *data, uint32_t len)
{
    size_t n = strlen(name);
    uint32_t data_rel = 0;
    if (len > 4) {
        data_rel = cell(len);
        memcpy(buf + REC(data_rel), data, len);
    }
    uint32_t rel = cell(0x14 + n);
    size_t r = REC(rel);
    memcpy(buf + r, "vk", 2);
    put16(r + 0x02, (uint16_t)n);
    if (len <= 4) {
        put32(r + 0x04, len | 0x80000000u);
        memcpy(buf + r + 0x08, data, len);
    } else {
        put32(r + 0x04, len);
        put32(r + 0x08, data_rel);
    }
    put32(r + 0x0C, type);
    put16(r + 0x10, 1); /* compressed (Latin-1) name */
    memcpy(buf + r + 0x14, name, n);
    return rel;
}

/* Values of one key, collected while it is built. */
struct vals {
    uint32_t rel[16];
    unsigned n;
    uint32_t max_name, max_data;
};

static void val(struct vals *v, const char *name, uint32_t type, const void *data, uint32_t len)
{
    if (v->n == 16)
        die("too many values");
    v->rel[v->n++] = value_new(name, type, data, len);
    uint32_t nl = (uint32_t)strlen(name) * 2;
    if (nl > v->max_name)
        v->max_name = nl;
    if (len > v->max_data)
        v->max_data = len;
}

static void val_dword(struct vals *v, const char *name, uint32_t x)
{
    unsigned char d[4] = {(unsigned char)x, (unsigned char)(x >> 8), (unsigned char)(x >> 16),
                          (unsigned char)(x >> 24)};
    val(v, name, 4, d, 4);
}

/* REG_SZ (type 1) or REG_EXPAND_SZ (2) from ASCII text; REG_MULTI_SZ (7) when text has '\n' separators. */
static void val_text(struct vals *v, const char *name, uint32_t type, const char *text)
{
    unsigned char d[2048];
    size_t n = 0;
    for (const char *p = text; *p && n + 6 < sizeof d; p++) {
        d[n++] = (unsigned char)(*p == '\n' ? 0 : *p);
        d[n++] = 0;
    }
    d[n++] = 0;
    d[n++] = 0;
    if (type == 7) {
        d[n++] = 0;
        d[n++] = 0;
    }
    val(v, name, type, d, (uint32_t)n);
}

static void key_values(uint32_t key_rel, const struct vals *v)
{
    if (v->n == 0)
        return;
    uint32_t list = cell(4 * v->n);
    for (unsigned i = 0; i < v->n; i++)
        put32(REC(list) + 4 * i, v->rel[i]);
    size_t r = REC(key_rel);
    put32(r + 0x24, v->n);
    put32(r + 0x28, list);
    put32(r + 0x3C, v->max_name);
    put32(r + 0x40, v->max_data);
}

static int upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static uint32_t lh_hash(const char *name)
{
    uint32_t h = 0;
    for (const char *p = name; *p; p++)
        h = h * 37 + (uint32_t)upper((unsigned char)*p);
    return h;
}

/* The key name stored in an nk cell (NUL-terminated copy into out). */
static void key_name(uint32_t rel, char *out, size_t out_len)
{
    size_t r = REC(rel), n = (size_t)buf[r + 0x48] | (size_t)buf[r + 0x49] << 8;
    if (n >= out_len)
        n = out_len - 1;
    memcpy(out, buf + r + 0x4C, n);
    out[n] = '\0';
}

/* Sets the subkey list of key_rel to children[0..n), which must be sorted by upper-case name. */
static void key_subkeys(uint32_t key_rel, const uint32_t *children, size_t n)
{
    if (n == 0)
        return;
    char name[256];
    uint32_t max_name = 0;
    size_t leaves = (n + LH_MAX - 1) / LH_MAX;
    uint32_t *leaf_rel = malloc(leaves * sizeof *leaf_rel);
    if (leaf_rel == NULL)
        die("out of memory");
    for (size_t l = 0; l < leaves; l++) {
        size_t first = l * LH_MAX, count = n - first < LH_MAX ? n - first : LH_MAX;
        uint32_t rel = cell(4 + 8 * count);
        size_t r = REC(rel);
        memcpy(buf + r, "lh", 2);
        put16(r + 2, (uint16_t)count);
        for (size_t i = 0; i < count; i++) {
            key_name(children[first + i], name, sizeof name);
            put32(r + 4 + 8 * i, children[first + i]);
            put32(r + 8 + 8 * i, lh_hash(name));
            if (strlen(name) * 2 > max_name)
                max_name = (uint32_t)strlen(name) * 2;
        }
        leaf_rel[l] = rel;
    }
    uint32_t list = leaf_rel[0];
    if (leaves > 1) {
        list = cell(4 + 4 * leaves);
        size_t r = REC(list);
        memcpy(buf + r, "ri", 2);
        put16(r + 2, (uint16_t)leaves);
        for (size_t l = 0; l < leaves; l++)
            put32(r + 4 + 4 * l, leaf_rel[l]);
    }
    free(leaf_rel);
    size_t r = REC(key_rel);
    put32(r + 0x14, (uint32_t)n);
    put32(r + 0x1C, list);
    put32(r + 0x34, max_name);
}

/* A key with values and no subkeys. */
static uint32_t leaf_key(const char *name, uint32_t parent, const struct vals *v)
{
    uint32_t k = key_new(name, parent, 0);
    if (v != NULL)
        key_values(k, v);
    return k;
}

/* ---- content ---- */

static uint64_t rng;

static uint32_t rnd(uint32_t n) /* 0..n-1, xorshift64* */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

static void words(char *out, size_t want)
{
    static const char *const w[] = {"service", "network", "provides", "the", "driver", "for", "remote",
                                    "procedure", "call", "support", "windows", "storage", "manager",
                                    "and", "management", "of", "device", "interface", "protocol"};
    size_t n = 0;
    out[0] = '\0';
    while (n < want) {
        const char *s = w[rnd(sizeof w / sizeof w[0])];
        n += (size_t)snprintf(out + n, want + 32 - n, "%s%s", n ? " " : "", s);
    }
}

static int cmp_upper(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a, *y = *(const unsigned char *const *)b;
    for (;; x++, y++) {
        int cx = upper(*x), cy = upper(*y);
        if (cx != cy || cx == 0)
            return cx - cy;
    }
}

/* One service named name under services_rel; the content depends only on idx. */
static uint32_t service(const char *name, uint32_t services_rel, uint32_t idx)
{
    rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)idx * 0xBF58476D1CE4E5B9ull);
    rnd(2);
    char text[1100];
    uint32_t svc = key_new(name, services_rel, 0);
    struct vals v = {0};
    val_dword(&v, "Type", rnd(2) ? 0x10 : 0x1);
    val_dword(&v, "Start", rnd(5));
    val_dword(&v, "ErrorControl", rnd(3));
    snprintf(text, sizeof text, "system32\\drivers\\%s.sys", name);
    val_text(&v, "ImagePath", 2, text);
    snprintf(text, sizeof text, "@%%SystemRoot%%\\system32\\%s.dll,-%u", name, 100 + rnd(900));
    val_text(&v, "DisplayName", 1, text);
    words(text, 20 + rnd(280));
    val_text(&v, "Description", 1, text);
    if (rnd(3) == 0)
        val_text(&v, "Group", 1, rnd(2) ? "NDIS" : "Network Provider");
    if (rnd(4) == 0)
        val_text(&v, "DependOnService", 7, "RpcSs\nTcpip\nAfd");
    key_values(svc, &v);

    /* Subkeys, created in sorted order: Enum, Parameters, Security. */
    uint32_t kids[3];
    size_t nk = 0;
    if (rnd(3) == 0) {
        struct vals e = {0};
        snprintf(text, sizeof text, "Root\\LEGACY_%s\\0000", name);
        val_text(&e, "0", 1, text);
        val_dword(&e, "Count", 1);
        val_dword(&e, "NextInstance", 1);
        kids[nk++] = leaf_key("Enum", svc, &e);
    }
    struct vals p = {0};
    unsigned np = 2 + rnd(8);
    for (unsigned i = 0; i < np; i++) {
        char vn[32];
        snprintf(vn, sizeof vn, "Setting%u", i);
        if (rnd(2)) {
            val_dword(&p, vn, rnd(100000));
        } else {
            words(text, 8 + rnd(60));
            val_text(&p, vn, 1, text);
        }
    }
    kids[nk++] = leaf_key("Parameters", svc, &p);
    if (rnd(4) == 0) {
        struct vals s = {0};
        unsigned char sd[256];
        uint32_t len = 100 + rnd(150);
        for (uint32_t i = 0; i < len; i++)
            sd[i] = (unsigned char)rnd(256);
        val(&s, "Security", 3, sd, len);
        kids[nk++] = leaf_key("Security", svc, &s);
    }
    key_subkeys(svc, kids, nk);
    return svc;
}

static uint32_t controlset(unsigned number, uint32_t root, uint32_t nservices)
{
    char name[32];
    snprintf(name, sizeof name, "ControlSet%03u", number);
    uint32_t cs = key_new(name, root, 0);

    /* Control\{ComputerName\ComputerName, Lsa} */
    uint32_t control = key_new("Control", cs, 0);
    uint32_t cn = key_new("ComputerName", control, 0);
    struct vals v = {0};
    val_text(&v, "ComputerName", 1, "BENCH01");
    uint32_t cn2 = leaf_key("ComputerName", cn, &v);
    key_subkeys(cn, &cn2, 1);
    struct vals lsa = {0};
    val_dword(&lsa, "LimitBlankPasswordUse", 1);
    val_dword(&lsa, "NoLmHash", 1);
    val_text(&lsa, "Authentication Packages", 7, "msv1_0");
    uint32_t lsak = leaf_key("Lsa", control, &lsa);
    uint32_t ckids[2] = {cn, lsak};
    key_subkeys(control, ckids, 2);

    uint32_t en = key_new("Enum", cs, 0);
    uint32_t enroot = leaf_key("Root", en, NULL);
    key_subkeys(en, &enroot, 1);
    uint32_t hw = leaf_key("Hardware Profiles", cs, NULL);

    /* Services: the generated ones plus a few real names, sorted as Windows keeps them. */
    uint32_t services = key_new("Services", cs, 0);
    static const char *const real[] = {"NTDS", "Netlogon", "Tcpip", "W32Time"};
    size_t total = nservices + sizeof real / sizeof real[0];
    char **names = malloc(total * sizeof *names);
    uint32_t *kids = malloc(total * sizeof *kids);
    if (names == NULL || kids == NULL)
        die("out of memory");
    for (size_t i = 0; i < nservices; i++) {
        names[i] = malloc(16);
        if (names[i] == NULL)
            die("out of memory");
        snprintf(names[i], 16, "Svc%06zu", i);
    }
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++)
        names[nservices + i] = strdup(real[i]);
    qsort(names, total, sizeof *names, cmp_upper);
    for (size_t i = 0; i < total; i++) {
        if (strcmp(names[i], "NTDS") == 0) {
            /* As in real non-DC hives: NTDS exists, with "RID Values" and no Parameters. */
            uint32_t ntds = key_new("NTDS", services, 0);
            struct vals r = {0};
            val_dword(&r, "NextRid", 1000);
            uint32_t rid = leaf_key("RID Values", ntds, &r);
            key_subkeys(ntds, &rid, 1);
            kids[i] = ntds;
        } else {
            kids[i] = service(names[i], services, (uint32_t)(i * 1000003u));
        }
        free(names[i]);
    }
    key_subkeys(services, kids, total);
    free(names);
    free(kids);

    uint32_t cskids[4] = {control, en, hw, services};
    key_subkeys(cs, cskids, 4);
    return cs;
}

/* Builds the whole hive in buf; returns the file size. */
static size_t build(uint32_t nservices, unsigned ncs)
{
    used = HBIN;
    pos = bin_start = HBIN;
    reserve(HBIN);
    memset(buf, 0, HBIN);
    sk_refs = 0;

    /* Root first (the header points at it), then the shared security cell. */
    uint32_t root = key_new("ROOT", 0, 1);
    sk_rel = cell(0x14 + 20);
    size_t s = REC(sk_rel);
    memcpy(buf + s, "sk", 2);
    put32(s + 0x04, sk_rel); /* flink, blink: a list of one */
    put32(s + 0x08, sk_rel);
    put32(s + 0x10, 20);     /* descriptor: revision 1, SE_SELF_RELATIVE, nothing else */
    buf[s + 0x14] = 1;
    put16(s + 0x16, 0x8000);
    put32(REC(root) + 0x2C, sk_rel);

    uint32_t kids[16];
    size_t n = 0;
    for (unsigned i = 1; i <= ncs; i++)
        kids[n++] = controlset(i, root, nservices);
    kids[n++] = leaf_key("MountedDevices", root, NULL);
    struct vals sel = {0};
    val_dword(&sel, "Current", 1);
    val_dword(&sel, "Default", 1);
    val_dword(&sel, "Failed", 0);
    val_dword(&sel, "LastKnownGood", ncs >= 2 ? 2 : 1);
    kids[n++] = leaf_key("Select", root, &sel);
    struct vals setup = {0};
    val_dword(&setup, "SystemSetupInProgress", 0);
    kids[n++] = leaf_key("Setup", root, &setup);
    key_subkeys(root, kids, n);
    put32(s + 0x0C, sk_refs);
    close_bin();

    /* Base block. */
    memcpy(buf, "regf", 4);
    put32(0x04, 1000);
    put32(0x08, 1000);
    put64(0x0C, FILETIME_2020);
    put32(0x14, 1);
    put32(0x18, 5);
    put32(0x1C, 0);
    put32(0x20, 1);
    put32(0x24, root);
    put32(0x28, (uint32_t)(used - HBIN));
    put32(0x2C, 1);
    static const char fname[] = "\\SystemRoot\\System32\\Config\\SYSTEM";
    for (size_t i = 0; i < 31 && fname[i]; i++)
        put16(0x30 + 2 * i, (uint16_t)fname[i]);
    uint32_t sum = 0;
    for (size_t off = 0; off < 0x1FC; off += 4)
        sum ^= get32(off);
    put32(0x1FC, sum == 0 ? 1 : sum == 0xFFFFFFFFu ? 0xFFFFFFFEu : sum);
    return used;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: mkbighive OUT SIZE_MB [CONTROLSETS]\n");
        return 2;
    }
    double mb = strtod(argv[2], NULL);
    unsigned ncs = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 3;
    if (mb <= 0 || mb > 1800 || ncs < 1 || ncs > 9)
        die("SIZE_MB must be in (0, 1800] and CONTROLSETS in 1-9");

    /* The size per service, from a trial build; then the real one. */
    const uint32_t trial = 2000;
    size_t base = build(0, ncs);
    size_t with = build(trial, ncs);
    double per_service = (double)(with - base) / ((double)trial * ncs);
    double want = mb * 1048576.0 - (double)base;
    uint32_t nservices = want > 0 ? (uint32_t)(want / (per_service * ncs)) : 0;
    size_t size = build(nservices, ncs);

    FILE *f = fopen(argv[1], "wb");
    if (f == NULL || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "mkbighive: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    printf("%s: %zu bytes, %u control sets, %u services each\n", argv[1], size, ncs,
           nservices + 4);
    free(buf);
    return 0;
}
