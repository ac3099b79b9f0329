"""The date style of each UAL evidence file, decided from the whole file.

A culture's dates are told apart only by a day above 12 (see :mod:`entitle.importers.dates`), and
an export sorted by date may hold hundreds of thousands of rows before the 13th of a month: the
style is decided from every value. Where the first rows prove a style, the reduction reads the
file in it and checks that no value contradicts it (:func:`head_styles`): one read of the file.
Otherwise :data:`DATE_SHAPES` is one query, run by either engine over
the registered file, that groups a date column's values by shape (separator, year first, a time,
AM/PM) with the largest first and second number and example values: a handful of rows however
large the file. The lines shown in a refusal are found by reading the file again in Python.
Imports :mod:`entitle.importers` modules and :mod:`entitle.source`.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Collection, Sequence

from entitle.importers.dates import (
    SHAPE,
    Decision,
    Shape,
    Window,
    decide,
    detect,
    whole_pattern,
)
from entitle.importers.reduce import (
    DAILY,
    Engine,
    EvidenceFile,
    Progress,
    Reduction,
    quote,
    reduce_evidence,
)
from entitle.importers.result import Outcome
from entitle.importers.ual_files import UalFile
from entitle.source import Source

SCAN_ROWS = 1_000_000  # lines read to find where an example value is

DATE_SHAPES = """
WITH m AS (
  SELECT
    v,
    regexp_extract(v, 'SHAPE', 1) AS a,
    regexp_extract(v, 'SHAPE', 2) AS sep,
    regexp_extract(v, 'SHAPE', 3) AS b,
    regexp_extract(v, 'SHAPE', 5) AS t,
    regexp_extract(v, 'SHAPE', 6) AS ampm
  FROM (SELECT DISTINCT trim(CAST(COLUMN AS STRING)) AS v FROM RELATION) raw
  WHERE v IS NOT NULL AND v <> ''
)
SELECT
  sep,
  length(a) = 4 AS year_first,
  t <> '' AS has_time,
  ampm <> '' AS has_ampm,
  count(*) AS n,
  max(try_cast(a AS INT)) AS max_first,
  max(try_cast(b AS INT)) AS max_second,
  max_by(v, try_cast(a AS INT)) AS first_example,
  max_by(v, try_cast(b AS INT)) AS second_example,
  min(v) AS example
