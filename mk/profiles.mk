# mk/profiles.mk: port profiles (issue 10): `hiveport apply` and `hiveport export` at fleet scale and on the
# real hives.  The data-driven cases (tests/cli/apply-*, tests/cli/export-*) run with the other CLI cases in
# check-cli.
#
#   make check-profiles   50 copies of a fixture applied with --jobs 4 (one corrupt, one read-only), applied
#                         again (nothing rewritten), and export/apply --check round trips on the real hives
#                         of ../shared/hives (skipped when absent); ~30 s

.PHONY: check-profiles

CHECK_TARGETS += check-profiles

check-profiles: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-profiles-fleet.sh
