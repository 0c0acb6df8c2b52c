/* dynlib.h: optional libraries loaded on first use (dlopen), so that the commands which never touch a WIM
 * or an NTFS image do not pay, at every start, for loading wimlib and libntfs-3g and what they pull in
 * (libxml2, ICU, libstdc++, FUSE: about 4.6 ms of a 10 ms read; see tests/bench/RESULTS.md).
 *
 * A backend lists the functions it calls in an X-macro, keeps typed pointers to them in a struct, and
 * asks dynlib_load() to fill them:
 *     #define WIM_API(X) X(wimlib_open_wim) X(wimlib_free)
 *     static struct { WIM_API(DYNLIB_FIELD) } wimapi;
 *     ... dynlib_load("libwim.so.15", names, slots, n, why, sizeof why) ... wimapi.wimlib_free(w); */
#ifndef HIVEPORT_DYNLIB_H
#define HIVEPORT_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

#define DYNLIB_FIELD(f) __typeof__(f) *f;
#define DYNLIB_NAME(f) #f,

/* Opens soname and stores the address of names[i] into the function pointer at slots[i].  False, with
 * the loader's reason in why, when the library or a symbol is missing; the slots are then left NULL.
 * Backends call it once and keep the outcome. */
bool dynlib_load(const char *soname, const char *const *names, void *const *slots, size_t n, char *why,
                 size_t why_len);

#endif
