"""Azure and AWS inventory imports of tests/fixtures/cloud (issue #16 item 7).

Every count is worked out by hand from the sample files (make_cloud.py lists each VM and
instance with what it is for). The estate contract is "Additions, version 2" of the estate
format: hosts ``provider``/``dedicated`` (blank processors and cores on a provider's shared
host), software ``model`` = ``provider`` (license included) or ``byol`` (the organisation's own
licenses: Azure Hybrid Benefit, Windows BYOL on a dedicated host …).
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path

import pytest
from exportkit import rows, skipped, write_export
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from entitle.catalog import Catalog, default_catalog
from entitle.cli.main import app
from entitle.estate.loader import load_estate
from entitle.importers.aws import import_aws
from entitle.importers.azure import _sql_image, _windows_image, import_azure
from entitle.importers.cloud import read_vcpus_map, size_table
from entitle.importers.merge import merge
from tiers import examples

CLOUD = Path(__file__).resolve().parents[1] / "fixtures" / "cloud"
AZ_VMS = CLOUD / "azure" / "az-vm-list.json"
AZ_SQL = CLOUD / "azure" / "az-sql-vm-list.json"
GRAPH = CLOUD / "azure" / "resource-graph.csv"
EC2 = CLOUD / "aws" / "describe-instances.json"
EC2_HOSTS = CLOUD / "aws" / "describe-hosts.json"
EC2_IMAGES = CLOUD / "aws" / "describe-images.json"


def line_of(path: Path, text: str) -> int:
    """The line of ``path`` that holds ``text`` (found in the fixture, not by the importer)."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def software(result: object) -> set[tuple[str, str, str, str, str]]:
    return {
        (r["ose"], r["product"], r["edition"], r["version"], r["model"])
        for r in rows(result, "software")  # type: ignore[arg-type]
    }


def codes(result: object) -> set[str]:
    return {f.code for f in result.findings}  # type: ignore[attr-defined]


# -- Azure ---------------------------------------------------------------------------------------


