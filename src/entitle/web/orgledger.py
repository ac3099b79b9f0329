"""Each organisation's view of the one ledger.

The ledger keeps one table of entitlements, each with its organisation's key (``org_id``), and
one audit chain. Every function here works on the ledger through :func:`mine`, whose sessions
see only the organisation's rows (``entitle.ledger.models.for_org``: the session adds the
organisation to every query and to every new entitlement), so two organisations may both have
an ``E-1`` and no read here filters by organisation itself. Content hashes are salted with the
organisation, so importing the same file twice into one organisation still changes nothing
while another organisation may import it too. The audit trail shown is the events of the
organisation's own entitlements, assignments and retirements. The chain and its verification
stay global (one chain, one head).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from entitle.catalog import Catalog
from entitle.estate.records import Entitlement
from entitle.ledger import audit, moves, query, rules, service
from entitle.ledger.clock import iso
from entitle.ledger.importing import (
    Candidate,
    canonical_fields,
    check_record,
    read_file,
    unknown_row,
)
from entitle.ledger.models import Assignment, EntitlementRow, Event, Retirement, for_org
from entitle.ledger.service import Ledger, Outcome
from entitle.source import Finding, Problem, Source
from entitle.web.errors import ApiError
from entitle.web.models import Organisation


def mine(ledger: Ledger, org: Organisation) -> Ledger:
    """The ledger as organisation ``org`` sees it: every session on it sees only its rows."""
    return replace(ledger, engine=for_org(ledger.engine, org.id))


def open_ledger(url: str, engine: Engine, actor_email: str) -> Ledger:
    """The ledger on the server's own engine, acting as ``actor_email`` (no product-key
    cipher: the web neither stores nor shows product keys)."""
    return Ledger(url, engine, actor_email)


def holder(text: str, field: str) -> tuple[str, str]:
    kind, _, name = text.partition(":")
    if kind not in rules.HOLDER_KINDS or not name.strip():
        raise ApiError(
            422,
            "invalid",
            f"{text!r} is not a holder; write KIND:NAME with KIND one of "
            + ", ".join(rules.HOLDER_KINDS)
            + ", e.g. user:ann",
            field,
        )
    return kind, name.strip()


def outcome(result: Outcome) -> dict[str, Any]:
    """A ledger outcome as JSON, or a 409 refusal (with the day it becomes allowed)."""
    message = result.message
    if result.problems:
        raise ApiError.of_problems(result.problems)
    if not result.ok:
        error = ApiError(409, "refused", message)
        raise error
    return {"ok": True, "message": message}


def listing(ledger: Ledger, org: Organisation, day: date) -> list[dict[str, Any]]:
    return query.listing(mine(ledger, org).engine, day)


def entitlements_on(
    engine: Engine, org: Organisation, day: date, catalog: Catalog
) -> tuple[tuple[Entitlement, ...], tuple[Finding, ...]]:
    """The organisation's ledger entitlements as they stood on ``day``, as estate records
    (``assigned_to`` from the host and OSE assignments then), for a position from the ledger;
    and a finding for each stored row the catalog does not know (an unknown product, edition
    or version, stored before the write paths checked them), which is left out of the position
    rather than failing it. The finding carries the latest note an admin wrote on the row."""
    out: list[Entitlement] = []
    findings: list[Finding] = []
    with Session(for_org(engine, org.id)) as session:
        standings = query.standings(session, day)
        noted = notes(session, [s.row.id for s in standings])
        for standing in standings:
            records = query.as_records(standing)
            ref = standing.row.ref
            bad = check_record(records[0], catalog) if records else []
            if bad:
                findings.append(
                    unknown_row(ref, bad, standing.owned, noted.get(standing.row.id, ""))
                )
                continue
            for record in records:
                out.append(replace(record, id=ref, source=Source(f"ledger:{ref}")))
    return tuple(out), tuple(findings)


NOTE = "note"  # audit entity kind of an admin's note on an entitlement (not a ledger row)


def notes(session: Session, ids: list[int]) -> dict[int, str]:
    """The latest note on each of the entitlement row ids."""
    wanted = [f"{NOTE}:{i}" for i in ids]
    out: dict[int, str] = {}
    events = select(Event).where(Event.entity.in_(wanted)).order_by(Event.seq)
    for e in session.execute(events).scalars():
        out[int(e.entity.split(":")[1])] = json.loads(e.after or "{}").get("note", "")
    return out


def annotate(ledger: Ledger, org: Organisation, ref: str, note: str) -> dict[str, Any]:
    """An admin's note on one of the organisation's entitlements, kept as an audit event of
    its own (entity ``note:<id>``: the row itself is unchanged, so verification still holds)."""
    with service.write(mine(ledger, org)) as chain:
        row = chain.session.execute(
            select(EntitlementRow).where(EntitlementRow.ref == ref)
        ).scalar_one_or_none()
        if row is None:
            raise ApiError(404, "not-found", f"no entitlement {ref} here", "ref")
        chain.append("entitlement.annotate", f"{NOTE}:{row.id}", None, {"note": note})
    return {"ok": True, "message": f"noted on {ref}: {note}"}


def purchase(ledger: Ledger, org: Organisation, e: Entitlement, catalog: Catalog) -> dict[str, Any]:
    """Record one bought entitlement (idempotent: the same purchase twice adds nothing), checked
    against the catalog as a file's row is: 422 naming the field, with a did-you-mean."""
    bad = check_record(e, catalog)
    if bad:
        raise ApiError.of_problems(bad)
    ref = e.id or "E-" + hashlib.sha256(canonical_fields(e, None).encode()).hexdigest()[:10]
    stored = replace(e, id=ref, source=Source("web"))
    # hashed with the id as it was stored before migration 0008 (``slug/ref``), so a purchase
    # recorded before it is still the same purchase
    was = canonical_fields(replace(stored, id=f"{org.slug}/{ref}"), None)
    digest = hashlib.sha256(f"{org.id}#{was}".encode()).hexdigest()
    report = service.import_candidates(mine(ledger, org), [Candidate(stored, digest)])
    if report.problems:
        raise ApiError.of_problems(list(report.problems), 409)
    return {"ok": True, "id": ref, "added": report.added, "unchanged": report.unchanged}


