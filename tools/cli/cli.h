/* cli.h: what the source files of the hiveport command share.  Built on the public API only. */
#ifndef HIVEPORT_CLI_H
#define HIVEPORT_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <hiveport.h>

/* Exit statuses, documented in hiveport(1). */
enum cli_exit {
    CLI_OK = 0,
    CLI_FAILED = 1,  /* the operation failed; the file is unchanged */
    CLI_USAGE = 2,   /* bad command line */
    CLI_NOT_SET = 3  /* get: the value is not set */
};

/* ---- hiveport.c: the command table ---- */
/* One command: argv[0] is "hiveport NAME", so getopt's messages name the command. */
struct cli_command {
    const char *name;
    const char *summary; /* one line for 'hiveport --help' */
    int (*run)(int argc, char **argv);
};

int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_unset(int argc, char **argv);
int cmd_rpc_range(int argc, char **argv); /* cmd_rpc_range.c */
int cmd_dcom(int argc, char **argv);      /* cmd_dcom.c */

/* ---- options.c: getopt_long per command ---- */
/* Long-only options get values above any character, shared so every command spells them alike. */
enum cli_option {
    OPT_HELP = 'h',
    OPT_CONTROLSET = 0x100,
    OPT_JSON,
    OPT_BACKUP,
    OPT_DRY_RUN,
    OPT_REPLACE_TYPE,
    OPT_NO_LOGS,
    OPT_LOG,
    OPT_DISCARD_LOGS,
    OPT_LOCK_TIMEOUT,
    OPT_BREAK_LINKS,
    OPT_COMMIT
};
#define CLI_LONGOPT_HELP {"help", no_argument, NULL, OPT_HELP}
#define CLI_LONGOPT_CONTROLSET {"controlset", required_argument, NULL, OPT_CONTROLSET}
#define CLI_LONGOPT_JSON {"json", no_argument, NULL, OPT_JSON}
#define CLI_LONGOPT_BACKUP {"backup", no_argument, NULL, OPT_BACKUP}
#define CLI_LONGOPT_DRY_RUN {"dry-run", no_argument, NULL, OPT_DRY_RUN}
#define CLI_LONGOPT_REPLACE_TYPE {"replace-type", no_argument, NULL, OPT_REPLACE_TYPE}
#define CLI_LONGOPT_END {NULL, 0, NULL, 0}
/* Every command that reads a hive takes these; writers take CLI_LONGOPTS_WRITE as well. */
#define CLI_LONGOPTS_READ {"no-logs", no_argument, NULL, OPT_NO_LOGS}, {"log", required_argument, NULL, OPT_LOG}
#define CLI_LONGOPTS_WRITE                                                                                   \
    {"discard-logs", no_argument, NULL, OPT_DISCARD_LOGS}, {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT}, \
    {"break-links", no_argument, NULL, OPT_BREAK_LINKS}, {"commit", required_argument, NULL, OPT_COMMIT}
#define CLI_HELP_READ                                                                                        \
    "  --no-logs         do not replay a dirty hive's transaction logs (HIVE.LOG1, HIVE.LOG2, HIVE.LOG)\n"  \
    "  --log PATH        replay this log file instead of looking next to the hive (repeatable)\n"
#define CLI_HELP_WRITE                                                                                       \
    "  --discard-logs    write a dirty hive whose logs were not replayed, losing what they hold\n"           \
    "  --lock-timeout S  wait at most S seconds for another writer (default 30)\n"                            \
    "  --break-links     write a hive with several hard links (the other links keep the old hive)\n"        \
    "  --commit HOW      auto (the default): through the hive's transaction logs (HIVE.LOG1/.LOG2) and\n"   \
    "                    in place when they exist, else a copy renamed over it; log: through the logs\n"    \
    "                    or fail; copy: always the copy (also what --backup and --break-links use)\n"

/* getopt_long over a command's argv (restarting the scan on the first call for each command). */
int cli_getopt(int argc, char **argv, const struct option *longopts);
/* Prints usage to stdout and returns CLI_OK (for --help). */
int cli_help(const char *usage);
/* Prints "PROG: MESSAGE" and a pointer to --help on stderr; returns CLI_USAGE. fmt may be NULL when
 * getopt has already printed the message. */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses --controlset SEL into a HIVEPORT_CS_* target or number; prints a usage error on failure. */
