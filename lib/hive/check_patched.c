/* check_patched.c: the verification of an in-place commit.  Such a commit rewrites value data of the same
 * size and storage, key times and the base block, never a cell's layout: so what it checks is the base
 * block, and each patched value (record, data cell) and its key, with the hive bins holding them tiled
 * again.  A whole-hive check here would cost as much as the write itself (tests/bench: restamp). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hive.h"
#include "hivecheck.h"

#define BIN_SEARCH_PAGES 4096 /* how far back (in 4 KiB pages) a bin header is looked for: 16 MiB */

/* Tiles the hive bin holding file offset off, once; false when no valid bin holds it. */
static int tile_bin_of(struct hp_check *c, uint64_t off, uint64_t *done, size_t ndone, bool *ok)
{
    *ok = false;
    if (off < HP_REGF_HEADER_SIZE || off >= c->end)
        return HIVEPORT_OK;
    uint64_t page = off - (off - HP_REGF_HEADER_SIZE) % HP_REGF_HBIN_SIZE;
    for (size_t n = 0; n < BIN_SEARCH_PAGES && page >= HP_REGF_HEADER_SIZE; n++, page -= HP_REGF_HBIN_SIZE) {
        const unsigned char *b = c->data + page;
        uint32_t size = hp_le32(b + 8);
        if (memcmp(b, "hbin", 4) != 0 || hp_le32(b + 4) != page - HP_REGF_HEADER_SIZE)
            continue;
        if (size < HP_REGF_HBIN_SIZE || size % HP_REGF_HBIN_SIZE != 0 || page + size > c->end || off >= page + size)
            break;
        *ok = true;
        for (size_t i = 0; i < ndone; i++)
            if (done[i] == page)
                return HIVEPORT_OK;
        return hp_check_tile(c, page, size);
    }
    return hp_check_add(c, HP_ERROR, "bin-signature", NULL, off,
                        "No valid hive bin holds offset 0x%llx.", (unsigned long long)off);
}

static int check_patch(struct hp_check *c, const struct hp_patch *p)
{
    uint64_t bins[3];
    size_t nbins = 0;
    bool ok;
    int rc = HIVEPORT_OK;
    uint64_t wanted[2] = {p->key, p->vk};
    for (size_t i = 0; i < 2 && rc == HIVEPORT_OK; i++)
        if ((rc = tile_bin_of(c, wanted[i], bins, nbins, &ok)) == HIVEPORT_OK && ok)
            bins[nbins++] = wanted[i] - (wanted[i] - HP_REGF_HEADER_SIZE) % HP_REGF_HBIN_SIZE;
    uint32_t len;
    const unsigned char *vk = hp_check_cell(c, (uint32_t)(p->vk - HP_REGF_HEADER_SIZE), &len);
    if (rc == HIVEPORT_OK && vk != NULL && len >= 0x14 && !(hp_le32(vk + 4) & 0x80000000u))
        rc = tile_bin_of(c, HP_REGF_HEADER_SIZE + (uint64_t)hp_le32(vk + 8), bins, nbins, &ok);
    const unsigned char *nk = hp_check_cell(c, (uint32_t)(p->key - HP_REGF_HEADER_SIZE), &len);
    if (rc == HIVEPORT_OK && (nk == NULL || len < 0x4C || nk[0] != 'n' || nk[1] != 'k'))
        rc = hp_check_add(c, HP_ERROR, "nk-signature", NULL, p->key,
                          "The key at 0x%llx whose value was written is not a key record.",
                          (unsigned long long)p->key);
    if (rc == HIVEPORT_OK)
        rc = hp_check_value(c, (uint32_t)(p->vk - HP_REGF_HEADER_SIZE), NULL);
    return rc;
}

int hp_check_patched(hiveport *h, int fd, const char *what)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat %s: %s", h->path, what, strerror(errno));
    if (st.st_size < HP_REGF_HEADER_SIZE)
        return hp_error(h, HIVEPORT_E_CORRUPT, "%s: refusing to commit: %s is shorter than a base block", h->path,
                        what);
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO, "%s: cannot map %s: %s", h->path,
                        what, strerror(errno));
    int rc = hp_check_patched_image(h, map, (uint64_t)st.st_size);
    munmap(map, (size_t)st.st_size);
    return rc;
}

int hp_check_patched_image(hiveport *h, const unsigned char *data, uint64_t size)
{
    struct hp_check c;
    memset(&c, 0, sizeof c);
    c.h = h;
    c.data = data;
    c.size = size;
    bool go_on = false;
    int rc = (c.list = hp_calloc(1, sizeof *c.list)) == NULL
                 ? hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", h->path)
                 : hp_check_base(&c, &go_on);
    if (rc == HIVEPORT_OK && go_on) {
        size_t words = (size_t)((c.end - HP_REGF_HEADER_SIZE) / 8) / 64 + 1;
        c.units = (size_t)((c.end - HP_REGF_HEADER_SIZE) / 8);
        c.start = hp_calloc(words, sizeof *c.start);
        c.alloc = hp_calloc(words, sizeof *c.alloc);
        c.ref = hp_calloc(words, sizeof *c.ref);
        if (c.start == NULL || c.alloc == NULL || c.ref == NULL)
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", h->path);
        for (size_t i = 0; rc == HIVEPORT_OK && i < h->npatches; i++)
            rc = check_patch(&c, &h->patches[i]);
    }
    if (rc == HIVEPORT_OK && hp_findings_finish(c.list, NULL, NULL) != HIVEPORT_OK)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", h->path);
    rc = hp_check_refuse(h, c.list, rc);
    hiveport_findings_free(c.list);
    hp_free(c.start);
    hp_free(c.alloc);
    hp_free(c.ref);
    return rc;
}
