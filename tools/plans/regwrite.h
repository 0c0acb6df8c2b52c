/* regwrite.h: port settings written as a .reg file that Windows' 'reg import' (and regedit) accepts, and
 * that 'hiveport apply' reads back (tools/regfile.h). */
#ifndef HIVEPORT_REGWRITE_H
#define HIVEPORT_REGWRITE_H

#include "cli.h"

enum regwrite_format {
    REGWRITE_REG5, /* "Windows Registry Editor Version 5.00": UTF-16LE with a byte-order mark, CRLF */
    REGWRITE_REG4  /* "REGEDIT4": 8-bit text, CRLF */
};

/* One value: set to port, deleted ("NAME"=-), or left out (left_out says why, in a comment). */
struct regwrite_value {
    const hiveport_setting *setting;
    bool unset;
    uint32_t port;
    const char *left_out;
};

/* Builds the file: a header, a ';' comment line (note, ASCII control characters and bytes above 0x7E
 * replaced by '?'), a comment per value left out, the line '; hiveport: controlset = SEL', then one
 * [HKEY_LOCAL_MACHINE\SYSTEM\<controlset>\Services\KEY] section per key, in the order keys first appear in
 * values, each with its values.  A deletion whose key no value set creates is not written in a section
 * (every importer would create the key for it) but as '; hiveport: unset ID', which only hiveport reads.
 * controlset is "CurrentControlSet" or "ControlSetNNN" ("": no control set line).  *text (malloc'd, *len bytes) on success; false when
 * out of memory. */
bool regwrite_build(enum regwrite_format format, const char *controlset, const char *note,
                    const struct regwrite_value *values, size_t count, char **text, size_t *len);

/* The RPC port range of a SOFTWARE hive (KB 154596) as a .reg file: a header, a comment line (as above),
 * then [HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Rpc\Internet] with Ports (hex(7), one string per entry of
 * the comma-separated ports, as hiveport_rpc_get() gives them), PortsInternetAvailable and UseInternetPorts;
 * or, for ports NULL (no range), the key's deletion.  As regwrite_build(). */
bool regwrite_build_rpc(enum regwrite_format format, const char *note, const char *ports, char available,
                        char use_internet, char **text, size_t *len);

#endif
