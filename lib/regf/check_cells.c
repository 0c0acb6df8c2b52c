/* check_cells.c: the hive bins (signature, offset field, size, a chain that covers the hive-bins size
 * exactly) and the cells inside each (sizes multiples of 8 that tile the bin with no gap or overlap and
 * never cross its end), recorded in the cell map; and, once everything reachable was marked, the allocated
 * cells nothing references. */
#include "hivecheck.h"

int hp_check_bins(struct hp_check *c)
{
    int rc = HIVEPORT_OK;
    c->bins_ok = true;
    uint64_t bad_from = 0; /* start of a run of 4 KiB pages that hold no hive bin */
    bool bad_told = false;  /* that run began with a bin of a bad size, already reported */
    for (uint64_t off = HP_REGF_HEADER_SIZE; off < c->end && rc == HIVEPORT_OK;) {
        const unsigned char *bin = c->data + off;
        bool sig = bin[0] == 'h' && bin[1] == 'b' && bin[2] == 'i' && bin[3] == 'n';
        uint32_t rel = hp_le32(bin + 4), size = hp_le32(bin + 8);
        bool size_ok = size >= HP_REGF_HBIN_SIZE && size % HP_REGF_HBIN_SIZE == 0 && off + size <= c->end;
        /* While resynchronising, a bin header must also name its own offset: a stale one inside a larger
         * bin's data would not. */
        if (!sig || !size_ok || (bad_from != 0 && rel != off - HP_REGF_HEADER_SIZE)) {
            /* Resynchronise on the next 4 KiB page (bins start on one): a zeroed bin costs its own cells only. */
            if (bad_from == 0) {
                bad_from = off;
                bad_told = sig;
            }
            if (sig && bad_from == off && rc == HIVEPORT_OK)
                rc = hp_check_add(c, HP_ERROR, "bin-size", NULL, off,
                                  "The hive bin at 0x%llx has size 0x%x: not a positive multiple of 4096 that ends "
                                  "within the hive bins (at 0x%llx).",
                                  (unsigned long long)off, size, (unsigned long long)c->end);
            c->bins_ok = false;
            off += HP_REGF_HBIN_SIZE;
            continue;
        }
        if (bad_from != 0 && !bad_told)
            rc = hp_check_add(c, HP_ERROR, "bin-signature", NULL, bad_from,
                              "No valid hive bin from 0x%llx to 0x%llx (the \"hbin\" chain is broken there; "
                              "the cells in between are lost).",
                              (unsigned long long)bad_from, (unsigned long long)off);
        bad_from = 0;
        if (rc == HIVEPORT_OK && rel != off - HP_REGF_HEADER_SIZE)
            rc = hp_check_add(c, HP_ERROR, "bin-offset", NULL, off + 4,
                              "The hive bin at 0x%llx says it is at 0x%x; it is at 0x%llx (offsets count from "
                              "0x1000).",
                              (unsigned long long)off, rel, (unsigned long long)(off - HP_REGF_HEADER_SIZE));
        if (rc == HIVEPORT_OK)
            rc = hp_check_tile(c, off, size);
        hp_check_read(c, size);
        off += size;
    }
    if (rc == HIVEPORT_OK && bad_from != 0 && !bad_told)
        rc = hp_check_add(c, HP_ERROR, "bin-signature", NULL, bad_from,
                          "No valid hive bin from 0x%llx to the end of the hive bins at 0x%llx (the header's "
                          "hive-bins size is not covered by a chain of bins).",
                          (unsigned long long)bad_from, (unsigned long long)c->end);
    return rc;
}

int hp_check_leaks(struct hp_check *c)
{
    /* Only meaningful when every reference could be followed: a damaged structure leaves its cells unmarked. */
    size_t count = 0;
    uint64_t bytes = 0, first = 0;
    for (size_t w = 0; w * 64 < c->units; w++) {
        uint64_t leaked = c->start[w] & c->alloc[w] & ~c->ref[w];
        while (leaked != 0) {
            size_t u = w * 64 + (size_t)__builtin_ctzll(leaked);
            leaked &= leaked - 1;
            uint64_t off = (uint64_t)HP_REGF_HEADER_SIZE + (uint64_t)u * 8;
            if (count++ == 0)
                first = off;
            bytes += (uint32_t)0 - hp_le32(c->data + off);
        }
    }
    if (count == 0)
        return HIVEPORT_OK;
    return hp_check_add(c, HP_INFO, "cell-leak", NULL, first,
                        "%zu allocated cell%s (%llu bytes) %s referenced by nothing reachable from the root "
                        "key or the security ring (the first at 0x%llx): space Windows never reuses%s.",
                        count, count == 1 ? "" : "s", (unsigned long long)bytes, count == 1 ? "is" : "are",
                        (unsigned long long)first,
                        c->bins_ok ? "" : "; some may be cells of structures the errors above made unreadable");
}
