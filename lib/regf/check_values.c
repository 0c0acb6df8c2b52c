/* check_values.c: one key's values: the value list, each vk (signature, name, data size against the type,
 * inline data for at most 4 bytes), the data cell (large enough), and big data (a db record whose segment
 * list points at segments of 16344 bytes) wherever the data is larger than 16344 bytes in format 1.4 and
 * later, where Windows reads such data only through a db record. */
#include "hivecheck.h"

#define VK_MIN 0x14u
#define VK_FLAG_COMP_NAME 0x0001u
#define DATA_INLINE 0x80000000u

static uint64_t abs_of(uint32_t rel)
{
    return (uint64_t)HP_REGF_HEADER_SIZE + rel;
}

/* Claims a cell that one value's data needs (min bytes at least); false when it is not usable. */
static int claim(struct hp_check *c, const char *path, uint64_t vk_off, uint32_t rel, uint32_t min,
                 const char *what, bool *ok)
{
    uint32_t len;
    *ok = false;
    if (hp_check_cell(c, rel, &len) == NULL)
        return hp_check_add(c, HP_ERROR, "ref-invalid", path, vk_off, "The %s of the value at 0x%llx points at 0x%llx: %s.",
                            what, (unsigned long long)vk_off, (unsigned long long)abs_of(rel),
                            hp_check_why_not_cell(c, rel));
    if (len < min)
        return hp_check_add(c, HP_ERROR, "ref-too-small", path, vk_off,
                            "The %s of the value at 0x%llx needs %u bytes but its cell at 0x%llx holds %u.", what,
                            (unsigned long long)vk_off, min, (unsigned long long)abs_of(rel), len);
    if (hp_check_mark(c, rel))
        return hp_check_add(c, HP_ERROR, "cell-shared", path, vk_off,
                            "The %s cell at 0x%llx of the value at 0x%llx is claimed by another structure too.", what,
                            (unsigned long long)abs_of(rel), (unsigned long long)vk_off);
    *ok = true;
    return HIVEPORT_OK;
}

/* Big data: a db record, its segment list, its segments. */
static int check_big(struct hp_check *c, const char *path, uint64_t vk_off, uint32_t rel, uint32_t size)
{
    uint32_t len;
    const unsigned char *db = hp_check_cell(c, rel, &len);
    if (db == NULL || len < 8 || db[0] != 'd' || db[1] != 'b')
        return hp_check_add(c, HP_ERROR, "vk-big-data", path, vk_off,
                            "The value at 0x%llx holds %u bytes, more than the 16344 one cell may hold in format "
                            "1.%u, but its data at 0x%llx is %s, not a big-data record (\"db\"): Windows would read "
                            "it as one.",
                            (unsigned long long)vk_off, size, c->minor, (unsigned long long)abs_of(rel),
                            db == NULL ? hp_check_why_not_cell(c, rel) : "a plain cell");
    bool ok;
    int rc = claim(c, path, vk_off, rel, 8, "big-data record", &ok);
    uint32_t segments = hp_le16(db + 2), want = (size + HP_CHECK_BIG_SEGMENT - 1) / HP_CHECK_BIG_SEGMENT;
    if (rc != HIVEPORT_OK || !ok)
        return rc;
    if (segments != want)
        return hp_check_add(c, HP_ERROR, "db-segments", path, abs_of(rel),
                            "The big-data record at 0x%llx has %u segments; %u bytes take %u of 16344 bytes.",
                            (unsigned long long)abs_of(rel), segments, size, want);
    uint32_t list = hp_le32(db + 4), list_len;
    if ((rc = claim(c, path, vk_off, list, segments * 4, "big-data segment list", &ok)) != HIVEPORT_OK || !ok)
        return rc;
    const unsigned char *l = hp_check_cell(c, list, &list_len);
    for (uint32_t i = 0; i < segments && rc == HIVEPORT_OK; i++) {
        uint32_t need = i + 1 < segments ? HP_CHECK_BIG_SEGMENT : size - HP_CHECK_BIG_SEGMENT * (segments - 1);
        uint32_t seg = hp_le32(l + 4 * i), seg_len;
        if (hp_check_cell(c, seg, &seg_len) != NULL && seg_len < need)
            rc = hp_check_add(c, HP_ERROR, "db-segments", path, abs_of(seg),
                              "Segment %u of the big-data record at 0x%llx holds %u bytes; it must hold %u.", i,
                              (unsigned long long)abs_of(rel), seg_len, need);
        else
            rc = claim(c, path, vk_off, seg, need, "big-data segment", &ok);
    }
    return rc;
}

