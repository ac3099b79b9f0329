"""Fixtures for the web tests: the app on a fresh SQLite database, and on PostgreSQL when
ENTITLE_TEST_POSTGRES names a server (a database per module, none left behind); users of
each role signed up over HTTP and the sample estate imported: the ``world``.

The world is built over HTTP once per run and engine (its sign-ups, and the
import whose proven-optimal position alone takes 1.2-2 s of a core; the pytest-xdist workers
share it, see ``prepared``), then each module
whose first test uses it starts from a copy of that database and data folder (SQLite's backup
of the file; on PostgreSQL one database a worker, copied once from the world's by ``CREATE
DATABASE ... TEMPLATE`` and put back into its rows and sequences for each module,
``tests/pgreuse.py``) instead of building its own, about 3 s of a core each. Every module still
has a database of its own while it runs, written as it likes; it holds exactly what building the
world in it would have. (A copy and a drop a module cost the server about 0.3 s of a core, and
each ``DROP DATABASE`` waits for a checkpoint of the whole server, ``pgreuse.drop``; putting a
database back, a few hundredths.) A module whose first test does not use the world starts from
an empty database and builds its world there when asked, as before."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from entitle.ledger import db
from entitle.web import auth, create_app
from entitle.web.limits import SharedLimiter
from entitle.web.security import Limits
from pgreuse import LATER, Reused
from tiers import SLOW

ADMIN = os.environ.get("ENTITLE_TEST_POSTGRES")

# Each app runs its jobs in two worker processes forked from multiprocessing's fork server
# (entitle.web.ceiling); each worker first loads what jobs use, 1-2 s of a core. Loaded once in
# the fork server instead, the workers of the many apps the tests make start at once. (Set
# before any test starts the fork server; the ceiling is still measured from each worker's
# size once loaded.)
multiprocessing.get_context("forkserver").set_forkserver_preload(
    ["entitle.web.decisions", "entitle.web.jobs"]
)
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-estate"
PASSWORD = "correct horse battery"


def _no_postgresql() -> None:
    pytest.skip(
        "PostgreSQL web tests need ENTITLE_TEST_POSTGRES, e.g. "
        "postgresql://postgres@127.0.0.1:5432/test (.ci/run sets it)"
    )


def _database(name: str, template: str | None = None) -> str:
    """A new PostgreSQL database (a copy of ``template``, when given); its URL."""
    assert ADMIN
    like = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{like}')
    return db.resolve_url(make_url(ADMIN).set(database=name).render_as_string(hide_password=False))


@dataclass
class Prepared:
    """A world built once in this process for an engine: its database (a file, or the
    PostgreSQL database to copy), its data folder, and who and what is in it."""

    database: str
    data: Path
    people: tuple[Member, Member, Member, Member]
    estate_id: int


# By engine, built on first use. Its people sign up with the least-cost hasher (QUICK) whoever asks:
# test_security.py, which keeps the real one, checks it on a sign-up of its own.
PREPARED: dict[str, Prepared] = {}
COPIES: dict[str, Prepared] = {}  # a module's database URL -> the world copied into it
# A PostgreSQL world's database -> this worker's database that holds it, put back for each module
REUSED: dict[str, Reused] = {}
# Empty module databases done with go to ``pgreuse.LATER``: dropped at once at the worker's end


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """``folder`` held by this process alone (the pytest-xdist workers share it)."""
    folder.mkdir(exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_prepared(root: Path, engine: str) -> Prepared:
    """Build the world of ``engine`` in ``root`` (its database there, or a new PostgreSQL one)."""
    if engine == "sqlite":
        database = str(root / "entitle.db")
        url = db.resolve_url(database)
    else:
        database = "entitle_world_" + secrets.token_hex(6)
        url = _database(database)
    app = create_app(url, root / "data", secret_key="test-secret", limits=ROOMY)
    with TestClient(app) as client:
        w = build_world(client)
    app.state.workspace.engine.dispose()  # a template database must have no session
    return Prepared(database, root / "data", (w.admin, w.editor, w.viewer, w.outsider), w.estate_id)


@pytest.fixture(scope="session")
def prepared(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[Callable[[str], Prepared]]:
    """The world of an engine, built over HTTP the first time a module of the run asks for it.

    Once a run, not once a worker: the pytest-xdist workers share a folder a world (their base
    temporary folders' parent), which the first to get there fills — database, data folder and
    ``world.json`` (who and what is in it) — while the others wait on its lock, then read. Each
    worker that uses a world signs its name in the folder's ``users`` and takes it out at its end;
    the last one out drops a PostgreSQL world's database (and a world asked for after that is
    built again)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    used: list[tuple[str, Path]] = []

    def of(engine: str) -> Prepared:
        if engine not in PREPARED:
            folder = shared / f"world-{engine}"
            record, users = folder / "world.json", folder / "users"
            with locked(folder):
                if record.exists():
                    PREPARED[engine] = from_json(json.loads(record.read_text()))
                else:
                    for old in folder.iterdir():  # what a build cut short left
                        if old.is_dir():
                            shutil.rmtree(old)
                        else:
                            old.unlink()
                    asked, auth.HASHER = auth.HASHER, QUICK
                    try:
                        PREPARED[engine] = build_prepared(folder, engine)
                    finally:
                        auth.HASHER = asked
                    record.write_text(json.dumps(as_json(PREPARED[engine])))
                with open(users, "a") as names:
                    names.write(worker_id + "\n")
            used.append((engine, folder))
        return PREPARED[engine]

    yield of
    LATER.extend(name for reused in REUSED.values() for name in reused.names)  # at the end
    REUSED.clear()
    for engine, folder in used:
        record, users = folder / "world.json", folder / "users"
        with locked(folder):
            names = users.read_text().split()
            names.remove(worker_id)
            users.write_text("".join(name + "\n" for name in names))
            if not names and record.exists():
                if engine == "postgresql":  # the last worker to leave: with its own, at its end
                    LATER.append(json.loads(record.read_text())["database"])
                record.unlink()
    PREPARED.clear()


