"""The bulk path of the estate loader: ``access.csv`` (the table that grows with users x devices)
streamed into columns within its own bounds (``estate/stream.py``, ``files.Limits``).

The streamed table and its problems are those of the whole-file reader (``read_csv_bytes``) for
any text that reader is given; a table over the other tables' bounds but within the bulk ones
loads; one over the bulk bounds is refused naming them, before any other table is read; a bad
row deep in a streamed file is named by its line. The bounds are the loader's parameter, so these
tests pass small ones instead of writing millions of rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entitle.estate import stream
from entitle.estate.files import Limits
from entitle.estate.loader import load_estate
from entitle.estate.reader import read_csv_bytes, read_estate
from entitle.source import Problem
from test_estate_loader import EXAMPLE, errors, estate_with, write
from tiers import examples

SMALL = Limits(rows=5, bytes=10_000, bulk_rows=40, bulk_bytes=4_000)


@pytest.fixture(scope="module", autouse=True)
def duckdb_for_every_plain_file() -> Iterator[None]:
    """DuckDB reads a plain file of any size here (``stream.DUCKDB_ROWS``, 100,000 lines in use),
    so that these small files test its path against the whole-file reader too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream, "DUCKDB_ROWS", 0)
        yield


def read_streamed(
    tmp_path: Path, data: bytes, max_rows: int = 1_000
) -> tuple[object, list[Problem]]:
    """``access.csv`` of ``data`` read by the bulk path alone."""
    path = tmp_path / "access.csv"
    path.write_bytes(data)
    limits = Limits(bulk_rows=max_rows)
    raw, problems = read_estate(write(tmp_path, {}), limits)  # no other table but access
    found = [p for p in problems if p.source.file == "access.csv"]
    return raw.tables.get("access"), found


def same(a: object, b: object) -> None:
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        keys = ("header", "header_source", "columns", "sources")
        assert [getattr(a, k) for k in keys] == [getattr(b, k) for k in keys]


CELL = st.one_of(
    st.sampled_from(["", " ", " pc1 ", "vm1", "alice", "sql-server", "'=x", "#c", "a,b", "\t"]),
    st.sampled_from(['say "hi"', "two\nlines", "cr\rlf", "x\r\ny"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=4),
)
ROW = st.lists(CELL, min_size=0, max_size=5)
HEADERS = st.sampled_from(
    [["ose", "product", "user", "device"], ["ose", "", "product", "ose"], ["'=ose", "x"], []]
)


@settings(max_examples=examples(100, 500), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    header=HEADERS,
    rows=st.lists(ROW, max_size=12),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    quote=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    batch=st.integers(1, 4),
    last=st.booleans(),
)
def test_the_streamed_table_is_what_the_whole_file_reader_reads(
    header: list[str], rows: list[list[str]], end: str, quote: int, batch: int, last: bool
) -> None:
    """Blank rows, short and long rows, quoted fields across lines, spreadsheet quotes, an
    unnamed column, a column named twice, any line end: the same table and problems, read a
    few rows at a time (batches of 1 to 4 rows, so that every case falls across batches)."""
    out = io.StringIO()
    csv.writer(out, lineterminator=end, quoting=quote).writerows([header, *rows])
    text = out.getvalue() if last else out.getvalue().removesuffix(end)
    data = text.encode()
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream, "BATCH", batch)
        streamed, streamed_problems = read_streamed(Path(tmp), data)
    whole, whole_problems = read_csv_bytes(data, "access", "access.csv")
    same(streamed, whole)
    assert streamed_problems == whole_problems


@pytest.mark.parametrize(
    "data",
    [
        b"ose,product\nvm1,sql\xe9\n",  # undecodable on line 2
        b"\xef\xbb\xbfose,product\nvm1,sql\nvm1,\x00x\n",  # a BOM; a NUL on line 3
        b"ose,product\nvm1,a\x00\nvm1,\xff\n",  # both: the undecodable byte is said
        b'ose,product\nvm1,"open\nvm1,x\n',  # a quote that never ends
        b'ose,product\nvm1,"a"b\n',  # text after a closing quote
        b"ose,product\nvm1,a\nvm1,b\nvm1," + b"x" * 200_000 + b"\n",  # over the csv module's limit
        b"",
        b"\n\n ,\n",
        b"ose,product,user,device\n,,, pc1 ,",  # a trailing comma: DuckDB takes it silently
        b"ose,product\nvm1,sql,,\nvm1,sql\n",  # two trailing commas
        b"ose,product,user\nvm1,sql,a,\nvm1,sql\n",  # one too wide, one too short
    ],
    ids=[
        "undecodable",
        "nul",
        "both",
        "open-quote",
        "after-quote",
        "long-field",
        "empty",
        "blank",
        "trailing-comma",
        "trailing-commas",
        "wide-and-short",
    ],
)
def test_a_malformed_streamed_file_is_refused_as_the_whole_file_reader_refuses_it(
    tmp_path: Path, data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "BATCH", 2)  # the long field, line 4, second in its batch
    streamed, streamed_problems = read_streamed(tmp_path, data)
    whole, whole_problems = read_csv_bytes(data, "access", "access.csv")
    same(streamed, whole)
    assert streamed_problems == whole_problems and whole_problems


