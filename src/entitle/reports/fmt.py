"""Text forms shared by the report faces: money to the cent with thousands separators, counts.

Imports nothing of entitle.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def money(value: Decimal | int | None, currency: str = "") -> str:
    """``1,234.50`` (or ``1,234.50 USD``); an unknown amount is a dash."""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN):,}"
    return f"{text} {currency}".strip()


def signed(value: Decimal | int, currency: str = "") -> str:
    """A change: ``+1,234.50``, ``−20`` (a true minus sign), ``0``."""
    text = money(abs(value), currency) if isinstance(value, Decimal) else f"{abs(value):,}"
    if value > 0:
        return "+" + text
    if value < 0:
        return "−" + text
    return text


def count(value: int) -> str:
    return f"{value:,}"
