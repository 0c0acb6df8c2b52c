"""Memory: open/get/close cycles must not grow the process (a handle, a message or a copied string kept
alive by the binding, or not freed by the library, would)."""
import gc
import os
import subprocess
import sys

CYCLES = 10_000


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def cycle(path, n):
    import hiveport

    for _ in range(n):
        with hiveport.open(path) as h:
            assert h.get("ntds") == 5005
        try:
            hiveport.open(path, write=True, lock_timeout=0).get("MSExchangeSA\\Parameters:No Such Value")
        except hiveport.NotSet:
            pass  # the failure's message, the exception and the unclosed Hive (closed by __del__) freed too


def growth_kib(path) -> int:
    cycle(path, 1000)  # warm-up: allocator arenas, caches, the first exceptions
    gc.collect()
    before = rss_kib()
    cycle(path, CYCLES)
    gc.collect()
    return rss_kib() - before


def test_open_get_close_does_not_grow_rss(fixture_hive):
    env = dict(os.environ)
    if "asan" in env.get("LD_PRELOAD", ""):
        # ASan's quarantine holds freed memory back from reuse (256 MB by default), which reads as growth: the
        # measuring process runs without it.  The rest of the suite keeps it.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"
    # A process of its own: what the other tests allocated does not move the numbers.
    r = subprocess.run([sys.executable, __file__, str(fixture_hive("system-basic"))], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    grown = int(r.stdout)
    print(f"RSS after {CYCLES} open/get/close cycles: {grown:+d} KiB")
    # A leak of 64 bytes per cycle would be 625 KiB; a leaked handle is far more (it holds the hive).
    assert grown < 512, f"RSS grew by {grown} KiB over {CYCLES} cycles"


if __name__ == "__main__":
    print(growth_kib(sys.argv[1]))
