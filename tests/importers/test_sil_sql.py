"""Issue #15 item 5: SQL Server in Get-SilSoftware as SIL lists it, Get-SilUalAccess counts as
access evidence, Get-SilWindowsUpdate recognised (tests/fixtures/sil-sql, see SOURCE.md there).

By hand, SilSoftware.csv (rows on lines 3..9):
- sql03: line 3 the setup umbrella and line 5 Common Files are no installation (2 skipped);
  line 6 LocalDB is free and embedded (skipped); line 4 Database Engine Services is the
  installation that needs licenses, and no row names its edition: SQL Server 2019 counted as
  Standard (the cheapest paid edition, §3.5), a weak row, with the finding sql-edition-assumed.
- app04: only LocalDB (line 7, skipped): no SQL Server row at all — not an Express install.
- app05: line 8 names Express, line 9 is its Database Engine Services: SQL Server 2019 Express.
SilUalAccess.csv: 3 roles of sql03 counted (File Server 45/45, Print 15/9, SQL 0/0): Windows
Server 2019 Standard from ProductName, 2 findings sil-access-counts (the SQL row counts nobody).
SilWindowsUpdate.csv: 2 rows skipped with the reason named.
"""

from __future__ import annotations

from pathlib import Path

from exportkit import rows, skipped

from entitle.catalog import Catalog
from entitle.importers.sil import import_sil

SIL = Path(__file__).resolve().parents[1] / "fixtures" / "sil-sql"


def test_sql_server_components_localdb_and_editions(catalog: Catalog) -> None:
    result = import_sil(sorted(SIL.glob("*.csv")), catalog)
    assert result.ok, result.problems
    software = {
        (r.cells["ose"], r.cells["product"], r.cells.get("edition", ""), r.cells["version"]): r.weak
        for r in result.rows["software"]
    }
    assert software == {
        ("sql03", "sql-server", "standard", "2019"): True,
        ("app05", "sql-server", "express", "2019"): False,
        ("sql03", "windows-server", "standard", "2019"): False,
    }
    skips = {s.reason: (s.count, [e.line for e in s.examples]) for s in result.skipped}
    assert skips["SQL Server setup, shared files or tools: licensed with the installation"] == (
        2,
        [3, 5],
    )
    assert skips["SQL Server Express LocalDB: a free engine applications embed, no license"] == (
        2,
        [6, 7],
    )
    assert (
        skipped(result)["Get-SilWindowsUpdate: installed updates say nothing about licenses"] == 2
    )
    codes = [f.code for f in result.findings]
    assert codes.count("sql-edition-assumed") == 1
    assert codes.count("sil-access-counts") == 2
    counts = next(f for f in result.findings if f.code == "sil-access-counts")
    assert counts.message.startswith("sql03: 45 users and 45 devices used File Server")
    assert dict(result.mapped)["role access counts (Get-SilUalAccess)"] == 3
    assert not rows(result, "access")  # counts name nobody: no access rows


def test_an_edition_named_beside_the_engine_wins(catalog: Catalog, tmp_path: Path) -> None:
    """Two SQL Server 2019 rows naming Developer and Enterprise beside one engine: the paid,
    higher-ranked Enterprise is the one to license (edition_rank enterprise 3 > standard 2)."""
    path = tmp_path / "software.csv"
    path.write_text(
        '"Name","Vendor","Version","PSComputerName"\n'
        '"SQL Server 2019 Database Engine Services","Microsoft Corporation","15.0","DB1"\n'
        '"Microsoft SQL Server 2019 Developer","Microsoft Corporation","15.0","DB1"\n'
        '"Microsoft SQL Server 2019 Enterprise","Microsoft Corporation","15.0","DB1"\n',
        encoding="utf-8",
    )
    result = import_sil([path], catalog)
    assert [(r["ose"], r["edition"]) for r in rows(result, "software")] == [("db1", "enterprise")]
    assert not result.findings
