/* dynlib.c: see dynlib.h. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dynlib.h"

bool dynlib_load(const char *soname, const char *const *names, void *const *slots, size_t n, char *why,
                 size_t why_len)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *err = dlerror();
        snprintf(why, why_len, "cannot load %s: %s", soname, err ? err : "unknown error");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        dlerror();
        void *sym = dlsym(lib, names[i]);
        if (sym == NULL) {
            snprintf(why, why_len, "%s has no %s (too old a version?)", soname, names[i]);
            for (size_t j = 0; j < n; j++)
                memset(slots[j], 0, sizeof sym);
            dlclose(lib);
            return false;
        }
        /* POSIX guarantees that a function pointer and void * have the same representation. */
        memcpy(slots[i], &sym, sizeof sym);
    }
    return true;
}
