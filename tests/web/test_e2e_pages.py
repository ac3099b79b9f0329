"""Issue #17 items 5, 6 and 8 in Debian's headless Chromium (Playwright, ``executable_path``):
an admin sorts and filters the position, pages through a line's evidence to the table row it
names, searches the plan for a user and the products for "SQL Server 2019", records a purchase
and downloads the audit as CSV, sees the dashboard's history and expiries; a viewer sees no
write form and a refused form keeps what was typed; and at a phone's 390 px width no page
scrolls sideways. Screenshots go to tests/web/artifacts/ (docs/web.md shows some of them)."""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path
from typing import Any

import httpx

from .conftest import PASSWORD, SAMPLE
from .test_e2e import ARTIFACTS, CHROMIUM, FLAGS, WAIT, live  # noqa: F401 (the live server fixture)

PAGES_AT_PHONE_WIDTH = (
    "/",
    "/orgs/{org}/estates",
    "/orgs/{org}/estates/{estate}",
    "/orgs/{org}/estates/{estate}/plan?q=hkhan",
    "/orgs/{org}/estates/{estate}/tables/access",
    "/orgs/{org}/estates/{estate}/decide",
    "/orgs/{org}/ledger",
    "/orgs/{org}/ledger/assign",
    "/orgs/{org}/members",
    "/products",
    "/products?q=SQL+Server+2019",
    "/decide",
    "/account/tokens",
    "/orgs/2147483000/ledger",  # the 404 page
)


def test_the_pages_a_licensing_team_works_in(live: str, db_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=WAIT)
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"

    def shot(page: Any, name: str, full: bool = True) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{engine}-pages-{name}.png"), full_page=full)

    suffix = secrets.token_hex(3)
    admin, viewer = f"ann-{suffix}@pages.example", f"vic-{suffix}@pages.example"
    with httpx.Client(base_url=live) as api:  # the viewer signs up (an organisation of her own)
        r = api.post(
            "/api/signup", json={"email": viewer, "password": PASSWORD, "organisation": "Vic's"}
        )
        assert r.status_code == 201, r.text

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(WAIT)
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
        page.locator("#job-result").click()
        estate_url = page.url
        org, estate = estate_url.split("/orgs/")[1].split("/estates/")

        # the position lines sorted by cost, largest first, and filtered
        page.get_by_role("link", name="Cost").click()
        page.get_by_role("link", name="Cost ▲").click()
        costs = [
            float(t.replace(",", ""))
            for t in page.locator("#lines tbody tr td:nth-child(5)").all_inner_texts()
        ]
        assert costs == sorted(costs, reverse=True) and costs[0] > 0
        page.get_by_label("Lines containing").fill("user-cal")
        page.get_by_role("button", name="Filter").click()
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
            """([action, fields]) => {
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
            }""",
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
        context.close()

        # a phone: nothing scrolls sideways, the charts keep readable labels
        phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        cookies = page.context.cookies()
        phone.add_cookies(cookies)
        small = phone.new_page()
        small.set_default_timeout(WAIT)
        for path in PAGES_AT_PHONE_WIDTH:
            small.goto(live + path.format(org=org, estate=estate))
            width = small.evaluate("document.documentElement.scrollWidth")
            inner = small.evaluate("window.innerWidth")
            assert width <= inner, f"{path} scrolls sideways on a phone ({width} > {inner} px)"
        small.goto(f"{live}/?org={org}")
        narrow = small.locator("#chart .chart-narrow svg")
        expect(narrow).to_be_visible()
        expect(small.locator("#chart .chart-wide svg")).to_be_hidden()
        # the labels keep their size: 13 px text in a chart drawn 360 px wide, shown at ≥ 300 px
        box = narrow.bounding_box()
        assert box is not None and box["width"] >= 300
        shot(small, "phone-dashboard")
        small.goto(estate_url)
        shot(small, "phone-estate")
        small.goto(f"{live}/orgs/{org}/ledger")
        shot(small, "phone-ledger")
        small.goto(f"{live}/products?q=SQL+Server+2019")
        shot(small, "phone-products")
        phone.close()
        browser.close()
