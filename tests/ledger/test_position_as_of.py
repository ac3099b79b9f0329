"""``entitle position ESTATE --db LEDGER --as-of DAY``: the position with what the ledger says
was owned and assigned on that day. History is never overwritten, so a past day gives the
same answer after later moves.

The estate: host h1 with 2 processors × 8 cores running Windows Server Standard 2022, which
needs 16 core licenses (§3.1: all physical cores, at least 8 per processor and 16 per server).
The ledger: WS-A, 16 Standard 2022 cores bought 2023-01-01 and assigned to h1; moved to host h9
on 2024-01-10; retired 2024-06-30.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entitle.catalog import default_catalog
from entitle.cli.main import app
from entitle.ledger import entitlements_on, moves, service
from entitle.ledger.importing import read_file

from .kit import write_csv

runner = CliRunner()
WS = ("windows-server", "core", "standard", "2022")


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    folder = tmp_path / "estate"
    folder.mkdir()
    write_csv(folder, "hosts.csv", "host,processors,cores_per_processor\nh1,2,8")
    write_csv(folder, "oses.csv", "ose,host,virtual\nh1-os,h1,no")
    write_csv(
        folder, "software.csv", "ose,product,edition,version\nh1-os,windows-server,standard,2022"
    )
    # entitlements.csv says 16 cores: --db must replace it, not add to it.
    write_csv(
        folder,
        "entitlements.csv",
        "product,license,edition,version,quantity\nwindows-server,core,standard,2022,16",
    )
    return folder


@pytest.fixture
def history(ledger: service.Ledger, tmp_path: Path) -> service.Ledger:
    text = (
        "id,product,license,edition,version,quantity,purchased,assigned_to\n"
        "WS-A,windows-server,core,standard,2022,16,2023-01-01,h1"
    )
    service.import_candidates(
        ledger, read_file(write_csv(tmp_path, "e.csv", text), default_catalog(), {})[0]
    )
    assert moves.reassign(
        ledger, "WS-A", ("host", "h1"), ("host", "h9"), None, date(2024, 1, 10), None
    ).ok
    assert moves.retire(ledger, "WS-A", None, date(2024, 6, 30), "sold", ("host", "h9")).ok
    return ledger


def owned(url: str, day: date) -> list[tuple[int, str | None]]:
    return [(e.quantity, e.assigned_to) for e in entitlements_on(url, day)]


def test_what_was_owned_and_where_on_each_day(history: service.Ledger) -> None:
    url = history.url
    assert owned(url, date(2022, 12, 31)) == []  # bought the next day
    assert owned(url, date(2023, 1, 1)) == [(16, "h1")]
    assert owned(url, date(2024, 1, 9)) == [(16, "h1")]
    assert owned(url, date(2024, 1, 10)) == [(16, "h9")]  # a move counts from its day
    assert owned(url, date(2024, 6, 30)) == [(16, "h9")]  # owned through the retirement day
    assert owned(url, date(2024, 7, 1)) == []


def shortfall(estate: Path, url: str, day: str) -> int:
    result = runner.invoke(app, ["position", str(estate), "--db", url, "--as-of", day, "--json"])
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)["lines"]
    return sum(
        x["shortfall"]
        for x in lines
        if (x["product"], x["license"], x["edition"], x["version"]) == WS
    )


def test_position_as_of_a_past_day_uses_the_ledger(history: service.Ledger, estate: Path) -> None:
    url = history.url
    # 2023-06-01: the 16 cores are on h1, h1 needs 16 → nothing short.
    assert shortfall(estate, url, "2023-06-01") == 0
    # 2022-06-01: not bought yet → all 16 short (entitlements.csv's 16 are ignored).
    assert shortfall(estate, url, "2022-06-01") == 16
    # 2024-02-01: the licenses are assigned to h9, so they cover nothing on h1 → 16 short.
    assert shortfall(estate, url, "2024-02-01") == 16


def test_position_without_a_ledger_says_so(estate: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = runner.invoke(app, ["position", str(estate), "--db", str(missing)])
    assert result.exit_code == 2
    assert "entitle ledger init" in result.stderr
    assert not (tmp_path / "none.db").exists()  # asking created nothing


def test_entitle_db_in_the_environment_does_what_db_does(
    history: service.Ledger, estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTITLE_DB", history.url)
    result = runner.invoke(app, ["position", str(estate), "--as-of", "2022-06-01", "--json"])
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)["lines"]
    # 2022-06-01: nothing bought yet, and entitlements.csv's 16 cores are not used.
    assert shortfall(estate, history.url, "2022-06-01") == 16
    assert sum(x["owned"] for x in lines if x["product"] == "windows-server") == 0


def test_a_stored_row_of_an_unknown_product_is_a_finding(
    history: service.Ledger, estate: Path
) -> None:
    """Issue #17 item 1: a row the catalog does not know (written before the web checked
    purchases) is left out with a warning, not a traceback; WS-A still covers h1 on
    2023-06-01, so nothing is short."""
    from entitle.estate.records import Entitlement
    from entitle.ledger.importing import Candidate

    odd = Entitlement("sql-servr", "core", 4, "ODD-1", purchased=date(2023, 1, 1))
    assert service.import_candidates(history, [Candidate(odd, "f" * 64)]).added == 1
    assert shortfall(estate, history.url, "2023-06-01") == 0
    result = runner.invoke(
        app, ["position", str(estate), "--db", history.url, "--as-of", "2023-06-01", "--json"]
    )
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["source"] == "ledger:ODD-1"]
    assert finding["code"] == "ledger-row-unknown"
    assert "unknown product 'sql-servr' (did you mean 'sql-server'?)" in finding["message"]
