/* dcom.c: the TCP port of a DCOM application in a SOFTWARE hive, read and pinned through its AppID.
 *
 *   SOFTWARE\Classes\AppID\{D99E6E74-FC88-11D0-B498-00A0C90312F3}
 *     Endpoints   REG_MULTI_SZ   "ncacn_ip_tcp,0,5001" NUL "ncacn_np,0,\pipe\cert" NUL NUL
 *
 * Each string is "PROTOCOL SEQUENCE,FLAGS,ENDPOINT"; the one for ncacn_ip_tcp names the port.  Setting the
 * port rewrites that string only: the others keep their bytes, in their places.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hive.h"

#define DCOM_APPID_KEY "Classes\\AppID"
#define DCOM_ENDPOINTS "Endpoints"
#define DCOM_TCP "ncacn_ip_tcp"
#define DCOM_DATA_MAX 65536       /* bytes of Endpoints worth reading */
#define DCOM_STRING_MAX 256       /* characters of one string looked at */

/* "{8-4-4-4-12}" in hexadecimal digits of either case. */
static bool braced_guid(const char *s)
{
    static const char form[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    for (size_t i = 0; i < sizeof form - 1; i++) {
        if (form[i] == 'x' ? !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                               (s[i] >= 'A' && s[i] <= 'F'))
                           : s[i] != form[i])
            return false;
    }
    return s[sizeof form - 1] == '\0';
}

/* One string of Endpoints, as units [start, end) of the payload. */
struct endpoint {
    size_t start, end;
    bool tcp;       /* its protocol sequence is ncacn_ip_tcp (any case, blanks around it allowed) */
    bool port_ok;   /* tcp, with three fields and a decimal port 1-65535 as the third */
    uint32_t port;
    char text[DCOM_STRING_MAX + 4]; /* ASCII rendering for messages ('?' for anything else) */
};

/* The strings of a REG_MULTI_SZ up to its terminating empty string (or the end of the data).
 * *list (the caller frees it with hp_free) and *count; *tail is the unit where the terminator (and
 * whatever follows it) starts, units when there is none. */
static int split(const char *data, size_t len, struct endpoint **list, size_t *count, size_t *tail)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t units = len / 2, n = 0;
    *list = NULL;
    *count = 0;
    *tail = units;
    for (size_t pos = 0; pos < units;) { /* count */
        if (p[2 * pos] == 0 && p[2 * pos + 1] == 0)
            break;
        n++;
        while (pos < units && (p[2 * pos] != 0 || p[2 * pos + 1] != 0))
            pos++;
        pos++;
    }
    struct endpoint *e = hp_calloc(n ? n : 1, sizeof *e);
    if (e == NULL)
        return HIVEPORT_E_NOMEM;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        e[i].start = pos;
        size_t k = 0;
        for (; pos < units && (p[2 * pos] != 0 || p[2 * pos + 1] != 0); pos++) {
            unsigned c = p[2 * pos] | (unsigned)p[2 * pos + 1] << 8;
            if (k < DCOM_STRING_MAX)
                e[i].text[k++] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
            else if (k == DCOM_STRING_MAX)
                memcpy(e[i].text + k, "...", 3), k += 3;
        }
        e[i].text[k] = '\0';
        e[i].end = pos++;
        /* "ncacn_ip_tcp , 0 , 5001": the protocol sequence, then flags, then the endpoint. */
        const char *t = e[i].text;
        t += strspn(t, " \t");
        size_t plen = strcspn(t, ",");
        size_t trimmed = plen;
        while (trimmed > 0 && (t[trimmed - 1] == ' ' || t[trimmed - 1] == '\t'))
            trimmed--;
        e[i].tcp = trimmed == strlen(DCOM_TCP) && strncasecmp(t, DCOM_TCP, trimmed) == 0;
        if (!e[i].tcp || t[plen] != ',')
            continue;
        const char *flags = t + plen + 1, *comma = strchr(flags, ',');
        if (comma == NULL)
            continue;
        const char *num = comma + 1;
        num += strspn(num, " \t");
        size_t digits = strspn(num, "0123456789");
        const char *rest = num + digits;
        rest += strspn(rest, " \t");
        if (digits == 0 || digits > 5 || *rest != '\0')
            continue;
        unsigned long port = strtoul(num, NULL, 10);
        if (port >= 1 && port <= 65535) {
            e[i].port_ok = true;
            e[i].port = (uint32_t)port;
        }
    }
    *tail = pos < units ? pos : units;
    *list = e;
    *count = n;
    return HIVEPORT_OK;
}

