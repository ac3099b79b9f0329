"""Finding the lines behind a count: where in a large evidence file the skipped rows are.

The reduction counts rows by fate without line numbers (engines read files in parallel). For
each fate that skipped rows (a machine account, outside the window, a date in no known style …)
this module reads the CSV files again in Python and keeps the first few lines, reading at most
:data:`SCAN_ROWS` rows of a file. Imports :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import date

from entitle.estate.convert import MAX_COUNT
from entitle.importers.dates import Window, parse
from entitle.importers.reduce import DAILY, EvidenceFile
from entitle.importers.ual_files import UalFile
from entitle.source import Source

LIMIT = 3
SCAN_ROWS = 200_000

Test = Callable[[dict[str, str], EvidenceFile], bool]


def _days(cells: dict[str, str], ev: EvidenceFile) -> list[date | None]:
    wanted = ["accessdate"] if ev.kind in DAILY else ["firstseen", "lastseen"]
    return [parse(cells[c], ev.date_style) if cells.get(c) else None for c in wanted]


def _tests(window: Window) -> dict[str, Test]:
    def bad_date(cells: dict[str, str], ev: EvidenceFile) -> bool:
        return any(d is None for d in _days(cells, ev))

    def outside(cells: dict[str, str], ev: EvidenceFile) -> bool:
        days = _days(cells, ev)
        return None not in days and not window.overlaps(days[0], days[-1])

    def machine(cells: dict[str, str], ev: EvidenceFile) -> bool:
        return cells.get("username", "").strip().endswith("$")

    def no_server(cells: dict[str, str], ev: EvidenceFile) -> bool:
        return not cells.get("pscomputername", "").strip() and ev.server is None

    def bad_count(cells: dict[str, str], ev: EvidenceFile) -> bool:
        text = cells.get("accesscount" if ev.kind in DAILY else "activitycount", "").strip()
        return bool(text) and not (text.isascii() and text.isdigit() and int(text) <= MAX_COUNT)

    return {
        "bad-count": bad_count,
        "bad-date": bad_date,
        "outside-window": outside,
        "machine-account": machine,
        "no-server": no_server,
    }


def examples(
    status: str, window: Window, sources: Sequence[EvidenceFile], files: Sequence[UalFile]
) -> list[Source]:
    """Up to three lines of CSV evidence whose rows have ``status``."""
    test = _tests(window).get(status)
    found: list[Source] = []
    if test is None:
        return found
    for ev, f in zip(sources, files, strict=True):
        if ev.file_format != "csv":
            continue
        names = [n.lower() for n in ev.header]
        encoding = "utf-16" if ev.encoding.startswith("utf-16") else "utf-8-sig"
        with open(ev.path, encoding=encoding, newline="", errors="replace") as fh:
            for _ in range(ev.skip + 1):
                fh.readline()
            reader = csv.reader(fh, delimiter=ev.delimiter)
            line = ev.skip + 2
            for fields in reader:
                if reader.line_num > SCAN_ROWS:
                    break
                if fields and test(dict(zip(names, fields, strict=False)), ev):
                    found.append(Source(f.file, line))
                    if len(found) >= LIMIT:
                        return found
                line = ev.skip + 2 + reader.line_num
    return found
