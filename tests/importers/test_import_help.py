"""Issue #15 item 9: ``entitle import KIND --help`` shows that kind's options and formats."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from entitle.cli.main import app


@pytest.mark.parametrize(
    ("kind", "has", "lacks"),
    [
        ("ual", ["--date-style", "--since", "Get-UalDailyAccess", "29-8-2025"], ["--external-ou"]),
        ("sil", ["--server", "Get-SilUalAccess"], ["--date-style", "--domain"]),
        ("ad", ["--domain", "--encoding", "userAccountControl"], ["--engine", "--date-style"]),
        ("generic", ["--map"], ["--server"]),
    ],
)
def test_each_kind_has_its_own_help(kind: str, has: list[str], lacks: list[str]) -> None:
    result = CliRunner().invoke(app, ["import", kind, "--help"])
    assert result.exit_code == 0, result.output
    assert f"entitle import {kind} FILE... --into ESTATE" in result.output
    for text in has:
        assert text in result.output
    for text in lacks:
        assert text not in result.output
    assert "--into" in result.output and "docs/importers.md" in result.output


def test_the_general_help_is_unchanged() -> None:
    result = CliRunner().invoke(app, ["import", "--help"])
    assert result.exit_code == 0
    assert "--external-ou" in result.output and "--date-style" in result.output
