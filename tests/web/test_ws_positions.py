"""Positions on another basis (``entitle position --as-of DAY --db LEDGER`` on the web): as of
another day, and with the organisation's ledger entitlements — bought, retired — instead of the
estate's own. One small estate, every number worked out by hand:

    hosts.csv      h1: 1 processor x 16 cores
    software.csv   h1 runs Windows Server 2025 Standard
    entitlements   E-1: 16 Standard core licenses of version 2022 with SA until 2027-12-31
    prices.csv     a Standard core license costs 70

Per-core rule (licensing-rules §3.1): every physical core, at least 8 per processor and 16 per
server: 16 core licenses for h1, of version 2025. Software Assurance gives the newest version
released while it runs (§1.4): on 2026-06-01 that is 2025 (released 2024-11-01), so E-1 covers
h1; on 2024-06-01 it is 2022, and the 16 licenses of 2025 are missing: 16 x 70 = 1,120.
"""

from __future__ import annotations

import secrets

from .conftest import World
from .kit import refused, upload

TINY = {
    "hosts": "host,processors,cores_per_processor\nh1,1,16\n",
    "oses": "ose,host,virtual\nh1,h1,no\n",
    "software": "ose,product,edition,version\nh1,windows-server,standard,2025\n",
    "entitlements": "id,product,license,quantity,edition,version,sa_until\n"
    "E-1,windows-server,core,16,standard,2022,2027-12-31\n",
    "prices": "product,license,price,edition\nwindows-server,core,70,standard\n",
}


def core_line(position: dict) -> dict:
    (line,) = [
        x
        for x in position["lines"]
        if (x["product"], x["license"], x["version"]) == ("windows-server", "core", "2025")
    ]
    return line


def test_as_of_judges_software_assurance_on_that_day(world: World) -> None:
    c, m = world.client, world.editor
    e = upload(c, m, TINY)
    base = f"/api/orgs/{m.org_id}/estates/{e}/position"
    later = c.get(base + "?as_of=2026-06-01", headers=world.viewer.auth).json()
    assert later["basis"] == {"as_of": "2026-06-01", "entitlements": "estate"}
    line = core_line(later["position"])
    assert (line["required"], line["owned"], line["shortfall"]) == (16, 16, 0)
    earlier = c.get(base + "?as_of=2024-06-01", headers=world.viewer.auth).json()["position"]
    line = core_line(earlier)
    assert (line["required"], line["owned"], line["shortfall"], line["cost"]) == (16, 0, 16, 1120)
    assert earlier["as_of"] == "2024-06-01" and earlier["total_cost"] == 1120
    # the evidence endpoint answers on the same basis
    index = earlier["lines"].index(line)
    why = c.get(
        f"/api/orgs/{m.org_id}/estates/{e}/lines/{index}?as_of=2024-06-01", headers=m.auth
    ).json()
    assert why["line"]["shortfall"] == 16 and why["covered_by"] == []
    # and the report formats too
    book = c.get(base + "?as_of=2024-06-01&format=xlsx", headers=m.auth)
    assert book.status_code == 200 and book.content[:2] == b"PK"


def test_the_ledger_basis_counts_purchases_and_retirements_by_their_dates(world: World) -> None:
    """L: 8 Standard 2025 core licenses bought 2026-01-10; 3 retired on 2026-03-31 (owned
    through that day, not after). Ledger basis, the estate's E-1 ignored:
    2025-12-01: nothing bought yet, 16 short (1,120); 2026-03-31: 8 owned, 8 short (560);
    2026-06-01: 5 owned, 11 short (770)."""
    c, m = world.client, world.editor
    e = upload(c, m, TINY)
    ref = "L-" + secrets.token_hex(3)
    ledger = f"/api/orgs/{m.org_id}/ledger"
    bought = c.post(
        ledger + "/entitlements",
        json={
            "id": ref,
            "product": "windows-server",
            "license": "core",
            "edition": "standard",
            "version": "2025",
            "quantity": 8,
            "purchased": "2026-01-10",
        },
        headers=m.auth,
    )
    assert bought.status_code == 201, bought.text
    retired = c.post(
        ledger + "/retire",
        json={"ref": ref, "quantity": 3, "on": "2026-03-31", "reason": "sold with h9"},
        headers=m.auth,
    )
    assert retired.status_code == 200, retired.text
    message = retired.json()["message"]
    assert message.startswith("retired 3 core") and f"{ref} on 2026-03-31: sold with h9" in message
    base = f"/api/orgs/{m.org_id}/estates/{e}/position?entitlements=ledger&as_of="
    for day, owned, short in (("2025-12-01", 0, 16), ("2026-03-31", 8, 8), ("2026-06-01", 5, 11)):
        body = c.get(base + day, headers=m.auth).json()
        assert body["basis"] == {"as_of": day, "entitlements": "ledger"}
        line = core_line(body["position"])
        assert (line["owned"], line["shortfall"], line["cost"]) == (owned, short, short * 70), day
    # the ledger's id, without the organisation's prefix, covers the line
    index = body["position"]["lines"].index(core_line(body["position"]))
    why = c.get(
        f"/api/orgs/{m.org_id}/estates/{e}/lines/{index}?entitlements=ledger&as_of=2026-06-01",
        headers=m.auth,
    ).json()
    assert [(a["entitlement"], a["quantity"]) for a in why["covered_by"]] == [(ref, 5)]
    # retiring more than is left is refused, with the count left
    more = c.post(
        ledger + "/retire", json={"ref": ref, "quantity": 6, "reason": "x"}, headers=m.auth
    )
    body = refused(more, 409, "refused")
    assert "5 units not yet retired; 6 asked" in body["errors"][0]["message"]


