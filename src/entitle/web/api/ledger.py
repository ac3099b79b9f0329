"""``/api/orgs/{org_id}/ledger``: the organisation's entitlements, purchases, bulk imports,
assignments, reassignments (with the 90-day rule and its exceptions), retirements, the audit
trail and verification."""

from __future__ import annotations

import re
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from entitle import money
from entitle.estate.records import Entitlement
from entitle.ledger.service import today
from entitle.web import orgledger
from entitle.web.auth import Actor, membership
from entitle.web.context import (
    DB,
    WS,
    ApiActor,
    Id,
    SessionRoute,
    Workspace,
    writes_in_own_transaction,
)
from entitle.web.errors import ApiError

router = APIRouter(route_class=SessionRoute, prefix="/orgs/{org_id}/ledger", tags=["ledger"])


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


class Annotate(BaseModel):
    ref: str = Field(max_length=60)
    note: str = Field(min_length=1, max_length=500, description="why the row is as it is")


class Retire(BaseModel):
    ref: str = Field(max_length=60)
    reason: str = Field(min_length=1, max_length=200, description="sold, expired, ...")
    quantity: int | None = Field(None, ge=1, le=10_000_000, description="default: all left")
    on: date | None = Field(None, description="the last day the units are owned; default today")
    source: str | None = Field(
        None, max_length=200, alias="from", description="KIND:NAME whose held units go"
    )


LEDGER_SUFFIXES = (".csv", ".xlsx", ".xlsm")


def mapping_of(text: str | None) -> dict[str, str]:
    """``Their header=our header``, one a line (as ``--map``), or 422."""
    pairs: dict[str, str] = {}
    for item in (text or "").splitlines():
        if not item.strip():
            continue
        theirs, sep, ours = item.partition("=")
        if not sep or not theirs.strip() or not ours.strip():
            raise ApiError(422, "invalid", f"{item!r}: write 'Their Header=our header'", "map")
        pairs[theirs] = ours
    return pairs


def import_upload(
    ws: Workspace,
    session: DB,
    actor: Actor,
    org_id: int,
    given: str,
    data: bytes,
    mapping: dict[str, str],
    agreement: str | None,
) -> dict[str, Any]:
    """An uploaded entitlements file into the organisation's ledger (shared with the page). The
    file is read from a private temporary folder under a name of our choosing."""
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    base = re.split(r"[\\/]", given or "")[-1][:120] or "(unnamed)"
    suffix = Path(base.lower()).suffix
    if suffix not in LEDGER_SUFFIXES:
        raise ApiError(
            422,
            "invalid",
            "give entitlements.csv, a workbook, or an MLS summary saved as .csv or .xlsx",
            base,
        )
    if len(data) > ws.settings.max_upload_bytes:
        raise ApiError(413, "too-large", "the upload is larger than the server accepts")
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    with tempfile.TemporaryDirectory(prefix="entitle-ledger-") as folder:
        path = Path(folder) / f"entitlements{suffix}"
        path.write_bytes(data)
        return orgledger.import_file(
            ledger, org, path, base, ws.catalog, mapping, (agreement or "").strip() or None
        )


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
    return {
        "ok": True,
        "entitlements": money.jsonable(orgledger.listing(ledger, org, as_of or today())),
    }


@router.post("/entitlements", status_code=201)
@writes_in_own_transaction
def record_purchase(
    org_id: Id, body: Purchase, ws: WS, session: DB, actor: ApiActor
) -> dict[str, Any]:
    """Record a purchase (an entitlement); the same purchase twice adds nothing."""
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.purchase(ledger, org, entitlement_of(body), ws.catalog)


@router.post("/assign")
@writes_in_own_transaction
def assign(org_id: Id, body: Assign, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.assign(ledger, org, body.ref, body.to, body.quantity, body.on or today())


@router.post("/reassign")
@writes_in_own_transaction
def reassign(org_id: Id, body: Reassign, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """Move units; refused (409, with the first allowed day) when the 90-day rule forbids it."""
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.reassign(
        ledger,
        org,
        body.ref,
        body.source,
        body.to,
        body.quantity,
        body.on or today(),
        body.reason,
        ws.catalog,
    )


@router.post("/retire")
@writes_in_own_transaction
def retire(org_id: Id, body: Retire, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """Retire units: owned through ``on``, not after; refused (409) with the reason."""
    org = membership(session, actor, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.retire(
        ledger, org, body.ref, body.quantity, body.on or today(), body.reason.strip(), body.source
    )


@router.post("/annotate", status_code=201)
@writes_in_own_transaction
def annotate(org_id: Id, body: Annotate, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """An admin's note on an entitlement (e.g. a row the catalog does not know, before it is
    retired): an audit event of its own; positions from the ledger show it in their finding."""
    org = membership(session, actor, org_id, "admin")
    session.close()  # the ledger writes in its own transaction
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, actor.email)
    return orgledger.annotate(ledger, org, body.ref, body.note.strip())


@router.post("/import", status_code=201)
@writes_in_own_transaction
def import_entitlements(
    org_id: Id,
    ws: WS,
    session: DB,
    actor: ApiActor,
    file: Annotated[UploadFile, File(description="entitlements.csv, a workbook or an MLS summary")],
    agreement: Annotated[
        str | None, Form(max_length=100, description="for rows that name none")
    ] = None,
    mapping: Annotated[
        str | None,
        Form(alias="map", max_length=4000, description="'Their header=our header', one a line"),
    ] = None,
) -> dict[str, Any]:
    """Import a file of entitlements, as ``entitle ledger import``: all or nothing (422 with
    every bad row), and the same file twice adds nothing."""
    return import_upload(
        ws,
        session,
        actor,
        org_id,
        file.filename or "",
        file.file.read(),
        mapping_of(mapping),
        agreement,
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
