"""The ledger's tables, as SQLAlchemy 2 declarative models.

One model serves SQLite and PostgreSQL. Money is kept as exact decimal text (SQLite has no
decimal type), moments as ``DateTime(timezone=True)`` read back in UTC (:class:`UtcDateTime`;
the audit hash sees them as :func:`entitle.ledger.clock.iso` text, the same on both engines),
days as ``Date``. Every schema change here needs an Alembic revision in
``migrations/versions`` (``tests/ledger/test_migrations.py`` fails otherwise).
Every table with an integer id gives ids that are never reused (``AUTOINCREMENT`` on SQLite,
a sequence on PostgreSQL): a deleted row's id never names another row (migration 0003).
Imports only SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Dialect, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    pass


class UtcDateTime(TypeDecorator[datetime]):
    """A moment: ``DateTime(timezone=True)`` (PostgreSQL's ``timestamptz``), given and read back
    as an aware ``datetime`` in UTC. SQLite keeps no offset, so the value is stored in UTC and
    read back as UTC; a moment without a timezone is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{value!r} is not a moment with a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NEVER_REUSED = {"sqlite_autoincrement": True}
"""Table arguments: SQLite gives a new row an id never given before (not the largest + 1)."""


class Head(Base):
    """One row: the tip of the audit chain. Every write locks it first, so writers take turns
    and the chain never forks."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Event(Base):
    """One audit event: who did what, when (UTC), the row before and after, chained by hash."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    entity: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Agreement(Base):
    __tablename__ = "agreements"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    program: Mapped[str | None] = mapped_column(String(40))


class EntitlementRow(Base):
    """What was bought: ``quantity`` license units of one product and kind."""

    __tablename__ = "entitlements"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    product: Mapped[str] = mapped_column(String(80), nullable=False)
    license: Mapped[str] = mapped_column(String(40), nullable=False)
    edition: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[str | None] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    purchased: Mapped[date | None] = mapped_column(Date)
    unit_price: Mapped[str | None] = mapped_column(String(40))
    sa_start: Mapped[date | None] = mapped_column(Date)
    sa_end: Mapped[date | None] = mapped_column(Date)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"))
    product_key: Mapped[str | None] = mapped_column(Text)  # a Fernet token, never plain text
    key_kind: Mapped[str | None] = mapped_column(String(10))
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    extra: Mapped[str | None] = mapped_column(Text)  # JSON of columns the format does not name


class Retirement(Base):
    """Units that left the estate; they count as owned through ``retired_on``, not after."""

    __tablename__ = "retirements"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entitlement_id: Mapped[int] = mapped_column(
        ForeignKey("entitlements.id"), nullable=False, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    retired_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)


class Assignment(Base):
    """Units of one entitlement held by one user, device, host or OSE from ``start`` until the
    day before ``end`` (``None``: still held). ``clock`` is the day of the units' last permanent
    reassignment (the 90-day rule counts from it); ``lent_by_*`` names whom units on temporary
    reallocation go back to."""

    __tablename__ = "assignments"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entitlement_id: Mapped[int] = mapped_column(
        ForeignKey("entitlements.id"), nullable=False, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    holder_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    holder: Mapped[str] = mapped_column(String(200), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date | None] = mapped_column(Date)
    clock: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(40))
    temporary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    lent_by_kind: Mapped[str | None] = mapped_column(String(10))
    lent_by: Mapped[str | None] = mapped_column(String(200))
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))


ENTITIES: dict[str, type[Base]] = {
    "agreement": Agreement,
    "entitlement": EntitlementRow,
    "retirement": Retirement,
    "assignment": Assignment,
}
"""Tables whose rows the audit chain vouches for, by the entity prefix of their events."""
