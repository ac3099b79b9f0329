"""Audit events in words for the ledger page and its CSV: what moved, from where to where, how
many units, on which day and why, instead of the ledger's codes (``assignment.move``,
``entitlement:7``). The holder a move came from is read from the earlier events of the same
chain (each assignment row is recorded when it is made)."""

from __future__ import annotations

import json
from typing import Any

from entitle.reports.model import label

FREE = "free units"
ACTIONS = {
    "entitlement.import": "recorded",
    "entitlement.create": "recorded",
    "entitlement.update": "changed",
    "assignment.create": "assigned",
    "assignment.move": "reassigned",
    "assignment.end": "ended",
    "assignment.split": "kept",
    "retirement.create": "retired",
}


def _row(text: str | None) -> dict[str, Any]:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _holder(row: dict[str, Any]) -> str:
    kind, name = row.get("holder_kind"), row.get("holder")
    return f"{kind}:{name}" if kind and name else ""


def describe(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event (oldest first, with ``before``/``after``) with ``what``, ``source``,
    ``target``, ``quantity``, ``day`` and ``why`` in words."""
    holders: dict[int, str] = {}
    out = []
    for e in events:
        before, after = _row(e.get("before")), _row(e.get("after"))
        action = str(e["action"])
        what = ACTIONS.get(action, action.replace(".", " "))
        source = target = why = ""
        quantity: int | None = None
        day = ""
        if action.startswith("entitlement."):
            row = after or before
            quantity = row.get("quantity")
            what = f"{what} {label(row.get('product') or '', row.get('edition'), row.get('version'), row.get('license') or '')}".strip()
            source, target = "purchase", "the ledger"
            day = row.get("purchased") or ""
        elif action.startswith("assignment."):
            row = after or before
            quantity = row.get("quantity")
            previous = holders.get(row.get("previous_id") or 0, "")
            if isinstance(row.get("id"), int):
                holders[row["id"]] = _holder(row)
            if action == "assignment.create":
                source, target, day = FREE, _holder(row), row.get("start") or ""
            elif action == "assignment.move":
                source, target, day = previous, _holder(row), row.get("start") or ""
                why = row.get("reason") or ""
            elif action == "assignment.end":
                source, target, day = _holder(row), "", row.get("end") or ""
                what = "ended a holding"
            else:  # split: the units not moved stay where they were
                source = target = _holder(row)
                day, what = row.get("start") or "", "kept the rest"
        elif action.startswith("retirement."):
            row = after or before
            quantity = row.get("quantity")
            source, target = "owned", "retired"
            day, why = row.get("retired_on") or "", row.get("reason") or ""
        out.append(
            {
                **{k: v for k, v in e.items() if k not in ("before", "after")},
                "what": what,
                "source": source,
                "target": target,
                "quantity": quantity,
                "day": day,
                "why": why,
            }
        )
    return out
