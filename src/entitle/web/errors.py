"""The one JSON error envelope of the API: ``{"ok": false, "errors": [{"code", "message",
"source"?, "retry_after"?}]}`` with the right HTTP status (a 429 also sends ``Retry-After``),
for our own refusals, HTTP errors, request validation and unexpected failures alike. Pages get
a small HTML page with the same text."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from entitle.ledger.db import NulCharacter
from entitle.source import Problem

log = logging.getLogger("entitle.web")

CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid",
    429: "rate-limited",
    500: "internal",
}


@dataclass(frozen=True, slots=True)
class ErrorItem:
    code: str
    message: str
    source: str | None = None
    retry_after: int | None = None
    """Seconds to wait before retrying (with a 429; also sent as the Retry-After header)."""

    def as_json(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {"code": self.code, "message": self.message}
        if self.source:
            out["source"] = self.source
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


class ApiError(Exception):
    """A refusal with an HTTP status and one or more error items."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        source: str | None = None,
        *,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.items: tuple[ErrorItem, ...] = (ErrorItem(code, message, source, retry_after),)

    @classmethod
    def of_problems(cls, problems: Sequence[Problem], status: int = 422) -> ApiError:
        """Bad user data: every problem, each with its ``FILE:LINE`` source."""
        error = cls(status, "invalid", "the input has problems")
        error.items = (
            tuple(
                ErrorItem("invalid", p.message + (f" ({p.hint})" if p.hint else ""), str(p.source))
                for p in problems
            )
            or error.items
        )
        return error


def not_found(what: str) -> ApiError:
    return ApiError(404, "not-found", f"no {what} here")


def envelope(status: int, items: Sequence[ErrorItem]) -> Response:
    return JSONResponse({"ok": False, "errors": [i.as_json() for i in items]}, status_code=status)


SECRET_FIELDS = ("csrf_token", "password", "new_password", "current_password", "token")
KEPT = "entitle_kept_input"
"""The key under ``request.state`` of the form fields a page read, for the error page."""


def keep_input(request: Request, fields: Sequence[tuple[str, Any]]) -> None:
    """Remember what a form sent (text fields only, never a password or token), so that a
    refusal's page can show it again (the exception handlers get a new request object; the
    ASGI scope's state is shared)."""
    kept = [
        (name, value)
        for name, value in fields
        if isinstance(value, str) and value and not any(s in name for s in SECRET_FIELDS)
    ]
    setattr(request.state, KEPT, kept)


TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Refused",
    413: "Too large",
    422: "Please check the input",
    429: "Too many attempts",
    500: "Something went wrong",
}
HINTS = {
    403: "Your role in this organisation does not allow this; an admin can change it on the "
    "Members page. Nothing was changed.",
    404: "It may have been deleted, or it belongs to an organisation you are not a member of.",
    500: "Nothing you did caused this; the server's log has the details. Nothing was changed.",
}


CODE_HINTS = {
    "csrf": "The form came from a page of another session or one open too long; reload the "
    "page and send it again. Nothing was changed.",
}


def _page(request: Request, status: int, items: Sequence[ErrorItem]) -> Response:
    """The error as a page in the app's style, keeping what the form sent."""
    from entitle.web.templating import TEMPLATES  # noqa: PLC0415 (templates import the web)

    actor, orgs = _who(request)
    kept = getattr(request.state, KEPT, []) if request.method not in ("GET", "HEAD") else []
    referer = request.headers.get("referer", "")
    back = referer if referer.startswith(str(request.base_url)) else "/"
    try:
        return TEMPLATES.TemplateResponse(
            request,
            "error.html",
            {
                "actor": actor,
                "orgs": orgs,
                "org": orgs[0][0] if orgs else None,
                "csrf": actor.csrf if actor else "",
                "status": status,
                "title": TITLES.get(status, f"Error {status}"),
                "hint": CODE_HINTS.get(items[0].code if items else "", HINTS.get(status, "")),
                "items": items,
                "kept": kept,
                "back": back,
            },
            status_code=status,
        )
    except Exception:  # the page itself failed: the plain text, still with its status
        log.exception("the error page failed")
        text = "".join(f"<li>{escape(i.message)}</li>" for i in items)
        return HTMLResponse(f"<h1>Error {status}</h1><ul>{text}</ul>", status_code=status)


def _who(request: Request) -> tuple[Any, list[Any]]:
    """The signed-in user and their organisations, for the page's header, from the function
    :func:`install` was given (none when that cannot be read: the error page must not fail in
    turn). It is handed in because it needs the accounts, which use this module."""
    who = getattr(request.app.state, "error_page_who", None)
    try:
        return who(request) if who is not None else (None, [])
    except Exception:
        return None, []


def _respond(request: Request, status: int, items: Sequence[ErrorItem]) -> Response:
    if not _as_page(request):
        return envelope(status, items)
    return _page(request, status, items)


def _as_page(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


async def _answer(request: Request, status: int, items: Sequence[ErrorItem]) -> Response:
    """:func:`_respond` from an exception handler: an error page reads who is signed in from
    the database, so it is drawn in the thread pool, off the event loop."""
    if not _as_page(request):
        return envelope(status, items)
    return await run_in_threadpool(_page, request, status, items)


def internal_error(request: Request) -> Response:
    """The answer to a bug: 500 and no detail (the trace goes to the log)."""
    return _respond(request, 500, [ErrorItem("internal", "an unexpected error; see the log")])


def _validation_items(error: RequestValidationError) -> list[ErrorItem]:
    items = []
    for e in error.errors():
        where = ".".join(str(part) for part in e.get("loc", ()))
        items.append(ErrorItem("invalid", str(e.get("msg", "invalid value")), where or None))
    return items or [ErrorItem("invalid", "the request is not valid")]


def install(app: FastAPI, who: Callable[[Request], tuple[Any, list[Any]]] | None = None) -> None:
    """Route every failure through the envelope. ``who`` tells an error page's header the
    signed-in user and their organisations."""
    app.state.error_page_who = who

    async def api_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ApiError):
            raise exc
        response = await _answer(request, exc.status, exc.items)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException):
            raise exc
        code = CODES.get(exc.status_code, "error")
        detail: Any = exc.detail
        message = detail if isinstance(detail, str) else code
        response = await _answer(request, exc.status_code, [ErrorItem(code, message)])
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError):
            raise exc
        return await _answer(request, 422, _validation_items(exc))

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return await run_in_threadpool(internal_error, request)

    async def nul_character(request: Request, exc: Exception) -> Response:
        # a text field that reached the database with U+0000 in it (multipart forms): bad input
        return await _answer(request, 422, [ErrorItem("invalid", str(exc))])

    app.add_exception_handler(NulCharacter, nul_character)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
