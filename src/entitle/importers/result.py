"""What an importer hands back: estate rows to merge, what it mapped, what it skipped and why.

Importers never print and never raise on bad input. They return an :class:`ImportResult` whose
``problems`` (errors: nothing may be written) and ``findings`` (warnings kept for a human) are
values; the CLI shows them. :class:`Outcome` is the mutable builder an importer fills while it
reads, frozen into a result at the end. Imports only :mod:`entitle.source`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from entitle.estate.spreadsheet import RISKY_START, looks_like_formula
from entitle.source import Finding, Problem, Source

EXAMPLES = 3  # FILE:LINE examples kept per skip reason
FIRST = frozenset(RISKY_START)


@dataclass(frozen=True, slots=True)
class NewRow:
    """One row for an estate table, as text cells named like the spec's columns.

    ``weak`` rows are guesses (a placeholder host, a user known only from evidence): they add a
    row that is missing and fill blank cells, but never overwrite what the estate already says.
    """

    cells: Mapping[str, str]
    source: Source
    weak: bool = False


@dataclass(frozen=True, slots=True)
class BulkRows:
    """Rows of one estate table that an engine wrote to a Parquet file, too many to hold as
    :class:`NewRow` objects (a large UAL reduction's access tuples): text columns named like the
    spec's, a blank cell being an empty string. Every row came from ``source``; ``count`` rows.
    :mod:`entitle.importers.bulk` merges them (or turns them into rows where it cannot)."""

    path: Path
    columns: tuple[str, ...]
    count: int
    source: Source


@dataclass(frozen=True, slots=True)
class Skipped:
    """Rows left out for one reason: how many, and a few places to look."""

    reason: str
    count: int
    examples: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    kind: str
    rows: Mapping[str, tuple[NewRow, ...]]
    mapped: tuple[tuple[str, int], ...] = ()
    skipped: tuple[Skipped, ...] = ()
    problems: tuple[Problem, ...] = ()
    findings: tuple[Finding, ...] = ()
    bulk: Mapping[str, BulkRows] = field(default_factory=dict)  # tables held in files

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass
class Outcome:
    """Collects an import as it goes; :meth:`result` freezes it."""

    kind: str
    rows: dict[str, list[NewRow]] = field(default_factory=dict)
    mapped: Counter[str] = field(default_factory=Counter)
    skip_counts: Counter[str] = field(default_factory=Counter)
    skip_examples: dict[str, list[Source]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    bulk: dict[str, BulkRows] = field(default_factory=dict)

    def add(
        self, table: str, cells: Mapping[str, str], source: Source, *, weak: bool = False
    ) -> None:
        self.rows.setdefault(table, []).append(NewRow(dict(cells), source, weak))

    def _warn_formulas(self) -> None:
        """A warning, with the first rows, for each table that would carry formula-looking
        values (an AD export's ``=HYPERLINK(...)`` or ``+cmd|...``) into the estate: kept as
        written, since they are data, but a spreadsheet opening the CSV file would run them."""
        for table, rows in self.rows.items():
            found = [
                (row.source, column, value)
                for row in rows
                for column, value in row.cells.items()
                if value[:1] in FIRST and looks_like_formula(value)
            ]
            self.warn_formulas(table, found)

    def warn_formulas(self, table: str, found: list[tuple[Source, str, str]]) -> None:
        """The warning for ``found`` (source, column, value) formula-looking cells of ``table``."""
        if not found:
            return
        shown = "; ".join(
            f"{source} {column} {value[:40]!r}" for source, column, value in found[:EXAMPLES]
        )
        more = f" and {len(found) - EXAMPLES:,} more" if len(found) > EXAMPLES else ""
        self.warn(
            "formula-looking",
            f"{len(found):,} value(s) written to {table}.csv look like spreadsheet formulas "
            f"and would run if the file were opened in a spreadsheet: {shown}{more}",
            found[0][0],
        )

    def count(self, what: str, n: int = 1) -> None:
        self.mapped[what] += n

    def skip(self, reason: str, source: Source | None = None, n: int = 1) -> None:
        self.skip_counts[reason] += n
        examples = self.skip_examples.setdefault(reason, [])
        if source is not None and len(examples) < EXAMPLES:
            examples.append(source)

    def error(self, source: Source, message: str, hint: str = "") -> None:
        self.problems.append(Problem(source, message, hint))

    def warn(self, code: str, message: str, source: Source | str = "") -> None:
        self.findings.append(Finding("warning", code, message, str(source)))

    def merge(self, other: ImportResult) -> None:
        for table, rows in other.rows.items():
            self.rows.setdefault(table, []).extend(rows)
        self.mapped.update(dict(other.mapped))
        for s in other.skipped:
            self.skip(s.reason, None, s.count)
            examples = self.skip_examples[s.reason]
            examples.extend(s.examples[: EXAMPLES - len(examples)])
        self.problems.extend(other.problems)
        self.findings.extend(other.findings)

    def result(self) -> ImportResult:
        self._warn_formulas()
        skipped = tuple(
            Skipped(reason, n, tuple(self.skip_examples.get(reason, ())))
            for reason, n in sorted(self.skip_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return ImportResult(
            kind=self.kind,
            rows={table: tuple(rows) for table, rows in self.rows.items()},
            mapped=tuple(sorted(self.mapped.items())),
            skipped=skipped,
            problems=tuple(self.problems),
            findings=tuple(self.findings),
            bulk=dict(self.bulk),
        )
