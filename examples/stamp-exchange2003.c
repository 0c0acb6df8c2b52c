/* stamp-exchange2003.c: pins the Exchange 2003 RPC ports (KB 270836, and the RPC over HTTP ports Setup uses)
 * in every control set of an offline Windows image, in one atomic commit, keeping the old hive as SYSTEM.bak.
 *
 *   cc $(pkg-config --cflags hiveport) stamp-exchange2003.c -o stamp-exchange2003 $(pkg-config --libs hiveport)
 *   ./stamp-exchange2003 /mnt/image        (the image's root, or the path of its SYSTEM hive)
 *
 * Either every port lands or none does: the changes stay in memory until hiveport_commit(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hiveport.h>

static const struct {
    const char *id;
    uint32_t port;
} ports[] = {
    {"exchange-sa-rfr", 5001},     {"exchange-sa-nspi", 5002},         {"exchange-is", 5003},
    {"exchange-srs", 5004},        {"exchange-is-rpchttp", 6001},      {"exchange-sa-http", 6002},
    {"exchange-sa-rpchttp-nspi", 6004},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stamp-exchange2003 IMAGE-ROOT|SYSTEM-HIVE\n");
        return 2;
    }
    /* An image root holds the hive at Windows/System32/config/SYSTEM. */
    struct stat st;
    char hive[4096], backup[4096 + 8];
    const char *suffix = stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode) ? "/Windows/System32/config/SYSTEM" : "";
    if ((size_t)snprintf(hive, sizeof hive, "%s%s", argv[1], suffix) >= sizeof hive) {
        fprintf(stderr, "stamp-exchange2003: path too long\n");
        return 2;
    }
    snprintf(backup, sizeof backup, "%s.bak", hive);

    hiveport *h = NULL;
    int rc = hiveport_open(hive, HIVEPORT_OPEN_WRITE, &h); /* refuses dirty hives; locks the file */
    for (size_t i = 0; rc == HIVEPORT_OK && i < sizeof ports / sizeof ports[0]; i++)
        rc = hiveport_set_port(h, hiveport_catalog_find(ports[i].id), HIVEPORT_CS_ALL, ports[i].port, 0);
    if (rc == HIVEPORT_OK)
        rc = hiveport_commit(h, backup);
    if (rc == HIVEPORT_OK)
        printf("%s: %zu Exchange 2003 ports pinned in every control set\n", hive, sizeof ports / sizeof ports[0]);
    else /* closing without a commit leaves the file as it was */
        fprintf(stderr, "stamp-exchange2003: %s\n", hiveport_errmsg(h));
    hiveport_close(h);
    return rc == HIVEPORT_OK ? 0 : 1;
}
