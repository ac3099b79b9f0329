"""The report as one self-contained HTML page: tables and inline SVG charts, no script, no
network. The Jinja2 template ships as package data (``reports/templates/report.html.j2``).

Imports the report model and charts.
"""

from __future__ import annotations

from decimal import Decimal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from entitle.position.model import Line
from entitle.reports import charts
from entitle.reports.fmt import count, money, signed
from entitle.reports.model import Report, line_label


def _packs(line: Line) -> str:
    return " + ".join(f"{n} × {size}-core pack" for size, n in line.packs.items())


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("entitle.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(money=money, signed=signed, count=count, label=line_label, packs=_packs)
    return env


def report_charts(report: Report) -> dict[str, Markup | None]:
    cur = report.currency
    cost = (
        charts.bars(list(report.cost_by_product), f"Cost of the shortfall by product ({cur})", cur)
        if report.cost_by_product
        else None
    )
    required = charts.paired_bars(
        [(line_label(x), x.required, x.owned) for x in report.lines],
        "Required vs owned, per license line (license units)",
        ("required", "owned"),
    )
    cals = None
    if report.cal_split:
        rows: list[tuple[str, list[int]]] = [
            (s.product, [0, 0, s.user + s.device] if s.suite else [s.user, s.device, 0])
            for s in report.cal_split
        ]
        total = [sum(r[1][i] for r in rows) for i in range(3)]
        cals = charts.stacked_bars(
            [("all CALs", total), *rows],
            "CAL plan: licenses held per user, per device, and as CAL Suites",
            ("User", "Device", "Suite"),
        )
    history = None
    if report.history is not None:
        h = report.history
        series = sorted(h.series, key=lambda s: (-s[1][-1], s[0]))
        top = series[:7]
        rest = series[7:]
        if rest:
            top.append(("other", tuple(sum(s[1][i] for s in rest) for i in range(len(h.dates)))))
        history = charts.lines(
            [d.isoformat() for d in h.dates],
            [(name, [Decimal(v) for v in vs]) for name, vs in top],
            "Owned license units by purchase date",
            "units",
            step=True,
        )
    return {"cost": cost, "required": required, "cals": cals, "history": history}


def render_html(report: Report) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(r=report, s=report.summary, charts=report_charts(report))
