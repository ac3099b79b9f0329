"""A new SQLite ledger made at once from a snapshot of what the migrations make.

An empty SQLite database migrated to the newest schema by Alembic takes about half a second of
a core: SQLite cannot alter a table in place, so each of the migrations' batch operations
reflects a table and copies it. A new ledger (``entitle ledger init``, the first ``entitle
serve``) and the test suite, which makes a few hundred of them, need only the end state. So the
end state is kept in ``migrations/fresh-sqlite.json``: every statement that ``sqlite3``'s
``iterdump`` gives for a database the migrations just made (its tables, indexes and the rows
the migrations insert: the audit chain's head and ``alembic_version``), with the revision it
stands at.

:func:`entitle.ledger.db.upgrade` (``db.fresh_snapshot``) applies it to a database that has no table at all, then lets
Alembic run any revision newer than the snapshot's, so a snapshot left behind a new migration
is slower, never wrong. ``tests/ledger/test_migrations.py`` checks that the snapshot is at the
newest revision and that a database made from it dumps exactly as one made by the migrations;
after adding a migration, write it again with ``python -m entitle.ledger.fresh``.
PostgreSQL alters tables in place (a new database migrates in about a tenth of a second of the
client's time), so it keeps the migrations.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from entitle.ledger import db


def dump(path: Path) -> list[str]:
    """Every statement of an SQLite database's ``iterdump``, without its own transaction."""
    with sqlite3.connect(path) as conn:
        lines = list(conn.iterdump())
    conn.close()
    return [line for line in lines if line not in ("BEGIN TRANSACTION;", "COMMIT;")]


def build() -> dict[str, Any]:
    """The snapshot, made anew by migrating an empty database with Alembic."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fresh.db"
        engine = db.open_engine(f"sqlite:///{path}")
        try:
            db.upgrade(engine, fresh=False)
        finally:
            engine.dispose()
        return {"revision": db.head_revision(), "statements": dump(path)}


def main() -> None:
    data = build()
    db.SNAPSHOT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"wrote {db.SNAPSHOT} at revision {data['revision']} ({len(data['statements'])} statements)"
    )


if __name__ == "__main__":
    main()
