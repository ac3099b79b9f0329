"""``/api``: sign up, sign in and out, who am I, personal API tokens, organisations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from entitle.ledger.clock import iso, utc_now
from entitle.web import accounts
from entitle.web.auth import COOKIE, SESSION_NAME, new_token
from entitle.web.context import DB, WS, ApiActor, Id, SessionRoute
from entitle.web.errors import ApiError, not_found
from entitle.web.models import ApiToken

router = APIRouter(route_class=SessionRoute, tags=["account"])


class SignUp(BaseModel):
    email: str = Field(max_length=254)
    name: str = Field("", max_length=200)
    password: str = Field(max_length=500)
    organisation: str = Field(max_length=200)


class SignIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=500)


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class NewOrg(BaseModel):
    name: str = Field(min_length=1, max_length=200)


def _me(session: DB, user_id: Id) -> list[dict[str, Any]]:
    return [
        {"id": o.id, "slug": o.slug, "name": o.name, "role": role}
        for o, role in accounts.orgs_of(session, user_id)
    ]


@router.post("/signup", status_code=201)
def signup(body: SignUp, response: Response, ws: WS, session: DB) -> dict[str, Any]:
    """Create an account and its first organisation (you are its admin); signs you in."""
    user = accounts.sign_up(session, body.email, body.name, body.password, body.organisation)
    csrf = accounts.start_session(
        session, response, ws.sessions, user.id, ws.settings.secure_cookies
    )
    return {
        "ok": True,
        "user": {"id": user.id, "email": user.email},
        "csrf_token": csrf,
        "organisations": _me(session, user.id),
    }


@router.post("/login")
def login(body: SignIn, response: Response, ws: WS, session: DB) -> dict[str, Any]:
    """Sign in; the session cookie is set and the CSRF token to send back is returned. After
    5 failures for an account, or 20 from one address, within 15 minutes: 429 with
    Retry-After."""
    user = accounts.sign_in(session, body.email, body.password)
    csrf = accounts.start_session(
        session, response, ws.sessions, user.id, ws.settings.secure_cookies
    )
    return {"ok": True, "user": {"id": user.id, "email": user.email}, "csrf_token": csrf}


@router.post("/logout")
def logout(
    request: Request, response: Response, ws: WS, session: DB, actor: ApiActor
) -> dict[str, Any]:
    """End this session: its cookie is refused from now on, even if a copy was kept."""
    accounts.sign_out(
        session, ws.sessions, request.cookies.get(COOKIE), response, ws.settings.secure_cookies
    )
    return {"ok": True}


@router.get("/me")
def me(actor: ApiActor, session: DB) -> dict[str, Any]:
    return {
        "ok": True,
        "user": {"id": actor.user_id, "email": actor.email, "name": actor.name},
        "csrf_token": actor.csrf,
        "organisations": _me(session, actor.user_id),
    }


def api_tokens(session: DB, user_id: int) -> list[ApiToken]:
    """The user's personal API tokens (not their browser sessions), oldest first."""
    return list(
        session.execute(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.name != SESSION_NAME)
            .order_by(ApiToken.id)
        ).scalars()
    )


def add_token(session: DB, user_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user_id`` (committed) and its secret, which is not kept."""
    if name.strip() == SESSION_NAME:
        raise ApiError(422, "invalid", "choose another name", "name")
    token, digest = new_token()
    row = ApiToken(user_id=user_id, name=name.strip(), token_hash=digest, created_at=utc_now())
    session.add(row)
    session.commit()
    return row, token


def revoke(session: DB, user_id: int, token_id: int) -> None:
    """Delete one of the user's tokens or sessions; refused from the next request on."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise not_found("token")
    session.delete(row)
    session.commit()


@router.get("/tokens")
def tokens(actor: ApiActor, session: DB) -> dict[str, Any]:
    """Your personal API tokens (their secrets are never shown again)."""
    return {
        "ok": True,
        "tokens": [
            {"id": t.id, "name": t.name, "created_at": iso(t.created_at)}
            for t in api_tokens(session, actor.user_id)
        ],
    }


@router.post("/tokens", status_code=201)
def create_token(body: NewToken, actor: ApiActor, session: DB) -> dict[str, Any]:
    """A personal API token acting as you; shown once, stored only as its SHA-256."""
    row, token = add_token(session, actor.user_id, body.name)
    return {"ok": True, "id": row.id, "name": row.name, "token": token}


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: Id, actor: ApiActor, session: DB) -> dict[str, Any]:
    """Revoke a token: requests with it are refused (401) from now on."""
    revoke(session, actor.user_id, token_id)
    return {"ok": True}


@router.get("/orgs")
def orgs(actor: ApiActor, session: DB) -> dict[str, Any]:
    return {"ok": True, "organisations": _me(session, actor.user_id)}


@router.post("/orgs", status_code=201)
def create_org(body: NewOrg, actor: ApiActor, session: DB) -> dict[str, Any]:
    org = accounts.create_org(session, body.name, actor.user_id)
    session.commit()
    return {"ok": True, "id": org.id, "slug": org.slug, "name": org.name}
