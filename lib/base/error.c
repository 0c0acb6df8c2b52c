/* error.c: the status and detailed message kept on a handle, and errno-to-status mapping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hive.h"

void hp_clear_error(hiveport *h)
{
    h->status = HIVEPORT_OK;
    h->errmsg[0] = '\0';
}

int hp_verror(hiveport *h, int status, const char *fmt, va_list ap)
{
    /* The first error of a call keeps its context: cleanup failures do not overwrite it. */
    if (h->status != HIVEPORT_OK)
        return h->status;
    h->status = status;
    vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
    return status;
}

int hp_error(hiveport *h, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = hp_verror(h, status, fmt, ap);
    va_end(ap);
    return rc;
}

/* System calls report through errno; this table is the one place its values become statuses. */
static const struct {
    int err;
    int status;
} errno_table[] = {
    {ENOMEM, HIVEPORT_E_NOMEM},      {ENOTSUP, HIVEPORT_E_CORRUPT}, {EFAULT, HIVEPORT_E_CORRUPT},
    {ELOOP, HIVEPORT_E_CORRUPT},     {EINVAL, HIVEPORT_E_CORRUPT},  {ERANGE, HIVEPORT_E_CORRUPT},
    {EOVERFLOW, HIVEPORT_E_CORRUPT}, {EROFS, HIVEPORT_E_READONLY},
    {EISDIR, HIVEPORT_E_NOT_REGULAR},
};

int hp_status_from_errno(int err)
{
    for (size_t i = 0; i < sizeof errno_table / sizeof errno_table[0]; i++)
        if (errno_table[i].err == err)
            return errno_table[i].status;
    return HIVEPORT_E_IO;
}

HIVEPORT_API const char *hiveport_errmsg(const hiveport *h)
{
    if (h == NULL)
        return "no hiveport handle (NULL)";
    return h->errmsg;
}

const char *hp_name(const hiveport *h)
{
    return h->name != NULL ? h->name : h->path;
}
