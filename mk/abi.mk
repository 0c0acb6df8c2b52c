# mk/abi.mk: the library's ABI is a promise.  abi/libhiveport.so.0.abi is the baseline (abidw, Debian
# abigail-tools) of what SONAME libhiveport.so.0 offers; `make check` compares the built library with it
# (abidiff).  Added functions are compatible and only listed; a removed or changed function or type fails
# until the baseline, the version node (lib/hiveport.map) and, for a break, the SONAME are changed on purpose
# with `make abi-baseline`.
#
#   make check-abi        the built library against the baseline (in check)
#   make check-abi-test   a scratch copy whose public struct is changed must fail check-abi (in check)
#   make abi-baseline     write the baseline from the built library (a deliberate act: commit it with the
#                         map and SONAME changes it goes with)

.PHONY: check-abi check-abi-test abi-baseline
CHECK_TARGETS += check-abi check-abi-test

ABI_BASELINE := abi/libhiveport.so.$(SOVERSION).abi
ABIDW_FLAGS  := --no-corpus-path --no-comp-dir-path --headers-dir include

check-abi: $(SHARED)
	ABI_BASELINE=$(ABI_BASELINE) bash tests/abi-check.sh $(SHARED)

check-abi-test: $(SHARED)
	BUILD=$(BUILD) ABI_BASELINE=$(ABI_BASELINE) bash tests/abi-break-test.sh

abi-baseline: $(SHARED)
	mkdir -p abi
	abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $(SHARED)
	@echo "abi: wrote $(ABI_BASELINE) from $(SHARED)"
