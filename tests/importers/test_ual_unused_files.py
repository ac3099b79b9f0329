"""Issue #15 item 6: every Get-Ual* export is known by its columns, with or without #TYPE; an
export the UAL importer does not use is skipped with a warning naming it, not a refusal of the
whole folder — unless no file is usable (then nothing would be imported: refused)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from exportkit import AUGUST, rows, write_export

from entitle.catalog import Catalog
from entitle.importers.exports import read_export
from entitle.importers.ual import import_ual
from entitle.importers.ual_files import classify

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


# Every Get-Ual* cmdlet's properties (shared/reference/data-formats.md §3.1, from Microsoft's
# cmdlet references), as PowerShell 7 exports them: no #TYPE line, so the columns must tell.
CMDLETS = {
    "overview": ["FirstSeen", "GUID", "LastSeen", "ProductName", "RoleName"],
    "user": [
        "ActivityCount",
        "FirstSeen",
        "LastSeen",
        "ProductName",
        "RoleGuid",
        "RoleName",
        "TenantIdentifier",
        "UserName",
    ],
    "device": [
        "ActivityCount",
        "FirstSeen",
        "IPAddress",
        "LastSeen",
        "ProductName",
        "RoleGuid",
        "RoleName",
        "TenantIdentifier",
    ],
    "daily": [
        "AccessCount",
        "AccessDate",
        "IPAddress",
        "UserName",
        "TenantIdentifier",
        "ProductName",
        "RoleGuid",
        "RoleName",
    ],
    "daily-user": ["AccessCount", "AccessDate", "UserName", "ProductName", "RoleGuid", "RoleName"],
    "daily-device": [
        "AccessCount",
        "AccessDate",
        "IPAddress",
        "ProductName",
        "RoleGuid",
        "RoleName",
    ],
    "hyperv": [
        "ProductName",
        "RoleName",
        "RoleGuid",
        "UUID",
        "ChassisSerialNumber",
        "FirstSeen",
        "LastSeen",
    ],
    "dns": ["ProductName", "RoleName", "RoleGuid", "IPAddress", "HostName", "LastSeen"],
    "systemid": [
        "PhysicalProcessorCount",
        "CoresPerPhysicalProcessor",
        "SystemDNSHostName",
        "SystemManufacturer",
        "SystemProductName",
        "SystemSMBIOSUUID",
    ],
    "Get-UalServerUser": SERVER_USER,
    "Get-UalServerDevice": [
        "ActivityCount",
        "ChassisSerialNumber",
        "FirstSeen",
        "IPAddress",
        "LastSeen",
        "UUID",
    ],
}


@pytest.mark.parametrize("kind", sorted(CMDLETS))
def test_every_cmdlet_is_known_by_its_columns(kind: str, tmp_path: Path) -> None:
    path = write_export(tmp_path / "export.csv", CMDLETS[kind], [["x"] * len(CMDLETS[kind])])
    export, problems = read_export(path)
    assert export is not None, problems
    found, problem = classify(export)
    if kind.startswith("Get-"):
        assert found is None and problem is not None
        assert (problem.severity, problem.message) == ("warning", f"{kind} export not used")
    else:
        assert (found, problem) == (kind, None)
