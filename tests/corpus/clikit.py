"""Run ``entitle`` in this process as a user does and check the face every failure must show:
exit 2, every problem as ``FILE:LINE: message`` (``FILE:SHEET!ROW`` for a workbook), no
traceback, and nothing written (the folder around the output is byte for byte as it was)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from entitle.cli.main import app

runner = CliRunner()

# FILE, then :LINE or :SHEET!ROW (or nothing for a problem with the whole file), then ": ".
PROBLEM = re.compile(
    r"^(?P<file>[^\s:][^:]*?)(?::(?P<line>\d+)|:(?P<sheet>[^:!]+)!(?P<row>\d+))?: \S"
)
# The one line that is not a problem: the import's note before the merged estate's problems.
NOTE = "the merged estate would not load; nothing was written:"


@dataclass(frozen=True)
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str

    @property
    def problems(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip() and line != NOTE]


def entitle(*args: str) -> Run:
    """``entitle ARGS``; fails the test on any exception escaping the command."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"entitle {' '.join(args)} raised") from result.exception
    run = Run(list(args), result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    return run


def assert_rejected(run: Run, *names: str) -> None:
    """Exit 2 and every line on standard error a problem; one names a file of ``names``."""
    assert run.code == 2, (run.args, run.code, run.stderr)
    assert run.problems, f"exit 2 but no problem printed: {run.args}"
    for line in run.problems:
        assert PROBLEM.match(line), f"not FILE:LINE: message: {line!r}"
    if names:
        files = [m.group("file") for m in map(PROBLEM.match, run.problems) if m]
        assert any(Path(f).name in names or any(n in f for n in names) for f in files), (
            names,
            run.problems,
        )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (hidden ones too): its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {str(p.relative_to(folder)) + "/": (b"", 0) for p in folder.rglob("*") if p.is_dir()}
