"""The ledger's pages: the entitlements and the audit trail, recording a purchase, importing a
file of entitlements and retiring units. The assign and reassign forms are in ``pages_moves``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from entitle.ledger.service import today
from entitle.web import orgledger
from entitle.web.api.ledger import (
    Annotate,
    Purchase,
    Retire,
    entitlement_of,
    import_upload,
    mapping_of,
)
from entitle.web.audittext import describe
from entitle.web.auth import Actor, check_csrf, membership
from entitle.web.context import DB, WS, MaybeActor, SessionRoute, writes_in_own_transaction
from entitle.web.errors import ApiError
from entitle.web.listing import Order, arrange, csv_text
from entitle.web.models import Organisation
from entitle.web.pages import form_of, render, signed_in

router = APIRouter(route_class=SessionRoute, include_in_schema=False)


def blank_none(form: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if v != "" else None) for k, v in form.items() if k != "csrf_token"}


def invalid(exc: ValidationError) -> str:
    """A form's validation errors in words, naming each field."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


ENTITLEMENT_KEYS = (
    "id",
    "product",
    "license",
    "edition",
    "version",
    "owned",
    "retired",
    "free",
    "agreement",
    "sa_end",
)
AUDIT_KEYS = ("seq", "at", "actor", "what", "entitlement", "source", "target", "quantity", "day")


def _entitlement_text(e: dict[str, Any]) -> str:
    held = " ".join(h["holder"] for h in e["held"])
    fields = ("id", "product", "license", "edition", "version", "agreement")
    return " ".join(str(e.get(k) or "") for k in fields) + " " + held


def _audit_text(e: dict[str, Any]) -> str:
    fields = ("actor", "what", "entitlement", "source", "target", "why", "day")
    return " ".join(str(e.get(k) or "") for k in fields)


def ledger_lists(
    ws: WS, me: Actor, org: Organisation, params: dict[str, str]
) -> tuple[list[dict[str, Any]], Order, list[dict[str, Any]], Order]:
    """The entitlements and the audit trail (in words) as the query asks: sorted and
    filtered on the server (``sort``/``dir``/``q``; the audit's ``asort``/``adir``/``aq``)."""
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
    order = Order.of(params.get("sort"), params.get("dir"), params.get("q"), ENTITLEMENT_KEYS, "id")
    entitlements = arrange(orgledger.listing(ledger, org, today()), order, _entitlement_text)
    audit_order = Order.of(
        params.get("asort"), params.get("adir") or "desc", params.get("aq"), AUDIT_KEYS, "seq"
    )
    events = describe(orgledger.history(ledger, org, details=True))
    return entitlements, order, arrange(events, audit_order, _audit_text), audit_order


def _ledger_page(
    request: Request,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    org_id: int,
    error: str | None = None,
    message: str | None = None,
    errors: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    params = dict(request.query_params)
    entitlements, order, events, audit_order = ledger_lists(ws, me, org, params)
    everything = orgledger.listing(
        orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email), org, today()
    )
    return render(
        request,
        "ledger.html",
        me,
        session,
        org=org,
        error=error,
        errors=errors or [],
        message=message,
        entitlements=entitlements,
        all_entitlements=everything,
        order=order,
        events=events,
        audit_order=audit_order,
        params=params,
        values=values or {},
        today=today(),
    )


@router.get("/orgs/{org_id}/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor) -> Response:
    return _ledger_page(request, ws, session, actor, org_id)


@router.get("/orgs/{org_id}/ledger/entitlements.csv")
def ledger_csv(request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor) -> Response:
    """The entitlements as listed (sorted and filtered as asked), spreadsheet-safe."""
    me = signed_in(actor)
    org = membership(session, me, org_id)
    entitlements, _order, _events, _audit = ledger_lists(ws, me, org, dict(request.query_params))
    header = (
        "id",
        "product",
        "license",
        "edition",
        "version",
        "quantity",
        "owned",
        "retired",
        "free",
        "held_by",
        "agreement",
        "purchased",
        "sa_end",
        "unit_price",
    )
    rows = (
        (
            e["id"],
            e["product"],
            e["license"],
            e["edition"],
            e["version"],
            e["quantity"],
            e["owned"],
            e["retired"],
            e["free"],
            "; ".join(f"{h['holder']} ({h['units']})" for h in e["held"]),
            e["agreement"],
            e["purchased"],
            e["sa_end"],
            e["unit_price"],
        )
        for e in entitlements
    )
    return _csv(csv_text(header, rows), f"{org.slug}-ledger.csv")


@router.get("/orgs/{org_id}/ledger/audit.csv")
def audit_csv(request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor) -> Response:
    """The audit trail in words (from, to, quantity), as listed, spreadsheet-safe."""
    me = signed_in(actor)
    org = membership(session, me, org_id)
    _e, _o, events, _a = ledger_lists(ws, me, org, dict(request.query_params))
    header = (
        "seq",
        "at_utc",
        "actor",
        "what",
        "entitlement",
        "from",
        "to",
        "quantity",
        "day",
        "why",
        "action",
        "hash",
    )
    rows = (
        (
            e["seq"],
            e["at"],
            e["actor"],
            e["what"],
            e["entitlement"],
            e["source"],
            e["target"],
            e["quantity"],
            e["day"],
            e["why"],
            e["action"],
            e["hash"],
        )
        for e in events
    )
    return _csv(csv_text(header, rows), f"{org.slug}-audit.csv")


def _csv(text: str, name: str) -> Response:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.post("/orgs/{org_id}/ledger", response_class=HTMLResponse)
@writes_in_own_transaction
async def record(request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor) -> Response:
    form = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_record, request, org_id, ws, session, actor, form)


