/* read-port.c: prints the port that one catalog setting pins in the current control set of a SYSTEM hive.
 *
 *   cc $(pkg-config --cflags hiveport) read-port.c -o read-port $(pkg-config --libs hiveport)
 *   ./read-port /mnt/image/Windows/System32/config/SYSTEM ntds
 *
 * Exit status: 0 and the port on stdout; 3 when the value is not set; 1 on any other failure; 2 for usage. */
#include <stdio.h>

#include <hiveport.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: read-port HIVE [SETTING-ID]   (default exchange-sa-rfr)\n");
        return 2;
    }
    const char *id = argc == 3 ? argv[2] : "exchange-sa-rfr";
    const hiveport_setting *setting = hiveport_catalog_find(id);
    if (setting == NULL) {
        fprintf(stderr, "read-port: %s is not a catalog id\n", id);
        return 2;
    }

    hiveport *h = NULL;
    uint32_t port = 0;
    int rc = hiveport_open(argv[1], 0, &h); /* read-only: the file is never modified */
    if (rc == HIVEPORT_OK)
        rc = hiveport_get_port(h, setting, HIVEPORT_CS_CURRENT, &port);
    if (rc == HIVEPORT_OK)
        printf("%u\n", port);
    else /* the message names the file, the control set and the value */
        fprintf(stderr, "read-port: %s\n", hiveport_errmsg(h));
    hiveport_close(h); /* also after a failed open */
    return rc == HIVEPORT_OK ? 0 : rc == HIVEPORT_E_NOT_SET ? 3 : 1;
}
