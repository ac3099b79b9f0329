"""The one JSON error envelope of the API: ``{"ok": false, "errors": [{"code", "message",
"source"?, "retry_after"?}]}`` with the right HTTP status (a 429 also sends ``Retry-After``),
for our own refusals, HTTP errors, request validation and unexpected failures alike. Pages get
a small HTML page with the same text."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
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


def _respond(request: Request, status: int, items: Sequence[ErrorItem]) -> Response:
    if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
        return envelope(status, items)
    text = "".join(f"<li>{escape(i.message)}</li>" for i in items)
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>entitle: "
        f"error {status}</title></head><body><h1>Error {status}</h1><ul>{text}</ul>"
        "<p><a href='/'>Back to the dashboard</a></p></body></html>"
    )
    return HTMLResponse(page, status_code=status)


def internal_error(request: Request) -> Response:
    """The answer to a bug: 500 and no detail (the trace goes to the log)."""
    return _respond(request, 500, [ErrorItem("internal", "an unexpected error; see the log")])


def _validation_items(error: RequestValidationError) -> list[ErrorItem]:
    items = []
    for e in error.errors():
        where = ".".join(str(part) for part in e.get("loc", ()))
        items.append(ErrorItem("invalid", str(e.get("msg", "invalid value")), where or None))
    return items or [ErrorItem("invalid", "the request is not valid")]


def install(app: FastAPI) -> None:
    """Route every failure through the envelope."""

    async def api_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ApiError):
            raise exc
        response = _respond(request, exc.status, exc.items)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException):
            raise exc
        code = CODES.get(exc.status_code, "error")
        detail: Any = exc.detail
        message = detail if isinstance(detail, str) else code
        response = _respond(request, exc.status_code, [ErrorItem(code, message)])
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError):
            raise exc
        return _respond(request, 422, _validation_items(exc))

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return internal_error(request)

    async def nul_character(request: Request, exc: Exception) -> Response:
        # a text field that reached the database with U+0000 in it (multipart forms): bad input
        return _respond(request, 422, [ErrorItem("invalid", str(exc))])

    app.add_exception_handler(NulCharacter, nul_character)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
