"""Shared fixtures of the binding's tests.

Environment (set by `make check-python`): HIVEPORT_LIBRARY, the library under test; HIVEPORT_FIXTURES, the
generated fixture hives (build/fixtures); HIVEPORT_SHARED, the directory holding hives/ (../shared).
"""
import lzma
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def skip_or_fail(what: str, reason: str) -> None:
    """The project's skip rule (tests/support/skip.sh): outside CI a skip, under CI=true a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what}: {reason} (CI=true: a skip in CI is a failure; install what .ci/packages lists)")
    pytest.skip(f"{what}: {reason}")


@pytest.fixture
def fixture_hive(tmp_path):
    """fixture_hive(NAME) -> a fresh copy of build/fixtures/NAME.hive, with its NAME.hive.LOG* transaction logs
    when it has some (tests write only to copies)."""
    src_dir = Path(os.environ.get("HIVEPORT_FIXTURES", ROOT / "build" / "fixtures"))

    def copy(name: str, dest_name: str = "") -> Path:
        src = src_dir / f"{name}.hive"
        assert src.is_file(), f"{src} is missing: run `make fixtures` (or `make check-python`)"
        dest = tmp_path / (dest_name or f"{name}.hive")
        shutil.copyfile(src, dest)
        for log in src_dir.glob(f"{name}.hive.LOG*"):
            shutil.copyfile(log, f"{dest}{log.name[len(src.name):]}")
        return dest

    return copy


@pytest.fixture
def real_hive(tmp_path):
    """real_hive(NAME) -> a decompressed copy of ../shared/hives/NAME.xz, or the skip rule without it."""
    shared = Path(os.environ.get("HIVEPORT_SHARED") or ROOT / ".." / "shared")

    def copy(name: str, dest_name: str = "") -> Path:
        src = shared / "hives" / f"{name}.xz"
        if not src.is_file():
            skip_or_fail("real hive", f"{src} is absent (no ../shared/hives)")
        dest = tmp_path / (dest_name or Path(name).name)
        with lzma.open(src) as f, open(dest, "wb") as out:
            shutil.copyfileobj(f, out)
        return dest

    return copy
