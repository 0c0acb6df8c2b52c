/* json.c: pieces of the JSON documents several commands print.  An array that cannot take an item is
 * dropped whole, so that an out-of-memory shows as a missing document, never as a short list. */
#include "cli.h"

bool cli_json_append(json_t **array, json_t *item)
{
    if (*array != NULL && json_array_append_new(*array, item) != 0) {
        json_decref(*array);
        *array = NULL;
    }
    return *array != NULL;
}

json_t *cli_json_numbers(const uint32_t *numbers, size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < count; i++)
        cli_json_append(&a, json_integer(numbers[i]));
    return a;
}

json_t *cli_json_logs(const hiveport *h)
{
    unsigned entries = 0;
    int state = hiveport_log_state(h, &entries);
    return json_pack("{s:s, s:i, s:o}", "state", cli_log_state_name(state), "entries", (json_int_t)entries,
                     "report", cli_json_text(hiveport_log_report(h)));
}
