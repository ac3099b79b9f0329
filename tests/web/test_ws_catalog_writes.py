"""Issue #17 item 1: every write path checks a purchase against the catalog as the file import
does (422 naming the field, with a did-you-mean), and a row stored before that check (an unknown
product) never makes a position answer 500: it is a finding, an admin annotates it, and once it
is retired it is gone from the positions after the retirement.

One small estate, worked by hand (licensing-rules §3.1: every physical core, at least 8 per
processor and 16 per server):

    h1: 1 processor x 16 cores, Windows Server 2025 Standard  -> 16 core licenses of 2025
    ledger L-1: 16 Standard core licenses of 2025, bought 2024-01-01 -> owned 16, short 0
    ledger BAD-1: 5 units of 'sql-servr' (no such product), bought 2024-01-01
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from entitle.estate.records import Entitlement
from entitle.ledger import service
from entitle.ledger.importing import Candidate
from entitle.web import orgledger
from entitle.web.models import Organisation

from .conftest import World
from .kit import refused, sign_in, upload

TINY = {
    "hosts": "host,processors,cores_per_processor\nh1,1,16\n",
    "oses": "ose,host,virtual\nh1,h1,no\n",
    "software": "ose,product,edition,version\nh1,windows-server,standard,2025\n",
}


def test_a_purchase_of_an_unknown_product_edition_or_version_is_422(world: World) -> None:
    c, m = world.client, world.editor
    url = f"/api/orgs/{m.org_id}/ledger/entitlements"
    base = {"license": "core", "quantity": 2}
    body = refused(
        c.post(url, json={**base, "product": "sql-servr"}, headers=m.auth), 422, "invalid"
    )
    (item,) = body["errors"]
    assert item["source"] == "product"
    assert "unknown product 'sql-servr'" in item["message"]
    assert "did you mean 'sql-server'?" in item["message"]
    bad_edition = {**base, "product": "sql-server", "edition": "enterprize"}
    (item,) = refused(c.post(url, json=bad_edition, headers=m.auth), 422, "invalid")["errors"]
    assert item["source"] == "edition" and "did you mean 'enterprise'?" in item["message"]
    bad_version = {**base, "product": "windows-server", "version": "2099"}
    (item,) = refused(c.post(url, json=bad_version, headers=m.auth), 422, "invalid")["errors"]
    assert item["source"] == "version" and "not a version of windows-server" in item["message"]
    bad_license = {**base, "product": "windows-server", "license": "core-pack"}
    (item,) = refused(c.post(url, json=bad_license, headers=m.auth), 422, "invalid")["errors"]
    assert item["source"] == "license"
    # nothing of these was recorded
    listed = c.get(url, headers=m.auth).json()["entitlements"]
    assert not [e for e in listed if e["product"] in ("sql-servr",)]


def test_the_ledger_form_refuses_an_unknown_product_with_a_did_you_mean(world: World) -> None:
    c, m = world.client, world.editor
    csrf = sign_in(c, m.email)
    try:
        page = c.post(
            f"/orgs/{m.org_id}/ledger",
            data={
                "csrf_token": csrf,
                "product": "windows-servr",
                "license": "user-cal",
                "quantity": "3",
                "id": "FORM-1",
            },
        )
    finally:
        c.cookies.clear()
    assert page.status_code == 200
    assert "unknown product &#39;windows-servr&#39;" in page.text
    assert "did you mean &#39;windows-server&#39;?" in page.text
    assert "recorded FORM-1" not in page.text


def store_unchecked(world: World, ref: str, product: str, quantity: int) -> None:
    """A row as one written before the write paths checked the catalog (straight through the
    ledger's import, as the old purchase path did)."""
    ws = world.client.app.state.workspace  # type: ignore[attr-defined]
    with Session(ws.engine) as session:
        org = session.execute(
            select(Organisation).where(Organisation.id == world.admin.org_id)
        ).scalar_one()
        session.expunge(org)
    record = Entitlement(product, "core", quantity, ref)
    record = Entitlement(
        record.product, record.license, record.quantity, record.id, purchased=date(2024, 1, 1)
    )
    digest = hashlib.sha256(f"{org.id}#{ref}#{secrets.token_hex(4)}".encode()).hexdigest()
    ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, "old@path.example")
    report = service.import_candidates(orgledger.mine(ledger, org), [Candidate(record, digest)])
    assert report.added == 1, report


