/* softplan.h: the SOFTWARE half of .reg files (hiveport-profile(5), section ".reg files"): the RPC port range
 * (Microsoft\Rpc\Internet, KB 154596) and DCOM endpoints (Classes\AppID\{GUID}, "Endpoints"), as a plan that
 * 'hiveport apply' carries out, or compares with, through the library's calls: hiveport_rpc_set(),
 * hiveport_rpc_clear() and hiveport_dcom_set_port(); hiveport_rpc_get() and hiveport_dcom_get_port() for
 * --check.  What those calls cannot do exactly is refused while the .reg file is read (tools/regfile.c
 * decodes the data; this file decides what it means). */
#ifndef HIVEPORT_SOFTPLAN_H
#define HIVEPORT_SOFTPLAN_H

#include "cli.h"

/* A value's data as the .reg file gives it. */
struct soft_data {
    bool deletion;       /* "NAME"=- */
    const char *string;  /* "NAME"="TEXT": the text, unescaped; else NULL */
    char **multi;        /* "NAME"=hex(7):...: its strings (ASCII); else NULL */
    size_t multi_count;
    const char *other;   /* any other type, as the file spells it ("dword", "hex(2)", ...); else NULL */
};

enum softplan_rpc {
    SOFTPLAN_RPC_NONE,   /* the file does not touch the RPC range */
    SOFTPLAN_RPC_SET,    /* Ports, PortsInternetAvailable and UseInternetPorts */
    SOFTPLAN_RPC_DELETE  /* [-...\Microsoft\Rpc\Internet]: no restriction */
};

struct softplan_dcom {
    char appid[40]; /* "{GUID}" as the file spells it */
    uint32_t port;
    unsigned line;
};

struct softplan {
    enum softplan_rpc rpc;
    unsigned rpc_line;           /* the first [KEY] line of Microsoft\Rpc\Internet (or its deletion) */
    char *ports;                 /* for SET: "5000-5100,5984", the strings of Ports joined by commas */
    char available, use_internet; /* for SET: 'Y' or 'N' */
    unsigned ports_line, available_line, use_line; /* 0 until given */
    struct softplan_dcom *dcom;
    size_t dcom_count;
};

/* The key '[...\SOFTWARE\Microsoft\Rpc\Internet]' (delete: '[-...]') on line; false with the reason. */
bool softplan_rpc_key(struct softplan *sp, unsigned line, bool delete, char *why, size_t len);

/* A value of Microsoft\Rpc\Internet (appid NULL) or of Classes\AppID\APPID; false with the reason, true
 * when it is taken (or when out of memory: then *out_of_memory is set). */
bool softplan_value(struct softplan *sp, unsigned line, const char *appid, const char *name,
                    const struct soft_data *d, bool *out_of_memory, char *why, size_t len);

/* Checks the plan as a whole once every line is read; false with the line and the reason. */
bool softplan_finish(const struct softplan *sp, unsigned *line, char *why, size_t len);

/* Appends to differences (a JSON array) one object per value of the plan that h does not hold:
 * {"setting", "key", "value_name", "expected", "actual", "problem"}, expected and actual as text (actual
 * null, and problem "not set", "wrong type" or "bad data", when the hive has no usable value).  Returns a
 * HIVEPORT status: anything but OK is a failure described by hiveport_errmsg(h) (e.g. HIVEPORT_E_NOT_HIVE
 * for a SYSTEM hive), or HIVEPORT_E_NOMEM. */
int softplan_compare(const struct softplan *sp, hiveport *h, json_t *differences);

/* Prints one difference of softplan_compare() as 'apply --check' does: "  SETTING: ACTUAL, expected X". */
void softplan_print_difference(FILE *out, const json_t *difference);

/* Makes the plan's changes on h (open for writing), in memory; a HIVEPORT status, the reason on h. */
int softplan_apply(const struct softplan *sp, hiveport *h);

/* KB 154596's advice on the planned range (fewer than 100 ports, ...): calls say() once per line. */
void softplan_warnings(const struct softplan *sp, void (*say)(void *ctx, const char *line), void *ctx);

void softplan_free(struct softplan *sp);

#endif
