"""Load benchmark of ``entitle serve`` (issue #8): many readers and a few writers at once on one
organisation, against the real server (uvicorn) on 127.0.0.1.

For each engine — a temporary SQLite database, and PostgreSQL when ``--pg`` names a server (a
scratch database is created and dropped afterwards) — the script starts ``entitle serve``, signs
up, makes an API token, uploads the sample estate (``examples/sample-estate``), waits for its
position to be computed, then for ``--seconds`` (and at most ``--max`` requests a worker) runs

* ``--readers`` readers: ``GET .../estates/{id}/position`` (the stored position, no recompute);
* ``--writers`` writers: ``POST .../ledger/entitlements`` (a purchase with a new id) followed by
  ``POST .../ledger/assign`` (one unit of it to a new user), over and over.

Each reader and writer has its own keep-alive HTTP/1.1 connection, spoken by hand on asyncio's
streams (:class:`Connection`: httpx cost about 1 ms of the shared CPUs a request), and sends its
next request when the last is answered; with ``--read-rate R`` the readers instead send R reads
a second in all on a fixed schedule, each read's latency counted from its scheduled moment.

It prints, per kind, the throughput, latency percentiles (p50/p95/p99) and the answers by HTTP
status, and then checks that no acknowledged write was lost (every purchase answered 201 is in
the ledger's listing, every assignment answered 200 is held) and that the audit chain verifies.
The machine's load average is printed at the start and the end (the client shares the CPUs).

    .venv/bin/python bench/bench_serve.py                              # SQLite, 20 s
    .venv/bin/python bench/bench_serve.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/bench_serve.py --seconds 10 --readers 8 --writers 2 --no-sqlite --pg URL
    .venv/bin/python bench/bench_serve.py --workers 2 --read-rate 250   # the target's load, offered

Exit status 1 when a write was lost, the chain does not verify, or a request failed with 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample-estate"
PASSWORD = "correct horse battery staple"
TARGETS = {"read": 200.0, "write": 20.0}  # requests a second; p99 under 500 ms


@dataclass
class Kind:
    """The latencies (seconds) and statuses of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def add(self, seconds: float, status: int) -> None:
        self.latencies.append(seconds)
        self.statuses[status] += 1


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time so far of a process and every process under it (the worker
    processes of ``--workers``), from Linux /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
    tree = {pid}
    grew = True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        grew = bool(more)
        tree |= more
    total = 0
    for p in tree:
        try:
            fields = _stat(p)
        except OSError:  # ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def backend_cpu(database: str) -> dict[int, float]:
    """User and system CPU time so far of each PostgreSQL server process serving ``database``
    (their titles name it: ``postgres: 15/main: USER DATABASE HOST(PORT) idle``), by process
    id, from Linux /proc; empty when the server runs elsewhere."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres:") or f" {database} " not in title:
                continue
            fields = _stat(int(entry.name))
        except (OSError, IndexError):
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def backend_cpu_since(database: str, before: dict[int, float]) -> float:
    """The CPU time the server processes of ``database`` alive now used since ``before`` (a
    :func:`backend_cpu`); a process that ended meanwhile is not counted."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in backend_cpu(database).items())


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A scratch database on the server of ``admin_url``, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = "entitle_bench_" + secrets.token_hex(4)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def server(db_url: str, data: Path, workers: int = 1) -> Iterator[tuple[str, int]]:
    """``entitle serve`` (``--workers``) on a free loopback port; its base URL and process id
    while it runs."""
    port = free_port()
    log = open(data / "serve.log", "wb")  # noqa: SIM115 - closed below
    command = [
        sys.executable,
        "-m",
        "entitle.cli.main",
        "serve",
        "--db",
        db_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data",
        str(data / "uploads"),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=data)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                tail = (data / "serve.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"entitle serve ended:\n{tail}")
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("entitle serve did not answer within 60 s")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def setup(client: httpx.AsyncClient) -> tuple[dict[str, str], int, int]:
    """Sign up, make a token, upload the sample estate and wait for its position."""
    email = f"bench-{secrets.token_hex(4)}@bench.example"
    r = await client.post(
        "/api/signup", json={"email": email, "password": PASSWORD, "organisation": "Bench"}
    )
    r.raise_for_status()
    body = r.json()
    org = int(body["organisations"][0]["id"])
    r = await client.post(
        "/api/tokens", json={"name": "bench"}, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    r.raise_for_status()
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    files = [("files", (p.name, p.read_bytes())) for p in sorted(SAMPLE.glob("*.csv"))]
    r = await client.post(
        f"/api/orgs/{org}/estates", files=files, data={"name": "sample"}, headers=auth
    )
    r.raise_for_status()
    estate, job = int(r.json()["estate"]["id"]), int(r.json()["job"]["id"])
    for _ in range(600):
        state = (await client.get(f"/api/orgs/{org}/jobs/{job}", headers=auth)).json()["job"]
        if state["state"] in ("done", "failed"):
            break
        await asyncio.sleep(0.1)
    if state["state"] != "done":
        raise RuntimeError(f"the sample estate did not import: {state}")
    r = await client.get(f"/api/orgs/{org}/estates/{estate}/position", headers=auth)
    r.raise_for_status()
    return auth, org, estate


@dataclass
class Run:
    kinds: dict[str, Kind] = field(default_factory=lambda: {k: Kind() for k in KINDS})
    bought: list[str] = field(default_factory=list)
    assigned: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu: float = 0.0
    database: str | None = None  # PostgreSQL: the scratch database's name
    db_cpu: float = 0.0  # CPU of its server processes that lived through the run
    sessions: int = 0  # connections opened to it during the run
    kept: int = 0  # of which still open at the end (the rest were opened and closed: churn)


KINDS = ("read", "purchase", "assign")


class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand on asyncio's streams: a request's
    bytes out, the status line, the headers and ``Content-Length`` bytes of body back. The load
    runs on these rather than on httpx, whose client took about 1 ms of CPU a request on the same
    two cores as the server; each request is still timed from its first byte sent to its last
    byte read. Reconnects when the server closes the connection (``Connection: close``)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]):
        self.host, self.port = host, port
        self.head = "".join(
            f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items()
        )
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else ""
        writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").lower().split("\r\n")
            status = int(lines[0].split()[1])
            fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            if "content-length" not in fields:
                raise ConnectionError(f"no Content-Length in the answer to {method} {path}")
            data = await reader.readexactly(int(fields["content-length"]))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.close()
            raise
        if fields.get("connection") == "close":
            self.close()
        return status, data

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def timed(
    run: Run,
    kind: str,
    conn: Connection,
    method: str,
    path: str,
    body: bytes = b"",
    since: float | None = None,
) -> tuple[int, bytes] | None:
    start = time.monotonic() if since is None else since
    try:
        answer = await conn.request(method, path, body)
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        run.kinds[kind].add(time.monotonic() - start, 0)  # 0: no answer
        return None
    run.kinds[kind].add(time.monotonic() - start, answer[0])
    return answer


