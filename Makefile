# hiveport: plain GNU make.  make | make check | make demo | make install PREFIX=... DESTDIR=...
VERSION   := $(shell sed -n 's/^\#define HIVEPORT_VERSION "\(.*\)"/\1/p' include/hiveport.h)
SOVERSION := 0

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
BINDIR  ?= $(PREFIX)/bin
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
PKGDIR  ?= $(LIBDIR)/pkgconfig
DATADIR ?= $(PREFIX)/share
# bash-completion's directory for completions loaded on demand (what its pkg-config file names).
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions

CC      ?= cc
CFLAGS  ?= -O2 -g
PKG_CONFIG ?= pkg-config

ifeq ($(SANITIZE),1)
BUILD   ?= build-sanitize
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD   ?= build
SANFLAGS :=
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
BASEFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS)
HIVEX_CFLAGS = $(shell $(PKG_CONFIG) --cflags hivex)
HIVEX_LIBS   = $(shell $(PKG_CONFIG) --libs hivex)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
JANSSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JANSSON_LIBS   = $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)

# The library's layers, lowest first (lib/layers; make check-layers keeps calls pointing down).
LIB_LAYERS := $(shell sed -n 's/^lib\/\([a-z]*\).*/\1/p' lib/layers)
LIB_DIRS := $(addprefix lib/,$(LIB_LAYERS))
LIB_INC  := $(addprefix -I,$(LIB_DIRS)) -Ilib
LIB_SRC := $(sort $(wildcard $(addsuffix /*.c,$(LIB_DIRS))))
LIB_HDR := $(wildcard lib/*.h $(addsuffix /*.h,$(LIB_DIRS)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_CFLAGS = $(BASEFLAGS) -fPIC -fvisibility=hidden -DHIVEPORT_BUILDING -Iinclude $(LIB_INC) $(HIVEX_CFLAGS) $(CPPFLAGS) $(CFLAGS)

STATIC  := $(BUILD)/libhiveport.a
SHARED  := $(BUILD)/libhiveport.so.$(VERSION)
SONAME  := libhiveport.so.$(SOVERSION)

TOOL_LAYERS := $(shell sed -n 's/^tools\/\([a-z]*\).*/\1/p' lib/layers)
TOOL_DIRS := $(addprefix tools/,$(TOOL_LAYERS))
TOOL_SRC := $(sort $(wildcard tools/*.c $(addsuffix /*.c,$(TOOL_DIRS))))
TOOL_HDR := $(wildcard $(addsuffix /*.h,$(TOOL_DIRS)))
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/%.o)
TOOL     := $(BUILD)/hiveport
# The CLI sees only the public header (no -Ilib).
TOOL_CFLAGS = $(BASEFLAGS) -Iinclude $(addprefix -I,$(TOOL_DIRS)) $(JANSSON_CFLAGS) $(CPPFLAGS) $(CFLAGS)

FIXTURE_SPECS := $(sort $(wildcard fixtures/*.spec))
FIXTURES := $(FIXTURE_SPECS:fixtures/%.spec=$(BUILD)/fixtures/%.hive)
MKFIXTURE := $(BUILD)/mkfixture

TEST_SRC  := $(sort $(wildcard tests/check_*.c))
TEST_BINS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
TEST_CFLAGS = $(BASEFLAGS) -Iinclude $(LIB_INC) -Itests/support $(HIVEX_CFLAGS) $(CHECK_CFLAGS) $(CFLAGS)

.PHONY: all lib tool fixtures check check-unit check-symbols check-header deps install uninstall clean

deps:
	sh .ci/deps

# Each area (CLI tests, examples, benchmarks, ...) keeps its targets in mk/NAME.mk and adds the
# targets that `make check` must run to CHECK_TARGETS.
.DEFAULT_GOAL := all
CHECK_TARGETS :=
INSTALL_TARGETS :=
UNINSTALL_TARGETS :=
include $(sort $(wildcard mk/*.mk))

all: lib tool

lib: $(STATIC) $(BUILD)/libhiveport.so

tool: $(TOOL)

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR) include/hiveport.h | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(STATIC): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ) lib/hiveport.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/hiveport.map -Wl,-z,defs \
	    $(SANFLAGS) $(LDFLAGS) -o $@ $(LIB_OBJ) $(HIVEX_LIBS)

$(BUILD)/libhiveport.so: $(SHARED)
	ln -sf libhiveport.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

# The .pc is written at install time from the install's own variables: PREFIX, LIBDIR and INCDIR given to
# `make install` are what a consumer's pkg-config sees (DESTDIR is not part of them).
define write_pc
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' hiveport.pc.in > $(1)
endef

$(BUILD)/tools/%.o: tools/%.c $(TOOL_HDR) include/hiveport.h | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -c -o $@ $<

$(TOOL): $(TOOL_OBJ) $(STATIC)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $(TOOL_OBJ) $(STATIC) $(HIVEX_LIBS) $(JANSSON_LIBS) $(IMAGE_LIBS)

# ---- fixtures: generated from the readable descriptions in fixtures/*.spec ----
# The generator is not what the sanitizers test: built without them, it makes the same bytes minutes sooner
# (audit-findings-truncated takes 2.5 min under ASan, 0.3 s without).
$(MKFIXTURE): fixtures/mkfixture.c tests/support/hvlelog.c tests/support/hvlelog.h lib/regf/marvin32.c lib/regf/txlog.h \
              | $(BUILD)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude $(LIB_INC) -Itests/support $(HIVEX_CFLAGS) $(CFLAGS) -o $@ \
	    fixtures/mkfixture.c tests/support/hvlelog.c lib/regf/marvin32.c \
	    $(HIVEX_LIBS)

$(BUILD)/fixtures/%.hive: fixtures/%.spec $(MKFIXTURE) | $(BUILD)/fixtures
	$(MKFIXTURE) $< $@

# A fixture whose spec says %logged-from NAME is built over NAME's hive.
$(BUILD)/fixtures/system-logged.hive: $(BUILD)/fixtures/system-basic.hive

fixtures: $(FIXTURES)

# ---- tests ----
$(BUILD)/tests/check_%: tests/check_%.c $(TEST_SUPPORT) $(wildcard tests/support/*.h) $(STATIC) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_SUPPORT) $(STATIC) $(HIVEX_LIBS) $(CHECK_LIBS)

# The CLI's partition-table reader (tools/image/partition.c) is tested on its own, on tables built by the test.
$(BUILD)/tests/check_partition: tests/check_partition.c tools/image/partition.c tools/image/partition.h $(TEST_SUPPORT) \
                                $(wildcard tests/support/*.h) $(STATIC) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -Itools/image -o $@ $< tools/image/partition.c $(TEST_SUPPORT) $(STATIC) $(HIVEX_LIBS) $(CHECK_LIBS)

check: all fixtures $(TEST_BINS) check-unit check-symbols check-header $(CHECK_TARGETS)

# Every suite runs even when one fails; sanitizer builds get more time per test.
check-unit: $(TEST_BINS) fixtures
	@failed=0; for t in $(TEST_BINS); do echo "== $$t"; \
	    CK_TIMEOUT_MULTIPLIER=$(if $(SANITIZE),5,1) HIVEPORT_FIXTURES=$(BUILD)/fixtures HIVEPORT_SHARED=../shared \
	    $$t || failed=$$((failed + 1)); done; \
	if [ $$failed -ne 0 ]; then echo "check-unit: $$failed suite(s) failed"; exit 1; fi

check-symbols: $(BUILD)/libhiveport.so
	BUILD=$(BUILD) bash tests/check-symbols.sh

check-header: | $(BUILD)
	printf '#include <hiveport.h>\nint main(void) { return hiveport_version() == 0; }\n' > $(BUILD)/header-alone.c
	$(CC) $(BASEFLAGS) -pedantic -Iinclude -c -o $(BUILD)/header-alone.o $(BUILD)/header-alone.c
	@echo "header-alone: the public header compiles on its own"

# ---- install ----
# Each area adds its own install and uninstall steps to INSTALL_TARGETS and UNINSTALL_TARGETS (mk/*.mk).
MAN_PAGES := $(sort $(wildcard man/man[135]/*.[135]))
PROFILES  := $(sort $(wildcard examples/profiles/*.profile))

install: all $(INSTALL_TARGETS)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGDIR)
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libhiveport.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libhiveport.so
	install -m 644 include/hiveport.h $(DESTDIR)$(INCDIR)/
	$(call write_pc,$(DESTDIR)$(PKGDIR)/hiveport.pc)
	install -m 755 $(TOOL) $(DESTDIR)$(BINDIR)/
	set -e; for s in 1 3 5; do install -d $(DESTDIR)$(MANDIR)/man$$s; done
	set -e; for p in $(MAN_PAGES); do cp -P $$p $(DESTDIR)$(MANDIR)/$${p#man/}; done
	install -d $(DESTDIR)$(DATADIR)/hiveport/profiles $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 $(PROFILES) $(DESTDIR)$(DATADIR)/hiveport/profiles/
	$(if $(wildcard completion/hiveport),install -m 644 completion/hiveport $(DESTDIR)$(COMPLETIONDIR)/hiveport)
	if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Removes exactly the files install wrote, and hiveport's own directory under DATADIR; shared
# directories (lib, man1, ...) stay, as a package manager leaves them.  The dynamic linker's cache is refreshed like install does.
uninstall: $(UNINSTALL_TARGETS)
	rm -f $(DESTDIR)$(LIBDIR)/libhiveport.a $(DESTDIR)$(LIBDIR)/libhiveport.so \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libhiveport.so.$(VERSION) \
	    $(DESTDIR)$(INCDIR)/hiveport.h $(DESTDIR)$(PKGDIR)/hiveport.pc $(DESTDIR)$(BINDIR)/hiveport \
	    $(DESTDIR)$(COMPLETIONDIR)/hiveport
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/%,$(MAN_PAGES))
	rm -f $(patsubst examples/profiles/%,$(DESTDIR)$(DATADIR)/hiveport/profiles/%,$(PROFILES))
	for d in $(DESTDIR)$(DATADIR)/hiveport/profiles $(DESTDIR)$(DATADIR)/hiveport; do \
	    if [ -d "$$d" ]; then rmdir "$$d"; fi; done
	if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Missing Debian packages are installed (as root) before the first compile: a fresh machine needs no
# manual step before `make demo` or `make check`.
$(BUILD)/.deps-ok: .ci/packages .ci/deps
	sh .ci/deps
	mkdir -p $(BUILD) && touch $@

$(BUILD)/tests $(BUILD)/fixtures: | $(BUILD)/.deps-ok
	mkdir -p $@

$(BUILD): | $(BUILD)/.deps-ok

clean:
	rm -rf build build-sanitize
