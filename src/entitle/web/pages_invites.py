"""The pages of invitations, password resets and password changes (issue #17 item 4): the link
of an invitation (join signed in, or create the invited account), forgetting a password, the
reset link, and changing the password. Members' invitations are made on the members page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from entitle.web import accounts, invites
from entitle.web.auth import Actor
from entitle.web.context import DB, WS, MaybeActor, SessionRoute
from entitle.web.errors import ApiError
from entitle.web.pages import form_of, render, signed_in

router = APIRouter(route_class=SessionRoute, include_in_schema=False)


def _invite_page(
    request: Request, session: DB, actor: MaybeActor, token: str, error: str | None = None
) -> Response:
    try:
        row, org = invites.invitation(session, token)
    except ApiError as exc:
        page = render(
            request, "invite.html", actor, session, invitation=None, error=exc.items[0].message
        )
        page.status_code = exc.status
        return page
    return render(
        request,
        "invite.html",
        actor,
        session,
        invitation=row,
        inviting=org,
        token=token,
        mine=actor is not None and accounts.normal_email(actor.email) == row.email,
        error=error,
    )


@router.get("/invite/{token}", response_class=HTMLResponse)
def invite_page(request: Request, token: str, session: DB, actor: MaybeActor) -> Response:
    return _invite_page(request, session, actor, token)


@router.post("/invite/{token}", response_class=HTMLResponse)
async def use_invite(
    request: Request, token: str, ws: WS, session: DB, actor: MaybeActor
) -> Response:
    """Join (signed in: CSRF checked) or create the invited account (no session yet: the
    same-origin check guards it, as for sign-up)."""
    try:
        form = await form_of(request, actor) if actor is not None else await request.form()
    except ApiError as exc:
        if exc.status == 403 and exc.items[0].code == "csrf":
            raise
        error = exc.items[0].message
        return await run_in_threadpool(_invite_page, request, session, actor, token, error)
    return await run_in_threadpool(_use_invite, request, token, ws, session, actor, form)


def _use_invite(
    request: Request, token: str, ws: WS, session: DB, actor: MaybeActor, form: Any
) -> Response:
    try:
        if actor is not None:
            org = invites.accept(session, token, actor.user_id, actor.email)
            return RedirectResponse(f"/?org={org.id}", status_code=303)
        user, org = invites.join_new(
            session, token, str(form.get("name", "")), str(form.get("password", ""))
        )
    except ApiError as exc:
        if exc.status == 403 and exc.items[0].code == "csrf":
            raise
        return _invite_page(request, session, actor, token, exc.items[0].message)
    response = RedirectResponse(f"/?org={org.id}", status_code=303)
    accounts.set_session(response, ws.sessions, user.id, ws.settings.secure_cookies)
    return response


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_page(request: Request, ws: WS, session: DB) -> Response:
    return render(
        request, "forgot.html", None, session, message=None, error=None, mail=ws.mailer is not None
    )


@router.post("/password/forgot", response_class=HTMLResponse)
async def forgot(request: Request, ws: WS, session: DB) -> Response:
    return await run_in_threadpool(_forgot, request, ws, session, await request.form())


def _forgot(request: Request, ws: WS, session: DB, form: FormData) -> Response:
    base = invites.base_url(ws, str(request.base_url))
    try:
        message = invites.forgot(ws, session, str(form.get("email", "")), base)
    except ApiError as exc:
        page = render(
            request,
            "forgot.html",
            None,
            session,
            message=None,
            error=exc.items[0].message,
            mail=ws.mailer is not None,
        )
        page.status_code = exc.status
        return page
    return render(request, "forgot.html", None, session, message=message, error=None, mail=True)


@router.get("/reset/{token}", response_class=HTMLResponse)
def reset_page(request: Request, token: str, session: DB) -> Response:
    try:
        invites.reset_for(session, token)
    except ApiError as exc:
        page = render(request, "reset.html", None, session, token=None, error=exc.items[0].message)
        page.status_code = exc.status
        return page
    return render(request, "reset.html", None, session, token=token, error=None)


@router.post("/reset/{token}", response_class=HTMLResponse)
async def reset(request: Request, token: str, session: DB) -> Response:
    return await run_in_threadpool(_reset, request, token, session, await request.form())


def _reset(request: Request, token: str, session: DB, form: FormData) -> Response:
    password = str(form.get("password", ""))
    if password != str(form.get("again", "")):
        return render(
            request, "reset.html", None, session, token=token, error="the two passwords differ"
        )
    try:
        invites.reset(session, token, password)
    except ApiError as exc:
        return render(request, "reset.html", None, session, token=token, error=exc.items[0].message)
    return RedirectResponse("/login?reset=done", status_code=303)


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, session: DB, actor: MaybeActor) -> Response:
    me = signed_in(actor)
    return render(request, "password.html", me, session, error=None, message=None)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request, session: DB, actor: MaybeActor) -> Response:
    me = signed_in(actor)
    return await run_in_threadpool(
        _change_password, request, session, me, await form_of(request, me)
    )


def _change_password(request: Request, session: DB, me: Actor, form: dict[str, Any]) -> Response:
    new = str(form.get("new_password", ""))
    try:
        if new != str(form.get("again", "")):
            raise ApiError(422, "invalid", "the two new passwords differ", "again")
        invites.change(session, me.user_id, str(form.get("current_password", "")), new)
    except ApiError as exc:
        page = render(
            request, "password.html", me, session, error=exc.items[0].message, message=None
        )
        if exc.retry_after is not None:
            page.status_code = exc.status
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    return render(request, "password.html", me, session, error=None, message="password changed")
