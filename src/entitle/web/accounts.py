"""Signing up, signing in and out, and organisations: the writes that pages and the API share.

Sign-ins and sign-ups are limited per account and per client address by the request's
:class:`~entitle.web.security.SignInGuard`, which ``context.db_session`` puts in the database
session's ``info`` (so every caller is guarded without passing it along)."""

from __future__ import annotations

import re
import secrets
import unicodedata

from fastapi import Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entitle.ledger.clock import utc_now
from entitle.web.auth import (
    COOKIE,
    Actor,
    Sessions,
    check_password,
    hash_password,
    identify,
    waste_a_check,
)
from entitle.web.errors import ApiError
from entitle.web.models import Membership, Organisation, User
from entitle.web.security import GUARD, SignInGuard

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normal_email(text: str) -> str:
    """An e-mail address as it is compared and stored: Unicode NFKC (a full-width ``ａlice``
    is ``alice``), trimmed and case-folded, so one person cannot hold two accounts that look
    the same (issue #14). Names keep their accents and scripts (jürgen, josé, 山田)."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def slug_for(session: Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "org"
    slug = base
    while session.execute(select(Organisation).where(Organisation.slug == slug)).first():
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def create_org(session: Session, name: str, admin_id: int) -> Organisation:
    org = Organisation(slug=slug_for(session, name), name=name.strip(), created_at=utc_now())
    session.add(org)
    session.flush()
    session.add(Membership(org_id=org.id, user_id=admin_id, role="admin"))
    return org


def sign_up(session: Session, email: str, name: str, password: str, org_name: str) -> User:
    """A new user and their first organisation, of which they are the admin."""
    guard = _guard(session)
    if guard is not None:
        guard.before_sign_up()
    email = normal_email(email)
    if not EMAIL.match(email):
        raise ApiError(422, "invalid", "write an e-mail address like ann@example.com", "email")
    if len(password) < 8:
        raise ApiError(422, "invalid", "the password needs at least 8 characters", "password")
    if not org_name.strip():
        raise ApiError(422, "invalid", "name your organisation", "organisation")
    taken = session.execute(select(func.count()).where(User.email == email)).scalar_one()
    if taken:
        raise ApiError(409, "conflict", "an account with this e-mail exists; sign in", "email")
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        created_at=utc_now(),
    )
    session.add(user)
    session.flush()
    create_org(session, org_name, user.id)
    return user


def _guard(session: Session) -> SignInGuard | None:
    guard = session.info.get(GUARD)
    return guard if isinstance(guard, SignInGuard) else None


def sign_in(session: Session, email: str, password: str) -> User:
    """The user with this e-mail and password, or 401; 429 (before any password is checked)
    after too many failures for the account or from the client's address."""
    email = normal_email(email)
    guard = _guard(session)
    if guard is not None:
        guard.before_sign_in(email)
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    # end the read before the password is checked (argon2, tens of ms) and before the limiter
    # writes (in its own transaction): on SQLite this session holds the write lock
    session.commit()
    if user is None:
        waste_a_check(password)
    if user is None or not check_password(user.password_hash, password):
        if guard is not None:
            guard.failed(email)
        raise ApiError(401, "unauthenticated", "wrong e-mail or password")
    if guard is not None:
        guard.succeeded(email)
    return user


def _cookie(response: Response, sessions: Sessions, cookie: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=sessions.max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def start_session(
    session: Session, response: Response, sessions: Sessions, user_id: int, secure: bool
) -> str:
    """Sign ``user_id`` in: a session row (committed here) and its cookie; the CSRF token."""
    cookie, csrf = sessions.start(session, user_id)
    session.commit()
    _cookie(response, sessions, cookie, secure)
    return csrf


def set_session(response: Response, sessions: Sessions, user_id: int, secure: bool) -> str:
    """:func:`start_session` for callers without a database session at hand."""
    cookie, csrf = sessions.open(user_id)
    _cookie(response, sessions, cookie, secure)
    return csrf


def sign_out(
    session: Session, sessions: Sessions, cookie: str | None, response: Response, secure: bool
) -> None:
    """End the session (its row goes, so the cookie is refused even if kept) and clear it."""
    if cookie:
        sessions.end(session, cookie)
        session.commit()
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


def orgs_of(session: Session, user_id: int) -> list[tuple[Organisation, str]]:
    rows = session.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name)
    ).all()
    return [(org, role) for org, role in rows]


def who_is_there(request: Request) -> tuple[Actor | None, list[tuple[Organisation, str]]]:
    """The signed-in user of a request and their organisations (detached from the database
    session), for the header of an error page (``errors.install``)."""
    ws = request.app.state.workspace
    with Session(ws.engine) as session:
        actor = identify(request, session, ws.sessions)
        orgs = orgs_of(session, actor.user_id) if actor else []
        for org, _role in orgs:
            session.expunge(org)
    return actor, orgs
