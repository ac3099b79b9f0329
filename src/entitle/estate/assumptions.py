"""What an import had to assume, kept beside the estate: the optional ``import-findings.csv``.

``entitle import`` writes there every finding that is an assumption or a gap in the evidence (a
date style, an unknown edition, a placeholder host, merged or split identities …), one row each:
``kind`` (the importer), ``code``, ``message``, ``where`` (``FILE:LINE`` or ``FILE:SHEET!ROW`` of
the export) and ``accepted`` (blank, ``yes`` or ``no``). ``entitle position`` shows them, and
``entitle position --check`` fails while one is not accepted (``accepted`` = ``yes``, or
``--accept-assumptions``). Read only from an estate folder; a workbook estate has none.
Imports :mod:`entitle.source` and the CSV reader of :mod:`entitle.estate.reader`.
"""

from __future__ import annotations

from pathlib import Path

from entitle.estate.reader import read_csv_bytes
from entitle.estate.records import ImportFinding
from entitle.estate.schema import FINDINGS
from entitle.source import Problem

FILE = FINDINGS.file
TABLE = FINDINGS.name
COLUMNS = FINDINGS.names
YES, NO = frozenset({"yes", "y", "true", "1"}), frozenset({"", "no", "n", "false", "0"})


def read_import_findings(path: str | Path) -> tuple[tuple[ImportFinding, ...], list[Problem]]:
    """The rows of ``import-findings.csv`` in the estate folder ``path`` (none if absent)."""
    file = Path(path) / FILE
    if not file.is_file():
        return (), []
    raw, problems = read_csv_bytes(file.read_bytes(), TABLE, FILE)
    if raw is None:
        return (), problems
    missing = [c for c in FINDINGS.required if c not in raw.header]
    if missing:
        hint = "import-findings.csv has " + ", ".join(COLUMNS) + " (written by entitle import)"
        problems.append(Problem(raw.header_source, f"missing column: {', '.join(missing)}", hint))
        return (), problems
    found = []
    for row in raw.rows:
        cells = dict(zip(raw.header, row.values, strict=False))
        accepted = cells.get("accepted", "").strip().lower()
        if accepted not in YES | NO:
            problems.append(
                Problem(row.source, f"accepted is '{cells['accepted']}'", "write yes, no or blank")
            )
            continue
        if not cells.get("code"):
            problems.append(Problem(row.source, "a finding without a code", "write its code"))
            continue
        found.append(
            ImportFinding(
                cells.get("kind", ""),
                cells["code"],
                cells.get("message", ""),
                cells.get("where", ""),
                accepted in YES,
                row.source,
            )
        )
    return tuple(found), problems
