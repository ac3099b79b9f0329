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


def split_identities(tables: dict[str, Table]) -> list[Finding]:
    """OSEs of the merged estate that may be one server under two ids: a full DNS name kept
    apart by an inventory (``web01.prod.contoso.com``, after a short-name collision) beside the
    short name earlier evidence used (``web01``). Evidence on ``web01`` is not moved to either."""
    oses = tables.get("oses")
    if oses is None:
        return []
    ids = {cells.get("ose", "").lower(): cells.get("ose", "") for cells in oses.rows.values()}
    pairs: dict[str, list[str]] = {}
    for folded, ose in ids.items():
        short = folded.split(".", 1)[0]
        if "." in folded and short in ids and not short.replace(".", "").isdigit():
            pairs.setdefault(ids[short], []).append(ose)
    return [
        Finding(
            "warning",
            "short-name-collision",
            f"oses.csv has {short} and {', '.join(sorted(full))}: the evidence imported under "
            f"{short} stays on an OSE of its own, counted apart from "
            f"{'them' if len(full) > 1 else 'it'} (rename {short} in every table to the server "
            "it is, or remove it if it is the same)",
            "oses.csv",
        )
        for short, full in sorted(pairs.items())
    ]


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


__all__ = ["ASSUMED", "FILE", "TABLE", "record_findings", "split_identities"]
