"""The difference between two positions, line by line: what a change does to the bill.

Imports :mod:`entitle.position` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from entitle.position.model import Line, Position

Key = tuple[str, str, str | None, str | None]


def line_key(line: Line) -> Key:
    return (line.product, line.license, line.edition, line.version)


def line_label(line: Line) -> str:
    parts = [line.product, line.edition or "", line.version or "", line.license]
    return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class LineChange:
    """One license line before and after (None where the line does not exist)."""

    label: str
    before: Line | None
    after: Line | None

    def _get(self, line: Line | None, name: str) -> Any:
        return getattr(line, name) if line is not None else 0

    def delta(self, name: str) -> Any:
        """after − before of ``required``, ``owned``, ``shortfall``, ``surplus`` or ``cost``."""
        zero: Any = Decimal(0) if name == "cost" else 0
        return (self._get(self.after, name) or zero) - (self._get(self.before, name) or zero)

    @property
    def changed(self) -> bool:
        return any(self.delta(n) for n in ("required", "owned", "shortfall", "surplus", "cost"))

    def as_json(self) -> dict[str, Any]:
        ref = self.after or self.before
        out: dict[str, Any] = {
            "product": ref.product if ref else "",
            "license": ref.license if ref else "",
            "edition": ref.edition if ref else None,
            "version": ref.version if ref else None,
        }
        for name in ("required", "owned", "shortfall", "surplus", "cost"):
            out[name] = {
                "before": self._get(self.before, name),
                "after": self._get(self.after, name),
                "change": self.delta(name),
            }
        return out


@dataclass(frozen=True, slots=True)
class PositionDiff:
    lines: tuple[LineChange, ...]
    total_before: Decimal
    total_after: Decimal

    @property
    def total_change(self) -> Decimal:
        return self.total_after - self.total_before

    @property
    def changed(self) -> tuple[LineChange, ...]:
        return tuple(c for c in self.lines if c.changed)

    def as_json(self) -> dict[str, Any]:
        return {
            "total_cost": {
                "before": self.total_before,
                "after": self.total_after,
                "change": self.total_change,
            },
            "lines": [c.as_json() for c in self.changed],
        }


def diff_positions(before: Position, after: Position) -> PositionDiff:
    """Every line of either position, in the after position's order, then lines that went."""
    old = {line_key(x): x for x in before.lines}
    new = {line_key(x): x for x in after.lines}
    out = [LineChange(line_label(x), old.get(line_key(x)), x) for x in after.lines]
    out += [LineChange(line_label(x), x, None) for x in before.lines if line_key(x) not in new]
    return PositionDiff(tuple(out), before.total_cost, after.total_cost)
