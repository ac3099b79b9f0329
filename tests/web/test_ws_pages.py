"""Issue #17 item 5 and 6 contracts on the pages: write forms only for those who may use them,
styled error pages that keep what was typed, the plan per holder, the evidence paged and linked,
the products as tables with a version-aware search, lists sorted and filtered on the server, the
ledger and its audit as spreadsheet-safe CSV, audit rows in words, dates for people, messages
without command-line flags, and the dashboard across the organisation's estates. Each runs on
SQLite and, with ENTITLE_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import secrets

from fastapi import FastAPI
from fastapi.testclient import TestClient

from entitle.web.templating import when
from entitle.web.wording import plain

from .conftest import World, login, sign_up
from .kit import job_of, upload

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


def test_refusals_and_missing_pages_are_styled_and_keep_what_was_typed(world: World) -> None:
    c, org = world.client, world.admin.org_id
    csrf = login(c, world.viewer.email)
    form = {
        "csrf_token": csrf,
        "product": "windows-server",
        "license": "user-cal",
        "quantity": "25",
        "agreement": "EA-<b>42</b>",
    }
    r = c.post(f"/orgs/{org}/ledger", data=form, headers=HTML)
    assert r.status_code == 403
    assert '<link rel="stylesheet" href="/static/app.css">' in r.text
    assert "Not allowed" in r.text and "Nothing was changed" in r.text
    kept = r.text[r.text.index('id="kept-input"') :]
    assert "<output>windows-server</output>" in kept and "<output>25</output>" in kept
    assert "EA-&lt;b&gt;42&lt;/b&gt;" in kept  # escaped, never markup
    assert csrf not in kept  # the CSRF token is not shown back
    assert 'href="/orgs/' in r.text  # the header of a signed-in page, with its navigation
    missing = c.get("/orgs/2147483000/ledger", headers=HTML)
    assert missing.status_code == 404 and "Not found" in missing.text
    assert "/static/app.css" in missing.text and 'id="kept-input"' not in missing.text
    # the API keeps the JSON envelope
    api = c.get("/api/orgs/2147483000/estates", headers={"accept": "application/json"})
    assert api.status_code == 404 and api.json()["ok"] is False


def test_an_unexpected_error_is_a_styled_500_without_detail(world: World, app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/test-boom-page", boom, include_in_schema=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/test-boom-page", headers=HTML)
    assert r.status_code == 500
    assert "Something went wrong" in r.text and "/static/app.css" in r.text
    assert "secret detail" not in r.text


def test_products_read_as_tables_and_search_by_version(world: World) -> None:
    c = world.client
    everything = page(c, world.viewer.email, "/products")
    # an empty search lists every product of the catalog (30 of them, by name)
    assert re.search(r'id="product-count">30 products', everything)
    assert everything.count("/products?q=") == 30
    sql = page(c, world.viewer.email, "/products?q=SQL+Server+2019")
    assert '<h2 id="p-sql-server">SQL Server 2019' in sql
    assert "<mark>2019</mark>" in sql
    models = sql[sql.index('class="models"') : sql.index("</table>", sql.index('class="models"'))]
    # the catalog's SQL Server model rows that include 2019: standard, enterprise, web,
    # developer/express (2008 R2's two rows do not)
    assert models.count("<tr><td>") == 4 and "<td>2008r2</td>" not in models
    for internal in ("\\u2013", "ServiceNow", "licensing-rules.md", '"core_rule"', "choice"):
        assert internal not in sql
    assert 'id="no-match"' in page(c, world.viewer.email, "/products?q=SQL+Server+1997")


def test_lists_sort_and_filter_on_the_server(world: World) -> None:
    c, m = world.client, world.editor
    org = m.org_id
    tag = secrets.token_hex(3)
    for ref in (f"S{tag}-10", f"S{tag}-2", f"S{tag}-1"):
        r = c.post(
            f"/api/orgs/{org}/ledger/entitlements",
            json={"id": ref, "product": "windows-server", "license": "user-cal", "quantity": 3},
            headers=m.auth,
        )
        assert r.status_code in (200, 201), r.text
    base = f"/orgs/{org}/ledger?q=S{tag}"
    ids = lambda html: re.findall(rf"<tr><td>(S{tag}-\d+)</td>", html)  # noqa: E731
    # numbers in ids compare as numbers: 1, 2, 10 (text order gave 1, 10, 2)
    assert ids(c.get(base + "&sort=id", headers=m.auth).text) == [f"S{tag}-{n}" for n in (1, 2, 10)]
    desc = c.get(base + "&sort=id&dir=desc", headers=m.auth).text
    assert ids(desc) == [f"S{tag}-{n}" for n in (10, 2, 1)]
    assert "aria-sort='descending'" in desc
    assert ids(c.get(base + "-2", headers=m.auth).text) == [f"S{tag}-2"]
    # the position lines: ESTATE's core line is 16 short (1 processor × 16 cores, §3.1), the two
    # CAL lines 1 each, so sorting by shortfall, descending, puts the core line first
    e = upload(c, m, ESTATE, "sorted")
    lines = c.get(f"/orgs/{org}/estates/{e}?sort=shortfall&dir=desc", headers=m.auth).text
    shorts = re.findall(r'<td class="n short">(\d+)</td>', lines)
    assert shorts == ["16", "1", "1"]
    only = c.get(f"/orgs/{org}/estates/{e}?q=device-cal", headers=m.auth).text
    assert re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">", only) == [
        "windows-server 2022 device-cal"
    ]


def test_ledger_and_audit_export_as_safe_csv_in_words(world: World) -> None:
    c, m = world.client, world.editor
    org = m.org_id
    ref = "X" + secrets.token_hex(3)
    bought = c.post(
        f"/api/orgs/{org}/ledger/entitlements",
        json={
            "id": ref,
            "product": "windows-server",
            "license": "user-cal",
            "version": "2022",
            "quantity": 5,
            "agreement": "=HYPERLINK(1)",
        },
        headers=m.auth,
    )
    assert bought.status_code in (200, 201), bought.text
    moves = f"/api/orgs/{org}/ledger"
    r = c.post(
        moves + "/assign",
        json={"ref": ref, "to": "user:ann", "quantity": 2, "on": "2025-01-02"},
        headers=m.auth,
    )
    assert r.status_code == 200, r.text
    # 1 of ann's 2 units to bob on her leaving (§1.7's end-of-employment exception)
    r = c.post(
        moves + "/reassign",
        json={
            "ref": ref,
            "from": "user:ann",
            "to": "user:bob",
            "quantity": 1,
            "on": "2025-01-03",
            "reason": "end-of-employment",
        },
        headers=m.auth,
    )
    assert r.status_code == 200, r.text
    sheet = c.get(f"/orgs/{org}/ledger/entitlements.csv?q={ref}", headers=m.auth)
    assert sheet.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(sheet.text)))
    assert row["agreement"] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    # 5 bought; 2 assigned to ann, 1 of them moved on to bob: 3 free, ann 1, bob 1
    assert (row["owned"], row["free"]) == ("5", "3")
    assert row["held_by"] == "user:ann (1); user:bob (1)"
    audit = c.get(f"/orgs/{org}/ledger/audit.csv?aq={ref}&asort=seq&adir=asc", headers=m.auth)
    events = [
        (e["what"], e["from"], e["to"], e["quantity"], e["day"])
        for e in csv.DictReader(io.StringIO(audit.text))
    ]
    assert events == [
        ("recorded windows-server 2022 user-cal", "purchase", "the ledger", "5", ""),
        ("assigned", "free units", "user:ann", "2", "2025-01-02"),
        ("ended a holding", "user:ann", "", "2", "2025-01-03"),
        ("kept the rest", "user:ann", "user:ann", "1", "2025-01-03"),
        ("reassigned", "user:ann", "user:bob", "1", "2025-01-03"),
    ]
    html = c.get(f"/orgs/{org}/ledger?aq={ref}", headers=m.auth).text
    assert "<td>reassigned</td>" in html and "assignment.move" not in html
    shown = re.sub(r'datetime="[^"]*"', "", html)  # <time> keeps the exact moment for machines
    assert not re.search(r"\d\d:\d\d:\d\d\.\d+", shown)  # no raw ISO with microseconds
    assert "2 Jan 2025" in html  # the day assigned, for people


def test_dates_and_messages_speak_to_people() -> None:
    assert when("2026-12-06T18:41:28.123456+00:00") == "6 Dec 2026, 18:41 UTC"
    assert when("2026-12-06T18:41:28Z") == "6 Dec 2026, 18:41 UTC"
    assert when("2027-06-30") == "30 Jun 2027"
    assert when(None) == "" and when("someday") == "someday"
    assert plain("no entitlement E-3 in the ledger (see entitle ledger list)") == (
        "no entitlement E-3 in the ledger (see the ledger's entitlements)"
    )
    assert plain("name the holder of the other 1 with --from (holders: host:a (2))") == (
        "name the holder of the other 1 with “From holder” (holders: host:a (2))"
    )
    assert plain("answer --dedicated") == "answer “% of users with their own devices”"


def test_a_refused_move_on_the_page_speaks_the_page_s_language(world: World) -> None:
    c, m = world.client, world.editor
    csrf = login(c, m.email)
    r = c.post(
        f"/orgs/{m.org_id}/ledger/assign",
        data={"csrf_token": csrf, "ref": "NO-SUCH", "to_kind": "user", "to_name": "ann"},
        headers=HTML,
    )
    assert r.status_code == 200 and 'id="move-error"' in r.text
    # the message itself (up to its element's end: the form after it carries a random CSRF
    # token, which may hold "--")
    message = r.text.split('id="move-error"')[1].split("</div>", 1)[0]
    assert "entitle ledger" not in r.text and "--" not in message


def test_the_dashboard_keeps_every_position_and_names_what_ends_soon(world: World) -> None:
    # a new organisation, so that its dashboard holds only what this test makes
    c = world.client
    m = sign_up(c, f"dash-{secrets.token_hex(3)}@d.example", "Dash")
    entitlements = (
        "id,product,license,quantity,edition,version,sa_until\n"
        "SOON,windows-server,core,16,standard,2022,2026-03-01\n"  # 59 days after 1 Jan 2026
        "LATER,windows-server,core,8,standard,2022,2026-06-30\n"  # 180 days: the last one shown
        "FAR,windows-server,core,8,standard,2022,2026-07-01\n"  # 181 days: not shown
    )
    tables = {**ESTATE, "entitlements": entitlements}
    first = upload(c, m, ESTATE, "hq")
    second = upload(c, m, tables, "branch")
    # the branch again, recomputed: a third position kept
    r = c.post(f"/api/orgs/{m.org_id}/estates/{second}/position", headers=m.auth)
    assert r.status_code == 202, r.text
    assert job_of(c, m, r.json()["job"]["id"])["job"]["state"] == "done"
    r = c.post(
        f"/api/orgs/{m.org_id}/ledger/entitlements",
        json={
            "id": "CAL-SA",
            "product": "windows-server",
            "license": "user-cal",
            "quantity": 4,
            "sa_until": "2026-01-31",
        },  # 30 days after 1 Jan 2026
        headers=m.auth,
    )
    assert r.status_code in (200, 201), r.text
    html = c.get("/?as_of=2026-01-01", headers=m.auth).text
    # three positions: hq once, branch twice, each kept with its time
    assert html.count("<tr><td>", html.index('id="history"')) >= 3
    history = html[html.index('id="history"') : html.index("</table>", html.index('id="history"'))]
    assert history.count(f'/orgs/{m.org_id}/estates/{second}"') == 2
    assert history.count(f'/orgs/{m.org_id}/estates/{first}"') == 1
    assert "Compliance cost over time" in html and "<div class='chart-narrow'><svg" in html
    # shortfall by product: hq owns nothing, so 16 cores (§3.1) + 1 user CAL + 1 device CAL =
    # 18 units short; the branch's 16 + 8 + 8 perpetual 2022 cores cover its 16 (SA ending does
    # not end a perpetual license, §7.3), so only its 2 CALs are short
    table = html[html.index('id="shortfall-by-product"') :]
    row = table[table.index('<th scope="row">windows-server</th>') :].split("</tr>")[0]
    assert re.findall(r"(\d+) short", row) == ["2", "18"]  # branch (newest first), then hq
    soon = html[html.index('id="expiries-90"') : html.index('id="expiries-180"')]
    later = html[
        html.index('id="expiries-180"') : html.index("</section>", html.index('id="expiries-180"'))
    ]
    assert re.findall(r"\((\w[\w-]*)\)</small></td>", soon) == ["CAL-SA", "SOON"]
    assert ">30</td>" in soon and ">59</td>" in soon
    assert re.findall(r"\((\w[\w-]*)\)</small></td>", later) == ["LATER"]
    assert "FAR" not in html and "Software Assurance" in soon
