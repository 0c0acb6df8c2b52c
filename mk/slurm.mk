# mk/slurm.mk: the fleet recipe run by a real Slurm (issue 23).  Included by the Makefile.
#
#   make check-slurm   tests/slurm-test.sh: a single-node Slurm on this machine (munged, slurmctld, slurmd
#                      from Debian slurm-wlm and munge, config and state in a temporary directory, stopped
#                      and removed at the end), examples/fleet/slurm-array.sh submitted with
#                      `sbatch --array=0-3 --wait` over 40 generated hives, twice (all good; one damaged).
#                      As root (slurmd); ~40 s.  Not in `make check` (it starts daemons); .ci/run runs it.

.PHONY: check-slurm

check-slurm: $(TOOL) fixtures
	BUILD=$(BUILD) HIVEPORT=$(abspath $(TOOL)) bash tests/slurm-test.sh
