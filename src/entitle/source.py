"""Where a fact came from, and what is wrong with it.

Every record read from user data carries a :class:`Source`; every problem found in user data is
a :class:`Problem` value (never an exception), printed as ``FILE:LINE: message`` (``FILE:SHEET!ROW``
for a workbook). Findings are warnings kept in the report. This module imports nothing of entitle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True, order=True)
class Source:
    """A place in an input file: ``hosts.csv:3`` or ``estate.xlsx:hosts!3``."""

    file: str
    line: int = 0
    sheet: str | None = None

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{self.file}:{self.sheet}!{self.line}"
        return f"{self.file}:{self.line}" if self.line else self.file


NO_SOURCE = Source("<none>")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with input data. ``hint`` tells the user how to fix it."""

    source: Source
    message: str
    hint: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        text = f"{self.source}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def as_finding(self, code: str) -> Finding:
        """As a finding kept in the report (a warning, or a note for an ``info`` problem)."""
        text = f"{self.message} ({self.hint})" if self.hint else self.message
        severity: Severity = "info" if self.severity == "info" else "warning"
        return Finding(severity, code, text, str(self.source))


@dataclass(frozen=True, slots=True)
class Finding:
    """A warning or note that a human should read; kept in the report, never fatal."""

    severity: Severity
    code: str
    message: str
    source: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "source": self.source,
        }


class BadInput(Exception):
    """Raised by the faces (never by the engine) to stop with a list of problems."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