/* Where the AppID lives and what its Endpoints holds. */
struct located {
    char path[64];      /* "Classes\AppID\{...}" */
    hive_node_h key;    /* 0 when the AppID is not registered */
    hive_value_h value; /* 0 when there is no Endpoints */
    uint32_t type;
    size_t len;
    char *data; /* read when value and len <= DCOM_DATA_MAX; free() */
};

static int check_args(hiveport *h, const char *appid)
{
    if (!hp_handle_usable(h))
        return HIVEPORT_E_INVALID_ARG;
    hp_clear_error(h);
    if (appid == NULL || !braced_guid(appid))
        return hp_error(h, HIVEPORT_E_INVALID_ARG,
                        "%s: AppID \"%s\" is not a braced GUID like {D99E6E74-FC88-11D0-B498-00A0C90312F3}",
                        hp_name(h), appid ? appid : "(null)");
    return hp_require_software(h);
}

static int locate(hiveport *h, const char *appid, struct located *loc)
{
    memset(loc, 0, sizeof *loc);
    snprintf(loc->path, sizeof loc->path, DCOM_APPID_KEY "\\%s", appid);
    int rc = hp_key_lookup(h, hp_nav_root(h), loc->path, &loc->key);
    if (rc != HIVEPORT_OK || loc->key == 0)
        return rc;
    if ((rc = hp_nav_value(h, loc->key, DCOM_ENDPOINTS, &loc->value)) != HIVEPORT_OK || loc->value == 0)
        return rc;
    if ((rc = hp_nav_value_type(h, loc->value, &loc->type, &loc->len)) != HIVEPORT_OK || loc->len > DCOM_DATA_MAX)
        return rc;
    hive_type type;
    size_t len;
    errno = 0;
    loc->data = hp_value_data(h, loc->value, &type, &len);
    if (loc->data == NULL)
        return hp_error(h, errno == ENOMEM ? HIVEPORT_E_NOMEM : HIVEPORT_E_CORRUPT,
                        "%s: %s: \"" DCOM_ENDPOINTS "\" is unreadable: %s", hp_name(h), loc->path,
                        strerror(errno ? errno : EINVAL));
    loc->len = len;
    return HIVEPORT_OK;
}

/* Checks that Endpoints is a REG_MULTI_SZ Windows can read at all; reported on h. */
static int check_endpoints(hiveport *h, const struct located *loc)
{
    if (loc->type != hive_t_REG_MULTI_SZ)
        return hp_error(h, HIVEPORT_E_WRONG_TYPE, "%s: %s: \"" DCOM_ENDPOINTS "\" is %s, not REG_MULTI_SZ",
                        hp_name(h), loc->path, hp_type_name(loc->type));
    if (loc->data == NULL)
        return hp_error(h, HIVEPORT_E_BAD_DATA, "%s: %s: \"" DCOM_ENDPOINTS "\" is %zu bytes long", hp_name(h),
                        loc->path, loc->len);
    return HIVEPORT_OK;
}

HIVEPORT_API int hiveport_dcom_get_port(hiveport *h, const char *appid, uint32_t *port)
{
    int rc = check_args(h, appid);
    if (rc != HIVEPORT_OK)
        return rc;
    if (port == NULL)
        return hp_error(h, HIVEPORT_E_INVALID_ARG, "%s: no place for the port", hp_name(h));
    struct located loc;
    struct endpoint *list = NULL;
    size_t n = 0, tail;
    if ((rc = locate(h, appid, &loc)) != HIVEPORT_OK)
        goto out;
    if (loc.key == 0) {
        rc = hp_error(h, HIVEPORT_E_NOT_SET, "%s: no AppID %s in " DCOM_APPID_KEY, hp_name(h), appid);
        goto out;
    }
    if (loc.value == 0) {
        rc = hp_error(h, HIVEPORT_E_NOT_SET, "%s: %s has no \"" DCOM_ENDPOINTS "\": DCOM picks a dynamic port",
                      hp_name(h), loc.path);
        goto out;
    }
    if ((rc = check_endpoints(h, &loc)) != HIVEPORT_OK)
        goto out;
    if (split(loc.data, loc.len, &list, &n, &tail) != HIVEPORT_OK) {
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        goto out;
    }
    const struct endpoint *first = NULL;
    for (size_t i = 0; rc == HIVEPORT_OK && i < n; i++) {
        if (!list[i].tcp)
            continue;
        if (!list[i].port_ok)
            rc = hp_error(h, HIVEPORT_E_BAD_DATA,
                          "%s: %s: \"" DCOM_ENDPOINTS "\" string %zu, \"%s\", is not \"" DCOM_TCP ",0,PORT\" with "
                          "a port 1-65535",
                          hp_name(h), loc.path, i + 1, list[i].text);
        else if (first == NULL)
            first = &list[i];
        else if (first->port != list[i].port)
            rc = hp_error(h, HIVEPORT_E_BAD_DATA,
                          "%s: %s: \"" DCOM_ENDPOINTS "\" has two TCP endpoints, \"%s\" and \"%s\"", hp_name(h),
                          loc.path, first->text, list[i].text);
    }
    if (rc == HIVEPORT_OK && first == NULL)
        rc = hp_error(h, HIVEPORT_E_NOT_SET, "%s: %s: \"" DCOM_ENDPOINTS "\" has no " DCOM_TCP " endpoint",
                      hp_name(h), loc.path);
    if (rc == HIVEPORT_OK)
        *port = first->port;
out:
    hp_free(list);
    free(loc.data);
    return rc;
}

