# mk/images.mk: optional image support of the hiveport command (issue 11): WIM files through wimlib
# (Debian libwim-dev) and NTFS volume images through libntfs-3g (Debian ntfs-3g-dev).  Each is detected
# here; without it the CLI still builds and '--wim'/'--ntfs' say it is missing ('hiveport --version'
# tells).  IMAGE_LIBS is appended to the tool's link line.  NO_WIM=1 / NO_NTFS=1 build without them.
#
# wimlib.pc lists fuse in Requires.private, so `pkg-config --exists wimlib` fails without libfuse-dev
# although nothing here needs FUSE: a compile-and-link probe decides instead.

# The probes run after `.ci/deps` has installed what .ci/packages lists (a fresh machine's `make demo` must
# not build without the image libraries because it probed first): their results are written to
# $(BUILD)/images.config, which depends on the installed-packages stamp, and GNU make re-reads its makefiles
# once an included one has been remade.  A changed package list probes again.
# libntfs-3g's headers need size_t, va_list, time_t and off_t declared first.
IMAGE_PROBE = printf '\#include <stddef.h>\n\#include <stdarg.h>\n\#include <stdio.h>\n\#include <time.h>\n\#include <sys/types.h>\n\#include <sys/stat.h>\n\#include <$(1)>\nint main(void) { return 0; }\n' | \
    $(CC) -x c -o /dev/null - $(2) >/dev/null 2>&1 && echo yes || echo no
NTFS_LIBS = $(shell $(PKG_CONFIG) --libs libntfs-3g 2>/dev/null || echo -lntfs-3g)

$(BUILD)/images.config: mk/images.mk $(BUILD)/.deps-ok
	@mkdir -p $(BUILD)
	@{ echo "PROBED_WIM := $$($(call IMAGE_PROBE,wimlib.h,-lwim))"; \
	   echo "PROBED_NTFS := $$($(call IMAGE_PROBE,ntfs-3g/volume.h,$(NTFS_LIBS)))"; } > $@.tmp
	@mv $@.tmp $@
	@echo "images: $$(tr '\n' ' ' < $@)"

# Goals that build nothing do not install packages or probe.
ifneq ($(filter-out clean deps uninstall,$(or $(MAKECMDGOALS),all)),)
include $(BUILD)/images.config
endif

ifneq ($(NO_WIM),1)
HAVE_WIM := $(PROBED_WIM)
endif
ifneq ($(NO_NTFS),1)
HAVE_NTFS := $(PROBED_NTFS)
endif

# The libraries are not linked: the tool dlopens them by SONAME when --wim or --ntfs is used (see
# tools/image/dynlib.h), so every other command starts without loading them and their dependencies.
IMAGE_SONAME = $(shell objdump -p $$($(CC) -print-file-name=$(1)) 2>/dev/null | sed -n 's/^ *SONAME *//p')

IMAGE_CFLAGS :=
IMAGE_LIBS := -ldl
ifeq ($(HAVE_WIM),yes)
WIM_SONAME := $(call IMAGE_SONAME,libwim.so)
IMAGE_CFLAGS += -DHIVEPORT_HAVE_WIM -DHIVEPORT_WIM_SONAME='"$(or $(WIM_SONAME),libwim.so)"'
endif
ifeq ($(HAVE_NTFS),yes)
NTFS_SONAME := $(call IMAGE_SONAME,libntfs-3g.so)
IMAGE_CFLAGS += -DHIVEPORT_HAVE_NTFS $(shell $(PKG_CONFIG) --cflags libntfs-3g 2>/dev/null) \
    -DHIVEPORT_NTFS_SONAME='"$(or $(NTFS_SONAME),libntfs-3g.so)"' \
    -DHIVEPORT_NTFS_VERSION='"$(shell $(PKG_CONFIG) --modversion libntfs-3g 2>/dev/null)"'
endif
TOOL_CFLAGS += $(IMAGE_CFLAGS)

.PHONY: check-images
CHECK_TARGETS += check-images

# WIM and NTFS round trips on fixtures the test builds (wimcapture, mkntfs); skips what is not installed.
check-images: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-images.sh

.PHONY: check-imglog-kill
# Not under SANITIZE=1: it tests the order of the image writes (the plain `make check` runs it), and 150
# kills of an instrumented hiveport and qemu-nbd would add minutes to CI that check-disks, which runs the
# same write-back under the sanitizers, makes unnecessary.
ifneq ($(SANITIZE),1)
CHECK_TARGETS += check-imglog-kill
endif

# SIGKILL at every write and flush of a write-back into an NTFS volume (raw, and qcow2 through qemu-nbd):
# the image holds the old hive, the new one, or a dirty one whose logs replay to the new one
# (tests/imglog-kill.sh; strace, like check-fault's logcommit-kill.sh).
check-imglog-kill: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) HIVEPORT_FIXTURES=$(BUILD)/fixtures HIVEPORT_SHARED=../shared \
	    bash tests/imglog-kill.sh
