"""Merging imports into an estate: idempotent, all-or-nothing, loads cleanly, and a folder of
exports goes to `entitle position` in a few commands (the worked example of docs/importers.md)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from exportkit import EXPORTS
from typer.testing import CliRunner

from entitle.catalog import Catalog
from entitle.cli.main import app
from entitle.estate.loader import load_estate
from entitle.importers.merge import merge, read_tables, write_estate
from entitle.importers.result import NewRow
from entitle.source import Problem, Source

runner = CliRunner()
AUGUST = ["--since", "2025-08-01", "--until", "2025-08-31"]


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def import_all(estate: Path) -> None:
    """The worked example: UAL, SIL, AD, RVTools and Hyper-V exports into one estate."""
    run("import", "ual", str(EXPORTS / "ual"), "--into", str(estate), *AUGUST)
    run("import", "sil", str(EXPORTS / "sil"), "--into", str(estate))
    run(
        "import",
        "ad",
        str(EXPORTS / "ad"),
        "--into",
        str(estate),
        "--external-ou",
        "OU=Partners,OU=External,DC=contoso,DC=com",
    )
    run(
        "import", "rvtools", str(EXPORTS / "rvtools" / "RVTools_export.xlsx"), "--into", str(estate)
    )
    run("import", "hyperv", str(EXPORTS / "hyperv"), "--into", str(estate))


def test_from_exports_to_a_position(tmp_path: Path, catalog: Catalog) -> None:
    estate = tmp_path / "estate"
    import_all(estate)
    loaded, problems = load_estate(estate, catalog)
    assert loaded is not None, problems
    # 5 UAL servers (fs01 hv01 sql01 rds01 dc01) + sql02, app01 (SIL) + 4 RVTools VMs
    # + 3 Hyper-V VMs = 14 OSEs; AD adds carol as external, and 5 computers as devices.
    assert len(loaded.oses) == 14
    assert {u.user for u in loaded.users if u.external} == {"contoso\\carol"}
    assert len(loaded.access) == 12
    result = runner.invoke(app, ["position", str(estate), "--json", "--as-of", "2025-09-01"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["lines"] and report["total_cost"] > 0


def test_importing_twice_changes_nothing(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    import_all(estate)
    first = {p.name: p.read_bytes() for p in estate.iterdir()}
    import_all(estate)
    assert {p.name: p.read_bytes() for p in estate.iterdir()} == first


def test_inventory_replaces_a_placeholder_host(tmp_path: Path, catalog: Catalog) -> None:
    """SIL says app01 is a VM on an unknown host (placeholder); a later import that names its
    host moves it there, and the placeholder goes."""
    estate = tmp_path / "estate"
    run("import", "sil", str(EXPORTS / "sil"), "--into", str(estate))
    assert "unknown-host-of-app01" in (estate / "hosts.csv").read_text()
    vms = tmp_path / "vms.csv"
    vms.write_text(
        '"Name","ComputerName","ProcessorCount","State"\r\n"APP01","HV02","4","Running"\r\n',
        encoding="utf-8",
    )
    cpus = EXPORTS / "hyperv" / "Win32_Processor.csv"
    run("import", "hyperv", str(vms), str(cpus), "--into", str(estate))
    hosts = (estate / "hosts.csv").read_text()
    assert "unknown-host-of-app01" not in hosts and "hv02,2,20" in hosts
    assert "app01,hv02,yes,4" in (estate / "oses.csv").read_text()


def test_weak_rows_fill_but_never_overwrite() -> None:
    tables, _ = read_tables(Path("/nonexistent"))
    where = Source("t.csv", 1)
    merge(tables, {"users": (NewRow({"user": "u1", "external": "yes"}, where),)})
    merge(
        tables,
        {"users": (NewRow({"user": "u1", "external": "no", "name": "U One"}, where, weak=True),)},
    )
    assert tables["users"].rows[("u1",)] == {"user": "u1", "external": "yes", "name": "U One"}


def test_access_dates_widen() -> None:
    tables: dict = {}
    where = Source("t.csv", 1)
    software = NewRow(
        {"ose": "s1", "product": "windows-server", "edition": "standard", "version": "2022"}, where
    )
    row = {"ose": "s1", "product": "windows-server", "user": "u1", "device": ""}
    merge(
        tables,
        {
            "software": (software,),
            "access": (
                NewRow({**row, "first_seen": "2025-08-04", "last_seen": "2025-08-09"}, where),
            ),
        },
    )
    merge(
        tables,
        {
            "access": (
                NewRow({**row, "first_seen": "2025-08-01", "last_seen": "2025-08-05"}, where),
            )
        },
    )
    (cells,) = tables["access"].rows.values()
    assert (cells["first_seen"], cells["last_seen"]) == ("2025-08-01", "2025-08-09")


def test_access_to_a_product_not_installed_is_left_out(catalog: Catalog) -> None:
    tables: dict = {}
    where = Source("ual.csv", 7)
    _, report = merge(
        tables, {"access": (NewRow({"ose": "s1", "product": "sql-server", "user": "u1"}, where),)}
    )
    assert "access" not in tables or not tables["access"].rows
    ((reason, count),) = report.dropped.items()
    assert count == 1 and "no sql-server in software.csv" in reason
    assert report.examples[reason] == [where]


def test_an_estate_that_would_not_load_is_not_written(tmp_path: Path, catalog: Catalog) -> None:
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "hosts.csv").write_text("host,processors,cores_per_processor\nh1,2,8\n")
    tables, _ = read_tables(estate)
    where = Source("x.csv", 3)
    merge(tables, {"oses": (NewRow({"ose": "o1", "host": "nowhere", "virtual": "no"}, where),)})
    problems = write_estate(estate, {"oses": tables["oses"]}, catalog)
    assert any("nowhere" in p.message for p in problems)
    assert sorted(p.name for p in estate.iterdir()) == ["hosts.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["estate"]  # no staging left behind


def test_a_bulk_table_is_written_beside_the_check_and_a_failure_writes_nothing(
    tmp_path: Path, catalog: Catalog
) -> None:
    """write_estate runs a bulk writer (access.csv from DuckDB) in a thread while the loader
    checks the other tables: its problems are returned after the loader's, and what it raises
    is raised in the caller, with the estate as it was and no staging folder left behind."""
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "hosts.csv").write_text("host,processors,cores_per_processor\nh1,2,8\n")
    tables, _ = read_tables(estate)
    oses = (NewRow({"ose": "o1", "host": "h1", "virtual": "no"}, Source("x.csv", 2)),)
    merge(tables, {"oses": oses})
    header = "ose,product,user,device,level,purpose,first_seen,last_seen\n"
    warning = Problem(Source("evidence.csv"), "a warning of the bulk writer", severity="warning")

    def write(path: Path) -> list[Problem]:
        path.write_text(header, encoding="utf-8")
        return [warning]

    problems = write_estate(estate, {"oses": tables["oses"]}, catalog, {"access": write})
    assert problems == [warning]
    assert (estate / "access.csv").read_text(encoding="utf-8") == header
    assert sorted(p.name for p in estate.iterdir()) == ["access.csv", "hosts.csv", "oses.csv"]

    def fail(path: Path) -> list[Problem]:
        path.write_text("ose,prod", encoding="utf-8")  # half a file, then the disk is full
        raise OSError(28, "No space left on device")

    before = {p.name: p.read_bytes() for p in estate.iterdir()}
    with pytest.raises(OSError, match="No space left"):
        write_estate(estate, {"oses": tables["oses"]}, catalog, {"access": fail})
    assert {p.name: p.read_bytes() for p in estate.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["estate"]  # no staging left behind


def test_importers_import_nothing_above_them() -> None:
    """The importers package may import entitle.source, catalog and estate only (style.md)."""
    allowed = (
        "entitle.source",
        "entitle.faults",  # named fault points of the write paths (tests/faults)
        "entitle.text",  # the byte-order-mark detector it shares with the estate reader
        "entitle.catalog",
        "entitle.estate",
        "entitle.importers",
    )
    package = Path(__file__).resolve().parents[2] / "src" / "entitle" / "importers"
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                if name.startswith("entitle"):
                    assert name.startswith(allowed), f"{module.name} imports {name}"


def test_the_summary_as_json(tmp_path: Path) -> None:
    """ad/users.csv: 9 rows, 2 disabled → 7 users; computers.csv: 6 rows, 1 disabled → 5."""
    data = json.loads(
        run("import", "ad", str(EXPORTS / "ad"), "--into", str(tmp_path / "e"), "--json")
    )
    assert data["written"]["users"] == {"added": 7, "updated": 0}
    assert data["written"]["devices"] == {"added": 5, "updated": 0}
    (disabled,) = data["skipped"]
    assert (disabled["reason"], disabled["count"]) == ("disabled account", 3)
