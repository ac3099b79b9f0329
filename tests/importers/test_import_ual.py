"""UAL exports → estate rows, with counts worked out by hand from tests/fixtures/exports/ual.

The window is August 2025 throughout (AUGUST in conftest.py).
"""

from __future__ import annotations

import codecs
import shutil
from datetime import date
from pathlib import Path

import pytest
from exportkit import AUGUST, EXPORTS, rows, skipped, ual_files, write_export

from entitle.catalog import Catalog
from entitle.importers.dates import Window
from entitle.importers.ual import import_ual


def access_keys(result) -> set[tuple[str, str, str, str]]:
    return {(r["ose"], r["product"], r["user"], r["device"]) for r in rows(result, "access")}


def test_the_sample_ual_exports(catalog: Catalog) -> None:
    """fs01/DailyAccess.csv has 9 rows: row 4 is machine account FS02$, row 5 is 6/30 (before the
    window); rows 1+2 (alice from .31) and 3+8 (bob from .44, File Server and Print, both
    windows-server) fold, leaving alice@.31, bob@.44, carol@.52, alice@.60, dave@10.1.30.15 = 5.
    dns/UalDns.csv names .31 .44 .52 .60; 10.1.30.15 stays an address.
    sql01/UserAccess.csv: erin, alice (SQL engine), bob (File Server); frank last seen 7/15
    (outside) and SQL01$ (machine account) skipped = 3.
    collected/rds-daily-user.csv: alice, gina twice (Gina = gina), 3 Sept outside = 2.
    collected/dc01-daily-device.csv: .31 and 10.1.40.2 = 2.  Total 5 + 3 + 2 + 2 = 12."""
    result = import_ual(ual_files(), catalog, AUGUST)
    assert result.ok, result.problems
    assert access_keys(result) == {
        ("fs01", "windows-server", "contoso\\alice", "wks-0101"),
        ("fs01", "windows-server", "contoso\\bob", "wks-0102"),
        ("fs01", "windows-server", "contoso\\carol", "wks-0107"),
        ("fs01", "windows-server", "contoso\\alice", "lap-0033"),
        ("fs01", "windows-server", "contoso\\dave", "10.1.30.15"),
        ("sql01", "sql-server", "contoso\\erin", ""),
        ("sql01", "sql-server", "contoso\\alice", ""),
        ("sql01", "windows-server", "contoso\\bob", ""),
        ("rds01", "rds", "contoso\\alice", ""),
        ("rds01", "rds", "contoso\\gina", ""),
        ("dc01", "windows-server", "", "wks-0101"),
        ("dc01", "windows-server", "", "10.1.40.2"),
    }
    counts = skipped(result)
    # machine accounts: FS02$ (fs01 row 4), SQL01$ (sql01 row 4)
    assert counts["machine account (a name ending in $)"] == 2
    # outside: carol 6/30, frank last 7/15, alice on RDS 3 Sept
    assert counts["outside the evidence window (2025-08-01 to 2025-08-31)"] == 3
    # 6 users: alice bob carol dave erin gina; 6 devices, two of them addresses
    assert {r["user"] for r in rows(result, "users")} == {
        f"contoso\\{n}" for n in ("alice", "bob", "carol", "dave", "erin", "gina")
    }
    devices = {r["device"]: r.get("kind", "") for r in rows(result, "devices")}
    assert devices == {
        "wks-0101": "",
        "wks-0102": "",
        "wks-0107": "",
        "lap-0033": "",
        "10.1.30.15": "address",
        "10.1.40.2": "address",
    }
    assert "device-is-address" in {f.code for f in result.findings}


def test_counts_and_dates_are_kept_apart(catalog: Catalog) -> None:
    """alice@.31 on fs01: AccessCount 12 on 8/4 + 7 on 8/5 = 19, first 8/4, last 8/5.
    erin on sql01 (Get-UalUserAccess): ActivityCount 1520, a yearly total, never summed into
    access_count; FirstSeen 1/6 is clipped to the window's first day."""
    result = import_ual(ual_files(), catalog, AUGUST)
    by_key = {(r["ose"], r["user"], r["device"]): r for r in rows(result, "access")}
    alice = by_key[("fs01", "contoso\\alice", "wks-0101")]
    assert (alice["first_seen"], alice["last_seen"], alice["access_count"]) == (
        "2025-08-04",
        "2025-08-05",
        "19",
    )
    assert "activity_count" not in alice
    erin = by_key[("sql01", "contoso\\erin", "")]
    assert (erin["first_seen"], erin["last_seen"], erin["activity_count"]) == (
        "2025-08-01",
        "2025-08-28",
        "1520",
    )
    assert "access_count" not in erin


def test_inventory_from_system_ids_overviews_and_hyperv(catalog: Catalog) -> None:
    """fs01: Dell, 2×8 physical. hv01: HPE 2×16 physical. sql01: 'Virtual Machine' 2×2 whose
    SMBIOS UUID hv01's Get-UalHyperV lists → VM on hv01 with 4 vCPUs. rds01, dc01: evidence
    only → placeholder hosts (weak). Software from ProductName: fs01 WS 2019 Datacenter;
    sql01 WS 2022 Standard and SQL Server 2019 Standard; rds01 WS 2016 Standard + RDS 2016;
    dc01 WS 2022 Datacenter."""
    result = import_ual(ual_files(), catalog, AUGUST)
    hosts = {r["host"]: r for r in rows(result, "hosts")}
    assert (hosts["fs01"]["processors"], hosts["fs01"]["cores_per_processor"]) == ("2", "8")
    assert (hosts["hv01"]["processors"], hosts["hv01"]["cores_per_processor"]) == ("2", "16")
    assert hosts["rds01"]["placeholder"] == "yes"
    oses = {r["ose"]: r for r in rows(result, "oses")}
    assert (oses["sql01"]["host"], oses["sql01"]["virtual"], oses["sql01"]["vcpus"]) == (
        "hv01",
        "yes",
        "4",
    )
    software = {
        (r["ose"], r["product"], r.get("edition", ""), r["version"])
        for r in rows(result, "software")
    }
    assert software == {
        ("fs01", "windows-server", "datacenter", "2019"),
        ("sql01", "windows-server", "standard", "2022"),
        ("sql01", "sql-server", "standard", "2019"),
        ("rds01", "windows-server", "standard", "2016"),
        ("rds01", "rds", "", "2016"),
        ("dc01", "windows-server", "datacenter", "2022"),
    }
    # hv01/HyperV.csv line 4: a VM UUID that no system id names
    assert skipped(result)["Get-UalHyperV VM whose UUID no Get-UalSystemId export names"] == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le-bom"])
