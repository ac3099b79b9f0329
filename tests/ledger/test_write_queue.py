"""The threads of one process that write to one SQLite ledger take turns on a lock before
``BEGIN IMMEDIATE`` (ledger/db.py ``_write_queue``) instead of polling SQLite's own lock. The
turn must be given back however the transaction ends — a commit, a rollback, an error inside
it, a connection returned or invalidated without either — or every later writer of the process
would wait the whole busy timeout; and writers on many threads at once lose no update."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from entitle.ledger import db


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    made = db.open_engine(db.resolve_url(str(tmp_path / "q.db")))
    with db.writer(made).begin() as conn:
        conn.execute(text("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO n VALUES (1, 0)"))
    return made


def _queue(engine: Engine, tmp_path: Path) -> threading.Lock:
    return db._QUEUES[str(tmp_path / "q.db")]


def test_a_write_transaction_holds_the_turn_until_it_commits_or_rolls_back(
    engine: Engine, tmp_path: Path
) -> None:
    queue = _queue(engine, tmp_path)
    assert not queue.locked()
    with db.writer(engine).connect() as conn:
        conn.execute(text("SELECT v FROM n"))  # the transaction begins: BEGIN IMMEDIATE
        assert queue.locked()
        conn.commit()
        assert not queue.locked()
        conn.execute(text("UPDATE n SET v = v + 1"))
        assert queue.locked()
        conn.rollback()
        assert not queue.locked()
    # a read transaction (plain BEGIN) takes no turn
    with engine.connect() as conn:
        conn.execute(text("SELECT v FROM n"))
        assert not queue.locked()


def test_the_turn_is_given_back_after_an_error_a_close_and_an_invalidation(
    engine: Engine, tmp_path: Path
) -> None:
    queue = _queue(engine, tmp_path)
    with pytest.raises(ZeroDivisionError), db.writer(engine).begin() as conn:
        conn.execute(text("UPDATE n SET v = v + 1"))
        raise ZeroDivisionError  # rolled back by the context manager
    assert not queue.locked()
    conn = db.writer(engine).connect()
    conn.execute(text("UPDATE n SET v = v + 1"))
    conn.close()  # neither commit nor rollback: returned to the pool
    assert not queue.locked()
    conn = db.writer(engine).connect()
    conn.execute(text("UPDATE n SET v = v + 1"))
    conn.invalidate()
    assert not queue.locked()
    conn.close()
    with engine.connect() as check:
        assert check.execute(text("SELECT v FROM n")).scalar_one() == 0  # none committed


def test_eight_threads_adding_at_once_lose_no_update(engine: Engine) -> None:
    # each of 8 threads adds 1, 25 times, each time reading the value and writing it plus one
    # in one write transaction: 8 x 25 = 200, whatever the interleaving
    failures: list[BaseException] = []

    def add() -> None:
        try:
            for _ in range(25):
                with db.writer(engine).begin() as conn:
                    v = conn.execute(text("SELECT v FROM n WHERE id = 1")).scalar_one()
                    conn.execute(text("UPDATE n SET v = :v WHERE id = 1"), {"v": v + 1})
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=add) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert failures == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM n")).scalar_one() == 200


def test_a_server_keeps_its_connections_and_opens_no_more_than_it_keeps(url: str) -> None:
    engine = db.open_engine(url)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite opens a file, not a server connection")
    pool = engine.pool
    assert (pool.size(), pool._max_overflow) == (db.POOL_SIZE, 0)  # type: ignore[attr-defined]
    engine.dispose()
