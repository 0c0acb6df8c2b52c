/* valuetype.c: the names of registry value types, for messages. */
#include "base.h"

const char *hp_type_name(uint32_t type)
{
    static const char *const names[] = {
        "REG_NONE",          "REG_SZ",        "REG_EXPAND_SZ",       "REG_BINARY",
        "REG_DWORD",         "REG_DWORD_BIG_ENDIAN", "REG_LINK",     "REG_MULTI_SZ",
        "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST",
        "REG_QWORD",
    };
    return type < sizeof names / sizeof names[0] ? names[type] : "an unknown type";
}
