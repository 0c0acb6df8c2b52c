# mk/regsoft.mk: .reg files of SOFTWARE keys applied by 'hiveport apply' (issue 17).
#
#   make check-regsoft    tests/cli-regsoft.sh: the KB 154596 RPC range and DCOM AppID endpoints from .reg
#                         files (5.00 UTF-16 and REGEDIT4) applied to SOFTWARE fixtures and read back with
#                         rpc-range and dcom, --check match/drift, --from/--shard/--jobs/--json, hive kinds,
#                         refusals by file:line with the hive unchanged; ~3 s

.PHONY: check-regsoft

CHECK_TARGETS += check-regsoft

check-regsoft: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-regsoft.sh
