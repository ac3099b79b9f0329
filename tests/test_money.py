"""Money in JSON (src/entitle/money.py): one encoding on every face, exact to the cent, a number
and never a string, and never the tail of a sum done in floating point.

The estate (moneykit.CENT) is priced so that arithmetic in floats would show; see moneykit.py
for the position worked out by the rules.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.money import dumps, from_json, json_number, jsonable
from moneykit import check_money, lines_by_license, write


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0.3", "0.3"),
        ("1.6", "1.6"),
        ("12345", "12345.0"),  # as the contract's --json example writes whole amounts
        ("423.1875", "423.1875"),
        ("0", "0.0"),
        ("-12.34", "-12.34"),
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_an_amount_is_written_as_the_number_it_is(amount: str, text: str) -> None:
    assert dumps(Decimal(amount)) == text
    assert from_json(json.loads(text)) == Decimal(amount)


def test_more_digits_than_a_double_holds_are_rounded_to_fifteen() -> None:
    third = Decimal(100) / 3  # 33.33333333333333333333333333 (28 digits)
    assert dumps(third) == "33.3333333333333"
    assert json_number(Decimal("0.1234567890123456789")) == 0.123456789012346


def test_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError):
        json_number(Decimal("NaN"))
    with pytest.raises(ValueError):
        from_json(True)


def test_jsonable_turns_nested_amounts_and_days_into_json_values() -> None:
    from datetime import date

    data = {"a": [Decimal("0.1"), (Decimal("2"), date(2026, 11, 28))], "b": {"c": None}}
    assert jsonable(data) == {"a": [0.1, [2.0, "2026-11-28"]], "b": {"c": None}}


def test_older_history_lines_with_decimal_text_read_the_same() -> None:
    assert from_json("1.90") == from_json(1.9) == Decimal("1.9")


def test_cli_json_writes_cent_prices_exactly(tmp_path: Path) -> None:
    runner = CliRunner()
    estate = write(tmp_path / "cent")
    r = runner.invoke(app, ["position", str(estate), "--json", "--as-of", "2026-11-28"])
    assert r.exit_code == 0, r.output
    data = check_money(r.stdout)
    assert data["total_cost"] == Decimal("1.9")
    assert lines_by_license(data) == {
        "core": (16, Decimal("0.1"), Decimal("1.6")),
        "user-cal": (3, Decimal("0.1"), Decimal("0.3")),
    }
    assert data["plan"]["optimality"]["cost"] == Decimal("1.9")
    # the catalog's prices in `entitle products --json` are numbers too (§8: 6,771 for 16
    # Datacenter core licenses, 423.1875 a core)
    r = runner.invoke(app, ["products", "windows-server", "--json"])
    assert r.exit_code == 0, r.output
    (product,) = check_money(r.stdout)
    prices = {(p["license"], p["edition"]): p["price"] for p in product["prices"]}
    assert prices[("core", "datacenter")] == Decimal("423.1875")
