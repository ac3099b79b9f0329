"""Every computed position kept, for the dashboard's compliance cost over time, without a
schema change: each time a job stores an estate's position, one line of JSON is appended to
``DATA/org-<id>/positions.jsonl`` — the estate, when it was computed, the day it is as of,
its shortfall cost in total and per product (money as numbers, money.py; older lines hold
decimal text, read the same), and the units short per product. An append of
one short line is atomic on a local file system, so jobs in several threads or processes
may append at once. Estates from before this file existed contribute their stored position,
dated by their upload."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from entitle.ledger.clock import iso
from entitle.money import from_json, json_number
from entitle.web.models import StoredEstate

log = logging.getLogger("entitle.web")


def path(data_dir: Path, org_id: int) -> Path:
    return data_dir / f"org-{org_id}" / "positions.jsonl"


def summary(position: dict[str, Any]) -> dict[str, Any]:
    """A position's JSON in brief: its day, currency, total cost and, per product, the
    shortfall cost and units."""
    cost: dict[str, Decimal] = {}
    short: dict[str, int] = {}
    for line in position["lines"]:
        p = line["product"]
        cost[p] = cost.get(p, Decimal(0)) + from_json(line["cost"])
        short[p] = short.get(p, 0) + int(line["shortfall"])
    return {
        "as_of": position["as_of"],
        "currency": position["currency"],
        "total_cost": json_number(from_json(position["total_cost"])),
        "cost": {k: json_number(v) for k, v in sorted(cost.items()) if v},
        "short": {k: v for k, v in sorted(short.items()) if v},
    }


def record(data_dir: Path, stored: StoredEstate, position: str, computed_at: str) -> None:
    """Keep one computed position of ``stored`` (its JSON text). A failure to write is logged,
    never the job's failure: the position itself is stored on the estate."""
    try:
        line = {
            "estate_id": stored.id,
            "estate": stored.name,
            "computed_at": computed_at,
            **summary(json.loads(position)),
        }
        target = path(data_dir, stored.org_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except (OSError, ValueError, KeyError):
        log.exception("could not keep the position history of estate %s", stored.id)


def read(data_dir: Path, org_id: int, estates: Sequence[StoredEstate]) -> list[dict[str, Any]]:
    """The kept positions of the organisation's estates that still exist, oldest first (an
    estate with none kept gives its stored position, dated by its upload)."""
    alive = {e.id: e for e in estates}
    out: list[dict[str, Any]] = []
    file = path(data_dir, org_id)
    if file.exists():
        for text in file.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(text)
            except ValueError:  # a line cut short by a crash: skipped
                continue
            if isinstance(row, dict) and row.get("estate_id") in alive:
                row["estate"] = alive[row["estate_id"]].name  # renamed since: today's name
                out.append(row)
    kept = {r["estate_id"] for r in out}
    for e in estates:
        if e.id not in kept and e.position:
            try:
                brief = summary(json.loads(e.position))
            except (ValueError, KeyError):
                continue
            out.append(
                {"estate_id": e.id, "estate": e.name, "computed_at": iso(e.uploaded_at), **brief}
            )
    out.sort(key=lambda r: (r["computed_at"], r["estate_id"]))
    return out
