"""What-if and the decision tool, before and after they reuse what they prepared (issue #18,
item 3).

For one generated estate (``python -m entitle.samples.generate --users N``, kept in
``--workdir``) this runs, each in a fresh process and for two source trees (``--before`` and
``--src``):

* ``entitle position ESTATE --json --what-if users.yaml``: 20 people like an existing one, a
  host with more cores and a new core price (the CAL demand changes: the scenario's CAL plan is
  solved again);
* ``entitle position ESTATE --json --what-if servers.yaml``: the host and the price only (the
  CAL demand stays as it was: the baseline's CAL plan is reused);
* ``entitle decide ESTATE --json`` (3 years, no growth) and with growth (``--headcount-growth
  10 --devices-growth 1 --shared-growth 5``).

It prints CPU (user + sys of the child, ``os.wait4``), wall and peak memory of each, the CPU
ratio, and whether the two trees' JSON outputs are identical.

    .venv/bin/python bench/bench_reuse.py --before /tmp/base/src            # 10k users
    git archive <commit> src | tar -x -C /tmp/base                          # the tree to compare

The user whose copies the what-if adds is the estate's first internal user; the host its first.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

from bench_end_to_end import AS_OF, ROOT, Run, commit_of, env_for, make_estate, spawn  # noqa: E402

GROWTH = ["--headcount-growth", "10", "--devices-growth", "1", "--shared-growth", "5"]


def change_files(estate: Path, workdir: Path) -> dict[str, Path]:
    with (estate / "users.csv").open() as f:
        user = next(r["user"] for r in csv.DictReader(f) if r["external"] != "yes")
    with (estate / "hosts.csv").open() as f:
        host = next(r["host"] for r in csv.DictReader(f) if r["processors"])
    servers = (
        f"  - set: host\n    host: {host}\n    cores_per_processor: 24\n"
        "  - set: price\n    product: windows-server\n    license: core\n    price: 70\n"
    )
    people = f"  - add: users\n    count: 20\n    like: {user}\n    prefix: hire-\n"
    out = {}
    for name, text in (("servers", servers), ("users", people + servers)):
        out[name] = workdir / f"{name}.yaml"
        out[name].write_text("changes:\n" + text, encoding="utf-8")
    return out


def commands(estate: Path, changes: dict[str, Path]) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "entitle.cli.main"]
    day = ["--as-of", AS_OF]
    return {
        "what-if users": [*cli, "position", str(estate), "--json", *day, "--what-if"]
        + [str(changes["users"])],
        "what-if servers": [*cli, "position", str(estate), "--json", *day, "--what-if"]
        + [str(changes["servers"])],
        "decide": [*cli, "decide", str(estate), "--json", *day],
        "decide growth": [*cli, "decide", str(estate), "--json", *day, *GROWTH],
    }


def run(cmd: list[str], src: Path, out: Path, timeout: float) -> Run:
    """``cmd`` with its JSON on stdout, written to ``out``."""
    log = out.with_suffix(".log")
    result = spawn(
        [*cmd, "--out", str(out)] if "position" in cmd else cmd, env_for(src), timeout, log
    )
    if "position" not in cmd and result.ok:  # decide prints its JSON
        out.write_text(log.read_text())
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/entitle-bench-reuse")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the tree measured (after)")
    ap.add_argument("--before", type=Path, required=True, help="the tree compared (before)")
    ap.add_argument("--before-commit", default="", help="what --before is, for the header")
    ap.add_argument("--only", help="comma-separated commands (default: all)")
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    estate, rows = make_estate(args.users, args)
    changes = change_files(estate, work)
    todo = commands(estate, changes)
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
    print(
        f"{args.users:,} users, {rows:,} access rows; before {args.before_commit or commit_of(args.before)}, after "
        f"{commit_of(args.src)}"
    )
    print(
        f"{'command':<16} {'before CPU':>11} {'after CPU':>10} {'ratio':>6} "
        f"{'before wall':>12} {'after wall':>11} {'after MB':>9}  same JSON"
    )
    for name, cmd in todo.items():
        slug = name.replace(" ", "-")
        outs, runs = [], []
        for tag, src in (("before", args.before), ("after", args.src)):
            out = work / f"{slug}-{args.users}-{tag}.json"
            out.unlink(missing_ok=True)
            runs.append(run(cmd, src, out, args.timeout))
            outs.append(out)
        b, a = runs
        same = b.ok and a.ok and outs[0].read_bytes() == outs[1].read_bytes()
        ratio = f"{b.cpu_s / a.cpu_s:.2f}x" if a.ok and b.ok and a.cpu_s else "-"
        print(
            f"{name:<16} {b.cpu_s:>10.1f}s {a.cpu_s:>9.1f}s {ratio:>6} {b.wall_s:>11.1f}s "
            f"{a.wall_s:>10.1f}s {a.peak_mb:>9.0f}  {'yes' if same else 'NO'} {b.note} {a.note}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
