"""A stored estate's position as the engine's objects (for the reports and the drill-down):
from the workspace's cache, or loaded and computed again; or on another basis — as of another
day, with the organisation's ledger entitlements instead of the estate's own (``entitle position
--as-of DAY --db LEDGER``) — computed on request and not kept."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from entitle.estate.records import TABLES, Estate
from entitle.ledger.service import today
from entitle.position import Position, compute_position
from entitle.reports import Report, build_report
from entitle.reports.model import line_label
from entitle.source import Finding
from entitle.web import orgledger
from entitle.web.context import Workspace
from entitle.web.errors import ApiError
from entitle.web.jobs import estate_path, load
from entitle.web.listing import natural_key
from entitle.web.models import Organisation, StoredEstate


@dataclass(frozen=True, slots=True)
class Computed:
    estate: Estate
    position: Position


@dataclass(frozen=True, slots=True)
class Basis:
    """What a position is computed on: the day (``None``: today) and whose entitlements."""

    as_of: date | None = None
    ledger: bool = False

    @property
    def stored(self) -> bool:
        """The basis of the position kept on the estate (today, the estate's entitlements)."""
        return self.as_of is None and not self.ledger

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": (self.as_of or today()).isoformat(),
            "entitlements": "ledger" if self.ledger else "estate",
        }

    def query(self) -> str:
        """The query string that asks for this basis again (empty for the stored one)."""
        parts = [f"as_of={self.as_of.isoformat()}"] if self.as_of else []
        parts += ["entitlements=ledger"] if self.ledger else []
        return "&".join(parts)


def computed(
    ws: Workspace, stored: StoredEstate, basis: Basis | None = None, org: Organisation | None = None
) -> Computed:
    """The position on ``basis`` (default: the stored one, cached); ``org`` is needed for the
    ledger's entitlements."""
    if stored.status != "ready":
        raise ApiError(409, "not-ready", f"the estate is {stored.status}; no position yet")
    mark = fingerprint(ws, stored)
    cached = ws.recall(stored.id)
    # another server process may have changed the estate since this one cached it
    hit = cached[1] if isinstance(cached, tuple) and cached[0] == mark else None
    default = basis is None or basis.stored
    if default and isinstance(hit, Computed):
        return hit
    if isinstance(hit, Computed):
        estate = hit.estate
    else:
        loaded, problems = load(ws.settings.data_dir, stored, ws.catalog)
        if loaded is None:
            raise ApiError.of_problems(problems)
        estate = loaded
    if basis is None or basis.stored:  # for mypy: default, spelled out
        result = Computed(estate, compute_position(estate, ws.catalog))
        ws.remember(stored.id, (mark, result))
        return result
    findings: tuple[Finding, ...] = ()
    if basis.ledger:
        if org is None:
            raise ValueError("a position from the ledger needs the organisation")
        day = basis.as_of or today()
        owned, findings = orgledger.entitlements_on(ws.engine, org, day, ws.catalog)
        estate = replace(estate, entitlements=owned)
    position = compute_position(estate, ws.catalog, basis.as_of)
    if findings:  # stored rows the catalog does not know: said, not a failure
        position = replace(position, findings=findings + position.findings)
    return Computed(estate, position)


def fingerprint(ws: Workspace, stored: StoredEstate) -> tuple[Any, ...]:
    """What a cached position was computed from: the stored position and the estate's files
    (name, size, modification time). With several server processes (``--workers``) one may
    re-import an estate another has cached; the cache is used only while this is unchanged."""
    path = estate_path(ws.settings.data_dir, stored)
    files = [path] if path.is_file() else sorted(p for p in path.glob("*") if p.is_file())
    stats = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return (stored.position, stats)


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


EVIDENCE_PAGE = 50
SOURCE = re.compile(
    r"^(?:.*[/\\])?(?P<table>[a-z]+)\.csv:(?P<line>\d+)$|^.*:(?P<sheet>[a-z]+)!(?P<row>\d+)$"
)


def table_of(source: str) -> str | None:
    """The estate table a source names (``access.csv:12``, ``estate.xlsx:access!12``)."""
    m = SOURCE.match(source)
    if m is None:
        return None
    table = m.group("table") or m.group("sheet")
    return table if table in TABLES else None


def evidence_page(position: Position, index: int, page: int = 1) -> dict[str, Any]:
    """Line ``index`` as :func:`evidence` gives it, with every evidence reference of its needs
    in one list (in file and line order, numbers as numbers) paged ``EVIDENCE_PAGE`` at a
    time: the page asked for (the last when past the end), the total and each reference's
    estate table (for a link to its row)."""
    found = evidence(position, index)
    refs = [
        (n["host"] or n["ose"] or n["reason"], ref)
        for n in found["needs"]
        for ref in sorted(n["evidence"], key=natural_key)
    ]
    pages = max(1, -(-len(refs) // EVIDENCE_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * EVIDENCE_PAGE
    shown = [
        {"need": need, "source": ref, "table": table_of(ref)}
        for need, ref in refs[start : start + EVIDENCE_PAGE]
    ]
    groups: list[dict[str, Any]] = []
    for r in shown:  # the page's references under the need they are evidence of
        if not groups or groups[-1]["need"] != r["need"]:
            groups.append({"need": r["need"], "refs": []})
        groups[-1]["refs"].append(r)
    holders = sum(n["holders"] for n in found["needs"])
    return {
        **found,
        "refs": shown,
        "groups": groups,
        "total": len(refs),
        "first": start + 1,
        "page": page,
        "pages": pages,
        "holders": holders,
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
