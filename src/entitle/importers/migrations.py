"""VM migration events → ``placements.csv`` (where each VM ran and when; licensing-rules.md §7.1).

Both virtualisation importers hand their events here as :class:`Move` values: a VM arrived on a
host on a day (vMotion, DRS, Live Migration), perhaps naming the host it came from. Per VM, in
time order, each arrival opens a stay on its host that the next arrival closes: ``from`` is the
day it arrived, ``until`` the day it left (blank for the last stay: it is still there). The host a
first event names as its source gets a stay from and until that day (the export shows no earlier
day). A move whose source is its destination (a storage-only migration) changes nothing.

Which exports carry the events, and the words used in the import summary when none do, are in
docs/importers.md ("VM placements"). Imports :mod:`entitle.source` and importer helpers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from entitle.importers.dates import detect, parse
from entitle.importers.exports import ExportRow
from entitle.importers.result import Outcome
from entitle.source import Source

NO_HISTORY = (
    "{what} gives where each VM runs now, not where it ran before: placements.csv is not "
    "filled, so a VM moved within the last 90 days is not counted on the host it left "
    "(licensing-rules.md §7.1). Add {hint}, or write placements.csv yourself."
)


@dataclass(frozen=True, slots=True)
class Move:
    ose: str
    host: str  # where it arrived
    day: date
    source: Source
    came_from: str = ""


def dates_of(rows: Sequence[ExportRow], column: str, out: Outcome) -> list[date | None]:
    """The column's dates, in the style the column is written in (one style per column)."""
    values = [r.get(column) for r in rows]
    decision = detect(values)
    if decision.refusal and rows:
        examples = ", ".join(decision.examples)
        out.error(
            rows[0].source,
            f"the {column} column: {decision.refusal}"
            + (f" (e.g. {examples})" if examples else ""),
            "export again with one culture, or in ISO (yyyy-MM-dd)",
        )
        return [None] * len(rows)
    if decision.assumed and rows:
        out.warn("date-style-assumed", f"the {column} column: {decision.assumed}", rows[0].source)
    return [parse(v, decision.style) if v else None for v in values]


def add_placements(moves: Iterable[Move], out: Outcome) -> None:
    """The stays the moves imply, as placements.csv rows of ``out``."""
    by_vm: dict[str, list[Move]] = defaultdict(list)
    for m in moves:
        if m.came_from and m.came_from == m.host:
            out.skip("migration within one host (storage only): no change of host", m.source)
            continue
        by_vm[m.ose].append(m)
    for ose in sorted(by_vm):
        seq = sorted(by_vm[ose], key=lambda m: (m.day, m.source.line or 0))
        first = seq[0]
        if first.came_from:
            day = first.day.isoformat()
            out.add(
                "placements",
                {"ose": ose, "host": first.came_from, "from": day, "until": day},
                first.source,
            )
        for i, m in enumerate(seq):
            until = seq[i + 1].day.isoformat() if i + 1 < len(seq) else ""
            cells = {"ose": ose, "host": m.host, "from": m.day.isoformat()}
            if until:
                cells["until"] = until
            out.add("placements", cells, m.source)
        out.count("VM migrations (placements)", len(seq))
