"""Security of the web face, over HTTP against the real app and database: secrets kept only as
hashes, revocation and sign-out taking effect on the next request, session expiry, limits on
sign-in and sign-up attempts (429 with Retry-After), cookie flags, the security headers and a
Content-Security-Policy that the rendered pages actually satisfy, and upload names and sizes."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from entitle.web.auth import SESSION_NAME
from entitle.web.models import ApiToken, User
from entitle.web.security import INLINE_STYLES, Limits

from .conftest import PASSWORD, SAMPLE, Clock, World, fresh_app, login, sign_up, wait_for


def engine_of(world: World):  # type: ignore[no-untyped-def]
    return world.client.app.state.workspace.engine  # type: ignore[attr-defined]


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


# -- secrets at rest -------------------------------------------------------------------------


def test_passwords_are_argon2id_and_tokens_and_sessions_sha256_at_rest(world: World) -> None:
    """This module keeps the real hasher (entitle.web.auth: 19 MiB, 2 passes), which a sign-up
    here uses; the world's people were signed up at the least cost (tests/web/conftest.py
    QUICK), still argon2id."""
    c = world.client
    new = sign_up(c, f"new-{time.time_ns()}@rest.example", "At rest")
    login(c, world.viewer.email)
    cookie = c.cookies.get("entitle_session")
    c.cookies.clear()
    with Session(engine_of(world)) as s:
        users = s.execute(select(User)).scalars().all()
        tokens = s.execute(select(ApiToken)).scalars().all()
    assert len(users) >= 5 and all(u.password_hash.startswith("$argon2id$v=19$") for u in users)
    (signed_up,) = (u.password_hash for u in users if u.email == new.email)
    assert signed_up.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert all(PASSWORD not in u.password_hash for u in users)
    stored = {t.token_hash for t in tokens}
    for m in (world.admin, world.editor, world.viewer, world.outsider, new):
        assert hashlib.sha256(m.token.encode()).hexdigest() in stored
        assert not any(m.token in t.token_hash or m.token in t.name for t in tokens)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored)
    assert cookie and cookie not in stored
    assert any(t.name == SESSION_NAME for t in tokens)


# -- revocation, sign-out and expiry ---------------------------------------------------------


def test_a_revoked_token_is_refused_at_once(world: World) -> None:
    c, m = world.client, world.editor
    made = c.post("/api/tokens", json={"name": "ci"}, headers=m.auth).json()
    token = {"Authorization": f"Bearer {made['token']}"}
    assert c.get("/api/me", headers=token).status_code == 200
    listed = c.get("/api/tokens", headers=m.auth).json()["tokens"]
    assert {"id": made["id"], "name": "ci"}.items() <= next(
        t for t in listed if t["id"] == made["id"]
    ).items()
    assert all(t["name"] != SESSION_NAME for t in listed)
    assert c.delete(f"/api/tokens/{made['id']}", headers=m.auth).json() == {"ok": True}
    refused = c.get("/api/me", headers=token)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "unauthenticated"
    # someone else's token is not yours to revoke: as if it did not exist
    other = c.post("/api/tokens", json={"name": "x"}, headers=world.viewer.auth).json()
    assert c.delete(f"/api/tokens/{other['id']}", headers=m.auth).status_code == 404


def test_the_tokens_page_shows_a_new_token_once_and_revokes_it(world: World) -> None:
    c = world.client
    login(c, world.viewer.email)
    try:
        page = c.get("/account/tokens")
        assert page.status_code == 200 and "API tokens" in page.text
        csrf = csrf_of(page.text)
        assert c.post("/account/tokens", data={"name": "report"}).status_code == 403  # no CSRF
        made = c.post("/account/tokens", data={"name": "report", "csrf_token": csrf})
        token = re.search(r'<code id="new-token">(ent_[^<]+)</code>', made.text)
        assert token, made.text
        secret = token.group(1)
        bearer = {"Authorization": f"Bearer {secret}"}
        assert c.get("/api/orgs", headers=bearer).status_code == 200
        again = c.get("/account/tokens").text
        assert "report" in again and secret not in again
        token_id = re.findall(r'action="/account/tokens/(\d+)/revoke"', again)
        with Session(engine_of(world)) as s:
            row = s.execute(
                select(ApiToken).where(
                    ApiToken.token_hash == hashlib.sha256(secret.encode()).hexdigest()
                )
            ).scalar_one()
        assert str(row.id) in token_id
        r = c.post(
            f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert r.status_code == 303
        assert c.get("/api/orgs", headers=bearer).status_code == 401
    finally:
        c.cookies.clear()


def test_signing_out_ends_the_session_even_for_a_kept_cookie(world: World) -> None:
    c = world.client
    for how in ("api", "page"):
        csrf = login(c, world.viewer.email)
        kept = c.cookies.get("entitle_session")
        assert c.get("/api/me").status_code == 200
        if how == "api":
            r = c.post("/api/logout", headers={"X-CSRF-Token": csrf})
            assert r.status_code == 200
        else:
            r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/login"
        assert "entitle_session=" in r.headers["set-cookie"]  # the browser drops it
        c.cookies.clear()
        c.cookies.set("entitle_session", kept)
        assert c.get("/api/me").status_code == 401, how
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        c.cookies.clear()


def test_a_session_ends_twelve_hours_after_sign_in(world: World) -> None:
    c = world.client
    login(c, world.outsider.email)
    try:
        assert c.get("/api/me").status_code == 200
        then = datetime.now(UTC) - timedelta(hours=12, minutes=1)
        with Session(engine_of(world)) as s, s.begin():
            user = s.execute(select(User).where(User.email == world.outsider.email)).scalar_one()
            s.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.name == SESSION_NAME)
                .values(created_at=then)
            )
        assert c.get("/api/me").status_code == 401
    finally:
        c.cookies.clear()


def test_a_session_secret_is_not_an_api_token(world: World) -> None:
    """The cookie's secret must come signed in the cookie; as a bearer token it is refused."""
    c = world.client
    login(c, world.viewer.email)
    try:
        app = c.app
        cookie = c.cookies.get("entitle_session")
        loaded = app.state.workspace.sessions.load(cookie)  # type: ignore[attr-defined]
        assert loaded is not None
        bearer = {"Authorization": f"Bearer {loaded[0]}"}
        c.cookies.clear()
        assert c.get("/api/me", headers=bearer).status_code == 401
    finally:
        c.cookies.clear()


