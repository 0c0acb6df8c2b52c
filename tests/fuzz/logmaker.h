/* logmaker.h: valid transaction logs of a given hive, for the fuzz seeds and the fault tests.
 *
 * The logs pass every check of lib/txlog.c: the base-block copy carries the hive's root cell, GUIDs and
 * timestamp, the sequence numbers follow the hive's, the HvLE hashes are right. */
#ifndef HIVEPORT_LOGMAKER_H
#define HIVEPORT_LOGMAKER_H

#include <stddef.h>
#include <stdint.h>

/* Room a log of n pages needs. */
#define LM_LOG_SIZE(n) (512 + (size_t)(n) * (0x28 + 8 + 4096 + 512))

/* A change to one page of the hive-bins data: len bytes at hbins offset rel + off (within the page). */
struct lm_patch {
    uint32_t rel; /* the 4096-byte page's offset in the hive-bins data */
    uint32_t off; /* where in the page */
    const unsigned char *bytes;
    size_t len;
};

/* A new-format log of hive (its first 4096 + hive-bins bytes): entries first_seq, first_seq + 1, ...,
 * entry i carrying page patches[i].rel with patches[i] applied.  Returns the log's length in out. */
size_t lm_new_log(const unsigned char *hive, unsigned char *out, uint32_t first_seq, const struct lm_patch *patches,
                  size_t n);

/* An old-format (DIRT) log of hive: base sequence seq, the 512-byte pages that patches touch marked
 * dirty, each carrying the hive's bytes with the patches applied.  Returns the log's length. */
size_t lm_old_log(const unsigned char *hive, unsigned char *out, uint32_t seq, const struct lm_patch *patches,
                  size_t n);

/* The hbins offset of the first occurrence of needle in hive's hive-bins data, or UINT32_MAX. */
uint32_t lm_find(const unsigned char *hive, size_t hive_len, const void *needle, size_t len);

#endif
