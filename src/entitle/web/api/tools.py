"""``/api/products`` (which product needs which licenses) and ``/api/decide`` (the CAL
Decision Tool by questionnaire, with its growth projection). Any signed-in user may use them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from entitle import money
from entitle.catalog import Catalog
from entitle.catalog.search import search_products
from entitle.decide import Answers, GrowthRates, Prices, project_answers, recommend
from entitle.decide.render import (
    answers_json,
    growth_chart,
    projection_json,
    recommendation_json,
)
from entitle.optimize.pricing import Pricing
from entitle.web.context import WS, ApiActor, SessionRoute
from entitle.web.errors import ApiError

router = APIRouter(route_class=SessionRoute, tags=["tools"])


class Questionnaire(BaseModel):
    """The decision tool's questions; percentages are 0–100."""

    users: int = Field(ge=1, le=10_000_000)
    dedicated: Decimal = Field(ge=0, le=100, description="% of users with devices of their own")
    devices_per_user: Decimal = Field(Decimal(1), ge=0, le=1000)
    shared: Decimal = Field(Decimal(0), ge=0, le=100, description="% of users on shared devices")
    shared_devices: int = Field(0, ge=0, le=10_000_000)
    product: str = Field(
        "", max_length=80, description="blank: the server OS's CALs (the catalog's roles.server_os)"
    )
    years: int = Field(3, ge=1, le=10)
    headcount_growth: Decimal = Field(Decimal(0), gt=-100, le=1000, description="% a year")


def decide(catalog: Catalog, q: Questionnaire) -> dict[str, Any]:
    """The recommendation, its growth projection and the chart (SVG), or 422."""
    product = q.product or catalog.roles.server_os
    if product not in catalog.products:
        raise ApiError(422, "invalid", f"unknown product {product!r}", "product")
    pricing = Pricing(catalog, ())
    user, device = pricing.unit(product, "user-cal"), pricing.unit(product, "device-cal")
    if user is None or device is None:
        raise ApiError(422, "invalid", f"{product} has no user and device CAL prices", "product")
    prices = Prices(product, user.amount, device.amount)
    answers = Answers(
        q.users, q.dedicated / 100, q.devices_per_user, q.shared / 100, q.shared_devices
    )
    rates = GrowthRates(q.years, q.headcount_growth / 100)
    problems = answers.problems() + rates.problems()
    if problems:
        raise ApiError(422, "invalid", "; ".join(problems))
    rec = recommend(answers, prices)
    growth = project_answers(answers, prices, rates, rec)
    return money.jsonable(
        {
            "ok": True,
            "answers": answers_json(answers),
            **recommendation_json(rec, prices),
            "growth": projection_json(growth),
            "chart_svg": growth_chart(growth, catalog.meta.currency),
        }
    )


@router.get("/products")
def products(ws: WS, actor: ApiActor, q: str | None = None) -> dict[str, Any]:
    """Products whose id, name or alias contains ``q``, with their licensing facts."""
    return {"ok": True, "products": [p.as_json() for p in search_products(ws.catalog, q)]}


@router.post("/decide")
def decide_route(body: Questionnaire, ws: WS, actor: ApiActor) -> dict[str, Any]:
    return decide(ws.catalog, body)
