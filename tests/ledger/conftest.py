"""Fixtures for the ledger tests: a fresh ledger on SQLite, and on PostgreSQL when
ENTITLE_TEST_POSTGRES names a server (each test gets its own database, dropped afterwards)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from entitle.ledger import db, service
from tiers import SLOW

from .kit import ACTOR

ADMIN = os.environ.get("ENTITLE_TEST_POSTGRES")


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not ADMIN:
        pytest.skip(
            "PostgreSQL ledger tests need ENTITLE_TEST_POSTGRES, e.g. "
            "postgresql://postgres@127.0.0.1:5432/test (.ci/run sets it)"
        )
    name = "entitle_test_" + secrets.token_hex(6)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with no ledger yet, on each engine."""
    if request.param == "sqlite":
        return db.resolve_url(str(tmp_path / "entitle.db"))
    return db.resolve_url(request.getfixturevalue("pg_url"))


@pytest.fixture
def env() -> dict[str, str]:
    return {"ENTITLE_KEY": Fernet.generate_key().decode()}


@pytest.fixture
def ledger(url: str, env: dict[str, str]) -> Iterator[service.Ledger]:
    """An initialised, empty ledger whose user holds the product-key cipher (an editor)."""
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
