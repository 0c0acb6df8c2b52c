/* check_base.c: the base block (the file's first 4096 bytes): signature, checksum, sequence numbers,
 * version, file type, format, clustering factor, hive-bins size against the file.  The root cell offset is
 * checked with the keys (check_keys.c), once the cell map exists. */
#include "hivecheck.h"

int hp_check_base(struct hp_check *c, bool *go_on)
{
    *go_on = false;
    const unsigned char *b = c->data;
    if (c->size < HP_REGF_HEADER_SIZE || b[0] != 'r' || b[1] != 'e' || b[2] != 'g' || b[3] != 'f')
        return hp_check_add(c, HP_ERROR, "base-signature", NULL, 0,
                            c->size < HP_REGF_HEADER_SIZE
                                ? "The file (%llu bytes) is shorter than the 4096-byte base block."
                                : "The base block has no \"regf\" signature (%llu bytes): not a registry hive.",
                            (unsigned long long)c->size);
    int rc = HIVEPORT_OK;
    uint32_t stored = hp_le32(b + 0x1FC), computed = hp_regf_checksum(b);
    if (stored != computed)
        rc = hp_check_add(c, HP_ERROR, "base-checksum", NULL, 0x1FC,
                          "The base block's checksum is 0x%08x; its bytes give 0x%08x (XOR of the first 127 "
                          "words, 0 written as 1 and 0xFFFFFFFF as 0xFFFFFFFE): Windows takes the hive for "
                          "damaged and recovers it from its logs, or refuses it.",
                          stored, computed);
    uint32_t primary = hp_le32(b + 0x04), secondary = hp_le32(b + 0x08);
    if (rc == HIVEPORT_OK && primary != secondary)
        rc = hp_check_add(c, HP_WARNING, "base-sequence", NULL, 0x04,
                          "The sequence numbers differ (primary %u, secondary %u): the file is dirty, a write "
                          "to it never finished, and its transaction logs hold changes it lacks.",
                          primary, secondary);
    uint32_t major = hp_le32(b + 0x14), minor = hp_le32(b + 0x18);
    bool version_ok = major == 1 && minor >= 3 && minor <= 6;
    if (rc == HIVEPORT_OK && !version_ok)
        rc = hp_check_add(c, HP_ERROR, "base-version", NULL, 0x14,
                          "The format version is %u.%u; Windows loads 1.3 to 1.6.", major, minor);
    uint32_t type = hp_le32(b + 0x1C), format = hp_le32(b + 0x20);
    if (rc == HIVEPORT_OK && type != 0)
        rc = hp_check_add(c, HP_ERROR, "base-file-type", NULL, 0x1C,
                          "The file type is %u, not 0 (a primary hive file)%s.", type,
                          type == 1 || type == 2 || type == 6 ? ": it is a transaction log" : "");
    if (rc == HIVEPORT_OK && format != 1)
        rc = hp_check_add(c, HP_ERROR, "base-format", NULL, 0x20,
                          "The file format is %u, not 1 (direct memory load, the only format).", format);
    uint32_t cluster = hp_le32(b + 0x2C);
    if (rc == HIVEPORT_OK && cluster != 1)
        rc = hp_check_add(c, HP_ERROR, "base-cluster", NULL, 0x2C,
                          "The clustering factor is %u, not 1.", cluster);
    uint32_t bins = hp_le32(b + 0x28);
    bool bins_ok = bins != 0 && bins % HP_REGF_HBIN_SIZE == 0 &&
                   (uint64_t)HP_REGF_HEADER_SIZE + bins <= c->size;
    if (rc == HIVEPORT_OK && !bins_ok)
        rc = hp_check_add(c, HP_ERROR, "base-bins-size", NULL, 0x28,
                          bins == 0 || bins % HP_REGF_HBIN_SIZE != 0
                              ? "The hive-bins size 0x%x is not a positive multiple of 4096."
                              : "The hive-bins size 0x%x goes past the end of the file (%llu bytes).",
                          bins, (unsigned long long)c->size);
    if (rc != HIVEPORT_OK || !bins_ok || major != 1 || minor < 2 || minor > 6)
        return rc; /* no hive bins to trust, or a cell format this checker does not know */
    c->end = (uint64_t)HP_REGF_HEADER_SIZE + bins;
    c->minor = minor;
    c->root = hp_le32(b + 0x24);
    *go_on = true;
    return HIVEPORT_OK;
}
