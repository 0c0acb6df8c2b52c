#!/usr/bin/env python3
"""stamp.py: pins the Exchange 2003 RPC ports (KB 270836, and the RPC over HTTP ports Setup uses) in every
control set of an offline Windows image, in one atomic commit, keeping the old hive as SYSTEM.bak: the Python
twin of stamp-exchange2003.c.

    python3 stamp.py /mnt/image        (the image's root, or the path of its SYSTEM hive)

Either every port lands or none does: the changes stay in memory until commit(), and leaving the with block
without one discards them.
"""
import os
import sys

import hiveport

PORTS = {
    "exchange-sa-rfr": 5001,
    "exchange-sa-nspi": 5002,
    "exchange-is": 5003,
    "exchange-srs": 5004,
    "exchange-is-rpchttp": 6001,
    "exchange-sa-http": 6002,
    "exchange-sa-rpchttp-nspi": 6004,
}


def main(argv: list) -> int:
    if len(argv) != 2:
        print("usage: stamp.py IMAGE-ROOT|SYSTEM-HIVE", file=sys.stderr)
        return 2
    # An image root holds the hive at Windows/System32/config/SYSTEM.
    hive_path = argv[1] + "/Windows/System32/config/SYSTEM" if os.path.isdir(argv[1]) else argv[1]
    try:
        with hiveport.open(hive_path, write=True) as hive:  # refuses dirty hives; locks the file
            for setting_id, port in PORTS.items():
                hive.set(setting_id, port, controlset="all")
            hive.commit(backup=hive_path + ".bak")
    except hiveport.HiveportError as e:  # the file is as it was
        print(f"stamp.py: {e}", file=sys.stderr)
        return 1
    print(f"{hive_path}: {len(PORTS)} Exchange 2003 ports pinned in every control set")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
