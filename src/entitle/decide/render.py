"""The decision tool's answers as plain data (JSON) and as an HTML page with the growth chart.

Imports the decide modules and :mod:`entitle.reports.charts` (the same hand-written SVG).
"""

from __future__ import annotations

from typing import Any

from markupsafe import escape

from entitle.decide.data import DataDecision
from entitle.decide.growth import Projection
from entitle.decide.questionnaire import DISCLAIMER, Answers, Prices, Recommendation
from entitle.reports import charts


def answers_json(a: Answers) -> dict[str, Any]:
    return {
        "users": a.users,
        "current": a.current,
        "dedicated_share": a.dedicated_share,
        "devices_per_user": a.devices_per_user,
        "can_count_devices": a.can_count_devices,
        "device_growth": a.device_growth,
        "shared_share": a.shared_share,
        "shared_devices": a.shared_devices,
    }


def recommendation_json(r: Recommendation, p: Prices) -> dict[str, Any]:
    return {
        "logic": DISCLAIMER,
        "recommendation": r.kind,
        "user_cals": r.user_cals,
        "device_cals": r.device_cals,
        "cost": r.cost,
        "prices": {"product": p.product, "user_cal": p.user, "device_cal": p.device},
        "groups": [
            {
                "group": g.name,
                "users": g.users,
                "devices": g.devices,
                "choice": g.choice,
                "cals": g.cals,
                "cost": g.cost,
                "user_cal_cost": g.user_cost,
                "device_cal_cost": g.device_cost,
                "reason": g.reason,
            }
            for g in r.groups
        ],
        "considerations": list(r.considerations),
    }


def projection_json(p: Projection) -> dict[str, Any]:
    return {
        "years": [
            {
                "year": y,
                **{s: p.cost(s, y) for s in p.strategies},
                p.floor_name: p.floor[y],
                "cheapest": list(p.cheapest(y)),
            }
            for y in p.years
        ],
        "stops_being_cheapest": {s: p.stops(s) for s in p.strategies},
        "verdicts": [p.stop_text(s) for s in p.strategies] + [p.floor_text()],
        "notes": list(p.notes),
    }


def data_json(d: DataDecision) -> dict[str, Any]:
    return {
        "warnings": list(d.warnings),
        "strategies": [
            {
                "strategy": s.name,
                "user_licenses": s.user_cals,
                "device_licenses": s.device_cals,
                "list_cost": s.list_cost,
                "to_buy": s.to_buy,
                "optimum_saves": d.saving(s.name),
            }
            for s in d.strategies
        ],
        "evidence": {
            "users": len(d.evidence.users),
            "with_own_devices": len(d.evidence.dedicated),
            "on_shared_devices": len(d.evidence.shared_users),
            "shared_devices": len(d.evidence.shared_devices),
            "no_device_known": len(d.evidence.rest),
            "devices_listed": d.evidence.countable,
        },
    }


def growth_chart(p: Projection, currency: str) -> str:
    series = [(s, list(p.costs[i])) for i, s in enumerate(p.strategies)]
    series.append((p.floor_name, list(p.floor)))
    return str(
        charts.lines(
            [f"year {y}" for y in p.years],
            series,
            f"Cost of each CAL strategy per year ({currency})",
            currency,
        )
    )


def growth_html(p: Projection, currency: str, title: str) -> str:
    rows = "".join(
        "<tr><td>year {}</td>{}<td class='n'>{:,.2f}</td></tr>".format(
            y,
            "".join(f"<td class='n'>{p.cost(s, y):,.2f}</td>" for s in p.strategies),
            p.floor[y],
        )
        for y in p.years
    )
    head = "".join(f"<th>{escape(s)}</th>" for s in p.strategies)
    verdicts = [p.stop_text(s) for s in p.strategies] + [p.floor_text()]
    stops = "".join(f"<li>{escape(v)}</li>" for v in verdicts)
    notes = "".join(f"<li>{escape(n)}</li>" for n in p.notes)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:'DejaVu Sans',Arial,sans-serif;"
        "max-width:900px;margin:24px auto;font-size:13px}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:4px 8px}.n{text-align:right}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(DISCLAIMER)}</p>"
        f"{growth_chart(p, currency)}<table><tr><th></th>{head}<th>{escape(p.floor_name)}</th>"
        f"</tr>{rows}</table><ul>{stops}</ul><ul>{notes}</ul></body></html>\n"
    )
