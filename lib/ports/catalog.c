/* catalog.c: every known static RPC port setting (see ../shared/domain/static-rpc-ports.md).
 * Keys are relative to ControlSetNNN\Services; spellings are canonical (TCP/IP with a forward slash). */
#include <strings.h>

#include "ports.h"

static const hiveport_setting catalog[] = {
    {"MSExchangeSA\\Parameters", "TCP/IP Port", HIVEPORT_REG_DWORD, 0, "exchange-sa-rfr",
     "Exchange 2000/2003 System Attendant, RFR interface", "KB 270836"},
    {"MSExchangeSA\\Parameters", "TCP/IP NSPI Port", HIVEPORT_REG_DWORD, 0, "exchange-sa-nspi",
     "Exchange 2000/2003 Directory NSPI Proxy (DSProxy)", "KB 270836"},
    {"MSExchangeIS\\ParametersSystem", "TCP/IP Port", HIVEPORT_REG_DWORD, 0, "exchange-is",
     "Exchange Information Store (5.5 to 2003)", "KB 270836, KB 148732"},
    {"MSExchangeSRS\\Parameters", "TCP/IP", HIVEPORT_REG_DWORD, 0, "exchange-srs",
     "Exchange 2000/2003 Site Replication Service", "KB 270836"},
    {"MSExchangeDS\\Parameters", "TCP/IP Port", HIVEPORT_REG_DWORD, 0, "exchange55-ds",
     "Exchange 5.5 directory service", "KB 270836, KB 148732"},
    {"NTDS\\Parameters", "TCP/IP Port", HIVEPORT_REG_DWORD, 0, "ntds",
     "AD replication, SamRPC/LSARPC/DRS; global-catalog NSPI for Exchange",
     "KB 224196, KB 270836, KB 298369"},
    {"Netlogon\\Parameters", "DCTcpipPort", HIVEPORT_REG_DWORD, 0, "netlogon",
     "Netlogon RPC on domain controllers (must differ from ntds)", "KB 224196"},
    {"NTFRS\\Parameters", "RPC TCP/IP Port Assignment", HIVEPORT_REG_DWORD,
     HIVEPORT_SETTING_ZERO_DYNAMIC, "ntfrs", "File Replication Service (0 = dynamic; must differ from ntds)",
     "KB 319553"},
    {"MSExchangeRPC\\ParametersSystem", "TCP/IP Port", HIVEPORT_REG_DWORD, 0, "exchange2010-rpc",
     "Exchange 2010 RPC Client Access", "Exchange 2010 docs"},
    {"MSExchangeAB\\Parameters", "RpcTcpPort", HIVEPORT_REG_SZ, HIVEPORT_SETTING_ZERO_DYNAMIC,
     "exchange2010-ab", "Exchange 2010 SP1+ Address Book (decimal string; \"0\" = dynamic)",
     "Exchange 2010 docs"},
    {"MSExchangeSA\\Parameters", "HTTP Port", HIVEPORT_REG_DWORD, 0, "exchange-sa-http",
     "Exchange 2003 RPC over HTTP (Setup sets 6002)", "Exchange 2003 docs"},
    {"MSExchangeSA\\Parameters", "Rpc/HTTP NSPI Port", HIVEPORT_REG_DWORD, 0, "exchange-sa-rpchttp-nspi",
     "Exchange 2003 RPC over HTTP NSPI (6004)", "Exchange 2003 docs"},
    {"MSExchangeIS\\ParametersSystem", "Rpc/HTTP Port", HIVEPORT_REG_DWORD, 0, "exchange-is-rpchttp",
     "Exchange 2003 RPC over HTTP store (6001)", "Exchange 2003 docs"},
};

#define CATALOG_COUNT (sizeof catalog / sizeof catalog[0])

HIVEPORT_API size_t hiveport_catalog_count(void)
{
    return CATALOG_COUNT;
}

HIVEPORT_API const hiveport_setting *hiveport_catalog_at(size_t i)
{
    return i < CATALOG_COUNT ? &catalog[i] : NULL;
}

HIVEPORT_API const hiveport_setting *hiveport_catalog_find(const char *id)
{
    if (id == NULL)
        return NULL;
    for (size_t i = 0; i < CATALOG_COUNT; i++)
        if (strcasecmp(catalog[i].id, id) == 0)
            return &catalog[i];
    return NULL;
}
