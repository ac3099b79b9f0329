"""The pages: server-rendered Jinja2 templates with a little htmx. Sign up and in, the
dashboard, estates (upload, import progress, the position with its drill-down, plan and
findings, on another day or from the ledger). Importing exports, the raw tables and the
decision tool on an estate are in ``pages_estate``; the ledger in ``pages_ledger``; members,
products and the questionnaire in ``pages_tools``. Forms post back and redirect
(post/redirect/get); every form carries the session's CSRF token.

A route that reads a form is ``async``: it awaits the form, then does its database work (and
draws the page, which reads too) in the thread pool (``run_in_threadpool``), never on the event
loop, where a slow query or a wait for SQLite's write lock would stop every other request of
the worker. Every other route is a plain ``def``, which FastAPI runs in the thread pool."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from entitle import money
from entitle.reports.model import line_label
from entitle.web import (
    accounts,
    charts,
    dashboard,
    decisions,
    history,
    jobs,
    orgledger,
    positions,
    sources,
)
from entitle.web.api.estates import get_estate, upload
from entitle.web.auth import Actor, check_csrf, membership
from entitle.web.context import DB, WS, MaybeActor, SessionRoute
from entitle.web.errors import ApiError, keep_input
from entitle.web.listing import Order, arrange
from entitle.web.models import Job, StoredEstate
from entitle.web.positions import Basis
from entitle.web.templating import TEMPLATES

router = APIRouter(route_class=SessionRoute, include_in_schema=False)


class NeedLogin(Exception):
    """A page was asked for without a session: go to the sign-in page (and back after it)."""


def safe_next(text: str | None) -> str:
    """Where to go after signing in: a path on this server only (``/orgs/1/ledger?x=1``), never
    another site (``//evil.example``, ``https://…``, ``/\\evil``), else the dashboard."""
    if not text or not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/"
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "/"
    parts = urlsplit(text)
    return text if not parts.scheme and not parts.netloc else "/"


def login_url(request: Request) -> str:
    """The sign-in page, coming back to the page asked for (GET requests of whole pages only:
    not a form's POST, nor a fragment htmx polls)."""
    if request.method != "GET" or request.url.path in ("/", "/login"):
        return "/login"
    if request.headers.get("hx-request"):
        return "/login"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": safe_next(here)})


def signed_in(actor: Actor | None) -> Actor:
    if actor is None:
        raise NeedLogin()
    return actor


def render(
    request: Request, name: str, actor: Actor | None, session: DB, **context: Any
) -> HTMLResponse:
    orgs = accounts.orgs_of(session, actor.user_id) if actor else []
    context.setdefault("org", orgs[0][0] if orgs else None)  # pages outside an organisation
    org = context["org"]
    role = next((r for o, r in orgs if org is not None and o.id == org.id), None)
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "actor": actor,
            "orgs": orgs,
            "csrf": actor.csrf if actor else "",
            "role": role,
            "can_edit": role in ("editor", "admin"),  # write forms are shown only to these
            "is_admin": role == "admin",
            **context,
        },
    )


async def form_of(request: Request, actor: Actor) -> dict[str, Any]:
    form = await request.form()
    keep_input(request, form.multi_items())
    token = form.get("csrf_token")
    check_csrf(request, actor, token if isinstance(token, str) else None)
    return dict(form.multi_items())


def install(app: FastAPI) -> None:
    """The pages' sign-in redirect (``app.py`` includes the routers, this module's and those of
    ``pages_*``, which import this one)."""

    async def to_login(request: Request, _exc: Exception) -> Response:
        return RedirectResponse(login_url(request), status_code=303)

    app.add_exception_handler(NeedLogin, to_login)


# -- signing up and in --------------------------------------------------------------------


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, session: DB, actor: MaybeActor) -> Response:
    return render(request, "signup.html", None, session, error=None, values={})


@router.post("/signup", response_class=HTMLResponse)
async def signup(request: Request, ws: WS, session: DB) -> Response:
    return await run_in_threadpool(_sign_up, request, ws, session, await request.form())


