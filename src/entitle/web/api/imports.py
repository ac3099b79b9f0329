"""``/api/orgs/{org_id}/imports``: real exports (UAL, SIL, AD, RVTools, Hyper-V, generic with a
header mapping) imported into a new estate or merged into one of CSV tables, in the background
(``entitle import KIND FILE... --into ESTATE``); poll the job, whose result is the summary."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from sqlalchemy import select

from entitle.ledger.clock import utc_now
from entitle.web import archives, jobs, sources
from entitle.web.api.estates import estate_json, get_estate, job_json
from entitle.web.auth import Actor, membership
from entitle.web.context import DB, WS, ApiActor, Id, SessionRoute, Workspace
from entitle.web.errors import ApiError
from entitle.web.models import Job, StoredEstate

router = APIRouter(route_class=SessionRoute, prefix="/orgs/{org_id}", tags=["estates"])
Kind = Literal["ual", "sil", "ad", "rvtools", "hyperv", "generic"]


def start(
    ws: Workspace,
    session: DB,
    actor: Actor,
    org_id: int,
    options: sources.Options,
    uploads: list[tuple[str, bytes]],
    mapping: bytes | None,
    into: int | None,
    name: str,
) -> tuple[StoredEstate, Job]:
    """Check and store an import of exports and queue its job (shared by the API and pages)."""
    membership(session, actor, org_id, "editor")
    size = sum(len(d) for _, d in uploads) + len(mapping or b"")
    if size > ws.settings.max_upload_bytes:
        raise ApiError(413, "too-large", "the upload is larger than the server accepts")
    options.check(mapping is not None)
    files, labels = sources.placed(archives.expand(uploads))
    if into is not None:
        estate = get_estate(session, org_id, into)
        if jobs.estate_path(ws.settings.data_dir, estate).is_file():
            raise ApiError(
                422,
                "invalid",
                "exports merge into an estate of CSV tables; this one is a workbook "
                "(import into a new estate instead)",
                "estate_id",
            )
        busy = session.execute(
            select(Job.id).where(Job.estate_id == estate.id, Job.state.in_(("queued", "running")))
        ).first()
        if busy is not None:
            raise ApiError(409, "conflict", f"job {busy[0]} is still working on this estate")
    else:
        estate = jobs.new_estate(session, org_id, name, actor.email)
        estate.folder = f"org-{org_id}/estate-{estate.id}"
    job = Job(
        org_id=org_id,
        estate_id=estate.id,
        kind=f"import-{options.kind}",
        state="queued",
        progress=0,
        message="queued",
        created_at=utc_now(),
    )
    session.add(job)
    session.flush()
    sources.store(ws.settings.data_dir, org_id, job.id, files, labels, options, mapping)
    session.commit()
    ws.pool.submit(sources.run, ws, org_id, job.id)
    return estate, job


def lines(text: str | None) -> tuple[str, ...]:
    """One value a line (a form's text area), blanks dropped."""
    return tuple(x.strip() for x in (text or "").splitlines() if x.strip())


@router.post("/imports", status_code=202)
def import_exports(
    org_id: Id,
    ws: WS,
    session: DB,
    actor: ApiActor,
    kind: Annotated[Kind, Form(description="what the files are")],
    files: Annotated[
        list[UploadFile],
        File(
            description="the export files (CSV, xlsx, Parquet), with their folders in their "
            "names (fs01/SystemId.csv), or a .zip of such a folder"
        ),
    ],
    mapping: Annotated[
        UploadFile | None, File(description="generic: the header mapping (TOML)")
    ] = None,
    estate_id: Annotated[
        int | None, Form(ge=1, le=2_147_483_647, description="merge into this estate")
    ] = None,
    name: Annotated[str, Form(max_length=200, description="name of a new estate")] = "estate",
    since: Annotated[date | None, Form(description="ual: first day of evidence kept")] = None,
    until: Annotated[date | None, Form(description="ual: last day of evidence kept")] = None,
    server: Annotated[str | None, Form(max_length=200)] = None,
    domain: Annotated[str | None, Form(max_length=100)] = None,
    external_ou: Annotated[str | None, Form(max_length=4000, description="ad: one a line")] = None,
    external_group: Annotated[str | None, Form(max_length=4000)] = None,
    external_attribute: Annotated[
        str | None, Form(max_length=4000, description="ad: COLUMN=VALUE, one a line")
    ] = None,
) -> dict[str, Any]:
    """Import exports into a new estate (``name``) or merge them into ``estate_id``; all or
    nothing, then the position is computed. Poll the job: its result is the summary."""
    options = sources.Options(
        kind,
        since,
        until,
        (server or "").strip() or None,
        (domain or "").strip() or None,
        lines(external_ou),
        lines(external_group),
        lines(external_attribute),
    )
    uploads = [(f.filename or "", f.file.read()) for f in files]
    mapped = mapping.file.read() if mapping is not None and mapping.filename else None
    estate, job = start(ws, session, actor, org_id, options, uploads, mapped, estate_id, name)
    return {"ok": True, "estate": estate_json(estate), "job": job_json(job)}
