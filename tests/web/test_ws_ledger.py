"""The ledger on the web beyond one purchase: a file of entitlements imported (all or nothing,
twice is a no-op), units retired, the assign and reassign pages with the 90-day rule's refusal
spelled out, and removing members."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .conftest import World, sign_up
from .kit import refused, sign_in, xlsx


def entitlements_csv(tag: str) -> bytes:
    return (
        "id,product,license,quantity,edition,version,purchased\n"
        f"{tag}-A,windows-server,user-cal,25,,2022,2025-01-15\n"
        f"{tag}-B,sql-server,core,4,standard,2022,2025-02-01\n"
    ).encode()


def listed(world: World, tag: str) -> dict[str, dict]:
    m = world.viewer
    items = world.client.get(f"/api/orgs/{m.org_id}/ledger/entitlements", headers=m.auth).json()
    return {e["id"]: e for e in items["entitlements"] if e["id"].startswith(tag)}


def test_a_file_of_entitlements_imports_once(world: World) -> None:
    c, m = world.client, world.editor
    tag = "F" + secrets.token_hex(2)
    url = f"/api/orgs/{m.org_id}/ledger/import"
    first = c.post(url, files={"file": ("mine.csv", entitlements_csv(tag))}, headers=m.auth)
    assert first.status_code == 201, first.text
    assert (first.json()["added"], first.json()["unchanged"]) == (2, 0)
    again = c.post(url, files={"file": ("mine.csv", entitlements_csv(tag))}, headers=m.auth)
    assert (again.json()["added"], again.json()["unchanged"]) == (0, 2)
    found = listed(world, tag)
    assert {k: v["owned"] for k, v in found.items()} == {f"{tag}-A": 25, f"{tag}-B": 4}
    events = c.get(f"/api/orgs/{m.org_id}/ledger/history?ref={tag}-B", headers=m.auth).json()
    assert [e["action"] for e in events["events"]] == ["entitlement.import"]


def test_a_bad_file_imports_nothing_and_names_every_bad_row(world: World) -> None:
    c, m = world.client, world.editor
    tag = "G" + secrets.token_hex(2)
    text = (
        "id,product,license,quantity\n"
        f"{tag}-1,windows-server,user-cal,5\n"
        f"{tag}-2,windows-server,user-cal,many\n"
        f"{tag}-3,windows-servr,user-cal,1\n"
    )
    r = c.post(
        f"/api/orgs/{m.org_id}/ledger/import",
        files={"file": ("C:\\exports\\bad.csv", text.encode())},
        headers=m.auth,
    )
    body = refused(r, 422, "invalid")
    assert [e["source"] for e in body["errors"]] == ["bad.csv:3", "bad.csv:4"]
    assert listed(world, tag) == {}
    wrong = c.post(
        f"/api/orgs/{m.org_id}/ledger/import", files={"file": ("x.pdf", b"%PDF")}, headers=m.auth
    )
    assert refused(wrong, 422, "invalid")["errors"][0]["source"] == "x.pdf"
    keys = c.post(
        f"/api/orgs/{m.org_id}/ledger/import",
        files={
            "file": (
                "keys.csv",
                b"id,product,license,quantity,product_key,key_kind\n"
                b"K1,windows-server,user-cal,5,ABCDE-12345,MAK\n",
            )
        },
        headers=m.auth,
    )
    assert "does not keep product keys" in refused(keys, 422, "invalid")["errors"][0]["message"]


def test_a_workbook_with_a_renamed_column_and_an_agreement(world: World) -> None:
    c, m = world.client, world.editor
    tag = "W" + secrets.token_hex(2)
    book = xlsx(
        {
            "entitlements": [
                ["id", "product", "license", "Licence Qty"],
                [f"{tag}-1", "windows-server", "device-cal", 12],
            ]
        }
    )
    r = c.post(
        f"/api/orgs/{m.org_id}/ledger/import",
        files={"file": ("book.xlsx", book)},
        data={"map": "Licence Qty=quantity", "agreement": "EA-" + tag},
        headers=m.auth,
    )
    assert r.status_code == 201, r.text
    item = listed(world, tag)[f"{tag}-1"]
    assert (item["owned"], item["agreement"]) == (12, "EA-" + tag)
    bad_map = c.post(
        f"/api/orgs/{m.org_id}/ledger/import",
        files={"file": ("book.xlsx", book)},
        data={"map": "no equals sign"},
        headers=m.auth,
    )
    assert refused(bad_map, 422, "invalid")["errors"][0]["source"] == "map"


def test_the_reassign_page_explains_the_90_day_rule(world: World) -> None:
    """§1.7: a CAL reassigned on 2025-03-01 may move again only from 2025-05-30 (90 days
    later), unless for an exception; the page says so and keeps the form filled."""
    c, m = world.client, world.editor
    tag = "R" + secrets.token_hex(2)
    c.post(
        f"/api/orgs/{m.org_id}/ledger/entitlements",
        json={"id": tag, "product": "windows-server", "license": "user-cal", "quantity": 3},
        headers=m.auth,
    )
    csrf = sign_in(c, m.email)
    try:
        page = c.get(f"/orgs/{m.org_id}/ledger/assign?ref={tag}")
        assert page.status_code == 200 and f'value="{tag}" selected' in page.text
        form = {"csrf_token": csrf, "ref": tag, "to_kind": "user", "to_name": "ann"}
        # the first assignment starts the clock too: 2024-11-01 is 120 days before 2025-03-01
        done = c.post(f"/orgs/{m.org_id}/ledger/assign", data={**form, "on": "2024-11-01"})
        assert 'id="move-done"' in done.text, done.text
        move = {
            "csrf_token": csrf,
            "ref": tag,
            "from_kind": "user",
            "from_name": "ann",
            "to_kind": "user",
            "to_name": "bob",
            "on": "2025-03-01",
        }
        ok = c.post(f"/orgs/{m.org_id}/ledger/reassign", data=move)
        assert 'id="move-done"' in ok.text, ok.text
        back = {**move, "from_name": "bob", "to_name": "eve", "on": "2025-03-10"}
        no = c.post(f"/orgs/{m.org_id}/ledger/reassign", data=back)
        assert no.status_code == 200 and 'id="move-error"' in no.text
        assert "allows the next reassignment from 2025-05-30" in no.text
        assert 'value="eve"' in no.text  # the form keeps what was typed
        excused = c.post(
            f"/orgs/{m.org_id}/ledger/reassign", data={**back, "reason": "end-of-employment"}
        )
        assert 'id="move-done"' in excused.text, excused.text
        missing = c.post(f"/orgs/{m.org_id}/ledger/reassign", data={**move, "from_name": ""})
        assert 'id="move-error"' in missing.text
        no_csrf = c.post(f"/orgs/{m.org_id}/ledger/reassign", data={**move, "csrf_token": ""})
        assert no_csrf.status_code == 403
        held = listed(world, tag)[tag]["held"]
        assert held == [{"holder": "user:eve", "units": 1}]
    finally:
        c.cookies.clear()


def test_the_ledger_page_retires_and_imports(world: World) -> None:
    c, m = world.client, world.editor
    tag = "P" + secrets.token_hex(2)
    csrf = sign_in(c, m.email)
    try:
        imported = c.post(
            f"/orgs/{m.org_id}/ledger/import",
            files={"file": ("mine.csv", entitlements_csv(tag))},
            data={"csrf_token": csrf},
        )
        assert "mine.csv: added 2 entitlements, 0 already in the ledger" in imported.text
        retired = c.post(
            f"/orgs/{m.org_id}/ledger/retire",
            data={"csrf_token": csrf, "ref": f"{tag}-A", "quantity": "5", "reason": "sold"},
        )
        assert "retired 5" in retired.text, retired.text
        bad = c.post(
            f"/orgs/{m.org_id}/ledger/import",
            files={
                "file": (
                    "bad.csv",
                    b"id,product,license,quantity\nX,windows-server,user-cal,lots\n",
                )
            },
            data={"csrf_token": csrf},
        )
        assert "nothing was imported" in bad.text and "bad.csv:2" in bad.text
    finally:
        c.cookies.clear()
    assert listed(world, tag)[f"{tag}-A"]["retired"] == 0  # retired today: owned through today


def test_an_admin_removes_a_member_on_the_members_page(world: World) -> None:
    c = world.client
    admin = sign_up(c, f"boss-{secrets.token_hex(3)}@c.example", "Org C")
    temp = sign_up(c, f"temp-{secrets.token_hex(3)}@c.example", "Temp's own")
    r = c.post(
        f"/api/orgs/{admin.org_id}/members",
        json={"email": temp.email, "role": "viewer"},
        headers=admin.auth,
    )
    temp_id = next(x["user_id"] for x in r.json()["members"] if x["email"] == temp.email)
    admin_id = next(x["user_id"] for x in r.json()["members"] if x["email"] == admin.email)
    csrf = sign_in(c, admin.email)
    try:
        page = c.get(f"/orgs/{admin.org_id}/members")
        assert f'aria-label="Remove {temp.email}"' in page.text
        assert c.post(f"/orgs/{admin.org_id}/members/{temp_id}/remove").status_code == 403
        gone = c.post(
            f"/orgs/{admin.org_id}/members/{temp_id}/remove",
            data={"csrf_token": csrf, "confirm": "yes"},
            follow_redirects=False,
        )
        assert gone.status_code == 303
        last = c.post(
            f"/orgs/{admin.org_id}/members/{admin_id}/remove",
            data={"csrf_token": csrf, "confirm": "yes"},
        )
        assert "an organisation keeps at least one admin" in last.text
    finally:
        c.cookies.clear()
    members = c.get(f"/api/orgs/{admin.org_id}/members", headers=admin.auth).json()["members"]
    assert [x["email"] for x in members] == [admin.email]
    # the removed user now gets 404 for the organisation, as for any stranger
    refused(c.get(f"/api/orgs/{admin.org_id}/members", headers=temp.auth), 404, "not-found")
    # a viewer sees no remove buttons
    viewer_page = c.get(f"/orgs/{world.admin.org_id}/members", headers=world.viewer.auth)
    assert "Remove " not in viewer_page.text


def test_a_key_under_any_header_or_in_any_column_is_never_kept_by_the_web(world: World) -> None:
    """Issue #14: a `Product Key` column (not `product_key`) once landed in the entitlement's
    extra columns and its audit event. The web keeps no keys: the import is refused (422), the
    answer names the row but not the key, and nothing is recorded."""
    c, m = world.client, world.editor
    key = "VK7JG-NPHTM-C97JM-9MPGT-3V66T"
    url = f"/api/orgs/{m.org_id}/ledger/import"
    for header, value in (("Product Key", key), ("notes", f"key {key}"), ("ProductKey", key)):
        tag = "K" + secrets.token_hex(2)
        body = f"id,product,license,quantity,{header}\n{tag},rds,user-cal,5,{value}\n".encode()
        r = c.post(url, files={"file": ("keys.csv", body)}, headers=m.auth)
        assert r.status_code == 422, r.text
        assert "keys.csv:2" in r.text and key not in r.text
        assert listed(world, tag) == {}
        history = c.get(f"/api/orgs/{m.org_id}/ledger/history", headers=m.auth)
        assert key not in history.text
    purchase = {"id": "K-1", "product": "rds", "license": "user-cal", "quantity": 1}
    r = c.post(
        f"/api/orgs/{m.org_id}/ledger/entitlements",
        json={**purchase, "agreement": key},
        headers=m.auth,
    )
    assert r.status_code in (409, 422) and key not in r.text, r.text


@contextmanager
def begins(world: World) -> Iterator[list[str]]:
    """The BEGIN statements the app's engine sends while the block runs (SQLite only: PostgreSQL
    has no BEGIN IMMEDIATE, the chain's row lock orders its writers)."""
    from sqlalchemy import event

    engine = world.client.app.state.workspace.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no BEGIN IMMEDIATE: the chain's row lock orders its writers")
    begun: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("BEGIN"):
            begun.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield begun
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_purchase_and_an_assignment_take_the_sqlite_write_lock_once(world: World) -> None:
    """The caller and the membership are read in the request's session, which is closed before
    the ledger writes in a transaction of its own: that session begins with a plain BEGIN, so
    each request takes the write lock (BEGIN IMMEDIATE) once, for the ledger's write — not a
    second time to read who is asking (web/context.py ``writes_in_own_transaction``)."""
    c, m = world.client, world.editor
    tag = "L" + secrets.token_hex(2)
    with begins(world) as begun:
        r = c.post(
            f"/api/orgs/{m.org_id}/ledger/entitlements",
            json={"id": tag, "product": "windows-server", "license": "user-cal", "quantity": 2},
            headers=m.auth,
        )
        assert r.status_code == 201, r.text
        assert begun.count("BEGIN IMMEDIATE") == 1, begun
        begun.clear()
        r = c.post(
            f"/api/orgs/{m.org_id}/ledger/assign",
            json={"ref": tag, "to": "user:ann", "quantity": 1},
            headers=m.auth,
        )
        assert r.status_code == 200, r.text
        assert begun.count("BEGIN IMMEDIATE") == 1, begun
    # a viewer is still refused before anything is written (the checks did not move)
    r = c.post(
        f"/api/orgs/{m.org_id}/ledger/assign",
        json={"ref": tag, "to": "user:bob", "quantity": 1},
        headers=world.viewer.auth,
    )
    assert r.status_code == 403