def _sign_up(request: Request, ws: WS, session: DB, form: FormData) -> Response:
    values = {k: str(form.get(k, "")) for k in ("email", "name", "organisation")}
    try:
        user = accounts.sign_up(
            session,
            values["email"],
            values["name"],
            str(form.get("password", "")),
            values["organisation"],
        )
    except ApiError as exc:
        return render(
            request, "signup.html", None, session, error=exc.items[0].message, values=values
        )
    session.commit()
    response = RedirectResponse("/", status_code=303)
    accounts.set_session(response, ws.sessions, user.id, ws.settings.secure_cookies)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: DB, next: str | None = None) -> Response:
    return render(request, "login.html", None, session, error=None, email="", next=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, ws: WS, session: DB) -> Response:
    return await run_in_threadpool(_sign_in, request, ws, session, await request.form())


def _sign_in(request: Request, ws: WS, session: DB, form: FormData) -> Response:
    email = str(form.get("email", ""))
    after = safe_next(str(form.get("next") or ""))
    try:
        user = accounts.sign_in(session, email, str(form.get("password", "")))
    except ApiError as exc:
        page = render(
            request,
            "login.html",
            None,
            session,
            error=exc.items[0].message,
            email=email,
            next=after,
        )
        if exc.retry_after is not None:  # attempts limited: a 429 the browser shows as a page
            page.status_code = exc.status
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = RedirectResponse(after, status_code=303)
    accounts.set_session(response, ws.sessions, user.id, ws.settings.secure_cookies)
    return response


# -- dashboard and estates ----------------------------------------------------------------


def _estates(session: DB, org_id: int) -> list[StoredEstate]:
    return list(
        session.execute(
            select(StoredEstate)
            .where(StoredEstate.org_id == org_id)
            .order_by(StoredEstate.id.desc())
        ).scalars()
    )


@router.get("/", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    org: int | None = None,
    as_of: str | None = None,
) -> Response:
    """The organisation's estates at a glance: the latest position with its charts, the
    compliance cost of every estate over time, the shortfall by product per estate, and the
    Software Assurance and subscriptions ending in the next 90 and 180 days (from ``as_of``,
    default today)."""
    me = signed_in(actor)
    orgs = accounts.orgs_of(session, me.user_id)
    if not orgs:
        return render(request, "dashboard.html", me, session, org=None, estates=[], latest=None)
    current = membership(session, me, org) if org else orgs[0][0]
    estates = _estates(session, current.id)
    ready = next((e for e in estates if e.position), None)
    latest = json.loads(ready.position) if ready and ready.position else None
    decided = decisions.latest(ws, session, ready.id) if ready else None
    day, day_error = basis_of(as_of, None)
    today_ = day.as_of or date.today()
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
    over_time, points = dashboard.cost_over_time(
        history.read(ws.settings.data_dir, current.id, estates)
    )
    ending = dashboard.expiries(
        ws.settings.data_dir,
        ws.catalog,
        orgledger.listing(ledger, current, today_),
        estates,
        today_,
    )
    return render(
        request,
        "dashboard.html",
        me,
        session,
        org=current,
        estates=estates,
        latest=latest,
        latest_estate=ready,
        chart=charts.cost_by_product(latest) if latest else None,
        required_chart=charts.required_vs_owned(latest) if latest else None,
        decision=decided[1] if decided else None,
        strategies_chart=charts.strategies(decided[1]) if decided else None,
        over_time=over_time,
        points=points,
        by_product=dashboard.shortfall_by_product(estates),
        expiries=ending,
        windows=dashboard.WINDOWS,
        today=today_,
        day_error=day_error,
    )


@router.get("/orgs/{org_id}/estates", response_class=HTMLResponse)
def estates_page(request: Request, org_id: int, session: DB, actor: MaybeActor) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    return render(
        request,
        "estates.html",
        me,
        session,
        org=org,
        estates=_estates(session, org_id),
        kinds=sources.KINDS,
        import_errors=[],
    )