/* Appends units [from, to) of src to out at *k. */
static void copy_units(char *out, size_t *k, const char *src, size_t from, size_t to)
{
    memcpy(out + 2 * *k, src + 2 * from, 2 * (to - from));
    *k += to - from;
}

/* The new Endpoints payload: the first TCP string replaced by "ncacn_ip_tcp,0,PORT" (or the string added
 * at the end of the list), further TCP strings dropped, everything else as it was.  *out is hp_malloc'd. */
static int build(const char *data, size_t len, uint32_t port, char **out, size_t *out_len)
{
    struct endpoint *list = NULL;
    size_t n = 0, tail, units = len / 2;
    char mine[32];
    int mine_len = snprintf(mine, sizeof mine, DCOM_TCP ",0,%u", port);
    if (split(data, len, &list, &n, &tail) != HIVEPORT_OK)
        return HIVEPORT_E_NOMEM;
    /* At most: every old unit, the new string and its NUL, a NUL for an unterminated last string, and a
     * terminator. */
    char *buf = hp_malloc(2 * (units + (size_t)mine_len + 3));
    if (buf == NULL) {
        hp_free(list);
        return HIVEPORT_E_NOMEM;
    }
    size_t k = 0;
    bool placed = false;
    for (size_t i = 0; i < n; i++) {
        if (list[i].tcp && placed)
            continue;
        if (list[i].tcp) {
            for (int c = 0; c < mine_len; c++, k++) {
                buf[2 * k] = mine[c];
                buf[2 * k + 1] = 0;
            }
            placed = true;
        } else {
            copy_units(buf, &k, data, list[i].start, list[i].end);
        }
        buf[2 * k] = buf[2 * k + 1] = 0;
        k++;
    }
    if (!placed) {
        for (int c = 0; c <= mine_len; c++, k++) { /* with its NUL */
            buf[2 * k] = mine[c];
            buf[2 * k + 1] = 0;
        }
    }
    if (tail < units) {
        copy_units(buf, &k, data, tail, units); /* the terminator and whatever follows it, as they were */
    } else {
        buf[2 * k] = buf[2 * k + 1] = 0;
        k++;
    }
    hp_free(list);
    *out = buf;
    *out_len = 2 * k;
    return HIVEPORT_OK;
}

HIVEPORT_API int hiveport_dcom_set_port(hiveport *h, const char *appid, uint32_t port)
{
    int rc = check_args(h, appid);
    if (rc != HIVEPORT_OK || (rc = hp_check_writable(h)) != HIVEPORT_OK)
        return rc;
    if (port == 0 || port > 65535)
        return hp_error(h, HIVEPORT_E_RANGE, "%s: port %u for DCOM AppID %s is outside 1-65535", hp_name(h), port,
                        appid);
    struct located loc;
    char *data = NULL;
    size_t len = 0;
    if ((rc = locate(h, appid, &loc)) != HIVEPORT_OK)
        goto out;
    if (loc.key == 0) {
        rc = hp_error(h, HIVEPORT_E_NOT_SET,
                      "%s: no AppID %s in " DCOM_APPID_KEY ": the application is not registered in this hive",
                      hp_name(h), appid);
        goto out;
    }
    if (loc.value != 0 && (rc = check_endpoints(h, &loc)) != HIVEPORT_OK)
        goto out;
    if (build(loc.data, loc.value ? loc.len : 0, port, &data, &len) != HIVEPORT_OK) {
        rc = hp_error(h, HIVEPORT_E_NOMEM, "%s: out of memory", hp_name(h));
        goto out;
    }
    if (loc.value != 0 && loc.len == len && memcmp(loc.data, data, len) == 0)
        goto out; /* already as asked */

    /* An existing value keeps its own spelling (and its place), as RegSetValue does. */
    rc = hp_edit_value_set(h, loc.key, loc.value, DCOM_ENDPOINTS, hive_t_REG_MULTI_SZ, data, len);
out:
    hp_free(data);
    free(loc.data);
    return rc;
}
