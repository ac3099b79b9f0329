"""CPU of one request inside the app (issue #17, item 9): the app on a temporary SQLite database
(or ``--pg URL``: a scratch PostgreSQL database), the sample estate imported, then ``--count``
requests sent straight to the ASGI app (no HTTP server, no client), one after another, timed by
the process's CPU clock: ``--kind read`` (``GET .../estates/{id}/position``, the bench's reader)
or ``--kind purchase`` (``POST .../ledger/entitlements`` with a new id, the bench's writer).
With ``--profile`` the routes' threads are run inline so that cProfile sees the whole request,
and the functions that cost the most are printed.

    .venv/bin/python bench/profile_request.py --count 2000
    .venv/bin/python bench/profile_request.py --kind purchase --count 300 --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import PASSWORD, SAMPLE, backend_cpu, backend_cpu_since, postgres_database  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from entitle.ledger import db  # noqa: E402
from entitle.web import create_app  # noqa: E402


def prepare(app: Any) -> tuple[str, int, list[tuple[bytes, bytes]]]:
    with TestClient(app) as c:
        r = c.post(
            "/api/signup",
            json={"email": "p@profile.example", "password": PASSWORD, "organisation": "P"},
        )
        r.raise_for_status()
        org = r.json()["organisations"][0]["id"]
        t = c.post(
            "/api/tokens", json={"name": "p"}, headers={"X-CSRF-Token": r.json()["csrf_token"]}
        )
        c.cookies.clear()
        auth = {"Authorization": f"Bearer {t.json()['token']}"}
        files = [("files", (p.name, p.read_bytes())) for p in sorted(SAMPLE.glob("*.csv"))]
        r = c.post(f"/api/orgs/{org}/estates", files=files, data={"name": "s"}, headers=auth)
        estate, job = r.json()["estate"]["id"], r.json()["job"]["id"]
        for _ in range(600):
            if c.get(f"/api/orgs/{org}/jobs/{job}", headers=auth).json()["job"]["state"] == "done":
                break
            time.sleep(0.1)
        path = f"/api/orgs/{org}/estates/{estate}/position"
        assert c.get(path, headers=auth).status_code == 200
    headers = [(b"authorization", auth["Authorization"].encode()), (b"host", b"127.0.0.1")]
    return path, org, headers


async def call(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes | None = None
) -> int:
    if body is not None:
        headers = [*headers, (b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if body is None else "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def inline_threads() -> None:
    """Run what FastAPI would hand to a worker thread in the calling thread (for cProfile)."""
    import fastapi.dependencies.utils as deps
    import fastapi.routing as routing

    import entitle.web.context as context
    import entitle.web.storedread as storedread

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    async def inline_sync(func: Any, *args: Any, limiter: Any = None) -> Any:
        return func(*args)  # the request session's close (anyio's run_sync)

    deps.run_in_threadpool = inline  # type: ignore[assignment]
    routing.run_in_threadpool = inline  # type: ignore[assignment]
    storedread.run_in_threadpool = inline  # type: ignore[assignment]
    context.run_sync = inline_sync  # type: ignore[assignment]


async def main_async(app: Any, path: str, org: int, headers: Any, args: Any) -> None:
    count, profile = args.count, args.profile
    n = 0

    async def one() -> int:
        nonlocal n
        if args.kind == "read":
            return await call(app, path, headers)
        n += 1
        purchase = {
            "id": f"P-{n}",
            "product": "windows-server",
            "license": "user-cal",
            "quantity": 5,
        }
        url = f"/api/orgs/{org}/ledger/entitlements"
        return await call(app, url, headers, json.dumps(purchase).encode())

    for _ in range(20):  # warm up
        assert await one() in (200, 201)
    prof = cProfile.Profile(time.process_time) if profile else None  # CPU, not waiting
    database = args.database
    db_cpu = backend_cpu(database) if database else {}
    cpu = time.process_time()
    if prof:
        prof.enable()
    for _ in range(count):
        await one()
    if prof:
        prof.disable()
    used = time.process_time() - cpu
    print(f"{count} x {args.kind}: {used / count * 1000:.2f} ms of CPU each (in the app, no HTTP)")
    if database:
        server = backend_cpu_since(database, db_cpu)
        print(f"  and {server / count * 1000:.2f} ms each in the PostgreSQL server processes")
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--kind", choices=("read", "purchase"), default="read")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--pg", help="a PostgreSQL server URL (a scratch database is made)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        if args.pg:
            with postgres_database(args.pg) as url:
                run(db.resolve_url(url), Path(work), args)
        else:
            run(db.resolve_url(str(Path(work) / "p.db")), Path(work), args)
    return 0


def run(url: str, work: Path, args: argparse.Namespace) -> None:
    args.database = make_url(url).database if url.startswith("postgresql") else None
    app = create_app(url, work / "data", secret_key="profile", job_memory=None)
    path, org, headers = prepare(app)
    if args.profile:
        inline_threads()
    asyncio.run(main_async(app, path, org, headers, args))
    app.state.workspace.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
