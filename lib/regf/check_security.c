/* check_security.c: security cells (sk).  Every sk of a hive is on one doubly linked ring (flink, blink)
 * that starts at the root key's sk; every key names an sk of the ring; an sk's reference count is the
 * number of keys naming it (Windows frees it when the count drops to 0); its descriptor fits the cell and
 * is a well-formed self-relative SECURITY_DESCRIPTOR (revision 1, SIDs and ACLs inside it).
 *
 *   sk: +0x00 "sk"  +0x04 flink  +0x08 blink  +0x0C reference count  +0x10 descriptor size  +0x14 descriptor */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hivecheck.h"

#define SK_MIN 0x14u
#define SE_DACL_PRESENT 0x0004u
#define SE_SACL_PRESENT 0x0010u
#define SE_SELF_RELATIVE 0x8000u

static uint64_t abs_of(uint32_t rel)
{
    return (uint64_t)HP_REGF_HEADER_SIZE + rel;
}

static const unsigned char *sk_at(struct hp_check *c, uint32_t rel, uint32_t *len)
{
    const unsigned char *sk = hp_check_cell(c, rel, len);
    return sk != NULL && *len >= SK_MIN && sk[0] == 's' && sk[1] == 'k' ? sk : NULL;
}

/* A SID at off inside the descriptor d of n bytes. */
static bool sid_ok(const unsigned char *d, uint32_t n, uint32_t off)
{
    return off >= 20 && off <= n - 8 && d[off] == 1 && d[off + 1] <= 15 && off + 8u + 4u * d[off + 1] <= n;
}

/* An ACL at off: revision 2 or 4, its size inside the descriptor, its ACEs inside its size. */
static bool acl_ok(const unsigned char *d, uint32_t n, uint32_t off)
{
    if (off < 20 || off > n - 8 || (d[off] != 2 && d[off] != 4))
        return false;
    uint32_t size = hp_le16(d + off + 2), count = hp_le16(d + off + 4);
    if (size < 8 || off + size > n)
        return false;
    uint32_t p = off + 8, end = off + size;
    for (uint32_t i = 0; i < count; i++) {
        if (p + 4 > end)
            return false;
        uint32_t ace = hp_le16(d + p + 2);
        if (ace < 4 || p + ace > end)
            return false;
        p += ace;
    }
    return true;
}

static const char *descriptor_problem(const unsigned char *sk, uint32_t len)
{
    uint32_t n = hp_le32(sk + 0x10);
    if (n > len - SK_MIN)
        return "is longer than its cell";
    if (n < 20)
        return "is shorter than a security descriptor's 20-byte header";
    const unsigned char *d = sk + SK_MIN;
    uint16_t control = hp_le16(d + 2);
    if (d[0] != 1)
        return "has a revision other than 1";
    if (!(control & SE_SELF_RELATIVE))
        return "is not self-relative";
    uint32_t owner = hp_le32(d + 4), group = hp_le32(d + 8), sacl = hp_le32(d + 12),
             dacl = hp_le32(d + 16);
    if ((owner != 0 && !sid_ok(d, n, owner)) || (group != 0 && !sid_ok(d, n, group)))
        return "has an owner or group SID that is malformed or outside it";
    if (((control & SE_SACL_PRESENT) && sacl != 0 && !acl_ok(d, n, sacl)) ||
        ((control & SE_DACL_PRESENT) && dacl != 0 && !acl_ok(d, n, dacl)))
        return "has an ACL that is malformed or outside it";
    return NULL;
}

