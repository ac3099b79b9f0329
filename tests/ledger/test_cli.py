"""``entitle ledger …`` as a user runs it: exit codes, FILE:LINE messages with nothing written,
refusals that say why and when, verify after tampering, JSON where output is data."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import openpyxl
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.ledger import db

from .kit import write_csv

runner = CliRunner()
CSV = """
id,product,license,edition,version,quantity,purchased,assigned_to,agreement,product_key,key_kind
WS-1,windows-server,core,standard,2022,16,2023-11-01,hv1,EA-1,ABCDE-FGHIJ-KLMNO-PQRST-UVWXY,KMS
CAL-1,windows-server,user-cal,,2022,10,2024-01-10,,EA-1,,
"""


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ledger", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ledger_db(url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An initialised ledger on each engine; on PostgreSQL the key comes from ENTITLE_KEY."""
    monkeypatch.delenv("ENTITLE_KEY", raising=False)
    if db.sqlite_path(url) is None:
        monkeypatch.setenv("ENTITLE_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("ENTITLE_USER", "ann")
    code, out, _ = run("init", "--db", url)
    assert code == 0 and "created the ledger" in out
    return url


def test_init_makes_a_private_key_file_and_is_safe_to_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENTITLE_KEY", raising=False)
    path = str(tmp_path / "entitle.db")
    assert run("init", "--db", path)[0] == 0
    key = Path(path + ".key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    code, out, _ = run("init", "--db", path)
    assert code == 0 and "already" in out and key.read_bytes() == before
    code, _, err = run("list", "--db", str(tmp_path / "missing.db"))
    assert code == 2 and "entitle ledger init" in err


def test_import_list_assign_reassign_history_verify_export(ledger_db: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "entitlements.csv", CSV)
    code, out, _ = run("import", str(path), "--db", ledger_db, "--json")
    assert code == 0 and json.loads(out)["added"] == 2
    code, out, _ = run("import", str(path), "--db", ledger_db)
    assert code == 0 and "added 0 entitlements, 2 already in the ledger" in out

    code, out, _ = run(
        "assign", "CAL-1", "--to", "user:bob", "--on", "2024-02-01", "--db", ledger_db
    )
    assert code == 0 and "assigned 1 user-cal unit of CAL-1 to user bob" in out
    code, out, _ = run(
        "reassign",
        "WS-1",
        "--from",
        "host:hv1",
        "--to",
        "host:hv2",
        "--on",
        "2024-03-01",
        "--db",
        ledger_db,
    )
    assert code == 0  # assigned from its purchase on 2023-11-01: 121 days before (§7.1)
    # 2024-03-01 + 90 days: March 1→31 = 30, April = 60, May 30 = 90 (§7.1).
    code, out, err = run(
        "reassign",
        "WS-1",
        "--from",
        "host:hv2",
        "--to",
        "host:hv3",
        "--on",
        "2024-04-01",
        "--db",
        ledger_db,
    )
    assert code == 1 and "allows the next reassignment from 2024-05-30" in err
    code, out, _ = run(
        "reassign",
        "WS-1",
        "--from",
        "host:hv2",
        "--to",
        "host:hv3",
        "--on",
        "2024-04-01",
        "--reason",
        "hardware-failure",
        "--db",
        ledger_db,
        "--json",
    )
    assert code == 0 and "hardware failure" in json.loads(out)["message"]

    code, out, _ = run("list", "--db", ledger_db, "--as-of", "2024-03-15", "--json")
    items = {i["id"]: i for i in json.loads(out)}
    assert items["WS-1"]["held"] == [{"holder": "host:hv2", "units": 16}]
    assert items["CAL-1"]["free"] == 9 and "product_key" not in items["WS-1"]
    code, out, _ = run("list", "--db", ledger_db, "--show-keys", "--json")
    assert json.loads(out)[1]["product_key"] == "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"

    code, out, _ = run("history", "WS-1", "--db", ledger_db, "--json")
    actions = [e["action"] for e in json.loads(out)]
    assert actions == [
        "entitlement.import",
        "assignment.create",
        "assignment.end",
        "assignment.move",
        "assignment.end",
        "assignment.move",
    ]
    assert {e["actor"] for e in json.loads(out)} == {"ann"}

    code, out, _ = run("verify", "--db", ledger_db)
    assert code == 0 and out.startswith("ok:")

    target = tmp_path / "out" / "entitlements.csv"
    code, _, _ = run("export", "--db", ledger_db, "--as-of", "2024-02-15", "-o", str(target))
    assert code == 0
    assert "WS-1,windows-server,core,standard,2022,16,,hv1,EA-1,2023-11-01," in target.read_text()


def test_verify_fails_naming_the_event_after_plain_sql(ledger_db: str, tmp_path: Path) -> None:
    run("import", str(write_csv(tmp_path, "e.csv", CSV)), "--db", ledger_db)
    engine = create_engine(db.resolve_url(ledger_db))
    with engine.begin() as conn:
        conn.execute(text("UPDATE assignments SET holder = 'hv7'"))
    engine.dispose()
    code, out, err = run("verify", "--db", ledger_db, "--json")
    assert code == 1
    report = json.loads(out)
    assert not report["ok"]
    # events: 1 init, 2 agreement EA-1, 3 WS-1, 4 CAL-1, 5 WS-1's assignment to hv1
    assert report["problems"][0]["event"] == 5
    assert "'hv7'" in report["problems"][0]["message"]


def test_a_bad_file_prints_every_problem_as_file_line_and_writes_nothing(
    ledger_db: str, tmp_path: Path
) -> None:
    bad = write_csv(
        tmp_path,
        "entitlements.csv",
        "product,license,quantity\n"
        "windows-server,core,16\nwindows-server,cores,16\nsql-server,core,-2",
    )
    code, out, err = run("import", str(bad), "--db", ledger_db)
    assert code == 2 and out == ""
    assert "entitlements.csv:3:" in err and "entitlements.csv:4:" in err
    code, out, _ = run("list", "--db", ledger_db, "--json")
    assert json.loads(out) == []


def test_bad_arguments_exit_2(ledger_db: str) -> None:
    code, _, err = run("assign", "X", "--to", "server:hv1", "--db", ledger_db)
    assert code == 2 and "KIND:NAME" in err
    code, _, err = run(
        "reassign", "X", "--from", "user:a", "--reason", "boredom", "--db", ledger_db
    )
    assert code == 2 and "hardware-failure" in err


def test_an_mls_workbook_with_a_header_to_map(ledger_db: str, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Organization Summary"
    sheet = book.create_sheet("License Summary")
    sheet.append(["Microsoft License Statement"])
    sheet.append([])
    sheet.append(["License Product Family", "License Version", "Qty Owned"])
    sheet.append(["SQL Server Standard Core", "2022", 12])
    sheet.append(["Windows Server User CAL", "2019", 75])
    path = tmp_path / "mls.xlsx"
    book.save(path)
    code, _, err = run("import", str(path), "--db", ledger_db)
    assert code == 2 and "Qty Owned" in err and "--map" in err
    code, out, _ = run(
        "import",
        str(path),
        "--db",
        ledger_db,
        "--agreement",
        "EA-9",
        "--map",
        "Qty Owned=Effective License Quantity",
        "--json",
    )
    assert code == 0 and json.loads(out)["added"] == 2
    code, out, _ = run("list", "--db", ledger_db, "--json")
    got = sorted(
        (i["product"], i["license"], i["version"], i["quantity"], i["agreement"])
        for i in json.loads(out)
    )
    assert got == [
        ("sql-server", "core", "2022", 12, "EA-9"),
        ("windows-server", "user-cal", "2019", 75, "EA-9"),
    ]


def test_only_editors_see_product_keys(
    ledger_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor holds the key (ENTITLE_KEY, or the key file beside an SQLite ledger); take it
    away and the keys stay hidden."""
    run("import", str(write_csv(tmp_path, "e.csv", CSV)), "--db", ledger_db)
    monkeypatch.delenv("ENTITLE_KEY", raising=False)
    sqlite = db.sqlite_path(ledger_db)
    key = Path(f"{sqlite}.key") if sqlite is not None else None
    if key is not None:
        key.rename(tmp_path / "elsewhere.key")
    code, _, err = run("list", "--db", ledger_db, "--show-keys")
    assert code == 2 and "only editors" in err
    code, out, _ = run("list", "--db", ledger_db, "--json")
    assert code == 0 and json.loads(out)[1]["has_key"] is True
    assert "ABCDE" not in out
