"""Issue #17 item 4: invitations by e-mail whose link joins the organisation, password reset by
e-mailed link (expiring, single use) and password change, deep links kept through sign-in, and
confirmation before removing a member. The e-mail goes through a real SMTP server (aiosmtpd)
on a free local port, configured as ``ENTITLE_SMTP_URL`` would be."""

from __future__ import annotations

import email
import re
import secrets
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from entitle.web.models import Invitation, PasswordReset
from entitle.web.pages import safe_next

from .conftest import PASSWORD, Member, World, fresh_app, sign_up
from .kit import refused

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

NEW_PASSWORD = "a much better passphrase"


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def link(self, to: str, path: str) -> str:
        """The token of the last link to ``path`` e-mailed to ``to``."""
        for message in reversed(self.messages):
            if message["To"] == to:
                body = message.get_payload(decode=True).decode()
                found = re.search(rf"https?://\S+/{path}/(\S+)", body)
                assert found, body
                return found.group(1)
        raise AssertionError(f"nothing e-mailed to {to}")


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def mailing(
    db_url: str, smtp: tuple[Inbox, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    app = fresh_app(db_url, tmp_path_factory.mktemp("mail"), smtp_url=f"smtp://127.0.0.1:{smtp[1]}")
    with TestClient(app) as client:
        yield client


def address(tag: str) -> str:
    return f"{tag}-{secrets.token_hex(4)}@accounts.example"


def orgs(c: TestClient, headers: dict[str, str] | None = None) -> list[dict]:
    return list(c.get("/api/orgs", headers=headers or {}).json()["organisations"])


def test_an_invitation_is_emailed_and_its_link_creates_a_member(
    mailing: TestClient, smtp: tuple[Inbox, int]
) -> None:
    c, inbox = mailing, smtp[0]
    admin = sign_up(c, address("admin"), "Fabrikam")
    invited = address("new")
    r = c.post(
        f"/api/orgs/{admin.org_id}/invitations",
        json={"email": invited.upper(), "role": "editor"},
        headers=admin.auth,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["emailed"] is True and body["link"] is None
    assert body["invitation"]["email"] == invited  # compared as sign-in compares addresses
    message = inbox.messages[-1]
    assert message["To"] == invited and message["Subject"] == "Join Fabrikam on entitle"
    token = inbox.link(invited, "invite")
    listed = c.get(f"/api/orgs/{admin.org_id}/invitations", headers=admin.auth).json()
    assert [i["email"] for i in listed["invitations"]] == [invited]

    # the link's page names the organisation and the role
    page = c.get(f"/invite/{token}")
    assert page.status_code == 200 and "Fabrikam" in page.text and "editor" in page.text
    joined = c.post(
        "/api/invitations/signup", json={"token": token, "name": "Nina", "password": PASSWORD}
    )
    assert joined.status_code == 201, joined.text
    # one organisation, the inviting one, with the role invited: no organisation of her own
    assert [(o["name"], o["role"]) for o in orgs(c)] == [("Fabrikam", "editor")]
    c.cookies.clear()
    # single use
    again = c.post("/api/invitations/signup", json={"token": token, "password": PASSWORD})
    refused(again, 404, "not-found")
    assert c.get(f"/invite/{token}").status_code == 404
    assert c.get(f"/api/orgs/{admin.org_id}/invitations", headers=admin.auth).json() == {
        "ok": True,
        "invitations": [],
    }


def test_an_existing_account_accepts_only_as_the_address_invited(
    mailing: TestClient, smtp: tuple[Inbox, int]
) -> None:
    c, inbox = mailing, smtp[0]
    admin = sign_up(c, address("admin"), "Northwind")
    ann = sign_up(c, address("ann"), "Ann's own")
    bob = sign_up(c, address("bob"), "Bob's own")
    r = c.post(
        f"/api/orgs/{admin.org_id}/invitations",
        json={"email": ann.email, "role": "viewer"},
        headers=admin.auth,
    )
    assert r.status_code == 201, r.text
    token = inbox.link(ann.email, "invite")
    wrong = c.post("/api/invitations/accept", json={"token": token}, headers=bob.auth)
    assert (
        "this invitation is for " + ann.email
        in refused(wrong, 403, "forbidden")["errors"][0]["message"]
    )
    ok = c.post("/api/invitations/accept", json={"token": token}, headers=ann.auth)
    assert ok.status_code == 200, ok.text
    assert sorted(o["name"] for o in orgs(c, ann.auth)) == ["Ann's own", "Northwind"]
    # a member already is not invited twice; a viewer invites nobody
    twice = c.post(
        f"/api/orgs/{admin.org_id}/invitations", json={"email": ann.email}, headers=admin.auth
    )
    refused(twice, 409, "conflict")
    viewer = Member(ann.email, ann.token, admin.org_id)
    nope = c.post(
        f"/api/orgs/{admin.org_id}/invitations", json={"email": bob.email}, headers=viewer.auth
    )
    refused(nope, 403, "forbidden")


def test_an_expired_invitation_link_joins_nobody(
    mailing: TestClient, smtp: tuple[Inbox, int]
) -> None:
    c, inbox = mailing, smtp[0]
    admin = sign_up(c, address("admin"), "Tailspin")
    late = address("late")
    c.post(f"/api/orgs/{admin.org_id}/invitations", json={"email": late}, headers=admin.auth)
    token = inbox.link(late, "invite")
    ws = c.app.state.workspace  # type: ignore[attr-defined]
    with Session(ws.engine) as session, session.begin():  # 7 days later, without waiting
        session.execute(
            update(Invitation).where(Invitation.email == late).values(expires_at=LONG_AGO)
        )
    r = c.post("/api/invitations/signup", json={"token": token, "password": PASSWORD})
    refused(r, 404, "not-found")


def test_without_smtp_the_admin_is_given_the_link(world: World) -> None:
    c, admin = world.client, world.admin
    invited = address("passed")
    r = c.post(
        f"/api/orgs/{admin.org_id}/invitations",
        json={"email": invited, "role": "viewer"},
        headers=admin.auth,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["emailed"] is False
    assert re.fullmatch(r"http://testserver/invite/[A-Za-z0-9_-]{43}", body["link"]), body
    assert "no e-mail is sent by this server" in body["message"]
    # and a password cannot be reset: its link must reach only the address's owner
    refused(c.post("/api/password/forgot", json={"email": invited}), 503, "unavailable")


def test_a_password_reset_by_emailed_link_works_once(
    mailing: TestClient, smtp: tuple[Inbox, int]
) -> None:
    c, inbox = mailing, smtp[0]
    user = sign_up(c, address("forgetful"), "Forgetful")
    r = c.post("/api/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    old_cookie = dict(c.cookies)
    assert old_cookie and c.get("/api/me").status_code == 200  # signed in before the reset
    c.cookies.clear()
    before = len(inbox.messages)
    nobody = c.post("/api/password/forgot", json={"email": address("nobody")})
    asked = c.post("/api/password/forgot", json={"email": user.email})
    assert nobody.status_code == asked.status_code == 202
    assert nobody.json() == asked.json()  # the answer does not tell which accounts exist
    assert len(inbox.messages) == before + 1  # one message: to the account only
    token = inbox.link(user.email, "reset")
    assert c.get(f"/reset/{token}").status_code == 200
    short = c.post("/api/password/reset", json={"token": token, "password": "short"})
    refused(short, 422, "invalid")
    r = c.post("/api/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    refused(
        c.post("/api/password/reset", json={"token": token, "password": NEW_PASSWORD}),
        404,
        "not-found",
    )
    refused(
        c.post("/api/login", json={"email": user.email, "password": PASSWORD}),
        401,
        "unauthenticated",
    )
    assert c.post("/api/login", json={"email": user.email, "password": NEW_PASSWORD}).is_success
    c.cookies.clear()
    # the browser session open before the reset was ended by it
    c.cookies.update(old_cookie)
    refused(c.get("/api/me"), 401, "unauthenticated")
    c.cookies.clear()


def test_an_expired_reset_link_changes_nothing(
    mailing: TestClient, smtp: tuple[Inbox, int]
) -> None:
    c, inbox = mailing, smtp[0]
    user = sign_up(c, address("slow"), "Slow")
    c.post("/api/password/forgot", json={"email": user.email})
    token = inbox.link(user.email, "reset")
    ws = c.app.state.workspace  # type: ignore[attr-defined]
    with Session(ws.engine) as session, session.begin():  # an hour later, without waiting
        session.execute(update(PasswordReset).values(expires_at=LONG_AGO))
    r = c.post("/api/password/reset", json={"token": token, "password": NEW_PASSWORD})
    refused(r, 404, "not-found")
    assert c.post("/api/login", json={"email": user.email, "password": PASSWORD}).is_success
    c.cookies.clear()


def test_a_password_change_needs_the_current_password(world: World) -> None:
    c = world.client
    user = sign_up(c, address("changer"), "Changer")
    wrong = c.post(
        "/api/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=user.auth,
    )
    assert refused(wrong, 422, "invalid")["errors"][0]["source"] == "current_password"
    ok = c.post(
        "/api/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user.auth,
    )
    assert ok.status_code == 200, ok.text
    assert c.post("/api/login", json={"email": user.email, "password": NEW_PASSWORD}).is_success
    c.cookies.clear()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/orgs/1/ledger?x=1", "/orgs/1/ledger?x=1"),
        ("/invite/abc", "/invite/abc"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("evil", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        ("", "/"),
    ],
)
def test_next_is_a_local_path_only(given: str, kept: str) -> None:
    assert safe_next(given) == kept


def test_a_deep_link_is_kept_through_sign_in(world: World) -> None:
    c, m = world.client, world.viewer
    wanted = f"/orgs/{m.org_id}/ledger/assign?ref=E-1"
    r = c.get(wanted, follow_redirects=False)
    assert r.status_code == 303
    assert (
        r.headers["location"] == f"/login?next=%2Forgs%2F{m.org_id}%2Fledger%2Fassign%3Fref%3DE-1"
    )
    fragment = c.get(wanted, headers={"HX-Request": "true"}, follow_redirects=False)
    assert fragment.headers["location"] == "/login"  # htmx's polls are not pages to return to
    page = c.get(r.headers["location"])
    assert f'name="next" value="{wanted}"' in page.text.replace("&amp;", "&")
    signed = c.post(
        "/login",
        data={"email": m.email, "password": PASSWORD, "next": wanted},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == wanted
    c.cookies.clear()
    away = c.post(
        "/login",
        data={"email": m.email, "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/"
    c.cookies.clear()


def test_removing_a_member_asks_first(world: World, tmp_path: Path) -> None:
    c, admin = world.client, world.admin
    gone = sign_up(c, address("gone"), "Gone's own")
    r = c.post(
        f"/api/orgs/{admin.org_id}/members",
        json={"email": gone.email, "role": "viewer"},
        headers=admin.auth,
    )
    user_id = next(u["user_id"] for u in r.json()["members"] if u["email"] == gone.email)
    from .kit import sign_in

    csrf = sign_in(c, admin.email)
    try:
        members = c.get(f"/orgs/{admin.org_id}/members")
        assert f'href="/orgs/{admin.org_id}/members/{user_id}/remove"' in members.text
        ask = c.get(f"/orgs/{admin.org_id}/members/{user_id}/remove")
        assert ask.status_code == 200 and f"Remove {gone.email} from Org A?" in ask.text
        # a POST without the confirmation asks again and removes nobody
        unconfirmed = c.post(
            f"/orgs/{admin.org_id}/members/{user_id}/remove", data={"csrf_token": csrf}
        )
        assert unconfirmed.status_code == 200 and "Remove " + gone.email in unconfirmed.text
        listed = c.get(f"/api/orgs/{admin.org_id}/members", headers=admin.auth).json()
        assert gone.email in [u["email"] for u in listed["members"]]
        done = c.post(
            f"/orgs/{admin.org_id}/members/{user_id}/remove",
            data={"csrf_token": csrf, "confirm": "yes"},
            follow_redirects=False,
        )
        assert done.status_code == 303
    finally:
        c.cookies.clear()
    listed = c.get(f"/api/orgs/{admin.org_id}/members", headers=admin.auth).json()
    assert gone.email not in [u["email"] for u in listed["members"]]


def test_the_smtp_url_names_the_server_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    from entitle.web import create_app
    from entitle.web.mail import Mailer

    plain = Mailer.from_url("smtp://mail.example:2525")
    assert plain == Mailer("mail.example", 2525, "entitle@mail.example")
    tls = Mailer.from_url("smtps://ann%40x:p%2Fw@mail.example?from=licences@x.example")
    assert tls == Mailer("mail.example", 465, "licences@x.example", True, "ann@x", "p/w")
    assert Mailer.from_url("") is None
    with pytest.raises(RuntimeError, match="must look like smtp://host:port"):
        create_app(str(tmp_path / "e.db"), tmp_path, smtp_url="http://mail.example")
