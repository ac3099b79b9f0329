"""A mixed estate (own servers, Azure, AWS) through `entitle position`: the cloud section in the
terminal, the JSON (`cloud`), the workbook (sheet Cloud) and the HTML page (issue #16, item 5).
Numbers worked by hand (docs/rules/cloud-and-hybrid.md, licensing-rules.md §7.2)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from entitle.cli.main import app

runner = CliRunner(env={"SOURCE_DATE_EPOCH": "1795867200", "COLUMNS": "200"})


def mixed(folder: Path) -> Path:
    # hv1: 2 × 8 → 16 Datacenter core licenses (§3.1). az1: 8 vCPU under Azure Hybrid Benefit
    # → 8 (≥8 per VM), covered by the same Datacenter licenses (dual use). aws1: SQL Server
    # Enterprise 4 vCPU on AWS shared hardware → 4 (≥4, §3.5) under License Mobility, but its SA
    # lapsed → 4 short. aws2: Windows Server in AWS's bill → nothing owned needed.
    tables = {
        "hosts": "host,processors,cores_per_processor,provider,dedicated\n"
        "hv1,2,8,,\nazure-eu,,,azure,\naws-eu,,,aws,no\n",
        "oses": "ose,host,virtual,vcpus\nhv1-os,hv1,no,\naz1,azure-eu,yes,8\n"
        "aws1,aws-eu,yes,4\naws2,aws-eu,yes,2\n",
        "software": "ose,product,edition,version,model\n"
        "hv1-os,windows-server,datacenter,2022,\naz1,windows-server,datacenter,2022,byol\n"
        "aws1,sql-server,enterprise,2022,byol\naws2,windows-server,datacenter,2022,\n",
        "entitlements": "id,product,license,edition,version,quantity,sa_until\n"
        "DC,windows-server,core,datacenter,2022,16,2027-12-31\n"
        "SQL,sql-server,core,enterprise,2022,4,2026-01-31\n",
    }
    folder.mkdir()
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


ARGS = ["--as-of", "2026-11-28"]


def test_json_has_the_cloud_rows(tmp_path: Path) -> None:
    result = runner.invoke(app, ["position", str(mixed(tmp_path / "e")), "--json", *ARGS])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {(r["provider"], r["ose"], r["right"]): r for r in data["cloud"]}
    az = rows[("azure", "az1", "Azure Hybrid Benefit")]
    assert (az["entitlement"], az["quantity"], az["short"]) == ("DC", 8, 0)
    assert az["note"] == "also covers needs on premises (dual use)"
    short = rows[("aws", "aws1", "")]
    assert short["short"] == 4 and "ended before 2026-11-28" in short["note"]
    assert rows[("aws", "aws2", "provider's bill")]["model"] == "provider"
    lines = {(x["product"], x["edition"]): x for x in data["lines"]}
    assert lines[("windows-server", "datacenter")]["shortfall"] == 0  # 16 + 8 on 16 with dual use
    assert lines[("sql-server", "enterprise")]["shortfall"] == 4


def test_terminal_workbook_and_html_show_the_cloud_section(tmp_path: Path) -> None:
    estate = mixed(tmp_path / "e")
    result = runner.invoke(app, ["position", str(estate), *ARGS])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Cloud and hosting providers" in text
    assert "az1: windows-server datacenter 2022 — 8 of DC under Azure Hybrid Benefit" in text
    assert "aws2: windows-server datacenter 2022 — in the provider's bill" in text
    xlsx, html = tmp_path / "p.xlsx", tmp_path / "p.html"
    result = runner.invoke(
        app, ["position", str(estate), "--xlsx", str(xlsx), "--html", str(html), *ARGS]
    )
    assert result.exit_code == 0, result.output
    assert "Cloud and hosting providers" in result.output
    ws = openpyxl.load_workbook(xlsx)["Cloud"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    [az] = [r for r in rows if r[2] == "az1"]
    assert az[:3] == ["azure", "azure-eu", "az1"] and az[8:10] == ["DC", 8]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # grouped by provider
    assert any(r[2] == "aws1" and r[10] == 4 for r in rows)
    page = html.read_text(encoding="utf-8")
    assert "<h2>Cloud and hosting providers</h2>" in page and "Azure Hybrid Benefit" in page


def test_an_estate_without_providers_has_no_cloud_key(tmp_path: Path) -> None:
    folder = tmp_path / "e"
    folder.mkdir()
    (folder / "hosts.csv").write_text("host,processors,cores_per_processor\nh1,1,8\n")
    result = runner.invoke(app, ["position", str(folder), "--json", *ARGS])
    assert result.exit_code == 0 and "cloud" not in json.loads(result.output)
