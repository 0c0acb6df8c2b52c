# mk/cli-audit.mk: the tests of audit, firewall, recover and diff beyond tests/cli: the real Windows hives,
# and the nftables rules checked by nft.  Included by the Makefile; CHECK_TARGETS run under `make check`.

.PHONY: check-cli-audit-real check-cli-firewall-nft

CHECK_TARGETS += check-cli-audit-real check-cli-firewall-nft

# audit/firewall/diff/recover on copies of ../shared/hives: state reported right, nothing written, the
# corrupt hive a clear error; the log samples recovered as Windows recovered them.  Skips without them.
check-cli-audit-real: $(TOOL)
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-audit-real.sh

# firewall --format nftables in the skeleton hiveport(1) shows passes `nft -c -f` (skips without nft or
# without the permission nft needs, saying why).
check-cli-firewall-nft: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-firewall-nft.sh
