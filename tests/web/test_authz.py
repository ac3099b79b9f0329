"""The authorization matrix: every route of the app, the least role that may call it, and for
each caller — anonymous, a signed-in user of another organisation, a viewer, an editor and an
admin of the organisation — whether the call is refused, and how:

* anonymous: 401 from the API, a redirect to the sign-in page from a page;
* a user who is not a member of the organisation: 404, as if it did not exist;
* a member whose role is too weak: 403;
* anyone else: not refused (any answer but those, and never a 5xx).

A route missing from the table fails the test, so a new endpoint must say who may call it. The
callers send API tokens (pages accept them as the API does); paths name real rows of the
organisation, made fresh for calls that delete them. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from entitle.web.security import Limits

from .conftest import PASSWORD, Member, World, fresh_app, sign_up, wait_for

ANONYMOUS, SIGNED_IN, VIEWER, EDITOR, ADMIN = "anonymous", "signed-in", "viewer", "editor", "admin"
ORG_ROLES = (VIEWER, EDITOR, ADMIN)
CALLERS = ("anonymous", "non-member", VIEWER, EDITOR, ADMIN)
TINY = b"host,processors,cores_per_processor\nhv1,1,8\n"
# The estate the calls name: one host of Windows Server, so that every page and computation has
# something to show (a line 0, a position, a decision) in milliseconds; the sample estate would
# make each allowed call take seconds and prove nothing more about who may call it.
SMALL = [
    ("files", ("hosts.csv", TINY)),
    ("files", ("oses.csv", b"ose,host,virtual\nhv1-os,hv1,no\n")),
    (
        "files",
        ("software.csv", b"ose,product,edition,version\nhv1-os,windows-server,standard,2025\n"),
    ),
]
SIL = b"server,product,edition,version\nsql1,SQL Server,Standard,2019\n"
BOUGHT = b"id,product,license,quantity\nAUTHZ-IMP,windows-server,user-cal,5\n"


@pytest.fixture(scope="module")
def app(db_url: str, data_dir: Path) -> FastAPI:
    """The module's app, with room for the many sign-ups the matrix makes."""
    limits = Limits(address_signups=10_000, address_failures=10_000)
    return fresh_app(db_url, data_dir, limits=limits)


@dataclass
class Ctx:
    """What the calls need: the world, a finished job, a bought entitlement, a spare user."""

    world: World
    job_id: int
    spare: str
    other_estate: int
    estate_id: int  # the small estate of organisation A
    made: list[str] = field(default_factory=list)

    @property
    def c(self) -> TestClient:
        return self.world.client

    def caller(self, name: str) -> Member | None:
        w = self.world
        return {
            "anonymous": None,
            "non-member": w.outsider,
            VIEWER: w.viewer,
            EDITOR: w.editor,
            ADMIN: w.admin,
        }[name]

    def estate(self) -> int:
        """A throwaway estate of the organisation (for calls that delete one)."""
        r = self.c.post(
            f"/api/orgs/{self.world.admin.org_id}/estates",
            files=[("files", ("hosts.csv", TINY))],
            headers=self.world.admin.auth,
        )
        assert r.status_code == 202, r.text
        wait_for(self.c, self.world.admin, r.json()["job"]["id"])
        return int(r.json()["estate"]["id"])

    def member(self) -> int:
        """A throwaway viewer of the organisation (for calls that remove one)."""
        m = sign_up(self.c, f"gone-{secrets.token_hex(4)}@authz.example", "Throwaway")
        r = self.c.post(
            f"/api/orgs/{self.world.admin.org_id}/members",
            json={"email": m.email, "role": VIEWER},
            headers=self.world.admin.auth,
        )
        users = [u for u in r.json()["members"] if u["email"] == m.email]
        return int(users[0]["user_id"])

    def token(self, caller: Member | None) -> int:
        """A fresh API token of the caller (the admin's for anonymous)."""
        owner = caller or self.world.admin
        r = self.c.post("/api/tokens", json={"name": "authz"}, headers=owner.auth)
        return int(r.json()["id"])

    def email(self) -> str:
        return f"new-{secrets.token_hex(4)}@authz.example"