/* One vk at rel: record, name, data. */
static int check_vk(struct hp_check *c, const char *path, uint64_t list_off, uint32_t rel, uint32_t *max_name,
                    uint32_t *max_data)
{
    uint32_t len;
    hp_check_read(c, 2 * 4096); /* the record and its data: a page or two, anywhere */
    const unsigned char *vk = hp_check_cell(c, rel, &len);
    uint64_t off = abs_of(rel);
    if (vk == NULL)
        return hp_check_add(c, HP_ERROR, "ref-invalid", path, list_off,
                            "The value list at 0x%llx points at 0x%llx: %s.", (unsigned long long)list_off,
                            (unsigned long long)off, hp_check_why_not_cell(c, rel));
    if (len < VK_MIN || vk[0] != 'v' || vk[1] != 'k')
        return hp_check_add(c, HP_ERROR, "vk-signature", path, off,
                            "The value list at 0x%llx points at 0x%llx, which is not a value record (\"vk\", at "
                            "least 20 bytes).",
                            (unsigned long long)list_off, (unsigned long long)off);
    if (hp_check_mark(c, rel))
        return hp_check_add(c, HP_ERROR, "cell-shared", path, off,
                            "The value at 0x%llx is listed a second time (by the value list at 0x%llx).",
                            (unsigned long long)off, (unsigned long long)list_off);
    uint32_t name_len = hp_le16(vk + 0x02);
    bool compressed = (hp_le16(vk + 0x10) & VK_FLAG_COMP_NAME) != 0;
    uint32_t chars = compressed ? name_len : name_len / 2;
    const char *bad = VK_MIN + name_len > len                      ? "runs past the end of its cell"
                      : !compressed && name_len % 2 != 0            ? "is UTF-16 of an odd number of bytes"
                      : chars > HP_CHECK_VALUE_NAME_MAX             ? "is longer than 16383 characters"
                                                                    : NULL;
    int rc = HIVEPORT_OK;
    if (bad != NULL)
        rc = hp_check_add(c, HP_ERROR, "vk-name", path, off, "The name of the value at 0x%llx (%u bytes) %s.",
                          (unsigned long long)off, name_len, bad);
    if (bad == NULL)
        *max_name = chars * 2 > *max_name ? chars * 2 : *max_name;

    uint32_t raw = hp_le32(vk + 0x04), size = raw & ~DATA_INLINE, type = hp_le32(vk + 0x0C);
    uint32_t data = hp_le32(vk + 0x08);
    if (rc == HIVEPORT_OK && (raw & DATA_INLINE) && size > 4)
        return hp_check_add(c, HP_ERROR, "vk-inline", path, off,
                            "The value at 0x%llx says its %u bytes of data are inline, where only 4 fit.",
                            (unsigned long long)off, size);
    *max_data = size > *max_data ? size : *max_data;
    if (rc == HIVEPORT_OK && !(raw & DATA_INLINE) && size > 0 && size <= 4)
        rc = hp_check_add(c, HP_WARNING, "vk-not-inline", path, off,
                          "The value at 0x%llx keeps its %u bytes of data in a cell of their own; Windows stores "
                          "data of at most 4 bytes inline.",
                          (unsigned long long)off, size);
    if (rc == HIVEPORT_OK && (((type == 4 || type == 5) && size != 4) || (type == 11 && size != 8)))
        rc = hp_check_add(c, HP_WARNING, "vk-type-length", path, off,
                          "The value at 0x%llx is a %s of %u bytes; that type holds %u.", (unsigned long long)off,
                          type == 4 ? "REG_DWORD" : type == 5 ? "REG_DWORD_BIG_ENDIAN" : "REG_QWORD", size,
                          type == 11 ? 8 : 4);
    if (rc != HIVEPORT_OK || (raw & DATA_INLINE) || size == 0)
        return rc;
    if (size > HP_CHECK_BIG_SEGMENT && c->minor > 3)
        return check_big(c, path, off, data, size);
    bool ok;
    return claim(c, path, off, data, size, "data", &ok);
}

int hp_check_values(struct hp_check *c, const unsigned char *nk, uint32_t nk_rel, const char *path,
                    uint32_t *max_name, uint32_t *max_data)
{
    *max_name = *max_data = 0;
    uint32_t count = hp_le32(nk + 0x24), list = hp_le32(nk + 0x28), len;
    uint64_t off = abs_of(nk_rel);
    if (count == 0)
        return HIVEPORT_OK;
    const unsigned char *l = hp_check_cell(c, list, &len);
    if (l == NULL)
        return hp_check_add(c, HP_ERROR, "ref-invalid", path, off,
                            "The key at 0x%llx has %u values but its value list offset 0x%llx is %s.",
                            (unsigned long long)off, count, (unsigned long long)abs_of(list),
                            hp_check_why_not_cell(c, list));
    int rc = HIVEPORT_OK;
    if ((uint64_t)count * 4 > len) {
        rc = hp_check_add(c, HP_ERROR, "ref-too-small", path, off,
                          "The key at 0x%llx has %u values but its value list at 0x%llx holds %u bytes.",
                          (unsigned long long)off, count, (unsigned long long)abs_of(list), len);
        count = len / 4;
    }
    if (rc == HIVEPORT_OK && hp_check_mark(c, list))
        return hp_check_add(c, HP_ERROR, "cell-shared", path, off,
                            "The value list at 0x%llx of the key at 0x%llx is claimed by another structure too.",
                            (unsigned long long)abs_of(list), (unsigned long long)off);
    for (uint32_t i = 0; i < count && rc == HIVEPORT_OK; i++)
        rc = check_vk(c, path, abs_of(list), hp_le32(l + 4 * i), max_name, max_data);
    return rc;
}

int hp_check_value(struct hp_check *c, uint32_t vk_rel, const char *path)
{
    uint32_t max_name = 0, max_data = 0;
    return check_vk(c, path, (uint64_t)HP_REGF_HEADER_SIZE + vk_rel, vk_rel, &max_name, &max_data);
}
