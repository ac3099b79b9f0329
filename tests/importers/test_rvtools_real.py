"""RVTools as people export it (issue #15 item 3): -DBColumnNames headers, vInfo-only exports,
hosts vHost does not list, VMs told apart by DNS name, Windows guests without an edition, and
errors at the workbook's sheet and row. Samples: tests/fixtures/rvtools/ (SOURCE.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
from exportkit import rows, skipped
from typer.testing import CliRunner

from entitle.catalog import Catalog
from entitle.cli.main import app
from entitle.importers.rvtools import import_rvtools

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rvtools"
runner = CliRunner()


def codes(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.code for f in result.findings}


def test_db_column_names(catalog: Catalog) -> None:
    """dbcolumns/: vHost esx11 = vHostNumCpu 2 × vHostCoresPerCPU 12, cluster C1. vInfo: five
    rows; TPL-W2022 is a template (skipped); two VMs are both named WEB01 but their DNS names
    (vInfoGuestHostName) and UUIDs differ, so they stay two OSEs under their full DNS names
    (finding short-name-collision); APP07 runs on esx99, which vHost does not list: a placeholder
    of 1 × 1 in vInfo's cluster C2 (finding cores-unknown). The three Windows guests name no
    edition: blank, with the versions named (2019, 2022, 2016) exactly. APP07's vInfoCPUs is
    blank: the vCPU sheet's vCPUCPUs gives 4."""
    result = import_rvtools(sorted((SAMPLES / "dbcolumns").glob("*.csv")), catalog)
    assert result.ok, result.problems
    hosts = {
        r["host"]: (r["processors"], r["cores_per_processor"], r["cluster"], r.get("placeholder"))
        for r in rows(result, "hosts")
    }
    assert hosts == {"esx11": ("2", "12", "C1", None), "esx99": ("1", "1", "C2", "yes")}
    oses = {r["ose"]: (r["host"], r["vcpus"]) for r in rows(result, "oses")}
    assert oses == {
        "web01.prod.contoso.com": ("esx11", "2"),
        "web01.test.contoso.com": ("esx11", "2"),
        "lnx02": ("esx11", "4"),
        "app07": ("esx99", "4"),
    }
    software = {(r["ose"], r["edition"], r["version"]) for r in rows(result, "software")}
    assert software == {
        ("web01.prod.contoso.com", "", "2019"),
        ("web01.test.contoso.com", "", "2022"),
        ("app07", "", "2016"),
    }
    assert skipped(result) == {"template, not a VM": 1}
    found = codes(result)
    assert {"short-name-collision", "cores-unknown", "edition-unknown"} <= found
    assert {"sql-server-invisible", "no-migration-history"} <= found
    assert "version-assumed" not in found


