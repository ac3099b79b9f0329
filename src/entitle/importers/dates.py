"""Dates as exports write them, and the window of evidence.

``Export-Csv`` writes a ``DateTime`` in the exporting machine's culture: ``8/29/2025 12:00:00 AM``
(en-US), ``29/08/2025 00:00:00`` (en-GB), ``29.08.2025 00:00:00`` (de-DE) or ISO. Day-first and
month-first can only be told apart by a day above 12, so the style is decided once per column
from the values seen (:func:`detect`); a column holding both styles is an error, a value in no
known style is skipped with a finding. :data:`STYLES` also gives the pattern of each style for the
SQL engines (DuckDB ``strptime``, Spark ``to_timestamp``). Imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_SLASH = re.compile(
    r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"(?:\.\d+)?\s*([AaPp][Mm])?)?\s*$"
)
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")


@dataclass(frozen=True, slots=True)
class Style:
    """One way of writing dates: the Python parser and the pattern of each SQL engine."""

    name: str
    duckdb: tuple[str, ...]
    spark: tuple[str, ...]


STYLES: dict[str, Style] = {
    "iso": Style(
        "iso",
        ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"),
        ("yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"),
    ),
    "month-first": Style(
        "month-first",
        ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"),
        ("M/d/yyyy h:mm:ss a", "M/d/yyyy H:mm:ss", "M/d/yyyy"),
    ),
    "day-first": Style(
        "day-first",
        ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y"),
        ("d/M/yyyy H:mm:ss", "d/M/yyyy h:mm:ss a", "d/M/yyyy"),
    ),
    "dotted": Style("dotted", ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y"), ("d.M.yyyy H:mm:ss", "d.M.yyyy")),
}


def _kind(text: str) -> str | None:
    """What a single value says about its style: iso, dotted, month-first, day-first, slash
    (either), or None (not a date)."""
    if _ISO.match(text):
        return "iso"
    m = _SLASH.match(text)
    if not m:
        return None
    first, sep, second = int(m.group(1)), m.group(2), int(m.group(3))
    if sep == ".":
        return "dotted"
    if m.group(8):  # AM/PM: en-US
        return "month-first"
    if first > 12:
        return "day-first"
    if second > 12:
        return "month-first"
    return "slash"


def detect(values: Iterable[str]) -> tuple[str, str | None]:
    """(style, conflict): the style of a column of dates. ISO is accepted beside any style.
    ``conflict`` names two values that disagree (day-first and month-first in one column)."""
    seen: dict[str, str] = {}
    for value in values:
        kind = _kind(value) if value else None
        if kind is not None:
            seen.setdefault(kind, value)
    if "day-first" in seen and "month-first" in seen:
        return (
            "month-first",
            f"'{seen['month-first']}' is month-first, '{seen['day-first']}' day-first",
        )
    for style in ("month-first", "day-first", "dotted"):
        if style in seen:
            return style, None
    return ("month-first" if "slash" in seen else "iso"), None  # en-US: Windows' default


def parse(text: str, style: str) -> date | None:
    """A date written in ``style`` (or ISO); ``None`` when it is not."""
    text = text.strip()
    m = _ISO.match(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    m = _SLASH.match(text)
    if not m:
        return None
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    sep = m.group(2)
    if (sep == "." and style != "dotted") or (sep != "." and style == "dotted"):
        return None
    month, day = (a, b) if style == "month-first" else (b, a)
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Window:
    """The evidence window: access seen from ``since`` to ``until``, both included."""

    since: date
    until: date

    @staticmethod
    def default(today: date | None = None, days: int = 90) -> Window:
        end = today or datetime.now().date()
        return Window(end - timedelta(days=days), end)

    def overlaps(self, first: date | None, last: date | None) -> bool:
        if last is not None and last < self.since:
            return False
        return not (first is not None and first > self.until)

    def __str__(self) -> str:
        return f"{self.since.isoformat()} to {self.until.isoformat()}"
