"""A PostgreSQL connection the server ended is never lent from the pool (db._check_alive): the
check that replaced ``pool_pre_ping`` pings only a connection idle over IDLE_PING_SECONDS or
whose socket has something to read. These tests end a pooled connection on the server
(``pg_terminate_backend``, what a restart does to every connection) and expect the next
checkout to work on a new connection; an idle one to be pinged; and a live, recently used one
to be lent with no ping. (One caller at a time: the pool lends its one idle connection.)"""

from __future__ import annotations

import select
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from entitle.ledger import db


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    opened = db.open_engine(db.resolve_url(pg_url))
    yield opened
    opened.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The connections the check pinged."""
    seen: list[Any] = []
    original = engine.dialect.do_ping

    def counted(connection: Any) -> bool:
        seen.append(connection)
        return original(connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_the_server_ended_is_replaced(
    engine: Engine, pings: list[Any], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 1e9)  # only the readable socket can tell
    with engine.connect() as conn:
        first = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        socket = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    # Wait for the server's farewell on the pooled connection's socket (a bound, not a pause:
    # it arrives at once on a quiet machine, later on a loaded one).
    readable, _, _ = select.select([socket], [], [], 120)
    assert readable, "the server did not end the connection within 120 s"
    assert _backend(engine) != first  # no OperationalError: a new connection was lent
    assert len(pings) == 1


def test_an_idle_connection_is_pinged_and_kept(
    engine: Engine, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every return counts as idle
    first = _backend(engine)  # a new connection: not pinged
    assert _backend(engine) == first
    assert len(pings) == 1


def test_a_live_connection_in_use_is_lent_without_a_ping(
    engine: Engine, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 1e9)
    first = _backend(engine)
    assert [_backend(engine) for _ in range(3)] == [first] * 3
    assert pings == []  # pool_pre_ping would have pinged three times


def test_a_socket_that_cannot_be_watched_counts_as_readable() -> None:
    """psycopg's ``fileno()`` raises its OperationalError (not an OSError) once libpq has lost
    or closed the socket: the check then pings instead of failing the checkout."""

    class Lost:
        def fileno(self) -> int:
            raise psycopg.OperationalError("the connection is lost")

    assert db._readable(Lost()) is True
