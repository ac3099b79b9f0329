"""The limits on sign-in and sign-up attempts are kept in the database

``entitle serve --workers N`` runs several server processes; each kept its own count of failed
sign-ins, so N processes allowed N times the limit (issue #17, item 9). The attempts are now
rows of ``web_attempts`` that every process counts: the key's SHA-256 and the time in
milliseconds, indexed by key and time (the count) and by time (deleting the expired rows).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06 18:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_attempts_key_at", "web_attempts", ["key_hash", "at"], unique=False)
    op.create_index("ix_web_attempts_at", "web_attempts", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_web_attempts_at", table_name="web_attempts")
    op.drop_index("ix_web_attempts_key_at", table_name="web_attempts")
    op.drop_table("web_attempts")
