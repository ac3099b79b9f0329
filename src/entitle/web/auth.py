"""Who is asking: local users with argon2id password hashes, a session cookie for the browser
(with a CSRF token that every unsafe cookie request must echo), and personal API tokens for
scripts (``Authorization: Bearer ent_...``).

Secrets are kept only as hashes: passwords as argon2id, API tokens and sessions as SHA-256 (a
session is a row of ``web_tokens`` named :data:`SESSION_NAME`; the cookie carries its secret,
signed). Signing out deletes the session's row and revoking a token deletes its row, so either
is refused from the next request on; a session also ends :data:`SESSION_HOURS` after sign-in.

Roles per organisation are ``viewer`` (read), ``editor`` (import, change the ledger) and
``admin`` (members); a user who is not a member of an organisation gets 404 for everything in
it, so its existence does not leak.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, bindparam, delete, select
from sqlalchemy.orm import Session

from entitle.ledger.clock import utc_now
from entitle.ledger.db import writer
from entitle.web.errors import ApiError, not_found
from entitle.web.models import ROLES, ApiToken, Membership, Organisation, User

COOKIE = "entitle_session"
SESSION_HOURS = 12
SESSION_NAME = "(browser session)"
"""The ``web_tokens.name`` of a session's row; no API token may take this name."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PREFIX = "ent_"
SESSION_PREFIX = "ses_"
# OWASP's argon2id minimum: 19 MiB, 2 passes — a login costs tens of milliseconds.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def waste_a_check(password: str) -> None:
    """As long as a real password check: an unknown e-mail answers no faster than a wrong
    password, so timing does not tell which accounts exist."""
    check_password(_decoy_hash(), password)


def new_token() -> tuple[str, str]:
    """A fresh API token and the hash to store."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(_bytes(token)).hexdigest()


@dataclass(frozen=True, slots=True)
class Holder:
    """What a token's row tells about the request: the row and its user."""

    token_id: int
    token_name: str
    created_at: datetime
    user_id: int
    email: str
    name: str


HOLDER = (
    select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.created_at,
        ApiToken.token_hash,
        User.id,
        User.email,
        User.name,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)
"""Every request asks it: one statement, compiled once, run on the session's connection
without loading ORM objects (a third of a read's CPU went to loading the two rows as objects)."""


def find_holder(session: Session, secret: str) -> Holder | None:
    """The token row holding ``secret``'s hash (looked up by the hash, then compared in
    constant time) with its user, in one query, or ``None``."""
    digest = token_hash(secret)
    row = session.connection().execute(HOLDER, {"digest": digest}).one_or_none()
    if row is None or not hmac.compare_digest(row[3], digest):
        return None
    return Holder(row[0], row[1], row[2], row[4], row[5], row[6])


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user; ``csrf`` is set when they came with the session cookie."""

    user_id: int
    email: str
    name: str
    csrf: str | None = None


class Sessions:
    """Server-side sessions: a row per session (the SHA-256 of its secret) and a signed cookie
    carrying the secret and the session's CSRF token. ``engine`` serves callers that have no
    database session of their own (:meth:`open`)."""

    def __init__(self, secret: str, engine: Engine, hours: float = SESSION_HOURS):
        self._signer = URLSafeTimedSerializer(secret, salt="entitle-session")
        self.engine = engine
        self.lifetime = timedelta(hours=hours)

    @property
    def max_age(self) -> int:
        return int(self.lifetime.total_seconds())

    def start(self, session: Session, user_id: int) -> tuple[str, str]:
        """A new session for ``user_id`` (added to ``session``; the caller commits): the
        cookie's value and the CSRF token. The user's expired sessions are dropped."""
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = utc_now()
        session.execute(
            delete(ApiToken).where(
                ApiToken.user_id == user_id,
                ApiToken.name == SESSION_NAME,
                ApiToken.created_at < now - self.lifetime,
            )
        )
        session.add(
            ApiToken(
                user_id=user_id,
                name=SESSION_NAME,
                token_hash=token_hash(secret),
                created_at=now,
            )
        )
        return self._signer.dumps({"s": secret, "c": csrf}), csrf

    def open(self, user_id: int) -> tuple[str, str]:
        """:meth:`start` in a transaction of its own."""
        with Session(writer(self.engine)) as session, session.begin():
            return self.start(session, user_id)

    def load(self, cookie: str) -> tuple[str, str] | None:
        """The session secret and CSRF token of a cookie we signed and that has not expired."""
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            return None
        return data["s"], str(data.get("c", ""))

    def find(self, session: Session, cookie: str) -> tuple[Holder, str] | None:
        """The live session row behind ``cookie`` with its user, and its CSRF token, or
        ``None`` (signed out, expired, forged)."""
        loaded = self.load(cookie)
        found = find_holder(session, loaded[0]) if loaded else None
        if found is None or loaded is None or not vouches(self, Credential(*loaded), found):
            return None
        return found, loaded[1]

    def end(self, session: Session, cookie: str) -> None:
        """Sign out: the session's row goes (the caller commits)."""
        found = self.find(session, cookie)
        if found is not None:
            session.execute(delete(ApiToken).where(ApiToken.id == found[0].token_id))


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request presents: a bearer token (``csrf`` is ``None``), or the secret of the
    session its cookie names, with the session's CSRF token."""

    secret: str
    csrf: str | None = None


