/* edit.c: the handle's editable copy of the hive, for native changes.
 *
 * The first native change of a session copies the hive bytes (header and bins) out of the read-only
 * mapping; from then on the handle's image points at the copy, so that every read (nav.c, cells.c) sees
 * the changes, and the commit writes the copy (commit.c) or its changed pages (pages.c).  In-place edits
 * still pending then become plain byte changes in the copy. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hive.h"

bool hp_edit_active(const hiveport *h)
{
    return h->edit != NULL;
}

void hp_edit_sync(hiveport *h)
{
    h->img.data = h->edit->data;
    h->img.end = h->edit->end;
    h->img.map_len = (size_t)h->edit->end;
}

/* Whether the file still lacks the patch (an earlier in-place commit wrote the others). */
static bool patch_pending(hiveport *h, const struct hp_patch *p)
{
    unsigned char now[sizeof p->data];
    return pread(hp_file_fd(h), now, p->len, (off_t)p->data_off) != (ssize_t)p->len ||
           memcmp(now, p->data, p->len) != 0;
}

int hp_edit_begin(hiveport *h)
{
    if (h->edit != NULL)
        return HIVEPORT_OK;
    struct hp_regf_edit *e = hp_calloc(1, sizeof *e);
    if (e == NULL || hp_regf_edit_init(e, h->img.data, h->img.end, hp_file_fd(h)) != 0) {
        hp_free(e);
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory for a copy of the hive", hp_name(h));
    }
    e->no_reuse = h->scratch;
    if (!e->no_reuse && hp_regf_edit_index_by_bin(e, h->bin_starts, h->bin_starts_end) != 0) {
        hp_regf_edit_free(e);
        hp_free(e);
        return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory for a copy of the hive", hp_name(h));
    }
    for (size_t i = 0; i < h->npatches; i++) {
        const struct hp_patch *p = &h->patches[i];
        if (p->data_off + p->len > e->end || p->size_off + 4 > e->end)
            continue;
        if (patch_pending(h, p) && hp_touch_key(h, p->key) != HIVEPORT_OK) {
            hp_regf_edit_free(e);
            hp_free(e);
            return HIVEPORT_E_NOMEM;
        }
        /* The mapping is the file as opened: committed patches are not in it either. */
        hp_regf_write(e, p->data_off, p->data, p->len);
        hp_regf_put32(e, p->size_off, p->size_field);
    }
    hp_inplace_clear(h);
    h->mapping = h->img.data;
    h->mapping_len = h->img.map_len;
    h->edit = e;
    hp_edit_sync(h);
    return HIVEPORT_OK;
}
