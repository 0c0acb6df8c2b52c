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

static int check_patch(struct hp_check *c, const struct hp_patch *p)
{
    int rc = hp_check_tile_bin_of(c, p->key);
    if (rc == HIVEPORT_OK)
        rc = hp_check_tile_bin_of(c, p->vk);
    uint32_t len;
    const unsigned char *vk = hp_check_cell(c, (uint32_t)(p->vk - HP_REGF_HEADER_SIZE), &len);
    if (rc == HIVEPORT_OK && vk != NULL && len >= 0x14 && !(hp_le32(vk + 4) & 0x80000000u))
        rc = hp_check_tile_bin_of(c, HP_REGF_HEADER_SIZE + (uint64_t)hp_le32(vk + 8));
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
        return hp_error(h, HIVEPORT_E_IO, "%s: cannot stat %s: %s", hp_name(h), what, strerror(errno));
    if (st.st_size < HP_REGF_HEADER_SIZE)
        return hp_error(h, HIVEPORT_E_CORRUPT, "%s: refusing to commit: %s is shorter than a base block", hp_name(h),
                        what);
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_IO, "%s: cannot map %s: %s", hp_name(h),
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
                 ? hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h))
                 : hp_check_base(&c, &go_on);
    if (rc == HIVEPORT_OK && go_on) {
        size_t words = (size_t)((c.end - HP_REGF_HEADER_SIZE) / 8) / 64 + 1;
        c.units = (size_t)((c.end - HP_REGF_HEADER_SIZE) / 8);
        c.start = hp_calloc(words, sizeof *c.start);
        c.alloc = hp_calloc(words, sizeof *c.alloc);
        c.ref = hp_calloc(words, sizeof *c.ref);
        c.tiled = hp_calloc((size_t)((c.end - HP_REGF_HEADER_SIZE) / HP_REGF_HBIN_SIZE) / 64 + 1, sizeof *c.tiled);
        if (c.start == NULL || c.alloc == NULL || c.ref == NULL || c.tiled == NULL)
            rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h));
        for (size_t i = 0; rc == HIVEPORT_OK && i < h->npatches; i++)
            rc = check_patch(&c, &h->patches[i]);
    }
    if (rc == HIVEPORT_OK && hp_findings_finish(c.list, NULL, NULL) != HIVEPORT_OK)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory while checking", hp_name(h));
    rc = hp_check_refuse(h, c.list, rc);
    hiveport_findings_free(c.list);
    hp_free(c.start);
    hp_free(c.alloc);
    hp_free(c.ref);
    hp_free(c.tiled);
    return rc;
}