def test_the_example_estate_loads_the_same_by_either_path(tmp_path: Path) -> None:
    whole = Limits(bulk=frozenset())
    streamed, problems = load_estate(EXAMPLE)
    read_whole, whole_problems = load_estate(EXAMPLE, limits=whole)
    assert streamed is not None and streamed == read_whole and problems == whole_problems
    assert [a.source for a in streamed.access] == [a.source for a in read_whole.access]


def access_rows(count: int, bad: dict[int, str] | None = None) -> str:
    """``count`` access rows of alice on pc1 (lines 2 to count + 1), ``bad`` replacing some."""
    rows = ["ose,product,user,device,first_seen"]
    rows += [
        (bad or {}).get(line, "vm1,sql-server,alice,pc1,2026-01-05") for line in range(2, count + 2)
    ]
    return "\n".join(rows) + "\n"


def test_a_bulk_table_over_the_other_tables_bounds_loads(tmp_path: Path) -> None:
    """30 access rows (2,026 bytes) load within the bulk bounds of 40 rows and 4,000 bytes,
    where 6 users, over the 5 rows of the others, are refused."""
    users = "user\n" + "".join(f"u{n}\n" for n in range(6))
    folder = estate_with(tmp_path, access=access_rows(30))
    estate, problems = load_estate(folder, limits=SMALL)
    assert estate is not None and len(estate.access) == 30 and problems == []
    assert str(estate.access[-1].source) == "access.csv:31"
    (folder / "users.csv").write_text(users)
    estate, problems = load_estate(folder, limits=SMALL)
    assert estate is None
    assert errors(problems) == [
        "users.csv:7: the table has more than 5 rows; reading stopped here (an estate table "
        "holds at most 5 rows and 0 MiB; import the evidence with entitle import, which reduces it)"
    ]


BULK_HINT = (
    "an access table holds at most 40 rows and 0 MiB; keep one row per user, device, product and "
    "OSE (entitle import reduces the evidence so), or split the estate into parts (by site or "
    "domain, each with the hosts its access rows name) and take a position of each"
)


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_bulk_table_over_its_rows_is_refused_at_the_row_where_reading_stops(
    tmp_path: Path, quoted: bool
) -> None:
    """41 rows over a bound of 40: the header (line 1) and 40 rows are read, the 41st, on line 42,
    is where reading stops; with a quoted field on line 2 spanning two lines, line 43. The other
    tables are not read: users.csv, undecodable, is not blamed."""
    text = access_rows(41)
    if quoted:
        text = text.replace("pc1", '"p\nc1"', 1)
    folder = estate_with(tmp_path, access=text)
    (folder / "users.csv").write_bytes(b"user\n\xff\n")
    estate, problems = load_estate(folder, limits=SMALL)
    assert estate is None
    line = 43 if quoted else 42
    assert errors(problems) == [
        f"access.csv:{line}: the table has more than 40 rows; reading stopped here ({BULK_HINT})"
    ]


def test_a_bulk_file_over_its_bytes_is_refused_before_any_table_is_read(tmp_path: Path) -> None:
    """4,001 bytes over a bound of 4,000; hosts.csv, which is not UTF-8, is not read."""
    text = access_rows(2)
    text += "#" * (4_001 - len(text.encode()))
    folder = estate_with(tmp_path, access=text)
    (folder / "hosts.csv").write_bytes(b"host\n\xff\n")
    estate, problems = load_estate(folder, limits=SMALL)
    assert estate is None
    assert errors(problems) == [
        f"access.csv: the file holds 0 MiB, over the limit of 0 MiB ({BULK_HINT})"
    ]


