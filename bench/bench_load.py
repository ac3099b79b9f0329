"""Benchmark of loading an estate (``load_estate``) for issue #3.

For each size, a seeded estate is written by ``entitle.samples.generate`` (once; reused while the
folder exists) and loaded in a fresh process, so that peak memory is per run. Printed per size:
rows read, load wall and CPU seconds, RSS before loading (interpreter, catalog and imports) and
the peak RSS of the process, the server-demand stage (``EstateIndex`` + ``server_demand``) with
``--servers``, and the load average of the machine at the start and end of the run (timings are
noisy while other work runs).

    .venv/bin/python bench/bench_load.py                          # 10k and 100k users
    .venv/bin/python bench/bench_load.py --sizes 100000 --profile # cProfile of the load
    .venv/bin/python bench/bench_load.py --digest                 # fingerprint of the result
    .venv/bin/python bench/bench_load.py --src /tmp/before/src    # benchmark another tree

``--digest`` prints a SHA-256 of the loaded estate (every record with its source and extra
columns) and of every problem message, to check that a faster loader loads the same thing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
AS_OF = "2026-11-28"  # the sample generator's date


def _rss_mb() -> float:
    """Current resident set size of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from datetime import date

    from entitle.catalog import default_catalog
    from entitle.estate.loader import load_estate

    catalog = default_catalog()
    before_mb = _rss_mb()
    out: dict[str, Any] = {"mb_before": before_mb}
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    wall, cpu = time.perf_counter(), time.process_time()
    estate, problems = load_estate(folder, catalog)
    out["load_s"] = time.perf_counter() - wall
    out["load_cpu_s"] = time.process_time() - cpu
    out["mb_peak"] = _peak_mb()
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    if estate is None:
        out["errors"] = [str(p) for p in problems[:5]]
        return out
    out["rows"] = sum(
        len(getattr(estate, t))
        for t in ("hosts", "oses", "software", "users", "devices", "access", "managed")
        + ("entitlements", "prices")
    )
    out["problems"] = len(problems)
    if args.servers:
        from entitle.rules.index import EstateIndex
        from entitle.rules.servers import server_demand

        wall = time.perf_counter()
        EstateIndex.build(estate)
        server_demand(estate, catalog, date.fromisoformat(AS_OF))
        out["servers_s"] = time.perf_counter() - wall
        out["mb_peak"] = _peak_mb()
    if args.digest:
        digest = hashlib.sha256()
        for table in ("hosts", "oses", "software", "users", "devices", "access", "managed"):
            for record in getattr(estate, table):
                digest.update(repr(record).encode())
                digest.update(repr(dict(record.extra)).encode())
        for table in ("entitlements", "prices"):
            for record in getattr(estate, table):
                digest.update(repr(record).encode())
                digest.update(repr(dict(record.extra)).encode())
        for problem in problems:
            digest.update(str(problem).encode())
        out["digest"] = digest.hexdigest()[:16]
    return out


def _estate(users: int, seed: int, work: Path, src: Path) -> Path:
    folder = work / f"estate-{users}-seed{seed}"
    if not (folder / "hosts.csv").exists():
        env = {**os.environ, "PYTHONPATH": str(src)}
        command = [sys.executable, "-m", "entitle.samples.generate", "--out", str(folder)]
        command += ["--users", str(users), "--seed", str(seed)]
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default="/tmp/entitle-bench-load", help="scratch folder")
    parser.add_argument("--src", default=str(ROOT / "src"), help="the entitle tree to load with")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (best is shown)")
    parser.add_argument("--profile", action="store_true", help="cProfile the load (to stderr)")
    parser.add_argument("--servers", action="store_true", help="also time the server demand")
    parser.add_argument("--digest", action="store_true", help="fingerprint of the loaded estate")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        out = child(Path(args.child), args)
        print(json.dumps(out))
        sys.stdout.flush()
        os._exit(0)  # freeing a million records takes a while and measures nothing

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    src = Path(args.src).resolve()
    print(f"entitle tree: {src}; load average at start {_loadavg()}")
    header = f"{'users':>8} {'rows':>10} {'load s':>7} {'cpu s':>7} {'MB before':>9} {'MB peak':>8}"
    header += f" {'servers s':>9}" if args.servers else ""
    header += f" {'load avg':>15}" + (f" {'digest':>16}" if args.digest else "")
    print(header)
    for users in args.sizes:
        folder = _estate(users, args.seed, work, src)
        runs = []
        for _ in range(args.repeat):
            command = [sys.executable, str(HERE), "--child", str(folder)]
            command += [
                f"--{flag}" for flag in ("profile", "servers", "digest") if getattr(args, flag)
            ]
            env = {**os.environ, "PYTHONPATH": str(src)}
            done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
            runs.append((json.loads(done.stdout.strip().splitlines()[-1]), _loadavg()))
        out, load = min(runs, key=lambda run: run[0]["load_s"])
        if "errors" in out:
            print(f"{users:>8,} does not load: {out['errors']}")
            continue
        line = f"{users:>8,} {out['rows']:>10,} {out['load_s']:>7.2f} {out['load_cpu_s']:>7.2f}"
        line += f" {out['mb_before']:>9,.0f} {out['mb_peak']:>8,.0f}"
        line += f" {out['servers_s']:>9.2f}" if args.servers else ""
        line += f" {load:>15}" + (f" {out['digest']:>16}" if args.digest else "")
        print(line, flush=True)


def _loadavg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
