"""Inputs at the web's edge that once made a 500 (issue #14 item 5) or a second account (item
6): a CSRF token that is not ASCII is a wrong token (403); a NUL character in any text field —
API JSON, a page's form, a query, a multipart form's field — is refused with 422 in the one
error envelope before the database sees it (PostgreSQL cannot store it); e-mail addresses are
compared after NFKC and case folding, while names in any script stay welcome. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from fastapi import FastAPI

from entitle.web.security import Limits

from .conftest import PASSWORD, World, fresh_app, sign_up
from .kit import sign_in


@pytest.fixture(scope="module")
def app(db_url: str, data_dir: Path) -> FastAPI:
    """The module's app, with room for the sign-ups the tests make."""
    limits = Limits(address_signups=10_000, address_failures=10_000)
    return fresh_app(db_url, data_dir, limits=limits)


def envelope_422(r: object, field: str | None = None) -> None:
    status = getattr(r, "status_code", None)
    body = r.json()  # type: ignore[attr-defined]
    assert status == 422, (status, r.text)  # type: ignore[attr-defined]
    assert body["ok"] is False and "NUL" in body["errors"][0]["message"], body
    if field is not None:
        assert body["errors"][0]["source"] == field, body


@pytest.mark.parametrize("token", ["tökén", "山田", "\u00e9" * 43])
def test_a_csrf_token_that_is_not_ascii_is_a_wrong_token(world: World, token: str) -> None:
    c = world.client
    sign_in(c, world.editor.email)
    try:
        header = c.post(
            "/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": token.encode("utf-8")}
        )
        assert header.status_code == 403, header.text
        assert header.json()["errors"][0]["code"] == "csrf"
        form = c.post("/account/tokens", data={"csrf_token": token, "name": "x"})
        assert form.status_code == 403, form.text
    finally:
        c.cookies.clear()


def test_a_bearer_token_that_is_not_ascii_is_a_wrong_token(world: World) -> None:
    r = world.client.get("/api/me", headers={"Authorization": "Bearer tökén".encode()})
    assert r.status_code == 401, r.text


def test_a_nul_in_api_json_is_422_naming_the_field(world: World) -> None:
    c, m = world.client, world.editor
    r = c.post(
        "/api/signup",
        json={
            "email": f"n{secrets.token_hex(3)}@a.test",
            "password": PASSWORD,
            "organisation": "Ac\u0000me",
        },
    )
    envelope_422(r, "organisation")
    buy = {"id": "N\u00001", "product": "rds", "license": "user-cal", "quantity": 1}
    envelope_422(
        c.post(f"/api/orgs/{m.org_id}/ledger/entitlements", json=buy, headers=m.auth), "id"
    )
    nested = {
        "id": "N-2",
        "product": "rds",
        "license": "user-cal",
        "quantity": 1,
        "extra": {"note\u0000": "x"},
    }
    r = c.post(f"/api/orgs/{m.org_id}/ledger/entitlements", json=nested, headers=m.auth)
    envelope_422(r)
    r = c.get(f"/api/orgs/{m.org_id}/ledger/history?ref=E%00-1", headers=m.auth)
    envelope_422(r, "ref")


def test_a_nul_in_a_page_form_or_a_multipart_field_is_422(world: World) -> None:
    c, m = world.client, world.editor
    r = c.post(
        "/signup",
        data={"email": "x@a.test", "password": PASSWORD, "name": "a\x00b", "organisation": "o"},
    )
    envelope_422(r, "name")
    r = c.post("/login", data={"email": "x\x00@a.test", "password": PASSWORD})
    envelope_422(r, "email")
    # multipart: the files are bytes; the text field reaches the database's own check
    r = c.post(
        f"/api/orgs/{m.org_id}/estates",
        files=[("files", ("hosts.csv", b"host,processors,cores_per_processor\nhv1,1,8\n"))],
        data={"name": "est\x00ate"},
        headers=m.auth,
    )
    assert r.status_code == 422 and "NUL" in r.text, r.text
    r = c.post(
        f"/api/orgs/{m.org_id}/ledger/import",
        files={"file": ("e.csv", b"id,product,license,quantity\nA\x00B,rds,user-cal,1\n")},
        headers=m.auth,
    )
    assert r.status_code == 422 and r.json()["ok"] is False, r.text


def test_a_full_width_address_is_the_same_account(world: World) -> None:
    c = world.client
    tag = secrets.token_hex(3)
    plain = f"alice{tag}@a.test"
    sign_up(c, plain, "Alice's")
    # "ａlice" with a full-width a (U+FF41), and an upper-case one: NFKC and case folding
    for twin in (f"\uff41lice{tag}@a.test", f"ALICE{tag}@A.TEST", f" alice{tag}＠a.test "):
        r = c.post("/api/signup", json={"email": twin, "password": PASSWORD, "organisation": "x"})
        assert r.status_code == 409, (twin, r.text)
        c.cookies.clear()
        r = c.post("/api/login", json={"email": twin, "password": PASSWORD})
        assert r.status_code == 200 and r.json()["user"]["email"] == plain, (twin, r.text)
        c.cookies.clear()


@pytest.mark.parametrize("name", ["jürgen", "josé", "山田", "Ζωή", "Nguyễn"])
def test_names_in_any_script_are_welcome(world: World, name: str) -> None:
    c = world.client
    email = f"{name}{secrets.token_hex(2)}@例え.test"
    r = c.post(
        "/api/signup",
        json={"email": email, "name": name, "password": PASSWORD, "organisation": f"{name} GmbH"},
    )
    assert r.status_code == 201, r.text
    c.cookies.clear()
    r = c.post("/api/login", json={"email": email.upper(), "password": PASSWORD})
    assert r.status_code == 200, r.text
    me = c.get("/api/me").json()
    assert me["user"]["name"] == name
    assert [o["name"] for o in me["organisations"]] == [f"{name} GmbH"]
    c.cookies.clear()


def test_a_member_is_added_by_a_full_width_address(world: World) -> None:
    c, admin = world.client, world.admin
    tag = secrets.token_hex(3)
    carol = sign_up(c, f"carol{tag}@a.test", "Carol's")
    r = c.post(
        f"/api/orgs/{admin.org_id}/members",
        json={"email": f"ＣＡＲＯＬ{tag}@a.test", "role": "viewer"},
        headers=admin.auth,
    )
    assert r.status_code == 201, r.text
    assert carol.email in [m["email"] for m in r.json()["members"]]