int cli_parse_controlset(const char *prog, const char *text, int *target);
/* Checks the number of operands left after the options: min..max (max < 0: no limit). */
int cli_check_operands(const char *prog, int argc, char **argv, int min, int max);

/* ---- open_options.c: logs and locking options, and opening with them ---- */
struct cli_open {
    unsigned flags; /* HIVEPORT_OPEN_NO_LOGS, HIVEPORT_OPEN_DISCARD_LOGS, HIVEPORT_OPEN_BREAK_LINKS */
    const char *name; /* how messages name the hive opened (cli_open_named()); NULL: by its path */
    int lock_timeout_ms;
    const char *logs[8];
    size_t nlogs;
};
void cli_open_init(struct cli_open *o);
/* --lock-timeout SECONDS (fractions allowed, 0-86400) in ms; false when it is not that. */
bool cli_parse_lock_timeout(const char *arg, int *ms);
/* Handles option c if it is one of CLI_LONGOPTS_READ/WRITE: CLI_OK, CLI_USAGE, or -1 when it is not. */
int cli_open_option(const char *prog, int c, const char *arg, struct cli_open *o);
/* Opens path read-only (with extra flags such as HIVEPORT_OPEN_DAMAGED), as every reader does: on failure
 * prints the error and returns CLI_FAILED (*h may still need hiveport_close); else reports the logs
 * (cli_report_logs) and returns CLI_OK. */
int cli_open_reader(const char *prog, const char *path, const struct cli_open *o, unsigned flags, hiveport **h);
/* ---- option_loop.c: the hive a command works on: a file, or the SYSTEM hive inside an image ---- */
/* --wim FILE[:IMAGE], --ntfs FILE[@OFFSET|@pN], --disk FILE[@OFFSET|@pN] and what goes with --disk: every
 * command has CLI_LONGOPTS_IMAGE in its table; one that takes no image (no struct cli_target in its
 * struct cli_parse) says they are not supported by it. */
enum { OPT_WIM = 0x700, OPT_NTFS, OPT_DISK, OPT_DISK_FORMAT, OPT_OVERLAY, OPT_ALLOW_INCOMPLETE };
#define CLI_LONGOPTS_IMAGE                                                                                   \
    {"wim", required_argument, NULL, OPT_WIM}, {"ntfs", required_argument, NULL, OPT_NTFS},                  \
    {"disk", required_argument, NULL, OPT_DISK}, {"disk-format", required_argument, NULL, OPT_DISK_FORMAT},  \
    {"overlay", required_argument, NULL, OPT_OVERLAY}, {"allow-incomplete", no_argument, NULL, OPT_ALLOW_INCOMPLETE}
/* The hive a command opens: the file hive, or (option set) the one in the image spec, which the image
 * layer (image.h: image_with_target()) extracts to a private copy and names by its label. */
struct cli_target {
    const char *prog;
    const char *hive;        /* a hive file (option NULL): the HIVE operand */
    const char *option;      /* "--wim", "--ntfs" or "--disk"; NULL for a hive file */
    const char *spec;        /* FILE[:IMAGE], FILE[@OFFSET|@pN] */
    const char *disk_format; /* --disk only: --disk-format NAME, or NULL to detect it */
    const char *overlay;     /* --disk only: --overlay NEW.qcow2, or NULL */
    bool allow_incomplete;   /* --allow-incomplete: a damaged or incomplete --disk is read, with a warning */
    unsigned images;         /* how many --wim, --ntfs and --disk were given (more than one: a usage error) */
    bool may_write;          /* the command may write (set, unset, apply without --dry-run or --check) */
    bool backup;             /* --backup, which an image refuses */
    bool verbose;            /* --verbose: say when the hive is written back */
    int lock_wait_ms;        /* the command's --lock-timeout (30 s by default) */
};
/* What cli_parse_options() and an option handler return besides an exit status: parsing goes on; an
 * option nobody took (a usage error). */
enum { CLI_CONTINUE = -1, CLI_UNKNOWN = -2 };

/* ---- option_loop.c: every command's option loop ---- */
/* One of a command's own options that needs no code: a switch turned on (flag), or an argument kept
 * (text; the last one given wins).  A table ends with CLI_STORE_END. */
