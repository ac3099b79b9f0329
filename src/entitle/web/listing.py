"""Lists a page can sort, filter and export, on the server: query parameters ``sort``,
``dir`` (``asc``/``desc``) and ``q`` (rows containing it, any case), and a CSV file whose every
cell is spreadsheet-safe (as ``entitle ledger export`` writes it: ``'`` before a cell that a
spreadsheet would run as a formula)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from entitle.estate.spreadsheet import spreadsheet_safe

DIGITS = re.compile(r"(\d+)")


def natural_key(value: Any) -> tuple[Any, ...]:
    """Text with its numbers compared as numbers (``E-2`` before ``E-10``, ``access.csv:9``
    before ``access.csv:10``); numbers as numbers; ``None`` first."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    parts = DIGITS.split(str(value).casefold())
    return (2, tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts))


@dataclass(frozen=True, slots=True)
class Order:
    """How a list was asked to be shown: sorted by ``sort`` (one of the list's keys, else its
    default), descending or not, filtered by ``q``."""

    sort: str
    desc: bool
    q: str

    @classmethod
    def of(
        cls, sort: str | None, dir: str | None, q: str | None, keys: Sequence[str], default: str
    ) -> Order:
        chosen = sort if sort is not None and sort in keys else default
        return cls(chosen, dir == "desc", (q or "").strip()[:200])


def arrange(
    rows: Iterable[dict[str, Any]],
    order: Order,
    text: Callable[[dict[str, Any]], str],
    value: Callable[[dict[str, Any], str], Any] | None = None,
) -> list[dict[str, Any]]:
    """``rows`` containing ``order.q`` (in ``text(row)``, any case), sorted by ``order.sort``."""
    needle = order.q.casefold()
    kept = [r for r in rows if not needle or needle in text(r).casefold()]
    get = value or (lambda r, k: r.get(k))
    return sorted(kept, key=lambda r: natural_key(get(r, order.sort)), reverse=order.desc)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV file (header first); text cells made spreadsheet-safe, numbers as they are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                "" if v is None else v if isinstance(v, int) else spreadsheet_safe(str(v))
                for v in row
            ]
        )
    return out.getvalue()
