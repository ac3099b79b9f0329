"""Hosts go the column-wise path too (issue #18, item 1), with the records and the problems of the
row-by-row path.

A host's processors and cores are required but on a provider's shared host (provider set,
dedicated no: estate format version 2, docs/estate-format.md "hosts"), so the column-wise path
reads them as optional and ``rowwise._host`` says which blanks are wrong; every row it refuses
is reported by ``rowwise.to_host``, as row by row. These tests give both paths every combination
of the cells that decide it, and check the problems the loader reports keep their FILE:LINE.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from entitle.estate import checks, rowwise
from entitle.estate.convert import Cells, Table, convert
from entitle.estate.loader import load_estate
from entitle.estate.reader import read_csv_bytes
from entitle.estate.schema import SCHEMA
from entitle.source import Problem

# Each cell that decides whether a host row is good: blanks, the bounds 1 and MAX_CORES (4096)
# and one past each, numbers that are no whole numbers, and each provider/dedicated combination.
COUNTS = ["2", "", "1", "4096", "0", "4097", "2.5", "x", "-1", "99999999999999999999"]
PROVIDERS = ["", "azure", "AWS", "outsourcer", "ibm"]
DEDICATED = ["", "yes", "no", "TRUE", "maybe"]
HEADER = "host,processors,cores_per_processor,provider,dedicated,cpu_model,cluster,rack\n"


def every_combination() -> str:
    """One row per combination of processors, cores, provider and dedicated (2,500 rows), with
    a blank host every 7th row and the extra column ``rack`` on some."""
    lines = [HEADER]
    combos = itertools.product(COUNTS, COUNTS, PROVIDERS, DEDICATED)
    for i, (processors, cores, provider, dedicated) in enumerate(combos):
        host = "" if i % 7 == 3 else f"h{i}"
        rack = "B4" if i % 5 == 0 else ""
        lines.append(f"{host},{processors},{cores},{provider},{dedicated},Xeon,c{i % 3},{rack}\n")
    return "".join(lines)


def both_paths(text: str) -> tuple[list[object], list[Problem], list[object], list[Problem]]:
    raw, problems = read_csv_bytes(text.encode(), "hosts", "hosts.csv")
    assert raw is not None and problems == []
    fast_problems: list[Problem] = []
    slow_problems: list[Problem] = []
    fast = convert(Table(raw), fast_problems)
    slow = convert(list(Table(raw)), slow_problems)  # plain rows: to_host on every row
    return fast, fast_problems, slow, slow_problems


def test_every_combination_of_the_deciding_cells_gives_the_row_paths_records_and_problems() -> None:
    fast, fast_problems, slow, slow_problems = both_paths(every_combination())
    assert fast == slow
    assert [h.extra for h in fast] == [h.extra for h in slow]  # type: ignore[attr-defined]
    assert fast_problems == slow_problems
    # Not vacuous: both good rows and each kind of refusal are among them. Good: both counts in
    # 1..4096 ("2", "1", "4096": 3 x 3) with a provider or none, or both blank on a shared host.
    messages = {p.message for p in slow_problems}
    assert "dedicated is yes but provider is blank" in messages
    assert "processors is blank" in messages and "cores_per_processor is blank" in messages
    assert any("too large (at most 4,096)" in m for m in messages)
    assert any(h.processors is None for h in fast)  # type: ignore[attr-defined]
    assert len(fast) > 100 and len(slow_problems) > 1000


def test_a_shared_host_may_leave_both_counts_blank_and_no_other_host_may() -> None:
    """The rule (docs/estate-format.md, hosts: processors and cores "may be blank on a provider's
    shared host (provider set, dedicated no)"), row by row and column by column alike."""
    text = (
        "host,processors,cores_per_processor,provider,dedicated\n"
        "h1,,,azure,\n"  # shared: good, no counts
        "h2,,,azure,no\n"  # shared: good
        "h3,,,azure,yes\n"  # dedicated: counts required
        "h4,,,,\n"  # own server: counts required
        "h5,2,,aws,no\n"  # shared, one count only
        "h6,2,8,,yes\n"  # dedicated with no provider
        "h7,2,8,outsourcer,yes\n"  # good
    )
    fast, fast_problems, slow, slow_problems = both_paths(text)
    assert fast == slow and fast_problems == slow_problems
    assert [(h.host, h.processors, h.cores_per_processor) for h in fast] == [  # type: ignore[attr-defined]
        ("h1", None, None),
        ("h2", None, None),
        ("h7", 2, 8),
    ]
    assert [str(p.source) + ": " + p.message for p in fast_problems] == [
        "hosts.csv:4: processors is blank",
        "hosts.csv:4: cores_per_processor is blank",
        "hosts.csv:5: processors is blank",
        "hosts.csv:5: cores_per_processor is blank",
        "hosts.csv:6: cores_per_processor is blank",
        "hosts.csv:7: dedicated is yes but provider is blank",
    ]


def test_a_clean_hosts_table_runs_no_row_converter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the change: 2,000 good hosts (own and shared) are built column by column."""
    rows = [
        f"h{i},{'' if i % 4 == 0 else 2},{'' if i % 4 == 0 else 8},azure,\n" for i in range(2000)
    ]
    raw, _ = read_csv_bytes(
        ("host,processors,cores_per_processor,provider,dedicated\n" + "".join(rows)).encode(),
        "hosts",
        "hosts.csv",
    )
    assert raw is not None
    calls: list[int] = []
    converter = rowwise.CONVERTERS["hosts"]

    def counting(cells: Cells) -> object:
        calls.append(1)
        return converter(cells)

    monkeypatch.setitem(rowwise.CONVERTERS, "hosts", counting)
    problems: list[Problem] = []
    hosts = convert(Table(raw), problems)
    assert calls == [] and problems == [] and len(hosts) == 2000


def test_every_required_column_with_an_exception_has_a_rule_reading_it() -> None:
    """The column-wise path reads a required column with ``when`` as optional: the table's rule
    must then be the one refusing its blanks, or a blank would pass."""
    for spec in SCHEMA:
        for column in spec.columns:
            if column.required and column.when:
                assert column.attribute in rowwise.RULES[spec.name].columns, (spec.name, column)


def test_duplicate_and_blank_host_ids_are_reported_alike_from_columns_and_rows() -> None:
    text = "host,processors,cores_per_processor\nh1,2,8\nh2,2,8\nh1,2,8\n,2,8\nH2,1,1\nh1,4,4\n"
    raw, _ = read_csv_bytes(text.encode(), "hosts", "hosts.csv")
    assert raw is not None
    by_columns: list[Problem] = []
    by_rows: list[Problem] = []
    ids = checks.defined_ids(Table(raw), "hosts", by_columns)
    assert ids == checks.defined_ids(list(Table(raw)), "hosts", by_rows)
    assert by_columns == by_rows
    assert [str(p.source) for p in by_columns] == ["hosts.csv:4", "hosts.csv:6", "hosts.csv:7"]
    assert by_columns[0].message == "host 'h1' is defined twice (first at hosts.csv:2)"


def test_the_loader_reports_bad_hosts_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "estate"
    folder.mkdir()
    (folder / "hosts.csv").write_text(
        "host,processors,cores_per_processor,provider,dedicated\n"
        "h1,2,8,,\n"
        "h2,4097,8,,\n"
        "h3,,,azure,yes\n"
        "h1,2,8,,\n"
        "h4,,,aws,\n",
        encoding="utf-8",
    )
    estate, problems = load_estate(folder)
    assert estate is None
    assert [str(p) for p in problems] == [
        "hosts.csv:3: processors 4097 is too large (at most 4,096) (check the cell: no estate "
        "has that many; a typo or a pasted id?)",
        "hosts.csv:4: processors is blank (write a whole number of at least 1, e.g. 2)",
        "hosts.csv:4: cores_per_processor is blank (write a whole number of at least 1, e.g. 2)",
        "hosts.csv:5: host 'h1' is defined twice (first at hosts.csv:2) (give each host its own "
        "id, or delete the repeated row)",
    ]


def test_the_oses_on_shared_hosts_are_checked_alike_from_columns_and_rows() -> None:
    """docs/estate-format.md, hosts: on a provider's shared host every OSE is a VM that gives its
    vcpus. The check reads the columns; given plain rows it must say the same."""
    hosts, _ = read_csv_bytes(
        b"host,processors,cores_per_processor,provider,dedicated\n"
        b"az1,,,azure,\nown,2,8,,\naz2,2,8,aws,yes\n",
        "hosts",
        "hosts.csv",
    )
    oses, _ = read_csv_bytes(
        b"ose,host,virtual,vcpus\nvm1,az1,yes,4\nvm2,az1,yes,\np1,az1,no,\n"
        b"p2,own,no,\nvm3,az2,yes,\n",
        "oses",
        "oses.csv",
    )
    assert hosts is not None and oses is not None
    by_columns: list[Problem] = []
    by_rows: list[Problem] = []
    checks.check_shared_hosts({"hosts": Table(hosts), "oses": Table(oses)}, by_columns)
    tables = {"hosts": list(Table(hosts)), "oses": list(Table(oses))}
    checks.check_shared_hosts(tables, by_rows)
    assert by_columns == by_rows
    assert [f"{p.source}: {p.message}" for p in by_columns] == [
        "oses.csv:3: vcpus is blank for vm2 on az1, a provider's shared host",
        "oses.csv:4: p1 is a physical OSE on az1, a provider's shared host",
    ]
