/* valuecells.c: the cells behind a value's data.
 *
 * Up to 4 bytes live in the vk itself (data size with bit 31 set, the bytes in the data-offset field);
 * more in one data cell; more than 16344 bytes, from format 1.4 on, in big data: a "db" record pointing at
 * a list of segments of 16344 bytes each (the last one shorter), which is how Windows stores them and what
 * it expects to read (a single cell of that size is damage to Windows; libhivex writes one all the same).
 *
 *   vk (record at V+4): +0x04 data size (bit 31: inline)  +0x08 data (inline) or data cell (rel)
 *   db: "db"  u16 segments  u32 segment list (rel);  segment list: u32 segment cells (rel) */
#include <string.h>

#include "regf.h"

#define INLINE_MAX 4u
#define SEGMENT 16344u

static bool uses_big_data(const struct hp_regf_edit *e, uint64_t len)
{
    return len > SEGMENT && e->minor >= 4;
}

static int store_big(struct hp_regf_edit *e, const unsigned char *data, size_t len, uint32_t *data_field)
{
    uint32_t segments = (uint32_t)((len + SEGMENT - 1) / SEGMENT);
    if (segments > 0xFFFF)
        return -1;
    uint64_t db = hp_regf_cell_alloc(e, 8), list = db ? hp_regf_cell_alloc(e, segments * 4) : 0;
    if (list == 0)
        return -1;
    hp_regf_put16(e, db + 4, 'd' | 'b' << 8);
    hp_regf_put16(e, db + 6, (uint16_t)segments);
    hp_regf_put32(e, db + 8, hp_regf_rel(list));
    for (uint32_t i = 0; i < segments; i++) {
        size_t part = len - (size_t)i * SEGMENT < SEGMENT ? len - (size_t)i * SEGMENT : SEGMENT;
        uint64_t seg = hp_regf_cell_alloc(e, (uint32_t)part);
        if (seg == 0)
            return -1;
        hp_regf_write(e, seg + 4, data + (size_t)i * SEGMENT, part);
        hp_regf_put32(e, list + 4 + 4 * (uint64_t)i, hp_regf_rel(seg));
    }
    *data_field = hp_regf_rel(db);
    return 0;
}

int hp_regf_data_store(struct hp_regf_edit *e, const void *data, size_t len, uint32_t *size_field,
                       uint32_t *data_field)
{
    if (len > 0x7FFFFFF0u)
        return -1;
    if (len <= INLINE_MAX) {
        unsigned char field[4] = {0, 0, 0, 0};
        if (len)
            memcpy(field, data, len);
        *size_field = 0x80000000u | (uint32_t)len;
        *data_field = (uint32_t)field[0] | (uint32_t)field[1] << 8 | (uint32_t)field[2] << 16 |
                      (uint32_t)field[3] << 24;
        return 0;
    }
    *size_field = (uint32_t)len;
    if (uses_big_data(e, len))
        return store_big(e, data, len, data_field);
    uint64_t cell = hp_regf_cell_alloc(e, (uint32_t)len);
    if (cell == 0)
        return -1;
    hp_regf_write(e, cell + 4, data, len);
    *data_field = hp_regf_rel(cell);
    return 0;
}

int hp_regf_data_release(struct hp_regf_edit *e, uint32_t size_field, uint32_t data_field)
{
    uint32_t len = size_field & 0x7FFFFFFFu;
    if ((size_field & 0x80000000u) || len == 0 || data_field == HP_REGF_NIL)
        return 0;
    uint64_t cell = hp_regf_abs(data_field);
    uint32_t cell_len = hp_regf_cell_len(e, cell);
    if (cell_len == 0)
        return -1;
    if (len > SEGMENT && cell_len >= 8 && e->data[cell + 4] == 'd' && e->data[cell + 5] == 'b') {
        uint32_t segments = (uint32_t)(e->data[cell + 6] | e->data[cell + 7] << 8);
        uint64_t list = hp_regf_abs(hp_regf_get32(e, cell + 8));
        if (hp_regf_cell_len(e, list) < segments * 4)
            return -1;
        for (uint32_t i = 0; i < segments; i++)
            if (hp_regf_cell_free(e, hp_regf_abs(hp_regf_get32(e, list + 4 + 4 * (uint64_t)i))) != 0)
                return -1;
        if (hp_regf_cell_free(e, list) != 0)
            return -1;
    }
    return hp_regf_cell_free(e, cell);
}
