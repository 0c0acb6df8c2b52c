/* regf.h: the regf file format read straight from its bytes: the base block and bounded cell reads.
 * Not for applications.  Uses only the base (base.h). */
#ifndef HIVEPORT_REGF_H
#define HIVEPORT_REGF_H

#include "base.h"

#define HP_REGF_HEADER_SIZE 4096  /* base block */
#define HP_REGF_HBIN_SIZE 4096

/* The mapped hive file (cells.c reads it): data[0, end) is the header plus the hive bins. */
struct hp_image {
    const unsigned char *data;
    uint64_t end;     /* 0x1000 + hive-bins size */
    size_t map_len;   /* length of the mapping */
};

/* ---- regf.c: the base block (header), read straight from the bytes ---- */
struct hp_regf_header {
    uint32_t seq_primary;
    uint32_t seq_secondary;
    uint32_t major, minor;
    uint32_t file_type;
    uint32_t hbins_size;
    uint32_t checksum_stored;
    uint32_t checksum_computed;
};
uint32_t hp_regf_checksum(const unsigned char *base_block);
/* Checks the chain of hive bins of the file open on fd: each "hbin" where the previous one ends, its
 * offset field right, its size a multiple of 4096 inside the hive-bins area. */
int hp_regf_check_bins(int fd, uint64_t file_size, uint32_t hbins_size, char *why, size_t why_len);
/* Parses and validates a base block of file_size-byte file. Returns 0 or a status, with a reason in why. */
int hp_regf_parse_header(const unsigned char *buf, size_t buf_len, uint64_t file_size,
                         struct hp_regf_header *out, char *why, size_t why_len);

/* ---- cells.c: bounded reads of the mapped file; offsets are absolute; -1/NULL on damage ---- */
const unsigned char *hp_cells_nk(const struct hp_image *img, uint64_t off, uint32_t *len);
const unsigned char *hp_cells_vk(const struct hp_image *img, uint64_t off, uint32_t *len);
uint64_t hp_cells_root(const struct hp_image *img);
char *hp_cells_key_name(const struct hp_image *img, uint64_t nk_off);
char *hp_cells_value_name(const struct hp_image *img, uint64_t vk_off);
int hp_cells_walk_subkeys(const struct hp_image *img, uint64_t nk_off, int (*visit)(uint64_t, void *), void *ctx);
int hp_cells_child(const struct hp_image *img, uint64_t nk_off, const char *name, uint64_t *child);
int hp_cells_values(const struct hp_image *img, uint64_t nk_off, const unsigned char **list, uint32_t *count);
uint64_t hp_cells_value_at(const unsigned char *list, uint32_t i);
int hp_cells_value(const struct hp_image *img, uint64_t nk_off, const char *name, uint64_t *vk_off);
int hp_cells_value_type(const struct hp_image *img, uint64_t vk_off, uint32_t *type, size_t *len);
char *hp_cells_value_data(const struct hp_image *img, uint64_t vk_off, uint32_t *type, size_t *len);
uint64_t hp_cells_key_time(const struct hp_image *img, uint64_t nk_off); /* FILETIME, 0 if unreadable */
uint64_t hp_cells_key_parent(const struct hp_image *img, uint64_t nk_off); /* the nk's parent field, absolute */

#endif
