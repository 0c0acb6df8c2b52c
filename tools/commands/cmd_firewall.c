/* cmd_firewall.c: 'hiveport firewall': the inbound TCP rules a hive's static ports need (the endpoint
 * mapper plus every usable catalog port of the control sets Windows will boot), in a form to paste. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"

static const char usage[] =
    "Usage: hiveport firewall HIVE [--format FORMAT] [--controlset SEL]\n"
    "       hiveport firewall --wim FILE[:IMAGE] | --ntfs FILE[@OFFSET|@pN] | --disk FILE[@OFFSET|@pN] [OPTIONS]\n"
    "Print the inbound rules the static RPC ports of HIVE need: TCP 135 (the RPC endpoint mapper)\n"
    "plus every catalog setting present with a port 1-65535, one rule per port, each naming the\n"
    "services behind it.  By default the control sets Select\\Default (what Windows boots next) and\n"
    "Select\\Current (what was running) name are read; values Windows cannot use are left out\n"
    "(with a warning), as are dynamic (0) ports.\n\n"
    "  --format FORMAT   list (the default), json, nftables (rules for an nft chain), netsh\n"
    "                    (Windows Firewall commands) or iptables (commands)\n"
    "  --controlset SEL  read these control sets instead: current, default, lastknowngood, all, or\n"
    "                    a number (3 = ControlSet003)\n"
    CLI_HELP_READ
    CLI_HELP_IMAGE
    "  --help            print this help\n";

enum { OPT_FORMAT = 0x300 };

enum format { FORMAT_LIST, FORMAT_JSON, FORMAT_NFTABLES, FORMAT_NETSH, FORMAT_IPTABLES };
static const char *const format_names[] = {"list", "json", "nftables", "netsh", "iptables"};

#define EPMAP_PORT 135
#define EPMAP (-1) /* the setting index of the endpoint mapper, which no registry value pins */
#define NFT_COMMENT_MAX 128 /* nft refuses longer rule comments */

/* One service listening on a port in one control set. */
struct hit {
    uint32_t port;
    int setting; /* catalog index, or EPMAP */
    uint32_t controlset;
};

/* A catalog value present but left out: no rule can be made from it. */
struct skipped {
    uint32_t controlset;
    int setting;
    int status; /* hiveport_get_port()'s */
    uint32_t port;
};

struct firewall {
    hiveport *h;
    uint32_t *controlsets;
    size_t ncontrolsets;
    struct hit *hits;
    size_t nhits;
    struct skipped *skipped;
    size_t nskipped;
};

static const char *service_id(int setting)
{
    return setting == EPMAP ? "epmap" : hiveport_catalog_at((size_t)setting)->id;
}

static const char *service_description(int setting)
{
    return setting == EPMAP ? "RPC endpoint mapper" : hiveport_catalog_at((size_t)setting)->description;
}

static int cmp_hit(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    if (x->setting != y->setting)
        return x->setting < y->setting ? -1 : 1;
    return x->controlset < y->controlset ? -1 : x->controlset > y->controlset;
}

/* ---- which control sets, which ports ---- */

/* The control sets Windows will boot: Select\Default, and Select\Current when it differs (a capture
 * taken while another control set ran: which one the services use is not certain, so both are opened). */
