"""Pages for members (add, change a role, remove), products search and the decision tool's
questionnaire with its growth chart. The ledger's pages are in ``pages_ledger``."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from entitle.catalog.search import search_products, split_version
from entitle.web import accounts, charts, invites
from entitle.web.api.members import add_member, members_of, remove
from entitle.web.api.tools import Questionnaire, decide
from entitle.web.auth import Actor, membership
from entitle.web.context import DB, WS, MaybeActor, SessionRoute, writes_in_own_transaction
from entitle.web.errors import ApiError
from entitle.web.pages import form_of, render, signed_in

router = APIRouter(route_class=SessionRoute, include_in_schema=False)


def _blank_none(form: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if v != "" else None) for k, v in form.items() if k != "csrf_token"}


@router.get("/orgs/{org_id}/members", response_class=HTMLResponse)
def members_page(
    request: Request, org_id: int, session: DB, actor: MaybeActor, error: str | None = None
) -> Response:
    return _members(request, org_id, session, actor, error)


def _members(
    request: Request,
    org_id: int,
    session: DB,
    actor: MaybeActor,
    error: str | None = None,
    sent: invites.Sent | None = None,
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    admin = any(
        o.id == org_id and role == "admin" for o, role in accounts.orgs_of(session, me.user_id)
    )
    return render(
        request,
        "members.html",
        me,
        session,
        org=org,
        members=members_of(session, org_id),
        invitations=invites.pending(session, org_id) if admin else [],
        sent=sent,
        error=error,
    )


@router.post("/orgs/{org_id}/members", response_class=HTMLResponse)
async def add_member_page(
    request: Request, org_id: int, session: DB, actor: MaybeActor
) -> Response:
    form = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_add_member, request, org_id, session, actor, form)


def _add_member(
    request: Request, org_id: int, session: DB, actor: MaybeActor, form: dict[str, Any]
) -> Response:
    me = signed_in(actor)
    membership(session, me, org_id, "admin")
    role = str(form.get("role", "viewer"))
    if role not in ("viewer", "editor", "admin"):
        role = "viewer"
    try:
        add_member(session, org_id, str(form.get("email", "")), role, me.user_id)
    except ApiError as exc:
        return members_page(request, org_id, session, actor, error=exc.items[0].message)
    return RedirectResponse(f"/orgs/{org_id}/members", status_code=303)


@router.post("/orgs/{org_id}/invitations", response_class=HTMLResponse)
async def invite_page(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    """Invite by e-mail; the page says it was sent, or shows the link to pass on."""
    form = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_invite, request, org_id, ws, session, actor, form)


def _invite(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor, form: dict[str, Any]
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id, "admin")
    base = invites.base_url(ws, str(request.base_url))
    try:
        sent = invites.invite(
            ws,
            session,
            org,
            me.email,
            str(form.get("email", "")),
            str(form.get("role", "viewer")),
            base,
        )
    except ApiError as exc:
        return members_page(request, org_id, session, actor, error=exc.items[0].message)
    return _members(request, org_id, session, actor, sent=sent)


@router.get("/orgs/{org_id}/members/{user_id}/remove", response_class=HTMLResponse)
def confirm_remove_page(
    request: Request, org_id: int, user_id: int, session: DB, actor: MaybeActor
) -> Response:
    """Are you sure? The member named, the organisation, and what removing them means."""
    me = signed_in(actor)
    org = membership(session, me, org_id, "admin")
    member = next((m for m in members_of(session, org_id) if m["user_id"] == user_id), None)
    if member is None:
        raise ApiError(404, "not-found", "no such member here")
    return render(request, "member_remove.html", me, session, org=org, member=member)


@router.post("/orgs/{org_id}/members/{user_id}/remove", response_class=HTMLResponse)
async def remove_member_page(
    request: Request, org_id: int, user_id: int, session: DB, actor: MaybeActor
) -> Response:
    form = await form_of(request, signed_in(actor))
    return await run_in_threadpool(_remove_member, request, org_id, user_id, session, actor, form)


def _remove_member(
    request: Request,
    org_id: int,
    user_id: int,
    session: DB,
    actor: MaybeActor,
    form: dict[str, Any],
) -> Response:
    me = signed_in(actor)
    membership(session, me, org_id, "admin")
    if form.get("confirm") != "yes":  # not confirmed yet: ask first
        return confirm_remove_page(request, org_id, user_id, session, actor)
    try:
        remove(session, org_id, user_id, me.user_id)
    except ApiError as exc:
        return members_page(request, org_id, session, actor, error=exc.items[0].message)
    if user_id == me.user_id:  # you left: the organisation is no longer yours to see
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(f"/orgs/{org_id}/members", status_code=303)


@router.get("/products", response_class=HTMLResponse)
def products_page(
    request: Request, ws: WS, session: DB, actor: MaybeActor, q: str | None = None
) -> Response:
    """The catalog for people: every product in a table when nothing is searched; the found
    products' licensing as tables (models, CALs and MLs, core rules, VM rights, limits,
    prices), only the rows of the version asked for (``SQL Server 2019``), without the
    catalog's internal notes."""
    me = signed_in(actor)
    query = (q or "").strip()[:200]
    found = search_products(ws.catalog, query)
    _name, version = split_version(ws.catalog, query)
    if version is not None and not any(version in p.versions for p in found):
        version = None  # the whole query named the product ("exchange se" is not a version)
    views = [
        {
            "models": [m for m in p.models if version is None or version in m.versions],
            "limits": [x for x in p.limits if version is None or version in x.versions],
            "prices": [x for x in p.prices if version is None or x.version in (None, version)],
            "sources": [x for x in p.sources if x.startswith(("https://", "http://"))],
        }
        for p in found
    ]
    return render(
        request,
        "products.html",
        me,
        session,
        q=query,
        products=found,
        views=views,
        version=version,
        detailed=bool(query) and len(found) <= 5,
    )


@router.get("/decide", response_class=HTMLResponse)
def decide_page(request: Request, session: DB, actor: MaybeActor) -> Response:
    me = signed_in(actor)
    return render(request, "decide.html", me, session, result=None, error=None, values={})


@router.post("/decide", response_class=HTMLResponse)
@writes_in_own_transaction  # it writes nothing: its session only reads (the page's menu)
async def decide_post(request: Request, ws: WS, session: DB, actor: MaybeActor) -> Response:
    me = signed_in(actor)
    form = await form_of(request, me)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    return await run_in_threadpool(_decide, request, ws, session, me, values)


def _decide(request: Request, ws: WS, session: DB, me: Actor, values: dict[str, str]) -> Response:
    try:
        q = Questionnaire.model_validate(_blank_none(values))
        result = decide(ws.catalog, q)
    except ValidationError as exc:
        error = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return render(request, "decide.html", me, session, result=None, error=error, values=values)
    except ApiError as exc:
        return render(
            request,
            "decide.html",
            me,
            session,
            result=None,
            error=exc.items[0].message,
            values=values,
        )
    return render(
        request,
        "decide.html",
        me,
        session,
        result=result,
        error=None,
        values=values,
        today=date.today(),
        growth_chart=charts.growth(result, ws.catalog.meta.currency),
    )
