/* profile.h: port profiles, the files 'hiveport apply' reads and 'hiveport export' writes.  The format is
 * hiveport-profile(5):
 *
 *   # comment (from '#' to the end of the line, anywhere outside double quotes)
 *   controlset = all                       at most once: current (default), default, lastknowngood, all, N
 *   exchange-sa-rfr = 5001                 a catalog id (any case) = a decimal port
 *   MSExchangeSA\Parameters:TCP/IP NSPI Port = 5002      a custom setting, SERVICE\SUBKEY:VALUE NAME
 *   "MyService\Parameters:Port # 2" = 7002 a quoted setting ("" inside quotes is one ")
 *   unset exchange55-ds                    the value must be absent
 *
 * Every setting names a distinct registry value; every port set (but 0, "dynamic") is distinct. */
#ifndef HIVEPORT_PROFILE_H
#define HIVEPORT_PROFILE_H

#include "cli.h"

/* One setting line. */
struct profile_entry {
    struct cli_setting setting; /* label: the catalog id, or the custom setting as written (unquoted) */
    bool unset;                 /* 'unset SETTING': the value must be absent */
    uint32_t port;              /* for SETTING = PORT */
    unsigned line;
};

struct profile {
    int target;              /* HIVEPORT_CS_CURRENT unless a controlset line says otherwise */
    unsigned target_line;    /* 0 when there is no controlset line */
    struct profile_entry *entries;
    size_t count, capacity;
    struct softplan *software; /* a .reg file of SOFTWARE keys (tools/softplan.h): then no entries */
};

/* The most problems reported for one profile before giving up. */
#define PROFILE_MAX_ERRORS 20 /* *errors is PROFILE_MAX_ERRORS + 1 when there were more */

/* Reads and parses the profile at path ("-" reads standard input); a .reg file (tools/regfile.h) is
 * recognised by its header line and read as the profile it means.  Every problem is printed on stderr as
 * "PROG: PATH:LINE: MESSAGE"; a profile without any statement (setting, unset or controlset) is a problem
 * too.  Returns CLI_OK, CLI_USAGE when the profile is malformed (*errors gets the
 * number of problems) or CLI_FAILED when it cannot be read (the reason printed).  On failure *p is empty. */
int profile_load(const char *prog, const char *path, struct profile *p, unsigned *errors);

/* Parses len bytes of text; name is what messages call the file.  As profile_load(). */
int profile_parse(const char *prog, const char *name, const char *text, size_t len, struct profile *p,
                  unsigned *errors);

void profile_free(struct profile *p);

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF): what the library's names accept. */
bool profile_valid_utf8(const unsigned char *s, size_t len);

/* The word a controlset line uses for a target: "current", "default", "lastknowngood", "all" or the
 * number, into buf. */
void profile_target_name(int target, char *buf, size_t len);

/* Prints a setting's label as a profile would spell it: in double quotes (a " doubled) when it would not
 * read back without them; control characters escaped as cli_print_text() does. */
void profile_print_setting(FILE *out, const char *label);

/* The catalog id of the value s names (however it is spelled), or NULL for a value outside the catalog. */
const char *profile_catalog_id(const hiveport_setting *s);

#endif
