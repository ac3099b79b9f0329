"""Migrations: an empty database upgrades to head on both engines, and the models match the
migrations exactly — a model change without an Alembic revision fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect

import entitle.web.models  # noqa: F401  (the web's tables join Base.metadata)
from entitle.ledger import db
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
