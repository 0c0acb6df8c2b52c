/* audit_rpc.c: the RPC runtime's dynamic port restriction in the SOFTWARE hive, for hiveport_audit().
 *
 *   SOFTWARE\Microsoft\Rpc\Internet
 *     Ports                   REG_MULTI_SZ  "5000-5100", "5984"    (lib/rpcrange.c parses it)
 *     PortsInternetAvailable  REG_SZ        Y: Ports lists the ports dynamic RPC may use
 *                                           N: Ports lists the ports it must not use
 *     UseInternetPorts        REG_SZ        Y or N
 *
 * A missing key or a missing Ports means no restriction.  Once Ports is there, any invalid part (or a missing
 * PortsInternetAvailable) makes the RPC runtime treat the whole configuration as invalid (KB 154596).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define RPC_TEXT_MAX 160 /* characters of the Ports list quoted in messages */

static const char *const consequence =
    "the RPC runtime then treats the whole configuration as invalid, and RPC servers cannot listen on TCP "
    "(KB 154596)";

/* "5000-5100, 5984" (shortened with "..."), for messages. */
static char *ranges_text(const struct hp_rpc_range *r, size_t n)
{
    char text[RPC_TEXT_MAX + 8] = "";
    size_t used = 0;
    if (n == 0)
        snprintf(text, sizeof text, "(empty)");
    for (size_t i = 0; i < n; i++) {
        char one[24];
        if (r[i].low == r[i].high)
            snprintf(one, sizeof one, "%s%u", i ? ", " : "", r[i].low);
        else
            snprintf(one, sizeof one, "%s%u-%u", i ? ", " : "", r[i].low, r[i].high);
        if (used + strlen(one) > RPC_TEXT_MAX) {
            snprintf(text + used, sizeof text - used, ", ...");
            break;
        }
        used += (size_t)snprintf(text + used, sizeof text - used, "%s", one);
    }
    return hp_strdup(text);
}

/* Reads a Y/N REG_SZ value; *yn is 1, 0, or -1 when it is missing (*present false) or invalid. */
static int read_yn(struct hp_audit *a, hive_node_h key, const char *key_name, const char *name, bool *present,
                   int *yn, char **as_found, char *shown, size_t shown_len)
{
    hive_value_h value;
    *present = false;
    *yn = -1;
    int rc = hp_audit_value(a, a->software, key, name, &value, as_found);
    if (rc != HIVEPORT_OK || value == 0)
        return rc;
    *present = true;
    uint32_t type;
    size_t len;
    char *data = NULL;
    rc = hp_audit_read(a, a->software, value, key_name, 64, &type, &data, &len);
    if (rc == HIVEPORT_OK) {
        char why[96];
        if (type == hive_t_REG_SZ)
            *yn = hp_rpcrange_read_yn(data, len, why, sizeof why);
        char described[64];
        hp_audit_describe_data(type, data, len, described, sizeof described);
        snprintf(shown, shown_len, "%s %s", hp_type_name(type), described);
    }
    free(data);
    return rc;
}

/* read_yn() of value name of key; when it is neither Y nor N, the finding (in *spec) that says so: its
 * data as found, or its absence beside Ports (ports_name), needed_for saying what the runtime needs it
 * for.  Sets *invalid then. */
static int audit_yn(struct hp_audit *a, struct hp_finding_spec *spec, hive_node_h key, const char *key_name,
                    const char *name, const char *ports_name, const char *needed_for, int *yn, char **as_found,
                    bool *invalid)
{
    bool present;
    char shown[96] = "";
    int rc = read_yn(a, key, key_name, name, &present, yn, as_found, shown, sizeof shown);
    if (rc != HIVEPORT_OK || *yn >= 0)
        return rc;
    *invalid = true;
    spec->value_name = present ? *as_found : name;
    if (present)
        return hp_audit_add(a, spec, "In the SOFTWARE hive, %s \"%s\" is %s, not the REG_SZ \"Y\" or \"N\" the RPC "
                                     "runtime reads: %s.",
                            key_name, *as_found, shown, consequence);
    return hp_audit_add(a, spec, "In the SOFTWARE hive, %s has \"%s\" but no \"%s\"%s: %s.", key_name, ports_name,
                        name, needed_for, consequence);
}

