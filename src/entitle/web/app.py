"""The application factory: one FastAPI app serving the JSON API under ``/api`` (OpenAPI at
``/openapi.json``, docs at ``/api/docs``, drawn by a script served here, no CDN), the pages and the vendored static files, every
response with the security headers of ``security.py``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from entitle.catalog import Catalog, default_catalog
from entitle.ledger import db, service
from entitle.web import (
    accounts,
    decisions,
    errors,
    pages,
    pages_account,
    pages_estate,
    pages_invites,
    pages_ledger,
    pages_moves,
    pages_plan,
    pages_tools,
)
from entitle.web.api import account, analysis, estates, imports, invites, ledger, members, tools
from entitle.web.auth import SESSION_HOURS, Sessions
from entitle.web.ceiling import DEFAULT_BYTES, Ceiling
from entitle.web.context import SessionRoute, Settings, Workspace, load_secret
from entitle.web.inflight import InFlight, request_slots
from entitle.web.limits import SharedLimiter
from entitle.web.mail import Mailer
from entitle.web.security import BodyLimit, Limits, SameOrigin, SecurityHeaders
from entitle.web.storedread import StoredReads
from entitle.web.textguard import NoNul

HERE = Path(__file__).resolve().parent


def create_app(
    db_url: str,
    data_dir: Path | None = None,
    *,
    secret_key: str | None = None,
    secure_cookies: bool = False,
    catalog: Catalog | None = None,
    workers: int = 2,
    session_hours: float = SESSION_HOURS,
    limits: Limits | None = None,
    max_upload_bytes: int = 50 * 1024 * 1024,
    job_memory: int | None = DEFAULT_BYTES,
    smtp_url: str | None = None,
    public_url: str | None = None,
) -> FastAPI:
    """The web app on the ledger database at ``db_url`` (created or migrated to the newest
    schema here); uploaded estates go under ``data_dir`` (default: ``entitle-data`` beside
    an SQLite database, else in the working folder). ``secure_cookies`` (behind TLS) also turns
    on HSTS; ``limits`` bound sign-in and sign-up attempts; a request body over
    ``max_upload_bytes`` (plus 64 KiB for the form around the files) is refused with 413. An
    import job reads and computes in a worker process whose memory may grow by at most
    ``job_memory`` bytes (``None``: in the job's thread, no ceiling). Invitations and password
    resets are e-mailed through ``smtp_url`` (default ``ENTITLE_SMTP_URL``; none: invitation
    links are shown to the admin, resets are unavailable), with links to ``public_url``
    (default ``ENTITLE_PUBLIC_URL``, else the address each request came to)."""
    url = db.resolve_url(db_url)
    if data_dir is None:
        path = db.sqlite_path(url)
        data_dir = (path.parent if path else Path.cwd()) / "entitle-data"
    settings = Settings(
        url,
        data_dir,
        secret_key,
        secure_cookies,
        workers,
        max_upload_bytes=max_upload_bytes,
        session_hours=session_hours,
        job_memory=job_memory or 0,
        limits=limits or Limits(),
        public_url=(public_url or os.environ.get("ENTITLE_PUBLIC_URL") or "").rstrip("/") or None,
    )
    try:
        mailer = Mailer.from_url(smtp_url or os.environ.get("ENTITLE_SMTP_URL"))
    except ValueError as exc:  # entitle serve says it in one line
        raise RuntimeError(str(exc)) from exc
    outcome = service.init(url, "entitle-serve", {"ENTITLE_KEY": "unused-by-the-web"})
    if not outcome.ok:
        raise RuntimeError(outcome.message)
    engine = db.open_engine(url)
    ws = Workspace(
        settings,
        engine,
        Sessions(load_secret(settings), engine, session_hours),
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="entitle-job"),
        catalog or default_catalog(),
        SharedLimiter(engine, settings.limits),
        ceiling=Ceiling(job_memory, workers, decisions.load_jobs) if job_memory else None,
        mailer=mailer,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # finish running imports; a fresh pool lets the same app be started again (tests)
        ws.pool.shutdown(wait=True, cancel_futures=True)
        if ws.ceiling is not None:
            ws.ceiling.shutdown()
        ws.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="entitle-job")

    app = FastAPI(
        title="entitle",
        version="1",
        description="Microsoft server licensing positions, plans and the entitlement ledger.",
        docs_url=None,  # our own page below: no CDN, the pages' CSP
        redoc_url=None,
        lifespan=lifespan,
    )
    app.router.route_class = SessionRoute  # the routes made on the app itself, below
    app.state.workspace = ws
    errors.install(app, accounts.who_is_there)
    for router in (
        account.router,
        invites.router,
        members.router,
        estates.router,
        ledger.router,
        tools.router,
        imports.router,
        analysis.router,
    ):
        app.include_router(router, prefix="/api")
    pages.install(app)
    for page in (pages_estate.router, pages_ledger.router, pages_moves.router, pages_plan.router):
        app.include_router(page)
    app.include_router(pages_account.router)
    app.include_router(pages_invites.router)
    app.include_router(pages.router)
    app.include_router(pages_tools.router)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> FileResponse:
        """The API reference, drawn from /openapi.json by a script of this server's own."""
        return FileResponse(HERE / "static" / "apidocs.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(StoredReads, ws=ws)  # innermost: the hot read, before the routing
    # no more requests at work than the pool has connections for (inflight.py)
    app.add_middleware(InFlight, slots=request_slots(engine, workers))
    app.add_middleware(NoNul)  # inside the body limit: it reads JSON and form bodies
    app.add_middleware(BodyLimit, max_bytes=max_upload_bytes + 65_536)
    app.add_middleware(SameOrigin)
    app.add_middleware(SecurityHeaders, hsts=secure_cookies)
    return app
