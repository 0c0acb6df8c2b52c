"""examples/stamp.py, run as a user runs it, on copies of fixtures: the same checks as the C example's in
tests/examples-run.sh."""
import os
import subprocess
import sys

import hiveport
from conftest import ROOT

STAMP = ROOT / "examples" / "stamp.py"
EXPECTED = {"exchange-sa-rfr": 5001, "exchange-sa-nspi": 5002, "exchange-is": 5003, "exchange-srs": 5004,
            "exchange-is-rpchttp": 6001, "exchange-sa-http": 6002, "exchange-sa-rpchttp-nspi": 6004}


def run_stamp(*args, env=None):
    return subprocess.run([sys.executable, str(STAMP), *map(str, args)], capture_output=True, text=True,
                          env=env)


def ports(path, controlset="current"):
    with hiveport.open(path) as h:
        return {s: h.get(s, controlset) for s in EXPECTED}


def test_stamp_on_an_image_root(fixture_hive, tmp_path):
    config = tmp_path / "image" / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    hive = fixture_hive("system-empty", "image/Windows/System32/config/SYSTEM")
    original = fixture_hive("system-empty").read_bytes()
    r = run_stamp(tmp_path / "image")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == (f"{tmp_path}/image/Windows/System32/config/SYSTEM: "
                        "7 Exchange 2003 ports pinned in every control set\n")
    assert ports(hive) == EXPECTED
    assert (config / "SYSTEM.bak").read_bytes() == original


def test_stamp_writes_every_control_set(fixture_hive):
    hive = fixture_hive("system-cs003")
    r = run_stamp(hive)
    assert r.returncode == 0, r.stderr
    assert ports(hive, 1) == ports(hive, 3) == EXPECTED


def test_stamp_refuses_a_dirty_hive_unchanged(fixture_hive):
    hive = fixture_hive("dirty")
    before = hive.read_bytes()
    r = run_stamp(hive)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith(f"stamp.py: {hive}: ") and "\n" == r.stderr[-1]
    assert hive.read_bytes() == before
    assert not os.path.exists(f"{hive}.bak")


def test_stamp_usage():
    r = run_stamp()
    assert r.returncode == 2 and "usage: stamp.py" in r.stderr
