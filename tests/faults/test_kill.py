"""SIGKILL at random points (``kit.kill_points``: half anywhere, half near the end where the
writes happen) during an import, a ledger change and a report write. Afterwards the estate
folder and the report files are either the old ones or the complete new ones, and the ledger is
consistent: its audit chain verifies and it holds all of the change or none of it.

ENTITLE_FAULT_RUNS sets the kills per scenario (default 20)."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from kit import RUNS, Zygote, files, kill_points
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from entitle.ledger import db

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
EXAMPLE = ROOT / "examples" / "sample-estate"  # bundled, so the tests need nothing beside the clone
ADMIN = os.environ.get("ENTITLE_TEST_POSTGRES")
KEY = {"ENTITLE_KEY": Fernet.generate_key().decode(), "ENTITLE_USER": "fault-harness"}


def clean(z: Zygote, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Run to the end; the seconds it took."""
    outcome = z.run(argv, cwd, env)
    assert outcome.code == 0, outcome.log
    return outcome.seconds


def no_traceback(log: str) -> None:
    assert "Traceback" not in log, log


# -- (a) an import writing an estate folder -----------------------------------------------------


def test_a_killed_import_leaves_the_old_or_the_new_estate(zygote: Zygote, tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    clean(zygote, ["import", "sil", str(EXPORTS / "sil"), "--into", "estate"], base)
    old = files(base / "estate")
    done = tmp_path / "done"
    shutil.copytree(base, done)
    argv = ["import", "hyperv", str(EXPORTS / "hyperv"), "--into", "estate"]
    seconds = clean(zygote, argv, done)
    new = files(done / "estate")
    assert new != old
    killed = 0
    for n, delay in enumerate(kill_points(seconds)):
        run = tmp_path / f"run{n}"
        shutil.copytree(base, run)
        outcome = zygote.run(argv, run, kill_after=delay)
        no_traceback(outcome.log)
        killed += outcome.killed
        assert (run / "estate").is_dir(), f"killed after {delay:.3f} s: the estate is gone"
        assert files(run / "estate") in (old, new), f"killed after {delay:.3f} s: a mixed estate"
        shutil.rmtree(run)
    # The late kill points sit around the end of one timed clean run, and a run's length varies
    # (a quiet machine ends it sooner), so some of them land after the end: ask for a quarter.
    assert killed >= RUNS // 4, "too few runs were killed before they ended"


# -- (b) ledger changes on SQLite and PostgreSQL -------------------------------------------------


def entitlements(refs: list[str]) -> str:
    rows = [f"{ref},windows-server,user-cal,2022,{len(ref) % 7 + 3}" for ref in refs]
    return "id,product,license,version,quantity\n" + "\n".join(rows) + "\n"


def change(n: int) -> tuple[list[str], str, set[tuple[str, ...]]]:
    """Run ``n``'s change, the table it adds to and the rows it adds there (all or none of them
    may be there after a kill). Each run's change touches its own entitlement or ids."""
    on = date(2025, 1, 10) + timedelta(days=n)
    kind = n % 3
    if kind == 0:
        refs = [f"N{n}-{i}" for i in range(60)]
        rows = {(ref, str(len(ref) % 7 + 3)) for ref in refs}
        return ["ledger", "import", f"batch{n}.csv"], "entitlements", rows
    if kind == 1:
        argv = ["ledger", "assign", f"E-{n}", "--to", f"user:u{n}", "-n", "1", "--on", str(on)]
        return argv, "assignments", {(f"E-{n}", "1", "user", f"u{n}", str(on))}
    argv = ["ledger", "retire", f"E-{n}", "-n", "1", "--reason", "sold", "--on", str(on)]
    return argv, "retirements", {(f"E-{n}", "1", str(on), "sold")}


STATE = {
    "entitlements": "SELECT ref, quantity FROM entitlements",
    "assignments": "SELECT e.ref, a.quantity, a.holder_kind, a.holder, a.start FROM assignments a "
    "JOIN entitlements e ON e.id = a.entitlement_id",
    "retirements": "SELECT e.ref, r.quantity, r.retired_on, r.reason FROM retirements r "
    "JOIN entitlements e ON e.id = r.entitlement_id",
}


def state(z: Zygote, url: str, cwd: Path) -> dict[str, set[tuple[str, ...]]]:
    """What the ledger holds, after ``entitle ledger verify`` says its audit chain is intact and
    every row matches its last event."""
    verify = z.run(["ledger", "verify", "--db", url], cwd, KEY)
    assert verify.code == 0, verify.log
    engine = create_engine(db.resolve_url(url))
    try:
        with engine.connect() as conn:
            return {
                name: {tuple(map(str, r)) for r in conn.execute(text(q))}
                for name, q in STATE.items()
            }
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    if not ADMIN:
        pytest.skip(
            "PostgreSQL fault tests need ENTITLE_TEST_POSTGRES, e.g. "
            "postgresql://postgres@127.0.0.1:5432/test"
        )
    name = "entitle_fault_" + secrets.token_hex(6)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_killed_ledger_change_is_all_or_nothing(
    zygote: Zygote, ledger_url: str, tmp_path: Path
) -> None:
    """Each run kills one change (an import of 60 entitlements, an assignment, a retirement)
    and then finds the ledger verified and holding all of the change's rows or none."""
    url = ledger_url
    (tmp_path / "first.csv").write_text(entitlements([f"E-{i}" for i in range(RUNS + 1)]))
    for n in range(RUNS):
        (tmp_path / f"batch{n}.csv").write_text(entitlements([f"N{n}-{i}" for i in range(60)]))
    clean(zygote, ["ledger", "init", "--db", url], tmp_path, KEY)
    clean(zygote, ["ledger", "import", "first.csv", "--db", url], tmp_path, KEY)
    (tmp_path / "timing.csv").write_text(entitlements([f"T-{i}" for i in range(60)]))
    timing = {  # one clean run of each kind of change, to time it
        0: ["ledger", "import", "timing.csv"],
        1: ["ledger", "assign", "E-0", "--to", "user:t", "-n", "1", "--on", "2025-01-02"],
        2: ["ledger", "retire", "E-0", "-n", "1", "--reason", "sold", "--on", "2025-01-03"],
    }
    seconds = {
        kind: clean(zygote, [*argv, "--db", url], tmp_path, KEY) for kind, argv in timing.items()
    }
    killed = 0
    held = state(zygote, url, tmp_path)
    for n in range(RUNS):
        argv, table, rows = change(n)
        delay = kill_points(seconds[n % 3], seed=n)[n]
        outcome = zygote.run([*argv, "--db", url], tmp_path, KEY, kill_after=delay)
        no_traceback(outcome.log)
        killed += outcome.killed
        if url.endswith(".db"):
            with sqlite3.connect(url) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        now = state(zygote, url, tmp_path)
        added = now[table] - held[table]
        assert added in (set(), rows), f"{argv[1]} killed after {delay:.3f} s: {added}"
        assert all(now[t] == held[t] for t in STATE if t != table), argv
        if not outcome.killed:
            assert added == rows, outcome.log
        held = now
    assert killed >= RUNS // 3, "too few runs were killed before they ended"


# -- (c) report files ---------------------------------------------------------------------------


def test_a_killed_report_write_leaves_each_file_old_or_new(zygote: Zygote, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    names = ("p.xlsx", "p.html", "p.txt", "p.json")
    old = {name: b"the old report " + name.encode() for name in names}
    argv = [
        "position",
        str(EXAMPLE),
        "--as-of",
        "2026-11-28",
        "--xlsx",
        "out/p.xlsx",
        "--html",
        "out/p.html",
        "--out",
        "out/p.txt",
    ]
    json_argv = ["position", str(EXAMPLE), "--as-of", "2026-11-28", "--json", "-o", "out/p.json"]
    env = {"SOURCE_DATE_EPOCH": "1764288000"}
    seconds = clean(zygote, argv, tmp_path, env) + clean(zygote, json_argv, tmp_path, env)
    new = {name: (out / name).read_bytes() for name in names}
    assert all(new[n] != old[n] for n in names)
    killed = 0
    for delay in kill_points(seconds / 2):
        for name, data in old.items():
            (out / name).write_bytes(data)
        for run_argv in (argv, json_argv):
            outcome = zygote.run(run_argv, tmp_path, env, kill_after=delay)
            no_traceback(outcome.log)
            killed += outcome.killed
        for name in names:
            assert (out / name).read_bytes() in (old[name], new[name]), (name, delay)
    assert killed >= RUNS // 4  # as above: late points may land after a run's end


def test_what_killed_imports_left_is_swept_a_day_later(zygote: Zygote, tmp_path: Path) -> None:
    """A kill leaves a hidden staging folder (a whole copy of the estate) beside the estate; the
    next import removes those more than a day old and leaves younger ones (maybe running)."""
    clean(zygote, ["import", "sil", str(EXPORTS / "sil"), "--into", "estate"], tmp_path)
    old = [tmp_path / ".estate.import-abandoned", tmp_path / ".estate.old-abandoned"]
    young = tmp_path / ".estate.import-running"
    two_days_ago = time.time() - 2 * 24 * 3600
    for folder in [*old, young]:
        folder.mkdir()
        (folder / "hosts.csv").write_text("host,processors,cores_per_processor\n")
    for folder in old:
        os.utime(folder, (two_days_ago, two_days_ago))
    clean(zygote, ["import", "hyperv", str(EXPORTS / "hyperv"), "--into", "estate"], tmp_path)
    assert not any(folder.exists() for folder in old)
    assert young.is_dir()
