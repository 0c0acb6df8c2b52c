# hardening.mk: proving hostile input and failing disks harm nothing (issue 8).  See tests/README.md.
#
#   make check-fault             fault injection: full disk, SIGKILL, concurrent writers, odd files (in check)
#   make check-fuzz-regressions  every saved fuzz finding and every seed, replayed (in check)
#   make check-valgrind          the Check suites, the replays and the fault drivers under memcheck
#   make fuzz                    each libFuzzer target for FUZZ_SECONDS (600); `make -j2 fuzz` runs two at once
#   make fuzz-short              each for FUZZ_SHORT_RUNS inputs (20000, about 30 s) from the seeds, with the
#                                fixed random seed FUZZ_SHORT_SEED (1): the same inputs on every machine;
#                                fails on any finding (CI)
#
# The fuzz targets are built with clang (libFuzzer + ASan + UBSan) from their own objects of lib/*.c in
# $(BUILD)/fuzz; the replays, the fault drivers and the seed generator use $(CC) and the normal or the
# sanitizer build (SANITIZE=1), so `make check SANITIZE=1` runs all of them under ASan and UBSan too.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 600
FUZZ_SHORT_RUNS    ?= 20000
FUZZ_SHORT_SEED    ?= 1
FUZZ_SHORT_SECONDS ?= 300
FUZZ_TARGETS       := fuzz_open fuzz_commit fuzz_txlog fuzz_rpcrange fuzz_check
FUZZ_DIR           := $(BUILD)/fuzz
FUZZ_BINS          := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJ       := $(LIB_SRC:lib/%.c=$(FUZZ_DIR)/lib/%.o)
FUZZ_SANFLAGS      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS         = -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 $(FUZZ_SANFLAGS) -Iinclude $(LIB_INC) $(HIVEX_CFLAGS)
FUZZ_HEADERS       := tests/fuzz/fuzz.h include/hiveport.h $(LIB_HDR)
REPLAY_DIR         := $(BUILD)/fuzz-replay
REPLAY_BINS        := $(FUZZ_TARGETS:%=$(REPLAY_DIR)/%)
MKSEEDS            := $(REPLAY_DIR)/mkseeds
SEED_DIR           := $(BUILD)/fuzz-seeds
FUZZ_FIXTURE_DEF    = -DHP_FUZZ_FIXTURES='"$(BUILD)/fixtures"'

FAULT_DIR     := $(BUILD)/fault
FAULT_DRIVERS := fault_files fault_commit fault_logcommit fault_concurrent fault_kill
FAULT_BINS    := $(FAULT_DRIVERS:%=$(FAULT_DIR)/%)
FAULT_SHIM    := $(FAULT_DIR)/failshim.so

VALGRIND       ?= valgrind
VALGRIND_FLAGS ?= --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
                  --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes

.PHONY: check-fault check-fuzz-regressions check-valgrind fuzz fuzz-short fuzz-build fuzz-seeds \
        $(FUZZ_TARGETS:%=fuzz-run-%) $(FUZZ_TARGETS:%=fuzz-short-%)

CHECK_TARGETS += check-fault check-fuzz-regressions

# ---- libFuzzer builds ----
$(FUZZ_DIR)/lib/%.o: lib/%.c $(FUZZ_HEADERS) | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DHIVEPORT_BUILDING -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.c $(FUZZ_HEADERS) $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/fuzz $(FUZZ_FIXTURE_DEF) -fsanitize=fuzzer -o $@ $< tests/fuzz/fuzz.c \
	    $(FUZZ_LIB_OBJ) $(HIVEX_LIBS)

fuzz-build: $(FUZZ_BINS)

