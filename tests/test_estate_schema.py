"""One description per estate table (entitle.estate.schema), and everything that knows the tables
agrees with it: the documentation, the record classes, the row converters, the writers, the
importers' merge and the what-if changes."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from typing import get_args

import pytest

from entitle.catalog import default_catalog
from entitle.estate import records
from entitle.estate.cells import Cells, Row
from entitle.estate.loader import load_estate
from entitle.estate.rowwise import CONVERTERS
from entitle.estate.schema import FINDINGS, SCHEMA, SPEC_COLUMNS, TABLE, TABLES, TableSpec
from entitle.importers.merge import merge
from entitle.importers.result import NewRow
from entitle.source import Problem, Source
from entitle.whatif.apply import apply_changes
from entitle.whatif.changes import TARGETS, parse_changes

DOCS = Path(__file__).resolve().parents[1] / "docs" / "estate-format.md"
ROW = re.compile(r"^\|\s*(`[^|]+`)\s*\|([^|]*)\|([^|]*)\|")


def documented(table: str) -> dict[str, tuple[str, str]]:
    """The columns docs/estate-format.md gives under ``### TABLE.csv``: name -> (req., type)."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"### {table}.csv")
    end = text.find("\n#", start + 4)
    out: dict[str, tuple[str, str]] = {}
    for line in text[start : end if end > 0 else None].splitlines():
        found = ROW.match(line)
        if found:
            for name in re.findall(r"`([^`]+)`", found.group(1)):
                out[name] = (found.group(2).strip(), found.group(3).strip())
    return out


def test_the_schema_names_every_table_of_the_estate_record() -> None:
    assert tuple(f.name for f in fields(records.Estate))[: len(TABLES)] == TABLES
    assert set(records.RECORDS) == set(TABLES)


@pytest.mark.parametrize("spec", [*SCHEMA, FINDINGS], ids=lambda s: s.name)
def test_the_docs_give_each_table_the_schemas_columns(spec: TableSpec) -> None:
    docs = documented(spec.name)
    assert tuple(docs) == spec.names  # in the order entitle writes them
    heading = next(h for h in DOCS.read_text().splitlines() if h.startswith(f"### {spec.file}"))
    assert ("(version 2)" in heading) == (spec.origin == "v2")
    for column in spec.columns:
        req, kind = docs[column.name]
        assert bool(req) == (column.required or bool(column.when)), column.name
        assert (req == "yes") == (column.required and not column.when), column.name
        v2_values = (spec.name, column.name) == ("software", "model")  # provider, byol
        assert ("(v2)" in kind) == (column.origin == "v2" or v2_values), column.name
        assert ("(entitle adds)" in kind) == (column.origin == "entitle"), column.name
        if column.type == "whole":
            assert f"{column.minimum}–{column.maximum:,}" in kind, column.name
        if column.type == "choice" and column.name != "license":
            assert all(f"`{choice}`" in kind for choice in column.choices), column.name
        if column.default:
            assert "default" in kind, column.name
        if spec.id == column.name:
            assert kind.startswith("id, unique"), column.name
        for table in column.refs:
            assert TABLE[table].noun.split()[0].lower() in kind.lower(), (column.name, table)


def test_record_classes_hold_the_schemas_columns() -> None:
    for spec in SCHEMA:
        held = {f.name for f in fields(records.RECORDS[spec.name])} - {"source", "extra"}
        assert held == {column.attribute for column in spec.columns}, spec.name


def test_the_records_word_types_allow_what_the_schema_allows() -> None:
    pairs = [
        (records.Provider, "hosts", "provider"),
        (records.Environment, "oses", "environment"),
        (records.OseKind, "oses", "kind"),
        (records.Model, "software", "model"),
        (records.Level, "access", "level"),
        (records.Purpose, "access", "purpose"),
    ]
    for literal, table, column in pairs:
        assert get_args(literal) == TABLE[table].by_name[column].choices, column


