"""The REST API over HTTP (httpx through FastAPI's TestClient): sign-up and sessions, CSRF,
uploads, the position in every format with its evidence, the ledger, the role matrix on every
write endpoint, and isolation between organisations."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
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
#
# Every write endpoint, called by each role of organisation A. An allowed call must do what it
# says (its status and its effect, read back); a refused one is 403 in the error envelope and
# leaves no trace. What a call needs (an entitlement to move, a member to remove) is made first
# by the admin, so each call stands alone.


@dataclass
class Attempt:
    """One call: its response, and a check that its effect can be seen afterwards."""

    response: httpx.Response
    happened: Callable[[], bool]


def _tag() -> str:
    return "m" + secrets.token_hex(3)


def _listed(w: World, ref: str) -> dict[str, Any] | None:
    a = w.admin
    items = w.client.get(f"/api/orgs/{a.org_id}/ledger/entitlements", headers=a.auth).json()
    return next((e for e in items["entitlements"] if e["id"] == ref), None)


def _bought(w: World, quantity: int = 2, license: str = "user-cal") -> str:
    ref = _tag()
    r = w.client.post(
        f"/api/orgs/{w.admin.org_id}/ledger/entitlements",
        json={"id": ref, "product": "windows-server", "license": license, "quantity": quantity},
        headers=w.admin.auth,
    )
    assert r.status_code == 201, r.text
    return ref


def _estate_exists(w: World, estate_id: int) -> bool:
    a = w.admin
    return (
        w.client.get(f"/api/orgs/{a.org_id}/estates/{estate_id}", headers=a.auth).status_code == 200
    )


def _job_ends(w: World, r: httpx.Response, state: str = "done") -> bool:
    job = wait_for(w.client, w.admin, r.json()["job"]["id"])
    return job["state"] == state


def _member_emails(w: World, org_id: int) -> set[str]:
    members = w.client.get(f"/api/orgs/{org_id}/members", headers=w.admin.auth).json()["members"]
    return {x["email"] for x in members}


def upload_estate(w: World, m: Member) -> Attempt:
    name = _tag()
    r = w.client.post(
        f"/api/orgs/{m.org_id}/estates",
        files=[("files", ("hosts.csv", b"host,processors,cores_per_processor\nh1,1,8\n"))],
        data={"name": name},
        headers=m.auth,
    )
    a = w.admin

    def happened() -> bool:
        listed = w.client.get(f"/api/orgs/{a.org_id}/estates", headers=a.auth).json()["estates"]
        return any(e["name"] == name for e in listed) and _job_ends(w, r)

    return Attempt(r, happened)


def delete_estate(w: World, m: Member) -> Attempt:
    e = _throwaway_estate(w)
    r = w.client.delete(f"/api/orgs/{m.org_id}/estates/{e}", headers=m.auth)
    return Attempt(r, lambda: not _estate_exists(w, e))


# An estate of one host of Windows Server, for the calls that compute: the matrix asks who may
# start the work, and that it is done; the sample estate's size adds only time.
SMALL = [
    ("files", ("hosts.csv", b"host,processors,cores_per_processor\nhv1,1,8\n")),
    ("files", ("oses.csv", b"ose,host,virtual\nhv1-os,hv1,no\n")),
    (
        "files",
        ("software.csv", b"ose,product,edition,version\nhv1-os,windows-server,standard,2025\n"),
    ),
]
_small: dict[int, int] = {}  # the world (its id) -> its small estate


def small_estate(w: World) -> int:
    if id(w) not in _small:
        r = w.client.post(
            f"/api/orgs/{w.admin.org_id}/estates",
            files=SMALL,
            data={"name": "small"},
            headers=w.admin.auth,
        )
        assert r.status_code == 202 and _job_ends(w, r), r.text
        _small[id(w)] = int(r.json()["estate"]["id"])
    return _small[id(w)]


def recompute_position(w: World, m: Member) -> Attempt:
    estate = small_estate(w)
    r = w.client.post(f"/api/orgs/{m.org_id}/estates/{estate}/position", headers=m.auth)
    return Attempt(r, lambda: "job" in r.json() and _job_ends(w, r))


def record_purchase(w: World, m: Member) -> Attempt:
    ref = _tag()
    r = w.client.post(
        f"/api/orgs/{m.org_id}/ledger/entitlements",
        json={"id": ref, "product": "rds", "license": "user-cal", "quantity": 1},
        headers=m.auth,
    )
    return Attempt(r, lambda: (_listed(w, ref) or {}).get("owned") == 1)


def assign(w: World, m: Member) -> Attempt:
    ref = _bought(w)
    r = w.client.post(
        f"/api/orgs/{m.org_id}/ledger/assign",
        json={"ref": ref, "to": "user:ann", "on": "2025-01-10"},
        headers=m.auth,
    )
    return Attempt(
        r, lambda: (_listed(w, ref) or {}).get("held") == [{"holder": "user:ann", "units": 1}]
    )


def reassign(w: World, m: Member) -> Attempt:
    ref = _bought(w)
    first = w.client.post(
        f"/api/orgs/{w.admin.org_id}/ledger/assign",
        json={"ref": ref, "to": "user:ann", "on": "2025-01-10"},
        headers=w.admin.auth,
    )
    assert first.status_code == 200, first.text
    r = w.client.post(
        f"/api/orgs/{m.org_id}/ledger/reassign",
        json={"ref": ref, "from": "user:ann", "to": "user:bob", "on": "2025-06-01"},
        headers=m.auth,
    )
    return Attempt(
        r, lambda: (_listed(w, ref) or {}).get("held") == [{"holder": "user:bob", "units": 1}]
    )


def retire(w: World, m: Member) -> Attempt:
    ref = _bought(w, 3)
    r = w.client.post(
        f"/api/orgs/{m.org_id}/ledger/retire",
        json={"ref": ref, "quantity": 1, "on": "2025-01-31", "reason": "sold"},
        headers=m.auth,
    )
    return Attempt(r, lambda: (_listed(w, ref) or {}).get("owned") == 2)


def import_entitlements(w: World, m: Member) -> Attempt:
    ref = _tag()
    text = f"id,product,license,quantity\n{ref},windows-server,device-cal,7\n"
    r = w.client.post(
        f"/api/orgs/{m.org_id}/ledger/import",
        files={"file": ("entitlements.csv", text.encode())},
        headers=m.auth,
    )
    return Attempt(r, lambda: (_listed(w, ref) or {}).get("owned") == 7)


def import_exports(w: World, m: Member) -> Attempt:
    name = _tag()
    users = b'"SamAccountName","DistinguishedName","Enabled"\n"ann","CN=Ann,OU=Staff,DC=contoso,DC=com","True"\n'
    r = w.client.post(
        f"/api/orgs/{m.org_id}/imports",
        files=[("files", ("users.csv", users))],
        data={"kind": "ad", "name": name},
        headers=m.auth,
    )
    a = w.admin

    def happened() -> bool:
        listed = w.client.get(f"/api/orgs/{a.org_id}/estates", headers=a.auth).json()["estates"]
        return any(e["name"] == name for e in listed) and _job_ends(w, r)

    return Attempt(r, happened)


def decide_on_estate(w: World, m: Member) -> Attempt:
    r = w.client.post(
        f"/api/orgs/{m.org_id}/estates/{small_estate(w)}/decide", json={"years": 1}, headers=m.auth
    )
    return Attempt(r, lambda: "job" in r.json() and _job_ends(w, r))


def _user_id(w: World, email: str) -> int | None:
    members = w.client.get(f"/api/orgs/{w.admin.org_id}/members", headers=w.admin.auth)
    return next((x["user_id"] for x in members.json()["members"] if x["email"] == email), None)


def add_member(w: World, m: Member) -> Attempt:
    """Adds the outsider to A as a viewer (taken out again once seen: sign-ups are rate
    limited, so the matrix reuses the users it has)."""
    r = w.client.post(
        f"/api/orgs/{m.org_id}/members",
        json={"email": w.outsider.email, "role": "viewer"},
        headers=m.auth,
    )

    def happened() -> bool:
        user_id = _user_id(w, w.outsider.email)
        if user_id is not None:
            out = w.client.delete(
                f"/api/orgs/{w.admin.org_id}/members/{user_id}", headers=w.admin.auth
            )
            assert out.status_code == 200, out.text
        return user_id is not None

    return Attempt(r, happened)


def remove_member(w: World, m: Member) -> Attempt:
    """Removes the viewer from A (put back once seen gone)."""
    user_id = _user_id(w, w.viewer.email)
    assert user_id is not None
    r = w.client.delete(f"/api/orgs/{m.org_id}/members/{user_id}", headers=m.auth)

    def happened() -> bool:
        gone = w.viewer.email not in _member_emails(w, w.admin.org_id)
        if gone:
            back = w.client.post(
                f"/api/orgs/{w.admin.org_id}/members",
                json={"email": w.viewer.email, "role": "viewer"},
                headers=w.admin.auth,
            )
            assert back.status_code == 201, back.text
        return gone

    return Attempt(r, happened)


def _throwaway_estate(w: World) -> int:
    r = w.client.post(
        f"/api/orgs/{w.admin.org_id}/estates",
        files=[("files", ("hosts.csv", b"host\n"))],
        headers=w.admin.auth,
    )
    return int(r.json()["estate"]["id"])


# name: (the weakest role allowed, the status of success, the call)
WRITES: dict[str, tuple[str, int, Callable[[World, Member], Attempt]]] = {
    "upload estate": ("editor", 202, upload_estate),
    "delete estate": ("editor", 200, delete_estate),
    "recompute position": ("editor", 202, recompute_position),
    "import exports": ("editor", 202, import_exports),
    "decide on an estate": ("viewer", 202, decide_on_estate),
    "record purchase": ("editor", 201, record_purchase),
    "import entitlements": ("editor", 201, import_entitlements),
    "assign": ("editor", 200, assign),
    "reassign": ("editor", 200, reassign),
    "retire": ("editor", 200, retire),
    "add member": ("admin", 201, add_member),
    "remove member": ("admin", 200, remove_member),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_role_matrix(world: World, write: str, role: str) -> None:
    """Viewers read (and may ask the decision tool); editors import and change the ledger;
    admins manage members. Allowed: the call's status and its effect; refused: 403 in the
    envelope, and no effect."""
    needed, status, call = WRITES[write]
    attempt = call(world, member(world, role))
    r = attempt.response
    if ROLES.index(role) < ROLES.index(needed):
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["ok"] is False and [e["code"] for e in body["errors"]] == ["forbidden"]
        assert set(body["errors"][0]) <= {"code", "message", "source"}
        assert needed in body["errors"][0]["message"]  # it says which role is needed
        assert not attempt.happened(), f"{write} by a {role} left a trace"
    else:
        assert r.status_code == status, r.text
        assert r.json()["ok"] is True, r.text
        assert attempt.happened(), f"{write} by a {role} answered {status} but did nothing"


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_into_another_organisation_is_404(world: World, write: str) -> None:
    """The outsider administers organisation B; in A every write is 404 in the envelope, not
    403, so A's existence does not leak — and nothing happens."""
    _needed, _status, call = WRITES[write]
    outsider = Member(world.outsider.email, world.outsider.token, world.admin.org_id)
    attempt = call(world, outsider)
    r = attempt.response
    assert r.status_code == 404, r.text
    assert r.json()["ok"] is False
    assert [e["code"] for e in r.json()["errors"]] == ["not-found"]
    assert not attempt.happened(), f"{write} by an outsider left a trace"


READS = [
    "/estates",
    "/estates/{e}",
    "/estates/{e}/position",
    "/estates/{e}/position?as_of=2025-06-30&entitlements=ledger",
    "/estates/{e}/lines/0",
    "/estates/{e}/lines/0?entitlements=ledger",
    "/estates/{e}/tables",
    "/estates/{e}/tables/hosts",
    "/jobs/1",
    "/ledger/entitlements",
    "/ledger/history",
    "/members",
    "/compare?a={e}&b={e}",
]


@pytest.mark.parametrize("path", READS)
def test_a_viewer_reads(world: World, path: str) -> None:
    v = world.viewer
    r = world.client.get(f"/api/orgs/{v.org_id}" + path.format(e=world.estate_id), headers=v.auth)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True


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
