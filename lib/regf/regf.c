/* regf.c: the hive file's base block (header): layout, checksum and validation, read from raw bytes.
 *
 *   0x000 "regf"            0x014 major (1)       0x024 root cell (rel)
 *   0x004 primary seq       0x018 minor (3..6)    0x028 hive-bins data size
 *   0x008 secondary seq     0x01C file type (0)   0x1FC checksum: XOR of the 127 words before it
 *   0x00C last written      0x020 format (1)      (0 -> 1, 0xFFFFFFFF -> 0xFFFFFFFE)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "regf.h"
#include "le.h"

uint32_t hp_regf_checksum(const unsigned char *base_block)
{
    uint32_t sum = 0;
    for (size_t off = 0; off < 0x1FC; off += 4)
        sum ^= hp_le32(base_block + off);
    if (sum == 0xFFFFFFFFu)
        sum = 0xFFFFFFFEu;
    else if (sum == 0)
        sum = 1;
    return sum;
}

int hp_regf_parse_header(const unsigned char *buf, size_t buf_len, uint64_t file_size,
                         struct hp_regf_header *out, char *why, size_t why_len)
{
    if (buf_len < 4 || memcmp(buf, "regf", 4) != 0) {
        snprintf(why, why_len, "no \"regf\" signature: not a registry hive");
        return HIVEPORT_E_NOT_HIVE;
    }
    if (buf_len < 0x200 || file_size < HP_REGF_HEADER_SIZE) {
        snprintf(why, why_len, "truncated: %llu bytes is shorter than the 4096-byte hive header",
                 (unsigned long long)file_size);
        return HIVEPORT_E_TRUNCATED;
    }
    memset(out, 0, sizeof *out);
    out->seq_primary = hp_le32(buf + 0x04);
    out->seq_secondary = hp_le32(buf + 0x08);
    out->major = hp_le32(buf + 0x14);
    out->minor = hp_le32(buf + 0x18);
    out->file_type = hp_le32(buf + 0x1C);
    out->hbins_size = hp_le32(buf + 0x28);
    out->checksum_stored = hp_le32(buf + 0x1FC);
    out->checksum_computed = hp_regf_checksum(buf);

    if (out->checksum_stored != out->checksum_computed) {
        snprintf(why, why_len, "header checksum is 0x%08x, the header's bytes give 0x%08x",
                 out->checksum_stored, out->checksum_computed);
        return HIVEPORT_E_CHECKSUM;
    }
    if (out->major != 1 || out->minor < 2 || out->minor > 6) {
        snprintf(why, why_len, "unsupported hive format version %u.%u", out->major, out->minor);
        return HIVEPORT_E_NOT_HIVE;
    }
    if (out->file_type != 0) {
        snprintf(why, why_len, "file type %u is a transaction log, not a primary hive file",
                 out->file_type);
        return HIVEPORT_E_NOT_HIVE;
    }
    if (out->hbins_size == 0 || out->hbins_size % HP_REGF_HBIN_SIZE != 0) {
        snprintf(why, why_len, "hive-bins data size 0x%x is not a positive multiple of 4096",
                 out->hbins_size);
        return HIVEPORT_E_CORRUPT;
    }
    if (file_size < (uint64_t)HP_REGF_HEADER_SIZE + out->hbins_size) {
        snprintf(why, why_len, "truncated: the header says %llu bytes of hive bins but the file holds %llu",
                 (unsigned long long)out->hbins_size,
                 (unsigned long long)(file_size - HP_REGF_HEADER_SIZE));
        return HIVEPORT_E_TRUNCATED;
    }
    return HIVEPORT_OK;
}

