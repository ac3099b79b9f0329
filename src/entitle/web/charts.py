"""The web's charts: the report's hand-written SVG (:mod:`entitle.reports.charts`) fed from a
stored position's JSON or a decision's result, each with a ``<title>`` and a ``<desc>`` that
says in words what the bars show (screen readers read both). A chart with nothing to show is
``None``; the templates say why instead."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from markupsafe import Markup, escape

from entitle.money import from_json
from entitle.reports import charts
from entitle.reports.model import label
from entitle.web.templating import when

MOST = 12  # bars in one dashboard chart; the rest are summed or named in the description


def described(svg: Markup | str, desc: str) -> Markup:
    """``svg`` with a ``<desc>`` after its ``<title>``."""
    text = str(svg)
    end = text.find("</title>") + len("</title>")
    return Markup(text[:end] + f"<desc>{escape(desc)}</desc>" + text[end:])


def responsive(draw: Callable[..., Markup], desc: str) -> Markup:
    """A chart in both layouts (``draw(layout=...)``), each described: the page's stylesheet
    shows the wide one on a laptop and the narrow one (labels above their bars, at a readable
    size) on a phone."""
    return (
        Markup("<div class='chart'><div class='chart-wide'>")
        + described(draw(layout=charts.WIDE), desc)
        + Markup("</div><div class='chart-narrow'>")
        + described(draw(layout=charts.NARROW), desc)
        + Markup("</div></div>")
    )


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def cost_by_product(position: dict[str, Any]) -> Markup | None:
    """Shortfall cost per product, largest first; ``None`` when nothing is short."""
    totals: dict[str, Decimal] = {}
    for line in position["lines"]:
        cost = from_json(line["cost"])
        totals[line["product"]] = totals.get(line["product"], Decimal(0)) + cost
    items = [(k, v) for k, v in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0]
    if not items:
        return None
    cur = position["currency"]
    words = "; ".join(f"{k} {_money(v)} {cur}" for k, v in items)
    title = f"Shortfall cost by product ({cur})"
    return responsive(
        partial(charts.bars, items, title, cur),
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
    names = ("required", "owned")
    return responsive(
        partial(charts.paired_bars, items, title, names),
        words + "." + more,
    )


def strategies(result: dict[str, Any]) -> Markup | None:
    """List cost of the exact optimum beside the simple CAL strategies (a decision's result)."""
    rows = result.get("strategies") or []
    if not rows:
        return None
    cur = result.get("currency", "")
    items = [(r["strategy"], from_json(r["list_cost"])) for r in rows]
    words = "; ".join(f"{name} {_money(v)} {cur}" for name, v in items)
    title = f"CAL cost: the exact optimum vs simple strategies ({cur})"
    return responsive(
        partial(charts.bars, items, title, cur),
        f"List cost of licensing every CAL need under each strategy: {words}.",
    )


def growth(result: dict[str, Any], currency: str | None = None) -> Markup | None:
    """Each strategy's cost per year of a decision's growth projection, in both layouts (the
    questionnaire's result names no currency: ``currency`` gives it)."""
    growth = result.get("growth") or {}
    if not growth.get("years"):
        return None
    cur = currency or result.get("currency", "")
    names = [k for k in growth["years"][0] if k not in ("year", "cheapest")]
    words = "; ".join(
        f"year {y['year']}: " + ", ".join(f"{n} {_money(from_json(y[n]))}" for n in names)
        for y in growth["years"]
    )
    xs = [f"year {y['year']}" for y in growth["years"]]
    series = [(n, [from_json(y[n]) for y in growth["years"]]) for n in names]
    title = f"Cost of each CAL strategy per year ({cur})"
    return responsive(
        partial(charts.lines, xs, series, title, cur),
        f"Cost of each CAL strategy per year ({cur}). {words}.",
    )


def cost_over_time(rows: list[dict[str, Any]]) -> Markup:
    """Each estate's shortfall cost at every kept position, oldest first: one line per estate
    (its last cost held until its next position; nothing before its first)."""
    names: list[str] = []
    for r in rows:
        if r["estate"] not in names:
            names.append(r["estate"])
    cur = rows[-1]["currency"]
    xs = [when(r["computed_at"]).replace(" UTC", "") for r in rows]
    series = []
    for name in names:
        values: list[Decimal | None] = []
        last: Decimal | None = None  # nothing before the estate's first position
        for r in rows:
            if r["estate"] == name:
                last = from_json(r["total_cost"])
            values.append(last)
        series.append((name, values))
    every = max(1, -(-len(xs) // 6))  # at most about six dates under the wide chart
    thin = [x if i % every == 0 or i == len(xs) - 1 else "" for i, x in enumerate(xs)]
    words = "; ".join(
        f"{r['estate']} {_money(from_json(r['total_cost']))} {cur} on {when(r['computed_at'])}"
        for r in rows
    )
    title = f"Compliance cost over time, per estate ({cur})"

    def draw(layout: charts.Layout) -> Markup:  # the narrow layout picks its own few dates
        dates = thin if layout.dates == 0 else [x.split(",")[0] for x in xs]
        return charts.lines(dates, series, title, cur, step=True, layout=layout)

    return responsive(
        draw,
        f"The shortfall cost of each computed position: {words}.",
    )
