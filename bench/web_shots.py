"""The screenshots of docs/web.md, taken in Debian's headless Chromium (Playwright,
``executable_path``) from a throwaway server: the sample estate uploaded as a head office and,
after a true-up, as a branch; a ledger purchase; the head office recomputed. Then the pages at
a laptop's width (1280 px) and a phone's (390 px): the dashboard, the position, evidence, plan,
products, ledger and the decision tool's growth chart; on the phone also the header's menu.

    PYTHONPATH=src .venv/bin/python bench/web_shots.py      # writes docs/web*.png

Dates are today's (the SA and subscription windows count from today), so the pictures differ
from day to day; nothing tests them.
"""

from __future__ import annotations

import csv
import io
import shutil
import socket
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from entitle.ledger import db
from entitle.web import create_app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample-estate"
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery"


def wait(api: httpx.Client, org: int, job: int) -> None:
    for _ in range(600):
        state = api.get(f"/api/orgs/{org}/jobs/{job}").json()["job"]["state"]
        if state in ("done", "failed"):
            return
        time.sleep(0.2)
    raise TimeoutError(job)


def upload(api: httpx.Client, org: int, name: str, extra: str = "") -> int:
    files = []
    for path in sorted(SAMPLE.glob("*.csv")):
        data = path.read_text(encoding="utf-8")
        if path.name == "entitlements.csv" and extra:
            data = data.rstrip("\n") + "\n" + extra
        files.append(("files", (path.name, data.encode())))
    r = api.post(f"/api/orgs/{org}/estates", files=files, data={"name": name})
    r.raise_for_status()
    wait(api, org, r.json()["job"]["id"])
    return int(r.json()["estate"]["id"])


def ask(page: Any, live: str) -> None:
    """The decision tool's questionnaire answered: its recommendation and growth chart."""
    page.goto(live + "/decide")
    page.get_by_label("Users who access the servers").fill("50")
    page.get_by_label("% of users with their own devices").fill("60")
    page.get_by_label("Devices per such user").fill("3")
    page.get_by_label("% of users on shared devices").fill("40")
    page.get_by_label("Shared devices", exact=True).fill("5")
    page.get_by_label("Years to project").fill("5")
    page.get_by_label("Head-count growth, % a year").fill("15")
    page.get_by_role("button", name="Recommend").click()
    page.locator("#growth-chart").wait_for()


def main() -> None:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="entitle-shots-"))
    app = create_app(db.resolve_url(str(work / "entitle.db")), work / "data", secret_key="shots")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    live = f"http://127.0.0.1:{port}"
    today = date.today()
    with httpx.Client(base_url=live, timeout=120) as api:
        r = api.post(
            "/api/signup",
            json={"email": "ann@contoso.example", "password": PASSWORD, "organisation": "Contoso"},
        )
        r.raise_for_status()
        api.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        org = r.json()["organisations"][0]["id"]
        head = upload(api, org, "head office")
        header = next(csv.reader(io.StringIO((SAMPLE / "entitlements.csv").read_text())))
        row = dict.fromkeys(header, "")
        row.update(
            id="TU-1",
            product="core-cal-suite",
            license="user-cal",
            quantity="90",
            sa_until=(today + timedelta(days=45)).isoformat(),
            agreement="EA-7301",
        )
        branch = upload(api, org, "branch after the true-up", ",".join(row[h] for h in header))
        api.post(
            f"/api/orgs/{org}/ledger/entitlements",
            json={
                "id": "M365-E3",
                "product": "microsoft-365-e3",
                "license": "user",
                "quantity": 40,
                "sa_until": (today + timedelta(days=130)).isoformat(),
            },
        )
        api.post(
            f"/api/orgs/{org}/ledger/entitlements",
            json={
                "id": "EA-42",
                "product": "windows-server",
                "license": "user-cal",
                "version": "2022",
                "quantity": 25,
                "agreement": "EA-7301",
            },
        )
        api.post(
            f"/api/orgs/{org}/ledger/assign",
            json={"ref": "EA-42", "to": "user:hkhan", "quantity": 1},
        )
        r = api.post(f"/api/orgs/{org}/estates/{head}/position")
        wait(api, org, r.json()["job"]["id"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(live + "/login")
        page.get_by_label("E-mail").fill("ann@contoso.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(f"{live}/?org={org}")
        page.screenshot(path=str(DOCS / "web-dashboard.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 1500})
        page.goto(f"{live}/orgs/{org}/estates/{branch}?sort=cost&dir=desc")
        page.screenshot(path=str(DOCS / "web.png"), full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{live}/orgs/{org}/estates/{branch}?q=sql-server+2022+user-cal")
        page.locator("#lines button").first.click()
        page.locator("#evidence-count").wait_for()
        page.locator("#evidence").scroll_into_view_if_needed()
        page.locator("#evidence").screenshot(path=str(DOCS / "web-evidence.png"))
        page.goto(f"{live}/orgs/{org}/estates/{branch}/plan?q=hkhan")
        page.screenshot(path=str(DOCS / "web-plan.png"), full_page=False)
        page.goto(f"{live}/products?q=SQL+Server+2019")
        page.screenshot(path=str(DOCS / "web-products.png"), full_page=True)
        page.goto(f"{live}/orgs/{org}/ledger")
        page.locator("#audit-title").scroll_into_view_if_needed()
        page.screenshot(path=str(DOCS / "web-ledger.png"), full_page=False)
        ask(page, live)
        page.locator("#recommendation").screenshot(path=str(DOCS / "web-decide.png"))
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        phone.add_cookies(page.context.cookies())
        small = phone.new_page()
        small.goto(f"{live}/?org={org}")
        small.screenshot(path=str(DOCS / "web-phone-dashboard.png"), full_page=False)
        small.get_by_text("Menu", exact=True).click()
        small.screenshot(path=str(DOCS / "web-phone-menu.png"), full_page=False)
        ask(small, live)
        small.locator("#growth-chart").scroll_into_view_if_needed()
        small.screenshot(path=str(DOCS / "web-phone-decide.png"), full_page=False)
        small.goto(f"{live}/?org={org}")
        small.locator("#over-time").scroll_into_view_if_needed()
        small.screenshot(path=str(DOCS / "web-phone-history.png"), full_page=False)
        small.goto(f"{live}/orgs/{org}/ledger#audit-title")
        small.screenshot(path=str(DOCS / "web-phone-ledger.png"), full_page=False)
        browser.close()
    server.should_exit = True
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
