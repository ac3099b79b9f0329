"""Reading the ledger: what was owned and held on a day, the list, the history, the export.

:func:`entitlements_on` is what ``entitle position --db`` uses: the estate's entitlement records
as they stood on a day, split by the host or OSE that held their units. Nothing here writes.
Imports the ledger's models, db, audit and crypto, and entitle.estate records.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from entitle.estate.records import EMPTY, SPEC_COLUMNS, Entitlement
from entitle.estate.spreadsheet import spreadsheet_safe
from entitle.ledger import crypto, db
from entitle.ledger.clock import iso
from entitle.ledger.models import Agreement, Assignment, EntitlementRow, Event, Retirement
from entitle.source import Source

SERVER_HOLDERS = ("host", "ose")
EXPORT_COLUMNS = SPEC_COLUMNS["entitlements"]


@dataclass(frozen=True, slots=True)
class Standing:
    """One entitlement on a day: units owned, retired, and who held which."""

    row: EntitlementRow
    agreement: str | None
    owned: int
    retired: int
    held: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def free(self) -> int:
        return self.owned - sum(self.held.values())


def standings(session: Session, day: date) -> list[Standing]:
    """Every entitlement bought by ``day`` (or of unknown purchase date), as it stood then:
    retirements count from the day after ``retired_on``, assignments from ``start`` to the day
    before ``end``."""
    agreements = {a.id: a.number for a in session.execute(select(Agreement)).scalars()}
    retired: dict[int, int] = defaultdict(int)
    for r in session.execute(select(Retirement).where(Retirement.retired_on < day)).scalars():
        retired[r.entitlement_id] += r.quantity
    held: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    active = select(Assignment).where(
        Assignment.start <= day, or_(Assignment.end.is_(None), Assignment.end > day)
    )
    for a in session.execute(active).scalars():
        held[a.entitlement_id][(a.holder_kind, a.holder)] += a.quantity
    query = (
        select(EntitlementRow)
        .where(or_(EntitlementRow.purchased.is_(None), EntitlementRow.purchased <= day))
        .order_by(EntitlementRow.ref)
    )
    return [
        Standing(
            row,
            agreements.get(row.agreement_id) if row.agreement_id else None,
            row.quantity - retired[row.id],
            retired[row.id],
            dict(held[row.id]),
        )
        for row in session.execute(query).scalars()
    ]


def as_records(standing: Standing) -> list[Entitlement]:
    """Estate records for one standing: one per host/OSE holding units, one for the rest."""
    row = standing.row
    extra = MappingProxyType(json.loads(row.extra)) if row.extra else EMPTY
    base = Entitlement(
        product=row.product,
        license=row.license,
        quantity=0,
        id=row.ref,
        edition=row.edition,
        version=row.version,
        sa_until=row.sa_end,
        agreement=standing.agreement,
        purchased=row.purchased,
        unit_price=Decimal(row.unit_price) if row.unit_price is not None else None,
        source=Source(f"ledger:{row.ref}"),
        extra=extra,
    )
    records = []
    rest = standing.owned
    for (kind, name), units in sorted(standing.held.items()):
        if kind in SERVER_HOLDERS and units > 0:
            records.append(_replace(base, units, name))
            rest -= units
    if rest > 0:
        records.append(_replace(base, rest, None))
    return records


def _replace(base: Entitlement, quantity: int, assigned_to: str | None) -> Entitlement:
    from dataclasses import replace

    return replace(base, quantity=quantity, assigned_to=assigned_to)


def read_entitlements(engine: Engine, day: date) -> tuple[Entitlement, ...]:
    with Session(engine) as session:
        return tuple(r for s in standings(session, day) for r in as_records(s))


def entitlements_on(db_url: str, day: date) -> tuple[Entitlement, ...]:
    """What the ledger at ``db_url`` (a URL or an SQLite file path) says was owned on ``day``,
    as estate :class:`Entitlement` records with ``assigned_to`` from the assignments active
    that day. Raises :class:`entitle.ledger.service.NotReady` when there is no ledger there."""
    from entitle.ledger.service import NotReady

    url = db.resolve_url(db_url)
    path = db.sqlite_path(url)
    if path is not None and not path.exists():
        raise NotReady(f"{path}: no ledger there; run `entitle ledger init` first")
    engine = db.open_engine(url)
    try:
        if db.current_revision(engine) != db.head_revision():
            raise NotReady(
                f"{db_url} holds no ledger at the newest schema; run entitle ledger init"
            )
        return read_entitlements(engine, day)
    finally:
        engine.dispose()


def listing(engine: Engine, day: date, fernet: Fernet | None = None) -> list[dict[str, Any]]:
    """One dict per entitlement for ``entitle ledger list``; the product key only when a cipher
    (an editor's key) is given."""
    with Session(engine) as session:
        out = []
        for s in standings(session, day):
            row = s.row
            item: dict[str, Any] = {
                "id": row.ref,
                "product": row.product,
                "license": row.license,
                "edition": row.edition,
                "version": row.version,
                "quantity": row.quantity,
                "retired": s.retired,
                "owned": s.owned,
                "free": s.free,
                "held": [
                    {"holder": f"{k}:{n}", "units": u} for (k, n), u in sorted(s.held.items())
                ],
                "agreement": s.agreement,
                "purchased": row.purchased,
                "sa_start": row.sa_start,
                "sa_end": row.sa_end,
                "unit_price": Decimal(row.unit_price) if row.unit_price is not None else None,
                "key_kind": row.key_kind,
                "has_key": row.product_key is not None,
            }
            if fernet is not None:
                item["product_key"] = (
                    crypto.decrypt(fernet, row.product_key) if row.product_key else None
                )
            out.append(item)
        return out


def history(engine: Engine, ref: str | None = None) -> list[dict[str, Any]] | None:
    """The audit events, oldest first; of one entitlement (its rows, assignments and
    retirements) when ``ref`` is given. ``None`` when ``ref`` is unknown."""
    with Session(engine) as session:
        query = select(Event).order_by(Event.seq)
        if ref is not None:
            row = session.execute(
                select(EntitlementRow).where(EntitlementRow.ref == ref)
            ).scalar_one_or_none()
            if row is None:
                return None
            ids = [
                a.id
                for a in session.execute(
                    select(Assignment).where(Assignment.entitlement_id == row.id)
                ).scalars()
            ]
            rids = [
                r.id
                for r in session.execute(
                    select(Retirement).where(Retirement.entitlement_id == row.id)
                ).scalars()
            ]
            entities = (
                [f"entitlement:{row.id}"]
                + [f"assignment:{i}" for i in ids]
                + [f"retirement:{i}" for i in rids]
            )
            query = query.where(Event.entity.in_(entities))
        return [
            {
                "seq": e.seq,
                "at": iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "before": json.loads(e.before) if e.before else None,
                "after": json.loads(e.after) if e.after else None,
                "hash": e.hash,
            }
            for e in session.execute(query).scalars()
        ]


def export_csv(engine: Engine, day: date) -> str:
    """The spec's ``entitlements.csv`` as the ledger stood on ``day``. A formula-looking cell
    (an id such as ``=HYPERLINK(...)``) is written with a ``'`` before it, so a spreadsheet shows
    it as text instead of running it; the estate reader takes the ``'`` off again."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in read_entitlements(engine, day):
        writer.writerow(
            [
                "" if v is None else spreadsheet_safe(str(v))
                for v in (
                    r.id,
                    r.product,
                    r.license,
                    r.edition,
                    r.version,
                    r.quantity,
                    r.sa_until,
                    r.assigned_to,
                    r.agreement,
                    r.purchased,
                    r.unit_price,
                )
            ]
        )
    return out.getvalue()
