"""Turn raw rows of text into estate records: the one entry point of the loader, the what-if
changes and the ledger's import.

:func:`convert` takes the rows of one table: a whole :class:`Table` as read goes column by column
where a fast converter exists (:mod:`entitle.estate.columns`), any other sequence of rows one row
at a time (:mod:`entitle.estate.rowwise`); both give the same records and the same problems, in
the same order. The cells are parsed by :mod:`entitle.estate.cells` from the types in
:mod:`entitle.estate.schema`; the names other modules read here are re-exported from those.
Imports only :mod:`entitle.source` and those estate modules (none of which imports this one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from entitle.estate.cells import BOOLEAN as BOOLEAN
from entitle.estate.cells import DAY as DAY
from entitle.estate.cells import Cells as Cells
from entitle.estate.cells import Row as Row
from entitle.estate.cells import Table
from entitle.estate.cells import column_of as column_of
from entitle.estate.cells import known_columns as known_columns
from entitle.estate.cells import rows_of as rows_of
from entitle.estate.cells import sources_of as sources_of
from entitle.estate.columns import convert_table
from entitle.estate.rowwise import CONVERTERS as CONVERTERS
from entitle.estate.rowwise import convert_rows
from entitle.estate.schema import MAX_AMOUNT as MAX_AMOUNT
from entitle.estate.schema import MAX_CORES as MAX_CORES
from entitle.estate.schema import MAX_COUNT as MAX_COUNT
from entitle.estate.schema import REQUIRED as REQUIRED
from entitle.source import Problem


def convert(rows: Iterable[Row], problems: list[Problem]) -> list[Any]:
    """Records of the rows that parse; a problem for every bad cell of the others."""
    if isinstance(rows, Table):
        return convert_table(rows, problems)
    return convert_rows(rows, problems)
