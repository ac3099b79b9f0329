"""The event loop of a server process is never stopped by the database (web/context.py,
``optional_actor`` and ``db_session``; web/pages.py): a page that reads a form awaits it holding
no transaction and no write lock, and does its database work in the thread pool.

Each test drives an app of its own on one event loop, in this thread, through httpx's ASGI
transport — as one uvicorn worker serves its requests. Which thread runs each statement, commit,
rollback and connection checkout is recorded: none may be this one, the loop's. No sleep or
clock decides anything: a held upload is held by an event, and let go by the test."""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import pkgutil
import secrets
import sqlite3
import textwrap
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

import entitle.web
from entitle.ledger import db
from entitle.web import create_app

from .conftest import ADMIN, PASSWORD, ROOMY, World

TINY = b"host,processors,cores_per_processor\nhv1,1,8\n"
HTML = {"accept": "text/html"}


def loop_app(db_url: str, data: Path) -> FastAPI:
    """Another app (a server process of its own) on the module's database; its jobs run in its
    threads (no worker processes)."""
    return create_app(db_url, data, secret_key="test-secret", limits=ROOMY, job_memory=None)


def on_the_loop(engine: Engine, loop_thread: int, seen: list[str]) -> None:
    """Note in ``seen`` what the engine does on the loop's thread from now on: statements,
    commits, rollbacks, connections lent and given back."""

    def note(what: str) -> Callable[..., None]:
        def heard(*args: Any) -> None:
            if threading.get_ident() == loop_thread:
                seen.append(args[2] if what == "execute" else what)

        return heard

    event.listen(engine, "before_cursor_execute", note("execute"))
    for what in ("commit", "rollback", "checkout", "checkin"):
        event.listen(engine, what, note(what))


async def served(app: FastAPI, scenario: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
    """``scenario`` with a client of ``app``, inside the app's lifespan (its job threads are
    waited for at the end)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await scenario(client)


def no_transaction_open(db_url: str) -> None:
    """Nothing of this database is in a transaction: on SQLite another connection takes the
    write lock at once (no busy wait); on PostgreSQL no session is idle in a transaction."""
    path = db.sqlite_path(db_url)
    if path is not None:
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as other:
            other.execute("PRAGMA busy_timeout=0")
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if a writer holds it
            other.execute("ROLLBACK")
        return
    assert ADMIN is not None
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND state LIKE 'idle in transaction%%'",
            (make_url(db_url).database,),
        ).fetchone()
    assert row is not None and row[0] == 0, f"{row[0] if row else '?'} sessions in a transaction"


def multipart(boundary: str, name: str, filename: str, data: bytes) -> tuple[bytes, bytes]:
    """A form with an estate's name and one file, in two pieces, cut inside the file."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"'
        "\r\nContent-Type: text/csv\r\n\r\n"
    ).encode() + data[:10]
    return head, data[10:] + f"\r\n--{boundary}--\r\n".encode()


def test_a_slow_upload_holds_no_transaction_and_stops_no_other_request(
    world: World, db_url: str, data_dir: Path
) -> None:
    """While an upload's body is still arriving, nothing of the database is in a transaction
    (before, the caller was read under SQLite's write lock, kept until the body had come), and
    a sign-in and a purchase on the same event loop complete (before, a sign-in's write waited
    on the loop's thread for that lock: the whole worker stopped, up to the 60 s busy timeout)."""
    app = loop_app(db_url, data_dir)
    m = world.admin
    boundary = "entitle" + secrets.token_hex(8)
    head, tail = multipart(boundary, "slow", "hosts.csv", TINY)
    reading, let_go = asyncio.Event(), asyncio.Event()
    loop_did: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        yield head
        reading.set()  # the route asked for more of the body: it is reading the form
        await let_go.wait()
        yield tail

    async def scenario(client: httpx.AsyncClient) -> None:
        on_the_loop(app.state.workspace.engine, threading.get_ident(), loop_did)
        kind = {"content-type": f"multipart/form-data; boundary={boundary}"}
        upload = asyncio.ensure_future(
            client.post(f"/orgs/{m.org_id}/estates", content=body(), headers={**m.auth, **kind})
        )
        try:
            await reading.wait()
            no_transaction_open(db_url)
            signed_in = await client.post(
                "/login", data={"email": world.editor.email, "password": PASSWORD}
            )
            assert signed_in.status_code == 303 and "entitle_session" in signed_in.cookies
            tag = "LOOP" + secrets.token_hex(2)
            purchase = {"id": tag, "product": "windows-server", "license": "user-cal"}
            bought = await client.post(
                f"/orgs/{m.org_id}/ledger", data={**purchase, "quantity": "2"}, headers=m.auth
            )
            assert bought.status_code == 200 and f"recorded {tag}" in bought.text, bought.text
            assert not upload.done()  # all that while the upload's body was held
            no_transaction_open(db_url)
        finally:
            let_go.set()
            uploaded = await upload
        assert uploaded.status_code == 303, uploaded.text
        assert "/jobs/" in uploaded.headers["location"]

    asyncio.run(served(app, scenario))
    assert loop_did == []


