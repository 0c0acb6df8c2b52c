# mk/layers.mk: the layers of lib/ and tools/ (lib/layers lists them, lowest first).
#   make check-layers        no object file calls a higher layer, no circle inside a layer, the command
#                            uses only the library's public hiveport_* symbols (tests/check-layers.py)
#   make check-layers-test   check-layers fails on planted upward calls and circles (tests/check-layers-test.sh)
.PHONY: check-layers check-layers-test
CHECK_TARGETS += check-layers check-layers-test

check-layers: lib tool
	/usr/bin/python3 tests/check-layers.py $(BUILD) lib/layers

check-layers-test: lib tool
	bash tests/check-layers-test.sh $(BUILD)
