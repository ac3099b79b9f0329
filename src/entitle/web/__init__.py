"""The web face: ``entitle serve`` — a REST API (FastAPI, OpenAPI at ``/openapi.json``) and
server-rendered pages over the same core, on the ledger's database.

``app.create_app`` builds the application; ``api/`` holds the JSON routers, ``pages.py`` the
HTML pages, ``auth.py`` passwords, sessions, CSRF and API tokens, ``errors.py`` the one JSON
error envelope, ``jobs.py`` uploaded estates and their background imports. May import every
layer except the CLI.
"""

from entitle.web.app import create_app

__all__ = ["create_app"]
