"""End to end in Debian's headless Chromium (Playwright, ``executable_path``). The fast tier's
test (SQLite): sign up, upload the sample estate, see the position and its chart, drill into a
line, run the decision tool, record a purchase and see it in the audit trail, import, retire,
assign and reassign entitlements (the 90-day refusal shown), keep the last admin, and a phone's
menu. The long tier's (``slow``, both engines; make test-long, which CI runs): AD exports merged
into an uploaded estate, its raw tables, its position as of another day and from the ledger, the
decision tool on it and the dashboard's charts, on a desktop and a phone — pages the fast tier
drives over HTTP (test_ws_imports.py, test_ws_pages.py, test_ws_positions.py, test_ws_decide.py),
here with their scripts. Screenshots go to tests/web/artifacts/ (in the long tier, or with
ENTITLE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from tiers import LONG, SLOW

from .conftest import PASSWORD, SAMPLE, polls
from .kit import FIXTURES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# How long one step (a click's navigation, a job) may take before the test fails: a bound, never
# a pause. Generous, since on a loaded machine the server's thread, the browser and the jobs'
# processes all wait for a core; a working step takes a second or two on a quiet one.
WAIT = 180_000
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def live(app: FastAPI) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip("the browser test needs Debian's chromium (apt-get install chromium)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in polls(120):  # a loaded machine starts it late, not never
        if server.started:
            break
    else:
        raise RuntimeError("the server did not start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


# Screenshots in the long tier (make test-long, which CI runs), or when ENTITLE_SCREENSHOTS=1: in
# the fast tier the dozen full pages cost Chromium 3-4 s of a core, and nothing asserts on them.
SCREENSHOTS = LONG or os.environ.get("ENTITLE_SCREENSHOTS") == "1"


def save_shot(page: Any, path: Path, full_page: bool = True) -> None:
    """A screenshot for people (docs/web.md, the artifacts folder), never a test's assertion:
    Chromium may refuse one on a loaded machine ("Unable to capture screenshot"), so one retry,
    then a warning instead of a failure. Taken only where ``SCREENSHOTS`` says."""
    if not SCREENSHOTS:
        return
    from playwright.sync_api import Error

    for attempt in (1, 2):
        try:
            page.screenshot(path=str(path), full_page=full_page)
            return
        except Error as exc:
            if attempt == 2:
                warnings.warn(f"screenshot {path.name} not taken: {exc}", stacklevel=2)


def desktop_page(p: Any) -> tuple[Any, Any]:
    """Chromium (Debian's, FLAGS) and a laptop-sized page whose steps wait at most WAIT."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(WAIT)
    return browser, page


def shots(db_url: str) -> Callable[[Any, str], None]:
    """Save a page's screenshot as ENGINE-NAME.png (see ``save_shot``)."""
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"

    def shot(page: Any, name: str) -> None:
        save_shot(page, ARTIFACTS / f"{engine}-{name}.png")

    return shot


def sign_up_and_upload_the_sample(page: Any, live: str, who: str, org: str) -> None:
    """A new admin of ``org`` with no position yet uploads the sample estate's CSV files and
    waits for its job."""
    from playwright.sync_api import expect

    page.goto(live + "/signup")
    page.get_by_label("E-mail").fill(f"{who}-{secrets.token_hex(3)}@e2e.example")
    page.get_by_label("Organisation").fill(org)
    page.get_by_label("Password (8 characters or more)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("No position yet")).to_be_visible()
    page.get_by_role("link", name="Estates").click()
    page.get_by_label("Files: the CSV tables").set_input_files(
        sorted(str(f) for f in SAMPLE.glob("*.csv"))
    )
    page.get_by_role("button", name="Upload and compute the position").click()
    page.locator("#job-result").click()  # appears when the polled job is done


def test_a_new_admin_reaches_a_position_and_records_a_purchase(live: str, db_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=WAIT)
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    shot = shots(db_url)

    with sync_playwright() as p:
        browser, page = desktop_page(p)
        sign_up_and_upload_the_sample(page, live, "ann", "Contoso")
        expect(page.locator("#chart svg:visible")).to_be_visible()
        expect(page.locator("#lines tbody tr").first).to_contain_text("windows-server")
        page.locator("#lines button").first.click()
        expect(page.locator("#evidence")).to_contain_text("hv1")
        shot(page, "position")

        page.get_by_role("link", name="Dashboard").click()
        expect(page.locator("#chart svg:visible")).to_be_visible()
        shot(page, "dashboard")

        page.get_by_role("link", name="Decision tool").click()
        page.get_by_label("Users who access the servers").fill("50")
        page.get_by_label("% of users with their own devices").fill("60")
        page.get_by_label("Devices per such user").fill("3")
        page.get_by_label("% of users on shared devices").fill("40")
        page.get_by_label("Shared devices", exact=True).fill("5")
        page.get_by_role("button", name="Recommend").click()
        expect(page.locator("#growth-chart svg:visible")).to_be_visible()
        shot(page, "decide")

        page.get_by_role("link", name="Ledger").click()
        page.get_by_label("Id (optional)").fill("EA-42")
        page.get_by_label("Product", exact=True).fill("windows-server")
        page.get_by_label("License", exact=True).fill("user-cal")
        page.get_by_label("Quantity", exact=True).fill("25")
        page.get_by_label("Version", exact=True).fill("2022")
        page.get_by_role("button", name="Record the purchase").click()
        expect(page.get_by_role("status")).to_contain_text("recorded EA-42")
        expect(page.locator("#audit")).to_contain_text("recorded windows-server 2022 user-cal")
        expect(page.locator("#audit")).to_contain_text("EA-42")
        shot(page, "ledger")

        # the ledger: a file of entitlements, a retirement, an assignment and a refused move
        entitlements = ARTIFACTS / f"{engine}-entitlements.csv"
        entitlements.write_text(
            "id,product,license,quantity,version\nCAL-1,windows-server,user-cal,10,2022\n"
        )
        page.get_by_label("File", exact=True).set_input_files(str(entitlements))
        page.get_by_role("button", name="Import the file").click()
        expect(page.get_by_role("status")).to_contain_text("added 1 entitlements")
        page.get_by_role("link", name="Assign units", exact=True).click()
        page.get_by_label("Entitlement").select_option("CAL-1")
        page.get_by_label("To: name").fill("ann")
        page.get_by_label("On", exact=True).fill("2024-11-01")  # 120 days before March 1
        page.get_by_role("button", name="Assign", exact=True).click()
        expect(page.locator("#move-done")).to_be_visible()
        page.get_by_role("link", name="Reassign instead").click()
        page.get_by_label("From: name", exact=True).fill("ann")
        page.get_by_label("To: name (blank with the reason “return”)").fill("bob")
        page.get_by_label("On", exact=True).fill("2025-03-01")
        page.get_by_role("button", name="Reassign", exact=True).click()
        expect(page.locator("#move-done")).to_be_visible()
        page.get_by_label("From: name", exact=True).fill("bob")
        page.get_by_label("To: name (blank with the reason “return”)").fill("eve")
        page.get_by_label("On", exact=True).fill("2025-03-10")
        page.get_by_role("button", name="Reassign", exact=True).click()
        expect(page.locator("#move-error")).to_contain_text("from 2025-05-30")
        shot(page, "reassign-refused")
        page.get_by_role("link", name="Back to the ledger").click()
        page.get_by_label("Entitlement", exact=True).select_option("CAL-1")
        page.get_by_label("Units (blank: all not yet retired)").fill("2")
        page.get_by_label("Why").fill("sold")
        page.get_by_role("button", name="Retire the units").click()
        expect(page.get_by_role("status")).to_contain_text("retired 2")

        # the last admin cannot leave
        page.get_by_role("link", name="Members").click()
        page.get_by_role("link", name="Remove").first.click()  # asks first
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("alert")).to_contain_text("keeps at least one admin")

        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the links in a menu
        expect(page.locator("header nav")).to_be_hidden()
        for name in ("Estates", "Ledger", "Dashboard"):
            page.get_by_text("Menu", exact=True).click()
            page.get_by_role("link", name=name).click()
            # the page the link leads to, loaded and laid out at the phone's width: measured
            # before that, the width would be the page being left, or one not yet styled
            expect(page).to_have_title(f"{name} · entitle")
            page.wait_for_load_state("load")
            shot(page, f"phone-{name.lower()}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390 + 1, f"{name} scrolls sideways on a phone ({width}px)"
        browser.close()


@SLOW  # the long tier (make test-long, which CI runs), on both engines: see the module's docstring
def test_exports_merge_into_an_estate_whose_position_is_computed_on_another_basis(
    live: str, db_url: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=WAIT)
    shot = shots(db_url)

    with sync_playwright() as p:
        browser, page = desktop_page(p)
        sign_up_and_upload_the_sample(page, live, "bea", "Fabrikam")
        expect(page.locator("#lines tbody tr").first).to_contain_text("windows-server")

        # real exports merged into the sample estate, then its raw tables
        page.get_by_role("link", name="Estates").click()
        page.get_by_label("What the files are").select_option("ad")
        page.get_by_label("Into").select_option(index=1)  # the organisation's one estate
        page.get_by_label(
            "Export files (.csv, .xlsx, .parquet), or a .zip of a folder of them"
        ).set_input_files(
            [str(FIXTURES / "ad" / "users.csv"), str(FIXTURES / "ad" / "computers.csv")]
        )
        page.get_by_role("button", name="Import the exports").click()
        expect(page.locator("#import-summary")).to_contain_text("disabled account")
        expect(page.locator("#written")).to_contain_text("users.csv")
        shot(page, "import-summary")
        page.locator("#job-result").click()
        page.get_by_role("link", name="Tables").click()
        page.get_by_role("link", name="users (317)").click()
        expect(page.locator("#table-count")).to_contain_text("Rows 1–50 of 317")
        page.get_by_role("link", name="Next page").click()
        expect(page.locator("#table-count")).to_contain_text("Rows 51–100 of 317")
        page.get_by_label("Rows containing").fill("contoso\\carol")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#raw-table tbody tr")).to_have_count(1)
        shot(page, "tables")

        # the sample estate as of another day and from the (empty) ledger; the decision tool on it
        page.get_by_role("link", name="Back to the estate").click()
        page.get_by_label("As of (Software Assurance and purchases are judged on this day)").fill(
            "2025-06-30"
        )
        page.get_by_label("Entitlements").select_option("ledger")
        page.get_by_role("button", name="Compute the position").click()
        expect(page.locator("#basis-note")).to_contain_text("Computed as of 2025-06-30")
        shot(page, "position-from-ledger")
        page.get_by_role("link", name="Decision tool on this estate").click()
        page.get_by_label("Years to project (1–5)").fill("2")
        page.get_by_label("Head-count growth, % a year").fill("10")
        page.get_by_role("button", name="Compare the strategies").click()
        page.locator("#job-result").click()
        expect(page.locator("#strategies")).to_contain_text("exact optimum")
        expect(page.locator("#growth-chart svg desc")).to_have_count(2)  # wide and narrow
        shot(page, "decide-estate")
        page.get_by_role("link", name="Dashboard").click()
        expect(page.locator("#strategies-chart svg:visible")).to_be_visible()
        expect(page.locator("#required-chart svg:visible")).to_be_visible()
        shot(page, "dashboard-charts")
        page.wait_for_load_state("load")  # measured with its stylesheet applied
        page.set_viewport_size({"width": 390, "height": 844})  # its charts fit a phone too
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"the dashboard scrolls sideways on a phone ({width}px)"
        browser.close()
