/* status.c: the version call and the fixed sentence for each status code. */
#include "base.h"

HIVEPORT_API const char *hiveport_version(void)
{
    return HIVEPORT_VERSION;
}

static const char *const status_sentences[] = {
    [HIVEPORT_OK] = "success",
    [HIVEPORT_E_INVALID_ARG] = "invalid argument",
    [HIVEPORT_E_NOMEM] = "out of memory",
    [HIVEPORT_E_IO] = "input/output error",
    [HIVEPORT_E_NOT_HIVE] = "not a registry hive file",
    [HIVEPORT_E_TRUNCATED] = "hive file is truncated",
    [HIVEPORT_E_CHECKSUM] = "hive header checksum mismatch",
    [HIVEPORT_E_CORRUPT] = "hive structure is corrupt",
    [HIVEPORT_E_DIRTY] = "hive is dirty (its transaction logs hold changes the file lacks)",
    [HIVEPORT_E_NO_SELECT] = "no Select key: not a usable SYSTEM hive",
    [HIVEPORT_E_BAD_SELECT] = "a Select value is missing or invalid",
    [HIVEPORT_E_NO_CONTROLSET] = "control set does not exist",
    [HIVEPORT_E_NOT_SET] = "value is not set",
    [HIVEPORT_E_WRONG_TYPE] = "value has the wrong registry type",
    [HIVEPORT_E_BAD_DATA] = "value data is invalid",
    [HIVEPORT_E_RANGE] = "port out of range",
    [HIVEPORT_E_READONLY] = "read-only",
    [HIVEPORT_E_LOCKED] = "hive is locked by another writer",
    [HIVEPORT_E_NOT_REGULAR] = "not a regular file",
};

HIVEPORT_API const char *hiveport_strerror(int status)
{
    if (status < 0 || (size_t)status >= sizeof status_sentences / sizeof status_sentences[0] ||
        status_sentences[status] == NULL)
        return "unknown hiveport status";
    return status_sentences[status];
}
