# mk/regfleet.mk: .reg files as profiles, .reg export, manifests, shards and JSON Lines (issue 17).
#
#   make check-regfleet   tests/cli-regfleet.sh: the KB 270836/224196 .reg files in five forms, refusals by
#                         file:line, export round trips (and hivexregedit --merge of the export), shards of
#                         100 generated hives for N = 1..8, 4 shards by GNU parallel against --jobs 4, JSON
#                         Lines, and the syntax of the fleet examples (examples/fleet); ~10 s

.PHONY: check-regfleet

CHECK_TARGETS += check-regfleet

check-regfleet: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-regfleet.sh
