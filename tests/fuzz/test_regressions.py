"""Crashes the fuzzing found in code this work does not own, kept as failing tests (xfail,
strict: they start passing, and so fail, once fixed) with the fix suggested."""

from __future__ import annotations

from pathlib import Path

import pytest
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


@pytest.mark.xfail(
    strict=True,
    raises=ArithmeticError,
    reason="estate/convert.py accepts any whole number, so 10^38 cores per processor reach "
    "reports/fmt.money, whose Decimal.quantize raises InvalidOperation beyond 28 digits. "
    "Fix: an upper bound per count in convert.py (e.g. processors and cores_per_processor "
    "<= 4096, vcpus <= 4096, quantity <= 10^9) reported as 'FILE:LINE: ... is too large'.",
)
def test_a_core_count_of_38_digits_is_bad_input(tmp_path: Path) -> None:
    folder = estate(tmp_path / "e", "h1,2," + "9" * 38 + "\n")
    code, err = rejected(["position", str(folder)])
    assert code == 2 and "hosts.csv:2:" in err


@pytest.mark.xfail(
    strict=True,
    raises=RuntimeError,
    reason="the same unbounded count with licenses owned: 10^38 cores needed against 10^26 "
    "owned make the HiGHS matching LP unbounded, and optimize/match.allocate raises "
    "RuntimeError('entitlement matching failed'). Fix: the bound in estate/convert.py above.",
)
def test_a_core_count_of_38_digits_with_licenses_owned_is_bad_input(tmp_path: Path) -> None:
    owned = "product,license,edition,version,quantity\nwindows-server,core,standard,2025,"
    folder = estate(tmp_path / "e", "h1,2," + "9" * 38 + "\n", owned + "9" * 26 + "\n")
    code, err = rejected(["position", str(folder), "--json"])
    assert code == 2 and "hosts.csv:2:" in err
