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

/* ---- edit.c, cellalloc.c, subkeys.c, valuecells.c: an editable copy of the hive ----
 * data[0, end) is the base block and the hive bins; every change marks the 4 KiB pages of the file it
 * touched (page 0 = the base block) in dirty.  Offsets are absolute file offsets, as everywhere. */
struct hp_regf_free_cell {
    uint64_t off;  /* the free cell's size field */
    uint32_t size; /* bytes, size field included */
};
struct hp_regf_bin {
    uint64_t off;
    uint32_t size;
};
/* The hive bins an edit has indexed and their free cells, ascending by offset (cellalloc.c). */
struct hp_regf_cells {
    struct hp_regf_bin *bins;
    size_t nbins, capbins;
    struct hp_regf_free_cell *free;
    size_t nfree, capfree;
};
void hp_regf_cells_free(struct hp_regf_cells *cells); /* edit.c */
/* Checks the chain of hive bins of the file mapped at map (file_size bytes; cellalloc.c): each "hbin" where
 * the previous one ends, its offset field right, its size a multiple of 4096 inside the hive-bins area.
 * Reads only each bin's header: the cells are indexed by the allocations that need them, so that an open
 * that allocates nothing (a read, a restamp) costs what the chain costs, not what the hive does.  starts
 * (or NULL) gets where the bins start, one bit per 4 KiB page of the hive bins (hp_regf_bin_starts_words
 * words, hp_malloc'd), when the chain is whole; else NULL. */
int hp_regf_check_bins(const void *map, uint64_t file_size, uint32_t hbins_size, uint64_t **starts, char *why,
                       size_t why_len);
size_t hp_regf_bin_starts_words(uint64_t hbins_size);
/* What a writer that does not walk the chain checks at open (handle.c): the file holds the hive bins its
 * header counts, and the first bin is one. */
int hp_regf_check_extent(const void *map, uint64_t file_size, uint32_t hbins_size, char *why, size_t why_len);
struct hp_regf_edit {
    unsigned char *data;
    uint64_t end;          /* 0x1000 + hive-bins size */
    size_t cap;            /* bytes allocated (or reserved) at data */
    bool mapped;           /* data is a private mapping of the file (edit.c), not an allocation */
    int fd;                /* that file while it holds data's unchanged pages (a dup), else -1 */
    uint32_t minor;        /* format minor version: the list kinds and big data it allows */
    uint64_t *dirty;       /* bit i: page i (file offset 4096 i) changed since the last commit */
    size_t dirty_words;
    struct hp_regf_cells cells; /* the bins indexed so far and their free cells (cellalloc.c) */
    uint64_t *bin_starts;  /* where the file's bins start (hp_regf_check_bins), one bit per page */
    uint64_t *bins_known;  /* the pages whose bit in bin_starts is known: every page after the open's walk, else
                            * the bins that allocations needed and the chain's walks found (cellalloc.c) */
    uint64_t file_end;     /* the end of the file's bins: bins from there on were appended, and are indexed */
    uint64_t *bins_indexed; /* one bit per page of the file's bins: the bin starting there is indexed; NULL
                             * for a scratch edit, which indexes only the bins it appends */
    bool no_reuse;         /* a scratch edit, never written: new cells come from bins it appends, a freed cell
                            * is only marked free; the file's free cells are not indexed (no walk of the bins) */
    bool oom;              /* a failure was for memory, not damage (cleared by the caller that reports it) */
};
#define HP_REGF_NIL 0xFFFFFFFFu
/* Starts an edit from a copy of the hive bytes data[0, end): a copy-on-write mapping of fd when fd holds
 * them from offset 0 (else -1: an allocated copy).  -1 when out of memory. */
int hp_regf_edit_init(struct hp_regf_edit *e, const unsigned char *data, uint64_t end, int fd);
void hp_regf_edit_free(struct hp_regf_edit *e);
/* Makes the edit index the bins its allocations need (cellalloc.c), finding them through a copy of where
 * the file's bins start (hp_regf_check_bins), or with starts NULL through one walk of the chain when an
 * allocation first needs a bin; starts_end is the end of the bins they describe (starts of another image
 * are not used).  Every edit but a scratch one calls it first.  -1 when out of memory. */
