"""One PostgreSQL database a worker process, put back before each test into the state it was saved
in, instead of a new copy of it for each test.

A copy (``CREATE DATABASE ... TEMPLATE``) of an initialised ledger costs the server about 0.34 s
of a core (it writes every block of its 68 relations to the WAL), and the fast tier made about
forty; putting the same database back costs it about 0.04 s. What the test then sees is what a
copy would have held:

- every row of every table in ``public`` as saved (every row deleted, then the saved rows
  loaded by ``COPY ... (FORMAT binary)``, byte for byte, with the foreign keys' triggers off:
  the rows were consistent when saved), and every sequence's value as saved (``setval``);
- the same schema: a fingerprint of the database's definitions (schemas, tables and columns,
  constraints, indexes, triggers, functions, views, policies, sequences, extensions, settings)
  is compared first, and a database whose fingerprint changed (a test that created a table,
  say) is replaced by a new copy of the template, under a new name (the changed one is dropped
  with the others at the end, :func:`drop`);
- no session of the test before: every other connection to it is ended first (as ``DROP
  DATABASE ... WITH (FORCE)`` did).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

# What a test could change of a database besides its rows, as one digest.
SHAPE = """
SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (
  SELECT 'n ' || nspname AS x FROM pg_namespace
  UNION ALL SELECT 'c ' || table_schema || '.' || table_name || '.' || column_name || ' '
      || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
    FROM information_schema.columns
    WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT 'r ' || c.oid::regclass::text || ' ' || c.relkind::text || ' ' || c.relrowsecurity::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL SELECT 'k ' || conrelid::regclass::text || ' ' || conname || ' '
      || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace,
      'information_schema'::regnamespace)
  UNION ALL SELECT 'i ' || indexdef FROM pg_indexes
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT 't ' || tgrelid::regclass::text || ' ' || pg_get_triggerdef(oid)
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'f ' || p.oid::regprocedure::text || ' ' || md5(coalesce(p.prosrc, ''))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT 'v ' || schemaname || '.' || viewname || ' ' || md5(definition)
    FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT 'p ' || schemaname || '.' || tablename || '.' || policyname || ' '
      || coalesce(qual, '') || ' ' || coalesce(with_check, '')
    FROM pg_policies
  UNION ALL SELECT 'e ' || extname || ' ' || extversion FROM pg_extension
  UNION ALL SELECT 's ' || array_to_string(setconfig, ' ') FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS shape
"""


def _tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ).fetchall()
    return [r[0] for r in rows]


def _sequences(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


@dataclass
class Reused:
    """A working database copied once from ``template`` (which the caller keeps and drops), its
    saved rows, sequences and shape; :meth:`fresh` puts it back and gives its URL."""

    admin: str  # a URL to the server's maintenance database
    template: str  # the database to copy from when the working one changed shape
    name: str = field(default_factory=lambda: "entitle_test_" + secrets.token_hex(6))
    rows: dict[str, bytes] = field(default_factory=dict)
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)
    shape: str = ""
    resets: int = 0  # put back in place
    copies: int = 0  # copied from the template (the first time, or after a change of shape)
    retired: list[str] = field(default_factory=list)  # earlier working databases, to drop

    @property
    def url(self) -> str:
        return make_url(self.admin).set(database=self.name).render_as_string(hide_password=False)

    @property
    def names(self) -> list[str]:
        """Every database this made: the working one and those it replaced (``drop`` them)."""
        return [*self.retired, self.name]

    def _copy(self) -> None:
        """A new working database from the template. One that changed shape is not dropped here,
        which would wait for a checkpoint of the whole server (``drop``): it is left, its sessions
        ended, for the drop of them all, and the new copy gets a new name."""
        if self.copies:
            end_sessions(self.admin, self.name)
            self.retired.append(self.name)
            self.name = f"{self.name.rsplit('_', 1)[0]}_{secrets.token_hex(6)}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.name), sql.Identifier(self.template)
                )
            )
        self.copies += 1

    def _save(self) -> None:
        with psycopg.connect(self.url) as conn:
            self.shape = conn.execute(SHAPE).fetchone()[0]  # type: ignore[index]
            self.rows = {}
            for table in _tables(conn):
                data = bytearray()
                query = sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(sql.Identifier(table))
                with conn.cursor().copy(query) as copy:
                    for chunk in copy:
                        data += chunk
                self.rows[table] = bytes(data)
            self.sequences = {}
            for seq in _sequences(conn):
                q = sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(seq))
                value, called = conn.execute(q).fetchone()  # type: ignore[misc]
                self.sequences[seq] = (int(value), bool(called))

    def fresh(self) -> str:
        """The working database as saved (copied and saved the first time): its URL."""
        if not self.shape:
            self._copy()
            self._save()
            return self.url
        end_sessions(self.admin, self.name)
        with psycopg.connect(self.url) as conn:
            if conn.execute(SHAPE).fetchone()[0] != self.shape:  # type: ignore[index]
                conn.close()
                self._copy()
                return self.url
            try:  # no foreign-key checks while the rows load (a superuser's setting)
                conn.execute("SET session_replication_role = replica")
            except psycopg.errors.InsufficientPrivilege:  # pragma: no cover - CI is superuser
                conn.close()
                self._copy()
                return self.url
            tables = _tables(conn)
            if sorted(tables) != sorted(self.rows):  # pragma: no cover - the shape says so first
                raise AssertionError(f"{self.name}: its tables changed: {tables}")
            for table in tables:  # not TRUNCATE: its new files cost the server 0.1 s a time
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            for table, data in self.rows.items():
                query = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(table))
                with conn.cursor().copy(query) as copy:
                    copy.write(data)
            for seq, (value, called) in self.sequences.items():
                name = sql.Identifier("public", seq).as_string(conn)
                conn.execute("SELECT setval(%s::regclass, %s, %s)", [name, value, called])
        self.resets += 1
        return self.url


def end_sessions(admin: str, name: str) -> None:
    """End every session on the database ``name`` (as ``DROP DATABASE ... WITH (FORCE)`` would)."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


