"""The loader's column-wise fast path reads exactly what the row-by-row path reads.

A CSV file without quotes whose rows all have as many fields as the header is read and converted
column by column (``raw.even_table``, ``columns.convert_table``, for every table); any other
file, and any row whose cells are not what a clean estate holds, goes row by row. These tests give both paths
the same rows and compare the tables, records and problems (messages, sources and order).
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entitle.estate import rowwise
from entitle.estate.convert import Cells, Table, convert
from entitle.estate.reader import RawTable, read_csv_bytes
from entitle.source import Problem
from tiers import examples

FUZZ = settings(
    max_examples=examples(75, 300), deadline=None, suppress_health_check=list(HealthCheck)
)

CELLS = st.one_of(
    st.sampled_from(["", " ", "  pc1 ", "\u00a0u1", "vm1", "alice", "SQL-Server", "sql-server"]),
    st.sampled_from(["enterprise", "Admin", "use", "x", "2026-02-30", "2026-01-05", "2025-12-31"]),
    st.sampled_from(["system-center", "windows-server", "Standard", "2026-1-5", "laptop"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"\x00'), max_size=6),
)
ACCESS = ["ose", "product", "user", "device", "level", "purpose", "first_seen", "last_seen"]
HEADERS = st.sampled_from(
    [
        ACCESS,
        ACCESS + ["note"],
        ["device", "kind", "os"],
        ["device", "Kind", "", "device"],
        ["product", "ose", "device", "user"],
        ["product", "ose", "device", "user", "owner"],
    ]
)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def same_table(a: RawTable | None, b: RawTable | None) -> None:
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert (a.header, a.header_source, a.columns, a.sources) == (
            b.header,
            b.header_source,
            b.columns,
            b.sources,
        )


ROWS = st.lists(
    st.tuples(st.lists(CELLS, min_size=10, max_size=10), st.sampled_from([0, 0, 0, 0, 0, -1, 1])),
    max_size=8,
)


@FUZZ
@given(header=HEADERS, rows=ROWS)
def test_the_column_wise_reader_reads_what_the_row_by_row_reader_reads(
    header: list[str], rows: list[tuple[list[str], int]]
) -> None:
    """A last row holding one quoted empty field is blank (skipped, after every other line) and
    its quote sends the file down the row-by-row path. Most rows have one field per column."""
    text = csv_text(header, [cells[: len(header) + more] for cells, more in rows])
    if '"' in text:
        return  # quoted cells (a comma or line break in one) always go row by row
    fast, fast_problems = read_csv_bytes(text.encode(), "access", "access.csv")
    slow, slow_problems = read_csv_bytes((text + '""\n').encode(), "access", "access.csv")
    same_table(fast, slow)
    assert fast_problems == slow_problems


# Per column, what a clean estate holds and what it must not; any cell now and then.
WORDS = {
    "ose": ["vm1", "", " vm2"],
    "product": ["sql-server", "SQL-Server", "", "system-center"],
    "level": ["", "", "enterprise", "Standard", "x"],
    "purpose": ["", "", "use", "Admin", "x"],
    "first_seen": ["", "2026-01-05", "2026-01-05", "2026-02-30"],
    "last_seen": ["", "2025-12-31", "2026-01-05", "2026-1-5"],
    "device": ["", "pc1", " lt1"],
    # hosts: a blank, a bound and a bad number in each count; provider and dedicated (format
    # version 2) with each combination of a provider's shared host and one's own
    "host": ["h1", "h2", "", "H1", "h1"],
    "processors": ["2", "", "", "1", "0", "4096", "4097", "2.5", "-1"],
    "cores_per_processor": ["8", "", "", "4096", "0", "4097", "x"],
    "provider": ["", "azure", "AWS", "outsourcer", "ibm"],
    "dedicated": ["", "yes", "no", "No", "maybe"],
    # the other tables: each rule across cells, and each type, good and bad
    "virtual": ["yes", "no", "", "maybe", "TRUE"],
    "vcpus": ["4", "", "0", "4097", "2.5"],
    "hosts": ["", "h1", "h1; h2;h1", ";"],
    "replaces": ["", "vm1", "vm2"],
    "kind": ["", "container", "Hyperv-Container", "pod"],
    "runs_in": ["", "vm1", "vm3"],
    "environment": ["", "dev-test", "Production", "qa"],
    "version": ["2022", "", "2019"],
    "edition": ["", "standard", "Datacenter"],
    "model": ["", "per-core", "BYOL", "free"],
    "passive_for": ["", "vm1", "vm2"],
    "esu": ["", "yes", "no", "x"],
    "subscriptions": ["", "Microsoft-365-E3", "a; b;a", ";"],
    "external": ["", "yes", "0", "?"],
    "license": ["core", "", "User-CAL", "box"],
    "quantity": ["16", "", "0", "-1", "1e3", "1000000001"],
    "sa_until": ["", "2027-06-30", "2027-02-30"],
    "unit_price": ["", "5", "5.50", "-1", "x"],
    "price": ["5", "", ".5", "1e2"],
    "from": ["2026-01-05", "", "2026-13-01"],
    "until": ["", "2026-01-04", "2026-02-01"],
}


TABLE_HEADERS = st.sampled_from(
    [
        ("hosts", ["host", "processors", "cores_per_processor"]),
        ("hosts", ["host", "processors", "cores_per_processor", "provider", "dedicated"]),
        ("hosts", ["Host", "provider", "processors", "cores_per_processor", "cpu_model", "rack"]),
        ("hosts", ["host", "processors", "cores_per_processor", "cluster", "dedicated"]),
        ("access", ACCESS),
        ("access", ["Note", *ACCESS]),
        ("devices", ["device", "kind", "os"]),
        ("devices", ["device", "Kind", "", "device"]),
        ("managed", ["product", "ose", "device", "user"]),
        ("managed", ["product", "ose", "device", "user", "owner"]),
        ("oses", ["ose", "host", "virtual", "vcpus", "hosts", "replaces", "kind", "runs_in"]),
        ("oses", ["ose", "host", "virtual", "environment", "hosting_only", "front_end"]),
        ("software", ["ose", "product", "edition", "version", "model", "passive_for", "esu"]),
        ("users", ["user", "external", "name", "subscriptions", "note"]),
        ("entitlements", ["id", "product", "license", "quantity", "sa_until", "unit_price"]),
        ("prices", ["product", "license", "edition", "price", "currency"]),
        ("placements", ["ose", "host", "from", "until"]),
    ]
)


def cell(column: str) -> st.SearchStrategy[str]:
    words = st.sampled_from(WORDS.get(column, ["", "u1"]))
    return st.one_of(words, words, words, CELLS)


@FUZZ
@given(table_header=TABLE_HEADERS, data=st.data())
def test_fast_converters_make_the_records_and_problems_of_the_row_converters(
    table_header: tuple[str, list[str]], data: st.DataObject
) -> None:
    table, header = table_header
    row = st.tuples(*(cell(column) for column in header)).map(list)
    text = csv_text(header, data.draw(st.lists(row, max_size=8)))
    raw, _ = read_csv_bytes(text.encode(), table, f"{table}.csv")
    if raw is None:
        return
    columns = Table(raw)
    fast_problems: list[Problem] = []
    slow_problems: list[Problem] = []
    fast = convert(columns, fast_problems)
    slow = convert(list(columns), slow_problems)  # plain rows: one converter call per row
    assert fast == slow
    assert [r.extra for r in fast] == [r.extra for r in slow]
    assert fast_problems == slow_problems


def test_each_reason_to_leave_a_row_to_its_converter() -> None:
    """One row per way an access row can be bad, between good rows: the fast path builds the good
    ones and the converter reports each bad one, as row by row."""
    text = (
        "ose,product,user,device,level,purpose,first_seen,last_seen\n"
        "vm1,SQL-Server,alice,pc1,,,2026-01-05,2026-01-06\n"
        ",sql-server,alice,,,,,\n"  # no ose
        "vm1,,alice,,,,,\n"  # no product
        "vm1,sql-server,alice,,gold,,,\n"  # a level that is no level
        "vm1,sql-server,alice,,,read,,\n"  # a purpose that is no purpose
        "vm1,sql-server,alice,,,,2026-02-30,\n"  # no such day
        "vm1,sql-server,alice,,,,,5 Jan 2026\n"  # not a date
        "vm1,sql-server,alice,,,,2026-01-05,2025-12-31\n"  # last seen before first seen
        "vm1,sql-server,,pc1,Enterprise,Admin,,2026-01-05\n"
    )
    raw, problems = read_csv_bytes(text.encode(), "access", "access.csv")
    assert raw is not None and problems == []
    fast_problems: list[Problem] = []
    slow_problems: list[Problem] = []
    fast = convert(Table(raw), fast_problems)
    assert fast == convert(list(Table(raw)), slow_problems)
    assert fast_problems == slow_problems
    assert [(a.level, a.purpose, str(a.source)) for a in fast] == [
        ("standard", "use", "access.csv:2"),
        ("enterprise", "admin", "access.csv:10"),
    ]
    assert [str(p.source) for p in fast_problems] == [f"access.csv:{n}" for n in range(3, 10)]


CLEAN = {
    "hosts": "host,processors,cores_per_processor,cluster,provider,dedicated\nh1,2,8,c1,,\n"
    "h2,,,,azure,no\nh3,1,4,,aws,yes\nh4,2,16,c1,,no\n",
    "oses": "ose,host,virtual,vcpus,hosts,kind,runs_in\nvm1,h1,yes,4,h1;h2,,\nc1,h1,yes,2,,Container,vm1\n",
    "software": "ose,product,edition,version,passive_for\nvm1,SQL-Server,Standard,2022,\nvm2,sql-server,standard,2022,vm1\n",
    "users": "user,external,subscriptions\nu1,yes,Microsoft-365-E3;office-365-e3\nu2,,\n",
    "devices": "device,kind,os\npc1,Laptop,\n",
    "access": "ose,product,user,first_seen,last_seen\nvm1,sql-server,u1,2026-01-05,2026-01-06\n",
    "managed": "product,ose,device\nsystem-center,vm1,\nconfiguration-manager,,pc1\n",
    "entitlements": "id,product,license,quantity,unit_price,sa_until\nE1,sql-server,Core,16,5.50,2027-06-30\n",
    "prices": "product,license,edition,price\nsql-server,core,standard,5\n",
    "placements": "ose,host,from,until\nvm1,h1,2026-01-05,2026-01-06\nvm1,h2,2026-01-06,\n",
}


@pytest.mark.parametrize("table", sorted(CLEAN))
def test_a_clean_table_is_converted_without_its_row_converter(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table has the column-wise path: on clean rows no row converter runs, and
    the records are those the row converters make."""
    raw, problems = read_csv_bytes(CLEAN[table].encode(), table, f"{table}.csv")
    assert raw is not None and problems == []
    slow_problems: list[Problem] = []
    slow = convert(list(Table(raw)), slow_problems)
    calls: list[str] = []
    converter = rowwise.CONVERTERS[table]

    def counting(cells: Cells) -> object:
        calls.append(table)
        return converter(cells)

    monkeypatch.setitem(rowwise.CONVERTERS, table, counting)
    fast_problems: list[Problem] = []
    fast = convert(Table(raw), fast_problems)
    assert calls == [] and fast_problems == slow_problems == []
    assert fast == slow and len(fast) == CLEAN[table].count("\n") - 1
