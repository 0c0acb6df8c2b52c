# mk/regfleet-images.mk: image targets in apply's manifests (issue 17: apply --from with --wim/--ntfs/--disk
# lines, tools/apply_image.c).
#
#   make check-regfleet-images   tests/cli-regfleet-images.sh: a manifest mixing hives, two WIMs and a qcow2
#                                and a raw disk applies, re-applies as unchanged, --check matches, refusals
#                                and drift leave the images byte-identical, JSON Lines per target, shards
#                                disjoint/covering/stable with image targets, malformed lines, SIGTERM to a
#                                running fleet; ~6 s.
#                                Skips (the shared rule) without wimlib, libntfs-3g, libnbd or their tools.

.PHONY: check-regfleet-images

CHECK_TARGETS += check-regfleet-images

check-regfleet-images: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-regfleet-images.sh
