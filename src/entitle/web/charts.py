"""The web's charts: the report's hand-written SVG (:mod:`entitle.reports.charts`) fed from a
stored position's JSON or a decision's result, each with a ``<title>`` and a ``<desc>`` that
says in words what the bars show (screen readers read both). A chart with nothing to show is
``None``; the templates say why instead."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from entitle.reports import charts
from entitle.reports.model import label

MOST = 12  # bars in one dashboard chart; the rest are summed or named in the description


def described(svg: Markup | str, desc: str) -> Markup:
    """``svg`` with a ``<desc>`` after its ``<title>``."""
    text = str(svg)
    end = text.find("</title>") + len("</title>")
    return Markup(text[:end] + f"<desc>{escape(desc)}</desc>" + text[end:])


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def cost_by_product(position: dict[str, Any]) -> Markup | None:
    """Shortfall cost per product, largest first; ``None`` when nothing is short."""
    totals: dict[str, Decimal] = {}
    for line in position["lines"]:
        cost = Decimal(str(line["cost"]))
        totals[line["product"]] = totals.get(line["product"], Decimal(0)) + cost
    items = [(k, v) for k, v in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0]
    if not items:
        return None
    cur = position["currency"]
    words = "; ".join(f"{k} {_money(v)} {cur}" for k, v in items)
    return described(
        charts.bars(items, f"Shortfall cost by product ({cur})", cur),
        f"What buying the missing licenses costs, per product: {words}.",
    )


def required_vs_owned(position: dict[str, Any]) -> Markup | None:
    """Required and owned units of the lines needing the most; ``None`` without lines."""
    lines = [x for x in position["lines"] if x["required"] or x["owned"]]
    if not lines:
        return None
    lines.sort(key=lambda x: (-x["shortfall"], -x["required"], x["product"]))
    shown = lines[:MOST]
    items = [
        (label(x["product"], x["edition"], x["version"], x["license"]), x["required"], x["owned"])
        for x in shown
    ]
    words = "; ".join(f"{name}: {a:,} required, {b:,} owned" for name, a, b in items)
    more = f" {len(lines) - MOST} more lines are in the position." if len(lines) > MOST else ""
    title = "Required vs owned license units" + (
        f" (the {MOST} lines short the most)" if len(lines) > MOST else ""
    )
    return described(charts.paired_bars(items, title, ("required", "owned")), words + "." + more)


def strategies(result: dict[str, Any]) -> Markup | None:
    """List cost of the exact optimum beside the simple CAL strategies (a decision's result)."""
    rows = result.get("strategies") or []
    if not rows:
        return None
    cur = result.get("currency", "")
    items = [(r["strategy"], Decimal(str(r["list_cost"]))) for r in rows]
    words = "; ".join(f"{name} {_money(v)} {cur}" for name, v in items)
    return described(
        charts.bars(items, f"CAL cost: the exact optimum vs simple strategies ({cur})", cur),
        f"List cost of licensing every CAL need under each strategy: {words}.",
    )


def growth(result: dict[str, Any]) -> Markup | None:
    svg = result.get("chart_svg") or ""
    growth = result.get("growth") or {}
    if not svg or not growth.get("years"):
        return None
    names = [k for k in growth["years"][0] if k not in ("year", "cheapest")]
    words = "; ".join(
        f"year {y['year']}: " + ", ".join(f"{n} {_money(Decimal(str(y[n])))}" for n in names)
        for y in growth["years"]
    )
    return described(svg, f"Cost of each CAL strategy per year. {words}.")
