"""How ``entitle ledger list`` and ``entitle ledger history`` look in a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

LIST_COLUMNS = (
    "id",
    "product",
    "license",
    "edition",
    "version",
    "owned",
    "free",
    "held by",
    "agreement",
    "SA until",
)


def render_list(items: list[dict[str, Any]], show_keys: bool, console: Console) -> None:
    table = Table(*LIST_COLUMNS, *(["key"] if show_keys else []))
    for i in items:
        held = ", ".join(f"{h['holder']} ({h['units']})" for h in i["held"])
        cells = [
            i["id"],
            i["product"],
            i["license"],
            i["edition"] or "",
            i["version"] or "",
            str(i["owned"]),
            str(i["free"]),
            held,
            i["agreement"] or "",
            str(i["sa_end"] or ""),
        ]
        table.add_row(*cells, *([i.get("product_key") or ""] if show_keys else []))
    console.print(table)


def render_history(events: list[dict[str, Any]]) -> None:
    for e in events:
        print(
            f"{e['seq']:>5}  {e['at']}  {e['actor']:<12} {e['action']:<20} {e['entity']}"
            f"{_change(e['before'], e['after'])}"
        )


def _change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """What an event changed, ``  (end: None → 2025-05-02)``; nothing for a new row."""
    if before is None or after is None:
        return ""
    changed = [
        f"{k}: {before.get(k)} → {after.get(k)}"
        for k in sorted(after)
        if before.get(k) != after.get(k)
    ]
    return "  (" + "; ".join(changed) + ")" if changed else ""
