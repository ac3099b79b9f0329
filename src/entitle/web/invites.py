"""Invitations by e-mail, password resets and password changes: the writes pages and the API
share (issue #17 item 4).

An invitation or a reset is a link with a secret (256 bits, ``secrets.token_urlsafe``) of which
only the SHA-256 is stored; it expires (invitations after 7 days, resets after 1 hour) and is
used once. The link goes by e-mail through the workspace's :class:`~entitle.web.mail.Mailer`;
without one, an invitation's link is handed to the admin who made it to pass on, and a reset is
unavailable (anyone could ask for one: its link must only reach the address's owner). Asking
for a reset answers the same whether the address has an account or not, and is limited like
sign-ups per client address; a password change checks the current password under the sign-in
limits. A reset ends every browser session of the account.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from entitle.ledger.clock import iso, utc_now
from entitle.web.accounts import EMAIL, _guard, normal_email
from entitle.web.auth import SESSION_NAME, check_password, hash_password, waste_a_check
from entitle.web.context import Workspace
from entitle.web.errors import ApiError
from entitle.web.mail import MailFailed
from entitle.web.models import (
    ROLES,
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    PasswordReset,
    User,
)

log = logging.getLogger("entitle.web")
INVITE_DAYS = 7
RESET_HOURS = 1
MIN_PASSWORD = 8


def _expired(until: datetime, now: datetime) -> bool:
    return until <= now


def _secret() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def base_url(ws: Workspace, request_base: str) -> str:
    return (ws.settings.public_url or request_base).rstrip("/")


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise ApiError(
            422, "invalid", f"the password needs at least {MIN_PASSWORD} characters", field
        )


# -- invitations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    """An invitation made: whether it was e-mailed, and else the link to pass on."""

    invitation: Invitation
    emailed: bool
    link: str | None
    note: str

    def as_json(self) -> dict[str, object]:
        i = self.invitation
        return {
            "ok": True,
            "invitation": {
                "id": i.id,
                "email": i.email,
                "role": i.role,
                "expires_at": iso(i.expires_at),
            },
            "emailed": self.emailed,
            "link": self.link,
            "message": self.note,
        }


def invite(
    ws: Workspace, session: Session, org: Organisation, by: str, email: str, role: str, base: str
) -> Sent:
    """Invite ``email`` to ``org`` as ``role`` (the caller has checked that ``by`` is an admin);
    e-mailed when the workspace has a mailer, else the link is returned to pass on."""
    email = normal_email(email)
    if not EMAIL.match(email):
        raise ApiError(422, "invalid", "write an e-mail address like ann@example.com", "email")
    if role not in ROLES:
        raise ApiError(422, "invalid", "role must be one of " + ", ".join(ROLES), "role")
    member = session.execute(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org.id, User.email == email)
    ).first()
    if member is not None:
        raise ApiError(409, "conflict", f"{email} is already a member; change the role instead")
    token, hashed = _secret()
    now = utc_now()
    row = Invitation(
        org_id=org.id,
        email=email,
        role=role,
        token_hash=hashed,
        invited_by=by,
        created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS),
    )
    session.add(row)
    session.commit()
    link = f"{base}/invite/{token}"
    if ws.mailer is None:
        return Sent(row, False, link, f"no e-mail is sent by this server: pass the link to {email}")
    body = (
        f"{by} invites you to the organisation {org.name} on entitle, as {role}.\n\n"
        f"Join it here (the link holds for {INVITE_DAYS} days and works once):\n\n{link}\n"
    )
    try:
        ws.mailer.send(email, f"Join {org.name} on entitle", body)
    except MailFailed as error:
        log.warning("invitation %s not e-mailed: %s", row.id, error)
        return Sent(row, False, link, f"the e-mail could not be sent ({error}): pass the link on")
    return Sent(row, True, None, f"invitation e-mailed to {email}")


def pending(session: Session, org_id: int) -> list[Invitation]:
    now = utc_now()
    rows = session.execute(
        select(Invitation)
        .where(Invitation.org_id == org_id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.id)
    ).scalars()
    return [r for r in rows if not _expired(r.expires_at, now)]


GONE = "this invitation link is unknown, already used or expired; ask for a new one"


def invitation(session: Session, token: str) -> tuple[Invitation, Organisation]:
    """The open invitation a link names, or 404 (unknown, used and expired alike)."""
    row = session.execute(
        select(Invitation).where(Invitation.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None or row.accepted_at is not None or _expired(row.expires_at, utc_now()):
        raise ApiError(404, "not-found", GONE)
    org = session.get(Organisation, row.org_id)
    if org is None:
        raise ApiError(404, "not-found", GONE)
    return row, org


def _use(session: Session, row: Invitation, user_id: int) -> None:
    """Mark the invitation used (once: a second use at the same moment finds it taken) and
    make the user a member with its role (an existing membership keeps the stronger role)."""
    taken = session.execute(
        update(Invitation)
        .where(Invitation.id == row.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utc_now())
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ApiError(404, "not-found", GONE)
    member = session.execute(
        select(Membership).where(Membership.org_id == row.org_id, Membership.user_id == user_id)
    ).scalar_one_or_none()
    if member is None:
        session.add(Membership(org_id=row.org_id, user_id=user_id, role=row.role))
    elif ROLES.index(row.role) > ROLES.index(member.role):
        member.role = row.role
    session.commit()


def accept(session: Session, token: str, user_id: int, email: str) -> Organisation:
    """The signed-in user joins with the link; it must be the address invited."""
    row, org = invitation(session, token)
    if normal_email(email) != row.email:
        raise ApiError(
            403,
            "forbidden",
            f"this invitation is for {row.email}; sign in with that address to accept it",
        )
    _use(session, row, user_id)
    return org


def join_new(session: Session, token: str, name: str, password: str) -> tuple[User, Organisation]:
    """An account for the invited address (no organisation of its own), joined to the
    inviting one; 409 when the address has an account already (sign in and accept)."""
    row, org = invitation(session, token)
    check_password_rules(password)
    if session.execute(select(User.id).where(User.email == row.email)).first() is not None:
        raise ApiError(
            409, "conflict", f"{row.email} has an account: sign in, then accept the invitation"
        )
    user = User(
        email=row.email,
        name=name.strip() or row.email,
        password_hash=hash_password(password),
        created_at=utc_now(),
    )
    session.add(user)
    session.flush()
    _use(session, row, user.id)
    return user, org


# -- passwords -----------------------------------------------------------------------------

ASKED = (
    "if an account has this address, a link to choose a new password is on its way "
    f"(it holds for {RESET_HOURS} hour and works once)"
)


def forgot(ws: Workspace, session: Session, email: str, base: str) -> str:
    """E-mail a reset link to the account of ``email``, if there is one; the same answer
    either way. 503 when the server sends no e-mail."""
    if ws.mailer is None:
        raise ApiError(
            503,
            "unavailable",
            "this server sends no e-mail, so passwords cannot be reset here; "
            "ask the person who runs it",
        )
    guard = _guard(session)
    if guard is not None:
        guard.before_sign_up()  # limited like sign-ups, per client address
    address = normal_email(email)
    user = session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if user is None:
        return ASKED
    token, hashed = _secret()
    now = utc_now()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=hashed,
            created_at=now,
            expires_at=now + timedelta(hours=RESET_HOURS),
        )
    )
    session.commit()
    body = (
        "Someone (you, we hope) asked to choose a new password for your entitle account.\n\n"
        f"Choose it here (the link holds for {RESET_HOURS} hour and works once):\n\n"
        f"{base}/reset/{token}\n\nIf it was not you, ignore this message: nothing changes.\n"
    )
    try:
        ws.mailer.send(user.email, "Choose a new entitle password", body)
    except MailFailed as error:  # said in the log only: the answer must not tell
        log.warning("password reset for user %s not e-mailed: %s", user.id, error)
    return ASKED


RESET_GONE = "this reset link is unknown, already used or expired; ask for a new one"


def reset_for(session: Session, token: str) -> PasswordReset:
    row = session.execute(
        select(PasswordReset).where(PasswordReset.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or _expired(row.expires_at, utc_now()):
        raise ApiError(404, "not-found", RESET_GONE)
    return row


def reset(session: Session, token: str, password: str) -> User:
    """Set the new password with the link (once); every other open reset link of the account
    is spent too, and every browser session of the account ends."""
    row = reset_for(session, token)
    check_password_rules(password)
    now = utc_now()
    taken = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ApiError(404, "not-found", RESET_GONE)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == row.user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    user = session.get(User, row.user_id)
    if user is None:
        raise ApiError(404, "not-found", RESET_GONE)
    user.password_hash = hash_password(password)
    session.execute(
        delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == SESSION_NAME)
    )
    session.commit()
    return user


def change(session: Session, user_id: int, current: str, new: str) -> None:
    """A signed-in user's new password, given the current one (checked under the sign-in
    limits of the account)."""
    user = session.get(User, user_id)
    guard = _guard(session)
    if user is None:
        waste_a_check(current)
        raise ApiError(401, "unauthenticated", "sign in first")
    email, stored = user.email, user.password_hash
    # end the read before the limiter writes (in its own transaction): on SQLite this session
    # holds the write lock, as in accounts.sign_in
    session.commit()
    if guard is not None:
        guard.before_sign_in(email)
    if not check_password(stored, current):
        if guard is not None:
            guard.failed(email)
        raise ApiError(422, "invalid", "the current password is not right", "current_password")
    check_password_rules(new, "new_password")
    user = session.get(User, user_id)
    if user is None:  # removed meanwhile
        raise ApiError(401, "unauthenticated", "sign in first")
    user.password_hash = hash_password(new)
    session.commit()