# ---- replays and seeds ($(CC), normal or sanitizer build) ----
# The library's objects rather than its archive, so that the targets' weak references to functions still
# being written (hiveport_audit, the RPC range and DCOM calls) find them as soon as their files exist.
$(REPLAY_BINS): $(REPLAY_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.c tests/fuzz/replay.c $(FUZZ_HEADERS) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -Itests/fuzz $(FUZZ_FIXTURE_DEF) -o $@ $< tests/fuzz/fuzz.c tests/fuzz/replay.c \
	    $(LIB_OBJ) $(HIVEX_LIBS)

$(MKSEEDS): tests/fuzz/mkseeds.c tests/fuzz/logmaker.c tests/fuzz/logmaker.h $(FUZZ_HEADERS) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/logmaker.c $(LIB_OBJ) $(HIVEX_LIBS)

fuzz-seeds: $(MKSEEDS) fixtures
	bash tests/fuzz/seeds.sh $(BUILD) $(SEED_DIR)

check-fuzz-regressions: $(REPLAY_BINS) fuzz-seeds
	HIVEPORT_FIXTURES=$(BUILD)/fixtures bash tests/fuzz/replay.sh $(REPLAY_DIR) $(SEED_DIR) tests/fuzz/regressions \
	    $(FUZZ_TARGETS)

# ---- timed fuzzing ----
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)
fuzz-short: $(FUZZ_TARGETS:%=fuzz-short-%)

$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: $(FUZZ_DIR)/% fuzz-seeds
	bash tests/fuzz/run.sh $(BUILD) $* $(FUZZ_SECONDS)

$(FUZZ_TARGETS:%=fuzz-short-%): fuzz-short-%: $(FUZZ_DIR)/% fuzz-seeds
	bash tests/fuzz/run.sh $(BUILD) $* $(FUZZ_SHORT_SECONDS) $(FUZZ_SHORT_RUNS) $(FUZZ_SHORT_SEED)

# ---- fault injection ----
# The whole archive: fuzz.c and fault_files.c reach some library calls through weak references, which alone
# would not pull their objects out of it.
FAULT_SUPPORT := tests/fault/fault.c tests/fuzz/fuzz.c tests/fuzz/logmaker.c
$(FAULT_BINS): $(FAULT_DIR)/%: tests/fault/%.c $(FAULT_SUPPORT) tests/fault/fault.h tests/fuzz/logmaker.h \
               $(FUZZ_HEADERS) $(TEST_SUPPORT) $(wildcard tests/support/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -Itests/fault -Itests/fuzz -o $@ $< $(FAULT_SUPPORT) $(TEST_SUPPORT) \
	    -Wl,--whole-archive $(STATIC) -Wl,--no-whole-archive $(HIVEX_LIBS) $(CHECK_LIBS)

# The shim is never instrumented: it only passes calls on (to ASan's interceptors under SANITIZE=1).
$(FAULT_SHIM): tests/fault/failshim.c | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

# logcommit-kill.sh tests the order of a logged commit's writes and flushes, not memory: under SANITIZE=1 the
# instrumented hiveport makes 198 pwrite64 calls where the plain one makes 8 (CI, 2026-12-05), and killing
# it at each of them, on four hives, added minutes to CI while the fault drivers above already run the
# logged commit's every failure under the sanitizers.  The plain `make check` runs it.
check-fault: $(FAULT_BINS) $(FAULT_SHIM) $(TOOL) fixtures
	HIVEPORT_FIXTURES=$(BUILD)/fixtures SANITIZE=$(SANITIZE) bash tests/fault/run.sh $(FAULT_DIR) $(FAULT_DRIVERS)
ifneq ($(SANITIZE),1)
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) HIVEPORT_FIXTURES=$(BUILD)/fixtures HIVEPORT_SHARED=../shared \
	    bash tests/fault/logcommit-kill.sh
endif

# ---- valgrind (never with the sanitizers: they do not mix) ----
check-valgrind: $(TEST_BINS) $(REPLAY_BINS) fuzz-seeds $(FAULT_BINS) $(FAULT_SHIM) fixtures
	@if [ "$(SANITIZE)" = 1 ]; then echo "check-valgrind: run without SANITIZE=1"; exit 1; fi
	VALGRIND="$(VALGRIND) $(VALGRIND_FLAGS)" BUILD=$(BUILD) HIVEPORT_FIXTURES=$(BUILD)/fixtures \
	    bash tests/fault/valgrind.sh "$(TEST_BINS)" $(REPLAY_DIR) $(SEED_DIR) $(FAULT_DIR) \
	    "$(FUZZ_TARGETS)" "$(FAULT_DRIVERS)"