def test_a_bad_basis_is_422_and_the_stored_position_is_unchanged(world: World) -> None:
    c, m = world.client, world.viewer
    base = f"/api/orgs/{m.org_id}/estates/{world.estate_id}/position"
    refused(c.get(base + "?as_of=2026-02-30", headers=m.auth), 422, "invalid")
    refused(c.get(base + "?entitlements=mine", headers=m.auth), 422, "invalid")
    stored = c.get(base, headers=m.auth).json()
    assert "basis" not in stored and stored["position"]["total_cost"] > 0


def test_the_estate_page_computes_on_the_chosen_basis(world: World) -> None:
    c, m = world.client, world.editor
    e = upload(c, m, TINY)
    page = c.get(
        f"/orgs/{m.org_id}/estates/{e}?as_of=2024-06-01&entitlements=estate",
        headers=m.auth,
    )
    assert page.status_code == 200
    assert 'id="basis-note"' in page.text and "Computed as of 2024-06-01" in page.text
    assert "1,120.00" in page.text
    assert "/lines/0?as_of=2024-06-01" in page.text  # the drill-down keeps the basis
    assert "position?format=xlsx&amp;as_of=2024-06-01" in page.text
    bad = c.get(f"/orgs/{m.org_id}/estates/{e}?as_of=someday", headers=m.auth)
    assert bad.status_code == 200 and "is not a day; write YYYY-MM-DD" in bad.text


# Two VMs at Azure (docs/rules/cloud-and-hybrid.md; licensing-rules.md §7.2): az1 runs Windows
# Server 2022 Datacenter under the organisation's own licenses (model byol), az2 under the
# provider's bill. E-9: 16 Datacenter core licenses of 2022 with SA until 2030. Azure Hybrid
# Benefit counts a Windows VM by its virtual cores with at least 8 per VM: az1 (4 vCPUs) needs 8,
# which E-9 covers under AHB (active SA); az2 needs nothing of the organisation's.
CLOUDY = {
    "hosts": "host,processors,cores_per_processor,provider,dedicated\nazure-weu,,,azure,no\n",
    "oses": "ose,host,virtual,vcpus\naz1,azure-weu,yes,4\naz2,azure-weu,yes,2\n",
    "software": "ose,product,edition,version,model\n"
    "az1,windows-server,datacenter,2022,byol\naz2,windows-server,datacenter,2022,provider\n",
    "entitlements": "id,product,license,quantity,edition,version,sa_until\n"
    "E-9,windows-server,core,16,datacenter,2022,2030-12-31\n",
}


def test_the_estate_page_shows_what_covers_each_cloud_workload(world: World) -> None:
    c, m = world.client, world.editor
    e = upload(c, m, CLOUDY)
    position = c.get(f"/api/orgs/{m.org_id}/estates/{e}/position", headers=m.auth).json()
    rows = {r["ose"]: r for r in position["position"]["cloud"]}
    assert (rows["az1"]["model"], rows["az1"]["entitlement"], rows["az1"]["quantity"]) == (
        "byol",
        "E-9",
        8,
    )
    assert rows["az1"]["short"] == 0 and rows["az2"]["model"] == "provider"
    page = c.get(f"/orgs/{m.org_id}/estates/{e}", headers=world.viewer.auth)
    assert page.status_code == 200 and 'id="cloud"' in page.text
    assert "At cloud providers and outsourcers" in page.text
    assert "the provider&#39;s bill" in page.text and "own licenses" in page.text
    assert ">E-9<" in page.text