Body = Callable[[Ctx], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    role: str
    body: Body | None = None
    query: str = ""


def js(data: Callable[[Ctx], Any]) -> Body:
    return lambda ctx: {"json": data(ctx)}


def form(data: Callable[[Ctx], Any], **files: tuple[str, bytes]) -> Body:
    return lambda ctx: {"data": data(ctx), "files": files or None}


def upload(name: str, content: bytes, **data: str) -> Body:
    return lambda ctx: {"files": [("files", (name, content))], "data": data or None}


ORG = "/api/orgs/{org_id}"
PURCHASE = {"id": "AUTHZ-1", "product": "windows-server", "license": "user-cal", "quantity": 9}
QUESTIONNAIRE = {"users": 10, "dedicated": 50}

TABLE: dict[tuple[str, str], Rule] = {
    # -- public ------------------------------------------------------------------------------
    ("GET", "/openapi.json"): Rule(ANONYMOUS),
    ("GET", "/api/docs"): Rule(ANONYMOUS),
    ("GET", "/favicon.ico"): Rule(ANONYMOUS),
    ("GET", "/static"): Rule(ANONYMOUS),
    ("POST", "/api/signup"): Rule(
        ANONYMOUS, js(lambda x: {"email": x.email(), "password": PASSWORD, "organisation": "N"})
    ),
    ("POST", "/api/login"): Rule(
        ANONYMOUS, js(lambda x: {"email": x.world.viewer.email, "password": PASSWORD})
    ),
    ("GET", "/signup"): Rule(ANONYMOUS),
    ("POST", "/signup"): Rule(
        ANONYMOUS, form(lambda x: {"email": x.email(), "password": PASSWORD, "organisation": "N"})
    ),
    ("GET", "/login"): Rule(ANONYMOUS),
    ("POST", "/login"): Rule(
        ANONYMOUS, form(lambda x: {"email": x.world.viewer.email, "password": PASSWORD})
    ),
    ("POST", "/logout"): Rule(ANONYMOUS, form(lambda x: {})),
    # invitations and passwords (a made-up link is 404; no SMTP in this app: forgot is 503)
    ("POST", "/api/invitations/signup"): Rule(
        ANONYMOUS, js(lambda x: {"token": "made-up", "password": PASSWORD})
    ),
    ("POST", "/api/password/forgot"): Rule(ANONYMOUS, js(lambda x: {"email": x.email()})),
    ("POST", "/api/password/reset"): Rule(
        ANONYMOUS, js(lambda x: {"token": "made-up", "password": PASSWORD})
    ),
    ("GET", "/invite/{token}"): Rule(ANONYMOUS),
    ("POST", "/invite/{token}"): Rule(ANONYMOUS, form(lambda x: {"password": PASSWORD})),
    ("GET", "/password/forgot"): Rule(ANONYMOUS),
    ("POST", "/password/forgot"): Rule(ANONYMOUS, form(lambda x: {"email": x.email()})),
    ("GET", "/reset/{token}"): Rule(ANONYMOUS),
    ("POST", "/reset/{token}"): Rule(
        ANONYMOUS, form(lambda x: {"password": PASSWORD, "again": PASSWORD})
    ),
    # -- any signed-in user --------------------------------------------------------------------
    ("POST", "/api/logout"): Rule(SIGNED_IN),
    ("GET", "/api/me"): Rule(SIGNED_IN),
    ("GET", "/api/tokens"): Rule(SIGNED_IN),
    ("POST", "/api/invitations/accept"): Rule(SIGNED_IN, js(lambda x: {"token": "made-up"})),
    ("POST", "/api/password"): Rule(
        SIGNED_IN, js(lambda x: {"current_password": "wrong!!!", "new_password": PASSWORD})
    ),
    ("GET", "/account/password"): Rule(SIGNED_IN),
    ("POST", "/account/password"): Rule(
        SIGNED_IN,
        form(
            lambda x: {"current_password": "wrong!!!", "new_password": PASSWORD, "again": PASSWORD}
        ),
    ),
    ("POST", "/api/tokens"): Rule(SIGNED_IN, js(lambda x: {"name": "matrix"})),
    ("DELETE", "/api/tokens/{token_id}"): Rule(SIGNED_IN),
    ("GET", "/api/orgs"): Rule(SIGNED_IN),
    ("POST", "/api/orgs"): Rule(SIGNED_IN, js(lambda x: {"name": "Another"})),
    ("GET", "/api/products"): Rule(SIGNED_IN, query="?q=sql"),
    ("POST", "/api/decide"): Rule(SIGNED_IN, js(lambda x: QUESTIONNAIRE)),
    ("GET", "/"): Rule(SIGNED_IN),
    ("GET", "/products"): Rule(SIGNED_IN, query="?q=sql"),
    ("GET", "/decide"): Rule(SIGNED_IN),
    ("POST", "/decide"): Rule(SIGNED_IN, form(lambda x: QUESTIONNAIRE)),
    ("GET", "/account/tokens"): Rule(SIGNED_IN),
    ("POST", "/account/tokens"): Rule(SIGNED_IN, form(lambda x: {"name": "matrix"})),
    ("POST", "/account/tokens/{token_id}/revoke"): Rule(SIGNED_IN, form(lambda x: {})),
    # -- members -------------------------------------------------------------------------------
    ("GET", ORG + "/members"): Rule(VIEWER),
    ("POST", ORG + "/members"): Rule(ADMIN, js(lambda x: {"email": x.spare, "role": VIEWER})),
    ("DELETE", ORG + "/members/{user_id}"): Rule(ADMIN),
    ("GET", "/orgs/{org_id}/members"): Rule(VIEWER),
    ("POST", "/orgs/{org_id}/members"): Rule(
        ADMIN, form(lambda x: {"email": x.spare, "role": VIEWER})
    ),
    ("POST", "/orgs/{org_id}/members/{user_id}/remove"): Rule(ADMIN, form(lambda x: {})),
    ("GET", "/orgs/{org_id}/members/{user_id}/remove"): Rule(ADMIN),
    ("POST", ORG + "/invitations"): Rule(ADMIN, js(lambda x: {"email": x.email()})),
    ("GET", ORG + "/invitations"): Rule(ADMIN),
    ("POST", "/orgs/{org_id}/invitations"): Rule(ADMIN, form(lambda x: {"email": x.email()})),
    # -- estates, jobs, positions --------------------------------------------------------------
    ("GET", ORG + "/estates"): Rule(VIEWER),
    ("POST", ORG + "/estates"): Rule(EDITOR, upload("hosts.csv", TINY)),
    ("GET", ORG + "/estates/{estate_id}"): Rule(VIEWER),
    ("DELETE", ORG + "/estates/{estate_id}"): Rule(EDITOR),
    ("GET", ORG + "/jobs/{job_id}"): Rule(VIEWER),
    ("POST", ORG + "/estates/{estate_id}/position"): Rule(EDITOR),
    ("GET", ORG + "/estates/{estate_id}/position"): Rule(VIEWER),
    ("GET", ORG + "/estates/{estate_id}/lines/{index}"): Rule(VIEWER),
    ("GET", ORG + "/compare"): Rule(VIEWER, query="?a={estate_id}&b={estate_id}"),
    ("POST", ORG + "/imports"): Rule(EDITOR, upload("sil.csv", SIL, kind="sil")),
    ("GET", ORG + "/estates/{estate_id}/tables"): Rule(VIEWER),
    ("GET", ORG + "/estates/{estate_id}/tables/{table}"): Rule(VIEWER),
    ("POST", ORG + "/estates/{estate_id}/decide"): Rule(VIEWER, js(lambda x: {})),
    ("GET", "/orgs/{org_id}/estates"): Rule(VIEWER),
    ("POST", "/orgs/{org_id}/estates"): Rule(EDITOR, upload("hosts.csv", TINY)),
    ("POST", "/orgs/{org_id}/imports"): Rule(EDITOR, upload("sil.csv", SIL, kind="sil")),
    ("GET", "/orgs/{org_id}/jobs/{job_id}"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/jobs/{job_id}/bar"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/estates/{estate_id}"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/estates/{estate_id}/lines/{index}"): Rule(VIEWER),
    # only a redirect to the hosts table, whose page checks the caller: it shows nothing
    ("GET", "/orgs/{org_id}/estates/{estate_id}/tables"): Rule(ANONYMOUS),
    ("GET", "/orgs/{org_id}/estates/{estate_id}/tables/{table}"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/estates/{estate_id}/decide"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/estates/{estate_id}/plan"): Rule(VIEWER, query="?q=a"),
    ("POST", "/orgs/{org_id}/estates/{estate_id}/decide"): Rule(VIEWER, form(lambda x: {})),
    # -- the ledger ----------------------------------------------------------------------------
    ("GET", ORG + "/ledger/entitlements"): Rule(VIEWER),
    ("POST", ORG + "/ledger/entitlements"): Rule(EDITOR, js(lambda x: PURCHASE)),
    ("POST", ORG + "/ledger/assign"): Rule(
        EDITOR, js(lambda x: {"ref": "AUTHZ-1", "to": "user:ann"})
    ),
    ("POST", ORG + "/ledger/reassign"): Rule(
        EDITOR, js(lambda x: {"ref": "AUTHZ-1", "from": "user:ann", "to": "user:bob"})
    ),
    ("POST", ORG + "/ledger/retire"): Rule(
        EDITOR, js(lambda x: {"ref": "AUTHZ-1", "reason": "sold", "quantity": 1})
    ),
    ("POST", ORG + "/ledger/import"): Rule(
        EDITOR, lambda x: {"files": {"file": ("entitlements.csv", BOUGHT)}}
    ),
    ("POST", ORG + "/ledger/annotate"): Rule(
        ADMIN, js(lambda x: {"ref": "AUTHZ-1", "note": "checked"})
    ),
    ("GET", ORG + "/ledger/history"): Rule(VIEWER),
    ("GET", ORG + "/ledger/verify"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/ledger"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/ledger/entitlements.csv"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/ledger/audit.csv"): Rule(VIEWER),
    ("POST", "/orgs/{org_id}/ledger"): Rule(EDITOR, form(lambda x: PURCHASE)),
    ("POST", "/orgs/{org_id}/ledger/retire"): Rule(
        EDITOR, form(lambda x: {"ref": "AUTHZ-1", "reason": "sold", "quantity": "1"})
    ),
    ("POST", "/orgs/{org_id}/ledger/import"): Rule(
        EDITOR, lambda x: {"files": {"file": ("entitlements.csv", BOUGHT)}}
    ),
    ("POST", "/orgs/{org_id}/ledger/annotate"): Rule(
        ADMIN, form(lambda x: {"ref": "AUTHZ-1", "note": "checked"})
    ),
    ("GET", "/orgs/{org_id}/ledger/assign"): Rule(VIEWER),
    ("GET", "/orgs/{org_id}/ledger/reassign"): Rule(VIEWER),
    ("POST", "/orgs/{org_id}/ledger/assign"): Rule(
        EDITOR, form(lambda x: {"ref": "AUTHZ-1", "to_kind": "user", "to_name": "cy"})
    ),
    ("POST", "/orgs/{org_id}/ledger/reassign"): Rule(
        EDITOR,
        form(lambda x: {"ref": "AUTHZ-1", "from_kind": "user", "from_name": "cy", "to_name": "di"}),
    ),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers (HEAD aside), included routers too."""
    found: set[tuple[str, str]] = set()

    def add(path: str, methods: set[str] | None) -> None:
        for method in methods or {"GET"}:
            if method != "HEAD":
                found.add((method, path))

    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for c in contexts():
                add(c.path, c.methods)
        else:
            add(getattr(route, "path", ""), getattr(route, "methods", None))
    return found


def test_every_route_is_in_the_table(world: World) -> None:
    routes = app_routes(world.client.app)  # type: ignore[arg-type]
    missing = sorted(routes - set(TABLE))
    assert missing == [], f"routes with no rule in TABLE (say who may call them): {missing}"
    gone = sorted(set(TABLE) - routes)
    assert gone == [], f"rules for routes the app no longer has: {gone}"


@pytest.fixture(scope="module")
def ctx(world: World) -> Iterator[Ctx]:
    c, admin = world.client, world.admin
    r = c.post(f"/api/orgs/{admin.org_id}/estates", files=SMALL, headers=admin.auth)
    job_id = int(r.json()["job"]["id"])
    assert wait_for(c, admin, job_id)["state"] == "done"
    spare = sign_up(c, f"spare-{secrets.token_hex(4)}@authz.example", "Spare").email
    bought = c.post(
        f"/api/orgs/{admin.org_id}/ledger/entitlements", json=PURCHASE, headers=admin.auth
    )
    assert bought.status_code == 201, bought.text
    theirs = c.post(
        f"/api/orgs/{world.outsider.org_id}/estates",
        files=[("files", ("hosts.csv", TINY))],
        headers=world.outsider.auth,
    )
    yield Ctx(
        world, job_id, spare, int(theirs.json()["estate"]["id"]), int(r.json()["estate"]["id"])
    )


def url_of(ctx: Ctx, method: str, template: str, rule: Rule, caller: Member | None) -> str:
    w = ctx.world
    values: dict[str, Any] = {
        "org_id": w.admin.org_id,
        "estate_id": ctx.estate_id,
        "job_id": ctx.job_id,
        "index": 0,
        "table": "hosts",
        "token": "made-up",
    }
    if "{estate_id}" in template and method == "DELETE":
        values["estate_id"] = ctx.estate()
    if "{user_id}" in template:
        values["user_id"] = ctx.member()
    if "{token_id}" in template:
        values["token_id"] = ctx.token(caller)
    path = "/static/app.css" if template == "/static" else template
    return (path + rule.query).format(**values)


def call(ctx: Ctx, method: str, template: str, caller_name: str) -> Response:
    rule = TABLE[(method, template)]
    caller = ctx.caller(caller_name)
    url = url_of(ctx, method, template, rule, caller)
    kwargs = rule.body(ctx) if rule.body else {}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    headers = caller.auth if caller else {}
    try:
        return ctx.c.request(method, url, headers=headers, follow_redirects=False, **kwargs)
    finally:
        ctx.c.cookies.clear()  # a sign-in or sign-up sets a cookie: the next caller is not it


def expected(role: str, caller: str) -> int | None:
    """The refusal status a caller must get (``None``: not refused)."""
    if role == ANONYMOUS:
        return None
    if caller == "anonymous":
        return 401
    if role == SIGNED_IN:
        return None
    if caller == "non-member":
        return 404
    return 403 if ORG_ROLES.index(caller) < ORG_ROLES.index(role) else None


def refusal(r: Response, method: str, template: str) -> int | None:
    """How a response refused the caller (a page's redirect to sign in counts as 401)."""
    if r.status_code in (401, 403):
        return r.status_code
    where = r.headers.get("location") or ""
    to_login = r.status_code in (302, 303, 307) and where.split("?")[0] == "/login"
    if to_login and (method, template) != ("POST", "/logout"):
        return 401
    if r.status_code == 404 and "no organisation here" in r.text:
        return 404
    return None


def test_each_caller_is_refused_exactly_as_the_table_says(ctx: Ctx) -> None:
    wrong = []
    for (method, template), rule in sorted(TABLE.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        for caller in CALLERS:
            r = call(ctx, method, template, caller)
            want, got = expected(rule.role, caller), refusal(r, method, template)
            down = r.status_code >= 500 and r.status_code != 503  # 503: no SMTP server
            if down or want != got:
                wrong.append(
                    f"{method} {template} as {caller}: want {want or 'allowed'}, "
                    f"got {r.status_code} {r.text[:120]!r}"
                )
    assert wrong == [], "\n".join(wrong)


def test_another_organisations_rows_are_404_by_path_and_by_id(ctx: Ctx) -> None:
    """Org A's admin naming org B (where they are no member), or B's estate under A's path."""
    c, admin, w = ctx.c, ctx.world.admin, ctx.world
    theirs, org_b = ctx.other_estate, w.outsider.org_id
    for path in (
        f"/api/orgs/{org_b}/estates",
        f"/api/orgs/{org_b}/estates/{theirs}",
        f"/api/orgs/{org_b}/ledger/entitlements",
        f"/api/orgs/{org_b}/members",
        f"/orgs/{org_b}/estates/{theirs}",
        f"/orgs/{org_b}/ledger",
    ):
        r = c.get(path, headers=admin.auth)
        assert r.status_code == 404 and "no organisation here" in r.text, (path, r.text)
    for path in (
        f"/api/orgs/{admin.org_id}/estates/{theirs}",
        f"/api/orgs/{admin.org_id}/estates/{theirs}/position",
        f"/api/orgs/{admin.org_id}/estates/{theirs}/lines/0",
        f"/api/orgs/{admin.org_id}/estates/{theirs}/tables",
        f"/api/orgs/{admin.org_id}/compare?a={w.estate_id}&b={theirs}",
        f"/orgs/{admin.org_id}/estates/{theirs}",
    ):
        r = c.get(path, headers=admin.auth)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
    r = c.delete(f"/api/orgs/{admin.org_id}/estates/{theirs}", headers=admin.auth)
    assert r.status_code == 404
    assert c.get(f"/api/orgs/{org_b}/estates/{theirs}", headers=w.outsider.auth).is_success


def test_the_table_covers_the_documented_roles(tmp_path: Path) -> None:
    """Writes need editor or admin; only members' administration (invitations too) and notes
    on ledger rows need admin."""
    admin_only = {k for k, r in TABLE.items() if r.role == ADMIN}
    assert all(
        "/members" in path or "/invitations" in path or path.endswith("/ledger/annotate")
        for _, path in admin_only
    ), admin_only
    unsafe = {k for k, r in TABLE.items() if k[0] in ("POST", "DELETE") and r.role == VIEWER}
    assert all(path.endswith("/decide") for _, path in unsafe), unsafe


# -- the delete-and-reuse race (issue #14) ---------------------------------------------------


class Held:
    """A pool that keeps the jobs it is given, so that a test runs each step by hand."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self.calls.append((fn, args))

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def held_app(db_url: str, data: Path) -> tuple[FastAPI, Held]:
    app = fresh_app(db_url, data, limits=Limits(address_signups=10_000))
    held = Held()
    app.state.workspace.pool = held
    app.state.workspace.ceiling = None  # jobs in this process, where the test's hook is
    return app, held


def estate_of(c: TestClient, m: Member, estate_id: int) -> dict[str, Any]:
    r = c.get(f"/api/orgs/{m.org_id}/estates/{estate_id}", headers=m.auth)
    assert r.status_code == 200, r.text
    return dict(r.json()["estate"])


def test_a_job_of_a_deleted_estate_never_writes_into_another_organisations(
    world: World, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As filed: A's import job has read its estate; A deletes the estate; B uploads one (on
    SQLite without AUTOINCREMENT it got the deleted estate's id); A's job ends. B's estate must
    keep its own state (still pending, no position), under an id never given before."""
    from entitle.web import jobs

    app, held = held_app(db_url, tmp_path)
    a, b = world.admin, world.outsider
    with TestClient(app) as c:
        r = c.post(
            f"/api/orgs/{a.org_id}/estates", files=[("files", ("hosts.csv", TINY))], headers=a.auth
        )
        assert r.status_code == 202, r.text
        a_estate, a_job = r.json()["estate"]["id"], r.json()["job"]["id"]
        ((run_a, args_a),) = held.calls
        theirs: dict[str, int] = {}
        computing = jobs.compute_position

        def meanwhile(*args: Any, **kwargs: Any) -> Any:
            """The hook between reading the estate and writing its position."""
            assert c.delete(f"/api/orgs/{a.org_id}/estates/{a_estate}", headers=a.auth).is_success
            up = c.post(
                f"/api/orgs/{b.org_id}/estates",
                files=[("files", ("hosts.csv", TINY))],
                headers=b.auth,
            )
            assert up.status_code == 202, up.text
            theirs["id"] = up.json()["estate"]["id"]
            return computing(*args, **kwargs)

        monkeypatch.setattr(jobs, "compute_position", meanwhile)
        run_a(*args_a)
        monkeypatch.setattr(jobs, "compute_position", computing)

        assert theirs["id"] != a_estate  # never reused
        b_estate = estate_of(c, b, theirs["id"])
        assert b_estate["status"] == "pending" and b_estate["summary"] is None, b_estate
        job = c.get(f"/api/orgs/{a.org_id}/jobs/{a_job}", headers=a.auth).json()["job"]
        assert job["state"] == "failed" and "deleted" in job["message"], job
        run_b, args_b = held.calls[-1]  # B's own job still gives B its own position
        run_b(*args_b)
        assert estate_of(c, b, theirs["id"])["status"] == "ready"


def test_a_job_writes_only_its_own_organisations_rows(
    world: World, db_url: str, tmp_path: Path
) -> None:
    """Every background write is keyed by organisation and id: a job of A that names B's estate
    (as a reused id would) leaves B's estate untouched and ends failed."""
    from sqlalchemy.orm import Session

    from entitle.ledger import clock
    from entitle.ledger.db import writer
    from entitle.web import jobs
    from entitle.web.models import Job

    app, held = held_app(db_url, tmp_path)
    a, b = world.admin, world.outsider
    with TestClient(app) as c:
        up = c.post(
            f"/api/orgs/{b.org_id}/estates", files=[("files", ("hosts.csv", TINY))], headers=b.auth
        )
        b_estate = up.json()["estate"]["id"]
        ws = app.state.workspace
        with Session(writer(ws.engine)) as session, session.begin():
            forged = Job(
                org_id=a.org_id,
                estate_id=b_estate,
                kind="import",
                state="queued",
                progress=0,
                message="queued",
                created_at=clock.utc_now(),
            )
            session.add(forged)
            session.flush()
            forged_id = forged.id
        jobs.run_import(ws.engine, ws.settings.data_dir, ws.catalog, a.org_id, forged_id)
        assert estate_of(c, b, b_estate)["status"] == "pending"
        job = c.get(f"/api/orgs/{a.org_id}/jobs/{forged_id}", headers=a.auth).json()["job"]
        assert job["state"] == "failed", job
