"""The web's background imports run under a memory ceiling (issue #14 item 2): a job that needs
more than its ceiling ends *failed* with a message naming it, the estate is left as it was, and
the worker (or a new one) serves the next job."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from entitle.web.ceiling import Ceiling, CeilingReached

from .conftest import World, fresh_app, sample_files, wait_for

MIB = 1024**2


def test_work_over_the_ceiling_fails_and_the_worker_carries_on() -> None:
    ceiling = Ceiling(64 * MIB, workers=1)
    try:
        with pytest.raises(CeilingReached, match="memory ceiling of 64 MiB"):
            ceiling.run(bytearray, 512 * MIB)  # 512 MiB asked, 64 allowed
        assert len(ceiling.run(bytearray, 8 * MIB)) == 8 * MIB  # within it: done
    finally:
        ceiling.shutdown()


def test_an_import_over_its_ceiling_ends_failed_and_changes_nothing(
    world: World, db_url: str, tmp_path: Path
) -> None:
    """The sample estate needs far more than 1 MiB beyond the loaded engine to import."""
    app = fresh_app(db_url, tmp_path, job_memory=1 * MIB)
    a = world.admin
    with TestClient(app) as c:
        r = c.post(
            f"/api/orgs/{a.org_id}/estates",
            files=sample_files(),
            data={"name": "too big"},
            headers=a.auth,
        )
        assert r.status_code == 202, r.text
        job = wait_for(c, a, r.json()["job"]["id"])
        assert job["state"] == "failed", job
        assert "memory ceiling of 1 MiB" in job["message"], job
        estate = c.get(f"/api/orgs/{a.org_id}/estates/{r.json()['estate']['id']}", headers=a.auth)
        assert estate.json()["estate"]["status"] == "pending"  # nothing was changed


def test_a_decision_over_its_ceiling_ends_failed(world: World, app: FastAPI, db_url: str) -> None:
    """The decision tool's job runs under the same ceiling: the sample estate's optimum needs far
    more than 1 MiB."""
    app = fresh_app(db_url, app.state.workspace.settings.data_dir, job_memory=1 * MIB)
    a = world.admin
    with TestClient(app) as c:
        r = c.post(
            f"/api/orgs/{a.org_id}/estates/{world.estate_id}/decide",
            json={"years": 1},
            headers=a.auth,
        )
        assert r.status_code == 202, r.text
        job = wait_for(c, a, r.json()["job"]["id"])
        assert job["state"] == "failed" and "memory ceiling of 1 MiB" in job["message"], job
