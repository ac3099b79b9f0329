"""Malformed exports give a clear FILE:LINE problem or a finding, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from exportkit import AUGUST, EXPORTS, rows, write_export
from typer.testing import CliRunner

from entitle.catalog import Catalog
from entitle.cli.main import app
from entitle.importers.ad import import_ad
from entitle.importers.exports import HEAD_BYTES
from entitle.importers.rvtools import import_rvtools
from entitle.importers.sil import import_sil
from entitle.importers.ual import import_ual

FS01 = EXPORTS / "ual" / "fs01"
DAILY = [
    "AccessCount",
    "AccessDate",
    "IPAddress",
    "ProductName",
    "RoleGuid",
    "RoleName",
    "UserName",
    "PSComputerName",
]
FILE_SERVER = "10a9226f-50ee-49d8-a393-9a501d47ce04"


def daily(day: str, user: str = "CONTOSO\\alice") -> list[str]:
    return [
        "1",
        day,
        "10.1.20.31",
        "Windows Server 2019 Datacenter",
        FILE_SERVER,
        "File Server",
        user,
        "FS01",
    ]


def test_activity_count_in_a_daily_export_is_named(catalog: Catalog, tmp_path: Path) -> None:
    header = [("ActivityCount" if c == "AccessCount" else c) for c in DAILY]
    path = write_export(
        tmp_path / "daily.csv",
        header,
        [daily("8/4/2025 12:00:00 AM")],
        type_line="Microsoft.Management.Infrastructure.CimInstance#root/"
        "AccessLogging/MsftUal_DailyAccess",
    )
    result = import_ual([path], catalog, AUGUST)
    assert not result.ok
    problem = result.problems[0]
    assert (problem.source.file, problem.source.line) == (str(path), 2)
    assert "without column AccessCount" in problem.message
    assert "ActivityCount belongs to Get-UalUserAccess" in problem.hint


def test_missing_columns(catalog: Catalog, tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "users.csv",
        ["UserName", "RoleGuid", "ActivityCount"],
        [["CONTOSO\\alice", FILE_SERVER, "3"]],
        type_line="Microsoft.Management.Infrastructure.CimInstance#root/"
        "AccessLogging/MsftUal_UserAccess",
    )
    result = import_ual([path], catalog, AUGUST)
    assert not result.ok
    assert "FirstSeen, LastSeen" in result.problems[0].message


def test_a_truncated_export(catalog: Catalog, tmp_path: Path) -> None:
    """The copy stops inside the quoted ProductName of the last row (line 11)."""
    text = (FS01 / "DailyAccess.csv").read_text(encoding="utf-8")
    folder = tmp_path / "fs01"
    shutil.copytree(FS01, folder)
    (folder / "DailyAccess.csv").write_text(
        text[: text.rindex("Windows Server 2019") + 7], encoding="utf-8", newline=""
    )
    result = import_ual(sorted(folder.glob("*.csv")), catalog, AUGUST)
    assert not result.ok
    problem = result.problems[0]
    assert (Path(problem.source.file).name, problem.source.line) == ("DailyAccess.csv", 11)
    assert "truncated" in problem.message


def test_a_row_cut_short_in_a_large_file_is_skipped_with_its_line(
    catalog: Catalog, tmp_path: Path
) -> None:
    """In a file larger than the head read in Python, DuckDB rejects the short row and the
    import goes on: 3,000 good rows (one tuple) and line 3,002 reported."""
    good = [daily("8/4/2025 12:00:00 AM") for _ in range(3000)]
    path = write_export(tmp_path / "daily.csv", DAILY, good)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write('"1","8/5/2025 12:00:00 AM","10.1.20.31"\r\n')
    assert path.stat().st_size > HEAD_BYTES
    result = import_ual([path], catalog, AUGUST, server="fs01")
    assert result.ok, result.problems
    assert len(rows(result, "access")) == 1
    reasons = [s for s in result.skipped if s.reason.startswith("malformed row")]
    assert reasons and reasons[0].examples[0].line == 3002


def test_a_wrong_delimiter(catalog: Catalog, tmp_path: Path) -> None:
    path = write_export(tmp_path / "daily.csv", DAILY, [daily("2025-08-04")], delimiter="|")
    result = import_ual([path], catalog, AUGUST)
    assert not result.ok
    assert "separated" in result.problems[0].hint


def test_a_semicolon_export_is_read(catalog: Catalog, tmp_path: Path) -> None:
    """Export-Csv -UseCulture in a de-DE session separates with ';' and writes dotted dates."""
    path = write_export(
        tmp_path / "daily.csv", DAILY, [daily("04.08.2025 00:00:00")], delimiter=";"
    )
    result = import_ual([path], catalog, AUGUST)
    assert result.ok, result.problems
    assert rows(result, "access")[0]["first_seen"] == "2025-08-04"


def test_mixed_date_formats_are_an_error(catalog: Catalog, tmp_path: Path) -> None:
    """14/08 can only be day-first, 8/29 … PM only month-first: the file cannot be read."""
    path = write_export(
        tmp_path / "daily.csv",
        DAILY,
        [daily("8/29/2025 12:00:00 AM"), daily("14/08/2025 00:00:00")],
    )
    result = import_ual([path], catalog, AUGUST)
    assert not result.ok
    assert "mixed date formats" in result.problems[0].message


def test_a_date_in_no_known_style_is_skipped_with_its_line(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = write_export(
        tmp_path / "daily.csv",
        DAILY,
        [daily("2025-08-04"), daily("yesterday"), daily("2025-08-05")],
    )
    result = import_ual([path], catalog, AUGUST)
    assert result.ok
    bad = next(s for s in result.skipped if s.reason.startswith("a date in no known style"))
    assert (bad.count, bad.examples[0].line) == (1, 3)
    assert len(rows(result, "access")) == 1


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary", b'"only","a header"\r\n'])
def test_empty_binary_or_foreign_files(catalog: Catalog, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    for result in (
        import_ual([path], catalog, AUGUST),
        import_sil([path], catalog),
        import_ad([path]),
        import_rvtools([path], catalog),
    ):
        assert not result.ok
        assert all(p.message for p in result.problems)


def test_the_command_prints_file_line_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    runner = CliRunner()
    first = runner.invoke(
        app,
        [
            "import",
            "ual",
            str(EXPORTS / "ual"),
            "--into",
            str(estate),
            "--since",
            "2025-08-01",
            "--until",
            "2025-08-31",
        ],
    )
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in estate.iterdir()}
    bad = write_export(
        tmp_path / "daily.csv",
        DAILY,
        [daily("8/29/2025 12:00:00 AM"), daily("14/08/2025 00:00:00")],
    )
    result = runner.invoke(app, ["import", "ual", str(bad), "--into", str(estate)])
    assert result.exit_code == 2
    assert f"{bad}:2: mixed date formats" in result.output
    assert "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in estate.iterdir()} == before


def test_a_server_name_without_a_host_part_is_skipped_not_a_blank_ose(
    catalog: Catalog, tmp_path: Path
) -> None:
    """PSComputerName ".contoso.com" (found by the fuzzer) has no host part: its rows are
    skipped with a counted reason; the FS01 row is mapped. 1 access tuple, 2 rows skipped."""
    odd = daily("8/4/2025 12:00:00 AM", "CONTOSO\\bob")
    odd[-1] = ".contoso.com"
    path = write_export(
        tmp_path / "daily.csv", DAILY, [daily("8/4/2025 12:00:00 AM"), odd, list(odd)]
    )
    result = import_ual([path], catalog, AUGUST)
    assert result.ok, result.problems
    access = rows(result, "access")
    assert [(r["ose"], r["user"]) for r in access] == [("fs01", "contoso\\alice")]
    skipped = [s for s in result.skipped if "has no host name" in s.reason]
    assert [s.count for s in skipped] == [2]


@pytest.mark.parametrize("kind", ["ual", "sil", "ad", "rvtools", "hyperv", "azure", "aws"])
def test_a_folder_with_no_export_file_is_refused(tmp_path: Path, kind: str) -> None:
    """An empty folder (or one of other files) imported nothing and exited 0 — an empty
    estate written as if the import had worked (Hyper-V raised IndexError). Now it is refused
    naming the folder, and no estate is written."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")  # not an export's suffix
    (folder / ".hidden.csv").write_text("a,b\n1,2\n")  # hidden files are skipped
    estate = tmp_path / "estate"
    result = CliRunner().invoke(app, ["import", kind, str(folder), "--into", str(estate)])
    assert result.exit_code == 2, result.output
    assert f"{folder}: no export file in this folder" in result.output
    assert "Traceback" not in result.output and not estate.exists()


def test_a_cloud_folder_of_workbooks_is_read_not_called_empty(tmp_path: Path) -> None:
    """The cloud importers read .xlsx exports given one by one; a folder of them was refused as
    holding no export file. Now its workbook is read (and, this one being no VM list, refused
    for what it is)."""
    from openpyxl import Workbook

    folder = tmp_path / "azure"
    folder.mkdir()
    book = Workbook()
    book.active.append(["Something", "Else"])
    book.save(folder / "vms.xlsx")
    result = CliRunner().invoke(
        app, ["import", "azure", str(folder), "--into", str(tmp_path / "e")]
    )
    assert "no export file in this folder" not in result.output
    assert "vms.xlsx" in result.output and "Traceback" not in result.output
