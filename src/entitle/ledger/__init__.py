"""The license ledger: agreements, entitlements, assignments and retirements over time, with
the 90-day reassignment rule and a tamper-evident audit chain, on SQLite or PostgreSQL.

Layers, each importing only those above it in this list: ``rules`` (pure 90-day logic),
``clock`` (the one ``utc_now`` and the text of a moment), ``models`` (with the session's
organisation key), ``db`` (engine, migrations), ``crypto`` (product keys), ``audit`` (hash chain),
``mls`` and ``importing`` (reading files), ``service`` and ``moves`` (transactions), ``query``
(reading). The package may import entitle.source, entitle.catalog and entitle.estate; nothing
from position, optimize or cli. Importing the package is cheap: SQLAlchemy and Alembic load
only when a name below is first used (every ``entitle`` command would pay for them otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entitle.ledger.query import entitlements_on
    from entitle.ledger.service import NotReady

__all__ = ["NotReady", "entitlements_on"]


def __getattr__(name: str) -> Any:
    if name == "entitlements_on":
        from entitle.ledger.query import entitlements_on

        return entitlements_on
    if name == "NotReady":
        from entitle.ledger.service import NotReady

        return NotReady
    raise AttributeError(f"module 'entitle.ledger' has no attribute {name!r}")