def test_a_stored_unknown_product_is_a_finding_annotated_and_retired(world: World) -> None:
    c, admin, editor = world.client, world.admin, world.editor
    e = upload(c, editor, TINY)
    r = c.post(
        f"/api/orgs/{admin.org_id}/ledger/entitlements",
        json={
            "id": "L-1",
            "product": "windows-server",
            "license": "core",
            "quantity": 16,
            "edition": "standard",
            "version": "2025",
            "purchased": "2024-01-01",
        },
        headers=editor.auth,
    )
    assert r.status_code == 201, r.text
    store_unchecked(world, "BAD-1", "sql-servr", 5)
    url = f"/api/orgs/{admin.org_id}/estates/{e}/position?entitlements=ledger&as_of="

    def position(day: str) -> dict:
        r = c.get(url + day, headers=world.viewer.auth)
        assert r.status_code == 200, r.text
        return dict(r.json()["position"])

    p = position("2025-06-01")
    (line,) = [x for x in p["lines"] if (x["product"], x["license"]) == ("windows-server", "core")]
    assert (line["required"], line["owned"], line["shortfall"]) == (16, 16, 0)
    (finding,) = [f for f in p["findings"] if f["code"] == "ledger-row-unknown"]
    assert finding["severity"] == "warning" and finding["source"] == "ledger:BAD-1"
    assert "BAD-1 (5 units)" in finding["message"]
    assert "did you mean 'sql-server'?" in finding["message"]
    # the line's evidence answers too (it computed the same position)
    assert c.get(
        f"/api/orgs/{admin.org_id}/estates/{e}/lines/0?entitlements=ledger&as_of=2025-06-01",
        headers=editor.auth,
    ).status_code in (200, 404)

    # only an admin annotates; the note shows in the finding and in the audit trail
    note = {"ref": "BAD-1", "note": "typed by hand in 2024; it is SQL Server, to be retired"}
    refused(
        c.post(f"/api/orgs/{admin.org_id}/ledger/annotate", json=note, headers=editor.auth),
        403,
        "forbidden",
    )
    r = c.post(f"/api/orgs/{admin.org_id}/ledger/annotate", json=note, headers=admin.auth)
    assert r.status_code == 201, r.text
    (finding,) = [
        f for f in position("2025-06-01")["findings"] if f["code"] == "ledger-row-unknown"
    ]
    assert finding["message"].endswith(
        "note: typed by hand in 2024; it is SQL Server, to be retired"
    )
    events = c.get(f"/api/orgs/{admin.org_id}/ledger/history?ref=BAD-1", headers=admin.auth).json()[
        "events"
    ]
    assert [ev["action"] for ev in events][-1] == "entitlement.annotate"
    assert c.get(f"/api/orgs/{admin.org_id}/ledger/verify", headers=admin.auth).json()["ok"]

    # retired on 2025-06-30: owned through that day, not after (docs/web.md, ledger retire)
    r = c.post(
        f"/api/orgs/{admin.org_id}/ledger/retire",
        json={"ref": "BAD-1", "reason": "not a product", "on": "2025-06-30"},
        headers=editor.auth,
    )
    assert r.status_code == 200, r.text
    assert [f for f in position("2025-06-30")["findings"] if f["code"] == "ledger-row-unknown"]
    assert not [f for f in position("2025-07-01")["findings"] if f["code"] == "ledger-row-unknown"]