def _record(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor, values: dict[str, Any]
) -> Response:
    me, form = signed_in(actor), blank_none(values)
    org = membership(session, me, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    try:
        purchase = Purchase.model_validate(form)
        ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
        result = orgledger.purchase(ledger, org, entitlement_of(purchase), ws.catalog)
    except ValidationError as exc:
        return _ledger_page(request, ws, session, actor, org_id, error=invalid(exc), values=form)
    except ApiError as exc:
        message = exc.items[0].message
        return _ledger_page(request, ws, session, actor, org_id, error=message, values=form)
    text = f"recorded {result['id']}" if result["added"] else f"{result['id']} was already recorded"
    return _ledger_page(request, ws, session, actor, org_id, message=text)


@router.post("/orgs/{org_id}/ledger/retire", response_class=HTMLResponse)
@writes_in_own_transaction
async def retire(request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor) -> Response:
    values = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_retire, request, org_id, ws, session, actor, values)


def _retire(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor, values: dict[str, Any]
) -> Response:
    me, form = signed_in(actor), blank_none(values)
    form["from"] = holder_text(values, "from")
    org = membership(session, me, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    try:
        body = Retire.model_validate(form)
        ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
        done = orgledger.retire(
            ledger, org, body.ref, body.quantity, body.on or today(), body.reason, body.source
        )
    except ValidationError as exc:
        return _ledger_page(request, ws, session, actor, org_id, error=invalid(exc))
    except ApiError as exc:
        return _ledger_page(request, ws, session, actor, org_id, error=exc.items[0].message)
    return _ledger_page(request, ws, session, actor, org_id, message=done["message"])


@router.post("/orgs/{org_id}/ledger/annotate", response_class=HTMLResponse)
@writes_in_own_transaction
async def annotate(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    values = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_annotate, request, org_id, ws, session, actor, values)


def _annotate(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor, values: dict[str, Any]
) -> Response:
    me, form = signed_in(actor), blank_none(values)
    org = membership(session, me, org_id, "admin")
    session.close()  # the ledger writes in its own transaction
    try:
        body = Annotate.model_validate(form)
        ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
        done = orgledger.annotate(ledger, org, body.ref, body.note.strip())
    except ValidationError as exc:
        return _ledger_page(request, ws, session, actor, org_id, error=invalid(exc))
    except ApiError as exc:
        return _ledger_page(request, ws, session, actor, org_id, error=exc.items[0].message)
    return _ledger_page(request, ws, session, actor, org_id, message=done["message"])


@router.post("/orgs/{org_id}/ledger/import", response_class=HTMLResponse)
@writes_in_own_transaction
async def import_file(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    me = signed_in(actor)
    form = await request.form()
    token = form.get("csrf_token")
    check_csrf(request, me, token if isinstance(token, str) else None)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await run_in_threadpool(
            _ledger_page, request, ws, session, actor, org_id, error="choose a file to import"
        )
    got = (form, upload.filename, await upload.read())
    return await run_in_threadpool(_import, request, org_id, ws, session, actor, *got)


def _import(
    request: Request,
    org_id: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    form: FormData,
    filename: str,
    data: bytes,
) -> Response:
    me = signed_in(actor)
    try:
        result = import_upload(
            ws,
            session,
            me,
            org_id,
            filename,
            data,
            mapping_of(str(form.get("map") or "")),
            str(form.get("agreement") or "") or None,
        )
    except ApiError as exc:
        if exc.status == 403:
            raise
        lines = [f"{i.source}: {i.message}" if i.source else i.message for i in exc.items]
        return _ledger_page(
            request,
            ws,
            session,
            actor,
            org_id,
            error="nothing was imported; fix these rows and import the file again",
            errors=lines,
        )
    text = (
        f"{filename}: added {result['added']} entitlements, "
        f"{result['unchanged']} already in the ledger"
    )
    return _ledger_page(
        request, ws, session, actor, org_id, message=text, errors=result["warnings"]
    )


def holder_text(form: dict[str, Any], field: str) -> str | None:
    """``KIND:NAME`` from a form's kind select and name box (``None`` when the name is blank)."""
    name = str(form.get(f"{field}_name") or "").strip()
    return f"{form.get(f'{field}_kind') or 'user'}:{name}" if name else None
