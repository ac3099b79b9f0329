"""The PostgreSQL ledger tests' reused database (tests/pgreuse.py) is put back exactly as a copy of
the initialised ledger would be: a test's rows gone, its sequences back, a changed schema replaced
by a new copy, a session it left open ended. PostgreSQL only (the SQLite tests get a new file)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

import pgreuse
from entitle.catalog import default_catalog
from entitle.ledger import service
from entitle.ledger.importing import read_file
from pgreuse import LATER, Reused
from tiers import SLOW

from .conftest import ADMIN
from .kit import write_csv

CSV = """
id,product,license,edition,version,quantity,purchased,assigned_to
WS-1,windows-server,core,standard,2022,16,2025-01-10,hv01
"""


@pytest.fixture
def reused(pg_ledger) -> Reused:  # type: ignore[no-untyped-def]
    if not ADMIN:
        pytest.skip(
            "needs ENTITLE_TEST_POSTGRES, e.g. postgresql://postgres@127.0.0.1:5432/test "
            "(.ci/run sets it)"
        )
    made = Reused(ADMIN, pg_ledger())
    yield made
    LATER.extend(made.names)  # dropped at the worker's end, with the others at once


def dump(url: str) -> dict[str, bytes]:
    """Every table of ``public`` as COPY's binary, the way the template's copy holds it."""
    out = {}
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        for (name,) in names:
            data = bytearray()
            with conn.cursor().copy(f'COPY "{name}" TO STDOUT (FORMAT binary)') as copy:
                for chunk in copy:
                    data += chunk
            out[name] = bytes(data)
    return out


def add_one(url: str, tmp_path: Path) -> int:
    """An entitlement added through the ledger: its row id."""
    ledger = service.connect(url, "auditor", {})
    try:
        found, problems = read_file(write_csv(tmp_path, "e.csv", CSV), default_catalog(), {})
        assert problems == []
        assert service.import_candidates(ledger, found).added == 1
        with ledger.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT max(id) FROM entitlements").scalar_one())
    finally:
        ledger.engine.dispose()


def test_a_tests_rows_are_gone_and_its_ids_start_again(reused: Reused, tmp_path: Path) -> None:
    first = reused.fresh()
    assert reused.copies == 1
    pristine = dump(first)
    assert add_one(first, tmp_path) == 1  # a copy of an initialised ledger starts its ids at 1
    assert dump(first) != pristine  # the row, its audit event, the ledger's head
    again = reused.fresh()
    assert (again, reused.copies, reused.resets) == (first, 1, 1)  # put back, not copied
    assert dump(again) == pristine
    assert add_one(again, tmp_path) == 1  # the sequence is back too


def test_a_changed_schema_gets_a_new_copy(reused: Reused) -> None:
    url = reused.fresh()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    again = reused.fresh()  # a new copy, by another name: the changed one is dropped at the end
    assert again != url and reused.names == [make_url(u).database for u in (url, again)]
    assert reused.copies == 2 and reused.resets == 0
    with psycopg.connect(again) as conn:
        assert conn.execute("SELECT to_regclass('notes')").fetchone() == (None,)
    with psycopg.connect(url) as conn:  # the changed one is left as it was until then
        assert conn.execute("SELECT to_regclass('notes')").fetchone() == ("notes",)


def test_a_session_left_open_is_ended(reused: Reused) -> None:
    url = reused.fresh()
    left = psycopg.connect(url)
    left.execute("LOCK TABLE entitlements IN ACCESS EXCLUSIVE MODE")  # and never committed
    assert reused.fresh() == url and reused.resets == 1
    with pytest.raises(psycopg.OperationalError):
        left.execute("SELECT 1")


# In the long tier: its drop waits for a checkpoint of the whole server, 1-7 s. (Every run's
# workers end with such a drop, logged to pgreuse.DROP_LOG.)
@SLOW
def test_a_detached_drop_drops_them_all_and_says_so(tmp_path: Path) -> None:
    if not ADMIN:
        pytest.skip("needs ENTITLE_TEST_POSTGRES (.ci/run sets it)")
    names = [f"entitle_test_detached_{i}_{os.getpid()}" for i in range(2)]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    held = psycopg.connect(make_url(ADMIN).set(database=names[0]).render_as_string(False))
    log = tmp_path / "drops.log"
    assert pgreuse.drop_detached(ADMIN, names, log).wait() == 0  # though a session is open
    with psycopg.connect(ADMIN) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", [names]
        ).fetchall()
    assert left == []
    assert log.read_text().count("\n") == 1 and "dropped 2 in" in log.read_text()
    assert log.read_text().rstrip().endswith(" ".join(names))
    with pytest.raises(psycopg.OperationalError):  # its session was ended by the drop
        held.execute("SELECT 1")


def test_a_detached_drop_that_fails_logs_why_and_exits_1(tmp_path: Path) -> None:
    log = tmp_path / "drops.log"
    log.write_text("an earlier line\n")
    nowhere = "postgresql://postgres@127.0.0.1:1/test"  # no server listens on port 1
    assert pgreuse.drop_detached(nowhere, ["entitle_test_x"], log).wait() == 1
    lines = log.read_text().splitlines()
    assert lines[0] == "an earlier line"  # appended to, not replaced
    assert "could not drop entitle_test_x:" in lines[1]
    assert "OperationalError" in log.read_text()