# -- limits on attempts ----------------------------------------------------------------------


def test_failed_sign_ins_are_limited_per_account(db_url: str, tmp_path: Path) -> None:
    clock = Clock()
    app = fresh_app(db_url, tmp_path, clock, limits=Limits(account_failures=3, window=900))
    with TestClient(app) as c:
        ann = sign_up(c, f"ann-{time.time_ns()}@limit.example", "Limits").email
        bob = sign_up(c, f"bob-{time.time_ns()}@limit.example", "Limits").email
        wrong = {"email": ann, "password": "not the password"}
        assert [c.post("/api/login", json=wrong).status_code for _ in range(3)] == [401] * 3
        refused = c.post("/api/login", json={"email": ann, "password": PASSWORD})
        assert refused.status_code == 429  # even the right password: checked before it
        # The 3 failures were at t = 1000 on the test's clock, which has not moved: the oldest
        # of them leaves the 900 s window at t = 1900, 900 seconds from now.
        assert refused.headers["retry-after"] == "900"
        assert refused.json() == {
            "ok": False,
            "errors": [
                {
                    "code": "rate-limited",
                    "message": "too many failed sign-ins; try again in 900 seconds",
                    "retry_after": 900,
                }
            ],
        }
        page = c.post("/login", data={"email": ann, "password": PASSWORD})
        assert "too many failed sign-ins" in page.text  # the sign-in page says so too,
        assert page.status_code == 429 and page.headers["retry-after"] == "900"  # as a 429
        assert c.post("/api/login", json={"email": bob, "password": PASSWORD}).status_code == 200
        c.cookies.clear()
        clock.now = 1899.5  # half a second left: rounded up to 1
        refused = c.post("/api/login", json={"email": ann, "password": PASSWORD})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        clock.now = 1900.0  # the window has passed
        assert c.post("/api/login", json={"email": ann, "password": PASSWORD}).status_code == 200


