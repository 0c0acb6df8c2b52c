/* apply_image.c: image targets in apply's manifests (see apply_image.h).  Each runs through the image
 * layer (tools/image/image.h, image_with_hive()) as 'apply PROFILE --wim SPEC' would; the layer's own
 * errors, printed on stderr, are caught and become the target's error, so that a fleet's output keeps
 * one result per target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_image.h"
#include "image.h"

/* Captured messages kept for a result: the image layer says little. */
#define CAPTURE_MAX 8192

static const char *const image_options[] = {"--wim", "--ntfs", "--disk"};
static const char format_option[] = " --disk-format ";

/* A line split into option, image spec and --disk-format (spec and format point into text). */
struct image_line {
    const char *option;
    char *text;
    const char *spec, *disk_format;
};

bool apply_image_is_target(const char *line)
{
    return strncmp(line, "--", 2) == 0;
}

/* Parses line; NULL, or why it is not an image target (out->text is then freed). */
static const char *parse_line(const char *line, struct image_line *out)
{
    memset(out, 0, sizeof *out);
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof image_options / sizeof image_options[0] && rest == NULL; i++) {
        size_t len = strlen(image_options[i]);
        if (strncmp(line, image_options[i], len) == 0 && (line[len] == ' ' || line[len] == '=')) {
            out->option = image_options[i];
            rest = line + len + 1;
        }
    }
    if (rest == NULL)
        return "not a target: a line is a hive path, or --wim, --ntfs or --disk and an image (a hive path "
               "starting with '--' is written ./--...)";
    rest += strspn(rest, " \t");
    if ((out->text = strdup(rest)) == NULL)
        return "out of memory";
    out->spec = out->text;
    char *format = strstr(out->text, format_option), *next;
    while (format != NULL && (next = strstr(format + 1, format_option)) != NULL)
        format = next;
    const char *problem = NULL;
    if (format != NULL) {
        *format = '\0';
        out->disk_format = format + strlen(format_option);
        if (strcmp(out->option, "--disk") != 0)
            problem = "--disk-format goes with --disk";
        else if (disk_format_named(out->disk_format) < 0)
            problem = "--disk-format: not a format (raw, qcow2, vhdx, vhd, vmdk, e01)";
    }
    if (problem == NULL && out->spec[0] == '\0')
        problem = "no image file after the option";
    if (problem != NULL) {
        free(out->text);
        out->text = NULL;
    }
    return problem;
}

const char *apply_image_problem(const char *line)
{
    struct image_line parsed;
    const char *problem = parse_line(line, &parsed);
    free(parsed.text);
    return problem;
}

struct run_state {
    apply_hive_fn *fn;
    void *ctx;
    json_t *result;
};

static bool failed(const json_t *result)
{
    const char *status = json_string_value(json_object_get(result, "status"));
    return status == NULL || strcmp(status, "failed") == 0;
}

static int on_hive(void *ctx, const char *hive, const char *label)
{
    struct run_state *st = ctx;
    st->result = st->fn(st->ctx, hive, label);
    if (st->result == NULL)
        return CLI_FAILED;
    /* Only a result that succeeded is written back (a refusal leaves the image unchanged). */
    return failed(st->result) ? CLI_FAILED : CLI_OK;
}

/* What the image layer printed on the capture file: its lines without the "PROG: " they start with, joined
 * with "; " (malloc'd; "" when nothing). */
static char *captured_text(FILE *capture, const char *prog)
{
    char *text = calloc(1, CAPTURE_MAX + 1);
    if (text == NULL || fflush(capture) != 0 || fseek(capture, 0, SEEK_SET) != 0)
        return text;
    char line[2048];
    size_t len = 0, plen = strlen(prog);
    while (fgets(line, sizeof line, capture) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        const char *msg = strncmp(line, prog, plen) == 0 && strncmp(line + plen, ": ", 2) == 0 ? line + plen + 2 : line;
        msg += strspn(msg, " \t");
        if (*msg == '\0')
            continue;
        /* A list announced by "...:" goes on after a space, separate messages after "; ". */
        const char *sep = len == 0 ? "" : text[len - 1] == ':' ? " " : "; ";
        len += (size_t)snprintf(text + len, CAPTURE_MAX + 1 - len, "%s%s", sep, msg);
        if (len >= CAPTURE_MAX)
            break;
    }
    return text;
}

static json_t *failed_result(const char *line, const char *error)
{
    return json_pack("{s:o, s:s, s:o, s:[], s:[]}", "hive", cli_json_text(line), "status", "failed", "error",
                     cli_json_text(error), "notes", "differences");
}

json_t *apply_image_run(const char *prog, const char *line, bool may_write, bool backup, int lock_wait_ms,
                        apply_hive_fn *fn, void *ctx)
{
    struct image_line parsed;
    const char *problem = parse_line(line, &parsed);
    if (problem != NULL) /* the manifest was checked: only out of memory */
        return failed_result(line, problem);
    if (backup) {
        free(parsed.text);
        return failed_result(line, "--backup cannot be used with an image (the image keeps no HIVE.bak)");
    }
    struct cli_target target = {.prog = prog, .option = parsed.option, .spec = parsed.spec,
                                .disk_format = parsed.disk_format, .may_write = may_write,
                                .lock_wait_ms = lock_wait_ms};
    struct run_state st = {fn, ctx, NULL};
    /* This runs in apply's worker process: stderr is its own to redirect. */
    FILE *capture = tmpfile();
    int saved = -1;
    fflush(stderr);
    if (capture != NULL && (saved = dup(STDERR_FILENO)) >= 0)
        dup2(fileno(capture), STDERR_FILENO);
    int rc = image_with_hive(&target, on_hive, &st);
    char *said = NULL;
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        said = captured_text(capture, prog);
    }
    if (capture != NULL)
        fclose(capture);
    free(parsed.text);
    const char *message = said != NULL && *said != '\0' ? said : NULL;
    json_t *result = st.result;
    if (result == NULL) {
        result = failed_result(line, message != NULL ? message : "the image could not be opened");
    } else if (rc != CLI_OK && !failed(result)) {
        json_object_set_new(result, "status", json_string("failed"));
        json_object_set_new(result, "error",
                            cli_json_text(message != NULL ? message : "the hive could not be written back"));
    } else if (message != NULL) {
        json_array_append_new(json_object_get(result, "notes"), cli_json_text(message));
    }
    if (result != NULL)
        json_object_set_new(result, "hive", cli_json_text(line));
    free(said);
    return result;
}