def test_no_page_touches_the_database_on_the_event_loop(
    world: World, db_url: str, data_dir: Path
) -> None:
    """Every form page (and a page, and an error page, which reads who is signed in) answers
    as before, and the engine did nothing on the loop's thread."""
    app = loop_app(db_url, data_dir)
    m, org = world.admin, world.admin.org_id
    tag = "EV" + secrets.token_hex(2)
    answers: dict[str, int] = {}
    loop_did: list[str] = []
    made_id: Any = None  # the API token the page revokes
    viewer = 0  # the member the page asks about removing

    async def scenario(client: httpx.AsyncClient) -> None:
        nonlocal made_id, viewer
        on_the_loop(app.state.workspace.engine, threading.get_ident(), loop_did)

        async def post(path: str, form: dict[str, str], auth: bool = True, **kw: Any) -> str:
            headers = {**HTML, **(m.auth if auth else {})}
            r = await client.post(path, data=form, headers=headers, **kw)
            answers[path.replace(f"/tokens/{made_id}/", "/tokens/ID/")] = r.status_code
            client.cookies.clear()
            return r.text

        viewer = next(
            x["user_id"]
            for x in (await client.get(f"/api/orgs/{org}/members", headers=m.auth)).json()[
                "members"
            ]
            if x["email"] == world.viewer.email
        )
        new = {"email": f"new-{tag}@loop.example", "name": "New", "password": PASSWORD}
        await post("/signup", {**new, "organisation": "Loop"}, auth=False)
        await post("/login", {"email": world.viewer.email, "password": PASSWORD}, auth=False)
        purchase = {"id": tag, "product": "windows-server", "license": "user-cal", "quantity": "3"}
        assert f"recorded {tag}" in await post(f"/orgs/{org}/ledger", purchase)
        to_ann = {"ref": tag, "to_kind": "user", "to_name": "ann", "on": "2024-11-01"}
        assert 'id="move-done"' in await post(f"/orgs/{org}/ledger/assign", to_ann)
        to_bob = {"ref": tag, "from_kind": "user", "from_name": "ann", "to_kind": "user"}
        to_bob |= {"to_name": "bob", "on": "2025-03-01"}
        assert 'id="move-done"' in await post(f"/orgs/{org}/ledger/reassign", to_bob)
        await post(f"/orgs/{org}/ledger/retire", {"ref": tag, "quantity": "1", "reason": "sold"})
        await post(f"/orgs/{org}/ledger/annotate", {"ref": tag, "note": "seen on the loop test"})
        rows = f"id,product,license,quantity\n{tag}-F,windows-server,user-cal,4\n".encode()
        imported = await post(f"/orgs/{org}/ledger/import", {}, files={"file": ("l.csv", rows)})
        assert "added 1 entitlements" in imported
        await post(f"/orgs/{org}/estates", {"name": "loop"}, files={"files": ("hosts.csv", TINY)})
        await post(
            f"/orgs/{org}/imports", {"kind": "no-such-kind"}, files={"files": ("x.csv", TINY)}
        )
        await post(f"/orgs/{org}/estates/{world.estate_id}/decide", {"years": "many"})
        await post("/decide", {"users": "0"})
        await post(f"/orgs/{org}/members", {"email": f"nobody-{tag}@loop.example"})
        await post(f"/orgs/{org}/invitations", {"email": f"asked-{tag}@loop.example"})
        await post(f"/orgs/{org}/members/{viewer}/remove", {})  # not confirmed: the question
        await post("/account/tokens", {"name": tag + "-page"})
        made = await client.post("/api/tokens", json={"name": tag}, headers=m.auth)
        made_id = made.json()["id"]
        await post(f"/account/tokens/{made_id}/revoke", {})
        wrong = {"current_password": "not it", "new_password": "x" * 16, "again": "x" * 16}
        await post("/account/password", wrong)
        await post("/password/forgot", {"email": world.viewer.email}, auth=False)
        await post("/reset/no-such-token", {"password": "y" * 16, "again": "y" * 16}, auth=False)
        await post("/invite/no-such-token", {"name": "N", "password": PASSWORD}, auth=False)
        await post("/logout", {})
        for path in ("/", f"/orgs/{org}/ledger", "/orgs/2147483000/ledger"):
            answers[path] = (await client.get(path, headers={**HTML, **m.auth})).status_code

    asyncio.run(served(app, scenario))
    assert answers == {
        "/signup": 303,
        "/login": 303,
        f"/orgs/{org}/ledger": 200,
        f"/orgs/{org}/ledger/assign": 200,
        f"/orgs/{org}/ledger/reassign": 200,
        f"/orgs/{org}/ledger/retire": 200,
        f"/orgs/{org}/ledger/annotate": 200,
        f"/orgs/{org}/ledger/import": 200,
        f"/orgs/{org}/estates": 303,
        f"/orgs/{org}/imports": 200,  # the estates page, saying what is wrong
        f"/orgs/{org}/estates/{world.estate_id}/decide": 200,
        "/decide": 200,
        f"/orgs/{org}/members": 200,
        f"/orgs/{org}/invitations": 200,
        f"/orgs/{org}/members/{viewer}/remove": 200,
        "/account/tokens": 200,
        "/account/tokens/ID/revoke": 303,
        "/account/password": 200,
        "/password/forgot": 503,
        "/reset/no-such-token": 200,
        "/invite/no-such-token": 404,
        "/logout": 303,
        "/": 200,
        "/orgs/2147483000/ledger": 404,
    }
    assert loop_did == []