def credential(request: Request, sessions: Sessions) -> Credential | None:
    """The request's bearer token, else its signed, unexpired session cookie's secret."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return Credential(header[7:].strip())
    cookie = request.cookies.get(COOKIE)
    loaded = sessions.load(cookie) if cookie else None
    return Credential(*loaded) if loaded else None


def vouches(sessions: Sessions, presented: Credential, holder: Holder) -> bool:
    """Whether the row found for ``presented``'s secret lets it in: an API token's row for a
    bearer token; for a cookie, a session's row less than the session lifetime old."""
    if presented.csrf is None:
        return holder.token_name != SESSION_NAME
    return holder.token_name == SESSION_NAME and holder.created_at >= utc_now() - sessions.lifetime


def identify(request: Request, session: Session, sessions: Sessions) -> Actor | None:
    """The actor of a request, by bearer token or session cookie, or ``None``."""
    presented = credential(request, sessions)
    if presented is None:
        return None
    holder = find_holder(session, presented.secret)
    if holder is None or not vouches(sessions, presented, holder):
        if presented.csrf is None:
            raise ApiError(401, "unauthenticated", "the API token is unknown or was revoked")
        return None
    return Actor(holder.user_id, holder.email, holder.name, presented.csrf)


def check_csrf(request: Request, actor: Actor, form_token: str | None = None) -> None:
    """Cookie-authenticated unsafe requests must echo the session's CSRF token (header
    ``X-CSRF-Token`` or form field ``csrf_token``); token-authenticated ones need not."""
    if actor.csrf is None or request.method in SAFE_METHODS:
        return
    given = request.headers.get("x-csrf-token") or form_token or ""
    # compared as bytes: compare_digest refuses str that is not ASCII, and a token that is not
    # ASCII is simply a wrong token (issue #14), not a server error
    if not hmac.compare_digest(_bytes(given), _bytes(actor.csrf)):
        raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page and retry")


def membership(session: Session, actor: Actor, org_id: int, role: str = "viewer") -> Organisation:
    """The organisation, if ``actor`` holds at least ``role`` there: 404 when not a member,
    403 when the role is too weak."""
    row = session.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.org_id == org_id, Membership.user_id == actor.user_id)
    ).one_or_none()
    if row is None:
        raise not_found("organisation")
    org, held = row
    if ROLES.index(held) < ROLES.index(role):
        raise ApiError(403, "forbidden", f"this needs the {role} role; you are {held}")
    return org


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
