"""`entitle import ual` into an estate without access.csv: the access tuples go from DuckDB to
the staged access.csv (entitle.importers.bulk), and what the estate loader would check of them is
checked there. Each test compares that path with the row-by-row one, which an estate that already
has an access.csv takes: the same rows, counts, findings and refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from exportkit import EXPORTS, write_export
from typer.testing import CliRunner

from entitle.cli.main import app

runner = CliRunner()
AUGUST = ["--since", "2025-08-01", "--until", "2025-08-31"]
ACCESS_HEADER = "ose,product,user,device,level,purpose,first_seen,last_seen\n"


def import_ual(estate: Path, *paths: Path) -> tuple[int, str]:
    args = ["import", "ual", *map(str, paths), "--into", str(estate), *AUGUST, "--json"]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def by_rows(tmp_path: Path, name: str) -> Path:
    """An estate whose access.csv exists (header only): the import merges key by key."""
    estate = tmp_path / name
    estate.mkdir()
    (estate / "access.csv").write_text(ACCESS_HEADER, encoding="utf-8")
    return estate


def access(estate: Path) -> list[dict[str, str]]:
    with (estate / "access.csv").open(encoding="utf-8", newline="") as fh:
        return sorted(
            ({k: v for k, v in row.items() if v} for row in csv.DictReader(fh)),
            key=lambda r: sorted(r.items()),
        )


def test_the_sample_exports_give_the_same_estate_either_way(tmp_path: Path) -> None:
    fresh, merged = tmp_path / "fresh", by_rows(tmp_path, "merged")
    code, out = import_ual(fresh, EXPORTS / "ual")
    assert code == 0, out
    code, out_rows = import_ual(merged, EXPORTS / "ual")
    assert code == 0, out_rows
    assert access(fresh) == access(merged)
    assert len(access(fresh)) > 0
    summary, summary_rows = json.loads(out), json.loads(out_rows)
    assert summary["written"] == summary_rows["written"]
    assert summary["skipped"] == summary_rows["skipped"]
    assert summary["findings"] == summary_rows["findings"]
    for table in ("users", "devices", "oses", "hosts", "software"):
        fresh_text = (fresh / f"{table}.csv").read_text(encoding="utf-8")
        assert fresh_text == (merged / f"{table}.csv").read_text(encoding="utf-8")
    # the counts follow the format's columns, as the row-by-row merge appends them
    header = (fresh / "access.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith(ACCESS_HEADER.strip() + ",")


USER_ACCESS = ["ActivityCount", "FirstSeen", "LastSeen", "ProductName", "RoleGuid", "RoleName"]
FILE_SERVER = [
    "Windows Server 2019 Standard",
    "10a9226f-50ee-49d8-a393-9a501d47ce04",
    "File Server",
]


def test_a_last_seen_before_first_seen_is_refused_either_way(tmp_path: Path) -> None:
    """Get-UalUserAccess says bob was first seen on 20 August and last seen on 1 August: both in
    the window, so the tuple keeps them, and an access row whose last_seen is before its
    first_seen is an error of the estate format (estate-format.md, access.csv). Nothing is
    written; the refusal names the export and the line of the merged access.csv."""
    export = write_export(
        tmp_path / "UserAccess.csv",
        [*USER_ACCESS, "UserName", "PSComputerName"],
        [
            ["4", "2025-08-02", "2025-08-05", *FILE_SERVER, "CONTOSO\\alice", "FS01"],
            ["2", "2025-08-20", "2025-08-01", *FILE_SERVER, "CONTOSO\\bob", "FS01"],
        ],
    )
    fresh, merged = tmp_path / "fresh", by_rows(tmp_path, "merged")
    for estate in (fresh, merged):
        code, out = import_ual(estate, export)
        text = " ".join(out.split())
        assert code == 2, out
        assert "UserAccess.csv" in text
        assert "last_seen 2025-08-01 is before first_seen 2025-08-20" in text
        # alice's tuple sorts first: bob's is line 3 of access.csv
        assert "access.csv line 3 of the merged estate" in text
    assert not fresh.exists()
    assert (merged / "access.csv").read_text(encoding="utf-8") == ACCESS_HEADER


def test_a_formula_looking_user_is_a_finding_either_way(tmp_path: Path) -> None:
    """A user name a spreadsheet would run ('=1+2', no domain) is kept as data, with the
    formula-looking finding for access.csv (and users.csv), whichever way the rows go."""
    export = write_export(
        tmp_path / "UserAccess.csv",
        [*USER_ACCESS, "UserName", "PSComputerName"],
        [["4", "2025-08-02", "2025-08-05", *FILE_SERVER, "=1+2", "FS01"]],
    )
    fresh, merged = tmp_path / "fresh", by_rows(tmp_path, "merged")
    found = []
    for estate in (fresh, merged):
        code, out = import_ual(estate, export)
        assert code == 0, out
        messages = [
            f["message"] for f in json.loads(out)["findings"] if f["code"] == "formula-looking"
        ]
        assert any("written to access.csv" in m and "'=1+2'" in m for m in messages), messages
        found.append(sorted(messages))
    assert found[0] == found[1]
    assert access(fresh) == access(merged)
