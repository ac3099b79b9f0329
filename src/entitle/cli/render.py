"""The terminal the position is shown on. What is shown, with or without a report file, is
reports/terminal.py's ``render_report``: one renderer of the position in the terminal."""

from __future__ import annotations

import sys

from rich.console import Console

from entitle.cli.common import SafeConsole


def terminal() -> Console:
    """Standard output: the terminal's width on a terminal, 120 columns into a file or pipe."""
    return SafeConsole(width=None if sys.stdout.isatty() else 120, emoji=False)
