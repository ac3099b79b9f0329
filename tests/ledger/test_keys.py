"""Product keys are kept only encrypted (issue #14 item 3): recognised under any header that
names a key and by their shape (five groups of five) in any column, of entitlements files and
MLS summaries; never in the extra columns, the audit trail, the command's output, exports or
``ledger history --json``. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from typer.testing import CliRunner

from entitle.catalog import default_catalog
from entitle.cli.main import app
from entitle.estate.records import Entitlement
from entitle.ledger import db, keys, service
from entitle.ledger.importing import Candidate, read_file
from entitle.source import Source

from .kit import write_csv

KEY = "VK7JG-NPHTM-C97JM-9MPGT-3V66T"
OTHER = "W269N-WFGWX-YVC9B-4J6C9-T83GX"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ledger", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ledger_db(url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ENTITLE_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("ENTITLE_USER", "ann")
    assert run("init", "--db", url)[0] == 0
    return url


def everything_stored(url: str) -> str:
    """Every text the database holds, table by table, as one string."""
    engine = db.open_engine(url)
    try:
        with engine.connect() as conn:
            tables = ("entitlements", "audit_events", "agreements", "assignments", "retirements")
            return "\n".join(
                repr(row) for t in tables for row in conn.execute(text(f"SELECT * FROM {t}"))
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("header", ["Product Key", "product key", "ProductKey", "key", "MAK Key"])
def test_a_key_under_any_header_is_stored_only_encrypted(
    ledger_db: str, tmp_path: Path, header: str
) -> None:
    path = write_csv(
        tmp_path,
        "entitlements.csv",
        f"id,product,license,edition,version,quantity,{header},key_kind\n"
        f"WS-1,windows-server,core,standard,2022,16,{KEY},MAK\n",
    )
    code, out, err = run("import", str(path), "--db", ledger_db)
    assert code == 0, err
    seen = [out, err, everything_stored(ledger_db)]
    seen.append(run("history", "WS-1", "--db", ledger_db, "--json")[1])
    seen.append(run("history", "--db", ledger_db)[1])
    seen.append(run("list", "--db", ledger_db, "--json")[1])
    target = tmp_path / "out.csv"
    assert run("export", "--db", ledger_db, "-o", str(target))[0] == 0
    seen.append(target.read_text())
    for text_seen in seen:
        assert KEY not in text_seen and KEY.lower() not in text_seen.lower()
    listed = json.loads(run("list", "--db", ledger_db, "--json")[1])
    assert listed[0]["has_key"] is True  # kept, encrypted
    shown = json.loads(run("list", "--db", ledger_db, "--show-keys", "--json")[1])
    assert shown[0]["product_key"] == KEY


def test_a_key_in_a_column_that_is_not_about_keys_is_found_by_its_shape(
    ledger_db: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "entitlements.csv",
        "id,product,license,quantity,notes\n"
        f"CAL-1,windows-server,user-cal,5,bought with key {KEY} from the reseller\n",
    )
    code, out, err = run("import", str(path), "--db", ledger_db)
    assert code == 0, err
    assert "entitlements.csv:2: column 'notes' holds a product key" in err  # the row, no key
    stored = everything_stored(ledger_db)
    assert KEY not in out + err + stored
    assert "bought with key [product key] from the reseller" in stored
    shown = json.loads(run("list", "--db", ledger_db, "--show-keys", "--json")[1])
    assert shown[0]["product_key"] == KEY


def test_two_different_keys_in_one_row_are_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "entitlements.csv",
        f"product,license,quantity,Product Key,comment\nwindows-server,core,16,{KEY},{OTHER}\n",
    )
    candidates, problems = read_file(path, default_catalog(), {})
    assert candidates == []
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1 and "2 different product keys" in str(errors[0])
    assert KEY not in str(problems) and OTHER not in str(problems)


def test_an_mls_summary_with_a_key_column_keeps_the_key_encrypted_only(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    mls = (
        "License Product Family,Effective License Quantity,License Version,Product Key,"
        "Product Pool\n"
        f"Windows Server Standard Core,16,2022,{KEY},Server {OTHER[:0]}\n"
    )
    candidates, problems = read_file(write_csv(tmp_path, "mls.csv", mls), default_catalog(), {})
    assert problems == [] and len(candidates) == 1
    assert candidates[0].product_key == KEY
    assert KEY not in json.dumps(dict(candidates[0].entitlement.extra))
    assert service.import_candidates(ledger, candidates).added == 1
    assert KEY not in everything_stored(ledger.url)


def test_a_key_as_an_id_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "e.csv", f"id,product,license,quantity\n{KEY},rds,user-cal,1\n")
    candidates, problems = read_file(path, default_catalog(), {})
    assert candidates == [] and "e.csv:2: the id looks like a product key" in str(problems[0])
    assert KEY not in str(problems)


def test_the_ledger_refuses_a_key_outside_its_column_from_any_caller(
    ledger: service.Ledger,
) -> None:
    # The web's purchase form builds entitlements without the importer: the last check.
    e = Entitlement("windows-server", "user-cal", 5, id="W-1", agreement=KEY, source=Source("web"))
    report = service.import_candidates(ledger, [Candidate(e, "h" * 64)])
    assert report.added == 0 and "agreement holds what looks like a product key" in str(
        report.problems[0]
    )
    assert KEY not in str(report.problems[0]) and KEY not in everything_stored(ledger.url)


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("Product Key", True),
        ("product_key", True),
        ("ProductKey", True),
        ("key", True),
        ("License Keys", True),
        ("key_kind", False),
        ("product", False),
        ("keyboard", False),
    ],
)
def test_headers_that_name_a_key(header: str, names: bool) -> None:
    assert keys.names_a_key(header) is names


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (KEY, True),
        (KEY.lower(), True),
        (f"key:{KEY}.", True),
        ("VK7JG-NPHTM-C97JM-9MPGT", False),  # four groups
        ("VK7JG-NPHTM-C97JM-9MPGT-3V66TX", False),  # a group of six
        ("2024-01-10", False),
    ],
)
def test_keys_are_recognised_by_their_shape(value: str, found: bool) -> None:
    assert keys.holds_a_key(value) is found


def test_a_date_is_still_a_date(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "e.csv", "product,license,quantity,purchased\nrds,user-cal,1,2024-01-10\n"
    )
    candidates, problems = read_file(path, default_catalog(), {})
    assert problems == [] and candidates[0].entitlement.purchased == date(2024, 1, 10)
