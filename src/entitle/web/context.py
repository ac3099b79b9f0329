"""What every request needs: the settings, the database engine, the session signer, the
background pool and the catalog, kept on ``app.state`` (no module globals), and the FastAPI
dependencies that hand them to routes."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Annotated, Any, TypeVar

from anyio import CancelScope, CapacityLimiter
from anyio.to_thread import run_sync
from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from entitle.catalog import Catalog
from entitle.ledger.db import writer
from entitle.web.auth import SAFE_METHODS, SESSION_HOURS, Actor, Sessions, check_csrf, identify
from entitle.web.ceiling import DEFAULT_BYTES, Ceiling
from entitle.web.errors import ApiError
from entitle.web.mail import Mailer
from entitle.web.security import GUARD, Limiter, Limits, SignInGuard

log = logging.getLogger("entitle.web")


@dataclass(frozen=True, slots=True)
class Settings:
    """How the server runs: the database URL, where uploaded estates go, the cookie secret,
    how long a session lasts and how many sign-in attempts are allowed."""

    db_url: str
    data_dir: Path
    secret_key: str | None = None
    secure_cookies: bool = False
    workers: int = 2
    max_upload_bytes: int = 50 * 1024 * 1024
    session_hours: float = SESSION_HOURS
    job_memory: int = DEFAULT_BYTES  # the memory ceiling of one background job (bytes)
    limits: Limits = field(default_factory=Limits)
    public_url: str | None = None  # the server's address in e-mailed links (else the request's)


def load_secret(settings: Settings) -> str:
    """The cookie-signing secret: given, or kept in ``DATA/secret.key`` (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret.key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secret)
    return secret


@dataclass
class Workspace:
    settings: Settings
    engine: Engine
    sessions: Sessions
    pool: ThreadPoolExecutor
    catalog: Catalog
    limiter: Limiter
    cache: OrderedDict[int, Any] = field(default_factory=OrderedDict)
    cache_lock: Lock = field(default_factory=Lock)
    cache_size: int = 8
    ceiling: Ceiling | None = None  # worker processes for the jobs, under a memory ceiling
    mailer: Mailer | None = None  # the SMTP server of ENTITLE_SMTP_URL (None: no e-mail)

    def remember(self, key: int, value: Any) -> None:
        with self.cache_lock:
            self.cache[key] = value
            self.cache.move_to_end(key)
            while len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)

    def recall(self, key: int) -> Any:
        with self.cache_lock:
            return self.cache.get(key)

    def forget(self, key: int) -> None:
        with self.cache_lock:
            self.cache.pop(key, None)


async def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


async def db_session(
    request: Request, ws: Annotated[Workspace, Depends(workspace)]
) -> AsyncIterator[Session]:
    """A session per request (:func:`request_session`). Made here, on the event loop (making it
    does no I/O: async spares the request a thread hop), and closed in a thread of its own —
    closing rolls back what was not committed and gives the connection back, a round trip on
    PostgreSQL, which must not stop the event loop. The close does not wait for the request
    thread pool's capacity (FastAPI closes its own sync dependencies the same way): on SQLite a
    write transaction left open holds the worker's turn to write, and the threads waiting for
    that turn could otherwise fill the pool and leave the close no thread to run in.

    It is closed as soon as the route has made its answer, before the answer is sent (the
    dependency's ``scope="function"``; every answer is made whole by then, none streams from the
    database): a slow client holds no transaction. A page drawn after a commit reads in a new
    transaction, which on SQLite an unsafe request begins with the write lock. A sync route's
    session is closed earlier still, in the route's own thread (:class:`SessionRoute`); a
    session in no transaction then (or never used) is closed here, which does no I/O, without
    a hop to a thread."""
    session = _session(ws, request)
    mark = REQUEST_SESSION.set(session)  # for SessionRoute, in the route's thread
    try:
        yield session
    finally:
        with suppress(ValueError):  # a close in another context (a generator collected)
            REQUEST_SESSION.reset(mark)
        if not session.in_transaction():  # closed by SessionRoute, or never used: no I/O
            close_quietly(session)
        else:
            with CancelScope(shield=True):
                await run_sync(close_quietly, session, limiter=CapacityLimiter(1))


def close_quietly(session: Session) -> None:
    """Close a request's session when its route is done. A close that fails (the rollback of a
    connection lost after the route's commit) is logged, not raised: the route's answer stands
    (a write it committed is not answered with a 500), and so does its error (a 403 does not
    become a 500)."""
    try:
        session.close()
    except Exception:
        log.exception("closing a request's database session failed (the answer stands)")


REQUEST_SESSION: ContextVar[Session | None] = ContextVar("entitle_request_session", default=None)
"""The request's session (:func:`db_session`), seen by the threads its request runs in (the
thread pool runs each function in a copy of the request's context)."""
ENDS_SESSION = "entitle_ends_session"


