"""Helpers of the importer tests: where the sample exports are, and small readers of results."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from entitle.importers.dates import Window
from entitle.importers.result import ImportResult

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
AUGUST = Window(date(2025, 8, 1), date(2025, 8, 31))


def rows(result: ImportResult, table: str) -> list[dict[str, str]]:
    return [dict(r.cells) for r in result.rows.get(table, ())]


def skipped(result: ImportResult) -> dict[str, int]:
    return {s.reason: s.count for s in result.skipped}


def ual_files(*folders: str) -> list[Path]:
    base = EXPORTS / "ual"
    chosen = [base / f for f in folders] if folders else [base]
    return sorted(p for folder in chosen for p in folder.rglob("*.csv"))


def write_export(
    path: Path,
    header: list[str],
    data: list[list[str]],
    *,
    type_line: str = "",
    delimiter: str = ",",
) -> Path:
    """A CSV file as Export-Csv writes it: every field quoted, CRLF line ends."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        if type_line:
            fh.write(f"#TYPE {type_line}\r\n")
        writer = csv.writer(fh, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(data)
    return path
