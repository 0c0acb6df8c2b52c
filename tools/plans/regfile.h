/* regfile.h: .reg files (REGEDIT4 and "Windows Registry Editor Version 5.00") read as port profiles
 * (hiveport-profile(5), section ".reg files").
 *
 * A .reg file is translated, line for line, into the profile statements it means: line N of the .reg file
 * becomes line N of a profile, so that the profile parser's checks (duplicates, one port per service,
 * ranges) report the .reg file's own line numbers, and apply, --check and --jobs work as with a profile.
 * A file of SOFTWARE keys (the RPC port range, DCOM endpoints) is instead the plan of tools/softplan.h, in
 * the profile's software member.  What is not a port setting hiveport applies (other hives and keys, key
 * deletions, other value types, both SYSTEM and SOFTWARE keys in one file) is refused with the file, the
 * line and the reason, before any hive is opened. */
#ifndef HIVEPORT_REGFILE_H
#define HIVEPORT_REGFILE_H

#include "profile.h"

/* True when the len bytes of text start with a .reg header line: REGEDIT4 or Windows Registry Editor
 * Version 5.00, in UTF-8 (with or without a byte-order mark) or in UTF-16LE with its byte-order mark. */
bool regfile_detect(const char *text, size_t len);

/* For a file regfile_detect() refuses: true (why filled) when it is yet a .reg file in an encoding or with
 * line ends hiveport does not read (UTF-16BE, UTF-16 without a byte-order mark, two byte-order marks,
 * carriage returns alone), or UTF-16 text without the header; false otherwise (it is read as a profile). */
bool regfile_diagnose(const char *text, size_t len, char *why, size_t why_len);

/* Parses a .reg file into *p; the same contract as profile_parse(): problems printed on stderr as
 * "PROG: NAME:LINE: MESSAGE", CLI_OK, CLI_USAGE (*errors set) or CLI_FAILED (out of memory). */
int regfile_parse(const char *prog, const char *name, const char *text, size_t len, struct profile *p,
                  unsigned *errors);

#endif
