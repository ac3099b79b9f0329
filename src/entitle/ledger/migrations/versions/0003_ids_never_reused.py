"""Ids are never reused: SQLite tables get AUTOINCREMENT

Without AUTOINCREMENT SQLite gives a new row the largest id + 1, so deleting the newest estate
and uploading another hands the new one the deleted one's id, and a background job still
working on the deleted estate would write into the new one (issue #14). With AUTOINCREMENT an
id is never given twice. PostgreSQL's sequences never give an id twice already: nothing to do.

SQLite cannot add AUTOINCREMENT to a table: each table is copied into a new one (Alembic's batch
mode). ``entitle.ledger.db.upgrade`` runs migrations with SQLite's foreign keys off (the old
table is dropped while others refer to it) and checks every reference before the commit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# parents before the tables that refer to them
TABLES = (
    "agreements",
    "entitlements",
    "retirements",
    "assignments",
    "web_orgs",
    "web_users",
    "web_memberships",
    "web_tokens",
    "web_estates",
    "web_jobs",
)


def _recreate(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for name in TABLES:
        with op.batch_alter_table(
            name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