struct cli_store {
    int option;
    bool *flag;
    const char **text;
};
#define CLI_FLAG(option, var) {(option), &(var), NULL}
#define CLI_TEXT(option, var) {(option), NULL, &(var)}
#define CLI_STORE_END {0, NULL, NULL}
/* A command's options.  Besides the store, --help prints usage, --controlset goes into *target (when not
 * NULL), the CLI_LONGOPTS_READ/WRITE options into *open (when not NULL); any other option goes to
 * option() (which returns CLI_CONTINUE, or the status to return at once), or is a usage error. */
struct cli_parse {
    const char *usage;
    const struct option *longopts;
    const char *shortopts; /* NULL: ":h" (cli_getopt) */
    const struct cli_store *store;
    struct cli_open *open;
    int *target;
    int (*option)(void *ctx, const char *prog, int c, const char *arg);
    void *ctx;
    int min_operands, max_operands; /* cli_check_operands(); min_operands < 0: the command checks them */
    /* The command's target, filled by the parse: with an image option the HIVE operand is not given and
     * the operands are counted one fewer; else, when min_operands > 0, the first operand is the HIVE
     * (optind is left past it).  NULL: the command takes no image. */
    struct cli_target *image;
};
/* Parses argv[0]'s options: CLI_CONTINUE with optind at the first operand, else the status the command
 * returns at once (CLI_OK after --help, CLI_USAGE after the message). */
int cli_parse_options(int argc, char **argv, const struct cli_parse *p);

/* "HIVE.bak", where --backup keeps the previous file (malloc'd; NULL when out of memory). */
char *cli_backup_path(const char *hive);
/* hiveport_commit(h), the file it replaces kept as HIVE.bak when backup is set (--backup); *changed tells
 * whether there was anything to write, *backup_path where the old file went (NULL without backup; the caller
 * frees it).  CLI_OK, or CLI_FAILED after the message (the file is unchanged). */
int cli_commit(const char *prog, hiveport *h, const char *hive, bool backup, bool *changed, char **backup_path);
/* hiveport_open_ext() with the options and extra flags (HIVEPORT_OPEN_WRITE). */
int cli_open(const char *path, const struct cli_open *o, unsigned flags, hiveport **h);
/* cli_open() of a hive that messages name name (hiveport_open_named(): a copy extracted from an image);
 * name NULL: cli_open(). */
int cli_open_named(const char *path, const char *name, const struct cli_open *o, unsigned flags, hiveport **h);
/* What became of a dirty hive's logs, by enum hiveport_log_state, as the JSON outputs name it ("clean",
 * "replayed", "unusable", "ignored"; "unknown" for anything else). */
const char *cli_log_state_name(int state);
/* --fail-on LEVEL of audit and check: error, warning or info into *severity; else a usage error. */
int cli_parse_fail_on(const char *prog, const char *text, int *severity);
/* The option handler (struct cli_parse) of a command whose only option with code is --fail-on: into
 * *(int *)severity. */
int cli_fail_on_option(void *severity, const char *prog, int c, const char *arg);
/* Says on stderr what became of a dirty hive's logs (nothing for a clean hive). */
void cli_report_logs(const char *prog, const hiveport *h);
/* Opens path for writing, as every writer does: on failure prints the error with its way out
 * (cli_write_hint) and returns CLI_FAILED (*h may still need hiveport_close); else reports the logs
 * (cli_report_logs) and returns CLI_OK. */
int cli_open_writer(const char *prog, const char *path, const struct cli_open *o, hiveport **h);

/* ---- writer.c: what the commands that write one hive (set, unset, rpc-range, dcom) share ---- */
/* --backup, --dry-run, --verbose and the logs and lock options, as every such command spells them. */
struct cli_writer {
    bool backup, dry_run, verbose;
    struct cli_open open;
};
#define CLI_LONGOPTS_WRITER                                                                                  \
    CLI_LONGOPT_BACKUP, CLI_LONGOPT_DRY_RUN, CLI_LONGOPT_VERBOSE, CLI_LONGOPTS_READ, CLI_LONGOPTS_WRITE
