"""Hyper-V as people export it (issue #15 item 7): Get-VMHost, Get-VMProcessor, KVP names
joined to Get-VM, localized power states, two VMs of one name. Samples: tests/fixtures/hyperv/
(SOURCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

from exportkit import rows
from typer.testing import CliRunner

from entitle.catalog import Catalog
from entitle.cli.main import app
from entitle.importers.hyperv import import_hyperv

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "hyperv"
runner = CliRunner()


def test_hyperv_exports_joined(catalog: Catalog) -> None:
    """Hosts: HV12 from Win32_Processor (2 sockets × 8 cores); HV11 only from Get-VMHost (32
    logical processors → 1 × 32, finding cores-assumed). VMs: Get-VM has no vCPU column, so
    Get-VMProcessor's Count (joined by VMId) gives 4, 2, 2, 1. KVP (joined by host and VM name)
    names SQL-PROD sql11.contoso.com, and the two WEB01 web01.prod/web01.test.contoso.com: two
    VMs (different VMIds) of one short name keep their full DNS names (short-name-collision).
    OLD-APP has no KVP row: its id is its name and it has no OS (finding os-unknown). States:
    "Wird ausgeführt" → Running, "Aus" → Off."""
    result = import_hyperv(sorted(SAMPLES.glob("*.csv")), catalog)
    assert result.ok, result.problems
    hosts = {r["host"]: (r["processors"], r["cores_per_processor"]) for r in rows(result, "hosts")}
    assert hosts == {"hv11": ("1", "32"), "hv12": ("2", "8")}
    oses = {r["ose"]: (r["host"], r["vcpus"], r["powerstate"]) for r in rows(result, "oses")}
    assert oses == {
        "sql11": ("hv11", "4", "Running"),
        "web01.prod.contoso.com": ("hv11", "2", "Running"),
        "web01.test.contoso.com": ("hv12", "2", "Running"),
        "old-app": ("hv12", "1", "Off"),
    }
    software = {(r["ose"], r["edition"], r["version"]) for r in rows(result, "software")}
    assert software == {
        ("sql11", "datacenter", "2022"),
        ("web01.prod.contoso.com", "standard", "2019"),
        ("web01.test.contoso.com", "standard", "2019"),
    }
    codes = {f.code for f in result.findings}
    assert {"cores-assumed", "short-name-collision", "os-unknown"} <= codes
    assert "cores-unknown" not in codes
    assert dict(result.mapped)["VMs joined to their KVP or VM list row"] == 3


def test_hyperv_position(tmp_path: Path) -> None:
    """hv11 (1 × 32) runs sql11 (Datacenter) and web01.prod: Datacenter installed → all 32
    cores as Datacenter (§3.1), version 2022 (the newest there). hv12 (2 × 8 = 16, the
    per-server minimum) runs web01.test (Standard 2019; OLD-APP has no software): 16 Standard or
    16 Datacenter → Standard, the cheaper, 2019."""
    estate = tmp_path / "estate"
    done = runner.invoke(app, ["import", "hyperv", str(SAMPLES), "--into", str(estate)])
    assert done.exit_code == 0, done.output
    result = runner.invoke(app, ["position", str(estate), "--json", "--as-of", "2025-09-01"])
    assert result.exit_code == 0, result.output
    required = {
        (line["product"], line["edition"], line["version"], line["license"]): line["required"]
        for line in json.loads(result.stdout)["lines"]
    }
    assert required == {
        ("windows-server", "datacenter", "2022", "core"): 32,
        ("windows-server", "standard", "2019", "core"): 16,
    }


def test_an_extra_export_is_named_not_refused(tmp_path: Path, catalog: Catalog) -> None:
    """A Get-VMNetworkAdapter export beside the others is skipped with file-not-used (the rest
    imports as above: 4 VMs); alone, it is refused."""
    extra = tmp_path / "Get-VMNetworkAdapter.csv"
    extra.write_text('"VMName","SwitchName","MacAddress"\n"WEB01","LAN","00155D010203"\n')
    result = import_hyperv([*sorted(SAMPLES.glob("*.csv")), extra], catalog)
    assert result.ok, result.problems
    assert len(rows(result, "oses")) == 4
    unused = [f for f in result.findings if f.code == "file-not-used"]
    assert len(unused) == 1 and "Get-VMNetworkAdapter.csv skipped" in unused[0].message
    alone = import_hyperv([extra], catalog)
    assert [p.message for p in alone.problems] == ["not a Hyper-V export this importer knows"]


def test_a_sam_vm_list_joins_get_vm_by_guid(tmp_path: Path, catalog: Catalog) -> None:
    """Get-VM names a VM "APP 09 (new)" (VMId 1111…) on HV21; the SAM list names it by its
    GUID (same id, braces and capitals as WMI writes them) with FQDN app09.contoso.com,
    EnabledState 2 (running) and OSName "Windows Server 2022 Standard". One VM, id app09,
    Running, vCPUs from Get-VM (2), Standard 2022. A second list row, EnabledState 3 (off), a
    VM Get-VM does not list (GUID 2222…), is a VM of its own: app10, Off."""
    get_vm = tmp_path / "Get-VM.csv"
    get_vm.write_text(
        '"Name","State","ProcessorCount","ComputerName","VMId"\n'
        '"APP 09 (new)","Running","2","HV21","11111111-aaaa-4bbb-8ccc-000000000009"\n'
    )
    vm_list = tmp_path / "HyperVVMList.csv"
    vm_list.write_text(
        '"FQDN","OSName","HyperV_Name","EnabledState","Host","GUID"\n'
        '"app09.contoso.com","Windows Server 2022 Standard","APP 09 (new)","2","HV21",'
        '"{11111111-AAAA-4BBB-8CCC-000000000009}"\n'
        '"app10.contoso.com","Windows Server 2022 Standard","APP10","3","HV21",'
        '"{22222222-AAAA-4BBB-8CCC-000000000010}"\n'
    )
    result = import_hyperv([get_vm, vm_list], catalog)
    assert result.ok, result.problems
    oses = {r["ose"]: (r["host"], r.get("vcpus"), r["powerstate"]) for r in rows(result, "oses")}
    assert oses == {"app09": ("hv21", "2", "Running"), "app10": ("hv21", None, "Off")}
    software = {(r["ose"], r["edition"], r["version"]) for r in rows(result, "software")}
    assert software == {("app09", "standard", "2022"), ("app10", "standard", "2022")}
