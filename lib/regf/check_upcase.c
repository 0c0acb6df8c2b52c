/* check_upcase.c: upper-casing one UTF-16 code unit the way the registry compares names: code unit by code
 * unit, no normalisation, no surrogate pairs, no one-to-many mappings (so U+00DF stays as it is).
 *
 * Covered: ASCII, Latin-1, Latin Extended-A and -B (the paired runs), Latin Extended Additional, Greek,
 * Cyrillic, Armenian, full-width Latin: the scripts registry names use in practice.  Elsewhere, and for
 * letters whose upper case differs between Unicode versions (dotless i, long s), a unit is left as it is.  Lower-case
 * letters of Latin Extended-A and Cyrillic's U+0460-U+04FF come in pairs (upper even, lower odd, or the
 * reverse in the runs listed). */
#include "hivecheck.h"

/* Runs where the lower-case letter is the odd unit of each pair (upper = unit - 1). */
static const struct {
    uint16_t first, last;
} odd_lower[] = {
    {0x0100, 0x012F}, {0x0132, 0x0137}, {0x014A, 0x0177}, {0x0182, 0x0185}, {0x01A0, 0x01A5},
    {0x01DE, 0x01EF}, {0x01F8, 0x021F}, {0x0222, 0x0233}, {0x03D8, 0x03EF}, {0x0460, 0x0481},
    {0x048A, 0x04BF}, {0x04D0, 0x04FF}, {0x0500, 0x052F}, {0x1E00, 0x1E95}, {0x1EA0, 0x1EFF},
};

/* Runs where the lower-case letter is the even unit of each pair (upper = unit - 1). */
static const struct {
    uint16_t first, last;
} even_lower[] = {
    {0x0139, 0x0148}, {0x0179, 0x017E}, {0x01B3, 0x01B6}, {0x01CD, 0x01DC}, {0x04C1, 0x04CE},
};

uint16_t hp_check_upcase_slow(uint16_t u)
{
    if (u >= 0xE0 && u <= 0xFE && u != 0xF7)
        return (uint16_t)(u - 0x20);
    if (u == 0xFF)
        return 0x0178;
    if (u == 0xB5)
        return 0x039C;
    for (size_t i = 0; i < sizeof odd_lower / sizeof odd_lower[0]; i++)
        if (u >= odd_lower[i].first && u <= odd_lower[i].last)
            return (u & 1) ? (uint16_t)(u - 1) : u;
    for (size_t i = 0; i < sizeof even_lower / sizeof even_lower[0]; i++)
        if (u >= even_lower[i].first && u <= even_lower[i].last)
            return (u & 1) ? u : (uint16_t)(u - 1);
    if ((u >= 0x03B1 && u <= 0x03C1) || (u >= 0x03C3 && u <= 0x03CB)) /* Greek */
        return (uint16_t)(u - 0x20);
    if (u == 0x03C2) /* final sigma */
        return 0x03A3;
    if (u == 0x03AC)
        return 0x0386;
    if (u >= 0x03AD && u <= 0x03AF)
        return (uint16_t)(u - 0x25);
    if (u == 0x03CC)
        return 0x038C;
    if (u == 0x03CD || u == 0x03CE)
        return (uint16_t)(u - 0x3F);
    if (u >= 0x0430 && u <= 0x044F) /* Cyrillic */
        return (uint16_t)(u - 0x20);
    if (u >= 0x0450 && u <= 0x045F)
        return (uint16_t)(u - 0x50);
    if (u >= 0x0561 && u <= 0x0586) /* Armenian */
        return (uint16_t)(u - 0x30);
    if (u >= 0xFF41 && u <= 0xFF5A) /* full-width Latin */
        return (uint16_t)(u - 0x20);
    return u;
}

int hp_check_compare_names(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
    for (size_t i = 0; i < na && i < nb; i++) {
        uint16_t x = hp_check_upcase(a[i]), y = hp_check_upcase(b[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return na < nb ? -1 : na > nb;
}
