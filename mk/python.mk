# mk/python.mk: the Python binding (issue 18), bindings/python/hiveport: a pure-Python ctypes package over
# libhiveport.so.0.  Included by the Makefile.
#
#   make check-python       its pytest suite against the build tree (in `make check`); under SANITIZE=1 with
#                           the sanitizer build's ASan runtime preloaded into the interpreter
#   make install-python     (part of `make install`) the package into $(DESTDIR)$(PYTHONDIR)
#   make uninstall-python   (part of `make uninstall`) removes exactly that, and the byte code Python wrote
#
# PYTHONDIR is where Debian's system python3 looks under PREFIX: /usr/lib/python3/dist-packages for
# PREFIX=/usr (the packages' directory), $(PREFIX)/lib/python3.X/dist-packages for any other PREFIX (for
# /usr/local that is on python3's path; elsewhere set PYTHONPATH).  Override with PYTHONDIR=...

PYTHON    ?= /usr/bin/python3
PY_VERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHONDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(PY_VERSION)/dist-packages)
PY_MODULES := $(notdir $(sort $(wildcard bindings/python/hiveport/*.py)))
PY_INSTALLED = $(DESTDIR)$(PYTHONDIR)/hiveport

.PHONY: check-python install-python uninstall-python

CHECK_TARGETS += check-python
INSTALL_TARGETS += install-python
UNINSTALL_TARGETS += uninstall-python

# The sanitizer build's library needs the ASan runtime loaded first, which an uninstrumented python3 does not
# do: it is preloaded (the one the library links, as ldd finds it).  detect_leaks=0: the interpreter keeps
# its objects alive at exit by design, which LeakSanitizer would report.
# pytest's exit 5 (no test collected) is a failure like any other non-zero exit.
check-python: lib fixtures
	@set -u; preload=; \
	if [ "$(SANITIZE)" = 1 ]; then \
	    preload=$$(ldd $(BUILD)/$(SONAME) | sed -n 's/^[[:space:]]*lib[^ ]*asan[^ ]* => \([^ ]*\) .*/\1/p'); \
	    if [ -z "$$preload" ]; then \
	        echo "check-python: $(BUILD)/$(SONAME) links no shared ASan runtime to preload"; exit 1; fi; \
	    echo "check-python: preloading $$preload"; \
	fi; \
	env $${preload:+LD_PRELOAD=$$preload ASAN_OPTIONS=detect_leaks=0} \
	    HIVEPORT_LIBRARY=$(abspath $(BUILD))/$(SONAME) HIVEPORT_FIXTURES=$(abspath $(BUILD))/fixtures \
	    HIVEPORT_SHARED=$(abspath ../shared) HIVEPORT_MAKE_VARS="BUILD='$(BUILD)' SANITIZE='$(SANITIZE)' CC='$(CC)'" \
	    PYTHONPATH=$(abspath bindings/python) PYTHONDONTWRITEBYTECODE=1 \
	    $(PYTHON) -m pytest -p no:cacheprovider -q -rs bindings/python/tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "check-python: pytest collected no test"; fi; exit $$rc

install-python:
	install -d $(PY_INSTALLED)
	install -m 644 $(addprefix bindings/python/hiveport/,$(PY_MODULES) py.typed) $(PY_INSTALLED)/

# Byte code is what Python itself writes into __pycache__ the first time root imports the package.
uninstall-python:
	rm -f $(addprefix $(PY_INSTALLED)/,$(PY_MODULES) py.typed) \
	    $(foreach m,$(PY_MODULES:.py=),$(PY_INSTALLED)/__pycache__/$(m).cpython-*.pyc)
	for d in $(PY_INSTALLED)/__pycache__ $(PY_INSTALLED); do if [ -d "$$d" ]; then rmdir "$$d"; fi; done
