"""A stored estate's position as the engine's objects (for the reports and the drill-down):
from the workspace's cache, or loaded and computed again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from entitle.estate.records import Estate
from entitle.ledger.workspace import StoredEstate
from entitle.position import Position, compute_position
from entitle.reports import Report, build_report
from entitle.reports.model import line_label
from entitle.web.context import Workspace
from entitle.web.errors import ApiError
from entitle.web.jobs import load


@dataclass(frozen=True, slots=True)
class Computed:
    estate: Estate
    position: Position


def computed(ws: Workspace, stored: StoredEstate) -> Computed:
    if stored.status != "ready":
        raise ApiError(409, "not-ready", f"the estate is {stored.status}; no position yet")
    hit = ws.recall(stored.id)
    if isinstance(hit, Computed):
        return hit
    estate, problems = load(ws.settings.data_dir, stored, ws.catalog)
    if estate is None:
        raise ApiError.of_problems(problems)
    result = Computed(estate, compute_position(estate, ws.catalog))
    ws.remember(stored.id, result)
    return result


def report(ws: Workspace, c: Computed) -> Report:
    return build_report(
        c.position,
        datetime.now(UTC).replace(microsecond=0),
        catalog=ws.catalog,
        entitlements=c.estate.entitlements,
    )


def evidence(position: Position, index: int) -> dict[str, Any]:
    """Line ``index`` with the needs behind it (why each unit is required) and the owned
    entitlements applied to it."""
    if not 0 <= index < len(position.lines):
        raise ApiError(404, "not-found", f"no line {index} in this position")
    line = position.lines[index]
    key = (line.product, line.license, line.edition, line.version)
    needs = [n for n in position.needs if n.key == key]
    allocations = [a for a in position.allocations if a.need.key == key]
    return {
        "index": index,
        "label": line_label(line),
        "line": line.as_json(),
        "needs": [
            {
                "quantity": n.quantity,
                "host": n.host,
                "ose": n.ose,
                "model": n.model,
                "reason": n.reason,
                "evidence": list(n.evidence),
                "holders": len(n.holders),
            }
            for n in needs
        ],
        "covered_by": [
            {"entitlement": a.entitlement, "quantity": a.quantity, "host": a.need.host}
            for a in allocations
        ],
    }


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two positions' lines side by side, by product, license, edition and version."""

    def keyed(p: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {(x["product"], x["license"], x["edition"], x["version"]): x for x in p["lines"]}

    left, right = keyed(a), keyed(b)
    rows = []
    for key in sorted(set(left) | set(right), key=lambda k: tuple(str(x) for x in k)):
        x, y = left.get(key, {}), right.get(key, {})
        row: dict[str, Any] = dict(
            zip(("product", "license", "edition", "version"), key, strict=True)
        )
        for field in ("required", "owned", "shortfall", "cost"):
            row[field] = {"a": x.get(field, 0), "b": y.get(field, 0)}
        rows.append(row)
    return {
        "ok": True,
        "total_cost": {"a": a["total_cost"], "b": b["total_cost"]},
        "lines": rows,
    }
