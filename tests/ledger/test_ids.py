"""Ids are never reused (issue #14): a deleted row's id never names a new row, on SQLite (where
migration 0003 adds AUTOINCREMENT; without it SQLite gives the largest id + 1, the deleted one's)
and on PostgreSQL (sequences). A ledger with rows in every table keeps them, and its references,
through the migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from entitle.ledger import db

NOW = "2026-12-06T18:00:00Z"


def fill(engine: Engine) -> None:
    """One row in each table that has an id, with every kind of reference between them."""
    statements = [
        "INSERT INTO agreements (number, program) VALUES ('EA-1', 'ea')",
        "INSERT INTO entitlements (ref, product, license, quantity, content_hash, source, "
        "agreement_id) VALUES ('E-1', 'windows-server', 'user-cal', 5, 'h1', 'f.csv', 1)",
        "INSERT INTO retirements (entitlement_id, quantity, retired_on, reason) "
        "VALUES (1, 1, '2025-01-01', 'sold')",
        "INSERT INTO assignments (entitlement_id, quantity, holder_kind, holder, start, "
        "temporary) VALUES (1, 1, 'user', 'ann', '2025-01-01', false)",
        "INSERT INTO assignments (entitlement_id, quantity, holder_kind, holder, start, "
        "temporary, previous_id) VALUES (1, 1, 'user', 'bob', '2025-05-01', false, 1)",
        f"INSERT INTO web_orgs (slug, name, created_at) VALUES ('a', 'A', '{NOW}')",
        f"INSERT INTO web_users (email, name, password_hash, created_at) "
        f"VALUES ('a@a.test', 'a', 'x', '{NOW}')",
        "INSERT INTO web_memberships (org_id, user_id, role) VALUES (1, 1, 'admin')",
        f"INSERT INTO web_tokens (user_id, name, token_hash, created_at) "
        f"VALUES (1, 't', 'th', '{NOW}')",
        f"INSERT INTO web_estates (org_id, name, folder, files, uploaded_by, uploaded_at, "
        f"status) VALUES (1, 'e', 'org-1/estate-1', '[]', 'a@a.test', '{NOW}', 'ready')",
        f"INSERT INTO web_estates (org_id, name, folder, files, uploaded_by, uploaded_at, "
        f"status) VALUES (1, 'f', 'org-1/estate-2', '[]', 'a@a.test', '{NOW}', 'ready')",
        f"INSERT INTO web_jobs (org_id, estate_id, kind, state, progress, message, created_at) "
        f"VALUES (1, 1, 'import', 'done', 100, 'done', '{NOW}')",
    ]
    with db.writer(engine).begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def reuse(engine: Engine, table: str, columns: str, values: str) -> tuple[int, int]:
    """Delete the newest row of ``table`` and add another: (the deleted id, the new id)."""
    with db.writer(engine).begin() as conn:
        newest = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()
        conn.execute(text(f"DELETE FROM {table} WHERE id = {newest}"))
        conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"))
        return newest, conn.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()


ROWS = [
    (
        "web_estates",
        "org_id, name, folder, files, uploaded_by, uploaded_at, status",
        f"1, 'g', 'x', '[]', 'b@a.test', '{NOW}', 'pending'",
    ),
    (
        "web_jobs",
        "org_id, kind, state, progress, message, created_at",
        f"1, 'import', 'queued', 0, '', '{NOW}'",
    ),
    (
        "entitlements",
        "ref, product, license, quantity, content_hash, source",
        "'E-9', 'rds', 'user-cal', 1, 'h9', 'g.csv'",
    ),
    (
        "web_orgs",
        "slug, name, created_at",
        f"'b', 'B', '{NOW}'",
    ),
]


@pytest.mark.parametrize(("table", "columns", "values"), ROWS)
def test_a_deleted_rows_id_is_never_given_again(
    url: str, table: str, columns: str, values: str
) -> None:
    engine = db.open_engine(url)
    try:
        db.upgrade(engine)
        fill(engine)
        with db.writer(engine).begin() as conn:  # a newest row with nothing referring to it
            conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"))
        deleted, new = reuse(engine, table, columns, values)
        assert new > deleted
    finally:
        engine.dispose()


def test_an_sqlite_ledger_keeps_its_rows_and_references_through_the_migration(
    tmp_path: Path,
) -> None:
    url = db.resolve_url(str(tmp_path / "old.db"))
    engine = db.open_engine(url)
    try:
        db.upgrade(engine, "0002")
        fill(engine)
        # the old schema shows the race: the newest estate's id is given again
        assert reuse(engine, *ROWS[0]) == (2, 2)
        db.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert conn.execute(text("SELECT count(*) FROM assignments")).scalar_one() == 2
            assert (
                conn.execute(
                    text("SELECT previous_id FROM assignments WHERE holder = 'bob'")
                ).scalar_one()
                == 1
            )
            assert conn.execute(text("SELECT estate_id FROM web_jobs")).scalar_one() == 1
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'web_estates'")
            ).scalar_one()
            assert "AUTOINCREMENT" in sql
        # after it, never: the deleted 2 is not given again (sqlite_sequence remembers 2)
        assert reuse(engine, *ROWS[0]) == (2, 3)
        unique = "INSERT INTO web_memberships (org_id, user_id, role) VALUES (1, 1, 'viewer')"
        with pytest.raises(Exception, match="UNIQUE"), db.writer(engine).begin() as conn:
            conn.execute(text(unique))  # the unique constraints survived the copy
    finally:
        engine.dispose()


def test_stored_addresses_are_rewritten_as_sign_in_compares_them(url: str) -> None:
    """Migration 0004: NFKC and case folding (issue #14); an address whose normal form another
    account holds is left alone."""
    engine = db.open_engine(url)
    try:
        db.upgrade(engine, "0003")
        with db.writer(engine).begin() as conn:
            for email in ("\uff42ob@a.test", "alice@a.test", "\uff41lice@a.test", "Carl@A.test"):
                conn.execute(
                    text(
                        "INSERT INTO web_users (email, name, password_hash, created_at) "
                        "VALUES (:e, 'x', 'h', :t)"
                    ),
                    {"e": email, "t": NOW},
                )
        db.upgrade(engine)
        with engine.connect() as conn:
            emails = [r[0] for r in conn.execute(text("SELECT email FROM web_users ORDER BY id"))]
        # ｂob → bob; alice stays; ａlice's normal form is alice's: kept; Carl → carl
        assert emails == ["bob@a.test", "alice@a.test", "\uff41lice@a.test", "carl@a.test"]
    finally:
        engine.dispose()
