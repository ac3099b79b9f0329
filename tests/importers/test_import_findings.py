"""What an import assumed travels into the estate (import-findings.csv), shows in `entitle
position`, and makes `--check` fail until accepted (issue #15 item 1, the estate side)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from entitle.catalog import Catalog
from entitle.cli.main import app
from entitle.estate.loader import load_estate

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rvtools"
runner = CliRunner()


def _covered_estate(folder: Path) -> Path:
    """One host of 2 × 8 cores with one Windows Server Standard 2022 VM: 16 core licenses
    (all cores, ≥ 8 per processor, ≥ 16 per server, §3.1), and 16 are owned — no shortfall."""
    folder.mkdir()
    (folder / "hosts.csv").write_text("host,processors,cores_per_processor\nh1,2,8\n")
    (folder / "oses.csv").write_text("ose,host,virtual\nvm1,h1,yes\n")
    (folder / "software.csv").write_text(
        "ose,product,edition,version\nvm1,windows-server,standard,2022\n"
    )
    (folder / "entitlements.csv").write_text(
        "id,product,license,edition,version,quantity\nE-1,windows-server,core,standard,2022,16\n"
    )
    return folder


def _findings_file(folder: Path, accepted: str) -> None:
    with (folder / "import-findings.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "code", "message", "where", "accepted"])
        writer.writerow(
            ["rvtools", "cores-unknown", "esx99: 1 × 1 assumed", "v.xlsx:vInfo!5", accepted]
        )


def test_check_fails_until_the_assumption_is_accepted(tmp_path: Path) -> None:
    estate = _covered_estate(tmp_path / "estate")
    clean = runner.invoke(app, ["position", str(estate), "--check", "--as-of", "2025-09-01"])
    assert clean.exit_code == 0, clean.output  # nothing short, nothing assumed
    _findings_file(estate, "")
    open_one = runner.invoke(app, ["position", str(estate), "--check", "--as-of", "2025-09-01"])
    assert open_one.exit_code == 1
    assert "1 import assumption(s) not accepted (cores-unknown" in " ".join(open_one.output.split())
    assert "import rvtools assumed: esx99: 1 × 1 assumed" in " ".join(open_one.output.split())
    flag = ["--check", "--accept-assumptions", "--as-of", "2025-09-01"]
    assert runner.invoke(app, ["position", str(estate), *flag]).exit_code == 0
    _findings_file(estate, "yes")
    accepted = runner.invoke(app, ["position", str(estate), "--check", "--as-of", "2025-09-01"])
    assert accepted.exit_code == 0, accepted.output
    _findings_file(estate, "maybe")
    bad = runner.invoke(app, ["position", str(estate), "--as-of", "2025-09-01"])
    assert bad.exit_code == 2
    assert "import-findings.csv:2: accepted is 'maybe'" in bad.output


def test_an_import_writes_its_assumptions_and_keeps_acceptance(
    tmp_path: Path, catalog: Catalog
) -> None:
    """dbcolumns/ assumes five things (tests/importers/test_rvtools_real.py): the web01
    short-name collision, unknown editions, esx99's cores, SQL Server unseen, no migration
    history — five rows of import-findings.csv, shown in the position's JSON findings. The user
    accepts one; importing the same files again changes nothing and keeps it accepted."""
    estate = tmp_path / "estate"
    args = ["import", "rvtools", str(SAMPLES / "dbcolumns"), "--into", str(estate)]
    assert runner.invoke(app, args).exit_code == 0
    path = estate / "import-findings.csv"
    with path.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert sorted(r["code"] for r in table) == [
        "cores-unknown",
        "edition-unknown",
        "no-migration-history",
        "short-name-collision",
        "sql-server-invisible",
    ]
    assert {r["kind"] for r in table} == {"rvtools"} and not any(r["accepted"] for r in table)
    for row in table:  # the user accepts the placeholder host
        row["accepted"] = "yes" if row["code"] == "cores-unknown" else ""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    before = {p.name: p.read_bytes() for p in estate.iterdir()}
    assert runner.invoke(app, args).exit_code == 0
    assert {p.name: p.read_bytes() for p in estate.iterdir()} == before
    loaded, problems = load_estate(estate, catalog)
    assert loaded is not None, problems
    assert [f.code for f in loaded.import_findings if f.accepted] == ["cores-unknown"]
    result = runner.invoke(app, ["position", str(estate), "--json", "--as-of", "2025-09-01"])
    findings = json.loads(result.stdout)["findings"]
    shown = {(f["code"], f["severity"]) for f in findings if "import rvtools" in f["message"]}
    assert ("cores-unknown", "info") in shown and ("edition-unknown", "warning") in shown
    assert len(shown) == 5


def test_a_server_under_its_short_name_and_its_fqdn_is_a_finding(tmp_path: Path) -> None:
    """The estate already has web01 (as UAL names a server); RVTools then brings two VMs whose
    DNS names are web01.prod.contoso.com and web01.test.contoso.com. Three OSEs now exist and
    UAL's evidence stays on web01: said as short-name-collision, and kept as an assumption."""
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "hosts.csv").write_text("host,processors,cores_per_processor\nweb01,1,4\n")
    (estate / "oses.csv").write_text("ose,host,virtual\nweb01,web01,no\n")
    args = ["import", "rvtools", str(SAMPLES / "dbcolumns"), "--into", str(estate), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    found = [f for f in json.loads(result.stdout)["findings"] if f["source"] == "oses.csv"]
    assert len(found) == 1
    assert found[0]["message"].startswith(
        "oses.csv has web01 and web01.prod.contoso.com, web01.test.contoso.com:"
    )
    assert found[0]["message"] in (estate / "import-findings.csv").read_text(encoding="utf-8")
