"""Your account's pages: personal API tokens (create one, shown once; revoke any) and your
signed-in browser sessions (sign any of them out), and signing out, which ends the session on
the server so that a kept copy of the cookie is refused."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from entitle.web import accounts
from entitle.web.api.account import add_token, api_tokens, revoke
from entitle.web.auth import COOKIE, SESSION_NAME, Actor
from entitle.web.context import DB, WS, MaybeActor, SessionRoute
from entitle.web.errors import ApiError
from entitle.web.models import ApiToken
from entitle.web.pages import form_of, render, signed_in

router = APIRouter(route_class=SessionRoute, include_in_schema=False)


def _page(
    request: Request,
    session: DB,
    me: Actor,
    new_token: str | None = None,
    error: str | None = None,
) -> Response:
    sessions = session.execute(
        select(ApiToken)
        .where(ApiToken.user_id == me.user_id, ApiToken.name == SESSION_NAME)
        .order_by(ApiToken.id)
    ).scalars()
    return render(
        request,
        "tokens.html",
        me,
        session,
        tokens=api_tokens(session, me.user_id),
        sessions=list(sessions),
        new_token=new_token,
        error=error,
    )


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, session: DB, actor: MaybeActor) -> Response:
    return _page(request, session, signed_in(actor))


@router.post("/account/tokens", response_class=HTMLResponse)
async def create_token(request: Request, session: DB, actor: MaybeActor) -> Response:
    """Make a token and show it this once (it is stored only as its SHA-256)."""
    me = signed_in(actor)
    form = await form_of(request, me)
    return await run_in_threadpool(_create_token, request, session, me, form)


def _create_token(request: Request, session: DB, me: Actor, form: dict[str, Any]) -> Response:
    name = str(form.get("name", "")).strip()[:100]
    if not name:
        return _page(request, session, me, error="name the token (what will use it?)")
    try:
        _row, token = add_token(session, me.user_id, name)
    except ApiError as exc:
        return _page(request, session, me, error=exc.items[0].message)
    return _page(request, session, me, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int, session: DB, actor: MaybeActor) -> Response:
    me = signed_in(actor)
    await form_of(request, me)
    await run_in_threadpool(revoke, session, me.user_id, token_id)
    return RedirectResponse("/account/tokens", status_code=303)


@router.post("/logout")
async def logout(request: Request, ws: WS, session: DB, actor: MaybeActor) -> Response:
    """Sign out: the session's row is deleted, then the cookie."""
    if actor is not None:
        await form_of(request, actor)
    response = RedirectResponse("/login", status_code=303)
    cookie, secure = request.cookies.get(COOKIE), ws.settings.secure_cookies
    await run_in_threadpool(accounts.sign_out, session, ws.sessions, cookie, response, secure)
    return response
