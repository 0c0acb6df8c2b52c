/* inplace.c: value edits that fit where the old data lies, kept as an overlay and written as byte patches.
 *
 * A port change that fits in the value's existing storage is recorded here and written by patching those
 * bytes (commit.c: in a copy of the file, or through the log in place), without touching any cell's
 * layout.  Reads consult the overlay first.  The first native change (edit.c: a new key or value, a
 * removal, a type change) moves the overlay into the session's edited copy of the hive.
 *
 *   vk cell at V:  V+0x00 size (negative: allocated)   V+0x04 "vk"   V+0x06 name length
 *                  V+0x08 data size (bit 31: inline)   V+0x0C data (inline) or data cell offset (rel)
 *                  V+0x10 type
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hive.h"
#include "le.h"

#define HP_BIG_DATA_LIMIT 16344 /* larger data lives in "db" segments: never patched in place */

static int read_exact(int fd, void *buf, size_t len, uint64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

struct hp_patch *hp_inplace_find(hiveport *h, hive_value_h vk)
{
    for (size_t i = 0; i < h->npatches; i++)
        if (h->patches[i].vk == vk)
            return &h->patches[i];
    return NULL;
}

/* Works out where new data of len bytes would go in the value's current storage, from the file bytes (the
 * session's view but for the overlay: no native change was made yet).  Returns 0 and fills the patch's
 * offsets, or -1 when the data does not fit in place. */
static int plan_patch(hiveport *h, hive_value_h vk, uint32_t type, size_t len, struct hp_patch *p)
{
    unsigned char cell[0x14];
    struct stat st;
    int fd = hp_file_fd(h);
    if (fstat(fd, &st) != 0 || vk < HP_REGF_HEADER_SIZE || (uint64_t)vk + sizeof cell > (uint64_t)st.st_size ||
        read_exact(fd, cell, sizeof cell, vk) != 0)
        return -1;
    int32_t cell_size = (int32_t)hp_le32(cell);
    if (cell_size >= 0 || (uint32_t)-cell_size < 0x18 || memcmp(cell + 4, "vk", 2) != 0 || hp_le32(cell + 0x10) != type)
        return -1;
    uint32_t size_field = hp_le32(cell + 0x08);
    bool is_inline = (size_field & 0x80000000u) != 0;
    p->vk = vk;
    p->size_off = vk + 0x08;
    if (is_inline) {
        if (len > 4)
            return -1;
        p->data_off = vk + 0x0C;
        p->size_field = 0x80000000u | (uint32_t)len;
        return 0;
    }
    uint32_t real = size_field & 0x7FFFFFFFu;
    if (real > HP_BIG_DATA_LIMIT || len > HP_BIG_DATA_LIMIT)
        return -1;
    uint64_t data_cell = (uint64_t)HP_REGF_HEADER_SIZE + hp_le32(cell + 0x0C);
    unsigned char hdr[4];
    if (data_cell + 4 > (uint64_t)st.st_size || read_exact(fd, hdr, 4, data_cell) != 0)
        return -1;
    int32_t data_size = (int32_t)hp_le32(hdr);
    if (data_size >= 0 || (uint64_t)(uint32_t)-data_size - 4 < len ||
        data_cell + (uint32_t)-data_size > (uint64_t)st.st_size)
        return -1;
    p->data_off = data_cell + 4;
    p->size_field = (uint32_t)len;
    return 0;
}

int hp_inplace_set(hiveport *h, hive_node_h key, hive_value_h vk, uint32_t type, const void *data, size_t len,
                   bool *done)
{
    *done = false;
    if (h->edit != NULL || h->lock_fd < 0 || len > sizeof h->patches[0].data)
        return HIVEPORT_OK;
    struct hp_patch planned = {0};
    if (plan_patch(h, vk, type, len, &planned) != 0)
        return HIVEPORT_OK;
    struct hp_patch *p = hp_inplace_find(h, vk);
    if (p == NULL) {
        struct hp_patch *patches = hp_grow(h->patches, h->npatches, &h->cappatches, sizeof *patches, 8);
        if (patches == NULL)
            return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        h->patches = patches;
        p = &h->patches[h->npatches++];
    }
    *p = planned;
    p->key = key;
    p->type = type;
    p->len = (uint32_t)len;
    memcpy(p->data, data, len);
    *done = true;
    return HIVEPORT_OK;
}
