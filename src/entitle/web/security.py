"""Defences that wrap every request: the security headers (a Content-Security-Policy with no
inline script, no framing, no MIME sniffing, no referrer to other sites, no caching of
signed-in answers), refusing unsafe requests sent from another site's page (``Origin``) and
request bodies over the upload limit, and the limits on sign-in and sign-up attempts (per
account and per client address; ``limits`` counts them in the database, shared by every server
process).

Imports only the error envelope; ``context`` builds one :class:`SignInGuard` per request from the
workspace's :class:`Limiter` and hands it to ``accounts`` through the database session.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entitle.web.errors import ApiError, internal_error

GUARD = "entitle.sign_in_guard"
"""The key of the request's :class:`SignInGuard` in ``Session.info``."""

# Inline style attributes the templates carry, allowed by hash (not by 'unsafe-inline'); none
# now: the templates use classes of app.css.
INLINE_STYLES: tuple[str, ...] = ()


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_policy() -> str:
    """The pages' policy: scripts and styles from this server only (htmx is a static file)."""
    hashes = " ".join(_hash(s) for s in INLINE_STYLES)
    styles = f"'self' 'unsafe-hashes' {hashes}" if hashes else "'self'"
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src {styles}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)
"""HTML the API hands out (the position report) is a standalone document with its own
stylesheet and no script: it runs sandboxed."""


COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make Origin "null"
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response (errors included).

    ``Cache-Control: no-store`` goes on everything but the static files; with ``hsts`` (the
    server is behind TLS: ``--secure-cookies``) browsers are told to use HTTPS only."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False, docs_path: str = "/api/docs"):
        self.app = app
        self.docs_path = docs_path
        self.page = page_policy().encode()
        self.common = list(COMMON)
        if hsts:
            self.common.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        static = path.startswith("/static/")
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = _without(message.get("headers", []), b"content-security-policy")
                headers += self.common
                kind = _header(headers, b"content-type")
                api_html = (
                    path.startswith("/api")
                    and path != self.docs_path  # the API reference is a page of ours
                    and kind.startswith(b"text/html")
                )
                headers.append(
                    (b"content-security-policy", REPORT_POLICY.encode() if api_html else self.page)
                )
                if not static:
                    headers = _without(headers, b"cache-control")
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            # a bug: Starlette's outermost handler would answer without these headers, so the
            # 500 is sent from here (that handler still logs it, and sends nothing more)
            if not started:
                page = await run_in_threadpool(internal_error, Request(scope))  # reads the db
                await page(scope, receive, with_headers)
            raise


UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SameOrigin:
    """ASGI middleware refusing (403) an unsafe request whose ``Origin`` header names another
    site than the one it was sent to (``Host``, or ``X-Forwarded-Host`` behind a proxy).

    Browsers send ``Origin`` with every cross-site POST; scripts send none and pass. This stops
    what the CSRF token cannot: a forged *sign-in* or *sign-up* form (there is no session yet),
    and it backs the token up everywhere else."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in UNSAFE:
            headers = scope.get("headers", [])
            origin = _header(headers, b"origin").decode("latin-1")
            if origin and not self._same(origin, headers):
                error = ApiError(
                    403, "forbidden", "the request came from another site's page", "Origin"
                )
                await _send_json(send, 403, error)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _same(origin: str, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        _scheme, _sep, netloc = origin.partition("://")
        hosts = {_header(headers, b"host"), _header(headers, b"x-forwarded-host")}
        return bool(netloc) and netloc.encode("latin-1").lower() in {h.lower() for h in hosts if h}


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_bytes`` with 413: at once when the
    Content-Length says so, else when the streamed body passes the limit (before a route has
    buffered it all)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope.get("headers", []), b"content-length")
        if length.isdigit() and int(length) > self.max_bytes:
            await _send_json(send, 413, too_large(self.max_bytes))
            return
        seen = 0
        over = False

        async def counted() -> Message:
            nonlocal seen, over
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise too_large(self.max_bytes)
            return message

        async def answer(message: Message) -> None:
            # whatever the route made of the cut-off body, the client is told why
            if not over:
                await send(message)
            elif message["type"] == "http.response.start":
                await _send_json(send, 413, too_large(self.max_bytes))

        if length.isdigit():
            await self.app(scope, receive, send)
        else:
            await self.app(scope, counted, answer)


def too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413, "too-large", f"the request is larger than the server accepts ({max_bytes} bytes)"
    )


async def _send_json(send: Send, status: int, error: ApiError) -> None:
    body = json.dumps({"ok": False, "errors": [i.as_json() for i in error.items]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _without(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != name]


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes:
    return next((v for k, v in headers if k.lower() == name), b"")


# -- sign-in and sign-up attempts ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """How many attempts are allowed within ``window`` seconds before a 429."""

    account_failures: int = 5
    """Failed sign-ins per account (e-mail address), from anywhere."""
    address_failures: int = 20
    """Failed sign-ins per client address, whichever accounts they name."""
    address_signups: int = 10
    """Sign-ups per client address (each costs an argon2 hash)."""
    window: float = 900.0


class Limiter(Protocol):
    """Where attempts are counted: ``entitle.web.limits.SharedLimiter`` (the database, shared
    by every server process)."""

    limits: Limits

    def wait(self, key: str, allowed: int) -> int:
        """Seconds until ``key`` may try again (0: now)."""
        ...

    def add(self, key: str) -> None: ...

    def clear(self, key: str) -> None: ...


def too_many(seconds: int, what: str) -> ApiError:
    message = f"too many {what}; try again in {seconds} seconds"
    return ApiError(429, "rate-limited", message, retry_after=seconds)


@dataclass(frozen=True, slots=True)
class SignInGuard:
    """One request's view of the limiter: its client address."""

    limiter: Limiter
    address: str

    def before_sign_in(self, email: str) -> None:
        """429 while the account or this address has too many recent failures (checked before
        the password, so a locked account cannot be probed)."""
        limits = self.limiter.limits
        wait = max(
            self.limiter.wait(f"account:{email}", limits.account_failures),
            self.limiter.wait(f"address:{self.address}", limits.address_failures),
        )
        if wait:
            raise too_many(wait, "failed sign-ins")

    def failed(self, email: str) -> None:
        self.limiter.add(f"account:{email}")
        self.limiter.add(f"address:{self.address}")

    def succeeded(self, email: str) -> None:
        self.limiter.clear(f"account:{email}")

    def before_sign_up(self) -> None:
        key = f"signup:{self.address}"
        wait = self.limiter.wait(key, self.limiter.limits.address_signups)
        if wait:
            raise too_many(wait, "sign-ups from this address")
        self.limiter.add(key)