def test_no_transaction_is_open_while_an_answer_is_sent(
    world: World, db_url: str, data_dir: Path
) -> None:
    """The request's session is closed when the route has made its answer, before the answer
    is sent: a slow client holds no transaction. (Before, it was closed after the answer had
    gone out; a page drawn after a commit, as a new token's, had begun another transaction with
    SQLite's write lock, held while the page was sent.)"""
    app = loop_app(db_url, data_dir)
    m, org = world.admin, world.admin.org_id
    asked = [
        ("POST", "/account/tokens", b"name=sent-" + secrets.token_hex(2).encode()),
        ("GET", f"/orgs/{org}/ledger", b""),
    ]
    found: list[tuple[str, int, str]] = []

    async def ask(method: str, path: str, body: bytes) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                try:
                    no_transaction_open(db_url)
                    free = "free"
                except (AssertionError, sqlite3.OperationalError) as exc:
                    free = str(exc)
                found.append((path, message["status"], free))

        headers = [(k.lower().encode(), v.encode()) for k, v in m.auth.items()]
        headers += [(b"content-type", b"application/x-www-form-urlencoded"), (b"host", b"t")]
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("t", 80),
            "scheme": "http",
            "http_version": "1.1",
            "root_path": "",
        }
        await app(scope, receive, send)

    async def all_of_them() -> None:
        async with app.router.lifespan_context(app):
            for method, path, body in asked:
                await ask(method, path, body)

    asyncio.run(all_of_them())
    assert found == [(path, 200, "free") for _method, path, _body in asked]


# -- the same, read in the code ------------------------------------------------------------


def _async_routes() -> list[Callable[..., Any]]:
    """The ``async`` route functions of every router in ``entitle.web``."""
    found = []
    for module in pkgutil.walk_packages(entitle.web.__path__, "entitle.web."):
        router = getattr(importlib.import_module(module.name), "router", None)
        if isinstance(router, APIRouter):
            found += [
                r.endpoint
                for r in router.routes
                if isinstance(r, APIRoute) and inspect.iscoroutinefunction(r.endpoint)
            ]
    return found


def test_async_routes_hand_the_session_to_the_thread_pool() -> None:
    """An ``async`` route may await its form; its database session (a parameter annotated
    ``DB``) it may only pass to ``run_in_threadpool``, never use itself. (What is done with
    ``ws.engine`` the tests above see happen.)"""
    routes = _async_routes()
    assert len(routes) >= 20  # the form pages: the check reads something
    wrong = []
    for endpoint in routes:
        tree = ast.parse(textwrap.dedent(inspect.getsource(endpoint)))
        function = tree.body[0]
        assert isinstance(function, ast.AsyncFunctionDef)
        sessions = {
            a.arg
            for a in function.args.args
            if isinstance(a.annotation, ast.Name) and a.annotation.id == "DB"
        }
        handed = {
            id(arg)
            for call in ast.walk(function)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "run_in_threadpool"
            for arg in call.args
        }
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and node.id in sessions and id(node) not in handed:
                wrong.append(f"{endpoint.__module__}.{endpoint.__name__} line {node.lineno}")
    assert wrong == []
