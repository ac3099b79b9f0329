"""The ledger's tables, as SQLAlchemy 2 declarative models.

One model serves SQLite and PostgreSQL. Money is kept as exact decimal text (SQLite has no
decimal type), moments as ``DateTime(timezone=True)`` read back in UTC (:class:`UtcDateTime`;
the audit hash sees them as :func:`entitle.ledger.clock.iso` text, the same on both engines),
days as ``Date``. Every schema change here needs an Alembic revision in
``migrations/versions`` (``tests/ledger/test_migrations.py`` fails otherwise).
Every table with an integer id gives ids that are never reused (``AUTOINCREMENT`` on SQLite,
a sequence on PostgreSQL): a deleted row's id never names another row (migration 0003).
Tenancy: every entitlement belongs to one organisation (``org_id``; ``0``, :data:`COMMAND_LINE`,
for the ledger of ``entitle ledger``, outside every organisation of the web). The session adds
the organisation to every ORM query of entitlements, assignments and retirements (a
``do_orm_execute`` hook with ``with_loader_criteria``) and gives new entitlements its key (a
``before_flush`` hook): a query written with no organisation in it still sees one
organisation's rows. Which one is an execution option of the engine the session is bound to,
set by :func:`for_org`; an engine without one is the command line's. Only a statement that asks
for :data:`ALL_ORGS` (the audit chain's verification) sees every organisation.
Imports only SQLAlchemy.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    with_loader_criteria,
)
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
    __table_args__ = (UniqueConstraint("org_id", "ref"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True, server_default="0")
    ref: Mapped[str] = mapped_column(String(100), nullable=False)
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


COMMAND_LINE = 0
"""The organisation key of the ledger ``entitle ledger`` keeps (no organisation of the web)."""
ORG_OPTION = "entitle_org"
ALL_ORGS = "entitle_all_orgs"
"""A statement's execution option: this query sees every organisation's rows (verification)."""


def for_org(engine: Engine, org_id: int) -> Engine:
    """The same engine (and pool), for sessions that see only organisation ``org_id``."""
    return engine.execution_options(**{ORG_OPTION: org_id})


def org_of(session: Session) -> int:
    """The organisation a session sees: its engine's, else the command line's."""
    return int(session.get_bind().get_execution_options().get(ORG_OPTION, COMMAND_LINE))


@functools.lru_cache(maxsize=4096)
def _criteria(org: int) -> tuple[Any, ...]:
    """The options that keep a statement to organisation ``org``, built once per organisation
    (building them took as long as running a small query)."""
    return (
        with_loader_criteria(EntitlementRow, EntitlementRow.org_id == org, include_aliases=True),
        with_loader_criteria(
            Assignment,
            Assignment.entitlement_id.in_(
                select(EntitlementRow.id).where(EntitlementRow.org_id == org)
            ),
            include_aliases=True,
        ),
        with_loader_criteria(
            Retirement,
            Retirement.entitlement_id.in_(
                select(EntitlementRow.id).where(EntitlementRow.org_id == org)
            ),
            include_aliases=True,
        ),
    )


@event.listens_for(Session, "do_orm_execute")
def _one_org(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(ALL_ORGS):
        return
    state.statement = state.statement.options(*_criteria(org_of(state.session)))


@event.listens_for(Session, "before_flush")
def _new_rows_are_the_sessions(session: Session, _context: object, _instances: object) -> None:
    org = org_of(session)
    for row in session.new:
        if isinstance(row, EntitlementRow):
            if row.org_id is None:
                row.org_id = org
            elif row.org_id != org:
                raise ValueError(
                    f"entitlement {row.ref} belongs to organisation {row.org_id}; this session "
                    f"writes for organisation {org}"
                )