def test_az_vm_list_with_the_sql_extension_records() -> None:
    """10 VMs in az-vm-list.json:
    - web01 (name vm-web01-weu, computerName WEB01 → the OSE id), 2022-datacenter-azure-edition,
      licenseType Windows_Server (Azure Hybrid Benefit) → windows-server datacenter 2022 byol;
      Standard_D4s_v5 → 4 vCPUs (Dsv5 page);
    - app01, 2019-Datacenter, Windows_Server → byol; D8s_v3 → 8;
    - fs01, 2016-Datacenter-smalldisk, no licenseType (license included) → provider; B2ms → 2;
    - sql01, MicrosoftSQLServer sql2019-ws2019 enterprise, Windows_Server, az sql vm AHUB →
      windows-server 2019 byol (edition not in the image: datacenter assumed) and sql-server
      enterprise 2019 byol; E8-4ds_v5 (constrained) → 4 vCPUs, not 8;
    - sql02, sql2022-ws2022 standard-gen2, no licenseType, az sql vm PAYG → windows-server 2022
      provider (datacenter assumed), sql-server standard 2022 provider; E4s_v5 → 4;
    - sqldr, sql2019-ws2019 enterprise, Windows_Server, az sql vm DR → both byol, with the
      passive-primary-unknown finding; E8-4ds_v5 → 4;
    - lnx01 Ubuntu → skipped (Linux without SQL Server);
    - dh01vm on Dedicated Host dh-weu-01, 2019, Windows_Server → byol; D16s_v3 → 16;
    - avd01 Windows 11 (Windows_Client) → skipped;
    - big01 Standard_M416ms_v2, not in the size table → skipped, finding vcpus-unknown.
    So 7 VMs; windows-server byol 5 (web01, app01, sql01, sqldr, dh01vm), provider 2 (fs01,
    sql02); sql-server byol 2 (sql01, sqldr), provider 1 (sql02). az-sql-vm-list.json has a 4th
    record, oldsql, whose VM is not in the list → skipped. Hosts: azure-westeurope (web01, app01,
    sql01, sql02), azure-northeurope (fs01, sqldr), dh-weu-01 (cores unknown: placeholder)."""
    result = import_azure([AZ_VMS, AZ_SQL])
    assert result.ok, result.problems
    oses = {r["ose"]: (r["host"], r["vcpus"]) for r in rows(result, "oses")}
    assert oses == {
        "web01": ("azure-westeurope", "4"),
        "app01": ("azure-westeurope", "8"),
        "fs01": ("azure-northeurope", "2"),
        "sql01": ("azure-westeurope", "4"),
        "sql02": ("azure-westeurope", "4"),
        "sqldr": ("azure-northeurope", "4"),
        "dh01vm": ("dh-weu-01", "16"),
    }
    assert software(result) == {
        ("web01", "windows-server", "datacenter", "2022", "byol"),
        ("app01", "windows-server", "datacenter", "2019", "byol"),
        ("fs01", "windows-server", "datacenter", "2016", "provider"),
        ("sql01", "windows-server", "datacenter", "2019", "byol"),
        ("sql01", "sql-server", "enterprise", "2019", "byol"),
        ("sql02", "windows-server", "datacenter", "2022", "provider"),
        ("sql02", "sql-server", "standard", "2022", "provider"),
        ("sqldr", "windows-server", "datacenter", "2019", "byol"),
        ("sqldr", "sql-server", "enterprise", "2019", "byol"),
        ("dh01vm", "windows-server", "datacenter", "2019", "byol"),
    }
    assert dict(result.mapped) == {
        "VMs": 7,
        "Windows Server VMs (byol)": 5,
        "Windows Server VMs (provider)": 2,
        "SQL Server VMs (byol)": 2,
        "SQL Server VMs (provider)": 1,
    }
    hosts = {r["host"]: r for r in rows(result, "hosts")}
    assert set(hosts) == {"azure-westeurope", "azure-northeurope", "dh-weu-01"}
    shared = hosts["azure-westeurope"]
    assert (shared["provider"], shared["dedicated"]) == ("azure", "no")
    assert (shared["processors"], shared["cores_per_processor"]) == ("", "")
    dedicated = hosts["dh-weu-01"]
    assert (dedicated["provider"], dedicated["dedicated"], dedicated["placeholder"]) == (
        "azure",
        "yes",
        "yes",
    )
    assert skipped(result) == {
        "Linux VM without SQL Server: no Microsoft server license": 1,
        "Windows client VM (Windows_Client, Windows 10/11): not a server": 1,
        "VM size with no known vCPU count (give --vcpus-map)": 1,
        "az sql vm list row for a VM not in the VM inventory": 1,
    }
    big = next(s for s in result.skipped if s.reason.startswith("VM size"))
    assert [e.line for e in big.examples] == [line_of(AZ_VMS, 'virtualMachines/big01"')]
    assert codes(result) == {
        "cores-unknown",
        "vcpus-unknown",
        "edition-assumed",
        "passive-primary-unknown",
    }
    assumed = next(f for f in result.findings if f.code == "edition-assumed")
    assert assumed.message.startswith("3 Windows Server VM(s)")  # sql01, sql02, sqldr


def test_without_the_sql_records_the_license_type_is_an_assumption() -> None:
    """Without az sql vm list, the 3 SQL images are taken as pay-as-you-go (model provider) and
    the summary says so; Windows stays as licenseType says (sql01, sqldr byol)."""
    result = import_azure([AZ_VMS])
    sql = {(r["ose"], r["model"]) for r in rows(result, "software") if r["product"] == "sql-server"}
    assert sql == {("sql01", "provider"), ("sql02", "provider"), ("sqldr", "provider")}
    assert "sql-license-type-assumed" in codes(result)
    assert "passive-primary-unknown" not in codes(result)


