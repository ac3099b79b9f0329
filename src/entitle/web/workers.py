"""Several server processes: ``entitle serve --workers N``.

uvicorn starts N worker processes (it spawns them: each imports this module afresh) that listen
on the same socket; each builds its app with :func:`app_from_env` from the settings the parent
put in the environment (:data:`ENV`, JSON). The parent has built the app once first, so the
database is migrated and the cookie secret written before any worker starts (N workers doing
either at once would race). What the workers share lives in the database — sessions and API
tokens (``web_tokens``), the counts of sign-in attempts (``web_attempts``), jobs and their
progress — so any worker may answer any request; each worker has its own job threads and its own
cache of computed positions, which checks the stored position before it is used."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI

from entitle.web.app import create_app

ENV = "ENTITLE_SERVE_SETTINGS"
"""The environment variable holding the workers' settings (JSON; no secret in it: the cookie
secret is read from ``DATA/secret.key``)."""


def settings_env(db_url: str, data: Path, secure_cookies: bool, job_memory: int) -> str:
    return json.dumps(
        {
            "db_url": db_url,
            "data": str(data),
            "secure_cookies": secure_cookies,
            "job_memory": job_memory,
        }
    )


def app_from_env() -> FastAPI:
    """A worker's app (uvicorn's factory), on the settings in :data:`ENV`."""
    settings = json.loads(os.environ[ENV])
    return create_app(
        settings["db_url"],
        Path(settings["data"]),
        secure_cookies=bool(settings["secure_cookies"]),
        job_memory=int(settings["job_memory"]),
    )
