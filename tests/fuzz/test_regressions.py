"""Crashes the fuzzing found in the estate loader, kept as regression tests: a count of 38
digits reached the reports' exact money and the matching LP; counts and amounts now have upper
bounds (estate/convert.py) and such a cell is bad input, FILE:LINE."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from entitle.cli.main import app

runner = CliRunner()
WS = "ose,product,edition,version\nh1-os,windows-server,standard,2025\n"


def estate(folder: Path, hosts: str, entitlements: str | None = None) -> Path:
    folder.mkdir()
    (folder / "hosts.csv").write_text("host,processors,cores_per_processor\n" + hosts)
    (folder / "oses.csv").write_text("ose,host,virtual\nh1-os,h1,no\n")
    (folder / "software.csv").write_text(WS)
    if entitlements:
        (folder / "entitlements.csv").write_text(entitlements)
    return folder


def rejected(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def test_a_core_count_of_38_digits_is_bad_input(tmp_path: Path) -> None:
    folder = estate(tmp_path / "e", "h1,2," + "9" * 38 + "\n")
    code, err = rejected(["position", str(folder)])
    assert code == 2 and "hosts.csv:2:" in err


def test_a_core_count_of_38_digits_with_licenses_owned_is_bad_input(tmp_path: Path) -> None:
    owned = "product,license,edition,version,quantity\nwindows-server,core,standard,2025,"
    folder = estate(tmp_path / "e", "h1,2," + "9" * 38 + "\n", owned + "9" * 26 + "\n")
    code, err = rejected(["position", str(folder), "--json"])
    assert code == 2 and "hosts.csv:2:" in err
