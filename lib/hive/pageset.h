/* pageset.h: a commit as pages: the seam between the edits (in-place patches, native structural edits) and
 * the writers (the copy writes the whole edited hive; the logged commit, commit_log.c, writes these pages to
 * .LOG1/.LOG2 first, then in place).  Not for applications. */
#ifndef HIVEPORT_PAGESET_H
#define HIVEPORT_PAGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive.h"

/* A commit's pages: the new base block and every changed 4 KiB page of the hive bins area. */
struct hp_page_set {
    unsigned char base_block[4096]; /* the new base block (sequence numbers, time stamp, length, checksum set) */
    size_t n;                       /* pages below */
    uint64_t *offsets;              /* file offsets, ascending, multiples of 4096, >= 4096 */
    const unsigned char **pages;    /* each 4096 bytes: the page's new contents */
    uint64_t new_len;               /* the file's length after the commit (grows when a bin was appended) */
    bool native;                    /* from native edits: the whole new hive is checked before the write */
    unsigned char *owned;           /* the block holding the pages when the set owns them (NULL: they point
                                     * into the handle's edited copy) */
};
/* The page set of the pending edits: the native ones (pages.c) when the session has an edited copy, else
 * the in-place patches (commit_log.c).  n = 0 when nothing changes. */
int hp_pages_collect(hiveport *h, uint64_t filetime, struct hp_page_set *ps);
int hp_pages_collect_patches(hiveport *h, uint64_t filetime, struct hp_page_set *ps); /* commit_log.c */
int hp_pages_collect_edits(hiveport *h, uint64_t filetime, struct hp_page_set *ps);   /* pages.c */
void hp_pages_free(struct hp_page_set *ps); /* either kind; a zeroed or freed set too */

#endif
