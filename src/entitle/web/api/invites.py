"""``/api``: invitations to an organisation by e-mail (admins invite; the link joins), password
resets by e-mailed link and password changes (issue #17 item 4)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from entitle.ledger.clock import iso
from entitle.web import accounts, invites
from entitle.web.auth import membership
from entitle.web.context import DB, WS, ApiActor, Id, SessionRoute

router = APIRouter(route_class=SessionRoute, tags=["account"])


class NewInvitation(BaseModel):
    email: str = Field(max_length=254)
    role: Literal["viewer", "editor", "admin"] = "viewer"


class Token(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class JoinNew(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    name: str = Field("", max_length=200)
    password: str = Field(max_length=500)


class Forgot(BaseModel):
    email: str = Field(max_length=254)


class Reset(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=500)


class Change(BaseModel):
    current_password: str = Field(max_length=500)
    new_password: str = Field(max_length=500)


@router.post("/orgs/{org_id}/invitations", status_code=201)
def invite(
    org_id: Id, body: NewInvitation, request: Request, ws: WS, session: DB, actor: ApiActor
) -> dict[str, Any]:
    """Invite an e-mail address (admins): the link is e-mailed when the server has
    ENTITLE_SMTP_URL, else returned as ``link`` to pass on."""
    org = membership(session, actor, org_id, "admin")
    base = invites.base_url(ws, str(request.base_url))
    return invites.invite(ws, session, org, actor.email, body.email, body.role, base).as_json()


@router.get("/orgs/{org_id}/invitations")
def list_invitations(org_id: Id, session: DB, actor: ApiActor) -> dict[str, Any]:
    """The invitations not yet accepted nor expired (admins)."""
    membership(session, actor, org_id, "admin")
    return {
        "ok": True,
        "invitations": [
            {"id": i.id, "email": i.email, "role": i.role, "expires_at": iso(i.expires_at)}
            for i in invites.pending(session, org_id)
        ],
    }


@router.post("/invitations/accept")
def accept(body: Token, session: DB, actor: ApiActor) -> dict[str, Any]:
    """Join the organisation of an invitation, signed in as the address invited."""
    org = invites.accept(session, body.token, actor.user_id, actor.email)
    return {"ok": True, "organisation": {"id": org.id, "name": org.name}}


@router.post("/invitations/signup", status_code=201)
def join_new(body: JoinNew, response: Response, ws: WS, session: DB) -> dict[str, Any]:
    """Create the invited address's account (with no organisation of its own) and join; signs
    you in."""
    user, org = invites.join_new(session, body.token, body.name, body.password)
    csrf = accounts.start_session(
        session, response, ws.sessions, user.id, ws.settings.secure_cookies
    )
    return {
        "ok": True,
        "user": {"id": user.id, "email": user.email},
        "organisation": {"id": org.id, "name": org.name},
        "csrf_token": csrf,
    }


@router.post("/password/forgot", status_code=202)
def forgot(body: Forgot, request: Request, ws: WS, session: DB) -> dict[str, Any]:
    """E-mail a reset link (1 hour, once) to the address's account, if any: the answer is the
    same either way. 503 when the server sends no e-mail."""
    base = invites.base_url(ws, str(request.base_url))
    return {"ok": True, "message": invites.forgot(ws, session, body.email, base)}


@router.post("/password/reset")
def reset(body: Reset, session: DB) -> dict[str, Any]:
    """Choose a new password with a reset link's token; the account's browser sessions end."""
    user = invites.reset(session, body.token, body.password)
    return {"ok": True, "user": {"id": user.id, "email": user.email}}


@router.post("/password")
def change(body: Change, session: DB, actor: ApiActor) -> dict[str, Any]:
    """Change your password, giving the current one."""
    invites.change(session, actor.user_id, body.current_password, body.new_password)
    return {"ok": True}
