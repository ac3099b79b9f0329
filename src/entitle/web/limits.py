"""The limits on sign-in and sign-up attempts, counted in the database (``web_attempts``), so
that every server process of ``entitle serve --workers N`` counts the same attempts: five
failures for an account are five whichever processes answered them.

Each attempt is a row (the key's SHA-256, the time in milliseconds); :meth:`SharedLimiter.wait`
counts the key's rows within the window and :meth:`SharedLimiter.add` inserts one and deletes
the rows every key has left behind the window, so the table holds at most one window's
attempts. Every call is its own short transaction on its own connection, never the request's:
a failed sign-in's request is rolled back, its attempt must stay. The clock is the wall clock
(processes share it; a monotonic clock is per process) and tests pass their own.

Imports SQLAlchemy, the workspace's table and the limits of ``security``."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, insert, select

from entitle.ledger.db import writer
from entitle.web.models import Attempt
from entitle.web.security import Limits


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SharedLimiter:
    """Sliding windows of attempt times per key (``account:EMAIL``, ``address:IP``,
    ``signup:IP``), kept in the database at ``engine``."""

    def __init__(
        self, engine: Engine, limits: Limits, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits
        self._reader = engine
        self._writer = writer(engine)
        self._clock = clock

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    @property
    def _window_ms(self) -> int:
        return round(self.limits.window * 1000)

    def wait(self, key: str, allowed: int) -> int:
        """Seconds until ``key`` may try again (0: now): while ``allowed`` attempts lie within
        the window, until the oldest of the latest ``allowed`` of them leaves it."""
        now = self._now_ms()
        with self._reader.connect() as conn:
            times = (
                conn.execute(
                    select(Attempt.at)
                    .where(Attempt.key_hash == key_hash(key), Attempt.at > now - self._window_ms)
                    .order_by(Attempt.at.desc())
                    .limit(allowed)
                )
                .scalars()
                .all()
            )
        if len(times) < allowed:
            return 0
        return max(1, math.ceil((times[-1] + self._window_ms - now) / 1000))

    def add(self, key: str) -> None:
        """Count an attempt of ``key`` now (and forget every attempt past the window)."""
        now = self._now_ms()
        with self._writer.begin() as conn:
            conn.execute(delete(Attempt).where(Attempt.at <= now - self._window_ms))
            conn.execute(insert(Attempt).values(key_hash=key_hash(key), at=now))

    def clear(self, key: str) -> None:
        """Forget ``key``'s attempts (an account's failures after it signs in)."""
        with self._writer.begin() as conn:
            conn.execute(delete(Attempt).where(Attempt.key_hash == key_hash(key)))
