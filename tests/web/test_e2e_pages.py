"""Issue #17 items 5, 6 and 8 in Debian's headless Chromium (Playwright, ``executable_path``):
an admin sorts and filters the position, pages through a line's evidence to the table row it
names, searches the plan for a user and the products for "SQL Server 2019", records a purchase
and downloads the audit as CSV, sees the dashboard's history and expiries; a viewer sees no
write form and a refused form keeps what was typed; and at a phone's 390 px width every page
of the router (on SQLite) fits the window and its charts keep readable text. Screenshots go to
tests/web/artifacts/ (bench/web_shots.py takes those of docs/web.md)."""

from __future__ import annotations

import csv
import io
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from .conftest import PASSWORD, SAMPLE, polls
from .test_authz import app_routes
from .test_e2e import ARTIFACTS, CHROMIUM, FLAGS, WAIT, desktop_page, live, save_shot  # noqa: F401 (the live server fixture)

# What a page measures at a phone's width: how wide the document is against the window, and
# the smallest chart text as drawn on the screen (its size in the chart times the chart's scale:
# a chart shrunk to fit keeps a readable size only if it was drawn for the width). A chart's
# hidden layout has no box and is passed over. Every <details> in the page is opened first.
MEASURE = """() => {
    for (const d of document.querySelectorAll("main details")) d.open = true;
    let smallest = null;
    for (const svg of document.querySelectorAll("main svg[viewBox]")) {
        const box = svg.getBoundingClientRect();
        if (!box.width) continue;
        const scale = box.width / svg.viewBox.baseVal.width;
        for (const text of svg.querySelectorAll("text")) {
            const px = parseFloat(getComputedStyle(text).fontSize) * scale;
            smallest = smallest === null ? px : Math.min(smallest, px);
        }
    }
    return [document.scrollingElement.scrollWidth, window.innerWidth, smallest];
}"""

# A form sent as a page from an old tab would send it (the page's own form may be hidden).
SEND_FORM = """([action, fields]) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.name = name;
        input.value = value;
        form.append(input);
    }
    document.body.append(form);
    form.submit();
}"""

NOT_PAGES = ("/api/", "/static")  # JSON and files; /api/docs is a page


def pages_of(app: FastAPI) -> set[str]:
    """The path template of every page the app answers GET with, from its router: not the
    API's JSON, static files, the schema, the favicon or the CSV downloads."""
    return {
        path
        for method, path in app_routes(app)
        if method == "GET"
        and (path == "/api/docs" or not path.startswith(NOT_PAGES))
        and path not in ("/openapi.json", "/favicon.ico")
        and not path.endswith(".csv")
    }


