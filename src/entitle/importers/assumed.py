"""An import's assumptions, carried into the estate's ``import-findings.csv``
(:mod:`entitle.estate.assumptions`).

The findings whose code is in :data:`ASSUMED` — what the importer guessed, or evidence it lacked
— become rows keyed by ``kind``, ``code`` and ``message``. An import replaces the unaccepted
rows of its own kind by what it found this time (a finding it no longer reports was resolved);
a row the user accepted stays accepted while the same finding recurs, so importing the same
files again changes nothing. Imports :mod:`entitle.estate` and :mod:`entitle.importers.merge`.
"""

from __future__ import annotations

from collections.abc import Sequence

from entitle.estate.assumptions import COLUMNS, FILE, TABLE
from entitle.importers.merge import Table
from entitle.source import Finding

ASSUMED = frozenset(
    {
        "cores-assumed",
        "cores-unknown",
        "date-style-assumed",
        "device-is-address",
        "duplicate-name",
        "edition-assumed",
        "edition-unknown",
        "no-migration-history",
        "os-unknown",
        "passive-primary-unknown",
        "short-name-collision",
        "sql-edition-assumed",
        "sql-license-type-assumed",
        "sql-server-invisible",
        "user-names-merged",
        "vcpus-unknown",
        "version-assumed",
        "version-unknown",
        "vm-host-unknown",
    }
)


def _key(kind: str, code: str, message: str) -> tuple[str, ...]:
    return (kind, code, message)


def record_findings(tables: dict[str, Table], kind: str, findings: Sequence[Finding]) -> bool:
    """Put this import's assumptions in the ``import-findings`` table; True when it changed."""
    table = tables.get(TABLE)
    if table is None:
        table = Table(TABLE, list(COLUMNS))
    before = {key: dict(cells) for key, cells in table.rows.items()}
    new = {
        _key(kind, f.code, f.message): {
            "kind": kind,
            "code": f.code,
            "message": f.message,
            "where": f.source,
            "accepted": "",
        }
        for f in findings
        if f.code in ASSUMED
    }
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    for key, cells in table.rows.items():
        if cells.get("kind", "") != kind:
            rows[key] = cells  # another importer's: left to it
        elif key in new:
            rows[key] = {**new[key], "accepted": cells.get("accepted", "")}
    for key, cells in new.items():
        rows.setdefault(key, cells)
    table.rows = rows
    if rows == before:
        return False
    tables[TABLE] = table
    return True


__all__ = ["ASSUMED", "FILE", "TABLE", "record_findings"]