class Reads(Mapping[str, str]):
    """Cells that are all blank and remember which columns were looked at."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def get(self, key: str, default: object = None) -> str:  # type: ignore[override]
        self.read.append(key)
        return ""

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.mark.parametrize("table", TABLES)
def test_each_converter_reads_exactly_its_tables_columns(table: str) -> None:
    cells = Reads()
    problems: list[Problem] = []
    assert CONVERTERS[table](Cells(Row(table, cells, Source(f"{table}.csv", 2)), problems)) is None
    assert set(cells.read) == set(SPEC_COLUMNS[table])
    blank = {p.message for p in problems}
    assert {f"{c} is blank" for c in TABLE[table].required} <= blank


# One valid row per table, by hand from docs/estate-format.md.
VALID = {
    "hosts": {"host": "h1", "processors": "2", "cores_per_processor": "8"},
    "oses": {"ose": "vm1", "host": "h1", "virtual": "yes", "vcpus": "4"},
    "software": {
        "ose": "vm1",
        "product": "windows-server",
        "edition": "standard",
        "version": "2022",
    },
    "users": {"user": "u1", "subscriptions": "microsoft-365-e3"},
    "devices": {"device": "pc1"},
    "access": {"ose": "vm1", "product": "windows-server", "user": "u1", "device": "pc1"},
    "managed": {"product": "system-center", "ose": "vm1"},
    "entitlements": {"product": "windows-server", "license": "core", "quantity": "16"},
    "prices": {"product": "windows-server", "license": "core", "edition": "standard", "price": "5"},
    "placements": {"ose": "vm1", "host": "h1", "from": "2026-09-01"},
}


def test_the_merge_takes_every_table_and_writes_every_column() -> None:
    incoming = {t: [NewRow(cells, Source("export.csv", 2))] for t, cells in VALID.items()}
    tables, report = merge({}, incoming)
    assert set(tables) == set(TABLES) == report.touched
    for name, table in tables.items():
        assert tuple(table.header) == SPEC_COLUMNS[name]
        assert list(table.rows.values()) == [VALID[name]]
    again, report = merge(tables, incoming)  # the same rows again change nothing
    assert sum(report.added.values()) == sum(report.updated.values()) == 0
    assert all(len(table.rows) == 1 for table in again.values())


def test_an_entitlement_without_an_id_is_one_row_however_often_imported() -> None:
    row = NewRow(VALID["entitlements"], Source("export.csv", 2))
    other = NewRow({**VALID["entitlements"], "quantity": "8"}, Source("export.csv", 3))
    tables, _ = merge({}, {"entitlements": [row, row, other]})
    assert [cells["quantity"] for cells in tables["entitlements"].rows.values()] == ["16", "8"]


def test_what_if_names_every_table() -> None:
    targets = {spec.target for spec in SCHEMA}
    assert len(targets) == len(TABLES)
    for verb in ("add", "set", "remove"):
        assert targets <= set(TARGETS[verb])


@pytest.fixture()
def estate(tmp_path: Path) -> records.Estate:
    for name, cells in VALID.items():
        header = ",".join(cells)
        (tmp_path / f"{name}.csv").write_text(header + "\n" + ",".join(cells.values()) + "\n")
    loaded, problems = load_estate(tmp_path)
    assert loaded is not None, problems
    return loaded


def test_what_if_adds_and_removes_a_placement_and_gives_new_users_subscriptions(
    estate: records.Estate,
) -> None:
    changes, problems = parse_changes(
        "- add: placement\n  ose: vm1\n  host: h1\n  from: 2026-06-01\n  until: 2026-08-31\n"
        "- remove: placement\n  ose: vm1\n  host: h1\n  from: 2026-09-01\n"
        "- add: users\n  count: 2\n  like: u1\n  subscriptions: office-365-e3\n"
    )
    assert problems == []
    after, problems = apply_changes(estate, changes, default_catalog())
    assert after is not None, problems
    assert [(p.since.isoformat(), str(p.until)) for p in after.placements] == [
        ("2026-06-01", "2026-08-31")
    ]
    assert [u.subscriptions for u in after.users] == [
        ("microsoft-365-e3",),
        ("office-365-e3",),
        ("office-365-e3",),
    ]


def test_removing_an_ose_takes_what_cannot_do_without_it(estate: records.Estate) -> None:
    changes, _ = parse_changes("- remove: vm\n  ose: vm1\n")
    after, problems = apply_changes(estate, changes, default_catalog())
    assert after is not None, problems
    gone = ("oses", "software", "access", "managed", "placements")
    assert all(getattr(after, table) == () for table in gone)
    assert len(after.hosts) == len(after.users) == len(after.devices) == 1
    assert len(after.entitlements) == len(after.prices) == 1
