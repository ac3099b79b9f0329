"""Dates as exports write them, and the window of evidence.

``Export-Csv`` writes a ``DateTime`` as the exporting machine's culture writes its short date and
long time: ``8/29/2025 12:00:00 AM`` (en-US), ``29/08/2025 00:00:00`` (en-GB, fr-FR),
``29.08.2025 00:00:00`` (de-DE), ``29-8-2025 00:00:00`` (nl-NL), ``2025/08/29 0:00:00`` (ja-JP),
``2025-08-29 00:00:00`` (sv-SE) — with or without seconds, with or without AM/PM. Only the date
part matters to the evidence; the time is a clue to the culture.

Year-first dates are never ambiguous. Day-first and month-first are told apart per column, from
the whole column (:func:`decide`, over the shapes an engine's scan found, see
:data:`entitle.importers.reduce.DATE_SHAPES`): a first number above 12 proves day-first, a
second above 12 month-first (both in one column: refused); where no value proves either, a
24-hour time without AM/PM or a ``.``/``-`` separator points to day-first, an AM/PM time to
month-first (en-US), and the style taken is a finding; a column with no clue, or with clues both
ways, is refused unless ``--date-style`` says. :data:`STYLES` gives each style's patterns for the
SQL engines (DuckDB ``strptime``, Spark ``to_timestamp``), applied to the date part (the text
before the first space or ``T``). Imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# A date (three numbers, one separator) and an optional time; no backslash, so that the same text
# is a regular expression in Python, DuckDB (RE2) and Spark (Java). Groups: 1 first number,
# 2 separator, 3 second number, 4 third number, 5 the time, 6 AM/PM.
SHAPE = (
    "^([0-9]{1,4})([/.-])([0-9]{1,2})[/.-]([0-9]{1,4})"
    "(?:(?: +|T)([0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:[.,][0-9]+)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)"
    " *([AaPp][Mm])?)?$"
)
_SHAPE = re.compile(SHAPE)
_SEPARATORS = ("/", ".", "-")

# --date-style values; "auto" decides from the column
CHOICES = ("auto", "day-first", "month-first")


@dataclass(frozen=True, slots=True)
class Style:
    """One order of writing dates: the patterns of each SQL engine, on the date part only."""

    name: str
    duckdb: tuple[str, ...]
    spark: tuple[str, ...]


def _style(name: str, order: str) -> Style:
    py = {"d": "%d", "m": "%m", "y": "%Y"}
    java = {"d": "d", "m": "M", "y": "yyyy"}
    return Style(
        name,
        tuple(s.join(py[c] for c in order) for s in _SEPARATORS),
        tuple(s.join(java[c] for c in order) for s in _SEPARATORS),
    )


STYLES: dict[str, Style] = {
    "iso": _style("iso", "ymd"),  # year first: yyyy-MM-dd (sv-SE), yyyy/M/d (ja-JP, zh-CN)
    "day-first": _style("day-first", "dmy"),
    "month-first": _style("month-first", "mdy"),
}


@dataclass(frozen=True, slots=True)
class Shape:
    """What a scan found about one group of values of a date column (see ``DATE_SHAPES``)."""

    separator: str  # "" when the value is no date of a known shape
    year_first: bool
    time: bool  # a time follows the date
    ampm: bool  # … with AM/PM
    count: int
    max_first: int  # the largest first number
    max_second: int  # the largest second number
    first_example: str  # the value with the largest first number
    second_example: str  # the value with the largest second number
    example: str  # any value


@dataclass(frozen=True, slots=True)
class Decision:
    """The style of a column; ``assumed`` says why when no value proved it (a finding);
    ``refusal`` says why the column cannot be read, with ``examples`` (two values)."""

    style: str
    assumed: str = ""
    refusal: str = ""
    examples: tuple[str, ...] = ()


def decide(shapes: Sequence[Shape], forced: str = "auto") -> Decision:
    """The style of a column from the shapes of all its values (see the module text)."""
    loose = [s for s in shapes if s.separator and not s.year_first]
    if not loose:
        return Decision("iso")
    if forced in ("day-first", "month-first"):
        return Decision(forced)
    day = max(loose, key=lambda s: s.max_first)
    month = max(loose, key=lambda s: s.max_second)
    if day.max_first > 12 and month.max_second > 12:
        return Decision(
            "month-first",
            refusal=f"mixed date formats: '{month.second_example}' is month-first, "
            f"'{day.first_example}' day-first",
            examples=(month.second_example, day.first_example),
        )
    if day.max_first > 12:
        return Decision("day-first")
    if month.max_second > 12:
        return Decision("month-first")
    day_clues = [s for s in loose if s.separator in ".-" or (s.time and not s.ampm)]
    month_clues = [s for s in loose if s.separator == "/" and s.ampm]
    if day_clues and not month_clues:
        s = day_clues[0]
        why = "a 24-hour time" if s.separator == "/" else f"'{s.separator}' between the numbers"
        return Decision(
            "day-first",
            assumed=f"no day above 12 tells day-first from month-first; read day-first, "
            f"as cultures writing {why} do (e.g. '{s.example}')",
        )
    if month_clues and not day_clues:
        s = month_clues[0]
        return Decision(
            "month-first",
            assumed="no day above 12 tells day-first from month-first; read month-first, "
            f"as en-US writes AM/PM times (e.g. '{s.example}')",
        )
    first = (day_clues or loose)[0].example
    second = (month_clues or loose)[-1].example
    if second == first:
        second = loose[0].first_example if loose[0].first_example != first else ""
    return Decision(
        "month-first",
        refusal="the dates can be read day-first or month-first, and nothing in the column "
        "tells which",
        examples=(first, second) if second else (first,),
    )


def shape_of(text: str) -> Shape | None:
    """The shape of one value (what the engines' scan computes for a column): for tests and the
    Python readers."""
    m = _SHAPE.match(text.strip())
    if not m:
        return None
    first, second = int(m.group(1)), int(m.group(3))
    return Shape(
        m.group(2),
        len(m.group(1)) == 4,
        bool(m.group(5)),
        bool(m.group(6)),
        1,
        first,
        second,
        text,
        text,
        text,
    )


def detect(values: Sequence[str], forced: str = "auto") -> Decision:
    """:func:`decide` over values held in Python (a small file, a test)."""
    groups: dict[tuple[str, bool, bool, bool], Shape] = {}
    for value in values:
        s = shape_of(value) if value else None
        if s is None:
            continue
        key = (s.separator, s.year_first, s.time, s.ampm)
        old = groups.get(key)
        if old is None:
            groups[key] = s
            continue
        groups[key] = Shape(
            *key,
            old.count + 1,
            max(old.max_first, s.max_first),
            max(old.max_second, s.max_second),
            old.first_example if old.max_first >= s.max_first else s.first_example,
            old.second_example if old.max_second >= s.max_second else s.second_example,
            old.example,
        )
    return decide(list(groups.values()), forced)


def parse(text: str, style: str) -> date | None:
    """A date written in ``style`` (or year first); ``None`` when it is not."""
    m = _SHAPE.match(text.strip())
    if not m:
        return None
    a, b, c = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if len(m.group(1)) == 4:
        year, month, day = a, b, c
    elif len(m.group(4)) != 4:
        return None
    elif style == "month-first":
        year, month, day = c, a, b
    elif style == "day-first":
        year, month, day = c, b, a
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def whole_pattern(text: str, style: str) -> str:
    """A ``strptime`` pattern of the whole of ``text`` (date and time) in ``style``, or "" when
    it has a form this does not write (a time zone, fractions of a second). Reading the usual
    rows with it spares the SQL engine cutting the date part out of every value first; a value
    it does not read falls back to the date part (the same day either way)."""
    m = _SHAPE.match(text)
    if not m or m.group(0) != text:
        return ""
    sep, clock, ampm = m.group(2), m.group(5) or "", m.group(6) or ""
    order = "ymd" if len(m.group(1)) == 4 else {"day-first": "dmy", "month-first": "mdy"}.get(style)
    if order is None:
        return ""
    pattern = sep.join({"d": "%d", "m": "%m", "y": "%Y"}[c] for c in order)
    if clock:
        if not all(part.isdigit() for part in clock.split(":")):
            return ""  # fractions of a second, a zone
        between = text[len(m.group(1)) + len(m.group(3)) + len(m.group(4)) + 2 :][:1]
        pattern += ("T" if between == "T" else " ") + ("%I" if ampm else "%H") + ":%M"
        pattern += ":%S" if clock.count(":") == 2 else ""
        pattern += " %p" if ampm else ""
    try:
        parsed = datetime.strptime(text, pattern).date()
    except ValueError:
        return ""
    return pattern if parsed == parse(text, style if order != "ymd" else "iso") else ""


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
