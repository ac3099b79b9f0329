"""`entitle position` and `entitle calc` as a user runs them: exit codes, FILE:LINE messages, no
partial output on bad input, the JSON keys of the spec (estate-format.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entitle.cli.main import app

EXAMPLE = Path(__file__).resolve().parent / "fixtures" / "example-estate"  # see SOURCE.md there
runner = CliRunner()


def write(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text.strip() + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write(
        tmp_path / "small",
        hosts="host,processors,cores_per_processor\nh1,2,10",
        oses="ose,host,virtual\nh1-os,h1,no",
        software="ose,product,edition,version\nh1-os,windows-server,standard,2025",
        entitlements="product,license,edition,version,quantity\n"
        "windows-server,core,standard,2025,4",
    )


def test_json_has_the_spec_keys(small: Path) -> None:
    result = runner.invoke(app, ["position", str(small), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"as_of", "currency", "total_cost", "lines", "plan", "findings"} <= set(data)
    line = data["lines"][0]
    assert {
        "product",
        "license",
        "edition",
        "version",
        "required",
        "owned",
        "shortfall",
        "surplus",
        "unit_price",
        "cost",
    } <= set(line)
    # 2×10 cores → 20 core licenses (§3.1); 4 owned → 16 short × 73.50 = 1,176.
    assert (line["required"], line["owned"], line["shortfall"], line["cost"]) == (20, 4, 16, 1176.0)
    assert data["total_cost"] == 1176.0
    assert data["as_of"] == "2026-11-28"


def test_a_loading_warning_is_printed_and_kept_in_the_report(small: Path) -> None:
    """The format: "a warning ... is printed and kept in the report". A misspelt access table
    is skipped with a warning; the JSON's findings keep it, so a script reading only the JSON
    still learns that the position was computed without that file."""
    (small / "acess.csv").write_text("ose,product,user\nh1-os,windows-server,alice\n")
    result = runner.invoke(app, ["position", str(small), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    message = "'acess.csv' is not an estate table and is ignored (did you mean 'access'?)"
    assert f"warning: acess.csv: {message}" in result.stderr
    kept = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "estate-warning"]
    assert kept == [
        {"severity": "warning", "code": "estate-warning", "message": message, "source": "acess.csv"}
    ]
    # and the position is the one without the file: 20 core licenses, 16 short (§3.1)
    assert json.loads(result.stdout)["total_cost"] == 1176.0


def test_a_catalog_price_in_another_currency_is_a_warning(small: Path) -> None:
    """prices.csv in EUR makes the report's currency EUR (the format: the first currency given);
    the Windows Server cores have no price there, so the catalog's USD list price (73.50) is
    used: 16 short x 73.50 = 1,176 (§3.1), a total that adds USD to EUR, and the finding says
    so and names the line."""
    (small / "prices.csv").write_text(
        "product,license,edition,price,currency\nsql-server,core,standard,1800,EUR\n"
    )
    result = runner.invoke(app, ["position", str(small), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["currency"], data["total_cost"]) == ("EUR", 1176.0)
    [finding] = [f for f in data["findings"] if f["code"] == "currency-mismatch"]
    assert finding["severity"] == "warning"
    assert finding["message"].startswith(
        "windows-server standard 2025 core: priced from the catalog, 73.50 USD, in a position "
        "in EUR"
    )


def test_an_estate_with_nothing_installed_says_so(tmp_path: Path) -> None:
    """Two hosts and no software.csv: nothing needs a license, and "compliant" alone would read
    as a clean bill of health; the position says why it is empty."""
    folder = write(tmp_path / "bare", hosts="host,processors,cores_per_processor\nh1,2,8\nh2,1,8")
    result = runner.invoke(app, ["position", str(folder), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["total_cost"], data["lines"]) == (0.0, [])
    [finding] = data["findings"]
    assert (finding["severity"], finding["code"], finding["source"]) == (
        "warning",
        "nothing-installed",
        "software.csv",
    )
    assert "2 host(s): no server product was counted" in finding["message"]


def test_a_what_if_keeps_the_estates_warnings_and_assumptions(small: Path) -> None:
    """The position after a what-if is of the same files: what loading said (a misspelt table)
    and what an import assumed (not accepted) stay in its findings, and --check still fails on
    the assumption (the what-if's estate had dropped both)."""
    (small / "acess.csv").write_text("ose,product,user\nh1-os,windows-server,alice\n")
    (small / "import-findings.csv").write_text(
        "kind,code,message,where,accepted\nual,date-style-assumed,dates read day-first,u.csv,no\n"
    )
    (small / "entitlements.csv").write_text(  # compliant: --check fails on the assumption only
        "product,license,edition,version,quantity\nwindows-server,core,standard,2025,24\n"
    )
    changes = small.parent / "what.yaml"
    changes.write_text("changes:\n  - set: host\n    host: h1\n    cores_per_processor: 12\n")
    args = ["position", str(small), "--json", "--as-of", "2026-11-28", "--what-if", str(changes)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert "estate-warning" in codes and "date-style-assumed" in codes
    # 2 x 12 cores = 24 core licenses (§3.1), 24 owned: no shortfall, but the assumption is open
    assert json.loads(result.stdout)["total_cost"] == 0.0
    assert runner.invoke(app, [*args, "--check"]).exit_code == 1


def test_the_catalogs_currency_in_lower_case_is_the_same_currency(small: Path) -> None:
    """'usd' in prices.csv is USD (the loader compares currencies so): the report says USD and
    no line priced from the catalog is a currency mismatch."""
    (small / "prices.csv").write_text(
        "product,license,edition,price,currency\nsql-server,core,standard,1800,usd\n"
    )
    result = runner.invoke(app, ["position", str(small), "--json", "--as-of", "2026-11-28"])
    data = json.loads(result.stdout)
    assert data["currency"] == "USD"
    assert [f for f in data["findings"] if f["code"] == "currency-mismatch"] == []


def test_sql_server_pay_as_you_go_is_not_billed_at_the_license_price(small: Path) -> None:
    """SQL Server Standard on pay-as-you-go keeps its edition, so its line found the per-core
    license price (3,945 per 2 cores = 1,972.50) and showed 20 x 1,972.50 = 39,450 as a month's
    bill. The catalog has no monthly SQL Server price: the month is shown as 0 and said."""
    (small / "software.csv").write_text(
        "ose,product,edition,version,model\nh1-os,windows-server,standard,2025,\n"
        "h1-os,sql-server,standard,2022,payg\n"
    )
    result = runner.invoke(app, ["position", str(small), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [sql] = [line for line in data["lines"] if line["product"] == "sql-server"]
    assert (sql["billed"], sql["monthly_cost"], sql["unit_price"]) == ("monthly", 0.0, None)
    assert any(
        f["code"] == "price-unknown" and "No monthly pay-as-you-go price" in f["message"]
        for f in data["findings"]
    )
    assert data["total_cost"] == 1176.0  # the Windows Server cores only: 16 short x 73.50


def test_access_seen_after_the_positions_day_is_counted_and_said(small: Path) -> None:
    """A position as of 2026-06-30 from evidence that first saw alice on 2026-11-05: the access
    is the estate's, so it is counted — alice and bob share pc1, so one Windows Server device CAL
    (40) beats two user CALs (2 x 46) (§1.2) — and the finding says that two rows came after the
    day, the last first seen on 2026-11-20."""
    (small / "users.csv").write_text("user\nalice\nbob\n")
    (small / "devices.csv").write_text("device\npc1\n")
    (small / "access.csv").write_text(
        "ose,product,user,device,first_seen,last_seen\n"
        "h1-os,windows-server,alice,pc1,2026-11-05,2026-11-20\n"
        "h1-os,windows-server,bob,pc1,2026-06-01,2026-06-02\n"
        "h1-os,windows-server,alice,pc1,2026-11-20,2026-11-21\n"
    )
    args = ["position", str(small), "--json", "--as-of", "2026-06-30"]
    data = json.loads(runner.invoke(app, args).stdout)
    cals = [(x["license"], x["required"]) for x in data["lines"] if x["license"].endswith("cal")]
    assert cals == [("device-cal", 1)]
    [finding] = [f for f in data["findings"] if f["code"] == "access-after-as-of"]
    assert finding["source"] == "access.csv:2"
    assert finding["message"].startswith(
        "2 access row(s) were first seen after 2026-06-30, the position's day (the last on "
        "2026-11-20)"
    )
    late = json.loads(runner.invoke(app, [*args[:-1], "2026-11-28"]).stdout)
    assert [f for f in late["findings"] if f["code"] == "access-after-as-of"] == []


def test_check_exits_1_on_shortfall_and_0_when_compliant(small: Path) -> None:
    assert runner.invoke(app, ["position", str(small), "--check"]).exit_code == 1
    (small / "entitlements.csv").write_text(
        "product,license,edition,version,quantity\nwindows-server,core,standard,2025,20\n"
    )
    assert runner.invoke(app, ["position", str(small), "--check"]).exit_code == 0


def test_bad_input_prints_every_problem_and_exits_2(small: Path, tmp_path: Path) -> None:
    (small / "hosts.csv").write_text("host,processors,cores_per_processor\nh1,two,10\nh2,1,-4\n")
    (small / "software.csv").write_text(
        "ose,product,edition,version\nh1-os,sql-sever,standard,2022\n"
    )
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["position", str(small), "--json", "--out", str(out)])
    assert result.exit_code == 2
    assert "hosts.csv:2:" in result.stderr
    assert "hosts.csv:3:" in result.stderr
    assert "software.csv:2:" in result.stderr and "sql-server" in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_bad_input_leaves_an_existing_output_file_alone(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous good report\n")
    (small / "hosts.csv").write_text("host,processors\nh1,2\n")
    result = runner.invoke(app, ["position", str(small), "--json", "--out", str(out)])
    assert result.exit_code == 2
    assert out.read_text() == "previous good report\n"


def test_out_writes_the_whole_json(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["position", str(small), "--json", "--out", str(out)])
    assert result.exit_code == 0
    assert json.loads(out.read_text())["total_cost"] == 1176.0


def test_missing_estate_and_bad_date_exit_2(tmp_path: Path, small: Path) -> None:
    assert runner.invoke(app, ["position", str(tmp_path / "nope")]).exit_code == 2
    result = runner.invoke(app, ["position", str(small), "--as-of", "28/11/2026"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr


def test_example_estate_server_lines(tmp_path: Path) -> None:
    folder = tmp_path / "example"
    shutil.copytree(EXAMPLE, folder)
    result = runner.invoke(app, ["position", str(folder), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    lines = {
        (x["product"], x["license"], x["edition"], x["version"]): x
        for x in json.loads(result.stdout)["lines"]
    }
    # hv1 runs Datacenter on its hosting-only physical OSE → Datacenter on 2×12 = 24 cores;
    # E-1 (32 Standard 2022 cores assigned to hv1) cannot cover a Datacenter need.
    dc = lines[("windows-server", "core", "datacenter", "2022")]
    assert (dc["required"], dc["shortfall"], dc["unit_price"]) == (24, 24, 423.19)
    # fs1, 1×8 cores → 16 Standard 2019 cores, covered by E-2 (16 Standard 2019 on fs1).
    fs = lines[("windows-server", "core", "standard", "2019")]
    assert (fs["required"], fs["owned"], fs["shortfall"]) == (16, 16, 0)
    # sql1 is fixed Server + CAL: one SQL Standard 2022 server license, owned (E-4).
    sql = lines[("sql-server", "server", "standard", "2022")]
    assert (sql["required"], sql["shortfall"]) == (1, 0)
    # test1 (dev-test) is not counted: no SQL Enterprise line.
    assert not any(k[0] == "sql-server" and k[2] == "enterprise" for k in lines)


def test_calc_uses_the_same_engine() -> None:
    # §10 #17: WS Standard on 2×8 with 4 VMs → 32 core licenses.
    result = runner.invoke(
        app,
        [
            "calc",
            "--processors",
            "2",
            "--cores",
            "8",
            "--vms",
            "4",
            "--edition",
            "standard",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)["lines"]
    assert [(x["edition"], x["required"]) for x in lines] == [("standard", 32)]


def test_calc_rejects_unknown_product() -> None:
    result = runner.invoke(app, ["calc", "--processors", "1", "--cores", "8", "-p", "sqlserver"])
    assert result.exit_code == 2 and "unknown" in result.stderr
