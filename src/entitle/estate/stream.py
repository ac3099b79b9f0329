"""Reading one big CSV table (``access.csv``, which grows with users x devices) as columns,
streamed from the file: the bulk path of :mod:`entitle.estate.reader`.

The whole-file reader (``reader.read_csv_bytes``) holds the file's bytes, its decoded text and a
list of every row at once: 6.25 million access rows (424 MiB) took several GB. This one first
reads the bytes a chunk at a time (:func:`scan`: the UTF-8 check and the NUL check, with the line
of the first bad byte, whether any field is quoted, how many lines), then the rows into columns
of shared texts (each distinct text once) and the line of each row. A big plain file (at least
``DUCKDB_ROWS`` lines; no quote, no BOM, no lone carriage return, every row as wide as the
header, none blank, no field longer than the ``csv`` module takes) is read by DuckDB
(:func:`by_duckdb`, less CPU the bigger the file); any other file by the ``csv`` reader, a batch
of rows at a time (row *k* on line *k* + 1; a batch holding a
blank row or a row with another number of fields than the header goes row by row, as does a
file with quotes, where a quoted field may span lines). Either way the table is what
``raw.table_from_rows`` (and its column-wise ``even_table``) builds from the same rows, and the
problems are the same, at the same lines; a malformed row makes the table unreadable, as there.
Only UTF-8 files (with or without a BOM) are read so; the caller reads UTF-16 ones whole.
Imports only :mod:`entitle.source`, :mod:`entitle.text` and the estate's ``files``, ``raw`` and
``spreadsheet`` modules (and DuckDB, when a plain file is read).
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from pathlib import Path
from typing import Any, BinaryIO

from entitle.estate.files import too_big
from entitle.estate.raw import RawTable, header_problems, unnamed_warning
from entitle.estate.spreadsheet import unquote
from entitle.source import Problem, Source
from entitle.text import bom_encoding

CHUNK = 16 * 2**20  # bytes read at a time by the scan (then to the end of that line)
BATCH = 50_000  # rows read at a time from a file without quotes
# The fewest lines (the header's included) of a file DuckDB reads. Below, starting it (a
# connection, its threads, three queries a column) costs more than the csv module takes for the
# whole file; measured here on the sample's access rows (users and devices numbered apart), ms of
# a core for DuckDB against the csv module: 1,942 rows 75 / 5; 50,000 rows 271 / 208; 100,000
# rows 476 / 519; 200,000 rows 951 / 1,159.
DUCKDB_ROWS = 100_000
ENCODING_HINT = "save the file as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"
NUL_HINT = "the file is binary, or UTF-16 without a byte order mark; " + ENCODING_HINT


@dataclass(frozen=True, slots=True)
class Scan:
    """What the bytes of a file say before its rows are read."""

    utf8: bool  # UTF-8 with or without a BOM (else UTF-16, read whole by the caller)
    skip: int  # bytes of the BOM
    quoted: bool  # a '"' somewhere: a field may span lines
    rows: int  # what the csv reader yields for a file without quotes: one row a line
    commas: int  # in the whole file: every row of a plain file is as wide as its header iff
    # there are (width - 1) x rows (DuckDB takes a row's trailing empty fields without a word)
    lone_return: bool  # a line ends with a carriage return alone (an old Mac's line end)
    problem: Problem | None  # an undecodable byte or a NUL, where ``reader.decode`` says


def scan(handle: BinaryIO, file: str, max_bytes: int, hint: str) -> Scan:
    """Read ``handle`` once, a chunk at a time (each chunk ends at a line end, so no character
    and no ``\\r\\n`` is split). The problem is the first undecodable byte (its offset after the
    BOM, and its line), else the first NUL, as ``reader.decode`` reports them."""
    head = handle.read(4)
    encoding, skip = bom_encoding(head)
    if encoding != "utf-8":
        return Scan(False, skip, False, 0, 0, False, None)
    handle.seek(skip)
    offset = newlines = returns = pairs = commas = 0
    quoted = False
    nul: Problem | None = None
    last = b"\n"
    while chunk := handle.read(CHUNK):
        if not chunk.endswith(b"\n"):
            chunk += handle.readline()
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError as error:
            line = newlines + chunk.count(b"\n", 0, error.start) + 1
            message = (
                f"not UTF-8 or UTF-16 text (undecodable byte at offset {offset + error.start})"
            )
            problem = Problem(Source(file, line), message, ENCODING_HINT)
            return Scan(True, skip, quoted, 0, 0, False, problem)
        if nul is None and b"\x00" in chunk:
            line = newlines + chunk.count(b"\n", 0, chunk.index(b"\x00")) + 1
            nul = Problem(Source(file, line), "the text contains NUL bytes", NUL_HINT)
        quoted = quoted or b'"' in chunk
        newlines += chunk.count(b"\n")
        returns += chunk.count(b"\r")
        pairs += chunk.count(b"\r\n")
        commas += chunk.count(b",")
        offset += len(chunk)
        last = chunk[-1:]
        if offset + skip > max_bytes:  # it grew since it was opened
            problem = too_big(file, offset + skip, max_bytes, hint)
            return Scan(True, skip, quoted, 0, 0, False, problem)
    # \n, \r and \r\n each end a line; a last line without an end is a row too
    rows = newlines + returns - pairs + (last not in (b"\n", b"\r"))
    return Scan(True, skip, quoted, rows, commas, returns != pairs, nul)


class Columns:
    """The table as it is read: header, columns of shared texts, lines, problems in order."""

    def __init__(self, table: str, file: str):
        self.table, self.file = table, file
        self.header: tuple[str, ...] | None = None  # stripped, as table_from_rows has them
        self.header_line = 0
        self.width = 0
        self.unnamed: list[int] = []
        self.warned = False
        self.even = True  # every row as wide as the first, none blank: even_table's case
        self.first_width = -1
        self.columns: list[list[str]] = []
        self.lines = array("q")
        self.problems: list[Problem] = []
        self.shared: list[dict[str, str]] = []  # per column: text as read -> shared text
        self.canonical: dict[str, str] = {}

    def share(self, i: int, texts: Sequence[str]) -> list[str]:
        """The shared text (stripped, unquoted) of each of ``texts`` in column ``i``."""
        one = self.shared[i]
        for text in set(texts).difference(one):
            value = unquote(text.strip())
            one[text] = self.canonical.setdefault(value, value)
        return list(map(one.__getitem__, texts))

    def batch(self, lines: Sequence[int], rows: list[list[str]]) -> None:
        """Rows read one after the other, starting on ``lines``: column by column when all are
        as wide as the header and none is blank, else row by row."""
        k = 0
        while self.header is None and k < len(rows):
            self.row(lines[k], rows[k])
            k += 1
        if k:
            lines, rows = lines[k:], rows[k:]
        if not rows:
            return
        if all(len(fields) == self.width for fields in rows):
            columns = [self.share(i, texts) for i, texts in enumerate(zip(*rows, strict=True))]
            blanks = (k for k, value in enumerate(columns[0]) if not value)
            if not any(not any(column[k] for column in columns) for k in blanks):
                self.add(columns, lines)
                return
        for line, fields in zip(lines, rows, strict=True):
            self.row(line, fields)

    def add(self, columns: list[list[str]], lines: Sequence[int]) -> None:
        """Rows as wide as the header, none blank, as columns of shared texts."""
        if self.unnamed and not self.warned:
            where = [
                next((k for k, v in enumerate(columns[i]) if v), len(lines)) for i in self.unnamed
            ]
            if min(where) < len(lines):
                self.warned = True
                self.problems.append(unnamed_warning(Source(self.file, lines[min(where)])))
        for kept, column in zip(self.columns, columns, strict=True):
            kept.extend(column)
        self.lines.extend(lines)

    def row(self, line: int, fields: list[str]) -> None:
        """One row, as ``table_from_rows`` takes it (and as ``even_table`` checks it)."""
        if self.first_width < 0:
            self.first_width = len(fields)
            self.even = bool(fields)
        elif len(fields) != self.first_width:
            self.even = False
        values = [value.strip() for value in fields]
        if not any(values):
            self.even = False
            return
        if self.header is None:
            self.header = tuple(values)
            self.header_line = line
            self.width = len(values)
            self.unnamed = [i for i, name in enumerate(values) if not name]
            self.columns = [[] for _ in values]
            self.shared = [{} for _ in values]
            return
        width = self.width
        where = Source(self.file, line)
        if len(values) != width:
            message = f"{len(values)} fields, but the header has {width}"
            hint = "quote a field that holds a comma; every row needs one field per header column"
            self.problems.append(Problem(where, message, hint))
        cells = (values + [""] * width)[:width]
        if not self.warned and any(cells[i] for i in self.unnamed):
            self.warned = True
            self.problems.append(unnamed_warning(where))
        for i, (kept, cell) in enumerate(zip(self.columns, cells, strict=True)):
            kept.extend(self.share(i, (cell,)))
        self.lines.append(line)

    def result(self) -> tuple[RawTable | None, list[Problem]]:
        if self.header is None:
            message = "the file is empty: no header row"
            hint = f"the first row names the {self.table} columns"
            return None, [Problem(Source(self.file, 1), message, hint)]
        if self.even:  # even_table names the columns by their unquoted text
            header = tuple(unquote(name).lower() for name in self.header)
        else:
            header = tuple(name.lower() for name in self.header)
        where = Source(self.file, self.header_line)
        sources = tuple(map(Source, repeat(self.file, len(self.lines)), self.lines))
        columns = tuple(map(tuple, self.columns))
        return RawTable(self.table, header, where, columns, sources), [
            *header_problems(header, where),
            *self.problems,
        ]


def read_stream(
    handle: BinaryIO, found: Scan, table: str, file: str, max_rows: int, hint: str
) -> tuple[RawTable | None, list[Problem]]:
    """The table in ``handle`` (UTF-8, scanned clean), or ``None`` and the problem: more than
    ``max_rows`` rows (at the row where reading stops, as ``read_csv_bytes`` says it), or a
    malformed row."""
    limit = max_rows + 1  # the header and max_rows rows (blank ones count: they are read)
    if not found.quoted and found.rows > limit:  # refused before a row is parsed
        return None, [over_rows(file, limit + 1, max_rows, hint)]
    columns = by_duckdb(handle, found, table, file)
    if columns is not None:
        return columns.result()
    handle.seek(found.skip)
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    reader = csv.reader(text, strict=True)
    into = Columns(table, file)
    read = 0
    start = 1
    try:
        if not found.quoted:  # one row a line
            while rows := list(islice(reader, BATCH)):
                if read + len(rows) > limit:
                    return None, [over_rows(file, limit + 1, max_rows, hint)]
                into.batch(range(read + 1, read + 1 + len(rows)), rows)
                read += len(rows)
        else:  # a quoted field may span lines: the line each row starts on, as it is read
            lines: list[int] = []
            rows = []
            for fields in reader:
                if read >= limit:
                    return None, [over_rows(file, start, max_rows, hint)]
                lines.append(start)
                rows.append(fields)
                read += 1
                start = reader.line_num + 1
                if len(rows) == BATCH:
                    into.batch(lines, rows)
                    lines, rows = [], []
            into.batch(lines, rows)
    except csv.Error as error:
        if not found.quoted:  # the batch does not say which row: row k is on line k + 1
            start = read + 1 + _good_rows(handle, found.skip, read)
        return None, [malformed(file, start, error)]
    finally:
        text.detach()
    return into.result()


def by_duckdb(handle: BinaryIO, found: Scan, table: str, file: str) -> Columns | None:
    """The table of a big plain file (``DUCKDB_ROWS`` lines or more; no quote, no BOM, no lone
    carriage return, its first line a header) read by DuckDB: each column as the code of
    its distinct text, the texts stripped and unquoted once. ``None`` for any other file, for a
    row DuckDB refuses (another number of fields than the header), for a row with trailing
    commas (which DuckDB takes, dropping the empty fields: the scan's comma count finds it) and
    for a blank row (a line DuckDB skips, or only spaces and commas): the csv path reads those
    and says what is wrong."""
    path = Path(f"/proc/self/fd/{handle.fileno()}")  # the file checked and opened, not its name
    if found.rows < DUCKDB_ROWS or found.quoted or found.skip or found.lone_return:
        return None
    if not path.exists():
        return None
    if _address_space_capped():
        return None  # a job under its memory ceiling: DuckDB's threads and buffers ignore it
    handle.seek(0)
    first = handle.readline().decode("utf-8")
    try:
        names = next(csv.reader([first.rstrip("\r\n")]), [])
    except csv.Error:  # a header field over the csv limit: the csv path says so at line 1
        return None
    if not any(name.strip() for name in names) or first[-1:] != "\n":
        return None
    if found.commas != found.rows * (len(names) - 1):
        return None  # a row with trailing commas: DuckDB drops them, the csv path says so
    into = Columns(table, file)
    into.row(1, names)
    import duckdb  # noqa: PLC0415 (only for a bulk table: the other commands do not load it)

    spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    read = (
        f"CREATE TABLE t AS SELECT * FROM read_csv(?, header = false, skip = 1, delim = ',', "
        f"quote = '', escape = '', columns = {spec}, auto_detect = false, strict_mode = true, "
        "null_padding = false)"  # noqa: S608 (no text of the file: a blank line is skipped)
    )
    try:
        columns = _coded_columns(duckdb, read, path, names, found.rows, into)
    except (duckdb.Error, MemoryError):  # out of memory too: the csv path reads in batches
        return None
    if columns is None:
        return None
    blanks = (k for k, value in enumerate(columns[0]) if not value)
    if any(not any(column[k] for column in columns) for k in blanks):
        return None
    into.add(columns, range(2, found.rows + 1))
    return into


def _address_space_capped() -> bool:
    """Whether this process runs under an address-space limit (a web job's ceiling)."""
    try:
        import resource  # noqa: PLC0415 (POSIX only)
    except ImportError:  # pragma: no cover - not POSIX
        return False
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return soft != resource.RLIM_INFINITY


def _coded_columns(
    duckdb: Any, read: str, path: Path, names: list[str], rows: int, into: Columns
) -> list[list[str]] | None:
    """Each column of the file read by DuckDB, as the texts of its codes; None when a row is
    missing (a blank line DuckDB skipped) or a field is longer than the csv reader takes."""
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = true")
        con.execute(read, [str(path)])
        lengths = ", ".join(f"max(length(c{i}))" for i in range(len(names)))
        count = con.execute(f"SELECT count(*), greatest({lengths}, 0) FROM t").fetchone()
        if count is None or count[0] + 1 != rows or count[1] > csv.field_size_limit():
            return None  # a blank line, or a field longer than the csv reader takes
        columns: list[list[str]] = []
        for i in range(len(names)):
            column = f"coalesce(c{i}, '')"
            texts = [row[0] for row in con.execute(f"SELECT DISTINCT {column} FROM t").fetchall()]
            con.execute(  # the code of a text: its place in ``texts``
                "CREATE OR REPLACE TEMP TABLE d AS SELECT unnest(l) AS v, "
                "generate_subscripts(l, 1) - 1 AS k FROM (SELECT ?::VARCHAR[] AS l)",
                [texts],
            )
            codes = con.execute(
                f"SELECT d.k::UINTEGER AS k FROM t JOIN d ON {column} = d.v ORDER BY t.rowid"
            ).fetchnumpy()["k"]
            columns.append(list(map(into.share(i, texts).__getitem__, codes.tolist())))
    return columns


def _good_rows(handle: BinaryIO, skip: int, before: int) -> int:
    """How many rows after the first ``before`` the csv reader reads before it fails."""
    handle.seek(skip)
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    reader = csv.reader(text, strict=True)
    for _ in islice(reader, before):
        pass
    good = 0
    try:
        for _ in reader:
            good += 1
    except csv.Error:
        pass
    finally:
        text.detach()
    return good


def over_rows(file: str, line: int, max_rows: int, hint: str) -> Problem:
    """A table refused at ``line``, past its ``max_rows`` (both readers say it alike)."""
    message = f"the table has more than {max_rows:,} rows; reading stopped here"
    return Problem(Source(file, line), message, hint)


def malformed(file: str, line: int, error: csv.Error) -> Problem:
    """What the csv module's ``error`` at ``line`` means, as both readers say it."""
    if "end of data" in str(error):
        message = "a quoted field starts here and never ends"
        hint = 'close the quote, or double a quote inside a quoted field ("")'
    else:
        message = f"malformed CSV: {error}"
        hint = "quote a field that holds a comma, quote or line break, and double its quotes"
    return Problem(Source(file, line), message, hint)
