/* hvlelog.h: a new-format transaction log that holds the change between two versions of a hive, built by
 * hand from the format (not by the library under test).  Shared by fixtures/mkfixture.c (the logged
 * fixtures) and the Check suites; it needs only lib/regf/marvin32.c. */
#ifndef HIVEPORT_HVLELOG_H
#define HIVEPORT_HVLELOG_H

#include <stddef.h>
#include <stdint.h>

/* The log (type 6) of one HvLE entry with every 4 KiB page of the hive bins of after (after_len bytes) that
 * differs from before (before_len bytes) or lies past its end.  Its base block is base's first 512 bytes
 * with both sequence numbers seq, file type 6 and the checksum made again; the entry carries sequence number
 * seq and base's hive-bins size.  Returns the log (caller frees) and its length in *log_len; NULL when no
 * page differs or memory runs out. */
unsigned char *tu_hvle_log(const unsigned char *base, const unsigned char *before, size_t before_len,
                           const unsigned char *after, size_t after_len, uint32_t seq, size_t *log_len);

#endif
