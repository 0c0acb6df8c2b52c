# mk/bench.mk: the benchmark (issue 9).  Not part of `make check`: benchmarks are not tests.
#
#   make bench            the real-hive table (stamp, restamp, read, audit against hivexsh, hivexregedit and
#                         the dd/cat floors) and the scaling table (generated 1-250 MB hives): ~5 minutes
#   make bench-real       the real-hive table only
#   make bench-scaling    the scaling table only
#   make bench-profile    where the time goes: libhivex's phases, perf stat, perf record
#
# BENCH_REPS (9), BENCH_SCALING_REPS, BENCH_SIZES ("1 10 100 250"), BENCH_TMPDIR: see tests/bench/README.md.
# The Markdown tables are also written to $(BUILD)/bench/results.md.

BENCH_DIR  := $(BUILD)/bench
BENCH_BINS := $(BENCH_DIR)/benchtime $(BENCH_DIR)/mkbighive $(BENCH_DIR)/hivex-phases $(BENCH_DIR)/apiset

.PHONY: bench bench-real bench-scaling bench-profile bench-build

$(BENCH_DIR)/benchtime $(BENCH_DIR)/mkbighive: $(BENCH_DIR)/%: tests/bench/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) -O2 -g -o $@ $<

# The library alone (no command, no preflight), linked statically: the commit's own cost.
$(BENCH_DIR)/apiset: tests/bench/apiset.c $(STATIC) include/hiveport.h | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) -Iinclude -O2 -g -o $@ $< $(STATIC) $(HIVEX_LIBS)

$(BENCH_DIR)/hivex-phases: tests/bench/hivex-phases.c | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(HIVEX_CFLAGS) -O2 -g -o $@ $< $(HIVEX_LIBS)

bench-build: all $(BENCH_BINS)

bench: bench-build
	BUILD=$(BUILD) bash tests/bench/bench.sh all

bench-real: bench-build
	BUILD=$(BUILD) bash tests/bench/bench.sh real

bench-scaling: bench-build
	BUILD=$(BUILD) bash tests/bench/bench.sh scaling

bench-profile: bench-build
	BUILD=$(BUILD) bash tests/bench/profile.sh
