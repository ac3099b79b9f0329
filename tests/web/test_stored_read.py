"""The stored position read (``GET .../estates/{id}/position``, JSON, stored basis) checks its
caller in its own single statement (web/storedread.py) instead of the dependencies every other
route uses: it must let in exactly whom they let in. Each test here asks it with a credential
the general checks refuse (revoked, signed out, expired, of the wrong kind, not a member, an
estate of another organisation) and expects their answer; and with good ones, the position.
The authorization matrix (test_authz.py) checks the roles on this route as on every other."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from entitle.web.auth import COOKIE, SESSION_NAME
from entitle.web.models import ApiToken, User

from .conftest import World, login


def _path(world: World, org_id: int | None = None, estate_id: int | None = None) -> str:
    org = world.admin.org_id if org_id is None else org_id
    return f"/api/orgs/{org}/estates/{estate_id or world.estate_id}/position"


def _engine(world: World):  # type: ignore[no-untyped-def]
    return world.client.app.state.workspace.engine  # type: ignore[attr-defined]


def _code(r) -> str:  # type: ignore[no-untyped-def]
    return str(r.json()["errors"][0]["code"])


def test_a_member_reads_the_stored_position_by_token_and_by_cookie(world: World) -> None:
    c = world.client
    by_token = c.get(_path(world), headers=world.viewer.auth)
    assert by_token.status_code == 200
    body = json.loads(by_token.text)
    assert body["ok"] is True and body["position"]["lines"]
    login(c, world.viewer.email)
    try:
        assert c.get(_path(world)).text == by_token.text
    finally:
        c.cookies.clear()


def test_a_revoked_token_is_refused_at_once(world: World) -> None:
    c, m = world.client, world.viewer
    made = c.post("/api/tokens", json={"name": "reader"}, headers=m.auth).json()
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert c.get(_path(world), headers=bearer).status_code == 200
    assert c.delete(f"/api/tokens/{made['id']}", headers=m.auth).json() == {"ok": True}
    refused = c.get(_path(world), headers=bearer)
    assert (refused.status_code, _code(refused)) == (401, "unauthenticated")


def test_a_signed_out_session_is_refused_even_with_a_kept_cookie(world: World) -> None:
    c = world.client
    csrf = login(c, world.editor.email)
    kept = c.cookies.get(COOKIE)
    assert c.get(_path(world)).status_code == 200
    assert c.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    c.cookies.clear()
    c.cookies.set(COOKIE, kept)
    try:
        assert c.get(_path(world)).status_code == 401
    finally:
        c.cookies.clear()


def test_a_session_twelve_hours_old_is_refused(world: World) -> None:
    c = world.client
    login(c, world.admin.email)
    try:
        assert c.get(_path(world)).status_code == 200
        then = datetime.now(UTC) - timedelta(hours=12, minutes=1)  # SESSION_HOURS = 12
        with Session(_engine(world)) as s, s.begin():
            user = s.execute(select(User).where(User.email == world.admin.email)).scalar_one()
            s.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.name == SESSION_NAME)
                .values(created_at=then)
            )
        assert c.get(_path(world)).status_code == 401
    finally:
        c.cookies.clear()


def test_a_session_secret_as_a_token_and_a_token_in_a_cookie_are_refused(world: World) -> None:
    c = world.client
    sessions = c.app.state.workspace.sessions  # type: ignore[attr-defined]
    login(c, world.viewer.email)
    loaded = sessions.load(c.cookies.get(COOKIE))
    c.cookies.clear()
    assert loaded is not None
    as_token = c.get(_path(world), headers={"Authorization": f"Bearer {loaded[0]}"})
    assert as_token.status_code == 401
    # an API token's secret, in a cookie signed with the server's own key: still not a session
    forged = sessions._signer.dumps({"s": world.viewer.token, "c": "x"})
    c.cookies.set(COOKIE, forged)
    try:
        assert c.get(_path(world)).status_code == 401
    finally:
        c.cookies.clear()


def test_a_non_member_and_another_organisations_estate_are_not_found(world: World) -> None:
    c, out = world.client, world.outsider
    r = c.get(_path(world), headers=out.auth)
    assert (r.status_code, _code(r)) == (404, "not-found")
    # the outsider's own organisation, with organisation A's estate id
    r = c.get(_path(world, org_id=out.org_id), headers=out.auth)
    assert (r.status_code, _code(r)) == (404, "not-found")
    # a member of A asking for an estate id that is no estate
    r = c.get(_path(world, estate_id=2_000_000_000), headers=world.viewer.auth)
    assert (r.status_code, _code(r)) == (404, "not-found")
    r = c.get(_path(world))
    assert (r.status_code, _code(r)) == (401, "unauthenticated")


def test_the_plain_read_answered_before_the_routing_is_the_routes_answer(world: World) -> None:
    # web/storedread.py's StoredReads answers GET .../position with no query string before
    # FastAPI routes it; with ?format=json the route answers: the same bytes, the same headers
    # (the security headers of the middlewares outside both included)
    c = world.client
    early = c.get(_path(world), headers=world.editor.auth)
    routed = c.get(_path(world) + "?format=json", headers=world.editor.auth)
    assert (early.status_code, routed.status_code) == (200, 200)
    assert early.content == routed.content
    assert sorted(early.headers.items()) == sorted(routed.headers.items())
    assert early.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in early.headers["content-security-policy"]


def test_ids_the_route_refuses_are_left_to_the_route(world: World) -> None:
    # past a 32-bit INTEGER (the route's Id: 1 .. 2**31 - 1), zero and a leading zero: the
    # route's own answers (422 for the ids out of range; the leading zero is the same estate)
    c, auth = world.client, world.viewer.auth
    org = world.admin.org_id
    for estate in ("2147483648", "0", "99999999999"):
        r = c.get(f"/api/orgs/{org}/estates/{estate}/position", headers=auth)
        assert (r.status_code, _code(r)) == (422, "invalid"), estate
    r = c.get(f"/api/orgs/{org}/estates/0{world.estate_id}/position", headers=auth)
    assert r.status_code == 200
    assert r.content == c.get(_path(world), headers=auth).content
    # a HEAD or a POST to the path is not a read of the position
    assert c.head(_path(world), headers=auth).status_code == 405
