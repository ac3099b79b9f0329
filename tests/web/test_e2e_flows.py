"""End to end in Debian's headless Chromium (issue #17 items 1, 3, 4, 7): an admin invites a
colleague by e-mail (a real SMTP server, aiosmtpd), the colleague opens the link in another
browser, creates the account and lands in the organisation; a deep link survives sign-in; a
forgotten password is reset by the e-mailed link and then changed; the admin removes the
colleague after a confirmation; a purchase of an unknown product is refused with a
did-you-mean; a folder of two servers' same-named UAL exports is uploaded as a folder; and the
API reference draws itself with every request to another host blocked. Screenshots go to
tests/web/artifacts/."""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from .conftest import PASSWORD, fresh_app, polls
from .kit import FIXTURES
from .test_e2e import ARTIFACTS, CHROMIUM, WAIT, desktop_page, save_shot
from .test_ws_accounts import Inbox

NEW_PASSWORD = "a much better passphrase"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def site(
    db_url: str, inbox: tuple[Inbox, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip("the browser test needs Debian's chromium (apt-get install chromium)")
    app = fresh_app(
        db_url, tmp_path_factory.mktemp("flows"), smtp_url=f"smtp://127.0.0.1:{inbox[1]}"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in polls(120):
        if server.started:
            break
    else:
        raise RuntimeError("the server did not start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def two_servers(root: Path) -> Path:
    """A folder as a UAL collection leaves it: one sub-folder per server, same file names."""
    folder = root / "ual-exports"
    for server in ("fs01", "sql01"):
        shutil.copytree(FIXTURES / "ual" / server, folder / server)
    return folder


def test_invite_reset_change_remove_and_the_other_flows(
    site: str, inbox: tuple[Inbox, int], db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=WAIT)
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    box = inbox[0]
    admin_email = f"ada-{secrets.token_hex(3)}@flows.example"
    colleague = f"cy-{secrets.token_hex(3)}@flows.example"

    def shot(page: Any, name: str) -> None:
        save_shot(page, ARTIFACTS / f"{engine}-{name}.png")

    with sync_playwright() as p:
        browser, page = desktop_page(p)
        page.goto(site + "/signup")
        page.get_by_label("E-mail").fill(admin_email)
        page.get_by_label("Organisation").fill("Litware")
        page.get_by_label("Password (8 characters or more)").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("No position yet")).to_be_visible()
        org_id = re.search(
            r"/orgs/(\d+)/", page.get_by_role("link", name="Ledger").get_attribute("href") or ""
        )
        assert org_id
        org = org_id.group(1)

        # item 1: the ledger form refuses an unknown product, with a did-you-mean
        page.get_by_role("link", name="Ledger").click()
        page.get_by_label("Product", exact=True).fill("sql-servr")
        page.get_by_label("License", exact=True).fill("core")
        page.get_by_label("Quantity", exact=True).fill("2")
        page.get_by_role("button", name="Record the purchase").click()
        expect(page.get_by_role("alert")).to_contain_text("did you mean 'sql-server'?")
        shot(page, "ledger-unknown-product")

        # item 3: a folder of two servers' exports, same file names, uploaded as a folder
        page.get_by_role("link", name="Estates").click()
        page.get_by_label("What the files are").select_option("ual")
        page.locator("main details summary").first.click()
        page.get_by_label("UAL: evidence from").fill("2025-08-01")
        page.get_by_label("UAL: evidence until").fill("2025-08-31")
        page.get_by_label("Or a folder").set_input_files(str(two_servers(tmp_path)))
        page.get_by_role("button", name="Import the exports").click()
        summary = page.locator("#import-summary")
        expect(summary).to_contain_text("fs01/SystemId.csv")
        expect(summary).to_contain_text("sql01/SystemId.csv")
        shot(page, "folder-upload")

        # item 4: an invitation by e-mail
        page.get_by_role("link", name="Members").click()
        page.get_by_label("E-mail to invite").fill(colleague)
        page.get_by_label("Their role").select_option("editor")
        page.get_by_role("button", name="Send the invitation").click()
        expect(page.get_by_role("status")).to_contain_text(f"invitation e-mailed to {colleague}")
        expect(page.locator("#invitations")).to_contain_text(colleague)
        shot(page, "invitation-sent")
        link = f"{site}/invite/{box.link(colleague, 'invite')}"

        other = browser.new_context(viewport={"width": 1280, "height": 900})
        theirs = other.new_page()
        theirs.set_default_timeout(WAIT)
        theirs.goto(link)
        expect(theirs.get_by_role("main")).to_contain_text("You are invited to Litware as editor")
        theirs.get_by_label("Your name").fill("Cy")
        theirs.get_by_label("Password (8 characters or more)").fill(PASSWORD)
        shot(theirs, "invitation-open")
        theirs.get_by_role("button", name="Create the account and join").click()
        expect(theirs.get_by_role("link", name="Ledger")).to_have_attribute(
            "href", f"/orgs/{org}/ledger"
        )

        # a deep link kept through sign-in
        theirs.get_by_role("button", name=re.compile("^Sign out")).click()
        theirs.goto(f"{site}/orgs/{org}/ledger/assign?ref=E-9")
        expect(theirs).to_have_url(re.compile(r"/login\?next="))
        theirs.get_by_label("E-mail").fill(colleague)
        theirs.get_by_label("Password").fill(PASSWORD)
        theirs.get_by_role("button", name="Sign in").click()
        expect(theirs).to_have_url(f"{site}/orgs/{org}/ledger/assign?ref=E-9")
        theirs.get_by_role("button", name=re.compile("^Sign out")).click()

        # a forgotten password, reset by the e-mailed link, then changed
        theirs.goto(site + "/login")
        theirs.get_by_role("link", name="Forgot your password?").click()
        theirs.get_by_label("E-mail").fill(colleague)
        theirs.get_by_role("button", name="Send me a link").click()
        expect(theirs.get_by_role("status")).to_contain_text("a link to choose a new password")
        theirs.goto(f"{site}/reset/{box.link(colleague, 'reset')}")
        theirs.get_by_label("New password (8 characters or more)").fill(NEW_PASSWORD)
        theirs.get_by_label("The new password again").fill(NEW_PASSWORD)
        theirs.get_by_role("button", name="Set the password").click()
        expect(theirs).to_have_url(re.compile(r"/login"))
        theirs.get_by_label("E-mail").fill(colleague)
        theirs.get_by_label("Password").fill(NEW_PASSWORD)
        theirs.get_by_role("button", name="Sign in").click()
        theirs.get_by_role("link", name="API tokens").click()
        theirs.get_by_role("link", name="Change your password").click()
        theirs.get_by_label("Current password").fill(NEW_PASSWORD)
        theirs.get_by_label("New password (8 characters or more)").fill(PASSWORD)
        theirs.get_by_label("The new password again").fill(PASSWORD)
        theirs.get_by_role("button", name="Change the password").click()
        expect(theirs.get_by_role("status")).to_contain_text("password changed")
        other.close()

        # the admin removes the colleague, after a confirmation
        page.get_by_role("link", name="Members").click()
        page.get_by_role("link", name=f"Remove {colleague}").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            f"Remove {colleague} from Litware?"
        )
        shot(page, "remove-confirm")
        page.get_by_role("button", name=f"Remove {colleague}").click()
        expect(page.locator("#members")).not_to_contain_text(colleague)

        # item 7: the API reference with every other host unreachable
        offline = browser.new_context()
        offline.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(site) else route.abort()
            ),
        )
        docs = offline.new_page()
        problems: list[str] = []
        docs.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        docs.on("requestfailed", lambda r: problems.append("failed: " + r.url))
        docs.goto(site + "/api/docs")
        expect(docs.locator("#api-status")).to_contain_text("operations, from /openapi.json")
        entry = docs.locator("summary", has_text="POST /api/orgs/{org_id}/ledger/entitlements")
        entry.click()
        expect(docs.locator("details[open]")).to_contain_text("Request body")
        shot(docs, "api-docs")
        assert problems == [], problems
        offline.close()
        browser.close()