static int boot_controlsets(const char *prog, struct firewall *fw)
{
    uint32_t def, cur;
    if (hiveport_resolve_controlset(fw->h, HIVEPORT_CS_DEFAULT, &def) != HIVEPORT_OK ||
        hiveport_resolve_controlset(fw->h, HIVEPORT_CS_CURRENT, &cur) != HIVEPORT_OK) {
        cli_error(prog, "%s (--controlset all or a number reads control sets without Select)",
                  hiveport_errmsg(fw->h));
        return CLI_FAILED;
    }
    fw->controlsets = calloc(2, sizeof *fw->controlsets);
    if (fw->controlsets == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    fw->controlsets[0] = def < cur ? def : cur;
    fw->controlsets[1] = def < cur ? cur : def;
    fw->ncontrolsets = def == cur ? 1 : 2;
    if (def != cur)
        cli_error(prog,
                  "warning: %s: Select\\Current (%u) and Select\\Default (%u) differ: the rules cover both "
                  "ControlSet%03u and ControlSet%03u (--controlset picks one)",
                  hiveport_name(fw->h), cur, def, cur, def);
    return CLI_OK;
}

static int collect(const char *prog, struct firewall *fw)
{
    size_t per_cs = hiveport_catalog_count();
    fw->hits = calloc(fw->ncontrolsets * per_cs + 1, sizeof *fw->hits);
    fw->skipped = calloc(fw->ncontrolsets * per_cs + 1, sizeof *fw->skipped);
    if (fw->hits == NULL || fw->skipped == NULL) {
        cli_error(prog, "out of memory");
        return CLI_FAILED;
    }
    fw->hits[fw->nhits++] = (struct hit){EPMAP_PORT, EPMAP, 0};
    for (size_t i = 0; i < fw->ncontrolsets; i++) {
        uint32_t cs = fw->controlsets[i];
        for (size_t j = 0; j < per_cs; j++) {
            const hiveport_setting *s = hiveport_catalog_at(j);
            uint32_t port = 0;
            int status = hiveport_get_port(fw->h, s, (int)cs, &port);
            if (status == HIVEPORT_E_NOT_SET)
                continue;
            if (status == HIVEPORT_OK && port >= 1 && port <= 65535) {
                fw->hits[fw->nhits++] = (struct hit){port, (int)j, cs};
                continue;
            }
            if (status != HIVEPORT_OK && status != HIVEPORT_E_WRONG_TYPE && status != HIVEPORT_E_BAD_DATA)
                return cli_fail(prog, fw->h);
            fw->skipped[fw->nskipped++] = (struct skipped){cs, (int)j, status, port};
            /* 0 on a "0 = dynamic" setting is a choice, not a mistake: no warning for it. */
            if (status != HIVEPORT_OK)
                cli_error(prog, "warning: %s: no rule for it (see hiveport audit)", hiveport_errmsg(fw->h));
            else if (!(port == 0 && (s->flags & HIVEPORT_SETTING_ZERO_DYNAMIC)))
                cli_error(prog, "warning: %s: ControlSet%03u %s is %u, not a TCP port (1-65535): no rule for it",
                          hiveport_name(fw->h), cs, s->id, port);
        }
    }
    qsort(fw->hits, fw->nhits, sizeof *fw->hits, cmp_hit);
    return CLI_OK;
}

/* ---- one rule per port: hits[first..end) share the port ---- */

static size_t rule_end(const struct firewall *fw, size_t first)
{
    size_t end = first + 1;
    while (end < fw->nhits && fw->hits[end].port == fw->hits[first].port)
        end++;
    return end;
}

/* Whether hits[i] starts a service of the rule at first (a setting's hits are adjacent: they sort by
 * setting, then control set). */
static bool first_of_service(const struct firewall *fw, size_t first, size_t i)
{
    return i == first || fw->hits[i].setting != fw->hits[i - 1].setting;
}

/* "id: description; id: description" (or only "id, id" when that is too long for nft), made safe for an
 * nft comment: no double quote or backslash (nft has no escape for them), printable ASCII only, at most
 * NFT_COMMENT_MAX bytes. */
static void nft_comment(const struct firewall *fw, size_t first, size_t end, char *buf, size_t len)
{
    char raw[1024];
    for (int with_description = 1; with_description >= 0; with_description--) {
        size_t used = 0;
        raw[0] = '\0';
        for (size_t i = first; i < end; i++) {
            if (!first_of_service(fw, first, i))
                continue;
            const char *sep = used == 0 ? "" : with_description ? "; " : ", ";
            int n = snprintf(raw + used, sizeof raw - used, "%s%s%s%s", sep, service_id(fw->hits[i].setting),
                             with_description ? ": " : "",
                             with_description ? service_description(fw->hits[i].setting) : "");
            if (n < 0 || (size_t)n >= sizeof raw - used)
                break;
            used += (size_t)n;
        }
        if (used <= NFT_COMMENT_MAX)
            break;
    }
    size_t k = 0;
    for (size_t i = 0; raw[i] != '\0' && k + 1 < len; i++) {
        char c = raw[i];
        buf[k++] = c == '"' ? '\'' : (c < 0x20 || c > 0x7E || c == '\\') ? '?' : c;
    }
    buf[k] = '\0';
    if (k > NFT_COMMENT_MAX)
        strcpy(buf + NFT_COMMENT_MAX - 3, "...");
}

static void print_rule(const struct firewall *fw, size_t first, size_t end, enum format format)
{
    uint32_t port = fw->hits[first].port;
    switch (format) {
    case FORMAT_LIST:
        for (size_t i = first; i < end; i++) {
            if (!first_of_service(fw, first, i))
                continue;
            char where[16];
            snprintf(where, sizeof where, "%u/tcp", port);
            printf("%-9s %-25s %s", where, service_id(fw->hits[i].setting),
                   service_description(fw->hits[i].setting));
            /* With several control sets read, say which one pins the port (the endpoint mapper: all). */
            if (fw->ncontrolsets > 1 && fw->hits[i].setting != EPMAP) {
                printf(" (");
                for (size_t j = i; j < end && fw->hits[j].setting == fw->hits[i].setting; j++)
                    printf("%sControlSet%03u", j > i ? ", " : "", fw->hits[j].controlset);
                putchar(')');
            }
            putchar('\n');
        }
        break;
    case FORMAT_NFTABLES: {
        char comment[NFT_COMMENT_MAX * 2];
        nft_comment(fw, first, end, comment, sizeof comment);
        printf("tcp dport %u accept comment \"%s\"\n", port, comment);
        break;
    }
    case FORMAT_NETSH:
        printf("netsh advfirewall firewall add rule name=\"hiveport ");
        for (size_t i = first; i < end; i++)
            if (first_of_service(fw, first, i))
                printf("%s%s", i > first ? ", " : "", service_id(fw->hits[i].setting));
        printf(" (TCP %u)\" dir=in action=allow protocol=TCP localport=%u\n", port, port);
        break;
    case FORMAT_IPTABLES:
        printf("iptables -A INPUT -p tcp --dport %u -j ACCEPT  #", port);
        for (size_t i = first; i < end; i++)
            if (first_of_service(fw, first, i))
                printf("%s %s: %s", i > first ? ";" : "", service_id(fw->hits[i].setting),
                       service_description(fw->hits[i].setting));
        putchar('\n');
        break;
    case FORMAT_JSON:
        break;
    }
}

/* ---- JSON ---- */

static json_t *rule_json(const struct firewall *fw, size_t first, size_t end)
{
    json_t *services = json_array();
    for (size_t i = first; services != NULL && i < end; i++) {
        if (!first_of_service(fw, first, i))
            continue;
        json_t *cs;
        if (fw->hits[i].setting == EPMAP) {
            cs = cli_json_numbers(fw->controlsets, fw->ncontrolsets);
        } else {
            cs = json_array();
            for (size_t j = i; cs != NULL && j < end && fw->hits[j].setting == fw->hits[i].setting; j++)
                cli_json_append(&cs, json_integer(fw->hits[j].controlset));
        }
        json_t *svc = json_pack("{s:s, s:s, s:o}", "id", service_id(fw->hits[i].setting), "description",
                                service_description(fw->hits[i].setting), "controlsets", cs);
        cli_json_append(&services, svc);
    }
    return json_pack("{s:s, s:i, s:o}", "protocol", "tcp", "port", (json_int_t)fw->hits[first].port, "services",
                     services);
}

static json_t *skipped_json(const struct skipped *s)
{
    const hiveport_setting *setting = hiveport_catalog_at((size_t)s->setting);
    const char *reason = s->status != HIVEPORT_OK ? hiveport_strerror(s->status)
                         : s->port == 0 && (setting->flags & HIVEPORT_SETTING_ZERO_DYNAMIC)
                             ? "0: a dynamic port"
                             : "not a TCP port (1-65535)";
    return json_pack("{s:i, s:s, s:o, s:s}", "controlset", (json_int_t)s->controlset, "id", setting->id, "port",
                     s->status == HIVEPORT_OK ? json_integer(s->port) : json_null(), "reason", reason);
}

static int print_json(const char *prog, const struct firewall *fw)
{
    json_t *rules = json_array();
    for (size_t first = 0; rules != NULL && first < fw->nhits; first = rule_end(fw, first))
        cli_json_append(&rules, rule_json(fw, first, rule_end(fw, first)));
    json_t *skipped = json_array();
    for (size_t i = 0; skipped != NULL && i < fw->nskipped; i++)
        cli_json_append(&skipped, skipped_json(&fw->skipped[i]));
    return cli_json_print(prog, json_pack("{s:o, s:o, s:o, s:o}", "hive", cli_json_text(hiveport_name(fw->h)),
                                          "controlsets", cli_json_numbers(fw->controlsets, fw->ncontrolsets), "rules",
                                          rules, "skipped", skipped));
}

static int parse_format(const char *prog, const char *text, enum format *format)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(text, format_names[i]) == 0) {
            *format = (enum format)i;
            return CLI_OK;
        }
    return cli_usage_error(prog, "invalid --format '%s': expected list, json, nftables, netsh or iptables", text);
}