async def reader(
    run: Run, conn: Connection, url: str, end: float, most: int, every: float, first: float
) -> None:
    """Reads one after another; with ``every`` (seconds), each at its own moment ``first``,
    ``first + every``, … (an open schedule: a late answer does not move the next moment), its
    latency counted from that moment, so time spent behind schedule counts as waiting."""
    for n in range(most):
        if not every:
            if time.monotonic() >= end:
                break
            await timed(run, "read", conn, "GET", url)
            continue
        due = first + n * every
        if due >= end:
            break
        if due > time.monotonic():
            await asyncio.sleep(due - time.monotonic())
        await timed(run, "read", conn, "GET", url, since=due)
    conn.close()


async def writer(run: Run, conn: Connection, org: int, end: float, most: int, who: int) -> None:
    base = f"/api/orgs/{org}/ledger"
    for n in range(most // 2):
        if time.monotonic() >= end:
            break
        ref = f"W{who}-{n}"
        purchase = {"id": ref, "product": "windows-server", "license": "user-cal", "quantity": 5}
        r = await timed(
            run, "purchase", conn, "POST", base + "/entitlements", json.dumps(purchase).encode()
        )
        if r is None or r[0] != 201:
            continue
        run.bought.append(ref)
        holder = f"user:w{who}-{n}"
        move = {"ref": ref, "to": holder, "quantity": 1}
        r = await timed(run, "assign", conn, "POST", base + "/assign", json.dumps(move).encode())
        if r is not None and r[0] == 200:
            run.assigned.append((ref, holder))
    conn.close()


def sessions_opened(admin_url: str, database: str) -> int:
    """How many connections the PostgreSQL server has opened to ``database`` so far
    (``pg_stat_database.sessions``, PostgreSQL 14 and later)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else 0


async def load(
    base: str, pid: int, args: argparse.Namespace, db_url: str
) -> tuple[Run, dict[str, Any]]:
    limits = httpx.Limits(max_connections=args.readers + args.writers + 4)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        auth, org, estate = await setup(client)
        url = f"/api/orgs/{org}/estates/{estate}/position"
        run = Run()
        if "://" in db_url:
            from sqlalchemy.engine import make_url

            run.database = make_url(db_url).database
        if run.database:
            db_cpu, sessions = backend_cpu(run.database), sessions_opened(args.pg, run.database)
        cpu = cpu_seconds(pid)
        started = time.monotonic()
        end = started + args.seconds
        host, port = base.removeprefix("http://").split(":")

        def connection() -> Connection:
            return Connection(host, int(port), auth)

        every = args.readers / args.read_rate if args.read_rate else 0.0
        await asyncio.gather(
            *(
                reader(
                    run, connection(), url, end, args.max, every, started + k * every / args.readers
                )
                for k in range(args.readers)
            ),
            *(writer(run, connection(), org, end, args.max, w) for w in range(args.writers)),
        )
        run.elapsed = time.monotonic() - started
        run.server_cpu = cpu_seconds(pid) - cpu
        if run.database:
            run.db_cpu = backend_cpu_since(run.database, db_cpu)
            run.kept = len(set(backend_cpu(run.database)) - set(db_cpu))
            run.sessions = sessions_opened(args.pg, run.database) - sessions
        listing = (await client.get(f"/api/orgs/{org}/ledger/entitlements", headers=auth)).json()
        verified = (await client.get(f"/api/orgs/{org}/ledger/verify", headers=auth)).json()
    held = {
        (e["id"], h["holder"]) for e in listing["entitlements"] for h in e["held"] if h["units"]
    }
    ids = {e["id"] for e in listing["entitlements"]}
    checks = {
        "lost_purchases": sorted(set(run.bought) - ids),
        "lost_assignments": sorted(set(run.assigned) - held),
        "chain_ok": bool(verified.get("ok")),
        "events": verified.get("events"),
    }
    return run, checks


def report(engine: str, run: Run, checks: dict[str, Any]) -> bool:
    print(f"\n== {engine}: {run.elapsed:.1f} s")
    print(
        f"{'kind':<9} {'count':>6} {'per s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  statuses"
    )
    ok = True
    for name, kind in run.kinds.items():
        rate = len(kind.latencies) / run.elapsed if run.elapsed else 0.0
        p = [percentile(kind.latencies, q) * 1000 for q in (50, 95, 99)]
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(kind.statuses.items()))
        print(
            f"{name:<9} {len(kind.latencies):>6} {rate:>7.1f} {p[0]:>7.1f} {p[1]:>7.1f} {p[2]:>7.1f}  {statuses}"
        )
        ok &= not any(s == 0 or s >= 500 for s in kind.statuses)
    total = sum(len(k.latencies) for k in run.kinds.values())
    print(
        f"server CPU: {run.server_cpu:.1f} s in {run.elapsed:.1f} s "
        f"({run.server_cpu / run.elapsed:.0%} of a core, all server processes), {run.server_cpu / max(total, 1) * 1000:.2f} ms a request"
    )
    if run.database:
        print(
            f"PostgreSQL CPU: {run.db_cpu:.1f} s ({run.db_cpu / run.elapsed:.0%} of a core; the "
            f"server processes of the database that lived through the run), "
            f"{run.db_cpu / max(total, 1) * 1000:.2f} ms a request; {run.sessions} connections "
            f"opened during the run, {run.kept} of them open at its end"
        )
    reads = len(run.kinds["read"].latencies) / run.elapsed
    writes = sum(len(run.kinds[k].latencies) for k in ("purchase", "assign")) / run.elapsed
    worst = max(percentile(k.latencies, 99) for k in run.kinds.values()) * 1000
    print(
        f"targets: reads {reads:.0f}/s (>= {TARGETS['read']:.0f}), writes {writes:.0f}/s "
        f"(>= {TARGETS['write']:.0f}), worst p99 {worst:.0f} ms (< 500): "
        + (
            "met"
            if reads >= TARGETS["read"] and writes >= TARGETS["write"] and worst < 500
            else "NOT met"
        )
    )
    print(
        f"lost purchases: {len(checks['lost_purchases'])} of {len(run.bought)}; lost assignments: "
        f"{len(checks['lost_assignments'])} of {len(run.assigned)}; audit chain "
        f"{'verifies' if checks['chain_ok'] else 'DOES NOT VERIFY'} ({checks['events']} events)"
    )
    return (
        ok
        and checks["chain_ok"]
        and not checks["lost_purchases"]
        and not checks["lost_assignments"]
    )


def bench(engine: str, db_url: str, data: Path, args: argparse.Namespace) -> bool:
    with server(db_url, data, args.workers) as (base, pid):
        run, checks = asyncio.run(load(base, pid, args, db_url))
    return report(engine, run, checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (a scratch database is made on it)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load runs")
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--max", type=int, default=20_000, help="requests a worker at most")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    parser.add_argument(
        "--read-rate",
        type=float,
        default=0.0,
        help="reads a second offered in all, on a fixed schedule (default: as fast as answered)",
    )
    args = parser.parse_args()
    print(
        f"entitle serve load: {args.readers} readers, {args.writers} writers, "
        f"{args.seconds:.0f} s, {args.workers} server process(es), "
        f"reads {f'at {args.read_rate:.0f}/s' if args.read_rate else 'as fast as answered'}; {os.cpu_count()} CPUs; load average {os.getloadavg()}"
    )
    ok = True
    work = Path(tempfile.mkdtemp(prefix="entitle-bench-serve-"))
    try:
        if not args.no_sqlite:
            (work / "sqlite").mkdir()
            ok &= bench("SQLite", str(work / "sqlite" / "entitle.db"), work / "sqlite", args)
        if args.pg:
            (work / "pg").mkdir()
            with postgres_database(args.pg) as url:
                ok &= bench("PostgreSQL", url, work / "pg", args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at the end {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