static int by_offset(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The walk cannot go on from the sk at 'at': a finding, and the ring marked broken. */
static int ring_broken(struct hp_check *c, uint32_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ring_broken(struct hp_check *c, uint32_t at, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    c->ring_broken = true;
    return hp_check_add(c, HP_ERROR, "sk-ring", NULL, abs_of(at), "%s", text);
}

int hp_check_sk_ring(struct hp_check *c)
{
    uint32_t len;
    const unsigned char *root = hp_check_cell(c, c->root, &len);
    if (root == NULL || len < 0x4C || root[0] != 'n' || root[1] != 'k')
        return HIVEPORT_OK; /* check_keys.c reports it */
    uint32_t start = hp_le32(root + 0x2C);
    if (sk_at(c, start, &len) == NULL)
        return HIVEPORT_OK; /* the root's own sk reference: reported with the root key */
    size_t cap = 64;
    c->sk = hp_malloc(cap * sizeof *c->sk);
    if (c->sk == NULL)
        return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
    int rc = HIVEPORT_OK;
    uint32_t cur = start;
    hp_check_mark(c, start);
    for (;;) {
        if (c->nsk == cap) {
            uint32_t *bigger = hp_malloc(cap * 2 * sizeof *bigger);
            if (bigger == NULL)
                return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
            memcpy(bigger, c->sk, cap * sizeof *bigger);
            hp_free(c->sk);
            c->sk = bigger;
            cap *= 2;
        }
        c->sk[c->nsk++] = cur;
        const unsigned char *sk = sk_at(c, cur, &len);
        const char *problem = descriptor_problem(sk, len);
        if (problem != NULL && (rc = hp_check_add(c, HP_ERROR, "sk-descriptor", NULL, abs_of(cur),
                                                  "The security descriptor of the sk at 0x%llx %s.",
                                                  (unsigned long long)abs_of(cur), problem)) != HIVEPORT_OK)
            return rc;
        uint32_t next = hp_le32(sk + 0x04), next_len;
        const unsigned char *nsk = sk_at(c, next, &next_len);
        if (nsk == NULL) {
            rc = ring_broken(c, cur, "The sk at 0x%llx links forward to 0x%llx, which is not an sk cell: the ring of "
                             "security cells is broken.", (unsigned long long)abs_of(cur), (unsigned long long)abs_of(next));
            break;
        }
        if (hp_le32(nsk + 0x08) != cur) {
            rc = hp_check_add(c, HP_ERROR, "sk-ring", NULL, abs_of(next),
                              "The sk at 0x%llx links back to 0x%llx, but the sk before it on the ring is at "
                              "0x%llx.",
                              (unsigned long long)abs_of(next), (unsigned long long)abs_of(hp_le32(nsk + 0x08)),
                              (unsigned long long)abs_of(cur));
            if (rc != HIVEPORT_OK)
                return rc;
        }
        if (next == start)
            break;
        if (hp_check_mark(c, next)) {
            rc = ring_broken(c, next, "The ring of security cells loops back to 0x%llx without returning to the root "
                             "key's sk at 0x%llx.", (unsigned long long)abs_of(next),
                             (unsigned long long)abs_of(start));
            break;
        }
        cur = next;
    }
    qsort(c->sk, c->nsk, sizeof *c->sk, by_offset);
    c->sk_keys = hp_calloc(c->nsk, sizeof *c->sk_keys);
    if (c->sk_keys == NULL)
        return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
    return rc;
}

int hp_check_key_sk(struct hp_check *c, uint32_t sk_rel, uint32_t nk_rel, const char *path)
{
    uint32_t *hit = c->nsk == 0 ? NULL : bsearch(&sk_rel, c->sk, c->nsk, sizeof *c->sk, by_offset);
    if (hit != NULL) {
        c->sk_keys[hit - c->sk]++;
        return HIVEPORT_OK;
    }
    uint32_t len;
    uint64_t off = abs_of(nk_rel);
    const unsigned char *sk = sk_at(c, sk_rel, &len);
    if (sk == NULL)
        return hp_check_add(c, HP_ERROR, "sk-ref", path, off,
                            "The key at 0x%llx names 0x%llx as its security cell: %s.", (unsigned long long)off,
                            (unsigned long long)abs_of(sk_rel),
                            hp_check_cell(c, sk_rel, &len) != NULL ? "a cell, but not an sk"
                                                                   : hp_check_why_not_cell(c, sk_rel));
    if (c->tiled != NULL) /* a partial check reads no ring: an sk that a key uses is counted */
        return hp_le32(sk + 0x0C) > 0 ? HIVEPORT_OK
                                       : hp_check_add(c, HP_ERROR, "sk-refcount", path, off,
                                                      "The key at 0x%llx uses the sk at 0x%llx, which counts no "
                                                      "references.",
                                                      (unsigned long long)off, (unsigned long long)abs_of(sk_rel));
    if (c->ring_broken && c->off_ring++ > 0) /* the break is reported; one example is enough */
        return HIVEPORT_OK;
    return hp_check_add(c, HP_ERROR, "sk-ring", path, off,
                        "The key at 0x%llx uses the sk at 0x%llx, which is not on the ring of security cells%s.",
                        (unsigned long long)off, (unsigned long long)abs_of(sk_rel),
                        c->ring_broken ? " (the ring is broken, so other keys may be off it too)" : "");
}

int hp_check_sk_counts(struct hp_check *c)
{
    int rc = HIVEPORT_OK;
    for (size_t i = 0; i < c->nsk && rc == HIVEPORT_OK && !c->ring_broken; i++) {
        uint32_t len;
        const unsigned char *sk = sk_at(c, c->sk[i], &len);
        uint32_t count = hp_le32(sk + 0x0C);
        /* Keys that could not be walked may use an sk too: then only a count below what was seen is sure. */
        if (c->tree_partial ? count < c->sk_keys[i] : count != c->sk_keys[i])
            rc = hp_check_add(c, HP_ERROR, "sk-refcount", NULL, abs_of(c->sk[i]) + 4 + 0x0C,
                              "The sk at 0x%llx counts %u references but %u key%s use%s it%s.",
                              (unsigned long long)abs_of(c->sk[i]), count, c->sk_keys[i],
                              c->sk_keys[i] == 1 ? "" : "s", c->sk_keys[i] == 1 ? "s" : "",
                              count < c->sk_keys[i] ? ": Windows would free it while keys still use it" : "");
    }
    return rc;
}
