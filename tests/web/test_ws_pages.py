"""Issue #17 item 5 and 6 contracts on the pages: write forms only for those who may use them,
styled error pages that keep what was typed, the plan per holder, the evidence paged and linked,
the products as tables with a version-aware search, lists sorted and filtered on the server, the
ledger and its audit as spreadsheet-safe CSV, audit rows in words, dates for people, messages
without command-line flags, and the dashboard across the organisation's estates. Each runs on
SQLite and, with ENTITLE_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from .conftest import World, login
from .kit import upload

HTML = {"accept": "text/html"}


def page(c: TestClient, email: str, path: str) -> str:
    login(c, email)
    r = c.get(path, headers=HTML)
    assert r.status_code == 200, (path, r.status_code, r.text[:500])
    return r.text


def test_viewers_see_no_write_forms_and_editors_do(world: World) -> None:
    c, org = world.client, world.admin.org_id
    viewer_ledger = page(c, world.viewer.email, f"/orgs/{org}/ledger")
    viewer_estates = page(c, world.viewer.email, f"/orgs/{org}/estates")
    viewer_assign = page(c, world.viewer.email, f"/orgs/{org}/ledger/assign")
    viewer_members = page(c, world.viewer.email, f"/orgs/{org}/members")
    for html in (viewer_ledger, viewer_estates, viewer_assign, viewer_members):
        assert 'method="post" action="/orgs/' not in html  # only the sign-out form posts
    assert "Record a purchase" not in viewer_ledger and "Upload an estate" not in viewer_estates
    assert 'id="read-only"' in viewer_estates and 'id="read-only"' in viewer_assign
    editor_ledger = page(c, world.editor.email, f"/orgs/{org}/ledger")
    assert f'action="/orgs/{org}/ledger/retire"' in editor_ledger
    assert f'action="/orgs/{org}/members"' not in page(
        c, world.editor.email, f"/orgs/{org}/members"
    )
    assert f'action="/orgs/{org}/members"' in page(c, world.admin.email, f"/orgs/{org}/members")


# An estate whose cheapest CAL plan is worked out by hand (the same as test_ws_decide's): ann
# uses two PCs, so one user CAL (10) beats two device CALs (16); bob and cat share the kiosk, so
# one device CAL (8) beats two user CALs (20) — licensing-rules.md §1.1 (a user CAL covers the
# user on any device, a device CAL any user of the device). Access lines: ann pc1 = 2, ann pc2 =
# 3, bob kiosk = 4, cat kiosk = 5.
ESTATE = {
    "hosts": "host,processors,cores_per_processor\nh1,1,16\n",
    "oses": "ose,host,virtual\nh1,h1,no\n",
    "software": "ose,product,edition,version\nh1,windows-server,standard,2022\n",
    "users": "user,external\nann,no\nbob,no\ncat,no\n",
    "devices": "device,kind\npc1,workstation\npc2,workstation\nkiosk,workstation\n",
    "access": "ose,product,user,device\n"
    "h1,windows-server,ann,pc1\nh1,windows-server,ann,pc2\n"
    "h1,windows-server,bob,kiosk\nh1,windows-server,cat,kiosk\n",
    "prices": "product,license,price\nwindows-server,user-cal,10\nwindows-server,device-cal,8\n",
}


def test_the_plan_says_what_each_user_and_device_holds_and_why(world: World) -> None:
    c, m = world.client, world.viewer
    e = upload(c, world.editor, ESTATE, "plan")
    base = f"/orgs/{m.org_id}/estates/{e}/plan"
    ann = c.get(base + "?q=ann", headers=m.auth).text
    rows = re.findall(
        r"<tr><td><a href=\"\?q=[^\"]+\">([^<]+)</a></td><td>(\w+)</td><td>([^<]+)", ann
    )
    assert rows == [("ann", "user", "windows-server 2022 user-cal")]
    assert "1 user cal(s) in the cheapest plan" in ann
    kiosk = c.get(base + "?q=kiosk", headers=m.auth).text
    assert "windows-server 2022 device-cal" in kiosk and "<td>device</td>" in kiosk
    # bob holds nothing himself: the kiosk's device CAL covers him
    assert 'id="plan-none"' in c.get(base + "?q=bob", headers=m.auth).text
    # filter by kind: the one device CAL; the host needs 16 core licenses (1 processor × 16 cores, §3.1)
    devices = c.get(base + "?kind=device", headers=m.auth).text
    assert re.search(r'id="plan-count">1 license for 1 holder', devices)
    hosts = c.get(base + "?kind=host&product=windows-server", headers=m.auth).text
    assert re.search(r"<td>h1</a>|>h1</a></td><td>host</td>", hosts)
    assert re.search(r'<td class="n">16</td>', hosts)


def test_evidence_is_paged_in_line_order_and_links_to_the_rows(world: World) -> None:
    # 60 users share one kiosk: one device CAL whose evidence is access lines 2..61; text order
    # put access.csv:10 before access.csv:2 and the engine kept only 50 of them.
    users = [f"u{i:02d}" for i in range(60)]
    tables = {
        **{k: ESTATE[k] for k in ("hosts", "oses", "software", "prices")},
        "users": "user\n" + "".join(f"{u}\n" for u in users),
        "devices": "device\nkiosk\n",
        "access": "ose,product,user,device\n"
        + "".join(f"h1,windows-server,{u},kiosk\n" for u in users),
    }
    c, m = world.client, world.viewer
    e = upload(c, world.editor, tables, "kiosk")
    position = c.get(f"/api/orgs/{m.org_id}/estates/{e}/position", headers=m.auth).json()
    (index,) = [
        i for i, x in enumerate(position["position"]["lines"]) if x["license"] == "device-cal"
    ]
    (need,) = position["position"]["plan"]["cals"]
    assert need["evidence"][:3] == ["access.csv:2", "access.csv:3", "access.csv:4"]
    assert len(need["evidence"]) == 50 and need["evidence_total"] == 60
    line = f"/orgs/{m.org_id}/estates/{e}/lines/{index}"
    first = c.get(line, headers=m.auth).text
    assert "References 1–50 of 60" in first
    refs = re.findall(r"tables/access\?at=access.csv%3A(\d+)#row", first)
    assert refs == [str(n) for n in range(2, 52)]
    second = c.get(line + "?page=2", headers=m.auth).text
    assert "References 51–60 of 60" in second
    assert re.findall(r"at=access.csv%3A(\d+)#row", second) == [str(n) for n in range(52, 62)]
    # the link opens the page of the table holding that row (row 51 of 60: page 2), marked
    row = c.get(f"/orgs/{m.org_id}/estates/{e}/tables/access?at=access.csv:52", headers=m.auth)
    assert "page 2 of 2" in row.text
    assert re.search(
        r'<tr id="row" class="marked"><td><small>access.csv:52</small></td><td>h1', row.text
    )
