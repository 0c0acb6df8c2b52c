#!/usr/bin/env python3
"""mklog.py HIVE LOG TYPE: writes LOG, a transaction log as Windows leaves it once the hive caught up: the
512-byte copy of HIVE's base block with file type TYPE (6: new format, Windows 8.1+; 1: old format,
Vista/7), both sequence numbers the hive's primary number, its checksum, and no entry.  For the tests and
the benchmark of the logged commit, which writes into existing logs only."""
import struct
import sys

hive, log, kind = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(hive, "rb") as f:
    bb = bytearray(f.read(512))
seq = struct.unpack_from("<I", bb, 4)[0]
struct.pack_into("<II", bb, 4, seq, seq)
struct.pack_into("<I", bb, 0x1C, kind)
x = 0
for i in range(127):
    x ^= struct.unpack_from("<I", bb, 4 * i)[0]
struct.pack_into("<I", bb, 0x1FC, 1 if x == 0 else 0xFFFFFFFE if x == 0xFFFFFFFF else x)
with open(log, "wb") as f:
    f.write(bytes(bb))
