/* marvin32.c: the seeded Marvin32 hash that guards each HvLE transaction-log entry (regf-format.md 9.3).
 *
 *   state: lo = seed & 0xFFFFFFFF, hi = seed >> 32
 *   per whole LE word w:   lo += w; mix
 *   tail (0..3 bytes b):   lo += 0x80 << 8*r | b(LE); mix; mix
 *   result:                hi << 32 | lo
 */
#include "txlog.h"

static uint32_t rotl32(uint32_t x, unsigned r)
{
    return (x << r) | (x >> (32u - r));
}

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The mixing step M; all arithmetic wraps mod 2^32. */
static void marvin_mix(uint32_t *lo, uint32_t *hi)
{
    *hi ^= *lo;
    *lo = rotl32(*lo, 20) + *hi;
    *hi = rotl32(*hi, 9) ^ *lo;
    *lo = rotl32(*lo, 27) + *hi;
    *hi = rotl32(*hi, 19);
}

uint64_t hp_marvin32(uint64_t seed, const unsigned char *data, size_t len)
{
    uint32_t lo = (uint32_t)seed;
    uint32_t hi = (uint32_t)(seed >> 32);
    size_t off = 0;

    for (; len - off >= 4; off += 4) {
        lo += load_le32(data + off);
        marvin_mix(&lo, &hi);
    }

    /* The 0x80 end marker sits just above the 0-3 remaining bytes, so inputs of different
     * lengths never hash the same final word. */
    uint32_t final_word = 0x80;
    for (size_t i = len - off; i-- > 0;)
        final_word = (final_word << 8) | data[off + i];
    lo += final_word;
    marvin_mix(&lo, &hi);
    marvin_mix(&lo, &hi);

    return (uint64_t)hi << 32 | lo;
}
