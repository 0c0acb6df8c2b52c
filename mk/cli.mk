# mk/cli.mk: the hiveport command's tests, the examples built against an installed copy, the manual's
# lint, and `make demo`.  Included by the Makefile; what CHECK_TARGETS lists runs under `make check`.

.PHONY: check-cli check-cli-valgrind check-cli-real check-examples check-man demo

CHECK_TARGETS += check-cli check-cli-real check-examples check-man

# tests/cli/CASE/{cmd,exit,stdout,stderr}, run on fresh copies of the fixtures.
check-cli: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-run.sh

# The same cases under valgrind (slow; not part of `make check`, and not with SANITIZE=1).
check-cli-valgrind: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT="valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=all \
	    $(abspath $(TOOL))" bash tests/cli-run.sh

# set/get on the real Windows hives in ../shared/hives (copies), checked with libregf's regfexport.
check-cli-real: $(TOOL)
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-real-hives.sh

# The examples are built the way a user builds them: against an installed library found by pkg-config,
# here a `make install DESTDIR=...` staging tree, and run with the staged shared library.
STAGE := $(abspath $(BUILD))/stage
STAGE_PKG_CONFIG = PKG_CONFIG_PATH=$(STAGE)$(PKGDIR) PKG_CONFIG_SYSROOT_DIR=$(STAGE) $(PKG_CONFIG)
EXAMPLES_OUT := $(abspath $(BUILD))/examples

check-examples: all fixtures
	rm -rf $(STAGE) $(EXAMPLES_OUT)
	$(MAKE) --no-print-directory install DESTDIR=$(STAGE) >/dev/null
	mkdir -p $(EXAMPLES_OUT)
	cflags=$$($(STAGE_PKG_CONFIG) --cflags hiveport) && libs=$$($(STAGE_PKG_CONFIG) --libs hiveport) && \
	$(MAKE) --no-print-directory -C examples OUT=$(EXAMPLES_OUT) CC="$(CC)" CFLAGS="$(CFLAGS) -Werror $(SANFLAGS)" \
	    LDFLAGS="$(SANFLAGS)" HIVEPORT_CFLAGS="$$cflags" HIVEPORT_LIBS="$$libs"
	LD_LIBRARY_PATH=$(STAGE)$(LIBDIR) ldd $(EXAMPLES_OUT)/read-port | grep -qF '$(STAGE)$(LIBDIR)/libhiveport.so' || \
	    { echo "check-examples: read-port does not load the staged libhiveport"; exit 1; }
	LD_LIBRARY_PATH=$(STAGE)$(LIBDIR) bash tests/examples-run.sh $(EXAMPLES_OUT) $(STAGE)$(BINDIR)/hiveport \
	    $(BUILD)/fixtures

# mandoc -T lint on every page, plus coverage: every public function, status and CLI option documented.
check-man: $(TOOL)
	HIVEPORT=$(abspath $(TOOL)) bash tests/man-check.sh

# Shows the ports of a bundled fixture, sets new ones on a copy, shows them again.
demo: all fixtures
	@set -e; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	cp $(BUILD)/fixtures/system-basic.hive "$$dir/SYSTEM"; hiveport=$(abspath $(TOOL)); cd "$$dir"; \
	run() { printf '\n$$ hiveport %s\n' "$$*"; "$$hiveport" "$$@"; }; \
	echo "Working on SYSTEM, a copy of $(BUILD)/fixtures/system-basic.hive in $$dir (removed afterwards)."; \
	run show SYSTEM; \
	run set SYSTEM exchange-sa-rfr=6101 exchange-sa-nspi=6102 exchange-is=6103 ntds=6105 --dry-run; \
	run set SYSTEM exchange-sa-rfr=6101 exchange-sa-nspi=6102 exchange-is=6103 ntds=6105 --backup; \
	run show SYSTEM; \
	run get SYSTEM ntds; \
	run get SYSTEM.bak ntds

# Staged install and uninstall: the .pc for PREFIX=/usr builds a consumer, uninstall restores the tree.
.PHONY: check-install
CHECK_TARGETS += check-install
check-install: all
	BUILD=$(BUILD) SANFLAGS="$(SANFLAGS)" bash tests/install-test.sh

# A fresh machine's order: .ci/deps installs the packages before the image probes run.
.PHONY: check-fresh-order
CHECK_TARGETS += check-fresh-order
check-fresh-order:
	bash tests/fresh-order.sh
