"""Fixtures for the ledger tests: a fresh ledger on SQLite, and on PostgreSQL when
ENTITLE_TEST_POSTGRES names a server (a test that uses ``ledger`` gets the worker's reused
database put back into the initialised ledger's state, tests/pgreuse.py; any other its own
database, dropped when the worker's run ends)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from entitle.ledger import db, service
from pgreuse import LATER, Reused, end_sessions
from tiers import SLOW

from .kit import ACTOR

ADMIN = os.environ.get("ENTITLE_TEST_POSTGRES")


def _need_postgresql() -> None:
    if not ADMIN:
        pytest.skip(
            "PostgreSQL ledger tests need ENTITLE_TEST_POSTGRES, e.g. "
            "postgresql://postgres@127.0.0.1:5432/test (.ci/run sets it)"
        )


# Databases done with go to ``LATER``, dropped at once when this worker's run ends
# (tests/conftest.py; ``pgreuse.drop`` says why). A test's database is its own all the same (a
# new name each time), and none is left behind.


@contextmanager
def _database() -> Iterator[str]:
    """A new PostgreSQL database, its sessions ended afterwards and the database dropped when the
    worker's run ends (``LATER``): its URL."""
    assert ADMIN
    name = "entitle_test_" + secrets.token_hex(6)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    LATER.append(name)
    try:
        yield make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        end_sessions(ADMIN, name)


@pytest.fixture
def pg_url() -> Iterator[str]:
    _need_postgresql()
    with _database() as url:
        yield url


# The ledgers the PostgreSQL runs of the tests that use ``ledger`` start from: one database a
# worker process, initialised by ``service.init`` as the fixture does (on PostgreSQL it does not
# read the environment: the key file is SQLite's), which ``pg_reused`` copies once (CREATE
# DATABASE ... TEMPLATE) instead of each test migrating its own, 0.5 s of a core each. The copy
# holds what initialising it would have, but for the moment of its ledger.init event.
@pytest.fixture(scope="session")
def pg_ledger() -> Iterator[Callable[[], str]]:
    made: list[str] = []
    stack = ExitStack()

    def template() -> str:
        if not made:
            url = stack.enter_context(_database())
            assert service.init(db.resolve_url(url), ACTOR, {}).ok  # disposes its engine
            made.append(make_url(url).database or "")
        return made[0]

    with stack:
        yield template


# The database those tests use: one a worker, copied once from ``pg_ledger``'s and put back into
# that state before each test (tests/pgreuse.py: about 0.03 s of the server's CPU instead of the
# copy's 0.34 s; a test that changed its schema gets a new copy).
@pytest.fixture(scope="session")
def pg_reused(pg_ledger: Callable[[], str]) -> Iterator[Reused]:
    assert ADMIN
    reused = Reused(ADMIN, pg_ledger())
    yield reused
    LATER.extend(reused.names)  # dropped with the others, at once


INITIALISED: set[str] = set()  # URLs of databases copied from an initialised ledger


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with no ledger yet, on each engine (on PostgreSQL, for a test that uses
    ``ledger``, ``pg_reused``'s: what a copy of ``pg_ledger``'s holds, which ``ledger`` then
    does not initialise again)."""
    if request.param == "sqlite":
        yield db.resolve_url(str(tmp_path / "entitle.db"))
    elif "ledger" in request.fixturenames:
        _need_postgresql()
        resolved = db.resolve_url(request.getfixturevalue("pg_reused").fresh())
        INITIALISED.add(resolved)
        yield resolved
        INITIALISED.discard(resolved)
    else:
        yield db.resolve_url(request.getfixturevalue("pg_url"))


@pytest.fixture
def env() -> dict[str, str]:
    return {"ENTITLE_KEY": Fernet.generate_key().decode()}


@pytest.fixture
def ledger(url: str, env: dict[str, str]) -> Iterator[service.Ledger]:
    """An initialised, empty ledger whose user holds the product-key cipher (an editor)."""
    if url not in INITIALISED:
        service.init(url, ACTOR, env)
    opened = service.connect(url, ACTOR, env)
    yield opened
    opened.engine.dispose()


# Cases whose PostgreSQL run is in the long tier only (make test-long, which CI runs): a key under
# each spelling of its header is stored encrypted. Which headers name a key is decided in Python
# before anything reaches the database (test_headers_that_name_a_key); the fast tier keeps every
# spelling on SQLite and one on PostgreSQL, which shows the engine stores the key encrypted only.
LONG_ON_POSTGRESQL = tuple(
    f"test_keys.py::test_a_key_under_any_header_is_stored_only_encrypted[postgresql-{header}]"
    for header in ("product key", "ProductKey", "key", "MAK Key")
)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.endswith(LONG_ON_POSTGRESQL):
            item.add_marker(SLOW)
