"""A request holds no transaction and no connection across a hop to another thread of the pool
(web/context.py: ``SessionRoute``, ``InFlight``): FastAPI runs a sync route in one thread of the
pool and, after it, checks its answer in another. A route that returned still holding SQLite's
writer turn (it read after its commit) waited for a thread while the threads waited for that
turn; requests holding pool connections waited for a thread while the threads waited for a
connection. Nothing moved until the waits timed out ("database is locked", SQLAlchemy's
TimeoutError).

Each test drives an app of its own on one event loop (test_event_loop.py), with the waits that
would end a deadlock cut short; no clock decides anything."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil
import secrets
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import fastapi.routing as routing
import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import entitle.web
import entitle.web.app as app_module
from entitle.ledger import db
from entitle.web import accounts, context
from entitle.web.context import ENDS_SESSION, SessionRoute
from entitle.web.inflight import request_slots

from .conftest import PASSWORD, World
from .test_event_loop import TINY, loop_app, multipart, no_transaction_open, served


class CountedQueue:
    """A file's writer turn (``db._QUEUES``) that counts the threads waiting for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = 0
        self.count = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        with self.count:
            self.waiting += 1
        try:
            return self.lock.acquire(blocking, timeout)
        finally:
            with self.count:
                self.waiting -= 1

    def release(self) -> None:
        self.lock.release()

    def locked(self) -> bool:
        return self.lock.locked()


def test_a_route_that_read_after_its_commit_frees_the_turn_before_its_answer_is_checked(
    world: World, db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads in the pool. A sign-up commits, then reads the caller's organisations (a
    new transaction: on SQLite it begins with the write lock, and the writer turn). It is held
    after it returned, until both threads are taken by purchases waiting for the turn — or
    until the purchases are done. Then its answer needs a thread to be checked in: before, the
    sign-up still held the turn, the purchases waited for it until their wait ran out (2 s
    here, 60 in service) and failed with "database is locked"; now the sign-up's transaction
    ended in its own thread, and every request succeeds."""
    path = db.sqlite_path(db_url)
    if path is None:
        pytest.skip("the writer turn is SQLite's (PostgreSQL has row locks, no turn)")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 2000)  # the wait for the turn: 2 s, not 60
    queue = CountedQueue()
    monkeypatch.setitem(db._QUEUES, str(path), queue)  # this app's engine takes it
    app = loop_app(db_url, data_dir)
    m = world.admin
    real = routing.run_endpoint_function
    returned, go = asyncio.Event(), asyncio.Event()

    async def hold_the_signup(*, dependant: Any, values: Any, is_coroutine: bool) -> Any:
        result = await real(dependant=dependant, values=values, is_coroutine=is_coroutine)
        if getattr(dependant.call, "__name__", "") == "signup":
            returned.set()
            await go.wait()
        return result

    monkeypatch.setattr(routing, "run_endpoint_function", hold_the_signup)
    out: dict[str, Any] = {}

    async def scenario(client: httpx.AsyncClient) -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        tag = secrets.token_hex(3)
        new = {"email": f"s-{tag}@hops.example", "name": "S", "password": PASSWORD}
        signup = asyncio.ensure_future(
            client.post("/api/signup", json={**new, "organisation": "S" + tag})
        )
        await returned.wait()
        buys = [
            asyncio.ensure_future(
                client.post(
                    f"/api/orgs/{m.org_id}/ledger/entitlements",
                    json={
                        "id": f"H{tag}{i}",
                        "product": "windows-server",
                        "license": "user-cal",
                        "quantity": 1,
                    },
                    headers=m.auth,
                )
            )
            for i in range(2)
        ]
        while queue.waiting < 2 and not all(b.done() for b in buys):
            await asyncio.sleep(0.01)
        out["deadlocked"] = queue.waiting == 2
        go.set()
        out["signup"] = (await signup).status_code
        out["buys"] = [(b.status_code, b.text[:120]) for b in await asyncio.gather(*buys)]

    asyncio.run(served(app, scenario))
    assert out == {"deadlocked": False, "signup": 201, "buys": [(201, ANY), (201, ANY)]}, out


class _Any:
    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


def test_no_sync_route_returns_with_a_transaction_open(
    world: World, db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a sync route has returned (its answer not yet checked), nothing of the database is
    in a transaction: not after a sign-up or a member's change, which read after their commit,
    nor after an answer for an unknown address, which never committed. (Checked on SQLite by
    taking the write lock from another connection; on PostgreSQL no session is idle in a
    transaction — a GET's read too.)"""
    app = loop_app(db_url, data_dir)
    m, org = world.admin, world.admin.org_id
    real = routing.run_endpoint_function
    found: dict[str, str] = {}

    async def look(*, dependant: Any, values: Any, is_coroutine: bool) -> Any:
        result = await real(dependant=dependant, values=values, is_coroutine=is_coroutine)
        try:
            no_transaction_open(db_url)
            found[dependant.call.__name__] = "free"
        except Exception as exc:
            found[dependant.call.__name__] = str(exc)
        return result

    monkeypatch.setattr(routing, "run_endpoint_function", look)
    tag = secrets.token_hex(3)

    async def scenario(client: httpx.AsyncClient) -> None:
        new = {"email": f"n-{tag}@hops.example", "name": "N", "password": PASSWORD}
        made = await client.post("/api/signup", json={**new, "organisation": "N" + tag})
        assert made.status_code == 201, made.text
        client.cookies.clear()
        member = {"email": new["email"], "role": "viewer"}
        put = await client.post(f"/api/orgs/{org}/members", json=member, headers=m.auth)
        assert put.status_code == 201, put.text
        listed = await client.get(f"/api/orgs/{org}/estates", headers=m.auth)
        assert listed.status_code == 200, listed.text

    asyncio.run(served(app, scenario))
    assert found == {"signup": "free", "put_member": "free", "list_estates": "free"}


