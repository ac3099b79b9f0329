"""Who is asking: local users with argon2 password hashes, a signed session cookie for the
browser (with a CSRF token that every unsafe cookie request must echo), and personal API tokens
for scripts (``Authorization: Bearer ent_...``; only their SHA-256 is stored).

Roles per organisation are ``viewer`` (read), ``editor`` (import, change the ledger) and
``admin`` (members); a user who is not a member of an organisation gets 404 for everything in
it, so its existence does not leak.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from entitle.ledger.workspace import ROLES, ApiToken, Membership, Organisation, User
from entitle.web.errors import ApiError, not_found

COOKIE = "entitle_session"
SESSION_DAYS = 14
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PREFIX = "ent_"
# OWASP's argon2id minimum: 19 MiB, 2 passes — a login costs tens of milliseconds.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A fresh API token and the hash to store."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user; ``csrf`` is set when they came with the session cookie."""

    user_id: int
    email: str
    name: str
    csrf: str | None = None


class Sessions:
    """Signs and reads the session cookie's payload: the user id and the CSRF token."""

    def __init__(self, secret: str):
        self._signer = URLSafeTimedSerializer(secret, salt="entitle-session")

    def dump(self, user_id: int) -> tuple[str, str]:
        csrf = secrets.token_urlsafe(24)
        return self._signer.dumps({"u": user_id, "c": csrf}), csrf

    def load(self, cookie: str) -> tuple[int, str] | None:
        try:
            data = self._signer.loads(cookie, max_age=SESSION_DAYS * 86_400)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), int):
            return None
        return data["u"], str(data.get("c", ""))


def identify(request: Request, session: Session, sessions: Sessions) -> Actor | None:
    """The actor of a request, by bearer token or session cookie, or ``None``."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        row = session.execute(
            select(ApiToken).where(ApiToken.token_hash == token_hash(token))
        ).scalar_one_or_none()
        if row is None:
            raise ApiError(401, "unauthenticated", "the API token is unknown or was revoked")
        user = session.get(User, row.user_id)
        return None if user is None else Actor(user.id, user.email, user.name)
    cookie = request.cookies.get(COOKIE)
    loaded = sessions.load(cookie) if cookie else None
    if loaded is None:
        return None
    user = session.get(User, loaded[0])
    return None if user is None else Actor(user.id, user.email, user.name, loaded[1])


def check_csrf(request: Request, actor: Actor, form_token: str | None = None) -> None:
    """Cookie-authenticated unsafe requests must echo the session's CSRF token (header
    ``X-CSRF-Token`` or form field ``csrf_token``); token-authenticated ones need not."""
    if actor.csrf is None or request.method in SAFE_METHODS:
        return
    given = request.headers.get("x-csrf-token") or form_token or ""
    if not hmac.compare_digest(given, actor.csrf):
        raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page and retry")


def membership(session: Session, actor: Actor, org_id: int, role: str = "viewer") -> Organisation:
    """The organisation, if ``actor`` holds at least ``role`` there: 404 when not a member,
    403 when the role is too weak."""
    row = session.execute(
        select(Membership).where(Membership.org_id == org_id, Membership.user_id == actor.user_id)
    ).scalar_one_or_none()
    org = session.get(Organisation, org_id) if row is not None else None
    if row is None or org is None:
        raise not_found("organisation")
    if ROLES.index(row.role) < ROLES.index(role):
        raise ApiError(403, "forbidden", f"this needs the {role} role; you are {row.role}")
    return org
