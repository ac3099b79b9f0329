"""SIL, Active Directory, RVTools, Hyper-V and generic imports of the sample exports; counts
worked out by hand from the rows of tests/fixtures/exports (see the docstring of each test)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from exportkit import EXPORTS, rows, skipped

from entitle.catalog import Catalog
from entitle.importers.ad import ExternalRule, import_ad
from entitle.importers.generic import import_generic, read_mapping
from entitle.importers.hyperv import import_hyperv
from entitle.importers.rvtools import import_rvtools
from entitle.importers.sil import import_sil


def test_sil(catalog: Catalog) -> None:
    """sql02: physical Dell, 2 processors, 24 cores in all → 2×12, Windows Server 2019 Standard;
    its SQL Server entries give no edition: line 4, Database Engine Services, is an installation
    that needs licenses, counted as Standard (the cheapest paid edition) with the finding
    sql-edition-assumed; line 3, the setup umbrella, is skipped; 7-Zip and the VC++ runtime are
    no server products. app01: VmGuid set → a VM, 1×4, host unknown → placeholder;
    Windows Server 2022 Datacenter and SharePoint Server 2019 (no editions)."""
    result = import_sil(sorted((EXPORTS / "sil").rglob("*.csv")), catalog)
    assert result.ok, result.problems
    hosts = {r["host"]: r for r in rows(result, "hosts")}
    assert (
        hosts["sql02"]["processors"],
        hosts["sql02"]["cores_per_processor"],
        hosts["sql02"]["cpu_model"],
    ) == ("2", "12", "Intel(R) Xeon(R) Gold 6136 CPU @ 3.00GHz")
    assert hosts["unknown-host-of-app01"]["placeholder"] == "yes"
    oses = {r["ose"]: r for r in rows(result, "oses")}
    assert (oses["app01"]["virtual"], oses["app01"]["vcpus"]) == ("yes", "4")
    software = {
        (r["ose"], r["product"], r.get("edition", ""), r["version"])
        for r in rows(result, "software")
    }
    assert software == {
        ("sql02", "windows-server", "standard", "2019"),
        ("sql02", "sql-server", "standard", "2019"),
        ("app01", "windows-server", "datacenter", "2022"),
        ("app01", "sharepoint-server", "", "2019"),
    }
    sql = next(s for s in result.skipped if s.reason.startswith("SQL Server"))
    assert sql.count == 1 and [e.line for e in sql.examples] == [3]
    assumed = [f for f in result.findings if f.code == "sql-edition-assumed"]
    assert len(assumed) == 1 and "Database Engine Services" in assumed[0].message
    weak = next(r for r in result.rows["software"] if r.cells["product"] == "sql-server")
    assert weak.weak  # an edition written in software.csv wins over the assumption
    assert skipped(result)["not a server product the catalog licenses"] == 3


def test_ad_users_and_computers(catalog: Catalog) -> None:
    """users.csv: 9 rows, frank and krbtgt disabled → 7 users. External: carol by OU, dave by
    EmployeeType=Contractor, erin by group Extranet Users → 3. computers.csv: 6 rows,
    OLD-WKS-0009 disabled → 5 devices (FS01 a server, 4 workstations)."""
    rule, bad = ExternalRule.parse(
        ["OU=Partners,OU=External,DC=contoso,DC=com"],
        ["Extranet Users"],
        ["EmployeeType=Contractor"],
    )
    assert bad == []
    result = import_ad(sorted((EXPORTS / "ad").glob("*.csv")), rule=rule)
    users = {r["user"]: r["external"] for r in rows(result, "users")}
    assert len(users) == 7
    assert {u for u, e in users.items() if e == "yes"} == {
        "contoso\\carol",
        "contoso\\dave",
        "contoso\\erin",
    }
    devices = {r["device"]: r["kind"] for r in rows(result, "devices")}
    assert devices == {
        "wks-0101": "workstation",
        "wks-0102": "workstation",
        "wks-0107": "workstation",
        "lap-0033": "workstation",
        "fs01": "server",
    }
    assert skipped(result)["disabled account"] == 3


def test_ad_rule_by_ou_only(catalog: Catalog) -> None:
    rule, _ = ExternalRule.parse(["ou=partners, ou=external, dc=contoso, dc=com"])
    result = import_ad([EXPORTS / "ad" / "users.csv"], rule=rule)
    assert [r["user"] for r in rows(result, "users") if r["external"] == "yes"] == [
        "contoso\\carol"
    ]


def test_ad_export_saved_by_out_file_in_utf16(tmp_path: Path) -> None:
    text = (EXPORTS / "ad" / "users.csv").read_text(encoding="utf-8")
    path = tmp_path / "users.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert len(rows(import_ad([path]), "users")) == 7


@pytest.mark.parametrize("source", ["xlsx", "csv"])
def test_rvtools(catalog: Catalog, source: str) -> None:
    """vHost: esx01, esx02 (2×24, Prod), esx03 (1×16, Dev). vInfo: APP02, SQL03, WEB01, LNX01
    are VMs (ids from DNS Name; WEB01 is off, so its VM name); W2K19-TEMPLATE is a template.
    Guest editions: APP02 Datacenter 2019, SQL03 Standard 2022; WEB01 (off, so only the
    configuration file's "Microsoft Windows Server 2016 or later (64-bit)") names no edition:
    written with a blank one (finding edition-unknown), its version the newest the catalog
    knows at or after 2016 (2025; finding version-assumed)."""
    rvtools = EXPORTS / "rvtools"
    paths = (
        [rvtools / "RVTools_export.xlsx"]
        if source == "xlsx"
        else sorted((rvtools / "csv").glob("*.csv"))
    )
    result = import_rvtools(paths, catalog)
    assert result.ok, result.problems
    hosts = {
        r["host"]: (r["processors"], r["cores_per_processor"], r["cluster"])
        for r in rows(result, "hosts")
    }
    assert hosts == {
        "esx01": ("2", "24", "Prod"),
        "esx02": ("2", "24", "Prod"),
        "esx03": ("1", "16", "Dev"),
    }
    oses = {r["ose"]: (r["host"], r["vcpus"]) for r in rows(result, "oses")}
    assert oses == {
        "app02": ("esx01", "4"),
        "sql03": ("esx02", "8"),
        "web01": ("esx01", "2"),
        "lnx01": ("esx03", "2"),
    }
    software = {(r["ose"], r["edition"], r["version"]) for r in rows(result, "software")}
    assert software == {
        ("app02", "datacenter", "2019"),
        ("sql03", "standard", "2022"),
        ("web01", "", "2025"),
    }
    counts = skipped(result)
    assert counts == {"template, not a VM": 1}
    codes = {f.code for f in result.findings}
    assert {"edition-unknown", "version-assumed", "sql-server-invisible"} <= codes
    assert "cores-unknown" not in codes  # every vInfo host is in vHost


def test_hyperv(catalog: Catalog) -> None:
    """Get-VM: APP03, APP04 on HV02, FILE02 on HV03. Win32_Processor: HV02 has two sockets of
    20 cores. Get-ClusterNode: both in HVCLUSTER1. HV03 has no processor rows → placeholder."""
    result = import_hyperv(sorted((EXPORTS / "hyperv").glob("*.csv")), catalog)
    assert result.ok, result.problems
    hosts = {r["host"]: r for r in rows(result, "hosts")}
    assert (
        hosts["hv02"]["processors"],
        hosts["hv02"]["cores_per_processor"],
        hosts["hv02"]["cluster"],
    ) == ("2", "20", "HVCLUSTER1")
    assert (hosts["hv03"]["placeholder"], hosts["hv03"]["cluster"]) == ("yes", "HVCLUSTER1")
    oses = {r["ose"]: (r["host"], r["vcpus"]) for r in rows(result, "oses")}
    assert oses == {"app03": ("hv02", "4"), "app04": ("hv02", "2"), "file02": ("hv03", "2")}
    assert "cores-unknown" in {f.code for f in result.findings}


def test_generic_with_a_mapping() -> None:
    """staff.csv: alice (N), hank (Y); the third row has no login and is skipped (line 4)."""
    mapping, problems = read_mapping(EXPORTS / "generic" / "staff-mapping.toml")
    assert problems == []
    result = import_generic([EXPORTS / "generic" / "staff.csv"], mapping)
    assert rows(result, "users") == [
        {
            "user": "contoso\\alice",
            "name": "Alice Martin",
            "department": "Finance",
            "external": "no",
        },
        {
            "user": "contoso\\hank",
            "name": "Hank Moore",
            "department": "Logistics",
            "external": "yes",
        },
    ]
    blank = result.skipped[0]
    assert (blank.reason, blank.count, blank.examples[0].line) == ("users: blank user", 1, 4)


def test_generic_mapping_problems(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text('[[tables]]\ntable = "hostz"\n[tables.columns]\nhost = "Name"\n')
    assert "not an estate table" in read_mapping(path)[1][0]
    path.write_text('[[tables]]\ntable = "hosts"\n[tables.columns]\nhost = "Name"\n')
    assert "processors, cores_per_processor" in read_mapping(path)[1][0]
    path.write_text("not toml [")
    assert "not a TOML mapping" in read_mapping(path)[1][0]
