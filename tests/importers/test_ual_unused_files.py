"""Issue #15 item 6: every Get-Ual* export is known by its columns, with or without #TYPE; an
export the UAL importer does not use is skipped with a warning naming it, not a refusal of the
whole folder — unless no file is usable (then nothing would be imported: refused)."""

from __future__ import annotations

import shutil
from pathlib import Path

from exportkit import AUGUST, rows, write_export

from entitle.catalog import Catalog
from entitle.importers.ual import import_ual

CULTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cultures"

# Microsoft's Get-UalServerUser reference lists these properties (data-formats.md §3.1)
SERVER_USER = ["ActivityCount", "ChassisSerialNumber", "FirstSeen", "LastSeen", "UserName", "UUID"]
SIL_UPDATE = (
    "Microsoft.Management.Infrastructure.CimInstance#root/inventorylogging/MsftSil_WindowsUpdate"
)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "fs01"
    folder.mkdir()
    shutil.copy(CULTURES / "en-GB" / "DailyAccess.csv", folder / "DailyAccess.csv")
    write_export(
        folder / "ServerUser.csv",  # PowerShell 7: no #TYPE line, the columns tell
        SERVER_USER,
        [
            [
                "12",
                "CZC1234",
                "1/2/2025 9:00:00 AM",
                "8/29/2025 5:00:00 PM",
                "CONTOSO\\alice",
                "4C4C4544-0042",
            ]
        ],
    )
    write_export(
        folder / "Updates.csv",
        ["ID", "InstallDate"],
        [["KB5005112", "8/10/2025 12:00:00 AM"]],
        type_line=SIL_UPDATE,
    )
    write_export(folder / "notes.csv", ["Owner", "Comment"], [["it", "collected on Monday"]])
    return folder


def test_unused_files_are_skipped_with_a_warning_naming_each(
    catalog: Catalog, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    files = sorted(folder.iterdir())
    result = import_ual(files, catalog, AUGUST)
    assert result.ok, result.problems
    # the en-GB sample alone: 2 access tuples (tests/importers/test_cultures.py)
    assert len(rows(result, "access")) == 2
    unused = sorted(f.message for f in result.findings if f.code == "file-not-used")
    assert len(unused) == 3
    assert unused[0].startswith(f"{folder / 'ServerUser.csv'} skipped: Get-UalServerUser export")
    assert unused[1].startswith(f"{folder / 'Updates.csv'} skipped: Get-SilWindowsUpdate export")
    assert unused[2].startswith(f"{folder / 'notes.csv'} skipped: not a UAL export")


def test_only_unused_files_is_a_refusal(catalog: Catalog, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = import_ual([folder / "ServerUser.csv"], catalog, AUGUST)
    assert not result.ok
    assert result.problems[0].message == "Get-UalServerUser export not used"
    assert "Get-UalUserAccess" in result.problems[0].hint
