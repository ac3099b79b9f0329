"""Uploaded estates and their background imports.

An upload is stored as files under ``DATA/org-<id>/estate-<id>/``: the CSV tables by their
table name (``hosts.csv`` ...) or one workbook as ``estate.xlsx``. A client's file name never
becomes a path: only its last component is looked at, and it must name a known table. The
import (load, check, compute the position) runs on the server's thread pool; its job row says
how far it got, and the client polls it. What a job found (an import's summary, a decision's
result) is kept as ``DATA/org-<id>/jobs/job-<id>.json``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from entitle import money
from entitle.catalog import Catalog
from entitle.estate.loader import load_estate
from entitle.estate.records import TABLES, Estate
from entitle.ledger.clock import iso, utc_now
from entitle.ledger.db import writer
from entitle.position import compute_position
from entitle.source import Problem, Source
from entitle.web import history
from entitle.web.ceiling import Ceiling, CeilingReached
from entitle.web.errors import ApiError
from entitle.web.models import Job, StoredEstate

log = logging.getLogger("entitle.web")
WORKBOOK = "estate.xlsx"
GONE = "the estate was deleted while the job ran; nothing was written"
IGNORED = re.compile(r".*\.(md|txt)$|^\.")  # a folder's README or hidden files: skipped


json_default = money.json_default  # one encoding of money everywhere (money.py)
dumps = money.dumps


def stored_names(uploads: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
    """The stored file name of each upload (a table name or the workbook), or 422 naming every
    file that is neither."""
    files: dict[str, bytes] = {}
    problems = []
    for given, data in uploads:
        base = re.split(r"[\\/]", given or "")[-1].strip().lower()
        if IGNORED.match(base):
            continue
        if base.endswith(".xlsx"):
            files[WORKBOOK] = data
        elif base.endswith(".csv") and base[:-4] in TABLES:
            files[base] = data
        else:
            problems.append(
                Problem(
                    Source(given[:80] or "(unnamed)"),
                    "not an estate table",
                    "upload the CSV files named after the tables (" + ", ".join(TABLES) + ") "
                    "or one .xlsx workbook",
                )
            )
    if problems:
        raise ApiError.of_problems(problems)
    if not files:
        raise ApiError(422, "invalid", "no estate files in the upload", "files")
    if WORKBOOK in files and len(files) > 1:
        raise ApiError(422, "invalid", "upload one workbook or CSV files, not both", "files")
    return files


def new_estate(session: Session, org_id: int, name: str, uploaded_by: str) -> StoredEstate:
    """A pending estate row of the organisation, flushed so that it has its id."""
    estate = StoredEstate(
        org_id=org_id,
        name=name.strip() or "estate",
        folder="",
        files="[]",
        uploaded_by=uploaded_by,
        uploaded_at=utc_now(),
        status="pending",
    )
    session.add(estate)
    session.flush()
    return estate


def store(data_dir: Path, estate: StoredEstate, files: dict[str, bytes]) -> Path:
    folder = data_dir / f"org-{estate.org_id}" / f"estate-{estate.id}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def estate_path(data_dir: Path, estate: StoredEstate) -> Path:
    folder = data_dir / estate.folder
    workbook = folder / WORKBOOK
    return workbook if workbook.exists() else folder


def remove(data_dir: Path, estate: StoredEstate) -> None:
    shutil.rmtree(data_dir / estate.folder, ignore_errors=True)


def load(
    data_dir: Path, estate: StoredEstate, catalog: Catalog
) -> tuple[Estate | None, list[Problem]]:
    loaded, problems = load_estate(estate_path(data_dir, estate), catalog)
    return (replace(loaded, name=estate.name) if loaded else None), problems


Step = Callable[[int, str], None]


def stepper(engine: Engine, org_id: int, job_id: int) -> Callable[..., None]:
    """A function recording a job's progress (percent), message and state. It writes the row
    of that organisation and id only (ids are never reused, and a job never writes another
    organisation's row even if one were)."""

    def step(progress: int, message: str, state: str = "running") -> None:
        with Session(writer(engine)) as session, session.begin():
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.org_id == org_id)
                .values(state=state, progress=progress, message=message.replace("\0", "")[:2000])
            )

    return step


