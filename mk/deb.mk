# mk/deb.mk: Debian packages (issue 23): libhiveport0, libhiveport-dev, hiveport, python3-hiveport from
# debian/ (dh over this Makefile).  Included by the Makefile.
#
#   make deb         dpkg-buildpackage -us -uc -b in a clean copy of the tree (build/deb/src, removed once
#                    built); the .debs, .changes and .buildinfo land in build/deb/.  The package build runs
#                    `make check` (dh_auto_test) unless DEB_BUILD_OPTIONS has nocheck.  ~1 min with
#                    nocheck, ~7 min without.
#   make check-deb   `make deb`, then tests/deb-test.sh: lintian on the .changes (no E:, no W:), the four
#                    packages installed into this machine with apt-get (as root), used (hiveport --version,
#                    an example built with pkg-config, the Python module, a fixture stamped), purged, and
#                    nothing of theirs left.  Not in `make check` (it installs packages); .ci/run runs it.
#
# The packages install to /usr; a `make install` into /usr/local is left as it was (the test checks).

DEB_OUT := build/deb

.PHONY: deb check-deb deb-dlopen-sonames

deb: | $(BUILD)/.deps-ok
	VERSION=$(VERSION) bash mk/deb-build.sh $(DEB_OUT)

check-deb: deb fixtures
	BUILD=$(BUILD) DEB_OUT=$(DEB_OUT) bash tests/deb-test.sh

# The SONAMEs the CLI dlopens (mk/images.mk, mk/disks.mk), for debian/rules' Recommends.
deb-dlopen-sonames:
	@echo $(if $(filter yes,$(HAVE_WIM)),$(WIM_SONAME)) $(if $(filter yes,$(HAVE_NTFS)),$(NTFS_SONAME)) \
	    $(if $(filter yes,$(HAVE_NBD)),$(NBD_SONAME)) $(if $(filter yes,$(HAVE_EWF)),$(EWF_SONAME))
