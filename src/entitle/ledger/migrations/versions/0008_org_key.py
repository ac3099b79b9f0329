"""Entitlements carry their organisation as a key column, not as a prefix of their id

Until now an entitlement recorded through the web was stored as ``<org-slug>/<ref>`` and every
read filtered on that prefix in Python (issue 13, item 4). Entitlements get ``org_id`` (``0``:
the command line's ledger, outside every organisation), their id loses the prefix, and an id is
unique per organisation instead of across the database. The session then adds the organisation
to every query (``entitle.ledger.models``).

A ref whose text before the first ``/`` is the slug of an organisation is that organisation's
(the web wrote no other such refs); every other ref is the command line's and keeps its text.

The audit chain vouches for every entitlement's row: the migration appends, for each one, an
``entitlement.tenant`` event whose ``before`` is the row's last recorded state and whose
``after`` is that state with the organisation key and the id without prefix, hashed and linked
like any event (actor ``entitle migration 0008``). ``entitle ledger verify`` holds after it.

There is no downgrade: undoing it would change rows the chain vouches for. Restore the backup
taken before upgrading instead.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:20:00
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ACTOR = "entitle migration 0008"
ACTION = "entitlement.tenant"


def canonical(data: Any) -> str:  # as entitle.ledger.audit hashes it, frozen here
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev: str, seq: int, at: datetime, entity: str, before: str, after: str) -> str:
    moment = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = canonical([prev, seq, moment, ACTOR, ACTION, entity, before, after])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.add_column(
        "entitlements", sa.Column("org_id", sa.Integer(), nullable=False, server_default="0")
    )
    orgs: dict[str, int] = dict(bind.execute(sa.text("SELECT slug, id FROM web_orgs")).all())
    rows = bind.execute(sa.text("SELECT id, ref FROM entitlements ORDER BY id")).all()
    refs: dict[int, str] = {i: r for i, r in rows}
    keyed = []
    for row_id, ref in rows:
        slug, slash, rest = ref.partition("/")
        org = orgs.get(slug) if slash else None
        keyed.append((row_id, org or 0, rest if org else ref))
    changed = [{"i": i, "o": o, "r": r} for i, o, r in keyed if (o, r) != (0, refs[i])]
    naming = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
    old = "uq_entitlements_ref" if sqlite else "entitlements_ref_key"
    with op.batch_alter_table(
        "entitlements",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
        naming_convention=naming,
    ) as batch:
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint("entitlements_org_id_ref_key", ["org_id", "ref"])
        batch.create_index("ix_entitlements_org_id", ["org_id"])
    # ids are unique per organisation from here on, so the prefixes can go
    if changed:
        bind.execute(
            sa.text("UPDATE entitlements SET org_id = :o, ref = :r WHERE id = :i"), changed
        )
    _record(bind, keyed)


def _record(bind: sa.Connection, keyed: list[tuple[int, int, str]]) -> None:
    """One event per entitlement that has one: its last state, now with its organisation."""
    if not keyed:
        return
    last: dict[str, str] = {}
    events = sa.text(
        "SELECT entity, after FROM audit_events WHERE entity LIKE 'entitlement:%' ORDER BY seq"
    )
    for entity, after in bind.execute(events):
        if after is not None:
            last[entity] = after
    seq, prev = bind.execute(sa.text("SELECT seq, hash FROM ledger_head WHERE id = 1")).one()
    at = datetime.now(UTC)
    table = sa.table(
        "audit_events",
        sa.column("seq", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("entity", sa.String),
        sa.column("before", sa.Text),
        sa.column("after", sa.Text),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    new = []
    for row_id, org, ref in keyed:
        entity = f"entitlement:{row_id}"
        if entity not in last:  # a row no event vouches for: verify says so, as before
            continue
        before = canonical(json.loads(last[entity]))
        after = canonical({**json.loads(last[entity]), "org_id": org, "ref": ref})
        seq += 1
        digest = event_hash(prev, seq, at, entity, before, after)
        new.append(
            {
                "seq": seq,
                "at": at,
                "actor": ACTOR,
                "action": ACTION,
                "entity": entity,
                "before": before,
                "after": after,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    if new:
        bind.execute(sa.insert(table), new)
        bind.execute(
            sa.text("UPDATE ledger_head SET seq = :s, hash = :h WHERE id = 1"),
            {"s": seq, "h": prev},
        )


def downgrade() -> None:
    raise RuntimeError(
        "migration 0008 cannot be undone without changing rows the audit chain vouches for; "
        "restore the backup taken before the upgrade"
    )