def test_resource_graph_csv() -> None:
    """resource-graph.csv, 5 rows: web02 (2019-datacenter, Windows_Server → byol, D2s_v3 → 2),
    sql03 (sql2019-ws2022 standard-gen2, no licenseType, no SQL record → windows-server 2022
    provider with datacenter assumed, sql-server standard 2019 provider assumed; E4s_v5 → 4),
    custom01 (Windows from a gallery image: no version → the OSE, no software row, finding),
    lnx02 (RHEL → skipped, line 5), odd01 (Standard_X9_v9 unknown → skipped, line 6). Hosts:
    azure-eastus (web02, sql03), azure-westus2 (custom01)."""
    result = import_azure([GRAPH])
    assert result.ok, result.problems
    oses = {r["ose"]: (r["host"], r["vcpus"]) for r in rows(result, "oses")}
    assert oses == {
        "web02": ("azure-eastus", "2"),
        "sql03": ("azure-eastus", "4"),
        "custom01": ("azure-westus2", "4"),
    }
    assert software(result) == {
        ("web02", "windows-server", "datacenter", "2019", "byol"),
        ("sql03", "windows-server", "datacenter", "2022", "provider"),
        ("sql03", "sql-server", "standard", "2019", "provider"),
    }
    assert {r["host"] for r in rows(result, "hosts")} == {"azure-eastus", "azure-westus2"}
    lines = {s.reason: [e.line for e in s.examples] for s in result.skipped}
    assert lines == {
        "Linux VM without SQL Server: no Microsoft server license": [5],
        "VM size with no known vCPU count (give --vcpus-map)": [6],
        "Windows Server VM whose image names no version (add its software.csv row)": [4],
    }
    assert codes(result) == {
        "vcpus-unknown",
        "edition-assumed",
        "version-unknown",
        "sql-license-type-assumed",
    }


def test_a_vcpus_map_names_an_unknown_size(tmp_path: Path) -> None:
    """--vcpus-map with Standard_X9_v9 = 6: odd01 is mapped (6 vCPUs, 2022 datacenter from its
    image, no licenseType → provider), the finding is gone; 4 VMs now."""
    sizes_file = write_export(tmp_path / "sizes.csv", ["size", "vcpus"], [["standard_x9_v9", "6"]])
    sizes, problems = read_vcpus_map(sizes_file)
    assert problems == [] and sizes == {"standard_x9_v9": 6}
    result = import_azure([GRAPH], sizes)
    assert {r["ose"]: r["vcpus"] for r in rows(result, "oses")}["odd01"] == "6"
    assert ("odd01", "windows-server", "datacenter", "2022", "provider") in software(result)
    assert dict(result.mapped)["VMs"] == 4
    assert "vcpus-unknown" not in codes(result)


def test_resource_graph_headers_with_underscores_or_a_properties_column(tmp_path: Path) -> None:
    """Projecting without aliases writes properties_hardwareProfile_vmSize …; exporting the whole
    row writes one properties column of JSON. Both read like the dotted header: a Windows
    Server 2019 Datacenter VM under Azure Hybrid Benefit, D4s_v5 → 4 vCPUs, byol."""
    flat = write_export(
        tmp_path / "flat.csv",
        [
            "name",
            "location",
            "properties_hardwareProfile_vmSize",
            "properties_licenseType",
            "properties_storageProfile_imageReference_publisher",
            "properties_storageProfile_imageReference_sku",
        ],
        [
            [
                "vm1",
                "westeurope",
                "Standard_D4s_v5",
                "Windows_Server",
                "MicrosoftWindowsServer",
                "2019-datacenter",
            ]
        ],
    )
    properties = {
        "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
        "licenseType": "Windows_Server",
        "storageProfile": {
            "imageReference": {"publisher": "MicrosoftWindowsServer", "sku": "2019-datacenter"}
        },
    }
    whole = write_export(
        tmp_path / "whole.csv",
        ["name", "location", "type", "properties"],
        [["vm2", "westeurope", "microsoft.compute/virtualmachines", json.dumps(properties)]],
    )
    result = import_azure([flat, whole])
    assert result.ok, result.problems
    assert {r["ose"]: r["vcpus"] for r in rows(result, "oses")} == {"vm1": "4", "vm2": "4"}
    assert software(result) == {
        ("vm1", "windows-server", "datacenter", "2019", "byol"),
        ("vm2", "windows-server", "datacenter", "2019", "byol"),
    }


