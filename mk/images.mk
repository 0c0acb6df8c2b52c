# mk/images.mk: optional image support of the hiveport command (issue 11): WIM files through wimlib
# (Debian libwim-dev) and NTFS volume images through libntfs-3g (Debian ntfs-3g-dev).  Each is detected
# here; without it the CLI still builds and '--wim'/'--ntfs' say it is missing ('hiveport --version'
# tells).  IMAGE_LIBS is appended to the tool's link line.  NO_WIM=1 / NO_NTFS=1 build without them.
#
# wimlib.pc lists fuse in Requires.private, so `pkg-config --exists wimlib` fails without libfuse-dev
# although nothing here needs FUSE: a compile-and-link probe decides instead.

# libntfs-3g's headers need size_t, va_list, time_t and off_t declared first.
IMAGE_PROBE = printf '\#include <stddef.h>\n\#include <stdarg.h>\n\#include <stdio.h>\n\#include <time.h>\n\#include <sys/types.h>\n\#include <sys/stat.h>\n\#include <$(1)>\nint main(void) { return 0; }\n' | \
    $(CC) -x c -o /dev/null - $(2) >/dev/null 2>&1 && echo yes

ifneq ($(NO_WIM),1)
HAVE_WIM := $(shell $(call IMAGE_PROBE,wimlib.h,-lwim))
endif
NTFS_LIBS := $(shell $(PKG_CONFIG) --libs libntfs-3g 2>/dev/null || echo -lntfs-3g)
ifneq ($(NO_NTFS),1)
HAVE_NTFS := $(shell $(call IMAGE_PROBE,ntfs-3g/volume.h,$(NTFS_LIBS)))
endif

IMAGE_CFLAGS :=
IMAGE_LIBS :=
ifeq ($(HAVE_WIM),yes)
IMAGE_CFLAGS += -DHIVEPORT_HAVE_WIM
IMAGE_LIBS += -lwim
endif
ifeq ($(HAVE_NTFS),yes)
IMAGE_CFLAGS += -DHIVEPORT_HAVE_NTFS $(shell $(PKG_CONFIG) --cflags libntfs-3g 2>/dev/null) \
    -DHIVEPORT_NTFS_VERSION='"$(shell $(PKG_CONFIG) --modversion libntfs-3g 2>/dev/null)"'
IMAGE_LIBS += $(NTFS_LIBS)
endif
TOOL_CFLAGS += $(IMAGE_CFLAGS)

.PHONY: check-images
CHECK_TARGETS += check-images

# WIM and NTFS round trips on fixtures the test builds (wimcapture, mkntfs); skips what is not installed.
check-images: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-images.sh
