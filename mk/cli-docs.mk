# mk/cli-docs.mk: the command line's documentation against its behaviour, and the bash completion
# (issue 14).  completion/hiveport is installed by the install target; these only test it.
#
#   make check-cli-docs     hiveport(1), hiveport-profile(5) and the README against the tool (~1 s)
#   make check-completion   completion/hiveport run with bash-completion loaded (~2 s)

.PHONY: check-cli-docs check-completion

CHECK_TARGETS += check-cli-docs check-completion

check-cli-docs: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/cli-docs-check.sh

check-completion: $(TOOL)
	HIVEPORT=$(abspath $(TOOL)) bash tests/completion-check.sh