def test_the_size_table_names_its_sources() -> None:
    """Constrained sizes count their active vCPUs (E8-4ds_v5 = 4); every series has a source."""
    table = size_table()
    assert table["standard_e8-4ds_v5"] == 4 and table["standard_ds3_v2"] == 4
    assert table["standard_d96s_v5"] == 96
    data = tomllib.loads(
        (Path(__file__).resolve().parents[2] / "src/entitle/importers/data/cloud.toml").read_text()
    )
    assert all(e["source"].startswith("https://learn.microsoft.com/") for e in data["azure"])
    assert data["aws"]["source"].startswith("https://docs.aws.amazon.com/")


# -- AWS -----------------------------------------------------------------------------------------


def test_describe_instances_hosts_and_images(catalog: Catalog) -> None:
    """describe-instances.json, 8 instances:
    - dc01: Windows (RunInstances:0002), default tenancy, us-east-1a, 2 cores × 2 threads → 4
      vCPUs; AMI Windows_Server-2022 → windows-server 2022 provider (datacenter assumed);
    - sqlent01: Windows with SQL Server Enterprise, us-east-1b, 4×2 → 8; AMI …2019…SQL_2019 →
      windows-server 2019 provider (datacenter assumed) and sql-server enterprise 2019 provider;
    - app02: Windows BYOL (RunInstances:0800), Tenancy host on h-0a1b2c3d4e5f60001, 8×2 → 16;
      its AMI's description says Windows Server 2019 Standard → byol standard 2019;
    - app03: Windows BYOL, Tenancy dedicated (a Dedicated Instance), 2×2 → 4, on a placeholder
      dedicated host of 1 processor × 2 cores (its cores); its AMI is not in describe-images → no
      software row (skipped, finding version-unknown);
    - web03: Linux/UNIX → skipped; old01: terminated → skipped;
    - i-0a1b2c3d4e5f60007: no Name tag (the id is the OSE), no PlatformDetails: UsageOperation
      RunInstances:0006 = Windows with SQL Server Standard, us-east-1c, 4×2 → 8 → windows-server
      2019 provider (datacenter assumed) and sql-server standard 2019 provider;
    - lnxsql01: SQL Server Web on Linux, eu-west-1b, 1×2 → 2 → sql-server web 2019 provider.
    6 instances mapped; windows-server provider 3 (dc01, sqlent01, i-…07), byol 1 (app02);
    sql-server provider 3. describe-hosts: h-0a1b2c3d4e5f60001 available, 2 sockets, 48 cores →
    2 × 24; h-0a1b2c3d4e5f60002 released → skipped. Hosts: that one, unknown-host-of-app03,
    aws-us-east-1 (dc01, sqlent01, i-…07), aws-eu-west-1 (lnxsql01)."""
    result = import_aws([EC2, EC2_HOSTS, EC2_IMAGES], catalog)
    assert result.ok, result.problems
    oses = {r["ose"]: (r["host"], r["vcpus"]) for r in rows(result, "oses")}
    assert oses == {
        "dc01": ("aws-us-east-1", "4"),
        "sqlent01": ("aws-us-east-1", "8"),
        "app02": ("h-0a1b2c3d4e5f60001", "16"),
        "app03": ("unknown-host-of-app03", "4"),
        "i-0a1b2c3d4e5f60007": ("aws-us-east-1", "8"),
        "lnxsql01": ("aws-eu-west-1", "2"),
    }
    assert software(result) == {
        ("dc01", "windows-server", "datacenter", "2022", "provider"),
        ("sqlent01", "windows-server", "datacenter", "2019", "provider"),
        ("sqlent01", "sql-server", "enterprise", "2019", "provider"),
        ("app02", "windows-server", "standard", "2019", "byol"),
        ("i-0a1b2c3d4e5f60007", "windows-server", "datacenter", "2019", "provider"),
        ("i-0a1b2c3d4e5f60007", "sql-server", "standard", "2019", "provider"),
        ("lnxsql01", "sql-server", "web", "2019", "provider"),
    }
    hosts = {r["host"]: r for r in rows(result, "hosts")}
    assert set(hosts) == {
        "h-0a1b2c3d4e5f60001",
        "unknown-host-of-app03",
        "aws-us-east-1",
        "aws-eu-west-1",
    }
    host = hosts["h-0a1b2c3d4e5f60001"]
    assert (
        host["provider"],
        host["dedicated"],
        host["processors"],
        host["cores_per_processor"],
    ) == (
        "aws",
        "yes",
        "2",
        "24",
    )
    placeholder = hosts["unknown-host-of-app03"]
    assert (
        placeholder["dedicated"],
        placeholder["cores_per_processor"],
        placeholder["placeholder"],
    ) == (
        "yes",
        "2",
        "yes",
    )
    assert (hosts["aws-eu-west-1"]["dedicated"], hosts["aws-eu-west-1"]["processors"]) == ("no", "")
    assert dict(result.mapped) == {
        "instances": 6,
        "Dedicated Hosts": 1,
        "Windows Server instances (provider)": 3,
        "Windows Server instances (byol)": 1,
        "SQL Server instances (provider)": 3,
    }
    assert skipped(result) == {
        "Linux instance without SQL Server: no Microsoft server license": 1,
        "terminated (or shutting-down) instance": 1,
        "Dedicated Host already released": 1,
        "windows-server whose version the instance does not give (add describe-images)": 1,
    }
    terminated = next(
        s for s in result.skipped if s.reason == "terminated (or shutting-down) instance"
    )
    assert [e.line for e in terminated.examples] == [line_of(EC2, '"i-0a1b2c3d4e5f60006"')]
    assert codes(result) == {"vm-host-unknown", "version-unknown", "edition-assumed"}