def test_a_bad_row_deep_in_a_streamed_file_is_named_by_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 7 rows; 30 rows, a bad date on line 23 and a short row on line 29: each is
    named by its line, and the other 28 rows load."""
    monkeypatch.setattr(stream, "BATCH", 7)
    bad = {23: "vm1,sql-server,alice,pc1,2026-13-05", 29: "vm1,sql-server,alice"}
    folder = estate_with(tmp_path, access=access_rows(30, bad))
    estate, problems = load_estate(folder, limits=SMALL)
    assert estate is None
    assert errors(problems) == [
        "access.csv:23: first_seen '2026-13-05' is not a real date (write the date as YYYY-MM-DD, "
        "e.g. 2026-11-28)",
        "access.csv:29: 3 fields, but the header has 5 (quote a field that holds a comma; every "
        "row needs one field per header column)",
    ]


def test_a_utf16_bulk_file_is_held_to_the_other_tables_bounds(tmp_path: Path) -> None:
    """A UTF-16 access.csv is read whole: 216 bytes (a BOM, 107 characters of 2 bytes) are
    within the bulk bound of 4,000 but over the 100 of the others, so it is refused, saying to
    save it as UTF-8; within 1,000 bytes it loads."""
    folder = estate_with(tmp_path)
    text = access_rows(2)
    (folder / "access.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert len((folder / "access.csv").read_bytes()) == 216
    limits = Limits(rows=5, bytes=100, bulk_rows=40, bulk_bytes=4_000)
    estate, problems = load_estate(folder, limits=limits)
    assert estate is None
    assert errors(problems) == [
        "access.csv: the file holds 0 MiB, over the limit of 0 MiB (a UTF-16 file is read "
        "whole, within 0 MiB; save the file as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)'))"
    ]
    estate, problems = load_estate(folder, limits=Limits(rows=5, bytes=1_000))
    assert estate is not None and len(estate.access) == 2 and problems == []


def test_a_header_field_over_the_csv_limit_is_a_problem_at_line_1_not_a_crash(
    tmp_path: Path,
) -> None:
    # review: the DuckDB path read the header with the csv module outside any ``try``; a header
    # field over the csv reader's limit raised out of the loader, which never raises on input
    data = ("ose," + "h" * (csv.field_size_limit() + 1) + "\nvm1,x\n").encode()
    streamed, problems = read_streamed(tmp_path, data)
    whole, whole_problems = read_csv_bytes(data, "access", "access.csv")
    same(streamed, whole)
    assert problems == whole_problems and [p.source.line for p in problems] == [1]


def test_under_an_address_space_limit_duckdb_is_not_used(tmp_path: Path) -> None:
    # a web job runs under RLIMIT_AS (web/ceiling.py); DuckDB's threads and buffers ignore it and
    # may abort the process, so the bulk path reads such a file with the csv module instead
    # (in a child process: the limit cannot be lifted once set)
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    (tmp_path / "access.csv").write_text(access_rows(30))
    child = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from entitle.estate import stream\n"
        "from entitle.estate.reader import read_estate\n"
        "stream.DUCKDB_ROWS = 0\n"
        "used = []\n"
        "real = stream._coded_columns\n"
        "stream._coded_columns = lambda *a: used.append(1) or real(*a)\n"
        "first, first_problems = read_estate(Path(sys.argv[1]))\n"
        "free = bool(used)\n"
        "used.clear()\n"
        "_, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (16 << 30, hard))\n"
        "raw, problems = read_estate(Path(sys.argv[1]))\n"
        "same = raw.tables['access'].columns == first.tables['access'].columns\n"
        "print(free, bool(used), len(raw.tables['access'].columns[0]), same,"
        " problems == first_problems)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "False", "30", "True", "True"]


@pytest.mark.parametrize(("lines", "by_duckdb"), [(30, False), (31, True)])
def test_duckdb_reads_a_plain_file_from_its_line_count_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: int, by_duckdb: bool
) -> None:
    """Below ``DUCKDB_ROWS`` lines (the header's included) the csv module reads a plain file:
    starting DuckDB costs more than that whole file (the sample's 1,942 access rows: 75 ms of a
    core against 5). Here the bound is 31 lines: 29 rows and a header are read by the csv module,
    30 by DuckDB; the same table either way."""
    monkeypatch.setattr(stream, "DUCKDB_ROWS", 31)
    used: list[int] = []
    real = stream._coded_columns
    monkeypatch.setattr(stream, "_coded_columns", lambda *a: used.append(1) or real(*a))
    data = access_rows(lines - 1).encode()
    streamed, problems = read_streamed(tmp_path, data)
    whole, whole_problems = read_csv_bytes(data, "access", "access.csv")
    same(streamed, whole)
    assert problems == whole_problems == []
    assert bool(used) is by_duckdb
