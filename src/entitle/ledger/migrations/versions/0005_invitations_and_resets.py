"""Invitations to an organisation and password resets, both by e-mailed link

Two tables of the web workspace (issue #17 item 4): an invitation (organisation, e-mail, role,
the SHA-256 of the link's secret, who invited, when it expires and when it was accepted) and a
password reset (user, the SHA-256 of the link's secret, when it expires and when it was used).
Links are single use and expire; the secrets themselves are never stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("accepted_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["web_orgs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_web_invitations_org_id", "web_invitations", ["org_id"])
    op.create_table(
        "web_password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["web_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_web_password_resets_user_id", "web_password_resets", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_web_password_resets_user_id", "web_password_resets")
    op.drop_table("web_password_resets")
    op.drop_index("ix_web_invitations_org_id", "web_invitations")
    op.drop_table("web_invitations")
