"""Pages around one estate: importing real exports into it (or into a new one), browsing its
tables as uploaded, a page at a time, and the decision tool's data mode on its evidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from entitle.estate.records import TABLES
from entitle.web import charts, decisions, jobs, sources
from entitle.web.api.analysis import PAGE, counts, page_of, raw_table
from entitle.web.api.estates import get_estate
from entitle.web.api.imports import lines, start
from entitle.web.auth import Actor, check_csrf, membership
from entitle.web.context import DB, WS, MaybeActor, SessionRoute
from entitle.web.errors import ApiError
from entitle.web.models import Job, StoredEstate
from entitle.web.pages import form_of, render, signed_in

router = APIRouter(route_class=SessionRoute, include_in_schema=False)


def _day(text: str, field: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise ApiError(422, "invalid", f"{text!r} is not a day; write YYYY-MM-DD", field) from exc


def _import_error(
    request: Request, org_id: int, session: DB, actor: MaybeActor, exc: ApiError
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    estates = list(
        session.execute(
            select(StoredEstate)
            .where(StoredEstate.org_id == org_id)
            .order_by(StoredEstate.id.desc())
        ).scalars()
    )
    items = [f"{i.source}: {i.message}" if i.source else i.message for i in exc.items]
    return render(
        request,
        "estates.html",
        me,
        session,
        org=org,
        estates=estates,
        import_errors=items,
        kinds=sources.KINDS,
    )


@router.post("/orgs/{org_id}/imports")
async def import_page(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    me = signed_in(actor)
    form = await request.form()
    token = form.get("csrf_token")
    check_csrf(request, me, token if isinstance(token, str) else None)
    uploads = [
        (f.filename or "", await f.read())
        for f in form.getlist("files")
        if isinstance(f, UploadFile) and f.filename
    ]
    mapping = form.get("mapping")
    mapped = await mapping.read() if isinstance(mapping, UploadFile) and mapping.filename else None
    got = (form, uploads, mapped)
    return await run_in_threadpool(_import, request, org_id, ws, session, actor, me, *got)


def _import(
    request: Request,
    org_id: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    me: Actor,
    form: FormData,
    uploads: list[tuple[str, bytes]],
    mapped: bytes | None,
) -> Response:
    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    into = text("estate_id")
    try:
        options = sources.Options(
            text("kind"),
            _day(text("since"), "since"),
            _day(text("until"), "until"),
            text("server") or None,
            text("domain") or None,
            lines(text("external_ou")),
            lines(text("external_group")),
            lines(text("external_attribute")),
        )
        estate_id = int(into) if into.isdigit() else None
        _estate, job = start(
            ws, session, me, org_id, options, uploads, mapped, estate_id, text("name")
        )
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        session.rollback()
        return _import_error(request, org_id, session, actor, exc)
    return RedirectResponse(f"/orgs/{org_id}/jobs/{job.id}", status_code=303)


# -- the raw tables -----------------------------------------------------------------------


@router.get("/orgs/{org_id}/estates/{estate_id}/tables", response_class=HTMLResponse)
def tables_page(
    request: Request, org_id: int, estate_id: int, session: DB, actor: MaybeActor
) -> Response:
    return RedirectResponse(f"/orgs/{org_id}/estates/{estate_id}/tables/hosts", status_code=303)


@router.get("/orgs/{org_id}/estates/{estate_id}/tables/{table}", response_class=HTMLResponse)
def table_page(
    request: Request,
    org_id: int,
    estate_id: int,
    table: str,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    page: int = 1,
    q: str = "",
    at: str = "",
) -> Response:
    """A page of one table as uploaded; ``at`` (a row's ``FILE:LINE``, as the evidence names
    it) opens the page holding that row, marked."""
    me = signed_in(actor)
    org = membership(session, me, org_id)
    estate = get_estate(session, org_id, estate_id)
    page = max(1, min(page, 10_000_000))
    error = None
    if at:
        q = ""
        try:
            raw = raw_table(ws.settings.data_dir, estate, table)
        except ApiError:
            raw = None
        sources = [str(x) for x in raw.sources] if raw is not None else []
        if at in sources:
            page = sources.index(at) // PAGE + 1
    try:
        found = page_of(ws.settings.data_dir, estate, table, (page - 1) * PAGE, PAGE, q[:200])
        if found.total and found.offset >= found.total:  # past the end: the last page
            page = -(-found.total // PAGE)
            found = page_of(ws.settings.data_dir, estate, table, (page - 1) * PAGE, PAGE, q[:200])
    except ApiError as exc:
        if exc.status == 404:
            raise
        found, error = None, [f"{i.source}: {i.message}" for i in exc.items]
    pages = max(1, -(-found.total // PAGE)) if found else 1
    return render(
        request,
        "tables.html",
        me,
        session,
        org=org,
        estate=estate,
        table=table,
        tables=counts(ws.settings.data_dir, estate),
        found=found,
        error=error,
        page=page,
        pages=pages,
        q=q,
        at=at,
        all_tables=TABLES,
    )


# -- the decision tool on an estate --------------------------------------------------------


def _decimal(values: dict[str, str], name: str, default: str = "0") -> Decimal:
    text = (values.get(name) or default).strip().rstrip("%")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ApiError(422, "invalid", f"{text!r} is not a number", name) from exc


def question_of(values: dict[str, str]) -> decisions.Question:
    """The data-mode form as a question, or 422 naming the field."""
    years = values.get("years") or "3"
    if not years.isdigit():
        raise ApiError(422, "invalid", "years must be a whole number from 1 to 5", "years")
    user = values.get("user_price") or ""
    device = values.get("device_price") or ""
    return decisions.Question(
        product=(values.get("product") or "").strip(),  # blank: the server OS (decisions.start)
        as_of=_day(values.get("as_of", ""), "as_of"),
        user_price=_decimal(values, "user_price") if user else None,
        device_price=_decimal(values, "device_price") if device else None,
        years=int(years),
        headcount_growth=_decimal(values, "headcount_growth"),
        devices_growth=_decimal(values, "devices_growth"),
        shared_growth=_decimal(values, "shared_growth"),
        device_growth=values.get("device_growth") == "yes",
    )


def _decide_page(
    request: Request,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    org_id: int,
    estate_id: int,
    job_id: int | None = None,
    values: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    estate = get_estate(session, org_id, estate_id)
    result: dict[str, Any] | None = None
    if job_id is not None:
        job = session.get(Job, job_id)
        if job is None or job.estate_id != estate.id or job.kind != decisions.KIND:
            raise ApiError(404, "not-found", "no decision here")
        found = jobs.load_result(ws.settings.data_dir, org_id, job.id)
        result = found if isinstance(found, dict) else None
    else:
        latest = decisions.latest(ws, session, estate.id)
        result = latest[1] if latest else None
    if values is None and result is not None:
        values = {k: "" if v is None else str(v) for k, v in result["question"].items()}
    return render(
        request,
        "decide_estate.html",
        me,
        session,
        org=org,
        estate=estate,
        result=result,
        values=values or {},
        server_os=ws.catalog.roles.server_os,
        error=error,
        strategies_chart=charts.strategies(result) if result else None,
        growth_chart=charts.growth(result) if result else None,
    )


@router.get("/orgs/{org_id}/estates/{estate_id}/decide", response_class=HTMLResponse)
def decide_page(
    request: Request,
    org_id: int,
    estate_id: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    job: int | None = None,
) -> Response:
    return _decide_page(request, ws, session, actor, org_id, estate_id, job)


@router.post("/orgs/{org_id}/estates/{estate_id}/decide", response_class=HTMLResponse)
async def decide_post(
    request: Request, org_id: int, estate_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    me = signed_in(actor)
    form = await form_of(request, me)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    return await run_in_threadpool(
        _decide, request, org_id, estate_id, ws, session, actor, me, values
    )


def _decide(
    request: Request,
    org_id: int,
    estate_id: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    me: Actor,
    values: dict[str, str],
) -> Response:
    membership(session, me, org_id)
    estate = get_estate(session, org_id, estate_id)
    try:
        job = decisions.start(ws, session, estate, question_of(values))
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        message = "; ".join(i.message for i in exc.items)
        return _decide_page(
            request, ws, session, actor, org_id, estate_id, None, values, error=message
        )
    return RedirectResponse(f"/orgs/{org_id}/jobs/{job.id}", status_code=303)