def test_without_describe_hosts_a_dedicated_host_is_a_placeholder(catalog: Catalog) -> None:
    """Only describe-instances: app02's host h-0a1b2c3d4e5f60001 has no cores → 1 × 1
    placeholder (weak), finding cores-unknown; no AMI names a version, so none of the 8
    products (windows-server on dc01, sqlent01, app02, app03, i-…07; sql-server on sqlent01,
    i-…07, lnxsql01) gets a software row: 5 + 3 skipped."""
    result = import_aws([EC2], catalog)
    host = next(r for r in rows(result, "hosts") if r["host"] == "h-0a1b2c3d4e5f60001")
    assert (host["processors"], host["cores_per_processor"], host["placeholder"]) == (
        "1",
        "1",
        "yes",
    )
    assert next(r for r in result.rows["hosts"] if r.cells["host"] == host["host"]).weak
    assert rows(result, "software") == []
    counts = skipped(result)
    assert (
        counts["windows-server whose version the instance does not give (add describe-images)"] == 5
    )
    assert counts["sql-server whose version the instance does not give (add describe-images)"] == 3
    assert "cores-unknown" in codes(result)


# -- merging ------------------------------------------------------------------------------------


def test_merging_twice_changes_nothing_and_keeps_what_the_estate_says(catalog: Catalog) -> None:
    """Merge the AWS import into an empty estate: 4 hosts, 6 OSEs, 7 software rows added (the
    counts above); merge it again: nothing added or updated. A human then writes the cores of
    the Dedicated Instance's placeholder (1 × 4): the weak placeholder row does not overwrite it."""
    result = import_aws([EC2, EC2_HOSTS, EC2_IMAGES], catalog)
    tables, first = merge({}, result.rows)
    assert (first.added["hosts"], first.added["oses"], first.added["software"]) == (4, 6, 7)
    assert {"provider", "dedicated"} <= set(tables["hosts"].header)
    assert "replaces" in tables["oses"].header
    tables["hosts"].rows[("unknown-host-of-app03",)]["cores_per_processor"] = "4"
    tables, second = merge(tables, result.rows)
    assert sum(second.added.values()) == 0 and sum(second.updated.values()) == 0
    assert tables["hosts"].rows[("unknown-host-of-app03",)]["cores_per_processor"] == "4"


# -- refusals -----------------------------------------------------------------------------------


def test_bad_json_is_file_line_exit_2_and_nothing_written(tmp_path: Path) -> None:
    """A cut JSON file: the error names line 3, where the value is missing."""
    bad = tmp_path / "vms.json"
    bad.write_text('[\n  {"name": "vm1",\n   "location": }\n]\n')
    estate = tmp_path / "estate"
    result = CliRunner().invoke(app, ["import", "azure", str(bad), "--into", str(estate)])
    assert result.exit_code == 2, result.output
    assert f"{bad}:3: not valid JSON" in result.output
    assert "Traceback" not in result.output
    assert not estate.exists()


