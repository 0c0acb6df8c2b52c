"""The package as users get it: `make install DESTDIR=... PREFIX=/usr` then `make uninstall`, and
`pip install` offline; each installed copy imports and stamps a fixture hive with no help from the tree."""
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path


from conftest import ROOT, skip_or_fail

PYTHONDIR = "/usr/lib/python3/dist-packages"
STAMP_SCRIPT = """
import sys, hiveport
with hiveport.open(sys.argv[1], write=True) as h:
    h.set("ntds", 6005, controlset="all")
    h.commit()
print(hiveport.__file__)
"""


def make(*args):
    """Runs the project's make with the build's variables (BUILD, SANITIZE, CC: HIVEPORT_MAKE_VARS, set by
    make check-python).  MAKEFLAGS is dropped: it would pass this run's jobserver and command-line variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
    cmd = ["make", "--no-print-directory", "-C", str(ROOT),
           *shlex.split(os.environ.get("HIVEPORT_MAKE_VARS", "BUILD=build")), *args]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f"{shlex.join(cmd)}:\n{r.stdout}{r.stderr}"


def stamp_with(hive, pythonpath, env_extra):
    """Runs the stamping script with only the installed copy reachable: not the tree, not HIVEPORT_LIBRARY."""
    hidden = ("PYTHONPATH", "HIVEPORT_LIBRARY", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env.update(env_extra, PYTHONPATH=str(pythonpath))
    r = subprocess.run([sys.executable, "-c", STAMP_SCRIPT, str(hive)], env=env, capture_output=True, text=True,
                       cwd="/")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_make_install_then_uninstall(tmp_path, fixture_hive):
    stage = tmp_path / "stage"
    make("install", f"DESTDIR={stage}", "PREFIX=/usr", f"PYTHONDIR={PYTHONDIR}")
    site = stage / PYTHONDIR.lstrip("/")
    package = site / "hiveport"
    installed = sorted(p.name for p in package.iterdir())
    assert installed == sorted(p.name for p in (ROOT / "bindings/python/hiveport").iterdir()
                               if p.suffix == ".py" or p.name == "py.typed")

    hive = fixture_hive("system-basic")
    where = stamp_with(hive, site, {"LD_LIBRARY_PATH": str(stage / "usr/lib")})
    assert where == str(package / "__init__.py")
    assert list((package / "__pycache__").glob("*.pyc")), "the import should have written byte code"
    with __import__("hiveport").open(hive) as h:
        assert (h.get("ntds", 1), h.get("ntds", 2)) == (6005, 6005)

    (site / "other-package").mkdir()  # something else in the shared directory: it stays
    make("uninstall", f"DESTDIR={stage}", "PREFIX=/usr", f"PYTHONDIR={PYTHONDIR}")
    assert not package.exists()
    assert sorted(p.name for p in site.iterdir()) == ["other-package"]


def test_pip_install_offline(tmp_path, fixture_hive):
    for module, package in (("setuptools", "python3-setuptools"), ("wheel", "python3-wheel")):
        if importlib.util.find_spec(module) is None:
            skip_or_fail("pip install", f"no {module} (Debian package {package})")
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        skip_or_fail("pip install", "pip is not installed (Debian package python3-pip)")
    source = tmp_path / "source"  # a copy: a build leaves build/ and *.egg-info behind
    shutil.copytree(ROOT / "bindings" / "python", source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--disable-pip-version-check", "--target", str(target), str(source)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (target / "hiveport" / "py.typed").is_file()
    hive = fixture_hive("system-basic")
    lib = os.environ.get("HIVEPORT_LIBRARY")
    if not lib:
        skip_or_fail("HIVEPORT_LIBRARY", "not set (run the tests through make check-python)")
    # The library by its SONAME, from its directory: how an installed libhiveport is found.
    where = stamp_with(hive, target, {"LD_LIBRARY_PATH": str(Path(lib).parent)})
    assert where == str(target / "hiveport" / "__init__.py")
    with __import__("hiveport").open(hive) as h:
        assert h.get("ntds", 2) == 6005
