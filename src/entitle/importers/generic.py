"""Any CSV file or workbook, with a header mapping file: for the sources not known yet.

The mapping is TOML. Each ``[[tables]]`` entry fills one estate table from one file or sheet::

    [[tables]]
    table = "users"                 # the estate table
    sheet = "Staff"                 # a workbook's sheet (optional; default: the first sheet)
    host_names = ["device"]         # columns turned into host ids (FQDN → short, lower case)
    user_names = ["user"]           # columns turned into user ids (lower case, as UAL writes)
    [tables.columns]                # estate column = the export's header (case ignored)
    user = "Login"
    name = "Full name"
    external = "Contractor"
    [tables.values.external]        # optional: the export's values → the estate's
    "Y" = "yes"
    "N" = "no"

A row whose required columns are blank is skipped; every other check is the estate loader's,
run on the merged estate. Imports :mod:`entitle.source`, :mod:`entitle.estate` and
:mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entitle.estate.convert import REQUIRED
from entitle.estate.records import TABLES
from entitle.importers.exports import Export, read_any
from entitle.importers.names import host_id, user_id
from entitle.importers.result import ImportResult, Outcome
from entitle.source import Source

MAX_DEPTH = 32  # arrays and inline tables inside each other; a mapping needs two
AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)|\s*\(at end of document\)")


def read_mapping(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``[[tables]]`` of a mapping file, or the problems with it (``FILE:LINE: message``)."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        deep = nested_too_deep(text)
        if deep:
            return [], [
                f"{where}:{deep}: arrays or tables nested more than {MAX_DEPTH} deep "
                "(a mapping is a list of [[tables]])"
            ]
        data = tomllib.loads(text)
    except OSError as error:
        return [], [f"{where}: cannot read the mapping: {error.strerror}"]
    except UnicodeDecodeError:
        return [], [f"{where}: the mapping is not UTF-8 text (save it as UTF-8)"]
    except tomllib.TOMLDecodeError as error:
        found = AT_LINE.search(str(error))
        line = f":{found.group(1)}" if found and found.group(1) else ""
        reason = AT_LINE.sub("", str(error))
        return [], [f"{where}{line}: not a TOML mapping: {reason} (see docs/importers.md)"]
    except RecursionError:  # (the depth is checked first; a safety net)
        return [], [f"{where}:1: arrays or tables nested too deeply"]
    tables = data.get("tables")
    if not isinstance(tables, list) or not tables:
        return [], [f"{where}: the mapping has no [[tables]] entry (see docs/importers.md)"]
    problems = []
    for n, entry in enumerate(tables, start=1):
        table = entry.get("table") if isinstance(entry, dict) else None
        columns = entry.get("columns") if isinstance(entry, dict) else None
        if table not in TABLES:
            problems.append(
                f"{where}: tables #{n}: table {table!r} is not an estate table "
                f"({', '.join(TABLES)})"
            )
        elif not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            problems.append(
                f"{where}: tables #{n}: [tables.columns] maps estate columns to header names"
            )
        else:
            missing = [c for c in REQUIRED[table] if c not in columns]
            if missing:
                problems.append(
                    f"{where}: tables #{n}: {table} needs columns {', '.join(missing)} mapped"
                )
    return tables, problems


def nested_too_deep(text: str) -> int:
    """The line where ``[`` and ``{`` open more than :data:`MAX_DEPTH` deep outside strings and
    comments (``tomllib`` recurses on them: 20,000 raised RecursionError), or 0."""
    depth, line, quote, i = 0, 1, "", 0
    while i < len(text):
        char = text[i]
        if char == "\n":
            line += 1
            if quote in ('"', "'"):
                quote = ""  # a one-line string does not span lines; tomllib says what is wrong
        elif quote:
            if char == "\\" and quote.startswith('"'):
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, i) else char
            i += len(quote) - 1
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif char in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return 0


def import_generic(paths: Sequence[Path], mapping: Sequence[dict[str, Any]]) -> ImportResult:
    out = Outcome("generic")
    exports: list[Export] = []
    for path in paths:
        found, problems = read_any(path)
        out.problems.extend(p for p in problems if p.severity == "error")
        for p in problems:
            if p.severity != "error":
                out.skip("row cut short or with extra fields", p.source)
        exports.extend(found)
    for entry in mapping:
        sheet = str(entry.get("sheet", "")).lower()
        chosen = [e for e in exports if not sheet or (e.sheet or "").lower() == sheet]
        if sheet and not chosen:
            out.error(
                Source(str(paths[0]) if paths else "<no file>"),
                f"no sheet named {entry['sheet']}",
                "check the mapping's sheet name",
            )
            continue
        for export in _targets(chosen, bool(sheet)):
            _table(export, entry, out)
    return out.result()


def _targets(exports: list[Export], by_sheet: bool) -> list[Export]:
    """The named sheet, or every CSV file and the first sheet of each workbook."""
    if by_sheet:
        return exports[:1]
    seen: set[Path] = set()
    chosen = []
    for export in exports:
        if export.sheet is None or export.path not in seen:
            chosen.append(export)
            seen.add(export.path)
    return chosen


def _table(export: Export, entry: dict[str, Any], out: Outcome) -> None:
    table: str = entry["table"]
    columns: dict[str, str] = entry["columns"]
    values: dict[str, dict[str, str]] = entry.get("values", {})
    hosts = {str(c) for c in entry.get("host_names", [])}
    users = {str(c) for c in entry.get("user_names", [])}
    missing = [header for header in columns.values() if not export.has(header)]
    if missing:
        out.error(
            export.header_source,
            f"missing column(s) named in the mapping: {', '.join(missing)}",
            "the file has " + ", ".join(export.header),
        )
        return
    for row in export.rows:
        cells: dict[str, str] = {}
        for column, header in columns.items():
            value = row.get(header.lower())
            value = values.get(column, {}).get(value, value)
            cells[column] = (
                host_id(value) if column in hosts else user_id(value) if column in users else value
            )
        blank = [c for c in REQUIRED[table] if not cells.get(c)]
        if blank:
            out.skip(f"{table}: blank {', '.join(blank)}", row.source)
            continue
        out.add(table, cells, row.source)
        out.count(f"{table} rows")
