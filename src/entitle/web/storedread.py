"""The hot read: an estate's stored position (``GET .../estates/{id}/position`` as JSON on the
stored basis), answered with one statement on the database — the caller's token or session row
with its user, and the position if that user is a member of the estate's organisation — instead
of one for the token, one for the membership and one for the estate.

It answers only when every check of the general path passes (the token or session row vouches
for the credential, the user is a member, the estate is the organisation's, a position is
stored); anything else (no credential, revoked, not a member, no such estate, not ready) returns
``None`` and the route takes the general path, which gives the error. On PostgreSQL the statement
runs outside a transaction (autocommit): a single SELECT sees one snapshot either way, and the
``BEGIN`` and ``ROLLBACK`` around it were two of a read's round trips.

:class:`StoredReads` answers the plain form of that request (``GET``, no query string) before
FastAPI's routing: matching the path against every route and solving the route's parameters
and dependencies cost more CPU than the read itself. It sits inside the other middlewares
(security headers, same origin, body limit, NUL guard), and whatever it does not answer with a
200 goes on to the route, unchanged."""

from __future__ import annotations

import hmac
import re

from fastapi import Request
from sqlalchemy import bindparam, select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from entitle.web.auth import HOLDER, Holder, credential, token_hash, vouches
from entitle.web.context import Workspace
from entitle.web.models import Membership, StoredEstate, User

STORED = HOLDER.add_columns(
    select(StoredEstate.position)
    .join(Membership, Membership.org_id == StoredEstate.org_id)
    .where(
        StoredEstate.id == bindparam("estate"),
        StoredEstate.org_id == bindparam("org"),
        Membership.user_id == User.id,
    )
    .scalar_subquery()
)
"""The token's row and user (``auth.HOLDER``) with the stored position of estate ``estate`` of
organisation ``org`` if that user is a member there (else NULL): compiled once."""


def stored_position(ws: Workspace, request: Request, org_id: int, estate_id: int) -> str | None:
    """The stored position's JSON text for the request's caller, or ``None`` (take the general
    path)."""
    presented = credential(request, ws.sessions)
    if presented is None:
        return None
    digest = token_hash(presented.secret)
    with ws.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        row = conn.execute(STORED, {"digest": digest, "estate": estate_id, "org": org_id}).first()
    if row is None or row[7] is None or not hmac.compare_digest(row[3], digest):
        return None
    holder = Holder(row[0], row[1], row[2], row[4], row[5], row[6])
    if not vouches(ws.sessions, presented, holder):
        return None
    position: str = row[7]
    return position


PLAIN = re.compile(r"/api/orgs/([1-9][0-9]{0,9})/estates/([1-9][0-9]{0,9})/position")
"""The stored read's path; the ids as the route's ``Id`` takes them (1 to 2**31 - 1: checked
after the match)."""
LARGEST = 2_147_483_647


class StoredReads:
    """ASGI middleware: ``GET /api/orgs/{org}/estates/{id}/position`` with no query string,
    answered with the stored position by :func:`stored_position` (in a worker thread, as
    FastAPI runs the route) when every check passes; anything else, and any failure of the
    database here, goes on to the app, whose route gives the answer or the error."""

    def __init__(self, app: ASGIApp, *, ws: Workspace):
        self.app = app
        self.ws = ws

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            found = PLAIN.fullmatch(scope["path"])
            if found:
                org, estate = int(found[1]), int(found[2])
                if org <= LARGEST and estate <= LARGEST:
                    body = await run_in_threadpool(self._read, Request(scope), org, estate)
                    if body is not None:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 200,
                                "headers": [
                                    (b"content-length", str(len(body)).encode()),
                                    (b"content-type", b"application/json"),
                                ],
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
        await self.app(scope, receive, send)

    def _read(self, request: Request, org: int, estate: int) -> bytes | None:
        try:
            stored = stored_position(self.ws, request, org, estate)
        except Exception:  # the route meets the same failure and answers it (e.g. 503)
            return None
        if stored is None:
            return None
        return ('{"ok":true,"position":' + stored + "}").encode()