def test_rvtools_only_estate_is_never_compliant_at_zero(tmp_path: Path) -> None:
    """The dbcolumns/ estate, imported alone, then `entitle position`.

    esx11 (2 × 12 cores) runs two Windows VMs of unknown edition: all cores, at least 8 per
    processor and 16 per server (§3.1) → 24 core licenses; Standard covers 2 OSEs per full
    licensing → 1 × 24 Standard, against 24 Datacenter: Standard costs less per core, so
    Standard, of the newest version there (2022). esx99, a 1 × 1 placeholder, runs APP07 →
    16 core licenses (the per-server minimum), Standard 2016. Nothing is owned, so all short."""
    estate = tmp_path / "estate"
    imported = runner.invoke(
        app, ["import", "rvtools", str(SAMPLES / "dbcolumns"), "--into", str(estate)]
    )
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(app, ["position", str(estate), "--json", "--as-of", "2025-09-01"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    required = {
        (line["product"], line["edition"], line["version"], line["license"]): line["required"]
        for line in report["lines"]
    }
    assert required == {
        ("windows-server", "standard", "2022", "core"): 24,
        ("windows-server", "standard", "2016", "core"): 16,
    }
    assert report["total_cost"] > 0
    assert "edition-unknown" in {f["code"] for f in report["findings"]}


def _vinfo_workbook(path: Path) -> Path:
    """vinfo-only/RVTools_tabvInfo.csv as the one-sheet workbook -c ExportvInfo2xlsx writes."""
    with (SAMPLES / "vinfo-only" / "RVTools_tabvInfo.csv").open(encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "vInfo"
    for row in table:
        sheet.append(row)
    book.save(path)
    return path


def test_vinfo_only_export(tmp_path: Path, catalog: Catalog) -> None:
    """vinfo-only/: no vHost. FS05 and DC05 on esx21, SQL05 on esx22, all in cluster West →
    two placeholder hosts (1 × 1, cluster West), finding cores-unknown naming the missing vHost.
    Versions: FS05 2019 as named; DC05's configuration file says "2016 or later" but VMware Tools
    says 2022, and Tools wins → 2022; SQL05 has only "2016 or later" → the newest version the
    catalog knows (2025), finding version-assumed. All three editions blank."""
    for path in (
        SAMPLES / "vinfo-only" / "RVTools_tabvInfo.csv",
        _vinfo_workbook(tmp_path / "v.xlsx"),
    ):
        result = import_rvtools([path], catalog)
        assert result.ok, result.problems
        hosts = {
            r["host"]: (r["processors"], r["cores_per_processor"], r["cluster"], r["placeholder"])
            for r in rows(result, "hosts")
        }
        assert hosts == {"esx21": ("1", "1", "West", "yes"), "esx22": ("1", "1", "West", "yes")}
        software = {(r["ose"], r["edition"], r["version"]) for r in rows(result, "software")}
        assert software == {("fs05", "", "2019"), ("dc05", "", "2022"), ("sql05", "", "2025")}
        unknown = [f for f in result.findings if f.code == "cores-unknown"]
        assert len(unknown) == 1 and "no vHost sheet" in unknown[0].message
        assumed = [f for f in result.findings if f.code == "version-assumed"]
        assert len(assumed) == 1 and assumed[0].message.startswith("sql05:")
    assert str(unknown[0].source) == f"{tmp_path / 'v.xlsx'}:vInfo!2"


def test_vhost_with_total_cores_only(tmp_path: Path, catalog: Catalog) -> None:
    """A vHost with # CPU 2 and # Cores 20 but no Cores per CPU → 2 × ceil(20 / 2) = 2 × 10."""
    path = tmp_path / "RVTools_tabvHost.csv"
    path.write_text("Host,# CPU,# Cores,Cluster\nesx31.contoso.com,2,20,K\n", encoding="utf-8")
    result = import_rvtools([path], catalog)
    assert result.ok, result.problems
    assert [
        (r["host"], r["processors"], r["cores_per_processor"]) for r in rows(result, "hosts")
    ] == [("esx31", "2", "10")]


def test_an_estate_error_is_located_in_the_workbook(tmp_path: Path) -> None:
    """A vHost row whose # CPU is 5000 (the estate allows at most 4,096 processors) is refused
    at the workbook's sheet and row, book.xlsx:vHost!3 (row 2 is esx41, row 3 esx42), not at a
    staged hosts.csv that no longer exists; nothing is written."""
    book = openpyxl.Workbook()
    host = book.active
    assert host is not None
    host.title = "vHost"
    host.append(["Host", "# CPU", "Cores per CPU", "# Cores", "Cluster"])
    host.append(["esx41.contoso.com", 2, 8, 16, "K"])
    host.append(["esx42.contoso.com", 5000, 8, 40000, "K"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    estate = tmp_path / "estate"
    result = runner.invoke(app, ["import", "rvtools", str(path), "--into", str(estate)])
    assert result.exit_code == 2, result.output
    assert f"{path}:vHost!3: processors 5000 is too large" in " ".join(result.output.split())
    assert "hosts.csv line 3 of the merged estate" in " ".join(result.output.split())
    assert not estate.exists()


def test_a_blank_edition_never_overwrites_a_known_one(tmp_path: Path) -> None:
    """software.csv already says web01.prod.contoso.com runs Datacenter 2019; RVTools' blank
    edition is a guess (a weak row), so it fills nothing there and the edition stays."""
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "hosts.csv").write_text("host,processors,cores_per_processor\nesx11,2,12\n")
    (estate / "oses.csv").write_text("ose,host,virtual\nweb01.prod.contoso.com,esx11,yes\n")
    (estate / "software.csv").write_text(
        "ose,product,edition,version\nweb01.prod.contoso.com,windows-server,datacenter,2019\n"
    )
    args = ["import", "rvtools", str(SAMPLES / "dbcolumns"), "--into", str(estate)]
    assert runner.invoke(app, args).exit_code == 0
    with (estate / "software.csv").open(encoding="utf-8") as fh:
        editions = {r["ose"]: r["edition"] for r in csv.DictReader(fh)}
    assert editions == {
        "web01.prod.contoso.com": "datacenter",
        "web01.test.contoso.com": "",
        "app07": "",
    }
