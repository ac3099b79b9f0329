"""Helpers the web tests share (beside conftest's fixtures): the error envelope, waiting for a
job and its result, a tiny estate written inline, and signing in with the cookie."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from .conftest import PASSWORD, Member, polls

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exports"


def refused(r: Response, status: int, code: str) -> dict[str, Any]:
    """``r`` is the one error envelope with ``status`` and every item of ``code``."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["ok"] is False and body["errors"], body
    assert {e["code"] for e in body["errors"]} == {code}, body
    assert all(set(e) <= {"code", "message", "source"} for e in body["errors"]), body
    return body


def job_of(c: TestClient, m: Member, job_id: int, org_id: int | None = None) -> dict[str, Any]:
    """The job once it ended, with its ``result``."""
    org = org_id or m.org_id
    for _ in polls():
        body = c.get(f"/api/orgs/{org}/jobs/{job_id}", headers=m.auth).json()
        if body["job"]["state"] in ("done", "failed"):
            return body
    raise TimeoutError(f"job {job_id} did not finish")


def upload(c: TestClient, m: Member, tables: dict[str, str], name: str = "tiny") -> int:
    """An estate of inline CSV tables, imported; its id (the import must succeed)."""
    files = [("files", (f"{t}.csv", text.encode())) for t, text in tables.items()]
    r = c.post(f"/api/orgs/{m.org_id}/estates", files=files, data={"name": name}, headers=m.auth)
    assert r.status_code == 202, r.text
    job = job_of(c, m, r.json()["job"]["id"])
    assert job["job"]["state"] == "done", job
    return int(r.json()["estate"]["id"])


def sign_in(c: TestClient, email: str) -> str:
    """The session cookie on ``c`` and the CSRF token to echo."""
    r = c.post("/api/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """A workbook of the given sheets (rows of cells)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    assert zipfile.is_zipfile(io.BytesIO(out.getvalue()))
    return out.getvalue()
