/* internal.h: every layer's private header at once, for the tests and fuzz targets that reach inside the
 * library.  The library's own files include their layer's header (base.h, regf.h, hive.h, ports.h, ...). */
#ifndef HIVEPORT_INTERNAL_H
#define HIVEPORT_INTERNAL_H

#include "base.h"
#include "regf.h"
#include "hive.h"
#include "ports.h"
#include "txlog.h"
#include "hivecheck.h"
#include "rpcrange.h"
#include "audit.h"

#endif