/* The struct cli_store entries of w's switches. */
#define CLI_STORE_WRITER(w)                                                                                  \
    CLI_FLAG(OPT_BACKUP, (w).backup), CLI_FLAG(OPT_DRY_RUN, (w).dry_run), CLI_FLAG(OPT_VERBOSE, (w).verbose)
void cli_writer_init(struct cli_writer *w);
/* What w's options say of a target: whether it may be written, --backup, --verbose, --lock-timeout. */
void cli_writer_target(const struct cli_writer *w, struct cli_target *t);
/* --backup with --dry-run is a usage error (printed): CLI_USAGE, else CLI_OK. */
int cli_writer_check(const char *prog, const struct cli_writer *w);
/* cli_commit() with w's --backup, then what a writer says after it: the Select warning
 * (cli_warn_current_default() with target and verb; none when verb is NULL) and, with --verbose, whether
 * the file was written (cli_report_commit()).  CLI_OK, or CLI_FAILED after the message. */
int cli_writer_commit(const char *prog, hiveport *h, const char *hive, const struct cli_writer *w, int target,
                      const char *verb);

/* ---- setting_spec.c: SETTING and SETTING=PORT operands ---- */
/* A setting named on the command line: a catalog entry (copied) or a custom key:value REG_DWORD. */
struct cli_setting {
    hiveport_setting setting; /* for a custom setting, key and value_name point into text */
    const char *label;        /* the catalog id, or the custom SETTING as typed (in text) */
    char *text;               /* owned, for a custom setting: the label and its split copy; else NULL */
};

struct cli_assignment {
    struct cli_setting target;
    uint32_t port;
};

/* Parses SETTING; prints a usage error naming prog and returns CLI_USAGE on failure. */
int cli_setting_parse(const char *prog, const char *text, struct cli_setting *out);
/* Parses SETTING=PORT the same way; PORT is decimal, range-checked later against the setting. */
int cli_assignment_parse(const char *prog, const char *text, struct cli_assignment *out);
void cli_setting_free(struct cli_setting *s);
/* True when a and b name the same registry value (case-insensitively, as Windows compares). */
bool cli_setting_same(const hiveport_setting *a, const hiveport_setting *b);
/* PORT for setting s (named label in messages): digits, and a port s accepts (cli_port_acceptable()).
 * Otherwise false, with the one wording 'set' and profiles share in why: "port 'x' for LABEL is not a
 * decimal number" or "port 70000 for LABEL is outside 1-65535". */
bool cli_port_parse(const char *text, const hiveport_setting *s, const char *label, uint32_t *port, char *why,
                    size_t len);
/* True when hiveport_set_port() accepts port for s: 1-65535, or 0 for a "0 = dynamic" setting. */
bool cli_port_acceptable(const hiveport_setting *s, uint32_t port);

/* ---- controlsets.c: which control sets a target means, and the Select key ---- */
/* The four Select values as read; a field is valid only when present as a 4-byte REG_DWORD. */
struct cli_select {
    bool present;       /* the Select key exists */
    bool valid[4];      /* indexed by enum hiveport_select_field */
    uint32_t value[4];
};

/* Reads the Select key; a missing key or invalid values are states, not failures. */
int cli_select_read(hiveport *h, struct cli_select *sel);
/* Resolves target into the control set numbers it means (ascending); the caller frees *numbers with
 * free().  Prints the reason and returns CLI_FAILED when there is none, as hiveport_set_port() would. */
int cli_targets(const char *prog, hiveport *h, int target, uint32_t **numbers, size_t *count);
/* Writing needs a usable SYSTEM hive, whatever the target: a Select key whose Current, Default and
 * LastKnownGood name existing control sets (the library checks only the Select value a target uses).
 * Prints the reason and returns CLI_FAILED otherwise. */
int cli_check_select(const char *prog, hiveport *h);
/* "current, default" style list of the Select fields naming number, into buf ("" when none). */
void cli_select_roles(const struct cli_select *sel, uint32_t number, char *buf, size_t len);
/* Warns on stderr when Select\Current and Select\Default differ and target is one control set:
 * which one verb ("wrote", "would write") applied to and which one Windows boots next. */
void cli_warn_current_default(const char *prog, hiveport *h, int target, const char *verb);

