"""``/api/orgs/{org_id}/estates``: upload (a folder's CSV files or one workbook), list, view,
delete; the background import job; the position as JSON, XLSX, HTML or PDF — as stored, or as of
another day and with the organisation's ledger entitlements; line evidence; comparing two
positions."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from entitle import money
from entitle.ledger.clock import iso, utc_now
from entitle.reports.html import render_html
from entitle.reports.pdf import PdfUnavailable, html_to_pdf
from entitle.reports.xlsx import render_xlsx
from entitle.web import archives, jobs, positions
from entitle.web.auth import Actor, identify, membership
from entitle.web.context import (
    DB,
    WS,
    ApiActor,
    Id,
    SessionRoute,
    Workspace,
    api_caller,
    request_session,
)
from entitle.web.errors import ApiError, not_found
from entitle.web.models import Job, StoredEstate
from entitle.web.positions import Basis
from entitle.web.storedread import stored_position

router = APIRouter(route_class=SessionRoute, prefix="/orgs/{org_id}", tags=["estates"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AsOf = Annotated[
    date | None,
    Query(
        description="the day of the position (default today); Software Assurance is judged on it"
    ),
]
Source = Annotated[
    Literal["estate", "ledger"],
    Query(description="whose entitlements: the estate's own, or the organisation's ledger's"),
]


def estate_json(e: StoredEstate) -> dict[str, Any]:
    summary = None
    if e.position:
        p = json.loads(e.position)
        lines = p["lines"]
        summary = {
            "as_of": p["as_of"],
            "currency": p["currency"],
            "total_cost": p["total_cost"],
            "lines": len(lines),
            "lines_short": sum(1 for x in lines if x["shortfall"] > 0),
        }
    return {
        "id": e.id,
        "name": e.name,
        "files": json.loads(e.files),
        "status": e.status,
        "uploaded_by": e.uploaded_by,
        "uploaded_at": iso(e.uploaded_at),
        "problems": json.loads(e.problems) if e.problems else [],
        "summary": summary,
    }


def job_json(j: Job) -> dict[str, Any]:
    return {
        "id": j.id,
        "estate_id": j.estate_id,
        "kind": j.kind,
        "state": j.state,
        "progress": j.progress,
        "message": j.message,
    }


def get_estate(session: DB, org_id: Id, estate_id: Id) -> StoredEstate:
    e = session.get(StoredEstate, estate_id)
    if e is None or e.org_id != org_id:
        raise not_found("estate")
    return e


def start_import(ws: Workspace, session: DB, estate: StoredEstate) -> Job:
    job = Job(
        org_id=estate.org_id,
        estate_id=estate.id,
        kind="import",
        state="queued",
        progress=0,
        message="queued",
        created_at=utc_now(),
    )
    session.add(job)
    session.commit()
    ws.pool.submit(
        jobs.run_import,
        ws.engine,
        ws.settings.data_dir,
        ws.catalog,
        estate.org_id,
        job.id,
        None,
        ws.ceiling,
    )
    ws.forget(estate.id)
    return job


def upload(
    ws: Workspace, session: DB, actor: Actor, org_id: Id, name: str, files: list[tuple[str, bytes]]
) -> tuple[StoredEstate, Job]:
    """Store an upload and queue its import (shared by the API and the pages)."""
    membership(session, actor, org_id, "editor")
    if sum(len(d) for _, d in files) > ws.settings.max_upload_bytes:
        raise ApiError(413, "too-large", "the upload is larger than the server accepts")
    stored_files = jobs.stored_names(archives.expand(files))
    estate = jobs.new_estate(session, org_id, name, actor.email)
    folder = jobs.store(ws.settings.data_dir, estate, stored_files)
    estate.folder = str(folder.relative_to(ws.settings.data_dir))
    estate.files = json.dumps(sorted(stored_files))
    session.commit()
    return estate, start_import(ws, session, estate)


@router.post("/estates", status_code=202)
def create_estate(
    org_id: Id,
    ws: WS,
    session: DB,
    actor: ApiActor,
    files: Annotated[
        list[UploadFile],
        File(description="CSV tables or one .xlsx workbook, or a .zip of an estate folder"),
    ],
    name: Annotated[str, Form(max_length=200)] = "estate",
) -> dict[str, Any]:
    """Upload an estate; its import runs in the background — poll the job."""
    data = [(f.filename or "", f.file.read()) for f in files]
    estate, job = upload(ws, session, actor, org_id, name, data)
    return {"ok": True, "estate": estate_json(estate), "job": job_json(job)}


@router.get("/estates")
def list_estates(org_id: Id, session: DB, actor: ApiActor) -> dict[str, Any]:
    membership(session, actor, org_id)
    rows = session.execute(
        select(StoredEstate).where(StoredEstate.org_id == org_id).order_by(StoredEstate.id)
    ).scalars()
    return {"ok": True, "estates": [estate_json(e) for e in rows]}


@router.get("/estates/{estate_id}")
def view_estate(org_id: Id, estate_id: Id, session: DB, actor: ApiActor) -> dict[str, Any]:
    membership(session, actor, org_id)
    return {"ok": True, "estate": estate_json(get_estate(session, org_id, estate_id))}


@router.delete("/estates/{estate_id}")
def delete_estate(
    org_id: Id, estate_id: Id, ws: WS, session: DB, actor: ApiActor
) -> dict[str, Any]:
    membership(session, actor, org_id, "editor")
    estate = get_estate(session, org_id, estate_id)
    for job in session.execute(select(Job).where(Job.estate_id == estate.id)).scalars():
        job.estate_id = None
    jobs.remove(ws.settings.data_dir, estate)
    session.delete(estate)
    session.commit()
    ws.forget(estate_id)
    return {"ok": True}


@router.get("/jobs/{job_id}")
def view_job(org_id: Id, job_id: Id, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """A background job; once it ended, ``result`` holds what it found (an import's summary,
    a decision's answer), when it has one."""
    membership(session, actor, org_id)
    job = session.get(Job, job_id)
    if job is None or job.org_id != org_id:
        raise not_found("job")
    result = None
    if job.state in ("done", "failed"):
        result = jobs.load_result(ws.settings.data_dir, org_id, job.id)
    return {"ok": True, "job": job_json(job), "result": result}


@router.post("/estates/{estate_id}/position", status_code=202)
def recompute(org_id: Id, estate_id: Id, ws: WS, session: DB, actor: ApiActor) -> dict[str, Any]:
    """Compute the position again (today's date, the current catalog) in the background."""
    membership(session, actor, org_id, "editor")
    return {
        "ok": True,
        "job": job_json(start_import(ws, session, get_estate(session, org_id, estate_id))),
    }


@router.get("/estates/{estate_id}/position", response_model=None)
def position(
    org_id: Id,
    estate_id: Id,
    request: Request,
    ws: WS,
    format: Literal["json", "xlsx", "html", "pdf"] = "json",
    as_of: AsOf = None,
    entitlements: Source = "estate",
) -> Response:
    """The position: the spec's JSON, or the report as a workbook, an HTML page or a PDF. With
    ``as_of`` or ``entitlements=ledger`` it is computed on that basis (as ``entitle position
    --as-of DAY --db LEDGER``), not kept."""
    basis = Basis(as_of, entitlements == "ledger")
    if format == "json" and basis.stored:
        stored = stored_position(ws, request, org_id, estate_id)
        if stored is not None:
            # the stored text is the position's JSON already: send it as it is (no parse and
            # re-encode on the hot read path)
            return Response('{"ok":true,"position":' + stored + "}", media_type="application/json")
    # the general path (and its answers: 401, 403, 404, 409), with a session of its own: the
    # hot read above needs none
    with request_session(ws, request) as session:
        return position_of(ws, request, session, org_id, estate_id, format, basis)


def position_of(
    ws: Workspace,
    request: Request,
    session: DB,
    org_id: int,
    estate_id: int,
    format: str,
    basis: Basis,
) -> Response:
    actor = api_caller(request, identify(request, session, ws.sessions))
    org = membership(session, actor, org_id)
    estate = get_estate(session, org_id, estate_id)
    if format == "json" and basis.stored:
        if estate.position is None:
            raise ApiError(409, "not-ready", f"the estate is {estate.status}; no position yet")
        body = '{"ok":true,"position":' + estate.position + "}"
        return Response(body, media_type="application/json")
    c = positions.computed(ws, estate, basis, org)
    if format == "json":
        data = money.jsonable(c.position.as_json())
        return JSONResponse({"ok": True, "basis": basis.as_json(), "position": data})
    report = positions.report(ws, c)
    if format == "xlsx":
        return Response(
            render_xlsx(report),
            media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="position.xlsx"'},
        )
    page = render_html(report)
    if format == "html":
        return Response(page, media_type="text/html; charset=utf-8")
    try:
        pdf = html_to_pdf(page, report.summary.generated_at)
    except PdfUnavailable as exc:
        raise ApiError(503, "unavailable", f"cannot render a PDF here: {exc}") from exc
    return Response(pdf, media_type="application/pdf")


@router.get("/estates/{estate_id}/lines/{index}")
def line_evidence(
    org_id: Id,
    estate_id: Id,
    index: Annotated[int, PathParam(ge=0, le=1_000_000)],
    ws: WS,
    session: DB,
    actor: ApiActor,
    as_of: AsOf = None,
    entitlements: Source = "estate",
) -> dict[str, Any]:
    """One position line and the evidence behind it (on the basis the position was asked on)."""
    org = membership(session, actor, org_id)
    basis = Basis(as_of, entitlements == "ledger")
    c = positions.computed(ws, get_estate(session, org_id, estate_id), basis, org)
    return {"ok": True, **money.jsonable(positions.evidence(c.position, index))}


@router.get("/compare")
def compare(
    org_id: Id,
    session: DB,
    actor: ApiActor,
    a: Annotated[int, Query(ge=1, le=2_147_483_647, description="estate id")],
    b: Annotated[int, Query(ge=1, le=2_147_483_647, description="estate id")],
) -> dict[str, Any]:
    """Two estates' positions line by line."""
    membership(session, actor, org_id)
    left, right = get_estate(session, org_id, a), get_estate(session, org_id, b)
    if left.position is None or right.position is None:
        raise ApiError(409, "not-ready", "both estates need a computed position")
    return positions.compare(json.loads(left.position), json.loads(right.position))
