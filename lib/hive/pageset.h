/* pageset.h: what a commit writes, as pages: the seam between the edits (in-place patches today, native
 * structural edits later) and the logged commit (commit_log.c).  Not for applications. */
#ifndef HIVEPORT_PAGESET_H
#define HIVEPORT_PAGESET_H

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
};
int hp_pages_collect(hiveport *h, uint64_t filetime, struct hp_page_set *ps); /* from the pending edits */
void hp_pages_free(struct hp_page_set *ps);

#endif
