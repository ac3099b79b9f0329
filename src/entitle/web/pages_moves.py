"""The ledger's assign and reassign pages (``pages_ledger`` has the rest of the ledger): their
forms, whose refusals under the 90-day rule say why and from which day the move is allowed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from entitle.ledger import rules
from entitle.ledger.service import today
from entitle.web import orgledger
from entitle.web.api.ledger import Assign, Reassign
from entitle.web.auth import Actor, membership
from entitle.web.context import DB, WS, MaybeActor, SessionRoute, writes_in_own_transaction
from entitle.web.errors import ApiError
from entitle.web.models import Organisation
from entitle.web.pages import form_of, render, signed_in
from entitle.web.pages_ledger import blank_none, holder_text, invalid

router = APIRouter(route_class=SessionRoute, include_in_schema=False)


def _move_page(
    request: Request,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    org_id: int,
    which: str,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    message: str | None = None,
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
    return render(
        request,
        "ledger_move.html",
        me,
        session,
        org=org,
        which=which,
        values=values or {},
        error=error,
        message=message,
        entitlements=orgledger.listing(ledger, org, today()),
        reasons=rules.REASONS,
        kinds=rules.HOLDER_KINDS,
        today=today(),
    )


@router.get("/orgs/{org_id}/ledger/assign", response_class=HTMLResponse)
def assign_page(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor, ref: str = ""
) -> Response:
    return _move_page(request, ws, session, actor, org_id, "assign", {"ref": ref})


@router.get("/orgs/{org_id}/ledger/reassign", response_class=HTMLResponse)
def reassign_page(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor, ref: str = ""
) -> Response:
    return _move_page(request, ws, session, actor, org_id, "reassign", {"ref": ref})


def _apply(ws: WS, me: Actor, org: Organisation, which: str, fields: dict[str, Any]) -> str:
    """Validate a move form and make the move; its message, or ``ValidationError``/``ApiError``."""
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
    if which == "assign":
        a = Assign.model_validate({**fields, "quantity": fields.get("quantity") or 1})
        done = orgledger.assign(ledger, org, a.ref, a.to, a.quantity, a.on or today())
    else:
        r = Reassign.model_validate(fields)
        done = orgledger.reassign(
            ledger, org, r.ref, r.source, r.to, r.quantity, r.on or today(), r.reason, ws.catalog
        )
    return str(done["message"])


def _move(
    request: Request,
    org_id: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    which: str,
    raw: dict[str, Any],
) -> Response:
    me = signed_in(actor)
    values = {k: str(v) for k, v in raw.items() if k != "csrf_token"}
    org = membership(session, me, org_id, "editor")
    session.close()  # the ledger writes in its own transaction
    fields = blank_none(values)
    fields["to"] = holder_text(values, "to")
    fields["from"] = holder_text(values, "from")
    try:
        message = _apply(ws, me, org, which, fields)
    except ValidationError as exc:
        return _move_page(request, ws, session, actor, org_id, which, values, error=invalid(exc))
    except ApiError as exc:
        text = "; ".join(i.message for i in exc.items)
        return _move_page(request, ws, session, actor, org_id, which, values, error=text)
    kept = {"ref": values.get("ref", "")}
    return _move_page(request, ws, session, actor, org_id, which, kept, message=message)


@router.post("/orgs/{org_id}/ledger/assign", response_class=HTMLResponse)
@writes_in_own_transaction
async def assign(request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor) -> Response:
    form = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_move, request, org_id, ws, session, actor, "assign", form)


@router.post("/orgs/{org_id}/ledger/reassign", response_class=HTMLResponse)
@writes_in_own_transaction
async def reassign(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    form = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_move, request, org_id, ws, session, actor, "reassign", form)
