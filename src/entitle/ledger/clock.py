"""The one clock and the one text form of a moment, for the ledger and the web above it.

A moment is a timezone-aware ``datetime`` in UTC, to the microsecond, everywhere: in memory, in
the database (``DateTime(timezone=True)`` columns, :class:`entitle.ledger.models.UtcDateTime`)
and, as :func:`iso` text, in JSON and in the audit chain's hashes. The text form is the one the
audit chain has always hashed (``2026-12-06T20:27:00.123456Z``), so events written when moments
were stored as text keep their hashes. Imports nothing of entitle.
"""

from __future__ import annotations

from datetime import UTC, datetime

ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    """Now, in UTC, to the microsecond."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """``moment`` as text: UTC, microseconds, ``Z`` (``2026-12-06T20:27:00.123456Z``). A moment
    without a timezone is refused: which one it meant cannot be known."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone; entitle keeps moments in UTC")
    return moment.astimezone(UTC).strftime(ISO)