int hp_audit_rpc_load(struct hp_audit *a)
{
    static const char *const path[] = {"Microsoft", "Rpc", "Internet"};
    hiveport *sw = a->software;
    char key[3 * (HP_NAME_MAX + 1)] = "";
    char *ports_name = NULL, *avail_name = NULL, *use_name = NULL, *data = NULL;
    struct hp_rpc_range *ranges = NULL;
    size_t nranges = 0;
    hive_node_h node = hp_nav_root(sw);
    int rc = HIVEPORT_OK;
    for (size_t i = 0; i < 3; i++) {
        char *found = NULL;
        rc = hp_audit_child(a, sw, node, path[i], &node, &found);
        if (rc != HIVEPORT_OK)
            return rc;
        if (found != NULL) {
            size_t used = strlen(key);
            snprintf(key + used, sizeof key - used, "%s%s", i ? "\\" : "", found);
        }
        free(found);
        if (node == 0)
            return HIVEPORT_OK; /* no Internet key: no restriction */
    }

    hive_value_h ports;
    if ((rc = hp_audit_value(a, sw, node, HP_RPC_PORTS, &ports, &ports_name)) != HIVEPORT_OK)
        goto out;
    struct hp_finding_spec spec = {.severity = HP_ERROR, .code = "rpc-range-invalid", .key = key,
                                   .value_name = HP_RPC_PORTS};
    if (ports == 0) { /* once the Internet key exists, the runtime needs all three values */
        rc = hp_audit_add(a, &spec, "In the SOFTWARE hive, %s exists but has no \"%s\": %s.", key, HP_RPC_PORTS,
                          consequence);
        goto out;
    }
    spec.value_name = ports_name;
    uint32_t type;
    size_t len;
    if ((rc = hp_audit_read(a, sw, ports, key, HP_AUDIT_RPC_DATA_MAX, &type, &data, &len)) != HIVEPORT_OK)
        goto out;

    bool invalid = false;
    if (type != hive_t_REG_MULTI_SZ) {
        invalid = true;
        rc = hp_audit_add(a, &spec, "In the SOFTWARE hive, %s \"%s\" is %s, not the REG_MULTI_SZ the RPC runtime "
                                    "reads: %s.",
                          key, ports_name, hp_type_name(type), consequence);
    } else if (len > HP_AUDIT_RPC_DATA_MAX) {
        invalid = true;
        rc = hp_audit_add(a, &spec, "In the SOFTWARE hive, %s \"%s\" is %zu bytes long, far more than a list of "
                                    "ports needs: %s.",
                          key, ports_name, len, consequence);
    } else {
        char why[160];
        int prc = hp_rpcrange_read(data, len, &ranges, &nranges, why, sizeof why);
        if (prc == HIVEPORT_E_NOMEM) {
            rc = hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(a->h));
        } else if (prc != HIVEPORT_OK) {
            invalid = true;
            rc = hp_audit_add(a, &spec, "In the SOFTWARE hive, %s \"%s\" has an invalid entry (%s): %s.", key,
                              ports_name, why, consequence);
        }
    }
    if (rc != HIVEPORT_OK)
        goto out;

    int available, use;
    rc = audit_yn(a, &spec, node, key, HP_RPC_PORTS_AVAILABLE, ports_name,
                  " to say whether it lists the ports dynamic RPC may use or those it must not", &available,
                  &avail_name, &invalid);
    if (rc == HIVEPORT_OK)
        rc = audit_yn(a, &spec, node, key, HP_RPC_USE_INTERNET, ports_name, "", &use, &use_name, &invalid);
    if (rc != HIVEPORT_OK || invalid)
        goto out;

    a->rpc_text = ranges_text(ranges, nranges);
    if (a->rpc_text == NULL) {
        rc = hp_error(a->h, HIVEPORT_E_NOMEM, "%s: out of memory while auditing", hp_name(a->h));
        goto out;
    }
    a->rpc_available = available == 1;
    a->rpc_ranges = ranges;
    a->rpc_nranges = nranges;
    a->rpc_active = true;
    ranges = NULL;
    uint32_t usable = hp_rpcrange_usable(a->rpc_ranges, a->rpc_nranges, a->rpc_available);
    if (usable < 100) {
        struct hp_finding_spec small = {.severity = HP_WARNING, .code = "rpc-range-small", .key = key,
                                        .value_name = ports_name};
        rc = hp_audit_add(a, &small,
                          "In the SOFTWARE hive, %s leaves dynamic RPC only %u port%s (Ports %s, "
                          "PortsInternetAvailable %s): KB 154596 advises a range of at least 100 ports.",
                          key, usable, usable == 1 ? "" : "s", a->rpc_text, a->rpc_available ? "Y" : "N");
    }
out:
    hp_free(ranges);
    free(data);
    free(ports_name);
    free(avail_name);
    free(use_name);
    return rc;
}

void hp_audit_rpc_free(struct hp_audit *a)
{
    hp_free(a->rpc_ranges);
    hp_free(a->rpc_text);
    a->rpc_ranges = NULL;
    a->rpc_text = NULL;
    a->rpc_active = false;
}

bool hp_audit_rpc_collides(const struct hp_audit *a, uint32_t port)
{
    if (!a->rpc_active)
        return false;
    bool listed = hp_rpcrange_contains(a->rpc_ranges, a->rpc_nranges, port);
    /* An exclusion list leaves 1025-65535 minus the list: the runtime never hands out lower ports. */
    return a->rpc_available ? listed : (!listed && port >= 1025);
}
