"""Assign, reassign and retire license units: the ledger's write commands after import.

Each checks under the chain's lock (so two writers cannot both take the same free units), asks
:mod:`entitle.ledger.rules` whether a move is allowed, and writes the changed rows with one
audit event each in the same transaction. History is never overwritten: a move closes the old
assignment (its ``end``) and opens new ones; changes to one entitlement are recorded in date
order. Imports the ledger's service, rules, audit and models.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from entitle.catalog import Catalog, default_catalog
from entitle.ledger import audit, rules
from entitle.ledger.models import Assignment, EntitlementRow, Retirement
from entitle.ledger.service import Ledger, Outcome, write

Holder = tuple[str, str]


def _entitlement(session: Session, ref: str) -> EntitlementRow | None:
    return session.execute(
        select(EntitlementRow).where(EntitlementRow.ref == ref)
    ).scalar_one_or_none()


def _active(session: Session, entitlement: EntitlementRow) -> list[Assignment]:
    query = (
        select(Assignment)
        .where(Assignment.entitlement_id == entitlement.id, Assignment.end.is_(None))
        .order_by(Assignment.id)
    )
    return list(session.execute(query).scalars())


def _retired(session: Session, entitlement: EntitlementRow) -> list[Retirement]:
    query = select(Retirement).where(Retirement.entitlement_id == entitlement.id)
    return list(session.execute(query).scalars())


def _out_of_order(session: Session, entitlement: EntitlementRow, day: date) -> str | None:
    """Changes to one entitlement are recorded in date order: none may predate the last."""
    days: list[date] = []
    for a in session.execute(
        select(Assignment).where(Assignment.entitlement_id == entitlement.id)
    ).scalars():
        days.append(a.start)
        if a.end is not None:
            days.append(a.end - timedelta(days=1))
    days += [r.retired_on for r in _retired(session, entitlement)]
    last = max(days, default=None)
    if last is not None and day < last:
        return (
            f"{entitlement.ref} has a change dated {last}; the ledger records changes in "
            f"date order, so {day} comes too late to record"
        )
    if entitlement.purchased is not None and day < entitlement.purchased:
        return f"{entitlement.ref} was purchased on {entitlement.purchased}, after {day}"
    return None


def _free(session: Session, entitlement: EntitlementRow) -> int:
    retired = sum(r.quantity for r in _retired(session, entitlement))
    held = sum(a.quantity for a in _active(session, entitlement))
    return entitlement.quantity - retired - held


def _units(count: int, license: str) -> str:
    return f"{count} {license} unit{'' if count == 1 else 's'}"


def _name(holder: Holder) -> str:
    return f"{holder[0]} {holder[1]}"


def assign(ledger: Ledger, ref: str, to: Holder, quantity: int, day: date) -> Outcome:
    """Give ``quantity`` free units of entitlement ``ref`` to a holder from ``day`` on."""
    with write(ledger) as chain:
        session = chain.session
        e = _entitlement(session, ref)
        if e is None:
            return Outcome(False, f"no entitlement {ref} in the ledger (see entitle ledger list)")
        why = rules.holder_problem(e.license, to[0]) or _out_of_order(session, e, day)
        if why:
            return Outcome(False, why)
        if quantity < 1:
            return Outcome(False, "assign at least 1 unit")
        free = _free(session, e)
        if quantity > free:
            return Outcome(
                False,
                f"{ref} has {free} free units, {quantity} asked; move units "
                "that are held with entitle ledger reassign",
            )
        row = Assignment(
            entitlement_id=e.id,
            quantity=quantity,
            holder_kind=to[0],
            holder=to[1],
            start=day,
            clock=day,  # the 90-day rule counts from the first assignment too (§1.7, §7.1)
            temporary=False,
        )
        session.add(row)
        chain.record("assignment.create", row)
        return Outcome(
            True, f"assigned {_units(quantity, e.license)} of {ref} to {_name(to)} from {day}"
        )


def reassign(
    ledger: Ledger,
    ref: str,
    source: Holder,
    to: Holder | None,
    quantity: int | None,
    day: date,
    reason: str | None,
    catalog: Catalog | None = None,
) -> Outcome:
    """Move units of ``ref`` from one holder to another on ``day``, if the 90-day rule or one of
    its exceptions (``reason``) allows it; a refusal says why and from when it is allowed.
    ``catalog`` (default: the bundled one) says which product is the server OS."""
    with write(ledger) as chain:
        session = chain.session
        e = _entitlement(session, ref)
        if e is None:
            return Outcome(False, f"no entitlement {ref} in the ledger (see entitle ledger list)")
        rows = [a for a in _active(session, e) if (a.holder_kind, a.holder) == source]
        if not rows:
            return Outcome(False, f"{_name(source)} holds no units of {ref}")
        holdings = [_holding(session, a) for a in rows]
        if to is None:
            lender = next((h.lent_by for h in holdings if h.lent_by is not None), None)
            if reason != rules.RETURN or lender is None:
                return Outcome(False, "say where the units go with --to KIND:NAME")
            to = lender
        why = rules.holder_problem(e.license, to[0]) or _out_of_order(session, e, day)
        if why:
            return Outcome(False, why)
        if quantity is None:  # all the units that this kind of move can take
            fits = [h for h in holdings if (h.lent_by is not None) == (reason == rules.RETURN)]
            wanted = sum(h.quantity for h in fits) or sum(h.quantity for h in holdings)
        else:
            wanted = quantity
        if wanted < 1:
            return Outcome(False, "move at least 1 unit")
        chosen = rules.pick(
            e.license,
            holdings,
            wanted,
            to,
            day,
            reason,
            product=e.product,
            sa_until=e.sa_end,
            server_os=(catalog or default_catalog()).roles.server_os,
        )
        if not chosen.verdict.allowed:
            return Outcome(False, f"refused: {chosen.verdict.message}", chosen.verdict.allowed_from)
        for index, units in chosen.taken:
            _move(chain, rows[index], holdings[index], units, to, day, reason, chosen.verdict)
        note = f" ({chosen.verdict.message})" if chosen.verdict.message else ""
        return Outcome(
            True,
            f"moved {_units(wanted, e.license)} of {ref} from {_name(source)} "
            f"to {_name(to)} on {day}{note}",
        )


def _holding(session: Session, a: Assignment) -> rules.Holding:
    lent = (a.lent_by_kind, a.lent_by) if a.lent_by_kind and a.lent_by else None
    return rules.Holding(a.quantity, (a.holder_kind, a.holder), a.start, _clock(session, a), lent)


def _clock(session: Session, a: Assignment) -> date:
    """The day the 90-day rule counts from. Rows written before the first assignment started
    the clock have none: then no permanent move happened since their chain began, and the
    clock is the start of the chain's first row (the first assignment)."""
    row: Assignment | None = a
    first = a
    while row is not None and row.clock is None:
        first = row
        row = session.get(Assignment, row.previous_id) if row.previous_id else None
    return row.clock if row is not None and row.clock is not None else first.start