/* ---- output.c: messages and JSON ---- */
extern const char *const cli_select_field_names[4]; /* "current", "default", "failed", "lastknowngood" */
/* "PROG: MESSAGE\n" on stderr. */
void cli_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the handle's last error (which names the file) and returns CLI_FAILED. */
int cli_fail(const char *prog, const hiveport *h);
/* "REG_DWORD" or "REG_SZ". */
const char *cli_type_name(unsigned type);
/* ---- json.c: pieces of the JSON documents ---- */
/* Appends item (taking the reference) to *array; when it cannot, drops the array (*array = NULL) and
 * returns false. */
bool cli_json_append(json_t **array, json_t *item);
/* [numbers...] (NULL when out of memory). */
json_t *cli_json_numbers(const uint32_t *numbers, size_t count);
/* {"state", "entries", "report"}: what became of a dirty hive's logs (NULL when out of memory). */
json_t *cli_json_logs(const hiveport *h);
/* Writes root (taking the reference) as indented JSON plus a newline to stdout; NULL means the document
 * could not be built (out of memory). */
int cli_json_print(const char *prog, json_t *root);

/* ---- findings.c: the findings of audit and check ---- */
/* Counts f's findings into counts (by HIVEPORT_SEVERITY_*); true when one is at or above fail_on. */
bool cli_findings_count(const hiveport_findings *f, int fail_on, size_t counts[3]);
/* "summary: N errors, N warnings, N info" on stdout. */
void cli_findings_summary(const size_t counts[3]);
/* [finding_json(x)...] over f (NULL when out of memory). */
json_t *cli_findings_json(const hiveport_findings *f, json_t *(*finding_json)(const hiveport_finding *x));
/* {"error", "warning", "info"}: the counts (NULL when out of memory). */
json_t *cli_findings_counts_json(const size_t counts[3]);

/* ---- audit, firewall, recover, diff (cmd_audit.c, cmd_firewall.c, cmd_recover.c, cmd_diff.c) ---- */
/* Exit status 4 (hiveport(1)): audit found something at or above --fail-on; diff found differences.
 * Not 1, which means the command failed. */
enum { CLI_FOUND = 4 };

