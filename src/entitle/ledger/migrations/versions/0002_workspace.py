"""The web workspace: organisations, users, memberships, API tokens, estates, jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 22:51:27.081845
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_orgs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "web_estates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("folder", sa.String(length=300), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=254), nullable=False),
        sa.Column("uploaded_at", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["web_orgs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_estates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_estates_org_id"), ["org_id"], unique=False)

    op.create_table(
        "web_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["web_orgs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["web_users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "user_id"),
    )
    with op.batch_alter_table("web_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_memberships_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "web_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["web_users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("web_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "web_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["web_estates.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["web_orgs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_jobs_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_jobs_org_id"))

    op.drop_table("web_jobs")
    with op.batch_alter_table("web_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_tokens_user_id"))

    op.drop_table("web_tokens")
    with op.batch_alter_table("web_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_web_memberships_org_id"))

    op.drop_table("web_memberships")
    with op.batch_alter_table("web_estates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_estates_org_id"))

    op.drop_table("web_estates")
    op.drop_table("web_users")
    op.drop_table("web_orgs")
