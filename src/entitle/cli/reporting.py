"""What ``entitle position`` needs for ``--what-if``, ``--xlsx``, ``--html`` and ``--pdf``:
reading and applying a change file (bad input → ``FILE:LINE: message``, exit 2), and writing
every report file atomically, all or none.

The generation time is now (UTC), or ``SOURCE_DATE_EPOCH`` when set (for reproducible builds):
reports of the same input differ only by it.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from entitle.catalog import Catalog
from entitle.cli.common import SYSTEM_FAILURE, fail, generation_time, system_failure
from entitle.estate.records import Estate
from entitle.faults import fault_point
from entitle.optimize.calmemo import CalPlans
from entitle.position import Position, compute_position
from entitle.reports import Report, build_report
from entitle.reports.html import render_html
from entitle.reports.pdf import PdfUnavailable, find_chromium, html_to_pdf
from entitle.reports.terminal import render_report
from entitle.reports.xlsx import render_xlsx
from entitle.whatif import Change, PositionDiff, apply_changes, diff_positions, read_changes


@dataclass(frozen=True, slots=True)
class WhatIf:
    estate: Estate
    position: Position
    diff: PositionDiff
    changes: tuple[Change, ...]


def what_if(
    path: Path,
    estate: Estate,
    before: Position,
    catalog: Catalog,
    day: date | None,
    memo: CalPlans | None = None,
) -> WhatIf:
    """The position after the changes in ``path`` and its difference from ``before``.
    ``memo``: the CAL plans of ``before``, reused where the changes leave a problem as it was."""
    if not path.is_file():
        fail([f"{path}: no such change file (give a YAML file of changes; see --help)"])
    changes, problems = read_changes(path)
    if problems:
        fail(problems)
    after, problems = apply_changes(estate, changes, catalog)
    if after is None:
        fail(problems)
    position = compute_position(after, catalog, day or before.as_of, memo=memo)
    return WhatIf(after, position, diff_positions(before, position), changes)


def check_pdf_possible(pdf: Path | None) -> None:
    if pdf is not None and find_chromium() is None:
        fail(
            [
                f"{pdf}: cannot write a PDF here: no Chromium found (install the Debian package "
                "`chromium`, or set ENTITLE_CHROMIUM); nothing was written"
            ]
        )


def make_report(
    position: Position, estate: Estate, catalog: Catalog, change: WhatIf | None
) -> Report:
    return build_report(
        position,
        generation_time(),
        catalog=catalog,
        entitlements=estate.entitlements,
        what_if=change.diff if change else None,
        changes=tuple(c.describe() + f" [{c.source}]" for c in change.changes) if change else (),
    )


def write_reports(
    report: Report, *, xlsx: Path | None, html: Path | None, pdf: Path | None
) -> list[Path]:
    """Render every file first, then move each into place: on any failure nothing is written."""
    outputs: list[tuple[Path, bytes]] = []
    page = render_html(report) if html is not None or pdf is not None else ""
    if xlsx is not None:
        outputs.append((xlsx, render_xlsx(report)))
    if html is not None:
        outputs.append((html, page.encode("utf-8")))
    if pdf is not None:
        try:
            outputs.append((pdf, html_to_pdf(page, report.summary.generated_at)))
        except PdfUnavailable as exc:
            fail([f"{pdf}: {exc}; nothing was written"])
    write_reports_bytes(outputs)
    return [path for path, _ in outputs]


def write_reports_bytes(outputs: list[tuple[Path, bytes]]) -> None:
    """Stage every file beside its target, then rename each into place."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in outputs:
            staged.append((_stage(path, data), path))
            fault_point("report.staged")
        for tmp, path in staged:
            fault_point("report.rename")
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        fail([f"cannot write the report: {system_failure(exc)}"], SYSTEM_FAILURE)


def _stage(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a report is for sharing: the usual file mode, not 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:  # the disk filled up half-way: leave no staged half behind
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def what_if_json(change: WhatIf) -> dict[str, Any]:
    data = change.diff.as_json()
    data["changes"] = [{"change": c.describe(), "source": str(c.source)} for c in change.changes]
    return data


def report_text(report: Report, *, explain: bool = False) -> str:
    """The terminal report as plain text (for ``--out``)."""
    console = text_console()
    render_report(report, console, explain=explain)
    return console.export_text()


def text_console() -> Console:
    """A console that records plain text 160 columns wide and prints nothing (for ``--out``).
    Not ``Console.capture()``: what is captured is not recorded, so the text came out empty."""
    return Console(file=io.StringIO(), record=True, width=160, force_terminal=False, emoji=False)


def write_reports_text(path: Path, text: str) -> None:
    """One text report file, atomically (exit 2 when it cannot be written)."""
    write_reports_bytes([(path, text.encode("utf-8"))])
