"""End to end in Debian's headless Chromium (Playwright, ``executable_path``): sign up, upload
the sample estate, see the position and its chart, drill into a line, run the decision tool,
record a purchase and see it in the audit trail. Screenshots go to tests/web/artifacts/."""

from __future__ import annotations

import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from .conftest import PASSWORD, SAMPLE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
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
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_new_admin_reaches_a_position_and_records_a_purchase(live: str, db_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"

    def shot(page: Any, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{engine}-{name}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(live + "/signup")
        page.get_by_label("E-mail").fill(f"ann-{secrets.token_hex(3)}@e2e.example")
        page.get_by_label("Organisation").fill("Contoso")
        page.get_by_label("Password (8 characters or more)").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("No position yet")).to_be_visible()

        page.get_by_role("link", name="Estates").click()
        page.get_by_label("Files: the CSV tables").set_input_files(
            sorted(str(f) for f in SAMPLE.glob("*.csv"))
        )
        page.get_by_role("button", name="Upload and compute the position").click()
        page.locator("#job-result").click()  # appears when the polled job is done
        expect(page.locator("#chart svg")).to_be_visible()
        expect(page.locator("#lines tbody tr").first).to_contain_text("windows-server")
        page.locator("#lines button").first.click()
        expect(page.locator("#evidence")).to_contain_text("hv1")
        shot(page, "position")

        page.get_by_role("link", name="Dashboard").click()
        expect(page.locator("#chart svg")).to_be_visible()
        shot(page, "dashboard")

        page.get_by_role("link", name="Decision tool").click()
        page.get_by_label("Users who access the servers").fill("50")
        page.get_by_label("% of users with their own devices").fill("60")
        page.get_by_label("Devices per such user").fill("3")
        page.get_by_label("% of users on shared devices").fill("40")
        page.get_by_label("Shared devices", exact=True).fill("5")
        page.get_by_role("button", name="Recommend").click()
        expect(page.locator("#growth-chart svg")).to_be_visible()
        shot(page, "decide")

        page.get_by_role("link", name="Ledger").click()
        page.get_by_label("Id (optional)").fill("EA-42")
        page.get_by_label("Product", exact=True).fill("windows-server")
        page.get_by_label("License", exact=True).fill("user-cal")
        page.get_by_label("Quantity", exact=True).fill("25")
        page.get_by_label("Version", exact=True).fill("2022")
        page.get_by_role("button", name="Record the purchase").click()
        expect(page.get_by_role("status")).to_contain_text("recorded EA-42")
        expect(page.locator("#audit")).to_contain_text("entitlement.import")
        expect(page.locator("#audit")).to_contain_text("EA-42")
        shot(page, "ledger")

        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.get_by_role("link", name="Estates").click()
        shot(page, "phone-estates")
        browser.close()
