"""The hot read: an estate's stored position (``GET .../estates/{id}/position`` as JSON on the
stored basis), answered with one statement on the database — the caller's token or session row
with its user, and the position if that user is a member of the estate's organisation — instead
of one for the token, one for the membership and one for the estate.

It answers only when every check of the general path passes (the token or session row vouches
for the credential, the user is a member, the estate is the organisation's, a position is
stored); anything else (no credential, revoked, not a member, no such estate, not ready) returns
``None`` and the route takes the general path, which gives the error. On PostgreSQL the statement
runs outside a transaction (autocommit): a single SELECT sees one snapshot either way, and the
``BEGIN`` and ``ROLLBACK`` around it were two of a read's round trips."""

from __future__ import annotations

import hmac

from fastapi import Request
from sqlalchemy import bindparam, select

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
