/* alloc.c: the one allocation wrapper, so that tests can fail the Nth allocation and walk error paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

static unsigned long fail_countdown; /* 0: never fail; n: the nth allocation from now fails */

void hp_alloc_fail_after(unsigned long n)
{
    fail_countdown = n;
}

static bool should_fail(void)
{
    if (fail_countdown == 0)
        return false;
    return --fail_countdown == 0;
}

void *hp_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *hp_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

char *hp_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = hp_malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

void hp_free(void *p)
{
    free(p);
}

void *hp_grow(void *items, size_t count, size_t *cap, size_t size, size_t first)
{
    if (count < *cap)
        return items;
    size_t bigger_cap = *cap ? 2 * *cap : first;
    void *bigger = hp_calloc(bigger_cap, size);
    if (bigger == NULL)
        return NULL;
    if (count > 0)
        memcpy(bigger, items, count * size);
    hp_free(items);
    *cap = bigger_cap;
    return bigger;
}

char *hp_vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *s = hp_malloc((size_t)n + 1);
    if (s != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *hp_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = hp_vformat(fmt, ap);
    va_end(ap);
    return s;
}