int hp_regf_edit_index_by_bin(struct hp_regf_edit *e, const uint64_t *starts, uint64_t starts_end);
/* Makes room for the hive to grow to end bytes (data and page map); -1 when out of memory.  Moves data. */
int hp_regf_edit_reserve(struct hp_regf_edit *e, uint64_t end);
void hp_regf_edit_mark(struct hp_regf_edit *e, uint64_t off, uint64_t len); /* pages changed */
/* After a commit: no page is changed any more.  in_place: the commit wrote the file the edit was made
 * from (a logged commit), which therefore still holds the copy's unchanged pages; else (a copy commit
 * renamed a new file over it) the edit stops reading that file. */
void hp_regf_edit_clean(struct hp_regf_edit *e, bool in_place);
bool hp_regf_edit_page_dirty(const struct hp_regf_edit *e, uint64_t page);
uint32_t hp_regf_get32(const struct hp_regf_edit *e, uint64_t off);
void hp_regf_put32(struct hp_regf_edit *e, uint64_t off, uint32_t v);  /* marks the page */
void hp_regf_put16(struct hp_regf_edit *e, uint64_t off, uint16_t v);
void hp_regf_write(struct hp_regf_edit *e, uint64_t off, const void *src, size_t len);
/* A stored name at off: n UTF-16 units, as Latin-1 bytes when latin1 (every unit below 0x100), else UTF-16LE. */
void hp_regf_put_name(struct hp_regf_edit *e, uint64_t off, const uint16_t *units, size_t n, bool latin1);
/* The record length (cell size minus 4) of the allocated cell at off, 0 when off is not one. */
uint32_t hp_regf_cell_len(const struct hp_regf_edit *e, uint64_t off);
uint64_t hp_regf_abs(uint32_t rel);  /* 0 for nil */
uint32_t hp_regf_rel(uint64_t off);

/* cellalloc.c: cells as Windows allocates them: the smallest free cell that fits, split when the rest
 * can be a cell; a new hive bin at the end only when none fits; freed cells merged with free neighbours.
 * Record lengths exclude the 4-byte size field.  0 when out of memory or the hive bins are damaged. */
uint64_t hp_regf_cell_alloc(struct hp_regf_edit *e, uint32_t record_len);
int hp_regf_cell_free(struct hp_regf_edit *e, uint64_t off);
/* The cell at off holding at least record_len bytes: off itself when it is large enough, else a new cell
 * with the old record copied and the old cell freed.  0 when out of memory. */
uint64_t hp_regf_cell_realloc(struct hp_regf_edit *e, uint64_t off, uint32_t record_len);
/* Whether a cell of record_len bytes can be had without adding a bin: in a free cell or, off not 0, where
 * the cell at off and its free neighbours are (as hp_regf_cell_realloc of off would take it). */
bool hp_regf_cell_fits(struct hp_regf_edit *e, uint64_t off, uint32_t record_len);

/* subkeys.c: subkey lists (lf/lh/li leaves, ri roots).  Names compare as Windows compares them. */
/* Enters the key child in the list of parent at its sorted place (the list kind the version calls for);
 * updates the parent's list offset and subkey count, not its other fields.  -1 on damage or no memory. */
int hp_regf_subkey_insert(struct hp_regf_edit *e, uint64_t parent, uint64_t child);
/* 1 when parent's list holds a key named units (every name compared, whatever the hashes say), 0 when
 * not, -1 on damage or no memory. */
int hp_regf_subkey_has(struct hp_regf_edit *e, uint64_t parent, const uint16_t *units, size_t n);
/* Takes child out of parent's list (freeing cells that become empty). */
int hp_regf_subkey_remove(struct hp_regf_edit *e, uint64_t parent, uint64_t child);
/* The lh hash of a name in UTF-16 units. */
uint32_t hp_regf_lh_hash(const uint16_t *units, size_t n);
/* A name given in UTF-8 as UTF-16 units (out: room for strlen(utf8) units); -1 when not valid UTF-8. */
int hp_regf_utf16_of(const char *utf8, uint16_t *out, size_t *n);

/* valuecells.c: where a value's data lives: inline (<= 4 bytes), one cell, or big data ("db") in 1.4+. */
/* Stores data, returning the vk's data-size and data fields.  -1 when out of memory. */
int hp_regf_data_store(struct hp_regf_edit *e, const void *data, size_t len, uint32_t *size_field,
                       uint32_t *data_field);
/* Frees the cells behind a vk's data fields (nothing for inline data). */
int hp_regf_data_release(struct hp_regf_edit *e, uint32_t size_field, uint32_t data_field);

#endif