FROM m
GROUP BY sep, length(a) = 4, t <> '', ampm <> ''
ORDER BY sep, year_first, has_time, has_ampm
"""

HINT = (
    "give --date-style day-first or --date-style month-first, as the exporting machine's "
    "culture writes dates (en-US month-first; en-GB, fr-FR, de-DE, nl-NL day-first)"
)


def date_columns(ev: EvidenceFile) -> list[str]:
    return (
        [ev.columns["day"]]
        if ev.kind in DAILY
        else [ev.columns[c] for c in ("first_seen", "last_seen")]
    )


def shapes(engine: Engine, relation: str, column: str) -> list[Shape]:
    sql = DATE_SHAPES.replace("SHAPE", SHAPE).replace("COLUMN", quote(column))
    sql = sql.replace("RELATION", relation)
    found = []
    for sep, year_first, time, ampm, n, first, second, first_ex, second_ex, example in engine.rows(
        sql
    ):
        found.append(
            Shape(
                str(sep or ""),
                bool(year_first),
                bool(time),
                bool(ampm),
                int(n),
                int(first or 0),
                int(second or 0),
                str(first_ex or ""),
                str(second_ex or ""),
                str(example or ""),
            )
        )
    return found


def reduce_dated(
    engine: Engine,
    sources: Sequence[EvidenceFile],
    files: Sequence[UalFile],
    forced: str,
    window: Window,
    progress: Progress | None,
    out: Outcome,
) -> tuple[Reduction, list[EvidenceFile]]:
    """:func:`entitle.importers.reduce.reduce_evidence` with each file in the date style of its
    whole column(s) (:func:`head_styles`, else :func:`decide_styles` first), and the files as
    read. With a refusal in ``out``, the reduction is not to be used."""
    decided, proven = head_styles(sources, files, forced)
    decided = decide_styles(engine, decided, files, forced, out, skip=proven)
    if out.problems:
        return Reduction(), decided
    seen = reduce_evidence(engine, decided, window.since, window.until, progress)
    doubtful = {n for n in proven if seen.by_file.get(n, {}).get("bad-date")}
    if doubtful:  # a value the first rows' style cannot read: the whole column decides
        others = set(range(len(decided))) - doubtful
        checked = decide_styles(engine, decided, files, forced, out, skip=others)
        if checked != decided and not out.problems:
            decided = checked
            seen = reduce_evidence(engine, decided, window.since, window.until)
    return seen, decided


def head_styles(
    sources: Sequence[EvidenceFile], files: Sequence[UalFile], forced: str
) -> tuple[list[EvidenceFile], list[int]]:
    """Each CSV file whose first rows already prove a style (a number above 12 in one place,
    or year-first dates only) in that style, and the numbers of those files. A value of the rest
    of the column that the style cannot read is a ``bad-date`` row of the reduction; only a file
    with such rows needs :func:`decide_styles` over its whole column (a second read). A file
    with none is decided as the whole column would decide it: no value contradicts the proof,
    so the column is not mixed (the reduction read every value)."""
    decided: list[EvidenceFile] = []
    proven: list[int] = []
    for n, (ev, f) in enumerate(zip(sources, files, strict=True)):
        if ev.typed_dates or ev.file_format != "csv" or forced in ("day-first", "month-first"):
            decided.append(ev)
            continue
        names = [c.lower() for c in date_columns(ev)]
        values = [row.cells.get(c, "") for row in f.export.rows for c in names]
        decision = detect([v for v in values if v])
        if any(values) and not decision.refusal and not decision.assumed:
            decided.append(with_pattern(dataclasses.replace(ev, date_style=decision.style), f))
            proven.append(n)
        else:
            decided.append(ev)
    return decided, proven


def with_pattern(ev: EvidenceFile, f: UalFile) -> EvidenceFile:
    """``ev`` with the whole-value pattern of its first date (DuckDB reads most rows with it)."""
    name = date_columns(ev)[0].lower()
    first = next((v for row in f.export.rows if (v := row.cells.get(name, ""))), "")
    return dataclasses.replace(ev, date_pattern=whole_pattern(first, ev.date_style))


def decide_styles(
    engine: Engine,
    sources: Sequence[EvidenceFile],
    files: Sequence[UalFile],
    forced: str,
    out: Outcome,
    skip: Collection[int] = (),
) -> list[EvidenceFile]:
    """Each file with the date style of its whole date column(s); a refusal or a finding in
    ``out`` where the column does not say (see :func:`entitle.importers.dates.decide`). The
    files numbered in ``skip`` are left as they are."""
    decided = []
    for n, (ev, f) in enumerate(zip(sources, files, strict=True)):
        if ev.typed_dates or n in skip:
            decided.append(ev)
            continue
        if forced in ("day-first", "month-first"):  # said: no scan needed
            decided.append(with_pattern(dataclasses.replace(ev, date_style=forced), f))
            continue
        relation = f"evidence_{n}"
        engine.register(relation, ev)
        columns = date_columns(ev)
        found = [s for column in columns for s in shapes(engine, relation, column)]
        decision = decide(found, forced)
        _report(decision, ev, f, columns, out)
        decided.append(with_pattern(dataclasses.replace(ev, date_style=decision.style), f))
    return decided


def _report(
    decision: Decision, ev: EvidenceFile, f: UalFile, columns: list[str], out: Outcome
) -> None:
    what = " and ".join(columns)
    if decision.assumed:
        out.warn(
            "date-style-assumed",
            f"{what}: {decision.assumed}; give --date-style if that is wrong",
            f.file,
        )
    if not decision.refusal:
        return
    lines = lines_of(ev, f, columns, decision.examples)
    shown = ", ".join(
        f"line {where.line} '{value}'" if where.line else f"'{value}'"
        for value, where in zip(decision.examples, lines, strict=True)
    )
    mixed = decision.refusal.startswith("mixed")
    message = (
        f"mixed date formats in {what}: {shown} (one day-first, one month-first)"
        if mixed
        else f"{what}: {decision.refusal} ({shown})"
    )
    hint = "export again on one machine, or convert the dates to YYYY-MM-DD" if mixed else HINT
    out.error(lines[0] if lines else Source(f.file), message, hint)


def lines_of(
    ev: EvidenceFile, f: UalFile, columns: list[str], values: Sequence[str]
) -> list[Source]:
    """Where each value first appears in one of ``columns`` (the file alone when not found)."""
    found: dict[str, Source] = {}
    if ev.file_format == "csv":
        wanted = {c.lower() for c in columns}
        names = [n.lower() for n in ev.header]
        encoding = "utf-16" if ev.encoding.startswith("utf-16") else "utf-8-sig"
        with open(ev.path, encoding=encoding, newline="", errors="replace") as fh:
            for _ in range(ev.skip + 1):
                fh.readline()
            reader = csv.reader(fh, delimiter=ev.delimiter)
            line = ev.skip + 2
            for fields in reader:
                if reader.line_num > SCAN_ROWS or len(found) == len(set(values)):
                    break
                for name, cell in zip(names, fields, strict=False):
                    value = cell.strip()
                    if name in wanted and value in values and value not in found:
                        found[value] = Source(f.file, line)
                line = ev.skip + 2 + reader.line_num
    return [found.get(v, Source(f.file)) for v in values]
