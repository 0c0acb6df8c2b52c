# mk/fresh.mk: the README's commands on a fresh machine, for real (issue 25).  Not part of `make check` (it
# runs `make check` itself, in the chroot); .ci/run runs it after the other checks.
#
#   make check-fresh   tests/fresh/check-fresh.sh: a minimal Debian chroot of the running release
#                      (debootstrap --variant=minbase, from the machine's apt sources) with only git, make and
#                      ca-certificates; the committed HEAD cloned into its /root/hiveport (mode 0700 /root) with
#                      ../shared beside it read-only; `make demo` and `make check` as the README writes them, as
#                      root, with CI=true.  Fails on any failure or SKIP.  Needs root.  10.5-18 min on 2 cores.
#                      FRESH_CACHE=1 keeps debootstrap's packages in $(BUILD)/fresh-cache for repeated runs;
#                      FRESH_COMMIT=REV tests another commit; FRESH_MAKEFLAGS=-k shows every failing suite.
#   make check-test-deps  the "what the tests need" list in tests/README.md against .ci/packages (~1 s)

.PHONY: check-fresh check-test-deps
CHECK_TARGETS += check-test-deps

# .ci/deps first (as root it installs debootstrap, which .ci/packages lists).
check-fresh: $(BUILD)/.deps-ok
	FRESH_DIR=$(abspath $(BUILD))/fresh $(if $(filter 1,$(FRESH_CACHE)),FRESH_CACHE=$(abspath $(BUILD))/fresh-cache) \
	    bash tests/fresh/check-fresh.sh

check-test-deps:
	bash tests/fresh/test-deps.sh
