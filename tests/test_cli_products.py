"""``entitle products``: the table a user would otherwise look up by hand, and its JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from typer.testing import CliRunner

from entitle.cli.main import app

# A wide terminal so that Rich does not wrap table cells in the middle of a phrase.
runner = CliRunner(env={"COLUMNS": "200"})


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_products_sql_json() -> None:
    """§3.5: SQL Server is per core (sql core rule: 4 per processor, core factor), or Server+CAL
    for Standard with SQL Server CALs; it has no External Connector."""
    result = runner.invoke(app, ["products", "sql", "--json"])
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    assert [p["id"] for p in data] == ["sql-server"]
    sql = data[0]
    models = {m["model"] for m in sql["models"]} | {a for m in sql["models"] for a in m["also"]}
    assert {"per-core", "server-cal"} <= models
    standard = next(m for m in sql["models"] if m["editions"] == ["standard"])
    assert standard["also"] == ["server-cal"] and standard["core_rule"] == "sql"
    (cal,) = sql["access"]
    assert cal["product"] == "sql-server"
    assert cal["licenses"] == ["user-cal", "device-cal"]
    assert cal["included_in"] == []  # SQL CALs are in no CAL Suite
    assert sql["external_connector"]["available"] is False
    (rule,) = sql["core_rules"]
    assert (rule["min_per_processor"], rule["core_factor"]) == (4, True)
    assert all(row["source"] for row in sql["models"] + sql["prices"])


def test_products_rds_table() -> None:
    """§1.3 and §2: RDS CALs are additive on Windows Server CALs; an RDS External Connector exists
    and needs the Windows Server External Connector beside it."""
    result = runner.invoke(app, ["products", "rds"])
    assert result.exit_code == 0, result.output
    out = _flat(result.stdout)
    assert "Remote Desktop Services (rds)" in out
    assert "additive, needs the windows-server base CAL" in out
    assert "External Connector: available" in out
    assert "needs the windows-server External Connector" in out
    assert "no suite" in out


def test_products_windows_server_names_the_suites() -> None:
    result = runner.invoke(app, ["products", "windows-server"])
    assert result.exit_code == 0, result.output
    out = _flat(result.stdout)
    assert "enterprise-cal-suite (via core-cal-suite)" in out
    assert "8 per processor, 16 per server" in out


def test_products_without_query_lists_every_product() -> None:
    result = runner.invoke(app, ["products", "--json"])
    assert result.exit_code == 0, result.output
    ids = [p["id"] for p in json.loads(result.stdout)]
    assert {"windows-server", "rds", "sql-server", "enterprise-cal-suite"} <= set(ids)


def test_products_no_match_suggests() -> None:
    result = runner.invoke(app, ["products", "nosuchthing"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no product matches 'nosuchthing'" in result.stderr
    assert "Did you mean:" in result.stderr


def test_products_typo_suggests_the_product() -> None:
    result = runner.invoke(app, ["products", "exchnage"])
    assert result.exit_code == 2
    assert "Did you mean: exchange-server" in result.stderr


def test_products_help_has_a_worked_example() -> None:
    result = runner.invoke(app, ["products", "--help"])
    assert result.exit_code == 0
    assert "entitle products sql" in result.output
