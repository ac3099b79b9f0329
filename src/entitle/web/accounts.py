"""Signing up, signing in and organisations: the writes that pages and the API share."""

from __future__ import annotations

import re
import secrets

from fastapi import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entitle.ledger.workspace import Membership, Organisation, User
from entitle.web.auth import COOKIE, SESSION_DAYS, Sessions, check_password, hash_password
from entitle.web.errors import ApiError
from entitle.web.jobs import utc_now

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


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
    email = email.strip().lower()
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


def sign_in(session: Session, email: str, password: str) -> User:
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None or not check_password(user.password_hash, password):
        raise ApiError(401, "unauthenticated", "wrong e-mail or password")
    return user


def set_session(response: Response, sessions: Sessions, user_id: int, secure: bool) -> str:
    cookie, csrf = sessions.dump(user_id)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=SESSION_DAYS * 86_400,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return csrf


def orgs_of(session: Session, user_id: int) -> list[tuple[Organisation, str]]:
    rows = session.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name)
    ).all()
    return [(org, role) for org, role in rows]
