# mk/disks.mk: VM disks and evidence files for --disk (issue 15).  qcow2, VHDX, VHD and VMDK go through a
# qemu-nbd child (Debian qemu-utils) and libnbd (Debian libnbd-dev); E01 through libewf (Debian
# libewf-dev).  Like wimlib and libntfs-3g (mk/images.mk), the libraries are found here and dlopened on
# first use, never linked.  NO_NBD=1 / NO_EWF=1 build without them.
DISK_SONAME = $(shell objdump -p $$($(CC) -print-file-name=$(1)) 2>/dev/null | sed -n 's/^ *SONAME *//p')

ifneq ($(NO_NBD),1)
HAVE_NBD := $(shell $(PKG_CONFIG) --exists libnbd 2>/dev/null && echo yes)
endif
ifneq ($(NO_EWF),1)
HAVE_EWF := $(shell $(PKG_CONFIG) --exists libewf 2>/dev/null && echo yes)
endif

ifeq ($(HAVE_NBD),yes)
NBD_SONAME := $(call DISK_SONAME,libnbd.so)
TOOL_CFLAGS += -DHIVEPORT_HAVE_NBD $(shell $(PKG_CONFIG) --cflags libnbd) \
    -DHIVEPORT_NBD_SONAME='"$(or $(NBD_SONAME),libnbd.so)"'
endif
ifeq ($(HAVE_EWF),yes)
EWF_SONAME := $(call DISK_SONAME,libewf.so)
TOOL_CFLAGS += -DHIVEPORT_HAVE_EWF $(shell $(PKG_CONFIG) --cflags libewf) \
    -DHIVEPORT_EWF_SONAME='"$(or $(EWF_SONAME),libewf.so)"'
endif

.PHONY: check-disks
CHECK_TARGETS += check-disks

# qcow2/VHDX/VHD/VMDK/E01 round trips, refusals and child-process hygiene on disks the test builds.
check-disks: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-disks.sh

# Not part of `make check` (benchmarks are not tests): get, set and apply on qcow2, VHDX and VMDK disks
# holding the Windows 7 SYSTEM hive (tests/bench/disks.sh); the table goes to $(BUILD)/bench/disks.md.
.PHONY: bench-disks
bench-disks: all $(BENCH_DIR)/benchtime
	BUILD=$(BUILD) bash tests/bench/disks.sh
