"""``/api/orgs/{org_id}/estates/{estate_id}/tables`` (each estate table as uploaded, a page at a
time) and ``/decide`` (the decision tool's data mode on the estate, as a background job)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from entitle.estate.reader import RawTable, read_csv_bytes, read_estate
from entitle.estate.records import TABLES
from entitle.web import decisions, jobs
from entitle.web.api.estates import get_estate, job_json
from entitle.web.auth import membership
from entitle.web.context import DB, WS, ApiActor, Id, SessionRoute
from entitle.web.errors import ApiError
from entitle.web.models import StoredEstate

router = APIRouter(
    route_class=SessionRoute, prefix="/orgs/{org_id}/estates/{estate_id}", tags=["estates"]
)
PAGE = 50


@dataclass(frozen=True, slots=True)
class Page:
    """Rows ``offset``… of one table, those containing ``q`` (any cell, any case) when given."""

    table: str
    header: tuple[str, ...]
    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    present: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "present": self.present,
            "header": list(self.header),
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "rows": self.rows,
        }


def raw_table(data_dir: Path, stored: StoredEstate, table: str) -> RawTable | None:
    """One table as uploaded (header and text cells), or ``None`` when the estate lacks it;
    422 when it cannot be read."""
    if table not in TABLES:
        raise ApiError(404, "not-found", f"no table {table}; the tables are {', '.join(TABLES)}")
    path = jobs.estate_path(data_dir, stored)
    if path.is_file():
        raw, problems = read_estate(path)
        found = raw.tables.get(table)
        if found is None and table in raw.unreadable:
            raise ApiError.of_problems([p for p in problems if p.severity == "error"])
        return found
    file = path / f"{table}.csv"
    if not file.is_file():
        return None
    read, problems = read_csv_bytes(file.read_bytes(), table, file.name)
    if read is None:
        raise ApiError.of_problems(problems)
    return read


def page_of(
    data_dir: Path, stored: StoredEstate, table: str, offset: int, limit: int, q: str | None
) -> Page:
    raw = raw_table(data_dir, stored, table)
    if raw is None:
        return Page(table, (), [], 0, offset, limit, False)
    rows = [(source, tuple(c[i] for c in raw.columns)) for i, source in enumerate(raw.sources)]
    if q:
        needle = q.lower()
        rows = [r for r in rows if any(needle in v.lower() for v in r[1])]
    chosen = rows[offset : offset + limit]
    return Page(
        table,
        raw.header,
        [{"source": str(source), "values": list(values)} for source, values in chosen],
        len(rows),
        offset,
        limit,
        True,
    )


def counts(data_dir: Path, stored: StoredEstate) -> list[dict[str, Any]]:
    out = []
    for table in TABLES:
        try:
            raw = raw_table(data_dir, stored, table)
        except ApiError:
            out.append({"table": table, "present": True, "rows": None, "readable": False})
            continue
        out.append(
            {
                "table": table,
                "present": raw is not None,
                "rows": len(raw.sources) if raw else 0,
                "readable": True,
            }
        )
    return out


@router.get("/tables")
def tables(org_id: Id, estate_id: Id, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """The estate's tables and how many rows each has."""
    membership(session, actor, org_id)
    stored = get_estate(session, org_id, estate_id)
    return {"ok": True, "tables": counts(ws.settings.data_dir, stored)}


@router.get("/tables/{table}")
def table_rows(
    org_id: Id,
    estate_id: Id,
    table: str,
    ws: WS,
    session: DB,
    actor: ApiActor,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE,
    q: Annotated[str | None, Query(max_length=200, description="rows containing this")] = None,
) -> dict[str, Any]:
    """One table's rows as uploaded, each with its ``FILE:LINE``; a page at a time."""
    membership(session, actor, org_id)
    stored = get_estate(session, org_id, estate_id)
    return {"ok": True, **page_of(ws.settings.data_dir, stored, table, offset, limit, q).as_json()}


class DataQuestion(BaseModel):
    """The decision tool on the estate's evidence; growth rates as in ``entitle decide``."""

    product: str = Field(
        "", max_length=80, description="blank: the server OS's CALs (the catalog's roles.server_os)"
    )
    as_of: date | None = None
    user_price: Decimal | None = Field(None, gt=0, le=1_000_000)
    device_price: Decimal | None = Field(None, gt=0, le=1_000_000)
    years: int = Field(3, ge=1, le=5)
    headcount_growth: Decimal = Field(Decimal(0), gt=-100, le=1000, description="% a year")
    devices_growth: Decimal = Field(
        Decimal(0), ge=0, le=100, description="devices added per user with own devices, a year"
    )
    shared_growth: Decimal = Field(Decimal(0), gt=-100, le=1000, description="% a year")
    device_growth: bool = False

    def question(self) -> decisions.Question:
        return decisions.Question(**self.model_dump())


@router.post("/decide", status_code=202)
def decide(
    org_id: Id, estate_id: Id, body: DataQuestion, ws: WS, session: DB, actor: ApiActor
) -> dict[str, Any]:
    """The exact optimum beside all User, all Device and the questionnaire's answer, from the
    estate's evidence, with growth; runs in the background — poll the job for its result."""
    membership(session, actor, org_id)
    stored = get_estate(session, org_id, estate_id)
    job = decisions.start(ws, session, stored, body.question())
    return {"ok": True, "job": job_json(job)}
