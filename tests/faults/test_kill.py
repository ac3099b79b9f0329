"""SIGKILL at every named fault point of the write paths (``entitle.faults``) during an import,
a ledger change on SQLite and PostgreSQL, and a report write: a clean run counts the passes of
each point, then one run per point and pass kills itself there (``ENTITLE_FAULT=NAME:N``), so
every kill lands where it is meant to on a quiet or a loaded machine. Afterwards the estate
folder and the report files are either the old ones or the complete new ones — which of them
follows from the point — and the ledger is consistent: its audit chain verifies and it holds all
of the change (killed after the commit) or none of it (before), and takes the change again."""

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
from kit import Outcome, Zygote, files, kill_points
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from entitle.ledger import db
from pgreuse import drop_later
from tiers import PARTS, part

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
ADMIN = os.environ.get("ENTITLE_TEST_POSTGRES")
KEY = {"ENTITLE_KEY": Fernet.generate_key().decode(), "ENTITLE_USER": "fault-harness"}


def clean(
    z: Zygote, argv: list[str], cwd: Path, env: dict[str, str] | None = None, **options: bool
) -> Outcome:
    """Run to the end; what it did, with the passes of every fault point."""
    outcome = z.run(argv, cwd, env, **options)
    assert outcome.code == 0, outcome.log
    return outcome


def killed_at(
    z: Zygote,
    fault: str,
    argv: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    **options: bool,
) -> Outcome:
    """Run, killed at ``fault``; it must die there, with no traceback before."""
    outcome = z.run(argv, cwd, env, fault=fault, **options)
    assert outcome.killed, f"not killed at {fault}: {outcome.code}\n{outcome.log}"
    assert "Traceback" not in outcome.log, outcome.log
    return outcome


# -- (a) an import writing an estate folder -----------------------------------------------------


def first_pass(fault: str) -> bool:
    return fault.endswith(":1")


@pytest.mark.parametrize("which", PARTS)
@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_killed_import_leaves_the_old_or_the_new_estate(
    zygote: Zygote, tmp_path: Path, exchange: bool, which: str
) -> None:
    """Killed while staging the tables the estate is the old one; once swapped, the new one.
    Where the system has no atomic exchange (two renames) a kill between the renames leaves
    the old estate whole beside its place. In every case the next import completes the job.
    The fast tier kills at the first pass of each point, the long tier at the later ones."""
    swap = {"no_exchange": not exchange}
    base = tmp_path / "base"
    base.mkdir()
    clean(zygote, ["import", "sil", str(EXPORTS / "sil"), "--into", "estate"], base)
    old = files(base / "estate")
    done = tmp_path / "done"
    shutil.copytree(base, done)
    argv = ["import", "hyperv", str(EXPORTS / "hyperv"), "--into", "estate"]
    passes = clean(zygote, argv, done, **swap).passes
    new = files(done / "estate")
    assert new != old
    points = kill_points(passes, "import")
    swapped = "import.swapped" if exchange else "import.half-swapped"
    assert {p.partition(":")[0] for p in points} == {"import.table", "import.staged", swapped}
    assert passes["import.table"] >= 2  # hyperv gives hosts and oses at least
    chosen = part(points, which, first_pass)
    assert chosen, points  # each part kills somewhere
    for fault in chosen:
        run = tmp_path / ("run-" + fault.replace(":", "-"))
        shutil.copytree(base, run)
        killed_at(zygote, fault, argv, run, **swap)
        name = fault.partition(":")[0]
        if name == "import.half-swapped":  # between the renames: the old estate set aside whole
            assert not (run / "estate").exists(), fault
            [aside] = run.glob(".estate.old-*")
            assert files(aside) == old, fault
        else:
            assert files(run / "estate") == (new if name == "import.swapped" else old), fault
        clean(zygote, argv, run, **swap)
        assert files(run / "estate") == new, f"after {fault}, the next import"
        shutil.rmtree(run)


# -- (b) ledger changes on SQLite and PostgreSQL -------------------------------------------------


def entitlements(refs: list[str]) -> str:
    rows = [f"{ref},windows-server,user-cal,2022,{len(ref) % 7 + 3}" for ref in refs]
    return "id,product,license,version,quantity\n" + "\n".join(rows) + "\n"


KINDS = ("import", "assign", "retire")
LEDGER_POINTS = ("ledger.committed", "ledger.flushed", "ledger.locked")  # by kind, in the fast tier


def change(n: int, kind: str) -> tuple[list[str], str, set[tuple[str, ...]]]:
    """Run ``n``'s change of ``kind``, the table it adds to and the rows it adds there. Each
    run's change touches its own entitlement or ids (and writes its own import file)."""
    on = date(2025, 1, 10) + timedelta(days=n)
    if kind == "import":
        refs = [f"N{n}-{i}" for i in range(60)]
        rows = {(ref, str(len(ref) % 7 + 3)) for ref in refs}
        return ["ledger", "import", f"batch{n}.csv"], "entitlements", rows
    if kind == "assign":
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
    drop_later(ADMIN, name)


