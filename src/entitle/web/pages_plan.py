"""The plan per user, device, host and OSE on the web: "what does this user hold or need, and
why" — each row of the position's plan (the workbook's Plan sheet) searchable by holder,
filtered by kind, product and license, a page at a time; and, for a holder searched, what the
organisation's ledger has assigned to them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from entitle.ledger.service import today
from entitle.reports.model import label, plan_rows
from entitle.web import orgledger, positions
from entitle.web.api.estates import get_estate
from entitle.web.auth import membership
from entitle.web.context import DB, WS, MaybeActor, SessionRoute
from entitle.web.listing import natural_key
from entitle.web.pages import basis_of, render, signed_in

router = APIRouter(route_class=SessionRoute, include_in_schema=False)
PLAN_PAGE = 100
KINDS = ("user", "device", "host", "ose")


def matches(row: dict[str, Any], q: str, kind: str, product: str, license: str) -> bool:
    return (
        (not q or q in row["holder"].casefold())
        and (not kind or row["holder_kind"] == kind)
        and (not product or row["product"] == product)
        and (not license or row["license"] == license)
    )


@router.get("/orgs/{org_id}/estates/{estate_id}/plan", response_class=HTMLResponse)
def plan_page(
    request: Request,
    org_id: int,
    estate_id: int,
    ws: WS,
    session: DB,
    actor: MaybeActor,
    q: str = "",
    kind: str = "",
    product: str = "",
    license: str = "",
    page: int = 1,
    as_of: str | None = None,
    entitlements: Literal["estate", "ledger"] | None = None,
) -> Response:
    me = signed_in(actor)
    org = membership(session, me, org_id)
    estate = get_estate(session, org_id, estate_id)
    basis, _error = basis_of(as_of, entitlements)
    c = positions.computed(ws, estate, basis, org)
    every = [
        {**asdict(r), "label": label(r.product, r.edition, r.version, r.license)}
        for r in plan_rows(c.position)
    ]
    needle = q.strip()[:200].casefold()
    kind = kind if kind in KINDS else ""
    rows = [r for r in every if matches(r, needle, kind, product, license)]
    rows.sort(key=lambda r: (natural_key(r["holder"]), r["section"], r["label"]))
    pages = max(1, -(-len(rows) // PLAN_PAGE))
    page = min(max(page, 1), pages)
    holders = {(r["holder_kind"], r["holder"]) for r in rows}
    held: list[dict[str, Any]] = []
    if needle:  # what the ledger has assigned to the holders searched for
        ledger = orgledger.open_ledger(ws.settings.db_url, ws.engine, me.email)
        for e in orgledger.listing(ledger, org, today()):
            for h in e["held"]:
                if needle in h["holder"].partition(":")[2].casefold():
                    held.append({**e, "holder": h["holder"], "units": h["units"]})
    return render(
        request,
        "plan.html",
        me,
        session,
        org=org,
        estate=estate,
        rows=rows[(page - 1) * PLAN_PAGE : page * PLAN_PAGE],
        total=len(rows),
        holders=len(holders),
        first=(page - 1) * PLAN_PAGE + 1,
        page=page,
        pages=pages,
        q=q.strip()[:200],
        kind=kind,
        product=product,
        license=license,
        kinds=KINDS,
        products=sorted({r["product"] for r in every}),
        licenses=sorted({r["license"] for r in every}),
        held=held,
        query=basis.query(),
        as_of=c.position.as_of,
    )
