/* ports.h: the port domain: control sets through Select, the catalog, settings.  Not for applications.
 * Uses the open hive (hive.h) and what is below it. */
#ifndef HIVEPORT_PORTS_H
#define HIVEPORT_PORTS_H

#include "hive.h"

/* ---- controlset.c ---- */
/* Node of ControlSetNNN, or 0 with HIVEPORT_E_NO_CONTROLSET. */
int hp_controlset_node(hiveport *h, uint32_t number, hive_node_h *node);
/* HIVEPORT_OK when Select's Current, Default and LastKnownGood name existing control sets (writes need it). */
int hp_select_usable(hiveport *h);
/* Resolves target (also HIVEPORT_CS_ALL) into numbers[]; *count set. */
int hp_controlset_targets(hiveport *h, int target, uint32_t *numbers, size_t capacity, size_t *count);

#endif