class Outbox:
    """Stands in for the SMTP server while the phone sweep asks for a password reset: keeps
    the message, so the sweep can open the link it carries (tests/web/test_e2e_flows.py sends
    through a real SMTP server)."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send(self, to: str, subject: str, body: str) -> None:
        self.bodies.append(body)


def test_the_pages_a_licensing_team_works_in(
    live: str,  # noqa: F811
    db_url: str,
    app: FastAPI,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=WAIT)
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"

    def shot(page: Any, name: str, full: bool = True) -> None:
        save_shot(page, ARTIFACTS / f"{engine}-pages-{name}.png", full)

    suffix = secrets.token_hex(3)
    admin, viewer = f"ann-{suffix}@pages.example", f"vic-{suffix}@pages.example"
    with httpx.Client(base_url=live) as api:  # the viewer signs up (an organisation of her own)
        r = api.post(
            "/api/signup", json={"email": viewer, "password": PASSWORD, "organisation": "Vic's"}
        )
        assert r.status_code == 201, r.text

    with sync_playwright() as p:
        browser, page = desktop_page(p)
        page.goto(live + "/signup")
        page.get_by_label("E-mail").fill(admin)
        page.get_by_label("Organisation").fill("Contoso")
        page.get_by_label("Password (8 characters or more)").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.get_by_role("link", name="Estates").click()
        page.get_by_label("Files: the CSV tables").set_input_files(
            sorted(str(f) for f in SAMPLE.glob("*.csv"))
        )
        page.get_by_role("button", name="Upload and compute the position").click()
        page.locator("#job-result").wait_for()
        job_url = page.url
        page.locator("#job-result").click()
        estate_url = page.url
        org, estate = estate_url.split("/orgs/")[1].split("/estates/")
        sweep = engine == "sqlite"  # the layout is the same on either database: one sweep
        if sweep:  # the decision tool on the estate, in the background: the sweep shows it
            started = page.request.post(
                f"{live}/api/orgs/{org}/estates/{estate}/decide",
                data={"years": 2, "headcount_growth": 10},
                headers={
                    "X-CSRF-Token": page.locator("header input[name=csrf_token]").input_value()
                },
            )
            assert started.status == 202, started.text()
            decision = started.json()["job"]["id"]

        # the position lines sorted by cost, largest first, and filtered
        page.get_by_role("link", name="Cost").click()
        page.get_by_role("link", name="Cost ▲").click()
        # read the rows of the page the link leads to, whole: not those of the page it leaves
        expect(page.get_by_role("link", name="Cost ▼")).to_be_visible()
        page.wait_for_load_state("load")
        costs = [
            float(t.replace(",", ""))
            for t in page.locator("#lines tbody tr td:nth-child(5)").all_inner_texts()
        ]
        assert costs == sorted(costs, reverse=True) and costs[0] > 0
        page.get_by_label("Lines containing").fill("user-cal")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"[?&]q=user-cal"))
        page.wait_for_load_state("load")
        for label in page.locator("#lines tbody tr td:first-child").all_inner_texts():
            assert "user-cal" in label
        # a CAL line's evidence, paged, and one reference opened at its row
        page.locator("#lines button").first.click()
        expect(page.locator("#evidence-count")).to_contain_text("References 1–")
        if page.locator("#evidence-next").count():
            page.locator("#evidence-next").click()
            expect(page.locator("#evidence-count")).to_contain_text("References 51–")
        shot(page, "evidence")
        page.locator("#evidence-refs a").first.click()
        expect(page.locator("#row")).to_be_visible()
        expect(page.locator("#row")).to_have_class("marked")

        # the plan: what hkhan holds or needs, and why
        page.goto(f"{live}/orgs/{org}/estates/{estate}/plan")
        page.get_by_label("User, device, host or OSE").fill("hkhan")
        page.get_by_role("button", name="Search the plan").click()
        expect(page.locator("#plan tbody tr").first).to_contain_text("hkhan")
        expect(page.locator("#plan")).to_contain_text("cheapest plan")
        shot(page, "plan")

        # the products: a version-aware search
        page.get_by_role("link", name="Products").click()
        expect(page.locator("#product-count")).to_contain_text("30 products")
        page.get_by_label("Search").fill("SQL Server 2019")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("heading", name="SQL Server 2019 (sql-server)")).to_be_visible()
        expect(page.locator("table.models")).to_contain_text("per-core")
        shot(page, "products")

        # the ledger: a purchase, the audit in words, and its CSV
        page.get_by_role("link", name="Ledger").click()
        page.get_by_label("Id (optional)").fill("EA-7")
        page.get_by_label("Product", exact=True).fill("windows-server")
        page.get_by_label("License", exact=True).fill("user-cal")
        page.get_by_label("Quantity", exact=True).fill("25")
        page.get_by_label("Version", exact=True).fill("2022")
        page.get_by_role("button", name="Record the purchase").click()
        expect(page.locator("#audit tbody tr").first).to_contain_text(
            "recorded windows-server 2022 user-cal"
        )
        expect(page.locator("#audit tbody tr").first).to_contain_text("the ledger")
        with page.expect_download() as download:
            page.locator("a.download").nth(1).click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert (
            rows[0]["what"] == "recorded windows-server 2022 user-cal"
            and rows[0]["quantity"] == "25"
        )
        shot(page, "ledger")

        # the dashboard: every position kept, expiries
        page.get_by_role("link", name="Dashboard").click()
        expect(page.locator("#over-time-chart svg:visible")).to_be_visible()
        expect(page.locator("#shortfall-by-product")).to_contain_text("windows-server")
        expect(page.locator("#expiries")).to_contain_text("Within 90 days")
        shot(page, "dashboard")

        # a viewer: no write forms; a form sent anyway is refused and keeps what was typed
        page.get_by_role("link", name="Members").click()
        page.get_by_label("E-mail", exact=True).fill(viewer)  # not "E-mail to invite"
        page.get_by_label("Role", exact=True).select_option("viewer")
        page.get_by_role("button", name="Save").click()
        page.get_by_role("link", name="Ledger").click()
        ledger_url = page.url
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        vic = context.new_page()
        vic.set_default_timeout(WAIT)
        vic.goto(live + "/login")
        vic.get_by_label("E-mail").fill(viewer)
        vic.get_by_label("Password").fill(PASSWORD)
        vic.get_by_role("button", name="Sign in").click()
        vic.goto(ledger_url)
        expect(vic.locator("#entitlements")).to_contain_text("EA-7")
        expect(vic.locator("form[method=post]")).to_have_count(1)  # only "Sign out"
        expect(vic.get_by_text("Record a purchase")).to_have_count(0)
        # the form an editor sees, sent by the viewer anyway (from an old tab, say): refused,
        # and the page keeps what she typed
        vic.evaluate(
            SEND_FORM,
            [
                f"/orgs/{org}/ledger",
                {
                    "csrf_token": vic.locator("header input[name=csrf_token]").input_value(),
                    "product": "sql-server",
                    "quantity": "12",
                },
            ],
        )
        expect(vic.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(vic.locator("#error-messages")).to_contain_text("editor")
        expect(vic.locator("#kept-input")).to_contain_text("sql-server")
        shot(vic, "refused")
        vic_cookies = context.cookies()
        context.close()

        if sweep:
            ids = {"org": org, "estate": estate, "job": job_url.rsplit("/", 1)[1], "viewer": viewer}
            for _ in polls(120):  # the decision started after the upload
                state = page.request.get(f"{live}/api/orgs/{org}/jobs/{decision}").json()
                if state["job"]["state"] in ("done", "failed"):
                    break
            assert state["job"]["state"] == "done", state
            every_page_at_a_phones_width(page, live, app, ids, vic_cookies, decision, shot)
        browser.close()


def every_page_at_a_phones_width(
    page: Any,
    url: str,
    app: FastAPI,
    ids: dict[str, str],
    vic_cookies: list[Any],
    decision: int,
    shot: Any,
) -> None:
    """Every page of the app (each path template of the router, an error page of each kind and
    the pages a form answers with) at a phone's 390 px, in the one browser page the test signed
    in with: nothing scrolls sideways, and the charts' text shows at 9 px or more."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 390, "height": 844})
    seen: set[str] = set()
    base = f"/orgs/{ids['org']}"
    estate = f"{base}/estates/{ids['estate']}"

    def check(template: str, *, charts: bool = False) -> None:
        width, inner, smallest = page.evaluate(MEASURE)
        where = f"{template} ({page.url})"
        assert width <= inner, f"{where} scrolls sideways on a phone ({width} > {inner} px)"
        if charts:
            assert smallest is not None, f"{where} shows no chart"
        if smallest is not None:
            assert smallest >= 9, f"{where}: chart text drawn at {smallest:.1f} px"
        seen.add(template)

    def visit(template: str, path: str | None = None, *, charts: bool = False) -> None:
        page.goto(url + (path or template.format(org_id=ids["org"], estate_id=ids["estate"])))
        check(template, charts=charts)

    # signed in as the admin
    visit("/", f"/?org={ids['org']}", charts=True)
    shot(page, "phone-dashboard", False)
    page.get_by_text("Menu", exact=True).click()  # the header's links, folded into a menu
    expect(page.get_by_role("link", name="Ledger")).to_be_visible()
    check("/")
    shot(page, "phone-menu", False)
    visit("/orgs/{org_id}/estates")
    visit("/orgs/{org_id}/jobs/{job_id}", f"{base}/jobs/{ids['job']}")
    visit("/orgs/{org_id}/estates/{estate_id}", charts=True)
    page.locator("#lines button").first.click()  # a line's evidence, in its panel
    expect(page.locator("#evidence-count")).to_be_visible()
    check("/orgs/{org_id}/estates/{estate_id}/lines/{index}")
    shot(page, "phone-evidence", False)
    visit("/orgs/{org_id}/estates/{estate_id}/plan", f"{estate}/plan?q=hkhan")
    visit("/orgs/{org_id}/estates/{estate_id}/tables")
    visit("/orgs/{org_id}/estates/{estate_id}/tables/{table}", f"{estate}/tables/access")
    visit("/orgs/{org_id}/estates/{estate_id}/decide")
    visit("/orgs/{org_id}/estates/{estate_id}/decide", f"{estate}/decide?job={decision}")
    check("/orgs/{org_id}/estates/{estate_id}/decide", charts=True)  # strategies and growth
    shot(page, "phone-decide-estate")
    visit("/orgs/{org_id}/ledger")
    visit("/orgs/{org_id}/ledger", f"{base}/ledger?asort=quantity&adir=desc#audit-title")
    shot(page, "phone-audit", False)
    visit("/orgs/{org_id}/ledger/assign")
    visit("/orgs/{org_id}/ledger/reassign")
    visit("/orgs/{org_id}/members")
    page.get_by_label("E-mail to invite").fill(f"new-{secrets.token_hex(3)}@pages.example")
    page.get_by_role("button", name="Send the invitation").click()  # no SMTP: the link shown
    link = page.locator("#invite-link").input_value()
    check("/orgs/{org_id}/members")
    shot(page, "phone-members")
    remove = page.locator("#members a[href$='/remove']").first.get_attribute("href")
    visit("/orgs/{org_id}/members/{user_id}/remove", remove)
    visit("/invite/{token}", link.replace(url, ""))  # signed in as another address
    visit("/products")
    visit("/products", "/products?q=SQL+Server+2019")
    visit("/decide")
    for label, value in (("Users who access the servers", "50"), ("Years to project", "5")):
        page.get_by_label(label).fill(value)
    page.get_by_label("% of users with their own devices").fill("60")
    page.get_by_role("button", name="Recommend").click()
    expect(page.locator("#growth-chart svg:visible")).to_be_visible()
    check("/decide", charts=True)
    shot(page, "phone-decide")
    visit("/account/tokens")
    visit("/account/password")
    page.goto(url + "/api/docs")
    expect(page.locator("#api-status[data-ready]")).to_be_attached()
    check("/api/docs")
    visit("404", f"{base}/ledger/nowhere")  # no such page
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()

    # the viewer: a page she may not open, a form she may not send (what she typed kept)
    page.context.clear_cookies()
    page.context.add_cookies(vic_cookies)
    remove_path = remove or ""
    page.goto(url + remove_path)
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    check("403")
    page.goto(f"{url}{base}/ledger")
    fields = {"csrf_token": page.locator("header input[name=csrf_token]").input_value()}
    fields.update(product="sql-server", quantity="12", agreement="EA-" + "7" * 60)
    page.evaluate(SEND_FORM, [f"{base}/ledger", fields])
    expect(page.locator("#kept-input")).to_contain_text("sql-server")
    check("403")
    shot(page, "phone-refused")

    # signed out: sign-in, sign-up, the invitation, a forgotten password and its reset link
    page.context.clear_cookies()
    visit("/login")
    visit("/signup")
    visit("/invite/{token}", link.replace(url, ""))
    ws = app.state.workspace
    outbox = ws.mailer = Outbox()
    try:
        visit("/password/forgot")
        page.get_by_label("E-mail").fill(ids["viewer"])
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_role("status")).to_be_visible()
        check("/password/forgot")
    finally:
        ws.mailer = None
    reset = re.search(r"/reset/\S+", outbox.bodies[-1])
    assert reset is not None, outbox.bodies
    visit("/reset/{token}", reset.group(0))
    expect(page.get_by_label("The new password again")).to_be_visible()
    visit("/reset/{token}", "/reset/spent-or-unknown")
    visit("404", "/no/such/page")

    fragments = {"/orgs/{org_id}/jobs/{job_id}/bar"}  # polled into the job page while it runs
    missing = sorted(pages_of(app) - seen - fragments)
    assert missing == [], f"pages not opened at a phone's width: {missing}"
