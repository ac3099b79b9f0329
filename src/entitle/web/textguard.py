"""NUL characters refused at the edge (issue #14): PostgreSQL cannot store U+0000 in text, and
no name, id or note needs one. A request whose path, query, JSON body or form body holds one is
answered 422 in the one error envelope, naming the field, before any route sees it. Multipart
uploads are passed on (their files are bytes, checked by the importers); their text fields, and
anything else that would reach the database, meet the ledger engine's own check
(:class:`entitle.ledger.db.NulCharacter`), which the app also answers with 422.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entitle.web.errors import ApiError
from entitle.web.security import _header, _send_json

NUL = "\x00"
MESSAGE = "holds a NUL character (U+0000), which no text may hold; remove it"
BUFFERED = (b"application/json", b"application/x-www-form-urlencoded")


def refusal(field: str) -> ApiError:
    return ApiError(422, "invalid", f"{field} {MESSAGE}", field)


def nul_in_json(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) in ``value`` that holds a NUL."""
    if isinstance(value, str):
        return path or "the body" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return where.replace(NUL, "")
            found = nul_in_json(item, where)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_in_json(item, f"{path}[{index}]")
            if found:
                return found
    return None


def nul_in_pairs(pairs: list[tuple[str, str]]) -> str | None:
    for key, value in pairs:
        if NUL in key or NUL in value:
            return key.replace(NUL, "") or "a field"
    return None


def nul_in_body(kind: bytes, body: bytes) -> str | None:
    if kind.startswith(b"application/json"):
        try:
            return nul_in_json(json.loads(body))
        except ValueError:
            return None  # not JSON: the route's own validation says so
    return nul_in_pairs(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


class NoNul:
    """ASGI middleware: 422 for a NUL in the path, the query or a JSON or form body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if NUL in scope.get("path", ""):
            await _send_json(send, 422, refusal("the path"))
            return
        query = scope.get("query_string", b"").decode("latin-1")
        field = nul_in_pairs(parse_qsl(query, keep_blank_values=True))
        if field:
            await _send_json(send, 422, refusal(field))
            return
        kind = _header(scope.get("headers", []), b"content-type").lower()
        if not kind.startswith(BUFFERED):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        field = nul_in_body(kind, body)
        if field:
            await _send_json(send, 422, refusal(field))
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