int cmd_audit(int argc, char **argv);
int cmd_firewall(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_check(int argc, char **argv); /* cmd_check.c: exit CLI_FOUND as audit */

/* cmd_diff.c: prints the registry-level changes from old_hive to new_hive, one line each (the format of
 * 'hiveport diff'); *differ (may be NULL) tells whether there was any.  CLI_OK or CLI_FAILED (printed). */
int cli_print_changes(const char *prog, hiveport *old_hive, hiveport *new_hive, bool *differ);

/* ---- text.c: names from a hive (untrusted) in one line of text or in JSON ---- */
#include <stdio.h>

/* Prints s with control characters as \u00XX, so that a name cannot break or forge a line. */
void cli_print_text(FILE *out, const char *s);
/* Length of the valid UTF-8 sequence at p, within avail bytes (as jansson accepts it: no surrogates, no
 * overlong forms, at most U+10FFFF), or 0. */
size_t cli_utf8_valid_at(const unsigned char *p, size_t avail);
/* A JSON string for s (json_null() for NULL), with invalid UTF-8 bytes replaced by U+FFFD. */
json_t *cli_json_text(const char *s);

/* ---- Port profiles (issue 10): apply, export; the profile parser is tools/profile.h ---- */
/* apply --check: a hive differs from its profile.  The same number as audit's "found something". */
enum { CLI_DRIFT = 4 };
int cmd_apply(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* cli_setting_parse() without printing: on failure the reason (no prefix) is in why, and the status is
 * CLI_USAGE (malformed or unknown) or CLI_FAILED (out of memory). */
int cli_setting_parse_msg(const char *text, struct cli_setting *out, char *why, size_t len);

/* ---- preflight.c: the audit's rules before a write (set, apply) ---- */
/* --force: write what the audit would call an error; --strict: refuse a custom setting that creates its
 * service key. */
struct cli_rules {
    bool force, strict;
};
#define CLI_LONGOPTS_RULES                                                                                   \
    {"force", no_argument, NULL, OPT_FORCE}, {"strict", no_argument, NULL, OPT_STRICT}
#define CLI_HELP_RULES                                                                                       \
    "  --force           write even what 'hiveport audit' would call an error in the written hive\n"          \
    "                    (port-conflict, port-reserved, ...)\n"                                              \
    "  --strict          refuse a custom setting whose service key does not exist\n"
enum { OPT_FORCE = 0x600, OPT_STRICT };
/* Checks the plan with hiveport_preflight(): each warning and error goes to say() as one line naming the
 * hive, the rule and its message (which names the KB article).  Returns CLI_OK when the write may go on,
 * else CLI_FAILED with the reason in refusal: an audit error without --force, a created service key under
 * --strict, or the library's failure. */
int cli_preflight(hiveport *h, const hiveport_plan_item *plan, size_t count, int target, unsigned set_flags,
                  const struct cli_rules *rules, void (*say)(void *ctx, const char *line), void *ctx,
                  char *refusal, size_t len);
/* cli_preflight() with every line, and the refusal, on stderr as "PROG: LINE". */
int cli_preflight_print(const char *prog, hiveport *h, const hiveport_plan_item *plan, size_t count, int target,
                        unsigned set_flags, const struct cli_rules *rules);
/* ---- issue 14: messages, the way out of an error, --quiet/--verbose (output.c, options.c) ---- */
#include <stdarg.h>

/* cli_error() with a va_list: "PROG: MESSAGE\n" with control characters escaped (cli_print_text). */
void cli_verror(const char *prog, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* cli_getopt() with short options of the command's own (":ho:"; a leading ':' is required). Prints
 * getopt's messages itself, escaped, and returns '?' for every error. */
int cli_getopt_short(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* What the user can do about an error, appended to its message in parentheses. */
#define CLI_HINT_DIRTY "--log PATH replays logs kept elsewhere; --discard-logs writes without them"
#define CLI_HINT_WRONG_TYPE "--replace-type overwrites it"
#define CLI_HINT_NO_SELECT "--controlset N reads ControlSetNNN without it"
/* The hint for a status a write can fail with (dirty hive, wrong type), or NULL. */
const char *cli_write_hint(int status);
/* Prints the handle's last error followed by " (HINT)" when hint is not NULL; returns CLI_FAILED. */
int cli_fail_hint(const char *prog, const hiveport *h, const char *hint);

/* --quiet and --verbose, for the commands that have something to leave out or to add. */
enum { OPT_QUIET = 0x180, OPT_VERBOSE };
#define CLI_LONGOPT_QUIET {"quiet", no_argument, NULL, OPT_QUIET}
#define CLI_LONGOPT_VERBOSE {"verbose", no_argument, NULL, OPT_VERBOSE}
#define CLI_HELP_VERBOSE                                                                                     \
    "  --verbose         say on stderr whether the hive was written (with an image: written back)\n"
/* The image options (image.h) of the commands that take a SYSTEM hive. */
#define CLI_HELP_IMAGE                                                                                       \
    "  --wim FILE[:IMAGE]  instead of HIVE: Windows\\System32\\config\\SYSTEM in image IMAGE (number\n" \
    "                    or name) of a WIM file\n"                                                            \
    "  --ntfs FILE[@OFFSET|@pN]  instead of HIVE: the same file in an NTFS file system image, or in\n"     \
    "                    the one at byte OFFSET or in partition N of a disk image\n"                        \
    "  --disk FILE[@OFFSET|@pN]  instead of HIVE: the same file in a VM disk or evidence file (qcow2,\n"  \
    "                    VHDX, VHD, VMDK, raw, E01: known by content), in the partition that holds it\n" \
    "  --disk-format FMT force the --disk format: qcow2, vhdx, vhd, vmdk, raw or e01\n"                  \
    "  --allow-incomplete  with --disk, to read: read a damaged qcow2 or an incomplete E01 set anyway,\n"  \
    "                    with a warning (refused otherwise)\n"
/* --overlay, for the commands that write through --disk. */
#define CLI_HELP_OVERLAY                                                                                     \
    "  --overlay NEW     with --disk: write into a new qcow2 overlay NEW backed by the disk, which is\n"    \
    "                    left unchanged (the safe way to write a VM disk)\n"
/* --verbose of a writer: whether the file was written (and where the previous one was kept, or through
 * which log when the commit was logged). */
void cli_report_commit(const char *prog, const hiveport *h, const char *hive, bool changed, const char *backup);

#endif
