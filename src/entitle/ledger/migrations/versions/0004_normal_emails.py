"""E-mail addresses stored as they are compared: NFKC, trimmed, case-folded

Sign-in now compares addresses after Unicode NFKC and case folding (issue #14: a full-width
``ａlice@a.test`` signed up as a second alice). Addresses stored before are rewritten the same
way, so their owners still sign in; an address whose normal form another account already has is
left as it is (that account is the one the normal form signs in to) and reported in the
migration's log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 18:35:00
"""

from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def normal(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()


def upgrade() -> None:
    bind = op.get_bind()
    users = sa.table("web_users", sa.column("id", sa.Integer), sa.column("email", sa.String))
    rows = bind.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        wanted = normal(email)
        if wanted == email:
            continue
        if wanted in taken:
            log.warning("user %s keeps an address whose normal form another account has", user_id)
            continue
        bind.execute(sa.update(users).where(users.c.id == user_id).values(email=wanted))
        taken.discard(email)
        taken.add(wanted)


def downgrade() -> None:
    pass  # the old addresses are not kept; the normal ones still sign in with the old code
