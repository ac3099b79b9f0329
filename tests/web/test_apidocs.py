"""Issue #17 item 7: the API reference is served by the app itself — a page and a script of
ours that read /openapi.json, under the pages' Content-Security-Policy — so it works offline;
and the app has a favicon. (The browser drawing it offline is in test_e2e_flows.py.)"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from .conftest import World


def test_the_api_docs_name_nothing_outside_the_server(world: World) -> None:
    c: TestClient = world.client
    page = c.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "cdn" not in page.text.lower()
    # every script, stylesheet and icon is a path on this server, and each is served
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/static/apidocs.js" in refs and "/static/favicon.svg" in refs
    for ref in refs:
        assert ref.startswith("/"), ref
        assert c.get(ref).status_code == 200, ref
    script = c.get("/static/apidocs.js").text
    assert "/openapi.json" in script and "innerHTML" not in script
    assert not re.search(r"https?://", script)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "http" not in policy
    # FastAPI's CDN page is gone, and not in the schema either
    schema = c.get("/openapi.json").json()
    assert "/api/docs" not in schema["paths"]


def test_a_favicon_is_served_and_named_by_the_pages(world: World) -> None:
    c = world.client
    icon = c.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    assert '<link rel="icon" href="/static/favicon.svg"' in c.get("/login").text
