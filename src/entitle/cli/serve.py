"""``entitle serve``: the web app and REST API (entitle.web) on the ledger's database."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from entitle.cli.common import SYSTEM_FAILURE, fail, system_failure


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        db_url: str | None = typer.Option(
            None,
            "--db",
            help="Database: an SQLite file or postgresql://... (default ENTITLE_DB or entitle.db).",
        ),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        data: Path | None = typer.Option(
            None,
            "--data",
            help="Folder for uploaded estates (default: entitle-data beside the database).",
        ),
        secure_cookies: bool = typer.Option(
            False,
            "--secure-cookies",
            help="Behind TLS: send the session cookie over HTTPS only, and HSTS.",
        ),
        job_memory: int = typer.Option(
            2048,
            "--job-memory",
            min=64,
            max=1_048_576,
            help="Memory ceiling of one background import, in MiB (it fails cleanly there).",
        ),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            max=64,
            help="Server processes (e.g. one per core); they share sessions and sign-in limits.",
        ),
    ) -> None:
        """Serve the web app and the REST API (OpenAPI at /openapi.json, docs at /api/docs).

        Example: entitle serve --db entitle.db --port 8000, then open http://127.0.0.1:8000/signup
        """
        import uvicorn

        from entitle.ledger import db
        from entitle.web import create_app

        try:
            web = create_app(
                db.resolve_url(db_url),
                data,
                secure_cookies=secure_cookies,
                job_memory=job_memory * 1024**2,
            )
        except (RuntimeError, db.BadDatabase) as exc:
            fail([str(exc)])
        except Exception as exc:  # the database failed under it: one line, exit 3
            message = system_failure(exc)
            if message is None:
                raise
            fail([message], SYSTEM_FAILURE)
        shown = f" with {workers} worker processes" if workers > 1 else ""
        typer.echo(f"entitle: serving on http://{host}:{port}/{shown} (sign up at /signup)")
        # the client address (for the sign-in limits) is the proxy's X-Forwarded-For only when
        # the proxy is in FORWARDED_ALLOW_IPS (uvicorn's default: 127.0.0.1)
        if workers == 1:
            uvicorn.run(web, host=host, port=port, log_level="info", server_header=False)
            return
        # the database is migrated and the secret written (by create_app above): the workers
        # build their own apps from the same settings
        from entitle.web import workers as serving

        ws = web.state.workspace
        os.environ[serving.ENV] = serving.settings_env(
            ws.settings.db_url, ws.settings.data_dir, secure_cookies, job_memory * 1024**2
        )
        ws.engine.dispose()
        uvicorn.run(
            "entitle.web.workers:app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            server_header=False,
        )