def drop_later(admin: str, name: str) -> None:
    """Done with the database ``name``: its sessions ended, it is dropped at the worker's end."""
    end_sessions(admin, name)
    LATER.append(name)


# The PostgreSQL test databases this worker is done with (their sessions ended), from every
# package's fixtures: tests/conftest.py drops them all at once when the worker's run ends.
LATER: list[str] = []
# What the drops started by ``drop_detached`` did, one line a drop, and any failure in full.
DROP_LOG = Path(tempfile.gettempdir()) / "entitle-test-drops.log"


def drop(admin: str, names: list[str]) -> None:
    """Drop the databases ``names`` (their sessions ended), all at once. Each ``DROP DATABASE``
    makes PostgreSQL 15 wait for an immediate checkpoint of the whole server, which flushes what
    every client has written since the last one: seconds under load, for each database dropped
    one after another (a worker's end waited 28-42 s so beside the long tier). Sent together,
    each on its own connection, the drops share one or two checkpoints (ten databases: 1.39 →
    0.23 s beside a writer, 0.63 → 0.09 s quiet). The test fixtures keep the databases they are
    done with (``LATER``), and a worker's end drops them so, in a process of their own
    (:func:`drop_detached`)."""
    if not names:
        return

    def one(name: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    with ThreadPoolExecutor(max_workers=min(len(names), 16)) as pool:
        list(pool.map(one, names))  # raises the first failure, after every drop was tried


def drop_detached(admin: str, names: list[str], log: Path = DROP_LOG) -> subprocess.Popen[bytes]:
    """Drop ``names`` (:func:`drop`) in a process of their own that the caller does not wait for.

    The drops at a worker's end are cleaning up, not testing: what the run found is known before
    them. Waited for, their checkpoint was the last thing of a run, 1-2 s quiet and 15-28 s
    beside another run that keeps the server writing. Started so, in a session of its own with
    none of the worker's pipes (pytest-xdist talks to its workers over them), the process
    outlives the worker, and the run ends at once; it writes a line to ``log`` when the databases
    are gone, or what failed. The process is returned, for a test to wait for it."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, __file__, admin, *names],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def main(argv: list[str]) -> int:
    """``python pgreuse.py ADMIN NAME...``: drop the databases, and say so on standard output."""
    admin, names = argv[0], argv[1:]
    start = time.monotonic()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        drop(admin, names)
    except Exception:  # the log is all there is to read: the whole story, then a failed exit
        print(f"{stamp} could not drop {' '.join(names)}:\n{traceback.format_exc()}", flush=True)
        return 1
    print(f"{stamp} dropped {len(names)} in {time.monotonic() - start:.2f} s: {' '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