class SessionRoute(APIRoute):
    """Every route of the app: a sync route's request session is closed in the route's own
    thread when it has returned (or raised) — what :func:`db_session`'s teardown would do later
    (the close rolls back what was not committed), done before the route's answer leaves the
    thread. FastAPI checks a sync route's answer in another thread of the pool, then closes
    the session: a route that returned holding a transaction (a read after its commit begins
    another, on SQLite with the write lock and the file's writer turn) needed a free thread
    to give it up, while the threads could all be waiting for that turn (or for a pool
    connection): nothing moved until their waits ran out (60 s, then "database is locked").

    Async routes do their database work in the thread pool themselves and are not changed; their
    session is closed by the teardown, which needs no thread of the pool's."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, ends_session(endpoint), **kwargs)


def ends_session(endpoint: F) -> F:
    """``endpoint``, closing the request's session when it has returned, if it is a plain sync
    function (a coroutine or generator function is given back as it is)."""
    if (
        inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
        or getattr(endpoint, ENDS_SESSION, False)
    ):
        return endpoint

    @functools.wraps(endpoint)
    def ended(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            session = REQUEST_SESSION.get()
            if session is not None:
                close_quietly(session)

    setattr(ended, ENDS_SESSION, True)
    return ended  # type: ignore[return-value]


HANDS_OVER = "entitle_writes_in_own_transaction"
F = TypeVar("F", bound=Callable[..., Any])


def writes_in_own_transaction(endpoint: F) -> F:
    """Mark a route whose request session only reads (the caller, the membership) and is
    closed before the ledger writes in a transaction of its own: on SQLite that session begins
    with a plain ``BEGIN``, not ``BEGIN IMMEDIATE``. The write lock it took before was held
    while the caller was checked — across a hop from the dependency's thread to the route's —
    only to be given up unused, and every other writer polled for it meanwhile (SQLite's busy
    handler sleeps 1, 2, 5, … 100 ms between tries): under load most of a purchase's time."""
    setattr(endpoint, HANDS_OVER, True)
    return endpoint


@contextmanager
def request_session(ws: Workspace, request: Request) -> Iterator[Session]:
    """The request's database session, for a route that makes its own (closed at the end)."""
    with _session(ws, request) as session:
        yield session


def _session(ws: Workspace, request: Request) -> Session:
    """A request's session. On SQLite an unsafe request's transactions take the write lock when
    they begin (``BEGIN IMMEDIATE``), so a read that turns into a write never fails against a
    background job's write; routes that hand over to the ledger's own transactions close it
    first, and read in it with a plain ``BEGIN``. (The caller is identified in a transaction of
    its own, ended before the route runs: :func:`optional_actor`.)"""
    reads_only = request.method in SAFE_METHODS or getattr(
        request.scope.get("endpoint"), HANDS_OVER, False
    )
    engine = ws.engine if reads_only else writer(ws.engine)
    guard = SignInGuard(ws.limiter, client_address(request))
    return Session(engine, expire_on_commit=False, info={GUARD: guard})


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with
    ``--proxy-headers`` so that this is the forwarded address)."""
    return request.client.host if request.client else "unknown"


READ_ONLY = {"ledger_write": False}
"""A transaction's execution options for a read on SQLite: a plain ``BEGIN`` (no write lock),
even in an unsafe request's session (``ledger/db.py``, ``writer``)."""


def optional_actor(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Actor | None:
    """The caller, or ``None``. (A sync dependency: FastAPI runs it in the thread pool.)

    An unsafe request is identified in a read-only transaction of its own — a plain ``BEGIN``
    on SQLite, not the write lock — ended here, before the route runs: a page route then awaits
    its form (a multipart upload may take long to arrive) holding no transaction and no write
    lock, and its own work begins the session's next transaction (``BEGIN IMMEDIATE`` on
    SQLite). Before, the write lock taken to read the caller was held while the body arrived,
    and every other writer of the file waited for it (up to the 60 s busy timeout). A safe
    request (GET) reads on in the same transaction: it has no body to wait for."""
    if request.method in SAFE_METHODS:
        return identify(request, session, ws.sessions)
    if session.in_transaction():  # it would read the caller under the write lock
        raise RuntimeError("an unsafe request's session began a transaction before its caller")
    session.connection(execution_options=READ_ONLY)  # begins the read: a plain BEGIN
    try:
        return identify(request, session, ws.sessions)
    finally:
        session.rollback()  # it only read; the connection goes back to the pool


async def api_actor(
    request: Request, actor: Annotated[Actor | None, Depends(optional_actor)]
) -> Actor:
    """The API's caller; 401 without credentials, 403 on a cookie request without CSRF."""
    return api_caller(request, actor)


def api_caller(request: Request, actor: Actor | None) -> Actor:
    """:func:`api_actor`'s checks, for a route that identifies its caller itself."""
    if actor is None:
        raise ApiError(401, "unauthenticated", "sign in, or send Authorization: Bearer TOKEN")
    check_csrf(request, actor)
    return actor


WS = Annotated[Workspace, Depends(workspace)]
DB = Annotated[Session, Depends(db_session, scope="function")]
ApiActor = Annotated[Actor, Depends(api_actor)]
MaybeActor = Annotated[Actor | None, Depends(optional_actor)]

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
"""A row id in a path: positive and within a 32-bit INTEGER (both engines)."""
