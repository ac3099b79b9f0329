"""Migrations: an empty database upgrades to head on both engines, and the models match the
migrations exactly — a model change without an Alembic revision fails here."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect

import entitle.web.models  # noqa: F401  (the web's tables join Base.metadata)
from entitle.ledger import db
from entitle.ledger import fresh as snapshot
from entitle.ledger.models import Base

TABLES = {
    "agreements",
    "entitlements",
    "retirements",
    "assignments",
    "audit_events",
    "ledger_head",
    "alembic_version",
    # the web workspace (entitle.web.models)
    "web_orgs",
    "web_users",
    "web_memberships",
    "web_tokens",
    "web_estates",
    "web_jobs",
    "web_invitations",  # 0005: invitations and password resets by e-mailed link
    "web_password_resets",
    "web_attempts",
}


def diff(url: str, metadata: MetaData) -> list:
    engine = db.open_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def test_an_empty_database_upgrades_to_head(url: str) -> None:
    engine = db.open_engine(url)
    try:
        assert db.current_revision(engine) is None
        db.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        assert set(inspect(engine).get_table_names()) == TABLES
        db.upgrade(engine)  # again: nothing to do
    finally:
        engine.dispose()


def test_the_models_have_no_change_without_a_migration(url: str) -> None:
    engine = db.open_engine(url)
    db.upgrade(engine)
    engine.dispose()
    assert diff(url, Base.metadata) == []


def test_the_check_above_catches_a_model_change(url: str) -> None:
    engine = db.open_engine(url)
    db.upgrade(engine)
    engine.dispose()
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["entitlements"].append_column(Column("seats", Integer))
    found = diff(url, changed)
    assert [(d[0], d[3].name) for d in found] == [("add_column", "seats")]


# -- a new SQLite ledger from the snapshot (entitle.ledger.fresh) --------------------------------


CONSTRAINTS = ("UNIQUE", "FOREIGN KEY", "CHECK", "CONSTRAINT", "PRIMARY KEY")


def _normal(statement: str) -> str:
    """A CREATE TABLE with its table constraints in a fixed order: Alembic's batch copies of a
    table write them in an order that varies from run to run (it keeps them in sets); the schema
    is the same."""
    head, brace, body = statement.partition(" (\n\t")
    if not statement.startswith("CREATE TABLE") or not brace:
        return statement
    items = body.removesuffix("\n);").split(", \n\t")
    columns = [i for i in items if not i.startswith(CONSTRAINTS)]
    rest = sorted(i for i in items if i.startswith(CONSTRAINTS))
    return head + brace + ", \n\t".join(columns + rest) + "\n);"


def _made(path: Path, fresh: bool, revision: str = "head") -> list[str]:
    engine = db.open_engine(db.resolve_url(str(path)))
    try:
        db.upgrade(engine, revision, fresh=fresh)
    finally:
        engine.dispose()
    # sorted: the order of the objects in the dump follows the order the copies were made in
    return sorted(_normal(s) for s in snapshot.dump(path))


def test_the_snapshot_stands_at_the_newest_revision() -> None:
    revision, _ = db.fresh_snapshot()
    assert revision == db.head_revision(), (
        "a migration was added: write the snapshot again with `python -m entitle.ledger.fresh`"
    )


def test_a_ledger_made_from_the_snapshot_is_the_one_the_migrations_make(tmp_path: Path) -> None:
    by_migrations = _made(tmp_path / "migrated.db", fresh=False)
    by_snapshot = _made(tmp_path / "snapshot.db", fresh=True)
    assert by_snapshot == by_migrations
    # the audit chain's head row and the revision are rows the migrations insert
    assert any(s.startswith('INSERT INTO "ledger_head"') for s in by_snapshot)
    assert f"INSERT INTO \"alembic_version\" VALUES('{db.head_revision()}');" in by_snapshot


def test_a_snapshot_behind_a_new_migration_is_slower_not_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot taken at an older revision (0006 here): Alembic runs the revisions after it."""
    _made(tmp_path / "old.db", fresh=False, revision="0006")
    old = tuple(snapshot.dump(tmp_path / "old.db"))
    monkeypatch.setattr(db, "fresh_snapshot", lambda: ("0006", old))
    assert _made(tmp_path / "behind.db", fresh=True) == _made(tmp_path / "new.db", fresh=False)


def test_the_snapshot_is_used_only_on_a_database_with_no_table(tmp_path: Path) -> None:
    """An SQLite file holding someone else's table is migrated by Alembic, its table kept."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('kept')")
    conn.close()
    statements = _made(path, fresh=True)
    assert "INSERT INTO \"notes\" VALUES('kept');" in statements
    assert _made(tmp_path / "plain.db", fresh=False) == [s for s in statements if "notes" not in s]