def test_every_route_ends_its_session_in_its_own_thread(app: FastAPI) -> None:
    """Every route of the app — of every router in ``entitle.web`` and of the app itself — is a
    ``SessionRoute`` (one mechanism, not a fix per route), and every sync one is wrapped."""
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    for module in pkgutil.walk_packages(entitle.web.__path__, "entitle.web."):
        router = getattr(importlib.import_module(module.name), "router", None)
        if isinstance(router, APIRouter):
            routes += [r for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 50  # the check reads something
    assert [r.path for r in routes if not isinstance(r, SessionRoute)] == []
    sync = [r for r in routes if not inspect.iscoroutinefunction(r.endpoint)]
    assert len(sync) > 20
    assert [r.path for r in sync if not getattr(r.endpoint, ENDS_SESSION, False)] == []


def test_many_reads_at_once_wait_for_no_connection(
    world: World, db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """120 GETs at once on one worker (three times its 40 threads, six times the 20 connections
    its pool lends). Before, the threads were all taken by requests' first steps waiting for a
    connection, while the requests holding the connections waited for a thread for their next
    step, until the waits for a connection ran out (30 s in service, 1 s here): 80 of the 120
    failed. Now at most 8 are at work at once, (20 - 2 x 2 job threads) / 2 connections each,
    and no request waits for a connection: the shortest wait cannot run out."""
    real = db.create_engine
    monkeypatch.setattr(db, "create_engine", lambda *a, **k: real(*a, pool_timeout=1, **k))
    app = loop_app(db_url, data_dir)
    m = world.admin
    codes: dict[str, int] = {}
    threads: list[int] = []

    async def scenario(client: httpx.AsyncClient) -> None:
        threads.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
        got = await asyncio.gather(
            *[client.get(f"/api/orgs/{m.org_id}/estates", headers=m.auth) for _ in range(120)],
            return_exceptions=True,
        )
        for answer in got:
            key = str(getattr(answer, "status_code", type(answer).__name__))
            codes[key] = codes.get(key, 0) + 1

    asyncio.run(served(app, scenario))
    assert codes == {"200": 120}
    assert request_slots(app.state.workspace.engine, 2) == 8 < threads[0] == 40


class LostOnClose(Session):
    """A request's session whose close fails after it has closed, as a rollback on a
    connection lost after the route's commit does."""

    def close(self) -> None:
        super().close()
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))