def job_estate(engine: Engine, org_id: int, job_id: int) -> StoredEstate | None:
    """The estate a job of ``org_id`` works on (detached from its session), if it still
    exists in that organisation."""
    with Session(engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.org_id != org_id or job.estate_id is None:
            return None
        stored = session.get(StoredEstate, job.estate_id)
        if stored is None or stored.org_id != org_id:
            return None
        session.expunge(stored)
        return stored


def result_path(data_dir: Path, org_id: int, job_id: int) -> Path:
    return data_dir / f"org-{org_id}" / "jobs" / f"job-{job_id}.json"


def save_result(data_dir: Path, org_id: int, job_id: int, data: Any) -> None:
    """Keep what a job found, written atomically (a reader sees all of it or none)."""
    path = result_path(data_dir, org_id, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".job-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(dumps(data))
    os.replace(tmp, path)


def load_result(data_dir: Path, org_id: int, job_id: int) -> Any:
    path = result_path(data_dir, org_id, job_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def run_import(
    engine: Engine,
    data_dir: Path,
    catalog: Catalog,
    org_id: int,
    job_id: int,
    as_of: date | None = None,
    ceiling: Ceiling | None = None,
) -> bool:
    """Load the job's estate, check it, compute its position; record each step on the job.
    With a ``ceiling`` the work runs in a worker process under its memory ceiling."""
    step = stepper(engine, org_id, job_id)
    try:
        stored = job_estate(engine, org_id, job_id)
        if stored is None:
            step(100, GONE, "failed")
            return False
        return compute(engine, data_dir, catalog, stored, step, 10, as_of, ceiling)
    except Exception as exc:  # a system failure: the job says so, the log has the trace
        log.exception("import job %s failed", job_id)
        step(100, f"failed: {exc}", "failed")
        return False


def checked(
    path: Path, name: str, catalog: Catalog, as_of: date | None
) -> tuple[list[str], str | None, int]:
    """Load and check the estate at ``path`` and compute its position: the problems, the
    position's JSON (``None`` when the estate does not load) and its number of lines. Runs in
    a job's worker process, so everything it takes and gives pickles."""
    loaded, problems = load_estate(path, catalog)
    texts = [str(p) for p in problems]
    if loaded is None:
        return texts, None, 0
    position = compute_position(replace(loaded, name=name), catalog, as_of)
    return texts, dumps(position.as_json()), len(position.lines)


def compute(
    engine: Engine,
    data_dir: Path,
    catalog: Catalog,
    stored: StoredEstate,
    step: Callable[..., None],
    start: int,
    as_of: date | None = None,
    ceiling: Ceiling | None = None,
) -> bool:
    """Load and check a stored estate, compute its position and keep it on the estate; the
    job's progress runs from ``start`` to 100. With a ``ceiling``, in a worker process under
    its memory ceiling: reaching it ends the job failed, the estate unchanged."""
    step(start, "reading and checking the estate, computing the position and the cheapest plan")
    args = (estate_path(data_dir, stored), stored.name, catalog, as_of)
    try:
        problems, position, lines = ceiling.run(checked, *args) if ceiling else checked(*args)
    except CeilingReached as exc:
        step(100, f"failed: {exc}; nothing was changed", "failed")
        return False
    texts = json.dumps(problems)
    if position is None:
        if finish(engine, stored, status="invalid", problems=texts, position=None):
            step(100, f"the estate has {len(problems)} problem(s)", "failed")
        else:
            step(100, GONE, "failed")
        return False
    if not finish(engine, stored, status="ready", problems=texts, position=position):
        step(100, GONE, "failed")
        return False
    history.record(data_dir, stored, position, iso(utc_now()))
    step(100, f"done: {lines} lines", "done")
    return True


def finish(engine: Engine, stored: StoredEstate, **values: str | None) -> bool:
    """Set columns of a job's estate: only the row of the same organisation, id and folder
    (issue #14: a job once wrote into another organisation's estate that had been given a
    deleted estate's id). ``False`` when that estate is gone."""
    with Session(writer(engine)) as session, session.begin():
        done = session.execute(
            update(StoredEstate)
            .where(
                StoredEstate.id == stored.id,
                StoredEstate.org_id == stored.org_id,
                StoredEstate.folder == stored.folder,
            )
            .values(**values)
        )
        return bool(getattr(done, "rowcount", 0))
