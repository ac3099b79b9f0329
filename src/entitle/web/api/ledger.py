"""``/api/orgs/{org_id}/ledger``: the organisation's entitlements, purchases, assignments,
reassignments (with the 90-day rule and its exceptions), the audit trail and verification."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from entitle.estate.records import Entitlement
from entitle.ledger.service import today
from entitle.web import orgledger
from entitle.web.auth import membership
from entitle.web.context import DB, WS, ApiActor, Id

router = APIRouter(prefix="/orgs/{org_id}/ledger", tags=["ledger"])


class Purchase(BaseModel):
    id: str | None = Field(None, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")
    product: str = Field(max_length=80)
    license: str = Field(max_length=40)
    quantity: int = Field(ge=1, le=10_000_000)
    edition: str | None = Field(None, max_length=40)
    version: str | None = Field(None, max_length=40)
    agreement: str | None = Field(None, max_length=100)
    purchased: date | None = None
    sa_until: date | None = None
    unit_price: Decimal | None = Field(None, ge=0, le=10_000_000)


class Assign(BaseModel):
    ref: str = Field(max_length=60)
    to: str = Field(max_length=200, description="KIND:NAME, e.g. user:ann or host:hv1")
    quantity: int = Field(1, ge=1, le=10_000_000)
    on: date | None = None


class Reassign(BaseModel):
    ref: str = Field(max_length=60)
    source: str = Field(max_length=200, alias="from", description="KIND:NAME")
    to: str | None = Field(None, max_length=200)
    quantity: int | None = Field(None, ge=1, le=10_000_000)
    on: date | None = None
    reason: str | None = Field(None, max_length=40)


def entitlement_of(p: Purchase) -> Entitlement:
    return Entitlement(
        product=p.product.strip().lower(),
        license=p.license.strip().lower(),
        quantity=p.quantity,
        id=p.id,
        edition=(p.edition or "").strip().lower() or None,
        version=(p.version or "").strip() or None,
        sa_until=p.sa_until,
        agreement=(p.agreement or "").strip() or None,
        purchased=p.purchased,
        unit_price=p.unit_price,
    )


@router.get("/entitlements")
def entitlements(
    org_id: Id, ws: WS, session: DB, actor: ApiActor, as_of: date | None = None
) -> dict[str, Any]:
    org = membership(session, actor, org_id)
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return {"ok": True, "entitlements": orgledger.listing(ledger, org, as_of or today())}


@router.post("/entitlements", status_code=201)
def record_purchase(
    org_id: Id, body: Purchase, ws: WS, session: DB, actor: ApiActor
) -> dict[str, Any]:
    """Record a purchase (an entitlement); the same purchase twice adds nothing."""
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.purchase(ledger, org, entitlement_of(body))


@router.post("/assign")
def assign(org_id: Id, body: Assign, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.assign(ledger, org, body.ref, body.to, body.quantity, body.on or today())


@router.post("/reassign")
def reassign(org_id: Id, body: Reassign, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """Move units; refused (409, with the first allowed day) when the 90-day rule forbids it."""
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.reassign(
        ledger, org, body.ref, body.source, body.to, body.quantity, body.on or today(), body.reason
    )


@router.get("/history")
def history(
    org_id: Id, ws: WS, session: DB, actor: ApiActor, ref: str | None = None
) -> dict[str, Any]:
    org = membership(session, actor, org_id)
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return {"ok": True, "events": orgledger.history(ledger, org, ref)}


@router.get("/verify")
def verify(org_id: Id, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """Check the whole audit chain and that every row matches its last event."""
    membership(session, actor, org_id)
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.verify(ledger)
