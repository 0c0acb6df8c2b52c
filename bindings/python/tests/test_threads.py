"""One Hive shared by threads: close() in one thread while others use the hive never frees the handle under
a call in flight (issue 22: it crashed the interpreter); the others get ValueError, or finish first."""
import os
import subprocess
import sys
import textwrap
import threading

import pytest

import hiveport

# Run in a child so that a crash (SIGSEGV, an ASan report) is a failed test, not a dead test run.
RACE = textwrap.dedent("""
    import sys, threading, time
    import hiveport

    path, software_path = sys.argv[1], sys.argv[2]
    software = hiveport.open(software_path)
    outcomes = {}
    for i in range(100):
        h = hiveport.open(path)
        delay = (0, 0.0001, 0.001, 0.003, 0.01)[i % 5]
        calls = (lambda: h.audit(), lambda: h.audit(software=software), lambda: h.get("ntds"),
                 lambda: list(h.diff(h)), lambda: h.controlsets, lambda: h.preflight([("ntds", 6001)]))

        def work(call):
            try:
                for _ in range(200):
                    call()
                outcome = "done"
            except ValueError as e:
                outcome = str(e)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        threads = [threading.Thread(target=work, args=(calls[(i + n) % len(calls)],)) for n in range(1 + i % 4)]
        for t in threads:
            t.start()
        time.sleep(delay)
        h.close()
        for t in threads:
            t.join()
    print(sorted(outcomes))
""")


def test_close_while_other_threads_use_the_hive_never_crashes(fixture_hive):
    path, software = fixture_hive("system-basic"), fixture_hive("software-plain")
    run = subprocess.run([sys.executable, "-c", RACE, str(path), str(software)], capture_output=True, text=True,
                         timeout=600, env=os.environ)
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr[-3000:]}"
    outcomes = eval(run.stdout)  # the distinct outcomes of the 250 threads
    assert set(outcomes) <= {"done", "operation on a closed hive"} and "operation on a closed hive" in outcomes


def test_close_waits_for_the_call_in_flight(fixture_hive):
    h = hiveport.open(fixture_hive("system-basic"))
    h._lock.acquire()  # as a call in flight holds it
    closer = threading.Thread(target=h.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive() and not h.closed  # close() waits ...
    assert h.get("ntds") == 5005  # ... while the call goes on with a live handle
    h._lock.release()
    closer.join(10)
    assert h.closed
    with pytest.raises(ValueError, match="operation on a closed hive"):
        h.audit()


def test_crossed_two_hive_calls_do_not_deadlock(fixture_hive):
    # Each serves as the other's SOFTWARE hive too.
    a = hiveport.open(fixture_hive("system-and-software"))
    b = hiveport.open(fixture_hive("system-and-software", "second.hive"))
    errors = []

    def loop(x, y):
        try:
            for _ in range(100):
                list(x.diff(y))
                x.audit(software=y)
                x.preflight([("ntds", 6001)], software=y)
        except Exception as e:  # noqa: BLE001 - any failure fails the test
            errors.append(e)

    threads = [threading.Thread(target=loop, args=pair, daemon=True) for pair in ((a, b), (b, a)) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "deadlock"
    assert errors == []
    a.close(), b.close()
