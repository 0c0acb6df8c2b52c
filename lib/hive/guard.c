/* guard.c: checks before libhivex rewrites or deletes a key.  libhivex frees the cells of what it replaces
 * and asserts (aborting the process) when one is not an allocated cell, so damage must be found first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hive.h"
#include "le.h"

#define GUARD_MAX_DEPTH 512
#define REL_NIL 0xFFFFFFFFu

/* An allocated cell at absolute offset off of the loaded file.  Only records of the loaded file are checked
 * (libhivex never edits a record in place: what it writes is new, past the file, and sound), and what they
 * point at must be in the file too. */
static bool cell_ok(const struct hp_image *img, uint64_t off)
{
    if (off < HP_REGF_HEADER_SIZE || off % 8 != 0 || off + 8 > img->end)
        return false;
    int32_t size = (int32_t)hp_le32(img->data + off);
    return size < 0 && size != INT32_MIN && (uint32_t)-size >= 8 && off + (uint32_t)-size <= img->end;
}

static int damaged(hiveport *h, hive_node_h key, const char *what)
{
    return hp_error(h, HIVEPORT_E_CORRUPT, "%s: the key at offset 0x%zx has %s; refusing to rewrite it", h->path,
                    (size_t)key, what);
}

int hp_key_rewritable(hiveport *h, hive_node_h key)
{
    hive_value_h *values = hivex_node_values(h->hive, key);
    if (values == NULL)
        return damaged(h, key, "an unreadable value list");
    int rc = HIVEPORT_OK;
    size_t n = 0;
    while (values[n] != 0)
        n++;
    uint64_t *data = hp_calloc(n, sizeof *data);
    if (data == NULL)
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", h->path);
    for (size_t i = 0; rc == HIVEPORT_OK && i < n; i++) {
        for (size_t j = 0; j < i && rc == HIVEPORT_OK; j++)
            if (values[j] == values[i])
                rc = damaged(h, key, "a value listed twice");
        if (rc != HIVEPORT_OK)
            break;
        /* libhivex's own map of cell starts is exactly what it asserts on: a data offset into the middle of
         * a cell can look like a cell size to the checks below. */
        size_t data_len;
        errno = 0;
        if (hivex_value_data_cell_offset(h->hive, values[i], &data_len) == 0 && errno != 0) {
            rc = damaged(h, key, "value data that is not a cell");
            break;
        }
        uint32_t len;
        const unsigned char *vk = values[i] < h->img.end ? hp_cells_vk(&h->img, values[i], &len) : NULL;
        if (values[i] < h->img.end && vk == NULL) {
            rc = damaged(h, key, "a value record that is not a cell");
            break;
        }
        if (vk == NULL || (hp_le32(vk + 0x04) & 0x80000000u) || (hp_le32(vk + 0x04) & 0x7FFFFFFFu) == 0)
            continue; /* inline data, or made by libhivex: nothing to check */
        data[i] = (uint64_t)HP_REGF_HEADER_SIZE + hp_le32(vk + 0x08);
        if (!cell_ok(&h->img, data[i]))
            rc = damaged(h, key, "value data that is not a cell");
        for (size_t j = 0; j < i && rc == HIVEPORT_OK; j++)
            if (data[j] == data[i])
                rc = damaged(h, key, "two values sharing one data cell");
    }
    hp_free(data);
    free(values);
    return rc;
}

static int deletable(hiveport *h, hive_node_h key, unsigned depth)
{
    if (depth > GUARD_MAX_DEPTH)
        return damaged(h, key, "subkeys nested too deep");
    int rc = hp_key_rewritable(h, key);
    uint32_t len;
    const unsigned char *nk = key < h->img.end ? hp_cells_nk(&h->img, key, &len) : NULL;
    if (rc == HIVEPORT_OK && key < h->img.end && nk == NULL)
        rc = damaged(h, key, "a key record that is not a cell");
    if (rc == HIVEPORT_OK && nk != NULL && hp_le32(nk + 0x30) != REL_NIL &&
        !cell_ok(&h->img, (uint64_t)HP_REGF_HEADER_SIZE + hp_le32(nk + 0x30)))
        rc = damaged(h, key, "a class name that is not a cell");
    if (rc != HIVEPORT_OK)
        return rc;
    hive_node_h *children = hivex_node_children(h->hive, key);
    if (children == NULL)
        return damaged(h, key, "an unreadable subkey list");
    for (size_t i = 0; rc == HIVEPORT_OK && children[i] != 0; i++)
        rc = deletable(h, children[i], depth + 1);
    free(children);
    return rc;
}

int hp_subtree_deletable(hiveport *h, hive_node_h key)
{
    return deletable(h, key, 0);
}