def assign(
    ledger: Ledger, org: Organisation, ref: str, to: str, quantity: int, day: date
) -> dict[str, Any]:
    result = moves.assign(mine(ledger, org), ref, holder(to, "to"), quantity, day)
    return outcome(result)


def reassign(
    ledger: Ledger,
    org: Organisation,
    ref: str,
    source: str,
    to: str | None,
    quantity: int | None,
    day: date,
    reason: str | None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    if reason is not None and reason not in rules.REASONS:
        raise ApiError(
            422, "invalid", "reason must be one of " + ", ".join(rules.REASONS), "reason"
        )
    target = holder(to, "to") if to else None
    result = moves.reassign(
        mine(ledger, org), ref, holder(source, "from"), target, quantity, day, reason, catalog
    )
    return outcome(result)


def retire(
    ledger: Ledger,
    org: Organisation,
    ref: str,
    quantity: int | None,
    day: date,
    reason: str,
    source: str | None,
) -> dict[str, Any]:
    """Units leave the estate: owned through ``day``, not after (free units first; held ones
    only from the holder ``source`` names)."""
    held = holder(source, "from") if source else None
    result = moves.retire(mine(ledger, org), ref, quantity, day, reason, held)
    return outcome(result)


def import_file(
    ledger: Ledger,
    org: Organisation,
    path: Path,
    shown: str,
    catalog: Catalog,
    mapping: dict[str, str],
    agreement: str | None,
) -> dict[str, Any]:
    """Every entitlement of a file ``entitle ledger import`` reads (the spec's entitlements.csv,
    a workbook, an MLS summary) into the organisation's ledger: all or nothing, 422 with every
    bad row; importing the same file twice adds nothing. ``shown`` names the file in problems."""

    def named(p: Problem) -> Problem:
        return replace(p, source=replace(p.source, file=shown))

    candidates, problems = read_file(path, catalog, mapping, agreement)
    errors = [named(p) for p in problems if p.severity == "error"]
    if errors:
        raise ApiError.of_problems(errors)
    if any(c.product_key for c in candidates):
        first = next(c for c in candidates if c.product_key)
        raise ApiError.of_problems(
            [
                named(
                    Problem(
                        first.entitlement.source,
                        "the web does not keep product keys",
                        "leave product_key and key_kind blank, or import with entitle ledger "
                        "import on the command line",
                    )
                )
            ]
        )
    salted = [
        replace(c, content_hash=hashlib.sha256(f"{org.id}#{c.content_hash}".encode()).hexdigest())
        for c in candidates
    ]
    report = service.import_candidates(mine(ledger, org), salted)
    if report.problems:
        raise ApiError.of_problems([named(p) for p in report.problems], 409)
    return {
        "ok": True,
        "added": report.added,
        "unchanged": report.unchanged,
        "warnings": [str(named(p)) for p in problems],
    }


def history(
    ledger: Ledger, org: Organisation, ref: str | None = None, details: bool = False
) -> list[dict[str, Any]]:
    """The audit events of the organisation's entitlements (of one, when ``ref`` is given);
    with ``details``, each with its row before and after (JSON text) for the pages' words."""
    with Session(mine(ledger, org).engine) as session:
        wanted = select(EntitlementRow)  # the session sees the organisation's rows only
        if ref is not None:
            wanted = wanted.where(EntitlementRow.ref == ref)
        rows = {r.id: r.ref for r in session.execute(wanted).scalars()}
        if ref is not None and not rows:
            raise ApiError(404, "not-found", f"no entitlement {ref} here")
        entities = {f"entitlement:{i}": name for i, name in rows.items()}
        ids = list(rows)
        held = select(Assignment).where(Assignment.entitlement_id.in_(ids))
        for a in session.execute(held).scalars():
            entities[f"assignment:{a.id}"] = rows[a.entitlement_id]
        gone = select(Retirement).where(Retirement.entitlement_id.in_(ids))
        for r in session.execute(gone).scalars():
            entities[f"retirement:{r.id}"] = rows[r.entitlement_id]
        for i, name in rows.items():
            entities[f"{NOTE}:{i}"] = name
        events = session.execute(
            select(Event).where(Event.entity.in_(list(entities))).order_by(Event.seq)
        ).scalars()
        return [
            {
                "seq": e.seq,
                "at": iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entitlement": entities[e.entity],
                "hash": e.hash,
                **({"before": e.before, "after": e.after} if details else {}),
            }
            for e in events
        ]


def verify(ledger: Ledger) -> dict[str, Any]:
    count, head, tampered = audit.verify_engine(ledger.engine)
    return {
        "ok": not tampered,
        "events": count,
        "head": head,
        "tampered": [str(t) for t in tampered],
    }
