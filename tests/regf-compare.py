#!/usr/bin/env python3
"""regf-compare.py: checks that a hive written by `hiveport set` differs from its original only as it should.

Usage: regf-compare.py ORIG NEW ORIG_EXPORT NEW_EXPORT CONTROLSET KEY:VALUE=PORT...

ORIG_EXPORT and NEW_EXPORT are `regfexport` outputs (libregf) of ORIG and NEW; each KEY is relative to
ControlSetNNN\\Services and each value a REG_DWORD.  What may legitimately differ, and nothing else:
  - in the 4096-byte base block: both sequence numbers (both one past the old primary, as a completed Windows
    write leaves them), the last-written time (exactly SOURCE_DATE_EPOCH when that is set), the size of the
    hive bins (grown by whole 4 KiB bins, or unchanged: libhivex appends cells and never reuses freed ones)
    and the checksum (recomputed, valid).
  - in the export: the new values, and the keys created for them where they were missing, with canonical
    spelling.  Every original key and value is still there with the same index and data.  Key last-written
    times would differ if the exporter printed them (libhivex does not update them): such lines are dropped.
Prints what differs unexpectedly and exits 1, or prints a one-line summary and exits 0.
"""
import collections
import os
import re
import struct
import sys

HEADER = 4096
# Base-block fields a commit may change: sequence numbers, last-written time, hive bins size, checksum.
MUTABLE = {range(4, 8), range(8, 12), range(12, 20), range(40, 44), range(508, 512)}
FILETIME_UNIX_EPOCH = 116444736000000000
TIME_LINE = re.compile(r"^(Last written time|Last modification time|Modification time)\b", re.I)


def header_problems(orig_path, new_path):
    with open(orig_path, "rb") as f:
        old = f.read(HEADER)
    with open(new_path, "rb") as f:
        new = f.read(HEADER)
    problems = []
    allowed = set().union(*MUTABLE)
    changed = [i for i in range(HEADER) if old[i] != new[i]]
    stray = [i for i in changed if i not in allowed]
    if stray:
        problems.append(f"base block bytes changed outside the mutable fields: offsets {stray[:16]}")
    s1, s2 = struct.unpack_from("<II", old, 4)
    n1, n2 = struct.unpack_from("<II", new, 4)
    if (n1, n2) != (s1 + 1, s1 + 1):
        problems.append(f"sequence numbers {s1}/{s2} became {n1}/{n2}, expected {s1 + 1}/{s1 + 1}")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = struct.unpack_from("<Q", new, 12)[0]
    if epoch is not None and stamp != FILETIME_UNIX_EPOCH + int(epoch) * 10**7:
        problems.append(f"header last-written time {stamp} is not SOURCE_DATE_EPOCH={epoch}")
    old_bins, new_bins = struct.unpack_from("<I", old, 40)[0], struct.unpack_from("<I", new, 40)[0]
    if new_bins < old_bins or (new_bins - old_bins) % 4096:
        problems.append(f"hive bins size {old_bins} became {new_bins}, expected growth by whole 4 KiB bins")
    checksum = 0
    for off in range(0, 508, 4):
        checksum ^= struct.unpack_from("<I", new, off)[0]
    checksum = {0: 1, 0xFFFFFFFF: 0xFFFFFFFE}.get(checksum, checksum)
    if checksum != struct.unpack_from("<I", new, 508)[0]:
        problems.append("the new base block checksum is wrong")
    return problems


def records(path):
    """The export as a multiset of records: ("key", path, lines) and ("value", path, index, name, lines)."""
    out = collections.Counter()
    current, kind, head, body = None, None, None, []

    def flush():
        if kind is None:
            return
        lines = tuple(l for l in body if l.strip() and not TIME_LINE.match(l))
        if kind == "key":
            out[("key", current.lower(), lines)] += 1
        else:
            out[("value", current.lower(), head[0], head[1], lines)] += 1

    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f.read().split("\n")[1:]:  # line 1 is regfexport's version banner
            if line.startswith("Key path: "):
                flush()
                current = line[len("Key path: "):].split("\\", 1)[-1]  # without the root key's name
                kind, head, body = "key", None, []
            elif line.startswith("Value: ") and current is not None:
                flush()
                index, _, name = line[len("Value: "):].partition(" ")
                kind, head, body = "value", (index, name), []
            else:
                body.append(line)
    flush()
    return out


def main(argv):
    if len(argv) < 7:
        sys.exit(__doc__)
    orig_hive, new_hive, orig_export, new_export, controlset = argv[1:6]
    base = f"ControlSet{int(controlset):03d}\\Services"
    old, new = records(orig_export), records(new_export)
    problems = header_problems(orig_hive, new_hive)

    removed = old - new
    for r in sorted(removed, key=str):
        problems.append(f"original record missing or changed: {r}")
    added = new - old

    old_keys = {r[1] for r in old if r[0] == "key"}
    expected_keys, expected_values = set(), []
    for spec in argv[6:]:
        key, rest = spec.split(":", 1)
        value_name, port = rest.rsplit("=", 1)
        parts = key.split("\\")
        for depth in range(1, len(parts) + 1):
            path = base + "\\" + "\\".join(parts[:depth])
            if path.lower() not in old_keys:
                expected_keys.add((path.lower(), f"Key: {parts[depth - 1]}"))
        expected_values.append(((base + "\\" + key).lower(), value_name,
                                ("Type: 32-bit integer little-endian (REG_DWORD_LITTLE_ENDIAN)", "Data size: 4",
                                 f"Data: {port}")))

    for r in list(added.elements()):
        if r[0] == "key" and (r[1], r[2][0] if r[2] else "") in expected_keys and len(r[2]) == 1:
            expected_keys.discard((r[1], r[2][0]))
            added[r] -= 1
        elif r[0] == "value" and (r[1], r[3], r[4]) in expected_values:
            expected_values.remove((r[1], r[3], r[4]))
            added[r] -= 1
    for r in sorted(+added, key=str):
        problems.append(f"unexpected new record: {r}")
    for k in sorted(expected_keys):
        problems.append(f"key not created (or not spelled canonically): {k}")
    for v in expected_values:
        problems.append(f"value not found as expected: {v}")

    if problems:
        print("\n".join(problems))
        return 1
    created = sum(1 for r in (new - old) if r[0] == "key")
    print(f"only the expected changes: {len(argv) - 6} values, {created} new keys, header fields as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