/* --format (cli_parse_options()). */
static int parse_option(void *format, const char *prog, int c, const char *arg)
{
    (void)c;
    int rc = parse_format(prog, arg, format);
    return rc == CLI_OK ? CLI_CONTINUE : rc;
}

/* What firewall reads, and in which format it prints the rules. */
struct firewall_request {
    const char *prog;
    struct cli_open open;
    enum format format;
    int target;
};

static int firewall_hive(void *ctx, const char *hive, const char *name)
{
    struct firewall_request *req = ctx;
    const char *prog = req->prog;
    enum format format = req->format;
    int target = req->target, rc;
    req->open.name = name;
    struct firewall fw = {0};
    if ((rc = cli_open_reader(prog, hive, &req->open, 0, &fw.h)) != CLI_OK)
        goto out;
    bool explicit_target = target != INT_MIN;
    if (!explicit_target)
        target = HIVEPORT_CS_DEFAULT;
    rc = explicit_target ? cli_targets(prog, fw.h, target, &fw.controlsets, &fw.ncontrolsets)
                         : boot_controlsets(prog, &fw);
    if (rc != CLI_OK || (rc = collect(prog, &fw)) != CLI_OK)
        goto out;
    /* Everything is read before the first rule: a failure prints no half rule set. */
    if (format == FORMAT_JSON)
        rc = print_json(prog, &fw);
    else
        for (size_t first = 0; first < fw.nhits; first = rule_end(&fw, first))
            print_rule(&fw, first, rule_end(&fw, first), format);
out:
    free(fw.hits);
    free(fw.skipped);
    free(fw.controlsets);
    hiveport_close(fw.h);
    return rc;
}

int cmd_firewall(int argc, char **argv)
{
    static const struct option longopts[] = {{"format", required_argument, NULL, OPT_FORMAT}, CLI_LONGOPT_CONTROLSET,
                                             CLI_LONGOPTS_READ, CLI_LONGOPTS_IMAGE, CLI_LONGOPT_HELP, CLI_LONGOPT_END};
    /* target INT_MIN, none given: the firewall follows the control set Windows boots */
    struct firewall_request req = {.prog = argv[0], .format = FORMAT_LIST, .target = INT_MIN};
    struct cli_target t;
    cli_open_init(&req.open);
    int rc = cli_parse_options(argc, argv, &(struct cli_parse){usage, longopts, .open = &req.open,
                                                               .target = &req.target, .option = parse_option,
                                                               .ctx = &req.format, .min_operands = 1,
                                                               .max_operands = 1, .image = &t});
    if (rc != CLI_CONTINUE)
        return rc;
    return image_with_target(&t, firewall_hive, &req);
}
