/* pageset.h: a commit as pages: what a native session changed, for a writer that writes pages (the copy
 * commit writes the whole edited hive; a logged commit writes these pages to .LOG1/.LOG2 first).  Not for
 * applications. */
#ifndef HIVEPORT_PAGESET_H
#define HIVEPORT_PAGESET_H

#include <stddef.h>
#include <stdint.h>

#include "hiveport.h"

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