@pytest.mark.parametrize("which", PARTS)
def test_a_killed_ledger_change_is_all_or_nothing(
    zygote: Zygote, ledger_url: str, tmp_path: Path, which: str
) -> None:
    """Each kind of change (an import of 60 entitlements, an assignment, a retirement) is
    killed at every fault point of its transaction: before the commit the ledger verifies and
    holds none of the change, and takes the same change afterwards; after it, all of it.
    The fast tier kills each kind at one point and at each point one kind (the import after
    its commit, the assignment once flushed, the retirement once locked), the long tier the
    six other pairs."""
    url = ledger_url
    refs = 60
    (tmp_path / "first.csv").write_text(entitlements([f"E-{i}" for i in range(refs)]))
    for n in range(refs):
        (tmp_path / f"batch{n}.csv").write_text(entitlements([f"N{n}-{i}" for i in range(60)]))
    clean(zygote, ["ledger", "init", "--db", url], tmp_path, KEY)
    clean(zygote, ["ledger", "import", "first.csv", "--db", url], tmp_path, KEY)
    runs = iter(range(refs))
    passes = {}  # one clean run of each kind of change counts its fault points' passes
    for kind in KINDS:
        argv, _, _ = change(next(runs), kind)
        passes[kind] = clean(zygote, [*argv, "--db", url], tmp_path, KEY).passes
    held = state(zygote, url, tmp_path)
    for k, kind in enumerate(KINDS):
        points = kill_points(passes[kind], "ledger")
        assert {p.partition(":")[0] for p in points} == set(LEDGER_POINTS), kind

        def diagonal(fault: str, k: int = k) -> bool:
            return fault == f"{LEDGER_POINTS[k]}:1"

        chosen = part(points, which, diagonal)
        assert chosen, (kind, points)  # each part kills each kind somewhere
        for fault in chosen:
            argv, table, rows = change(next(runs), kind)
            killed_at(zygote, fault, [*argv, "--db", url], tmp_path, KEY)
            if url.endswith(".db"):
                with sqlite3.connect(url) as conn:
                    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            now = state(zygote, url, tmp_path)
            added = now[table] - held[table]
            committed = fault.startswith("ledger.committed:")
            assert added == (rows if committed else set()), f"{kind} killed at {fault}: {added}"
            assert all(now[t] == held[t] for t in STATE if t != table), (kind, fault)
            if not committed:  # nothing is left locked or half-done: the change goes through
                clean(zygote, [*argv, "--db", url], tmp_path, KEY)
                now = state(zygote, url, tmp_path)
                assert now[table] - held[table] == rows, (kind, fault)
            held = now


# -- (c) report files ---------------------------------------------------------------------------


def test_a_killed_report_write_leaves_each_file_old_or_new(zygote: Zygote, tmp_path: Path) -> None:
    """Killed at any point of writing the workbook, the HTML page, the text and the JSON,
    each file is the old one or the complete new one; killed before the Kth rename, exactly
    K - 1 of the command's files are new (each file is staged, then renamed into place)."""
    out = tmp_path / "out"
    out.mkdir()
    small = tmp_path / "small"  # one host: the kills are about the files, not the position's size
    small.mkdir()
    (small / "hosts.csv").write_text("host,processors,cores_per_processor\nhv1,2,8\n")
    (small / "oses.csv").write_text("ose,host,virtual\nhv1-os,hv1,no\n")
    (small / "software.csv").write_text(
        "ose,product,edition,version\nhv1-os,windows-server,datacenter,2025\n"
    )
    common = ["position", str(small), "--as-of", "2026-11-28"]
    commands = {
        ("p.xlsx", "p.html", "p.txt"): [
            *common,
            *("--xlsx", "out/p.xlsx", "--html", "out/p.html", "--out", "out/p.txt"),
        ],
        ("p.json",): [*common, "--json", "-o", "out/p.json"],
    }
    env = {"SOURCE_DATE_EPOCH": "1764288000"}
    for names, argv in commands.items():
        old = {name: b"the old report " + name.encode() for name in names}
        passes = clean(zygote, argv, tmp_path, env).passes
        new = {name: (out / name).read_bytes() for name in names}
        assert all(new[n] != old[n] for n in names)
        points = kill_points(passes, "report")
        assert passes["report.rename"] == len(names), passes
        for fault in points:
            for name, data in old.items():
                (out / name).write_bytes(data)
            killed_at(zygote, fault, argv, tmp_path, env)
            after = {name: (out / name).read_bytes() for name in names}
            assert all(after[n] in (old[n], new[n]) for n in names), fault
            if fault.startswith("report.rename:"):
                renamed = int(fault.partition(":")[2]) - 1
                assert sum(after[n] == new[n] for n in names) == renamed, fault


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