def test_failed_sign_ins_are_limited_per_client_address(db_url: str, tmp_path: Path) -> None:
    app = fresh_app(db_url, tmp_path, limits=Limits(address_failures=4, window=60))
    with TestClient(app, client=("192.0.2.21", 50000)) as c:
        ann = sign_up(c, f"ann-{time.time_ns()}@addr.example", "Addresses").email
        for i in range(4):  # a different account each time: the address is what is counted
            bad = {"email": f"guess-{i}@addr.example", "password": "guess guess"}
            assert c.post("/api/login", json=bad).status_code == 401
        r = c.post("/api/login", json={"email": ann, "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        elsewhere = TestClient(app, client=("192.0.2.7", 50000))
        assert elsewhere.post("/api/login", json={"email": ann, "password": PASSWORD}).is_success


def test_sign_ups_are_limited_per_client_address(db_url: str, tmp_path: Path) -> None:
    app = fresh_app(db_url, tmp_path, limits=Limits(address_signups=2))
    # an address of its own: the sign-ups of the module's other tests (from "testclient") are
    # counted in the same database
    with TestClient(app, client=("192.0.2.20", 50000)) as c:
        for i in range(2):
            sign_up(c, f"new-{i}-{time.time_ns()}@signup.example", "Sign-ups")
        body = {"email": "third@signup.example", "password": PASSWORD, "organisation": "x"}
        r = c.post("/api/signup", json=body)
        assert r.status_code == 429 and r.json()["errors"][0]["code"] == "rate-limited"


# -- cookies and headers ---------------------------------------------------------------------


def test_the_session_cookie_is_httponly_samesite_and_secure_when_asked(
    db_url: str, tmp_path: Path
) -> None:
    for secure in (False, True):
        app = fresh_app(db_url, tmp_path / str(secure), secure_cookies=secure)
        with TestClient(app) as c:
            email = f"cookie-{secure}-{time.time_ns()}@flags.example"
            body = {"email": email, "password": PASSWORD, "organisation": "Cookies"}
            r = c.post("/api/signup", json=body)
            flags = [f.strip().lower() for f in r.headers["set-cookie"].split(";")]
            assert flags[0].startswith("entitle_session=")
            assert {"httponly", "samesite=lax", "path=/", "max-age=43200"} <= set(flags)
            assert ("secure" in flags) is secure
            hsts = r.headers.get("strict-transport-security")
            assert (hsts == "max-age=31536000") is secure


def _policy(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_every_response_has_the_security_headers(world: World) -> None:
    c, m = world.client, world.viewer
    base = f"/api/orgs/{m.org_id}/estates/{world.estate_id}"
    responses = {
        "page": c.get("/login"),
        "redirect": c.get("/", follow_redirects=False),
        "401": c.get("/api/orgs"),
        "404": c.get("/api/nowhere", headers=m.auth),
        "422": c.post("/api/signup", json={"email": "x"}),
        "json": c.get(base + "/position", headers=m.auth),
        "schema": c.get("/openapi.json"),
        "static": c.get("/static/app.css"),
        "report": c.get(base + "/position?format=html", headers=m.auth),
        "docs": c.get("/api/docs"),
    }
    for kind, r in responses.items():
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", kind
        assert h["x-frame-options"] == "DENY", kind
        assert h["referrer-policy"] == "same-origin", kind
        policy = _policy(h["content-security-policy"])
        assert policy["frame-ancestors"] == ["'none'"], kind
        assert "'unsafe-inline'" not in policy.get("script-src", []), kind
        assert "'unsafe-eval'" not in policy.get("script-src", []), kind
        assert (h.get("cache-control") == "no-store") is (kind != "static"), kind
    page = _policy(responses["page"].headers["content-security-policy"])
    assert page["script-src"] == ["'self'"] and page["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in page["style-src"]
    report = _policy(responses["report"].headers["content-security-policy"])
    assert report["default-src"] == ["'none'"] and "sandbox" in report
    docs = _policy(responses["docs"].headers["content-security-policy"])
    assert docs == page  # the API reference is one of our pages: its script is served here


class _Inline(HTMLParser):
    """What a page carries inline that the policy must allow: scripts, styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"handler {name}")
            if name == "style" and value not in INLINE_STYLES:
                self.found.append(f"style={value!r}")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"{name}=javascript:")
            if name in ("hx-vals", "hx-vars") and "js:" in (value or ""):
                self.found.append(name)


def test_the_pages_need_no_inline_script_or_unhashed_style(world: World) -> None:
    """Every page renders within its Content-Security-Policy (no 'unsafe-inline')."""
    c, org, e = world.client, world.admin.org_id, world.estate_id
    anonymous = ["/login", "/signup"]
    signed_in = [
        "/",
        f"/orgs/{org}/estates",
        f"/orgs/{org}/estates/{e}",
        f"/orgs/{org}/estates/{e}/lines/0",
        f"/orgs/{org}/ledger",
        f"/orgs/{org}/members",
        "/products?q=sql",
        "/decide",
        "/account/tokens",
    ]
    checked = {}
    for path in anonymous:
        checked[path] = c.get(path)
    login(c, world.admin.email)
    try:
        for path in signed_in:
            checked[path] = c.get(path)
    finally:
        c.cookies.clear()
    for path, r in checked.items():
        assert r.status_code == 200, (path, r.status_code)
        parser = _Inline()
        parser.feed(r.text)
        assert parser.found == [], (path, parser.found)


# -- uploads ---------------------------------------------------------------------------------


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_upload_file_names_never_become_paths(world: World) -> None:
    c, m = world.client, world.editor
    data = c.app.state.workspace.settings.data_dir  # type: ignore[attr-defined]
    outside = data.parent
    before = _files_under(outside)
    names = {
        "hosts.csv": "../../../hosts.csv",
        "oses.csv": "/etc/oses.csv",
        "users.csv": "..\\..\\users.csv",
        "devices.csv": "C:\\Windows\\devices.csv",
    }
    files = [
        ("files", (names.get(p.name, p.name), p.read_bytes())) for p in sorted(SAMPLE.iterdir())
    ]
    r = c.post(f"/api/orgs/{m.org_id}/estates", files=files, headers=m.auth)
    assert r.status_code == 202, r.text
    estate = r.json()["estate"]
    folder = data / f"org-{m.org_id}" / f"estate-{estate['id']}"
    new = _files_under(outside) - before
    assert new and all(p.is_relative_to(data / f"org-{m.org_id}") for p in new), new
    stored = {p.name for p in new if p.parent == folder}
    assert stored == set(estate["files"]) and set(names) <= stored
    for hostile in ("..", "../", "/", "\x00hosts.csv", "hosts.csv\x00.txt", "notes.exe"):
        r = c.post(
            f"/api/orgs/{m.org_id}/estates",
            files=[("files", (hostile, b"host\nhv1\n"))],
            headers=m.auth,
        )
        assert r.status_code == 422, (hostile, r.text)
    assert _files_under(outside) - before == new


def test_an_upload_over_the_size_limit_is_413(db_url: str, tmp_path: Path) -> None:
    app = fresh_app(db_url, tmp_path, max_upload_bytes=10_000)
    with TestClient(app) as c:
        m = sign_up(c, f"big-{time.time_ns()}@size.example", "Sizes")
        url = f"/api/orgs/{m.org_id}/estates"
        small = c.post(
            url, files=[("files", ("hosts.csv", b"host\n" + b"a" * 9000))], headers=m.auth
        )
        assert small.status_code == 202, small.text
        for size in (12_000, 200_000):
            big = c.post(url, files=[("files", ("hosts.csv", b"a" * size))], headers=m.auth)
            assert big.status_code == 413, (size, big.text)
            assert big.json()["errors"][0]["code"] == "too-large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="hosts.csv"\r\n\r\n'
            for _ in range(100):
                yield b"x" * 1000
            yield b"\r\n--b--\r\n"

        kind = "multipart/form-data; boundary=b"
        streamed = c.post(url, content=chunks(), headers={**m.auth, "content-type": kind})
        assert streamed.status_code == 413, streamed.text


def test_a_zip_bomb_workbook_fails_its_import_without_unpacking(world: World) -> None:
    """An .xlsx is a zip: one that would unpack 1000 to 1 is refused before it is read."""
    c, m = world.client, world.editor
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    r = c.post(
        f"/api/orgs/{m.org_id}/estates",
        files=[("files", ("estate.xlsx", packed.getvalue()))],
        headers=m.auth,
    )
    assert r.status_code == 202, r.text
    assert len(packed.getvalue()) < 100_000
    job = wait_for(c, m, r.json()["job"]["id"])
    assert job["state"] == "failed"
    estate = c.get(
        f"/api/orgs/{m.org_id}/estates/{r.json()['estate']['id']}", headers=m.auth
    ).json()["estate"]
    assert estate["status"] == "invalid"
    assert any("zip bomb" in p for p in estate["problems"]), estate["problems"]


def test_signing_in_on_the_page_starts_a_server_side_session(world: World) -> None:
    c = world.client
    try:
        r = c.post(
            "/login",
            data={"email": world.viewer.email, "password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert "httponly" in r.headers["set-cookie"].lower()
        me = c.get("/api/me").json()
        assert me["user"]["email"] == world.viewer.email and me["csrf_token"]
        wrong = c.post("/login", data={"email": world.viewer.email, "password": "nope nope"})
        assert wrong.status_code == 200 and "wrong e-mail or password" in wrong.text
    finally:
        c.cookies.clear()


def test_a_form_posted_from_another_site_is_refused(world: World) -> None:
    """Sign-in has no session, so no CSRF token yet: the browser's Origin header tells."""
    c = world.client
    creds = {"email": world.viewer.email, "password": PASSWORD}
    try:
        forged = c.post("/login", data=creds, headers={"Origin": "https://evil.example"})
        assert forged.status_code == 403 and "entitle_session" not in c.cookies
        assert forged.json()["errors"][0]["source"] == "Origin"
        for origin in ("null", "http://testserver.evil.example"):
            r = c.post("/api/login", json=creds, headers={"Origin": origin})
            assert r.status_code == 403, origin
        same = c.post(
            "/login", data=creds, headers={"Origin": "http://testserver"}, follow_redirects=False
        )
        assert same.status_code == 303
        assert c.post("/api/login", json=creds).status_code == 200  # scripts send no Origin
    finally:
        c.cookies.clear()


def test_a_bug_answers_500_with_the_security_headers(db_url: str, tmp_path: Path) -> None:
    app = fresh_app(db_url, tmp_path)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/test-boom", boom)
    r = TestClient(app, raise_server_exceptions=False).get("/api/test-boom")
    assert r.status_code == 500
    assert r.json()["errors"] == [
        {"code": "internal", "message": "an unexpected error; see the log"}
    ]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