def as_json(world: Prepared) -> dict[str, Any]:
    people = [{"email": m.email, "token": m.token, "org_id": m.org_id} for m in world.people]
    return {
        "database": world.database,
        "data": str(world.data),
        "people": people,
        "estate_id": world.estate_id,
    }


def from_json(data: dict[str, Any]) -> Prepared:
    a, e, v, o = (Member(**m) for m in data["people"])
    return Prepared(data["database"], Path(data["data"]), (a, e, v, o), data["estate_id"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    prepared: Callable[[str], Prepared],
) -> Iterator[str]:
    """The module's database: a copy of the prepared world's when the module's first test uses
    the world (``request.fixturenames`` are that test's), else an empty one."""
    engine = request.param
    if engine == "postgresql" and not ADMIN:
        _no_postgresql()
    world = prepared(engine) if "world" in request.fixturenames else None
    if engine == "sqlite":
        path = tmp_path_factory.mktemp("web") / "entitle.db"
        if world is not None:
            with (
                closing(sqlite3.connect(world.database)) as source,
                closing(sqlite3.connect(path)) as copy,
            ):
                source.backup(copy)
        url = db.resolve_url(str(path))
    elif world is not None:  # this worker's copy of the world, put back as it was built
        assert ADMIN
        if world.database not in REUSED:
            name = "entitle_web_" + secrets.token_hex(6)
            REUSED[world.database] = Reused(ADMIN, world.database, name=name)
        url = db.resolve_url(REUSED[world.database].fresh())
    else:
        name = "entitle_web_" + secrets.token_hex(6)
        url = _database(name)
    if world is not None:
        COPIES[url] = world
    yield url
    COPIES.pop(url, None)
    if engine == "postgresql" and world is None:
        LATER.append(name)  # dropped with the worker's others at its end (tests/conftest.py)


@pytest.fixture(scope="module")
def data_dir(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's app's data folder: a copy of the prepared world's, with its database."""
    data = tmp_path_factory.mktemp("data")
    if db_url in COPIES:
        shutil.copytree(COPIES[db_url].data, data, dirs_exist_ok=True)
    return data


# Tests whose PostgreSQL run is in the long tier only (make test-long, which CI runs): the
# browser tests (15-25 s each) and the modules about what the pages and uploads show, which
# drive the same code on either engine (no SQL of their own, nothing that differs by engine: the
# estates are files, the positions computed from them); their SQLite run stays in the fast tier.
# The engine's own behaviour — its SQL, types, locks, races, tenancy, sessions, limits, the
# ledger, NUL characters, the schema fuzz — is tested on both engines in the fast tier by
# every other module here and by tests/ledger.
LONG_ON_POSTGRESQL = (
    "test_e2e.py::",
    "test_e2e_flows.py::",
    "test_e2e_pages.py::",
    "test_ws_pages.py::",
    "test_ws_uploads.py::",
    "test_ws_imports.py::",
    "test_ws_decide.py::",
    "test_ws_decide_inputs.py::",
    "test_apidocs.py::",
    # Single tests whose subject does not depend on the engine, 1.5-6.6 s of a core each on
    # PostgreSQL: who each route refuses (decided in Python by the route's rule; tenancy's 404 on
    # PostgreSQL stays in the fast tier, test_another_organisations_rows_are_404_by_path_and_by_id),
    # the position rendered in every format, the security headers the middleware adds, and the
    # pages' templates rendering within their Content-Security-Policy.
    "test_authz.py::test_each_caller_is_refused_exactly_as_the_table_says",
    "test_api.py::test_the_sample_estate_gives_its_position_in_every_format",
    "test_security.py::test_every_response_has_the_security_headers",
    "test_security.py::test_the_pages_need_no_inline_script_or_unhashed_style",
    # A viewer's reads that compute the sample estate's position again (about 1.2 s of a core
    # each): who may read is decided in Python, the same on either engine, and the positions on
    # another basis are computed from PostgreSQL's rows by test_ws_positions.py in the fast tier.
    "test_api.py::test_a_viewer_reads[postgresql-/estates/{e}/position?",
    "test_api.py::test_a_viewer_reads[postgresql-/estates/{e}/lines/0]",
    "test_api.py::test_a_viewer_reads[postgresql-/estates/{e}/lines/0?",
)


# Tests in the long tier only, on either engine: two of the three browser modules (20-35 s of a
# core each, with Chromium's), and the second test of test_e2e.py (marked ``slow`` there). The
# fast tier keeps test_e2e.py's first, the newcomer's path in the browser (sign up, upload,
# position, chart, a line's evidence, the decision tool, a purchase and its audit, the ledger's
# pages, a phone's menu). What the server does for the other two (the
# invitation, reset and removal flows; the pages a licensing team works in) is tested over HTTP
# in the fast tier (test_ws_accounts.py, test_ws_pages.py); what only a browser shows (the
# pages' scripts, a phone's width, the API reference drawing itself) in the long tier, which CI
# runs after make test.
LONG_ONLY = ("test_e2e_flows.py::", "test_e2e_pages.py::")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(item, "callspec", None)
        on_postgresql = params is not None and params.params.get("db_url") == "postgresql"
        if any(f"web/{test}" in item.nodeid for test in LONG_ONLY) or (
            on_postgresql and any(f"web/{test}" in item.nodeid for test in LONG_ON_POSTGRESQL)
        ):
            item.add_marker(SLOW)


QUICK = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="module", autouse=True)
def quick_hashes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Passwords hashed at argon2id's least cost (8 KiB, 1 pass: a tenth of a millisecond, not
    50 ms): the tests sign up and sign in hundreds of users. test_security.py keeps the real
    parameters, and checks them."""
    if request.module.__name__.endswith("test_security"):
        yield
        return
    real = auth.HASHER
    auth.HASHER = QUICK
    yield
    auth.HASHER = real


# Attempts are counted in the database, shared by every app on a module's database (as by the
# worker processes of one server), and every test client signs up from one address: apps that do
# not test the limits get limits no module reaches. The tests of the limits give their own.
ROOMY = Limits(account_failures=10_000, address_failures=10_000, address_signups=10_000)


@pytest.fixture(scope="module")
def app(db_url: str, data_dir: Path) -> FastAPI:
    return create_app(db_url, data_dir, secret_key="test-secret", limits=ROOMY)


@dataclass
class Member:
    email: str
    token: str
    org_id: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sign_up(client: TestClient, email: str, org: str) -> Member:
    """A new user with their own organisation and a personal API token."""
    r = client.post("/api/signup", json={"email": email, "password": PASSWORD, "organisation": org})
    assert r.status_code == 201, r.text
    body = r.json()
    t = client.post(
        "/api/tokens", json={"name": "tests"}, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert t.status_code == 201, t.text
    client.cookies.clear()
    return Member(email, t.json()["token"], body["organisations"][0]["id"])


def sample_files() -> list[tuple[str, tuple[str, bytes]]]:
    return [("files", (p.name, p.read_bytes())) for p in sorted(SAMPLE.iterdir())]


def polls(seconds: float = 600.0) -> Iterator[None]:
    """Pauses between polls of a background job: short at first (most jobs take well under a
    second), then at most 0.2 s; gives up after ``seconds``, a bound no working job nears."""
    deadline = time.monotonic() + seconds
    pause = 0.01
    while time.monotonic() < deadline:
        yield
        time.sleep(pause)
        pause = min(0.2, pause * 2)


def wait_for(client: TestClient, m: Member, job_id: int, org_id: int | None = None) -> dict:
    for _ in polls():
        job = client.get(f"/api/orgs/{org_id or m.org_id}/jobs/{job_id}", headers=m.auth).json()[
            "job"
        ]
        if job["state"] in ("done", "failed"):
            return job
    raise TimeoutError(f"job {job_id} did not finish")


@dataclass
class World:
    """Organisation A (admin, editor, viewer, and an estate with its position) and an outsider
    who administers organisation B."""

    client: TestClient
    admin: Member
    editor: Member
    viewer: Member
    outsider: Member
    estate_id: int


def build_world(client: TestClient) -> World:
    """Sign up the world's people and import the sample estate, over HTTP."""
    suffix = secrets.token_hex(3)
    admin = sign_up(client, f"admin-{suffix}@a.example", "Org A")
    editor = sign_up(client, f"editor-{suffix}@a.example", "Editor's own")
    viewer = sign_up(client, f"viewer-{suffix}@a.example", "Viewer's own")
    outsider = sign_up(client, f"out-{suffix}@b.example", "Org B")
    for m, role in ((editor, "editor"), (viewer, "viewer")):
        r = client.post(
            f"/api/orgs/{admin.org_id}/members",
            json={"email": m.email, "role": role},
            headers=admin.auth,
        )
        assert r.status_code == 201, r.text
        m.org_id = admin.org_id
    r = client.post(
        f"/api/orgs/{admin.org_id}/estates",
        files=sample_files(),
        data={"name": "sample"},
        headers=admin.auth,
    )
    assert r.status_code == 202, r.text
    job = wait_for(client, admin, r.json()["job"]["id"])
    assert job["state"] == "done", job
    return World(client, admin, editor, viewer, outsider, r.json()["estate"]["id"])


@pytest.fixture(scope="module")
def world(app: FastAPI, db_url: str) -> Iterator[World]:
    """The module's world: the copy made with its database (see above), else built here."""
    with TestClient(app) as client:
        copied = COPIES.get(db_url)
        if copied is None:
            yield build_world(client)
        else:
            people = [replace(m) for m in copied.people]
            yield World(client, *people, estate_id=copied.estate_id)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in with the session cookie (kept by ``client``); the CSRF token."""
    r = client.post("/api/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


class Clock:
    """A clock the test moves by hand (no test sleeps in real time)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fresh_app(
    db_url: str, data: Path, clock: Callable[[], float] | None = None, **settings: Any
) -> FastAPI:
    """Another app on the module's database, e.g. with its own limits (a fresh limiter, on
    ``clock`` when given)."""
    settings.setdefault("limits", ROOMY)
    app = create_app(db_url, data, secret_key="test-secret", **settings)
    if clock is not None:
        ws = app.state.workspace
        ws.limiter = SharedLimiter(ws.engine, ws.settings.limits, clock)
    return app