def test_a_close_that_fails_is_logged_and_the_answer_stands(
    world: World,
    db_url: str,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sign-up that committed is answered 201, not 500; a refused change stays 403 (before,
    the close's error was raised over the answer: 500 for both)."""
    made = context._session

    def lost(ws: Any, request: Any) -> Session:
        session = made(ws, request)
        session.__class__ = LostOnClose
        return session

    monkeypatch.setattr(context, "_session", lost)
    app = loop_app(db_url, data_dir)
    tag = secrets.token_hex(3)
    new = {"email": f"lost-{tag}@hops.example", "name": "L", "password": PASSWORD}
    answers: list[int] = []

    async def scenario(client: httpx.AsyncClient) -> None:
        made = await client.post("/api/signup", json={**new, "organisation": "L" + tag})
        answers.append(made.status_code)
        client.cookies.clear()
        v = world.viewer
        member = {"email": new["email"], "role": "viewer"}
        refused = await client.post(f"/api/orgs/{v.org_id}/members", json=member, headers=v.auth)
        answers.append(refused.status_code)

    with caplog.at_level(logging.ERROR, logger="entitle.web"):
        asyncio.run(served(app, scenario))
    assert answers == [201, 403]
    failed = [r for r in caplog.records if "database session failed" in r.getMessage()]
    assert len(failed) >= 2


def test_an_unknown_address_is_checked_outside_any_transaction(
    world: World, db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sign-in for an address no account has still checks a password (as long as a real
    check, so that timing tells nothing), with no transaction open: before, the check ran
    inside the sign-in's read, which on SQLite holds the write lock (BEGIN IMMEDIATE)."""
    seen: list[str] = []
    real = accounts.waste_a_check

    def look(password: str) -> None:
        try:
            no_transaction_open(db_url)
            seen.append("free")
        except Exception as exc:
            seen.append(str(exc))
        real(password)

    monkeypatch.setattr(accounts, "waste_a_check", look)
    app = loop_app(db_url, data_dir)
    answers: list[int] = []

    async def scenario(client: httpx.AsyncClient) -> None:
        nobody = {"email": f"nobody-{secrets.token_hex(3)}@hops.example", "password": PASSWORD}
        answers.append((await client.post("/api/login", json=nobody)).status_code)

    asyncio.run(served(app, scenario))
    assert (answers, seen) == ([401], ["free"])


def test_an_unsafe_request_is_never_identified_inside_a_transaction(
    app: FastAPI, db_url: str
) -> None:
    """The caller of a POST is read in a read-only transaction of its own; a session already
    in a transaction (on SQLite, one holding the write lock) is refused, not read in."""
    ws = app.state.workspace
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    request = Request(scope)
    with Session(ws.engine) as session:
        session.connection()  # a transaction begun
        with pytest.raises(RuntimeError, match="before its caller"):
            context.optional_actor(request, ws, session)


def test_a_request_whose_body_is_arriving_holds_no_slot(
    world: World, db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one slot, an upload whose body is held half-sent does not keep a GET on the same
    loop from being answered: a request gives its slot back while it awaits its body (it holds
    no transaction then), so slow clients cannot take every slot."""
    monkeypatch.setattr(app_module, "request_slots", lambda _engine, _jobs: 1)
    app = loop_app(db_url, data_dir)
    m = world.admin
    boundary = "entitle" + secrets.token_hex(8)
    head, tail = multipart(boundary, "slow", "hosts.csv", TINY)
    reading, let_go = asyncio.Event(), asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield head
        reading.set()
        await let_go.wait()
        yield tail

    out: dict[str, Any] = {}

    async def scenario(client: httpx.AsyncClient) -> None:
        kind = {"content-type": f"multipart/form-data; boundary={boundary}"}
        upload = asyncio.ensure_future(
            client.post(f"/orgs/{m.org_id}/estates", content=body(), headers={**m.auth, **kind})
        )
        try:
            await reading.wait()
            read = client.get(f"/api/orgs/{m.org_id}/estates", headers=m.auth)
            out["read"] = (await asyncio.wait_for(read, 60)).status_code  # bound, not a clock
            out["upload held"] = not upload.done()
        finally:
            let_go.set()
            out["upload"] = (await upload).status_code

    asyncio.run(served(app, scenario))
    assert out == {"read": 200, "upload held": True, "upload": 303}
