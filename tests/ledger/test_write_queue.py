"""The threads of one process that write to one SQLite ledger take turns on a lock before
``BEGIN IMMEDIATE`` (ledger/db.py ``_write_queue``) instead of polling SQLite's own lock. The
turn must be given back however the transaction ends — a commit, a rollback, an error inside
it, a connection returned or invalidated without either — or every later writer of the process
would wait the whole busy timeout; and writers on many threads at once lose no update."""

from __future__ import annotations

import contextvars
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

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


def test_a_writer_that_waited_its_turn_out_fails_at_once_and_keeps_its_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # review of the turns: a writer that waited the whole busy timeout for its turn must not
    # then wait SQLite's busy timeout a second time (a frozen worker for twice as long); it
    # tries BEGIN IMMEDIATE once with no busy wait, fails with "database is locked", and its
    # connection keeps the busy timeout for the next transaction
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    made = db.open_engine(db.resolve_url(str(tmp_path / "q.db")))
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with db.writer(made).begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS n (v INTEGER)"))
            holding.set()
            done.wait(120)

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert holding.wait(120)
        said = _statements(made)
        with pytest.raises(OperationalError, match="locked"), db.writer(made).begin() as conn:
            conn.execute(text("SELECT 1"))
        # no second wait: SQLite's busy timeout is off for the one try, then back
        begin = said.index("BEGIN IMMEDIATE")
        assert said[begin - 1 : begin + 2] == [
            "PRAGMA busy_timeout=0",
            "BEGIN IMMEDIATE",
            "PRAGMA busy_timeout=50",
        ]
        with made.connect() as conn:  # the pool's connection, as the next request gets it
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 50
    finally:
        done.set()
        other.join(120)
    with db.writer(made).begin() as conn:  # the turn was given back: the next writer writes
        conn.execute(text("INSERT INTO n VALUES (1)"))


def test_a_thread_that_holds_the_turn_does_not_wait_for_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second writer opened by the thread that holds the turn goes to SQLite's lock (which
    # refuses it after its busy timeout) instead of queueing behind itself; its failure does
    # not give back the first writer's turn
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    made = db.open_engine(db.resolve_url(str(tmp_path / "q.db")))
    key = str(tmp_path / "q.db")
    queue = db._QUEUES[key]
    said = _statements(made)
    with db.writer(made).begin() as first:
        first.execute(text("CREATE TABLE n (v INTEGER)"))
        assert db._OWNERS[key] == threading.get_ident()
        said.clear()
        with pytest.raises(OperationalError, match="locked"), db.writer(made).begin() as second:
            second.execute(text("SELECT 1"))
        assert said[:1] == ["BEGIN IMMEDIATE"]  # not a turn waited out first
        assert queue.locked() and db._OWNERS[key] == threading.get_ident()
        first.execute(text("INSERT INTO n VALUES (1)"))
    assert not queue.locked() and key not in db._OWNERS


def _statements(engine: Engine) -> list[str]:
    said: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: said.append(a[2]))
    return said


class _CountedLock:
    """A file's writer turn that counts the threads waiting for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self.waiting += 1  # (one waiter in the test: no lock needed around the count)
        try:
            return self.lock.acquire(blocking, timeout)
        finally:
            self.waiting -= 1

    def release(self) -> None:
        self.lock.release()

    def locked(self) -> bool:
        return self.lock.locked()


def test_a_thread_whose_turn_another_thread_will_end_waits_for_it_in_another_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A request's step takes the turn in a pool thread and leaves its transaction for the
    # session's close, in another thread; the first thread, in another request's context (a
    # copy, as the pool runs each step in), begins a write: it waits for the turn, and gets it
    # when the close gives it back. Before, the thread passed as the turn's owner and polled
    # SQLite's lock, held by the first transaction, until its busy timeout: "locked".
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 10_000)
    key = str(tmp_path / "q.db")
    queue = _CountedLock()
    monkeypatch.setitem(db._QUEUES, key, queue)
    made = db.open_engine(db.resolve_url(key))
    with db.writer(made).begin() as conn:
        conn.execute(text("CREATE TABLE n (v INTEGER)"))
    first = db.writer(made).connect()

    def first_step() -> None:
        first.begin()
        first.execute(text("INSERT INTO n VALUES (1)"))

    contextvars.copy_context().run(first_step)  # returns holding the turn
    tried = threading.Event()
    waited: list[bool] = []

    def close_later() -> None:  # the first request's close, in another thread
        while queue.waiting == 0 and not tried.is_set():
            tried.wait(0.005)
        waited.append(queue.waiting == 1)
        first.commit()
        first.close()

    closer = threading.Thread(target=close_later)
    closer.start()
    failed: list[BaseException] = []

    def second_step() -> None:
        try:
            with db.writer(made).begin() as conn:
                conn.execute(text("INSERT INTO n VALUES (2)"))
        except OperationalError as error:
            failed.append(error)

    try:
        contextvars.copy_context().run(second_step)  # the same thread, another request
    finally:
        tried.set()
        closer.join(60)
    assert (waited, failed) == ([True], [])
    with made.connect() as conn:
        assert conn.execute(text("SELECT v FROM n ORDER BY v")).scalars().all() == [1, 2]
