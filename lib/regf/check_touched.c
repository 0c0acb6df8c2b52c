/* check_touched.c: the check before a logged commit of native edits.  Such edits change cells anywhere,
 * but only in the pages they mark and through the keys they touch: so the check covers the base block,
 * every hive bin holding a changed page (its cells must still tile it), and each touched key (record,
 * values, security cell, subkey list with its order and hashes, longest-name fields), tiling the other
 * bins those keys lead to as it reaches them (a bin by the nearest header behind a page, or by the chain
 * when that header's cells do not tile: check_map.c).  A leaf of a large subkey list that the change did not write
 * is counted, not read key by key, and its order checked against the neighbours the change gave it
 * (check_keys.c: a new service under a Services key of 52,073 read every one of them).  The whole-hive check would cost more than the commit
 * (tests/bench: stamp); it remains for hiveport_check() and the copy commit. */
#include <string.h>

#include "hivecheck.h"

static bool is_key(struct hp_check *c, uint64_t off)
{
    uint32_t len;
    const unsigned char *nk = hp_check_cell(c, (uint32_t)(off - HP_REGF_HEADER_SIZE), &len);
    return nk != NULL && len >= 0x4C && nk[0] == 'n' && nk[1] == 'k';
}

/* A touched key that is no longer one: deleted after it was touched, its cell free or reused.  Only a
 * cell in a changed page can have stopped being a key. */
static bool deleted(const uint64_t *pages, size_t npages, uint64_t off)
{
    uint64_t page = off - off % 4096;
    for (size_t i = 0; i < npages; i++)
        if (pages[i] == page)
            return true;
    return false;
}

static int check_parts(struct hp_check *c, const uint64_t *pages, size_t npages, const uint64_t *keys, size_t nkeys)
{
    bool go_on;
    c->changed = pages;
    c->nchanged = npages;
    int rc = hp_check_start(c, &go_on);
    if (rc != HIVEPORT_OK || !go_on)
        return rc;
    c->tiled = hp_calloc((size_t)((c->end - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE) / 64 + 1, sizeof *c->tiled);
    if (c->tiled == NULL)
        return hp_error(c->h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(c->h));
    for (size_t i = 0; i < npages && rc == HIVEPORT_OK; i++)
        rc = hp_check_tile_bin_of(c, pages[i]);
    for (size_t i = 0; i < nkeys && rc == HIVEPORT_OK; i++) {
        if (keys[i] < HP_REGF_HEADER_SIZE || keys[i] >= c->end || (!is_key(c, keys[i]) && deleted(pages, npages, keys[i])))
            continue;
        rc = hp_check_key(c, (uint32_t)(keys[i] - HP_REGF_HEADER_SIZE));
    }
    return rc != HIVEPORT_OK ? rc : c->tile_rc;
}

int hp_check_touched(hiveport *h, const unsigned char *data, uint64_t size, const unsigned char *before,
                     uint64_t before_size, const uint64_t *pages, size_t npages, const uint64_t *keys, size_t nkeys,
                     hiveport_findings **out)
{
    struct hp_check c;
    memset(&c, 0, sizeof c);
    c.h = h;
    c.data = data;
    c.size = size;
    c.before = before;
    c.before_size = before_size;
    c.list = hp_calloc(1, sizeof *c.list);
    int rc = c.list == NULL ? hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h))
                              : check_parts(&c, pages, npages, keys, nkeys);
    if (rc == HIVEPORT_OK && hp_findings_finish(c.list, NULL, NULL) != HIVEPORT_OK)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h));
    hp_check_free(&c);
    if (rc != HIVEPORT_OK) {
        hiveport_findings_free(c.list);
        return rc;
    }
    *out = c.list;
    return HIVEPORT_OK;
}
