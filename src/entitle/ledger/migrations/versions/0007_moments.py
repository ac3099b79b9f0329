"""Moments are ``DateTime(timezone=True)`` columns, not ISO-8601 text

Every moment the database keeps (an audit event's ``at``; when an organisation, user, token,
estate, job, invitation or password reset was made, expires or was used) was text in one of two
forms (``…T18:00:00Z`` from the web, ``…T18:00:00.123456Z`` from the audit chain). They become
``DateTime(timezone=True)``: PostgreSQL's ``timestamptz`` and SQLite's ``DATETIME`` (kept in
UTC), compared as moments, not as text (issue 13, item 3).

Each column is converted in Python on both engines, the same way: every value is read as text
and parsed (a value without a timezone, or that does not parse, stops the migration, which then
changes nothing); a new column is filled with the moments; the old one is dropped and the new
one takes its name. Nothing is lost: the text held seconds or microseconds and an offset, which a
moment holds. The audit chain's hashes cover ``at`` as text: the text of every event is checked
to be exactly what ``entitle.ledger.clock.iso`` gives back for its moment, which is the text the
hash is computed from from now on, so every old event still verifies.

``downgrade`` writes the moments back as text (the audit chain's form for events, the web's
form — seconds, with microseconds only when there are any — for the rest).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

HASHED = "%Y-%m-%dT%H:%M:%S.%fZ"  # the audit chain's text of a moment (entitle.ledger.clock)
NEW = "_moment"  # suffix of the column being filled while the old one still exists

# table: (its key, whether SQLite gives its ids AUTOINCREMENT, ((column, nullable), ...))
MOMENTS: dict[str, tuple[str, bool, tuple[tuple[str, bool], ...]]] = {
    "audit_events": ("seq", False, (("at", False),)),
    "web_orgs": ("id", True, (("created_at", False),)),
    "web_users": ("id", True, (("created_at", False),)),
    "web_tokens": ("id", True, (("created_at", False),)),
    "web_estates": ("id", True, (("uploaded_at", False),)),
    "web_jobs": ("id", True, (("created_at", False),)),
    "web_invitations": (
        "id",
        True,
        (("created_at", False), ("expires_at", False), ("accepted_at", True)),
    ),
    "web_password_resets": (
        "id",
        True,
        (("created_at", False), ("expires_at", False), ("used_at", True)),
    ),
}

TEXT = sa.String(length=32)
MOMENT = sa.DateTime(timezone=True)


def _moment(table: str, column: str, key: Any, value: str | None) -> datetime | None:
    if value is None:
        return None
    where = f"{table} {key}: {column} {value!r}"
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RuntimeError(
            f"{where} is not an ISO-8601 moment; correct it and migrate again"
        ) from None
    if moment.tzinfo is None:
        raise RuntimeError(f"{where} has no timezone; add Z if it is UTC, and migrate again")
    moment = moment.astimezone(UTC)
    if table == "audit_events" and moment.strftime(HASHED) != value:
        raise RuntimeError(
            f"{where} is not in the form the audit hash is checked against "
            f"({moment.strftime(HASHED)!r}); the event would no longer verify"
        )
    return moment


def _text(table: str, column: str, key: Any, value: datetime | None) -> str | None:
    if value is None:
        return None
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if table == "audit_events":
        return moment.strftime(HASHED)
    return moment.isoformat().replace("+00:00", "Z")


def _convert(
    old_type: sa.types.TypeEngine[Any],
    new_type: sa.types.TypeEngine[Any],
    convert: Callable[[str, str, Any, Any], Any],
) -> None:
    bind = op.get_bind()
    for table, (key, autoincrement, columns) in MOMENTS.items():
        names = [name for name, _ in columns]
        old = sa.table(table, sa.column(key), *[sa.column(n, old_type) for n in names])
        rows = bind.execute(sa.select(old.c[key], *[old.c[n] for n in names])).all()
        values = [
            {
                "k": row[0],
                **{f"v{i}": convert(table, n, row[0], row[i + 1]) for i, n in enumerate(names)},
            }
            for row in rows
        ]
        for name in names:
            op.add_column(table, sa.Column(name + NEW, new_type, nullable=True))
        new = sa.table(table, sa.column(key), *[sa.column(n + NEW, new_type) for n in names])
        if values:
            bind.execute(
                sa.update(new)
                .where(new.c[key] == sa.bindparam("k"))
                .values({n + NEW: sa.bindparam(f"v{i}") for i, n in enumerate(names)}),
                values,
            )
        kwargs = {"sqlite_autoincrement": True} if autoincrement else {}
        with op.batch_alter_table(table, table_kwargs=kwargs) as batch:
            for name, nullable in columns:
                batch.drop_column(name)
                batch.alter_column(
                    name + NEW, new_column_name=name, nullable=nullable, existing_type=new_type
                )


def upgrade() -> None:
    _convert(TEXT, MOMENT, _moment)


def downgrade() -> None:
    _convert(MOMENT, TEXT, _text)