def test_the_ledger_pages_take_the_sqlite_write_lock_once_too(world: World) -> None:
    """The pages that record, assign, reassign, retire and annotate read the caller and the
    membership, close their session and write in the ledger's own transaction, as the API does:
    one BEGIN IMMEDIATE each (it was two: the page's session began with the write lock too)."""
    c, m = world.client, world.editor
    tag = "P" + secrets.token_hex(2)
    org = f"/orgs/{m.org_id}/ledger"
    forms = [
        ("", {"id": tag, "product": "windows-server", "license": "user-cal", "quantity": "3"}),
        ("/assign", {"ref": tag, "to_kind": "user", "to_name": "ann", "on": "2024-11-01"}),
        ("/reassign", {"ref": tag, "from_kind": "user", "from_name": "ann", "to_name": "bob"}),
        ("/retire", {"ref": tag, "quantity": "1", "reason": "sold"}),
    ]
    with begins(world) as begun:
        for path, form in forms:
            begun.clear()
            r = c.post(org + path, data=form, headers=m.auth)
            done = 'role="status"' in r.text or 'id="move-done"' in r.text
            assert r.status_code == 200 and done and 'class="error"' not in r.text, (path, r.text)
            assert begun.count("BEGIN IMMEDIATE") == 1, (path, begun)
        begun.clear()
        r = c.post(org + "/annotate", data={"ref": tag, "note": "n"}, headers=world.admin.auth)
        assert r.status_code == 200 and 'role="status"' in r.text, r.text
        assert begun.count("BEGIN IMMEDIATE") == 1, begun


def test_a_ledger_import_takes_the_sqlite_write_lock_once(world: World) -> None:
    """The ledger import, API and page, reads the caller and the membership in a session that
    only reads, closed before the import writes in the ledger's own transaction; the page is
    drawn in that reading session too: one BEGIN IMMEDIATE each (the page took three: to read
    the caller, to import, and to draw the ledger after it)."""
    c, m = world.client, world.editor
    with begins(world) as begun:
        tag = "I" + secrets.token_hex(2)
        api = c.post(
            f"/api/orgs/{m.org_id}/ledger/import",
            files={"file": ("mine.csv", entitlements_csv(tag))},
            headers=m.auth,
        )
        assert api.status_code == 201 and api.json()["added"] == 2, api.text
        assert begun.count("BEGIN IMMEDIATE") == 1, begun
        begun.clear()
        tag = "J" + secrets.token_hex(2)
        page = c.post(
            f"/orgs/{m.org_id}/ledger/import",
            files={"file": ("mine.csv", entitlements_csv(tag))},
            headers=m.auth,
        )
        assert page.status_code == 200 and "added 2 entitlements" in page.text, page.text
        assert begun.count("BEGIN IMMEDIATE") == 1, begun
