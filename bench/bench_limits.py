"""Peak memory of reading one big estate table at the documented limits (issue #14).

An estate table read from CSV may hold at most ``MAX_ROWS`` data rows in a file of at most
``MAX_FILE_BYTES`` (``entitle.estate.files``); past either it is refused with ``FILE:LINE``.
Each case below writes a ``devices.csv`` beside a one-host ``hosts.csv`` and loads the folder
with ``load_estate`` in a fresh process, which prints its peak RSS and wall time:

- ``one-column-200mb``: the issue's 200 MB one-column devices.csv (9.2 GB before the limits): refused at
  row 2,000,001;
- ``rows-at-limit``: 2,000,000 short rows, accepted;
- ``bytes-at-limit``: 2,000,000 rows of 128-byte ids, just under 256 MiB, accepted.

    .venv/bin/python bench/bench_limits.py                 # every case
    .venv/bin/python bench/bench_limits.py --case rows-at-limit
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 2**20
CASES = {
    "one-column-200mb": (200 * 10**6, None),  # (size in bytes, rows)
    "rows-at-limit": (None, 2_000_000),
    "bytes-at-limit": (None, 2_000_000),
}


def write_case(case: str, folder: Path) -> None:
    (folder / "hosts.csv").write_text("host,processors,cores_per_processor\nhv1,1,8\n")
    with (folder / "devices.csv").open("w") as out:
        out.write("device\n")
        if case == "one-column-200mb":
            n, size = 0, 0
            while size < 200 * 10**6:
                line = f"d{n:08d}\n"
                out.write(line)
                size, n = size + len(line), n + 1
        elif case == "rows-at-limit":
            out.writelines(f"d{n}\n" for n in range(2_000_000))
        else:
            out.writelines(f"d{n:0127d}\n"[:128] + "\n" for n in range(2_000_000))


def child(folder: str) -> None:
    from entitle.estate.loader import load_estate  # noqa: PLC0415

    start = time.perf_counter()
    estate, problems = load_estate(folder)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first = str(problems[0]) if problems else "loaded"
    devices = len(estate.devices) if estate else 0
    print(f"{wall:6.1f} s  peak {peak:7,.0f} MiB  devices {devices:>9,}  {first[:100]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"load average {os.getloadavg()[0]:.1f}")
    for case in args.case or list(CASES):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_case(case, folder)
            size = (folder / "devices.csv").stat().st_size / MiB
            print(f"{case:18} devices.csv {size:6.0f} MiB: ", end="", flush=True)
            subprocess.run([sys.executable, __file__, "--child", str(folder)], check=True)


if __name__ == "__main__":
    main()