@pytest.mark.parametrize("kind", ["azure", "aws"])
def test_an_import_that_maps_nothing_is_refused(kind: str, tmp_path: Path) -> None:
    """One Linux VM or instance and nothing else: no row to write → exit 2, with the reason."""
    path = tmp_path / f"{kind}.json"
    if kind == "azure":
        vm = {
            "name": "lnx",
            "location": "westeurope",
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {"osDisk": {"osType": "Linux"}},
        }
        path.write_text(json.dumps([vm]))
        expected = "nothing to import: 1 Azure records read, none mapped"
    else:
        instance = {
            "InstanceId": "i-1",
            "PlatformDetails": "Linux/UNIX",
            "State": {"Name": "running"},
        }
        path.write_text(json.dumps({"Reservations": [{"Instances": [instance]}]}))
        expected = "nothing to import: 1 EC2 records read, none mapped"
    estate = tmp_path / "estate"
    result = CliRunner().invoke(app, ["import", kind, str(path), "--into", str(estate)])
    assert result.exit_code == 2, result.output
    assert f"{path}:1: {expected}" in result.output
    assert "Linux" in result.output
    assert not estate.exists()


def test_files_that_are_not_these_exports_are_refused(tmp_path: Path) -> None:
    """A JSON array given to aws, and a CSV without vmSize given to azure."""
    array = tmp_path / "list.json"
    array.write_text("[]")
    runner = CliRunner()
    result = runner.invoke(app, ["import", "aws", str(array), "--into", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert f"{array}:1: not AWS CLI output this importer knows" in result.output
    other = write_export(tmp_path / "other.csv", ["name", "owner"], [["vm1", "ops"]])
    result = runner.invoke(app, ["import", "azure", str(other), "--into", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert f"{other}:1: not an Azure VM export this importer knows" in result.output


def test_a_bad_vcpus_map_is_file_line(tmp_path: Path) -> None:
    """Line 3 of the map has vcpus 'four': refused with its line."""
    sizes = write_export(
        tmp_path / "sizes.csv", ["size", "vcpus"], [["Standard_X9_v9", "6"], ["Standard_Y", "four"]]
    )
    result = CliRunner().invoke(
        app,
        ["import", "azure", str(GRAPH), "--into", str(tmp_path / "e"), "--vcpus-map", str(sizes)],
    )
    assert result.exit_code == 2
    assert f"{sizes}:3: size 'Standard_Y' with vcpus 'four'" in result.output


# -- end to end (once the estate loader reads the version-2 cloud columns) ----------------------


def _loader_reads_cloud_columns(tmp_path: Path) -> bool:
    """Whether the estate loader accepts a provider's shared host with blank cores and a
    software model byol (another branch teaches it; until then the merged estate is refused)."""
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "hosts.csv").write_text(
        "host,processors,cores_per_processor,provider,dedicated\naws-x,,,aws,no\n"
    )
    (folder / "oses.csv").write_text("ose,host,virtual,vcpus\nv,aws-x,yes,4\n")
    (folder / "software.csv").write_text(
        "ose,product,edition,version,model\nv,windows-server,datacenter,2022,byol\n"
    )
    estate, _ = load_estate(folder)
    return estate is not None


def test_the_command_writes_the_estate_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    """entitle import azure of the VM list and the SQL records: +3 hosts, +7 OSEs, +10 software
    rows (the first test's counts); the same command again: +0 new, 0 updated everywhere."""
    if not _loader_reads_cloud_columns(tmp_path):
        pytest.skip("the estate loader does not read hosts provider/dedicated and model byol yet")
    estate = tmp_path / "estate"
    runner = CliRunner()
    args = ["import", "azure", str(AZ_VMS), str(AZ_SQL), "--into", str(estate), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    written = json.loads(first.stdout)["written"]
    assert (written["hosts"]["added"], written["oses"]["added"], written["software"]["added"]) == (
        3,
        7,
        10,
    )
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert all(
        t["added"] == 0 and t["updated"] == 0 for t in json.loads(again.stdout)["written"].values()
    )


ODD_JSON = {
    "azure-not-objects.json": '[1, "x", null, []]',
    "azure-deep.json": "[" * 100_000 + "]" * 100_000,
    "azure-nulls.json": json.dumps(
        [{"name": None, "hardwareProfile": None, "osProfile": {"computerName": None}}]
    ),
    "aws-odd-numbers.json": '{"Reservations": [{"Instances": [{"InstanceId": "i-1", '
    '"Platform": "windows", "CpuOptions": {"CoreCount": NaN, "ThreadsPerCore": 1e400}}]}]}',
    "aws-wrong-types.json": '{"Reservations": {"Instances": 3}, "Hosts": [null, {"HostId": 7,'
    ' "HostProperties": "x"}], "Images": [1]}',
}


@pytest.mark.parametrize("name", sorted(ODD_JSON))
def test_odd_json_is_refused_or_skipped_never_a_traceback(
    name: str, catalog: Catalog, tmp_path: Path
) -> None:
    """JSON that parses but is not an inventory (or nests 100,000 deep): each file is refused
    with its line, because no row maps (NaN cores, a null name, the wrong types are skipped)."""
    path = tmp_path / name
    path.write_text(ODD_JSON[name])
    result = import_azure([path]) if name.startswith("azure") else import_aws([path], catalog)
    assert not result.ok
    assert all(p.source.file == str(path) and p.source.line for p in result.problems)


def test_two_vms_with_one_computer_name_stay_two_oses(catalog: Catalog, tmp_path: Path) -> None:
    """Azure: vm-a and vm-b both have computerName APP → app and vm-b. AWS: two instances tagged
    web → web and i-2 (the InstanceId). Each import carries the finding duplicate-name."""
    vm = {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {
            "imageReference": {"publisher": "MicrosoftWindowsServer", "sku": "2022-datacenter"}
        },
        "osProfile": {"computerName": "APP"},
        "location": "westeurope",
    }
    azure = tmp_path / "vms.json"
    azure.write_text(json.dumps([{**vm, "name": "vm-a"}, {**vm, "name": "vm-b"}]))
    result = import_azure([azure])
    assert [r["ose"] for r in rows(result, "oses")] == ["app", "vm-b"]
    assert "duplicate-name" in codes(result)
    instance = {
        "PlatformDetails": "Windows",
        "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
        "Tags": [{"Key": "Name", "Value": "web"}],
        "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
    }
    aws = tmp_path / "instances.json"
    both = [{**instance, "InstanceId": "i-1"}, {**instance, "InstanceId": "i-2"}]
    aws.write_text(json.dumps({"Reservations": [{"Instances": both}]}))
    result = import_aws([aws], catalog)
    assert [r["ose"] for r in rows(result, "oses")] == ["web", "i-2"]
    assert "duplicate-name" in codes(result)
    again = import_aws([aws, aws], catalog)  # the same file twice: each instance once
    assert [r["ose"] for r in rows(again, "oses")] == ["web", "i-2"]
    assert skipped(again)["the same instance again (in another file, or listed twice)"] == 2


def test_sql_records_join_a_csv_without_ids_by_name(tmp_path: Path) -> None:
    """resource-graph.csv has no id column: an az sql vm list record named sql03 (AHUB) joins
    its VM by name → sql-server standard 2019 byol, and no license type is assumed."""
    record = {
        "name": "sql03",
        "type": "Microsoft.SqlVirtualMachine/sqlVirtualMachines",
        "sqlServerLicenseType": "AHUB",
        "sqlImageOffer": "SQL2019-WS2022",
        "sqlImageSku": "Standard",
    }
    sql = tmp_path / "sqlvms.json"
    sql.write_text(json.dumps([record]))
    result = import_azure([GRAPH, sql])
    assert ("sql03", "sql-server", "standard", "2019", "byol") in software(result)
    assert "sql-license-type-assumed" not in codes(result)


def test_one_vm_in_two_exports_stays_one_and_same_names_in_two_groups_stay_two(
    tmp_path: Path,
) -> None:
    """app in resource group rg-a, listed by az vm list and by Resource Graph → one OSE; an app
    in rg-b with the same computer name → a second OSE (app-2: its VM name is app too)."""
    vm = {
        "name": "app",
        "resourceGroup": "rg-a",
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {
            "imageReference": {"publisher": "MicrosoftWindowsServer", "sku": "2022-datacenter"}
        },
        "location": "westeurope",
    }
    listed = tmp_path / "vms.json"
    listed.write_text(json.dumps([vm, {**vm, "resourceGroup": "rg-b"}]))
    graph = write_export(
        tmp_path / "graph.csv",
        [
            "name",
            "resourceGroup",
            "location",
            "properties.hardwareProfile.vmSize",
            "properties.storageProfile.imageReference.publisher",
            "properties.storageProfile.imageReference.sku",
        ],
        [
            [
                "app",
                "rg-a",
                "westeurope",
                "Standard_D2s_v5",
                "MicrosoftWindowsServer",
                "2022-datacenter",
            ]
        ],
    )
    result = import_azure([listed, graph])
    assert [r["ose"] for r in rows(result, "oses")] == ["app", "app-2"]
    assert skipped(result) == {"the same VM again (in another export, or listed twice)": 1}


@pytest.mark.parametrize(
    ("publisher", "offer", "sku", "expected"),
    [
        ("microsoftwindowsserver", "windowsserver", "2012-r2-datacenter", ("datacenter", "2012r2")),
        (
            "microsoftwindowsserver",
            "windowsserver",
            "2016-datacenter-server-core-smalldisk",
            ("datacenter", "2016"),
        ),
        (
            "microsoftwindowsserver",
            "windowsserver",
            "2025-datacenter-azure-edition",
            ("datacenter", "2025"),
        ),
        # a Semi-Annual Channel image: 2004 names no Windows Server version the catalog has
        (
            "microsoftwindowsserver",
            "windowsserver",
            "datacenter-core-2004-with-containers-smalldisk",
            ("datacenter", None),
        ),
        # SQL Server images name Windows by version only (ws2016): the edition is assumed
        ("microsoftsqlserver", "sql2017-ws2016", "standard", (None, "2016")),
    ],
)
def test_windows_server_from_image_names(
    publisher: str, offer: str, sku: str, expected: tuple[str | None, str | None]
) -> None:
    assert _windows_image(publisher, offer, sku) == expected


@pytest.mark.parametrize(
    ("offer", "sku", "expected"),
    [
        ("sql2019-ws2019", "enterprise", ("enterprise", "2019")),
        ("sql2022-ws2022", "enterprisedbengineonly-gen2", ("enterprise", "2022")),
        ("sql2016sp2-ws2016", "sqldev", ("developer", "2016")),
        ("sql2019-ubuntu2004", "web", ("web", "2019")),
        ("sql2017-ws2019", "express", ("express", "2017")),
    ],
)
def test_sql_server_from_image_names(
    offer: str, sku: str, expected: tuple[str | None, str | None]
) -> None:
    assert _sql_image(offer, sku) == expected


# Keys the importers read, so that random documents reach past the first checks.
KEYS = st.sampled_from(
    [
        "name", "id", "location", "hardwareProfile", "vmSize", "storageProfile", "osDisk",
        "osType", "imageReference", "publisher", "offer", "sku", "licenseType", "host",
        "sqlServerLicenseType", "Reservations", "Instances", "InstanceId", "PlatformDetails",
        "Placement", "Tenancy", "HostId", "CpuOptions", "CoreCount", "Hosts", "HostProperties",
        "Cores", "Sockets", "Images", "ImageId", "Tags", "State",
    ]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


@settings(
    max_examples=examples(30, 60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(document=DOCUMENTS)
def test_any_json_document_is_rows_or_problems_never_an_exception(document: object) -> None:
    """Whatever JSON a file holds, both importers return rows or FILE:LINE problems."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.json"
        path.write_text(json.dumps(document))
        for result in (import_azure([path]), import_aws([path], default_catalog())):
            assert result.ok or all(p.source.line for p in result.problems)
            for row in result.rows.get("oses", ()):
                assert 1 <= int(row.cells["vcpus"]) <= 4096