def test_the_same_export_in_each_encoding_imports_the_same(
    catalog: Catalog, tmp_path: Path, encoding: str
) -> None:
    """What Export-Csv (UTF-8), Export-Csv -Encoding UTF8 (BOM) and `>`/Out-File (UTF-16 LE with
    a BOM) write: the fs01 folder gives the same 5 tuples whatever the encoding."""
    folder = tmp_path / "fs01"
    folder.mkdir()
    for source in (EXPORTS / "ual" / "fs01").glob("*.csv"):
        text = source.read_text(encoding="utf-8")
        if encoding == "utf-16-le-bom":
            data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
        else:
            data = text.encode(encoding)
        (folder / source.name).write_bytes(data)
    dns = EXPORTS / "ual" / "dns" / "UalDns.csv"
    result = import_ual([*sorted(folder.glob("*.csv")), dns], catalog, AUGUST)
    assert result.ok, result.problems
    assert len(rows(result, "access")) == 5
    assert skipped(result)["machine account (a name ending in $)"] == 1


def test_without_a_server_name_the_file_is_refused(catalog: Catalog, tmp_path: Path) -> None:
    source = EXPORTS / "ual" / "fs01" / "DailyAccess.csv"
    lone = tmp_path / "DailyAccess.csv"
    shutil.copy(source, lone)
    result = import_ual([lone], catalog, AUGUST)
    assert not result.ok
    assert "no PSComputerName" in result.problems[0].message
    named = import_ual([lone], catalog, AUGUST, server="FS01.contoso.com")
    assert named.ok and {r["ose"] for r in rows(named, "access")} == {"fs01"}


def test_the_window_bounds_the_evidence(catalog: Catalog) -> None:
    """Only 8/4 and 8/5 in a two-day window: alice@.31 (rows 1, 2) and bob@.44 (row 3)."""
    window = Window(date(2025, 8, 4), date(2025, 8, 5))
    result = import_ual(ual_files("fs01", "dns"), catalog, window)
    assert access_keys(result) == {
        ("fs01", "windows-server", "contoso\\alice", "wks-0101"),
        ("fs01", "windows-server", "contoso\\bob", "wks-0102"),
    }


def test_the_servers_overview_is_the_authority_for_its_guids(
    catalog: Catalog, tmp_path: Path
) -> None:
    """A server whose overview says GUID 10a9226f… is Remote Desktop Services: its access is
    RDS access, whatever the table says that GUID is (and the difference is a finding)."""
    write_export(
        tmp_path / "Overview.csv",
        ["GUID", "RoleName", "ProductName", "PSComputerName"],
        [
            [
                "10a9226f-50ee-49d8-a393-9a501d47ce04",
                "Remote Desktop Services",
                "Windows Server 2019 Standard",
                "TS01",
            ]
        ],
    )
    write_export(
        tmp_path / "UserAccess.csv",
        [
            "ActivityCount",
            "FirstSeen",
            "LastSeen",
            "ProductName",
            "RoleGuid",
            "RoleName",
            "UserName",
            "PSComputerName",
        ],
        [
            [
                "5",
                "8/2/2025 9:00:00 AM",
                "8/3/2025 9:00:00 AM",
                "",
                "{10A9226F-50EE-49D8-A393-9A501D47CE04}",
                "",
                "CONTOSO\\ivan",
                "TS01",
            ]
        ],
    )
    result = import_ual(sorted(tmp_path.glob("*.csv")), catalog, AUGUST)
    assert access_keys(result) == {("ts01", "rds", "contoso\\ivan", "")}
    assert "role-guid-differs" in {f.code for f in result.findings}


def test_anonymous_web_access_needs_no_device(catalog: Catalog, tmp_path: Path) -> None:
    """IIS (Web Server) reached from two addresses without a user: one unauthenticated row."""
    write_export(
        tmp_path / "DailyDevice.csv",
        [
            "AccessCount",
            "AccessDate",
            "IPAddress",
            "ProductName",
            "RoleGuid",
            "RoleName",
            "PSComputerName",
        ],
        [
            [
                "40",
                "2025-08-10",
                "203.0.113.7",
                "Windows Server 2022 Standard",
                "d6256cf7-98fb-4eb4-aa18-303f1da1f770",
                "Web Server",
                "WEB02",
            ],
            [
                "12",
                "2025-08-11",
                "198.51.100.23",
                "Windows Server 2022 Standard",
                "d6256cf7-98fb-4eb4-aa18-303f1da1f770",
                "Web Server",
                "WEB02",
            ],
        ],
    )
    result = import_ual([tmp_path / "DailyDevice.csv"], catalog, AUGUST)
    assert access_keys(result) == {("web02", "windows-server", "", "")}
    assert rows(result, "devices") == []
