"""The dashboard across an organisation's estates: the compliance (shortfall) cost of each
estate over time from every position kept (:mod:`entitle.web.history`), the shortfall by product
in each estate's latest position, and the Software Assurance and subscriptions that end in the
next 90 and 180 days — from the organisation's ledger (``sa_end``) and each estate's
``entitlements.csv`` (``sa_until``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup

from entitle.catalog import Catalog
from entitle.money import from_json
from entitle.web import charts, history
from entitle.web.api.analysis import raw_table
from entitle.web.errors import ApiError
from entitle.web.models import StoredEstate
from entitle.web.templating import when

WINDOWS = (90, 180)
ESTATES_SHOWN = 6  # columns of the shortfall-by-product table: the newest estates
POINTS = 24  # positions in the chart over time: the latest


@dataclass(frozen=True, slots=True)
class Expiry:
    ends: date
    days: int
    kind: str  # "Software Assurance" | "subscription"
    what: str
    quantity: int
    where: str  # "ledger" or the estate's name
    ref: str

    @property
    def window(self) -> int:
        """90 when it ends within 90 days, else 180."""
        return next(w for w in WINDOWS if self.days <= w)


def cost_over_time(rows: Sequence[dict[str, Any]]) -> tuple[Markup | None, list[dict[str, Any]]]:
    """The chart of each estate's shortfall cost at each kept position (an estate keeps its
    last cost until its next position), and the rows it shows."""
    shown = list(rows)[-POINTS:]
    if not shown:
        return None, []
    return charts.cost_over_time(shown), shown


def shortfall_by_product(estates: Sequence[StoredEstate]) -> dict[str, Any]:
    """Units short and their cost per product in the latest position of each of the newest
    ready estates: ``{"estates": [...], "rows": [{"product", "cells": [(units, cost)...]}]}``."""
    ready = [e for e in estates if e.position][:ESTATES_SHOWN]
    briefs = []
    for e in ready:
        briefs.append(history.summary(json.loads(e.position or "{}")))
    products = sorted(
        {p for b in briefs for p in b["short"]} | {p for b in briefs for p in b["cost"]}
    )
    rows = [
        {
            "product": p,
            "cells": [(b["short"].get(p, 0), from_json(b["cost"].get(p, 0))) for b in briefs],
        }
        for p in products
    ]
    return {"estates": ready, "currency": briefs[0]["currency"] if briefs else "", "rows": rows}


def expiries(
    data_dir: Path,
    catalog: Catalog,
    ledger_rows: Sequence[dict[str, Any]],
    estates: Sequence[StoredEstate],
    today: date,
) -> list[Expiry]:
    """SA and subscriptions ending from ``today`` through 180 days on, soonest first."""
    last = today + timedelta(days=WINDOWS[-1])
    out: list[Expiry] = []

    def add(
        ends: date | None, product: str, text: str, quantity: int, where: str, ref: str
    ) -> None:
        if ends is None or not today <= ends <= last:
            return
        known = catalog.products.get(product)
        kind = (
            "subscription"
            if known is not None and known.kind == "subscription"
            else ("Software Assurance")
        )
        out.append(Expiry(ends, (ends - today).days, kind, text, quantity, where, ref))

    for e in ledger_rows:
        if e.get("owned"):
            what = " ".join(
                str(x) for x in (e["product"], e["edition"], e["version"], e["license"]) if x
            )
            add(_day(e.get("sa_end")), e["product"], what, int(e["owned"]), "ledger", e["id"])
    for stored in estates:
        if stored.status != "ready":
            continue
        try:
            raw = raw_table(data_dir, stored, "entitlements")
        except ApiError:
            continue
        if raw is None:
            continue
        column = {name.strip().lower(): i for i, name in enumerate(raw.header)}
        if "sa_until" not in column:
            continue

        def cell(row: int, name: str, raw: Any = raw, column: dict[str, int] = column) -> str:
            i = column.get(name)
            return str(raw.columns[i][row]).strip() if i is not None else ""

        for row in range(len(raw.sources)):
            product = cell(row, "product")
            what = " ".join(
                x
                for x in (product, cell(row, "edition"), cell(row, "version"), cell(row, "license"))
                if x
            )
            quantity = cell(row, "quantity")
            add(
                _day(cell(row, "sa_until")),
                product,
                what,
                int(quantity) if quantity.isdigit() else 0,
                stored.name,
                cell(row, "id") or str(raw.sources[row]),
            )
    out.sort(key=lambda x: (x.ends, x.where, x.ref))
    return out


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


__all__ = ["Expiry", "cost_over_time", "expiries", "shortfall_by_product", "when"]
