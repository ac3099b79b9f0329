"""The decision tool's data mode on a stored estate (``entitle decide ESTATE``): the exact optimum
beside all User, all Device and the questionnaire's answer read from the evidence, each priced,
with a growth projection and its chart. It takes seconds on a real estate, so it runs as a
background job; the answer is kept as the job's result, and the dashboard charts the latest."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entitle import money
from entitle.catalog import Catalog
from entitle.decide import GrowthRates, Prices
from entitle.decide.data import GrowthFailed, decide_from_estate
from entitle.decide.render import answers_json, data_json, growth_chart, projection_json
from entitle.decide.render import recommendation_json as questionnaire_json
from entitle.estate.loader import load_estate
from entitle.ledger.clock import utc_now
from entitle.optimize.pricing import Pricing
from entitle.web import jobs
from entitle.web.ceiling import CeilingReached
from entitle.web.context import Workspace
from entitle.web.errors import ApiError
from entitle.web.models import Job, StoredEstate

log = logging.getLogger("entitle.web")
KIND = "decide"


@dataclass(frozen=True, slots=True)
class Question:
    """What data mode takes: whose CALs, the day, optional prices, and growth to project."""

    product: str = ""  # blank: the server OS (the catalog's roles.server_os), as entitle decide
    as_of: date | None = None
    user_price: Decimal | None = None
    device_price: Decimal | None = None
    years: int = 3
    headcount_growth: Decimal = Decimal(0)  # % a year
    devices_growth: Decimal = Decimal(0)  # devices added per user with own devices, a year
    shared_growth: Decimal = Decimal(0)  # % a year
    device_growth: bool = False  # the questionnaire's "do you expect more devices per user?"

    def rates(self) -> GrowthRates:
        return GrowthRates(
            self.years,
            self.headcount_growth / 100,
            self.devices_growth,
            self.shared_growth / 100,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "as_of": self.as_of,
            "user_price": self.user_price,
            "device_price": self.device_price,
            "years": self.years,
            "headcount_growth": self.headcount_growth,
            "devices_growth": self.devices_growth,
            "shared_growth": self.shared_growth,
            "device_growth": self.device_growth,
        }


def check(ws: Workspace, q: Question) -> None:
    """422 naming the field, before a job is queued."""
    if q.product not in ws.catalog.products:
        raise ApiError(422, "invalid", f"unknown product {q.product!r}", "product")
    problems = q.rates().problems()
    if problems:
        raise ApiError(422, "invalid", problems[0].replace("--", ""), "years")


def start(ws: Workspace, session: Session, estate: StoredEstate, q: Question) -> Job:
    if estate.status != "ready":
        raise ApiError(409, "not-ready", f"the estate is {estate.status}; import it first")
    q = replace(q, product=q.product or ws.catalog.roles.server_os)
    check(ws, q)
    job = Job(
        org_id=estate.org_id,
        estate_id=estate.id,
        kind=KIND,
        state="queued",
        progress=0,
        message="queued",
        created_at=utc_now(),
    )
    session.add(job)
    session.commit()
    ws.pool.submit(run, ws, estate.org_id, job.id, q)
    return job


def run(ws: Workspace, org_id: int, job_id: int, q: Question) -> None:
    step = jobs.stepper(ws.engine, org_id, job_id)
    try:
        stored = jobs.job_estate(ws.engine, org_id, job_id)
        if stored is None:
            step(100, jobs.GONE, "failed")
            return
        step(10, "reading the estate, pricing the optimum and each strategy, and the growth")
        args = (jobs.estate_path(ws.settings.data_dir, stored), stored.name, stored.id)
        try:
            failed, result = (
                ws.ceiling.run(answer, *args, ws.catalog, q)
                if ws.ceiling
                else answer(*args, ws.catalog, q)
            )
        except CeilingReached as exc:
            step(100, f"failed: {exc}", "failed")
            return
        if failed:
            step(100, failed, "failed")
            return
        jobs.save_result(ws.settings.data_dir, stored.org_id, job_id, result)
        step(100, "done: the optimum and three strategies priced", "done")
    except Exception as exc:  # a system failure: the job says so, the log has the trace
        log.exception("decision job %s failed", job_id)
        step(100, f"failed: {exc}", "failed")


def answer(
    path: Path, name: str, estate_id: int, catalog: Catalog, q: Question
) -> tuple[str | None, dict[str, Any] | None]:
    """The decision on the estate at ``path``: ``(None, result)``, or why it failed. Runs in a
    job's worker process under its memory ceiling, so what it takes and gives pickles."""
    loaded, problems = load_estate(path, catalog)
    if loaded is None:
        return f"the estate has {len(problems)} problem(s)", None
    estate = replace(loaded, name=name)
    pricing = Pricing(catalog, estate.prices)
    user, device = pricing.unit(q.product, "user-cal"), pricing.unit(q.product, "device-cal")
    user_price = q.user_price or (user.amount if user else None)
    device_price = q.device_price or (device.amount if device else None)
    if user_price is None or device_price is None:
        return f"{q.product}: no user and device CAL price; give both prices", None
    prices = Prices(q.product, user_price, device_price)
    try:
        d = decide_from_estate(
            estate,
            catalog,
            q.as_of or date.today(),
            prices,
            growth_expected=q.device_growth,
            rates=q.rates(),
        )
    except GrowthFailed as exc:
        return f"the growth could not be applied: {exc}", None
    currency = catalog.meta.currency
    return None, money.jsonable(
        {
            "estate": {"id": estate_id, "name": name},
            "question": q.as_json(),
            "as_of": q.as_of or date.today(),
            "currency": currency,
            "answers_from_evidence": answers_json(d.answers),
            "questionnaire": questionnaire_json(d.recommendation, prices),
            **data_json(d),
            "growth": projection_json(d.growth) if d.growth else None,
            "chart_svg": growth_chart(d.growth, currency) if d.growth else "",
        }
    )


def latest(ws: Workspace, session: Session, estate_id: int) -> tuple[Job, dict[str, Any]] | None:
    """The newest finished decision on an estate, with its result."""
    rows = session.execute(
        select(Job)
        .where(Job.estate_id == estate_id, Job.kind == KIND, Job.state == "done")
        .order_by(Job.id.desc())
        .limit(3)
    ).scalars()
    for job in rows:
        found = jobs.load_result(ws.settings.data_dir, job.org_id, job.id)
        if isinstance(found, dict):
            return job, found
    return None


def load_jobs() -> None:
    """Nothing to do: a job worker calls it before its memory ceiling is set, and loading this
    module for it loads every job function (decisions and, through them, imports) and all they
    import, so that the ceiling counts what one job builds (``entitle.web.ceiling``)."""
