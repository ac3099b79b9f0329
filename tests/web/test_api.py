"""The REST API over HTTP (httpx through FastAPI's TestClient): sign-up and sessions, CSRF,
uploads, the position in every format with its evidence, the ledger, the role matrix on every
write endpoint, and isolation between organisations."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from .conftest import PASSWORD, Member, World, wait_for

ROLES = ("viewer", "editor", "admin")


def member(world: World, role: str) -> Member:
    return {"viewer": world.viewer, "editor": world.editor, "admin": world.admin}[role]


def test_sign_in_with_a_cookie_needs_the_csrf_token_for_writes(world: World) -> None:
    c = world.client
    r = c.post("/api/login", json={"email": world.admin.email, "password": PASSWORD})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    try:
        assert c.get("/api/me").json()["user"]["email"] == world.admin.email
        refused = c.post("/api/tokens", json={"name": "x"})
        assert refused.status_code == 403
        assert refused.json() == {
            "ok": False,
            "errors": [
                {
                    "code": "csrf",
                    "message": "missing or wrong CSRF token; reload the page and retry",
                }
            ],
        }
        assert (
            c.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code
            == 201
        )
    finally:
        c.cookies.clear()


def test_a_wrong_password_is_401_in_the_envelope(world: World) -> None:
    r = world.client.post("/api/login", json={"email": world.admin.email, "password": "nope-nope"})
    assert r.status_code == 401
    assert r.json()["errors"][0]["code"] == "unauthenticated"


def test_every_failure_has_the_one_envelope(world: World) -> None:
    c = world.client
    cases = [
        (c.get("/api/orgs"), 401, "unauthenticated"),
        (c.get("/api/nowhere", headers=world.admin.auth), 404, "not-found"),
        (c.put("/api/orgs", headers=world.admin.auth), 405, "method-not-allowed"),
        (c.post("/api/signup", json={"email": "x"}), 422, "invalid"),
        (
            c.get("/api/orgs", headers={"Authorization": "Bearer ent_unknown"}),
            401,
            "unauthenticated",
        ),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["ok"] is False and body["errors"], body
        assert {e["code"] for e in body["errors"]} == {code}
        assert all(set(e) <= {"code", "message", "source"} for e in body["errors"])


def test_an_unexpected_error_is_500_in_the_envelope(world: World) -> None:
    from fastapi.testclient import TestClient

    app = world.client.app

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/test-boom", boom)  # type: ignore[attr-defined]
    r = TestClient(app, raise_server_exceptions=False).get("/api/test-boom")
    assert r.status_code == 500
    assert r.json() == {
        "ok": False,
        "errors": [{"code": "internal", "message": "an unexpected error; see the log"}],
    }


def test_the_sample_estate_gives_its_position_in_every_format(world: World) -> None:
    c, m, e = world.client, world.viewer, world.estate_id
    base = f"/api/orgs/{m.org_id}/estates/{e}"
    summary = c.get(base, headers=m.auth).json()["estate"]["summary"]
    position = c.get(base + "/position", headers=m.auth).json()["position"]
    assert summary["total_cost"] == position["total_cost"] > 0
    # hv1 is a 2×16-core host: Datacenter licenses all 32 physical cores (per-core rule, 16 min).
    hv1 = c.get(base + "/lines/0", headers=m.auth).json()
    assert any(n["host"] == "hv1" and n["quantity"] == 32 for n in hv1["needs"])
    book = openpyxl.load_workbook(
        io.BytesIO(c.get(base + "/position?format=xlsx", headers=m.auth).content)
    )
    assert "Lines" in book.sheetnames or len(book.sheetnames) > 1
    html = c.get(base + "/position?format=html", headers=m.auth)
    assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text
    same = c.get(f"/api/orgs/{m.org_id}/compare?a={e}&b={e}", headers=m.auth).json()
    assert all(row["shortfall"]["a"] == row["shortfall"]["b"] for row in same["lines"])
    assert c.get(base + "/lines/9999", headers=m.auth).status_code == 404


def test_an_upload_names_files_never_paths(world: World) -> None:
    c, m = world.client, world.editor
    files = [("files", ("../../etc/passwd.csv", b"x")), ("files", ("hosts.csv", b"host\n"))]
    r = c.post(f"/api/orgs/{m.org_id}/estates", files=files, headers=m.auth)
    assert r.status_code == 422
    assert r.json()["errors"][0]["source"] == "../../etc/passwd.csv"


def test_a_bad_estate_ends_as_invalid_with_its_problems(world: World) -> None:
    c, m = world.client, world.editor
    files = [("files", ("hosts.csv", b"host,processors\nhv9,two\n"))]
    r = c.post(f"/api/orgs/{m.org_id}/estates", files=files, headers=m.auth)
    assert r.status_code == 202
    job = wait_for(c, m, r.json()["job"]["id"])
    assert job["state"] == "failed"
    estate = c.get(
        f"/api/orgs/{m.org_id}/estates/{r.json()['estate']['id']}", headers=m.auth
    ).json()
    assert estate["estate"]["status"] == "invalid" and estate["estate"]["problems"]


def test_a_purchase_is_recorded_once_and_audited(world: World) -> None:
    c, m = world.client, world.editor
    base = f"/api/orgs/{m.org_id}/ledger"
    buy = {
        "id": "P-1",
        "product": "windows-server",
        "license": "user-cal",
        "quantity": 10,
        "version": "2022",
        "purchased": "2025-01-15",
        "unit_price": "46.00",
    }
    assert c.post(base + "/entitlements", json=buy, headers=m.auth).json()["added"] == 1
    assert c.post(base + "/entitlements", json=buy, headers=m.auth).json()["unchanged"] == 1
    listed = {
        e["id"]: e for e in c.get(base + "/entitlements", headers=m.auth).json()["entitlements"]
    }
    assert listed["P-1"]["owned"] == 10
    r = c.post(
        base + "/assign",
        json={"ref": "P-1", "to": "user:ann", "quantity": 2, "on": "2025-02-01"},
        headers=m.auth,
    )
    assert r.status_code == 200, r.text
    # §1.7: end of employment allows a move at once; the next move is 90 days later, not 9.
    ok = c.post(
        base + "/reassign",
        json={
            "ref": "P-1",
            "from": "user:ann",
            "to": "user:bob",
            "on": "2025-03-01",
            "reason": "end-of-employment",
        },
        headers=m.auth,
    )
    assert ok.status_code == 200, ok.text
    refused = c.post(
        base + "/reassign",
        json={"ref": "P-1", "from": "user:bob", "to": "user:eve", "on": "2025-03-10"},
        headers=m.auth,
    )
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "refused"
    actions = [
        e["action"] for e in c.get(base + "/history?ref=P-1", headers=m.auth).json()["events"]
    ]
    assert actions[0] == "entitlement.import" and "assignment.create" in actions
    assert c.get(base + "/verify", headers=m.auth).json()["ok"] is True


def test_another_organisation_may_use_the_same_ids(world: World) -> None:
    c, out = world.client, world.outsider
    buy = {"id": "P-1", "product": "windows-server", "license": "user-cal", "quantity": 3}
    assert (
        c.post(f"/api/orgs/{out.org_id}/ledger/entitlements", json=buy, headers=out.auth).json()[
            "added"
        ]
        == 1
    )
    mine = c.get(f"/api/orgs/{out.org_id}/ledger/entitlements", headers=out.auth).json()[
        "entitlements"
    ]
    assert [(e["id"], e["quantity"]) for e in mine] == [("P-1", 3)]


# -- the role matrix ---------------------------------------------------------------------

Call = Callable[[World, Member], Any]


def _throwaway_estate(w: World) -> int:
    r = w.client.post(
        f"/api/orgs/{w.admin.org_id}/estates",
        files=[("files", ("hosts.csv", b"host\n"))],
        headers=w.admin.auth,
    )
    return int(r.json()["estate"]["id"])


WRITES: dict[str, tuple[str, Call]] = {
    "upload estate": (
        "editor",
        lambda w, m: w.client.post(
            f"/api/orgs/{m.org_id}/estates",
            files=[("files", ("hosts.csv", b"host\n"))],
            headers=m.auth,
        ),
    ),
    "delete estate": (
        "editor",
        lambda w, m: w.client.delete(
            f"/api/orgs/{m.org_id}/estates/{_throwaway_estate(w)}", headers=m.auth
        ),
    ),
    "recompute position": (
        "editor",
        lambda w, m: w.client.post(
            f"/api/orgs/{m.org_id}/estates/{w.estate_id}/position", headers=m.auth
        ),
    ),
    "record purchase": (
        "editor",
        lambda w, m: w.client.post(
            f"/api/orgs/{m.org_id}/ledger/entitlements",
            json={"product": "rds", "license": "user-cal", "quantity": 1},
            headers=m.auth,
        ),
    ),
    "assign": (
        "editor",
        lambda w, m: w.client.post(
            f"/api/orgs/{m.org_id}/ledger/assign",
            json={"ref": "none", "to": "user:ann"},
            headers=m.auth,
        ),
    ),
    "reassign": (
        "editor",
        lambda w, m: w.client.post(
            f"/api/orgs/{m.org_id}/ledger/reassign",
            json={"ref": "none", "from": "user:ann"},
            headers=m.auth,
        ),
    ),
    "add member": (
        "admin",
        lambda w, m: w.client.post(
            f"/api/orgs/{m.org_id}/members",
            json={"email": w.viewer.email, "role": "viewer"},
            headers=m.auth,
        ),
    ),
    "remove member": (
        "admin",
        lambda w, m: w.client.delete(f"/api/orgs/{m.org_id}/members/999999", headers=m.auth),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_role_matrix(world: World, write: str, role: str) -> None:
    """Viewers read; editors import and change the ledger; admins manage members."""
    needed, call = WRITES[write]
    r = call(world, member(world, role))
    if ROLES.index(role) < ROLES.index(needed):
        assert r.status_code == 403, r.text
        assert r.json()["errors"][0]["code"] == "forbidden"
    else:
        assert r.status_code not in (401, 403), r.text
        assert r.status_code < 500, r.text


READS = [
    "/estates",
    "/estates/{e}",
    "/estates/{e}/position",
    "/estates/{e}/lines/0",
    "/jobs/1",
    "/ledger/entitlements",
    "/ledger/history",
    "/members",
    "/compare?a={e}&b={e}",
]


@pytest.mark.parametrize("path", READS)
def test_a_member_of_another_organisation_gets_404(world: World, path: str) -> None:
    out = world.outsider
    url = f"/api/orgs/{world.admin.org_id}" + path.format(e=world.estate_id)
    r = world.client.get(url, headers=out.auth)
    assert r.status_code == 404, r.text
    assert r.json()["errors"][0]["code"] == "not-found"
    # and a write is 404 too, not 403: the organisation's existence does not leak
    assert (
        world.client.post(
            f"/api/orgs/{world.admin.org_id}/ledger/entitlements",
            json={"product": "rds", "license": "user-cal", "quantity": 1},
            headers=out.auth,
        ).status_code
        == 404
    )