def _close(chain: audit.Chain, row: Assignment, units: int, end: date) -> None:
    """End ``row`` on ``end``; the units not taken stay with the same holder in a new row."""
    before = audit.row_state(row)
    row.end = end
    chain.record("assignment.end", row, before)
    if units < row.quantity:
        rest = Assignment(
            entitlement_id=row.entitlement_id,
            quantity=row.quantity - units,
            holder_kind=row.holder_kind,
            holder=row.holder,
            start=end,
            clock=row.clock,
            reason=row.reason,
            temporary=row.temporary,
            lent_by_kind=row.lent_by_kind,
            lent_by=row.lent_by,
            previous_id=row.id,
        )
        chain.session.add(rest)
        chain.record("assignment.split", rest)


def _move(
    chain: audit.Chain,
    row: Assignment,
    held: rules.Holding,
    units: int,
    to: Holder,
    day: date,
    reason: str | None,
    verdict: rules.Verdict,
) -> None:
    _close(chain, row, units, day)
    lent = held.holder if verdict.temporary else None
    new = Assignment(
        entitlement_id=row.entitlement_id,
        quantity=units,
        holder_kind=to[0],
        holder=to[1],
        start=day,
        clock=day if verdict.permanent else held.clock,
        reason=reason,
        temporary=verdict.temporary,
        lent_by_kind=lent[0] if lent else None,
        lent_by=lent[1] if lent else None,
        previous_id=row.id,
    )
    chain.session.add(new)
    chain.record("assignment.move", new)


def retire(
    ledger: Ledger,
    ref: str,
    quantity: int | None,
    day: date,
    reason: str,
    source: Holder | None = None,
) -> Outcome:
    """Units leave the estate: owned through ``day``, not after. Free units go first; held units
    only from the holder named in ``source`` (their assignment ends with the retirement)."""
    with write(ledger) as chain:
        session = chain.session
        e = _entitlement(session, ref)
        if e is None:
            return Outcome(False, f"no entitlement {ref} in the ledger (see entitle ledger list)")
        why = _out_of_order(session, e, day)
        if why:
            return Outcome(False, why)
        remaining = e.quantity - sum(r.quantity for r in _retired(session, e))
        wanted = remaining if quantity is None else quantity
        if wanted < 1 or wanted > remaining:
            return Outcome(False, f"{ref} has {remaining} units not yet retired; {wanted} asked")
        active = _active(session, e)
        free = _free(session, e)
        from_held = max(0, wanted - free)
        if from_held:
            rows = [a for a in active if (a.holder_kind, a.holder) == source] if source else []
            held = sum(a.quantity for a in rows)
            if held < from_held:
                holders = ", ".join(
                    sorted({f"{a.holder_kind}:{a.holder} ({a.quantity})" for a in active})
                )
                return Outcome(
                    False,
                    f"{ref} has {free} free units and {wanted} are to be "
                    f"retired; name the holder of the other {from_held} with --from "
                    f"(holders: {holders})",
                )
            left = from_held
            for row in rows:
                units = min(left, row.quantity)
                if units:
                    _close(chain, row, units, day + timedelta(days=1))
                left -= units
        retirement = Retirement(entitlement_id=e.id, quantity=wanted, retired_on=day, reason=reason)
        session.add(retirement)
        chain.record("retirement.create", retirement)
        return Outcome(True, f"retired {_units(wanted, e.license)} of {ref} on {day}: {reason}")
