"""``/api/orgs/{org_id}/members``: who belongs to an organisation, with which role (admins
change it)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from entitle.web.accounts import normal_email
from entitle.web.auth import membership
from entitle.web.context import DB, ApiActor, Id, SessionRoute
from entitle.web.errors import ApiError, not_found
from entitle.web.models import Membership, Organisation, User

router = APIRouter(route_class=SessionRoute, prefix="/orgs/{org_id}/members", tags=["members"])
Role = Literal["viewer", "editor", "admin"]


class NewMember(BaseModel):
    email: str = Field(max_length=254)
    role: Role = "viewer"


def members_of(session: DB, org_id: Id) -> list[dict[str, Any]]:
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(User.email)
    ).all()
    return [{"user_id": u.id, "email": u.email, "name": u.name, "role": r} for u, r in rows]


def _serialise(session: DB, org_id: int, actor_id: int | None) -> None:
    """Take the organisation's row lock (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
    request's ``BEGIN IMMEDIATE`` already serialises writers), so that role changes of one
    organisation run one after another and each judges the roles the one before it left: two
    admins demoting each other at once leave one admin, not none (issue #14). The caller must
    still be an admin once the lock is held."""
    session.execute(
        select(Organisation.id).where(Organisation.id == org_id).with_for_update()
    ).scalar_one_or_none()
    if actor_id is None:
        return
    role = session.execute(
        select(Membership.role)
        .where(Membership.org_id == org_id, Membership.user_id == actor_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if role != "admin":
        raise ApiError(403, "forbidden", f"this needs the admin role; you are {role or 'gone'}")


def _member(session: DB, org_id: int, user_id: int) -> Membership | None:
    return session.execute(
        select(Membership)
        .where(Membership.org_id == org_id, Membership.user_id == user_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def add_member(session: DB, org_id: Id, email: str, role: str, actor_id: int | None = None) -> None:
    user = session.execute(
        select(User).where(User.email == normal_email(email))
    ).scalar_one_or_none()
    if user is None:
        raise ApiError(
            404, "not-found", "no user with this e-mail; ask them to sign up first", "email"
        )
    _serialise(session, org_id, actor_id)
    row = _member(session, org_id, user.id)
    if row is None:
        session.add(Membership(org_id=org_id, user_id=user.id, role=role))
    else:
        _keep_an_admin(session, org_id, row, role)
        row.role = role
    session.commit()


def _keep_an_admin(session: DB, org_id: Id, row: Membership, new_role: str | None) -> None:
    if row.role != "admin" or new_role == "admin":
        return
    admins = session.execute(
        select(Membership.id).where(Membership.org_id == org_id, Membership.role == "admin")
    ).all()
    if len(admins) <= 1:
        raise ApiError(409, "conflict", "an organisation keeps at least one admin")


@router.get("")
def list_members(org_id: Id, actor: ApiActor, session: DB) -> dict[str, Any]:
    membership(session, actor, org_id, "viewer")
    return {"ok": True, "members": members_of(session, org_id)}


@router.post("", status_code=201)
def put_member(org_id: Id, body: NewMember, actor: ApiActor, session: DB) -> dict[str, Any]:
    """Add an existing user to the organisation, or change their role (admins only)."""
    membership(session, actor, org_id, "admin")
    add_member(session, org_id, body.email, body.role, actor.user_id)
    return {"ok": True, "members": members_of(session, org_id)}


def remove(session: DB, org_id: int, user_id: int, actor_id: int | None = None) -> None:
    """Take a user out of the organisation (404 if not a member; 409 for its last admin)."""
    _serialise(session, org_id, actor_id)
    row = _member(session, org_id, user_id)
    if row is None:
        raise not_found("member")
    _keep_an_admin(session, org_id, row, None)
    session.delete(row)
    session.commit()


@router.delete("/{user_id}")
def remove_member(org_id: Id, user_id: Id, actor: ApiActor, session: DB) -> dict[str, Any]:
    """Remove a member (admins only); an organisation keeps at least one admin."""
    membership(session, actor, org_id, "admin")
    remove(session, org_id, user_id, actor.user_id)
    return {"ok": True}
