"""The estate priced in tenths, and reading money out of JSON exactly (test_money.py and
tests/web/test_ws_money.py).

CENT is priced so that arithmetic in floats would show: in binary floating point
16 × 0.1 is 1.6000000000000001, 0.1 + 0.1 + 0.1 is 0.30000000000000004 and 1.6 + 0.3 is
1.9000000000000001. Worked out by the rules:

    hosts.csv     h1: 1 processor x 16 cores, running Windows Server 2025 Standard
    access.csv    u1, u2, u3 reach h1's Windows Server (users, no device named)
    prices.csv    Standard core license 0.1, Windows Server user CAL 0.1, device CAL 0.7

    per-core (§3.1): 16 physical cores, at least 16 per server      16 x 0.1 = 1.6
    CALs (§1.1): three users and no device known, a user CAL each    3 x 0.1 = 0.3
    total                                                                       1.9
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

CENT = {
    "hosts": "host,processors,cores_per_processor\nh1,1,16\n",
    "oses": "ose,host,virtual\nh1,h1,no\n",
    "software": "ose,product,edition,version\nh1,windows-server,standard,2025\n",
    "users": "user\nu1\nu2\nu3\n",
    "access": "ose,product,user\nh1,windows-server,u1\nh1,windows-server,u2\n"
    "h1,windows-server,u3\n",
    "prices": "product,license,price,edition\nwindows-server,core,0.1,standard\n"
    "windows-server,user-cal,0.1,\nwindows-server,device-cal,0.7,\n",
}
MONEY_KEYS = {"total_cost", "cost", "unit_price", "lower_bound", "monthly_cost", "price"}


def exact(text: str) -> Any:
    """JSON with every number as the exact Decimal of its text."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def money_values(data: Any, path: str = "") -> dict[str, Any]:
    """Every value under a money key, by its path in the document."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            if k in MONEY_KEYS and not isinstance(v, dict | list):
                out[f"{path}/{k}"] = v
            out.update(money_values(v, f"{path}/{k}"))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update(money_values(v, f"{path}/{i}"))
    return out


def check_money(text: str) -> dict[str, Any]:
    """The document of ``text`` (numbers as exact Decimals) once every amount in it is a JSON
    number (or null) and none carries a floating-point tail."""
    data = exact(text)
    for where, value in money_values(data).items():
        assert value is None or isinstance(value, Decimal), (where, value)
        assert value is None or len(value.as_tuple().digits) <= 15, (where, value)
    assert "0000000" not in text and "9999999" not in text
    return data


def write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in CENT.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def lines_by_license(position: dict[str, Any]) -> dict[str, tuple[Any, Any, Any]]:
    return {x["license"]: (x["shortfall"], x["unit_price"], x["cost"]) for x in position["lines"]}
