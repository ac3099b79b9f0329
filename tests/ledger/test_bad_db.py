"""``--db`` naming something that is not a ledger database (issue #14 item 5): a file of
garbage, a truncated ledger, another engine's URL. Each is one line on standard error and exit
2, never a traceback, and the file given is left as it was; ``entitle serve`` too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entitle.cli.main import app

runner = CliRunner()
COMMANDS = (["ledger", "list"], ["ledger", "init"], ["ledger", "history"], ["ledger", "verify"])


def bad_databases(tmp_path: Path) -> dict[str, str]:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 40)  # 10 KiB that are not an SQLite file
    ledger = tmp_path / "whole.db"
    assert runner.invoke(app, ["ledger", "init", "--db", str(ledger)]).exit_code == 0
    data = ledger.read_bytes()
    assert len(data) >= 8192, len(data)  # a header page and more
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(data[: len(data) // 2 + 100])  # cut in the middle of a page
    return {
        "garbage": str(garbage),
        "truncated": str(truncated),
        "mysql": "mysql://root:hunter2@db.example/ledger",
        "unknown engine": "oracle+cx_oracle://scott@db/x",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_database_that_is_not_a_ledger_is_one_line_and_exit_2(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTITLE_KEY", "")
    for name, db in bad_databases(tmp_path).items():
        before = Path(db).read_bytes() if os.path.exists(db) else None
        result = runner.invoke(app, [*command, "--db", db])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2, (name, result.stderr, result.exception)
        assert len(lines) == 1 and "Traceback" not in result.output, (name, result.stderr)
        assert "hunter2" not in result.stderr  # no password shown
        if name in ("mysql", "unknown engine"):
            assert "SQLite" in lines[0] and "PostgreSQL" in lines[0]
        else:
            assert lines[0].startswith(db + ": not an entitle ledger"), lines
            assert Path(db).read_bytes() == before  # left as it was


def test_serve_on_a_bad_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for name, db in bad_databases(tmp_path).items():
        result = runner.invoke(app, ["serve", "--db", db, "--data", str(tmp_path / "data")])
        assert result.exit_code == 2, (name, result.stderr, result.exception)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_position_with_a_garbage_ledger_is_exit_2(tmp_path: Path) -> None:
    db = bad_databases(tmp_path)["garbage"]
    estate = Path(__file__).resolve().parents[2] / "examples" / "sample-estate"
    result = runner.invoke(app, ["position", str(estate), "--db", db])
    assert result.exit_code == 2 and "not an entitle ledger" in result.stderr, result.stderr