@router.post("/orgs/{org_id}/estates")
async def upload_page(
    request: Request, org_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    me = signed_in(actor)
    form = await request.form()
    token = form.get("csrf_token")
    check_csrf(request, me, token if isinstance(token, str) else None)
    files = [
        (f.filename or "", await f.read())
        for f in form.getlist("files")
        if isinstance(f, UploadFile)
    ]
    name = str(form.get("name") or "estate")
    _estate, job = await run_in_threadpool(upload, ws, session, me, org_id, name, files)
    return RedirectResponse(f"/orgs/{org_id}/jobs/{job.id}", status_code=303)


def _job(session: DB, me: Actor, org_id: int, job_id: int) -> Job:
    membership(session, me, org_id)
    job = session.get(Job, job_id)
    if job is None or job.org_id != org_id:
        raise ApiError(404, "not-found", "no job here")
    return job


def _result(ws: WS, job: Job) -> Any:
    """What an ended job found (an import's summary), for the job's page."""
    if job.state not in ("done", "failed"):
        return None
    return jobs.load_result(ws.settings.data_dir, job.org_id, job.id)


@router.get("/orgs/{org_id}/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request, org_id: int, job_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    job = _job(session, me, org_id, job_id)
    return render(request, "job.html", me, session, org=org, job=job, result=_result(ws, job))


@router.get("/orgs/{org_id}/jobs/{job_id}/bar", response_class=HTMLResponse)
def job_bar(
    request: Request, org_id: int, job_id: int, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    job = _job(session, me, org_id, job_id)
    return render(request, "_job_bar.html", me, session, org=org, job=job, result=_result(ws, job))


LINE_KEYS = ("index", "label", "required", "owned", "shortfall", "cost")


def basis_of(as_of: str | None, entitlements: str | None) -> tuple[Basis, str | None]:
    """The basis a page was asked for (a blank or bad day is today, with an error to show)."""
    day, error = None, None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            error = f"{as_of!r} is not a day; write YYYY-MM-DD"
    return Basis(day, entitlements == "ledger"), error


@router.get("/orgs/{org_id}/estates/{estate_id}", response_class=HTMLResponse)
def estate_page(
    request: Request,
    org_id: int,
    estate_id: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    as_of: str | None = None,
    entitlements: Literal["estate", "ledger"] | None = None,
    sort: str | None = None,
    dir: str | None = None,
    q: str | None = None,
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    estate = get_estate(session, org_id, estate_id)
    basis, error = basis_of(as_of, entitlements)
    order = Order.of(sort, dir, q, LINE_KEYS, "index")
    position = json.loads(estate.position) if estate.position else None
    labels: list[str] = []
    if position is not None:
        try:
            c = positions.computed(ws, estate, basis, org)
        except ApiError as exc:
            error, basis = exc.items[0].message, Basis()
            c = positions.computed(ws, estate)
        if not basis.stored:
            position = money.jsonable(c.position.as_json())
        labels = [line_label(line) for line in c.position.lines]
    rows = arrange(
        [{"index": i, "label": labels[i], **x} for i, x in enumerate(position["lines"])]
        if position
        else [],
        order,
        lambda r: f"{r['label']} {r['model']}",
    )
    return render(
        request,
        "estate.html",
        me,
        session,
        org=org,
        estate=estate,
        position=position,
        labels=labels,
        rows=rows,
        order=order,
        params=dict(request.query_params),
        basis=basis,
        basis_error=error,
        query=basis.query(),
        problems=json.loads(estate.problems or "[]"),
        chart=charts.cost_by_product(position) if position else None,
    )


@router.get("/orgs/{org_id}/estates/{estate_id}/lines/{index}", response_class=HTMLResponse)
def line_page(
    request: Request,
    org_id: int,
    estate_id: int,
    index: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    as_of: str | None = None,
    entitlements: Literal["estate", "ledger"] | None = None,
    page: int = 1,
) -> Response:
    """A line's evidence for the estate page's panel: its needs, what covers it, and every
    evidence reference paged with its total, each linked to its row in the estate's table."""
    me = signed_in(actor)
    org = membership(session, me, org_id)
    basis, _error = basis_of(as_of, entitlements)
    c = positions.computed(ws, get_estate(session, org_id, estate_id), basis, org)
    return render(
        request,
        "_evidence.html",
        me,
        session,
        org=org,
        estate_id=estate_id,
        query=basis.query(),
        line=positions.evidence_page(c.position, index, min(max(page, 1), 10_000_000)),
    )
