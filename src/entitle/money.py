"""Money in JSON: the one encoding every face uses (``--json`` of the CLI, the API, the web's
stored positions and job results, the position history, the catalog's prices).

The engine keeps money as exact :class:`~decimal.Decimal`. In JSON an amount is a **number**,
never a string, written as the contract's ``--json`` output has it (``12345.0``, ``73.5``): the
shortest text of the double nearest the amount. For every amount of up to 15 significant digits
(any real price, cost or total) that text is the amount itself — ``Decimal("0.3")`` is written
``0.3``, never ``0.30000000000000004``, because no arithmetic is ever done in floating point; the
double only carries the exact decimal to the encoder. An amount with more digits (a price
divided by a pack size, say) is first rounded to 15 significant digits, which is exact to the
cent for any amount below 10¹³.

Reading back: :func:`from_json` turns a number (or the text older files held) into the exact
Decimal again, through its text — never ``Decimal(float)``, which would keep the double's
binary tail.

Imports nothing of entitle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Context, Decimal
from typing import Any

DIGITS = 15
"""Significant digits a double carries exactly in both directions (decimal → double → text)."""
_ROUND = Context(prec=DIGITS)


def json_number(amount: Decimal) -> float:
    """The JSON number of an amount: the double whose shortest text is the amount (rounded to
    :data:`DIGITS` significant digits when it has more)."""
    if not amount.is_finite():
        raise ValueError(f"not an amount: {amount}")
    number = float(amount)
    if Decimal(repr(number)) != amount:
        number = float(_ROUND.plus(amount))
    return number


def json_default(value: Any) -> Any:
    """``default=`` for :func:`json.dumps`: amounts as numbers, days as ``YYYY-MM-DD``."""
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def jsonable(data: Any) -> Any:
    """``data`` with every amount a number and every day its ISO text, for encoders that do not
    take :func:`json_default` (FastAPI's would write ``Decimal("38")`` as ``38`` and
    ``Decimal("38.00")`` as ``38.0``)."""
    if isinstance(data, Decimal | date):
        return json_default(data)
    if isinstance(data, Mapping):
        return {k: jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [jsonable(v) for v in data]
    return data


def dumps(data: Any, *, indent: int | None = None) -> str:
    """``data`` as JSON text (UTF-8 characters kept as they are)."""
    return json.dumps(data, indent=indent, default=json_default, ensure_ascii=False)


def from_json(value: Any) -> Decimal:
    """The exact amount of a JSON number (or of the decimal text older files held)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not an amount: {value!r}")
    return Decimal(str(value))
