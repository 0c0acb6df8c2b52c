/* pages.c: the pending native changes as a page set (pageset.h).
 *
 * Collecting time-stamps the keys the session touched (in the edited copy, so the pages carry the stamps)
 * and builds the new base block: both sequence numbers one past the old primary (a completed write), the
 * commit's time, the hive-bins size of the edited copy, the checksum.  The pages point into the edited
 * copy: valid until the next change of the session. */
#include <string.h>

#include "hive.h"
#include "pageset.h"
#include "le.h"

#define PAGE 4096u

static void stamp_keys(hiveport *h, uint64_t filetime)
{
    struct hp_regf_edit *e = h->edit;
    unsigned char stamp[8];
    hp_put_le64(stamp, filetime);
    for (size_t i = 0; i < h->ntouched; i++) {
        uint64_t nk = h->touched[i];
        if (hp_regf_cell_len(e, nk) >= 0x4C && e->data[nk + 4] == 'n' && e->data[nk + 5] == 'k' &&
            memcmp(e->data + nk + 8, stamp, 8) != 0)
            hp_regf_write(e, nk + 8, stamp, 8);
    }
}

int hp_pages_collect(hiveport *h, uint64_t filetime, struct hp_page_set *ps)
{
    return hp_edit_active(h) ? hp_pages_collect_edits(h, filetime, ps) : hp_pages_collect_patches(h, filetime, ps);
}

int hp_pages_collect_edits(hiveport *h, uint64_t filetime, struct hp_page_set *ps)
{
    memset(ps, 0, sizeof *ps);
    ps->native = true;
    if (!hp_edit_active(h))
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: no native changes to collect", hp_name(h));
    struct hp_regf_edit *e = h->edit;
    stamp_keys(h, filetime);
    unsigned char *b = ps->base_block;
    memcpy(b, e->data, PAGE);
    uint32_t seq = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    hp_put_le32(b + 0x04, seq + 1);
    hp_put_le32(b + 0x08, seq + 1);
    hp_put_le32(b + 0x0C, (uint32_t)filetime);
    hp_put_le32(b + 0x10, (uint32_t)(filetime >> 32));
    hp_put_le32(b + 0x28, (uint32_t)(e->end - PAGE));
    hp_put_le32(b + 0x1FC, hp_regf_checksum(b));
    /* Bytes past the hive bins (slack some real hives carry) stay: the file keeps at least its length. */
    ps->new_len = e->end > h->mapping_len ? e->end : h->mapping_len;
    size_t pages = (size_t)(e->end / PAGE), n = 0;
    for (size_t p = 1; p < pages; p++)
        n += hp_regf_edit_page_dirty(e, p);
    if (n > 0) {
        ps->offsets = hp_calloc(n, sizeof *ps->offsets);
        ps->pages = hp_calloc(n, sizeof *ps->pages);
        if (ps->offsets == NULL || ps->pages == NULL) {
            hp_pages_free(ps);
            return hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        }
    }
    for (size_t p = 1; p < pages; p++) {
        if (!hp_regf_edit_page_dirty(e, p))
            continue;
        ps->offsets[ps->n] = (uint64_t)p * PAGE;
        ps->pages[ps->n++] = e->data + (uint64_t)p * PAGE;
    }
    return HIVEPORT_OK;
}

void hp_pages_free(struct hp_page_set *ps)
{
    if (ps == NULL)
        return;
    hp_free(ps->owned);
    hp_free(ps->offsets);
    hp_free((void *)ps->pages);
    ps->owned = NULL;
    ps->offsets = NULL;
    ps->pages = NULL;
    ps->n = 0;
}
