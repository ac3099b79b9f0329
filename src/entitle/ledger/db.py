"""Where the ledger lives and how to open it: the database URL, the engine, the migrations.

The default ledger is an SQLite file ``entitle.db`` in the working folder; ``--db`` or the
``ENTITLE_DB`` environment variable names another file or a ``postgresql://`` server. On SQLite
the engine runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way. Migrations are the
Alembic revisions shipped in ``entitle/ledger/migrations``, run in code (no ``alembic.ini``), so
they work from an installed package. Imports SQLAlchemy, Alembic and the ledger models.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A new SQLite ledger's schema and rows, dumped from what the migrations make (ledger/fresh.py)
SNAPSHOT = MIGRATIONS / "fresh-sqlite.json"
DEFAULT_FILE = "entitle.db"
BUSY_TIMEOUT_MS = 60_000


class BadDatabase(ValueError):
    """``--db`` names no database entitle can keep a ledger in: another engine's URL, or a file
    that is not an SQLite database (bad input: one line, exit 2)."""


ENGINES = ("sqlite", "postgresql", "postgres")


def resolve_url(db: str | None, env: Mapping[str, str] | None = None) -> str:
    """The database URL: ``db``, else ``ENTITLE_DB``, else ``entitle.db`` here. A bare path is an
    SQLite file; ``postgresql://`` URLs use the psycopg driver. Any other engine (``mysql://``)
    raises :class:`BadDatabase`."""
    env = os.environ if env is None else env
    text = db or env.get("ENTITLE_DB") or DEFAULT_FILE
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser()}"
    scheme = text.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if scheme.split("+")[0] not in ENGINES:
        shown = scheme + "://" + text.split("://", 1)[1].split("@")[-1]  # no password shown
        raise BadDatabase(
            f"--db {shown}: entitle keeps its ledger in SQLite (give a file path) or PostgreSQL "
            f"(postgresql://USER@HOST/DB), not {scheme.split('+')[0]}"
        )
    return text


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL, or ``None`` for another engine or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:") and parsed.query.get("uri") == "true":
        # sqlite:///file:/path/ledger.db?mode=ro&uri=true opens the file read-only
        return Path(parsed.database[len("file:") :].split("?")[0])
    return Path(parsed.database)


class NulCharacter(ValueError):
    """A text to be written holds U+0000, which PostgreSQL cannot store (and SQLite would
    store, so that the two engines would disagree): refused on both, as bad input."""


def _no_nul(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, many: bool
) -> None:
    if _holds_nul(parameters):
        raise NulCharacter(
            "a text holds a NUL character (U+0000), which no text may hold; remove it"
        )


def _holds_nul(value: Any) -> bool:
    """Whether a statement's parameters (a row, a list of rows, as the driver gets them) hold
    a text with U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


POOL_SIZE = 20
"""Server connections a process keeps open, and the most it opens (no overflow). SQLAlchemy's
default, 5, was below what one web worker process uses at once under load (16 readers and 4
writers on two workers opened and closed 35 connections in 20 s: each one a new server process,
its start-up and authentication); 10 kept and 10 more that were closed when given back still
made 375 connections in 15 s once the load's client was faster. 20 a process keeps `serve
--workers 4` under PostgreSQL's default ``max_connections`` (100); a request finding all 20
lent waits for one (up to 30 s), as it waited for an overflow connection before. An SQLite
file's pool has the same bound (SQLAlchemy's default was 5 kept and 10 more): the web app lets
no more requests work at once than it leaves room for (``web/inflight.py``)."""

IDLE_PING_SECONDS = 1.0
"""A pooled server connection idle longer than this is pinged before it is lent again."""


def _check_alive(engine: Engine) -> None:
    """Lend no dead server connection from the pool, without a round trip per request.

    SQLAlchemy's ``pool_pre_ping`` sends a ping (a round trip, CPU on both sides) before every
    checkout: on PostgreSQL a fifth of a cached read's round trips. Here a connection is pinged
    only when it has been idle over :data:`IDLE_PING_SECONDS`, or when its socket has something
    to read although no query is in flight: a server that ends a connection (restart, shutdown,
    ``pg_terminate_backend``, a crash) sends its farewell or closes the socket, which makes it
    readable. A ping that fails invalidates the pool, as ``pool_pre_ping`` does, and the
    checkout is tried on a new connection."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["entitle_returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("entitle_returned")
        if returned is None:  # a new connection: just opened
            return
        if time.monotonic() - returned <= IDLE_PING_SECONDS and not _readable(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            lost = isinstance(error, engine.dialect.loaded_dbapi.Error) and (
                engine.dialect.is_disconnect(error, dbapi_connection, None)
            )
            if not lost:
                raise  # as pool_pre_ping: only a lost connection renews the pool
            raise exc.InvalidatePoolError(f"the ping failed: {error}") from error


def _readable(dbapi_connection: Any) -> bool:
    """Whether the server sent something on an idle connection (or closed it)."""
    try:
        poll = select.poll()
        poll.register(dbapi_connection.fileno(), select.POLLIN)
        return bool(poll.poll(0))
    except Exception:  # closed, lost (psycopg's OperationalError), or no socket: ping
        return True


def open_engine(url: str) -> Engine:
    """An engine for the ledger at ``url``. Use :func:`writer` for write transactions. No
    statement writes a text holding a NUL character (:class:`NulCharacter`). A server's
    connections are checked before they are lent (:func:`_check_alive`)."""
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=0)
        _check_alive(engine)
        event.listen(engine, "before_cursor_execute", _no_nul)
        return engine
    # a file's pool: the same bound as a server's (the web app sizes its requests by it)
    pooled = {"pool_size": POOL_SIZE, "max_overflow": 0} if sqlite_path(url) else {}
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **pooled)
    event.listen(engine, "before_cursor_execute", _no_nul)
    key = str(sqlite_path(url) or id(engine))
    queue, leave = _write_queue(engine, key)
    owner = _OWNERS

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("ledger_write", False)
        waited = False  # the turn's wait used up the busy timeout: SQLite gets no more
        try:
            if immediate and not _holds_turn(key):
                if queue.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
                    turn = object()
                    connection.connection.info[QUEUED] = turn
                    owner[key] = threading.get_ident()
                    _HELD[key] = turn
                    _TAKEN_HERE.set({**(_TAKEN_HERE.get() or {}), key: turn})
                else:
                    waited = True
            if waited:  # fail now with SQLite's "database is locked", not after a second wait
                connection.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
            finally:
                if waited:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except BaseException:
            leave(connection.connection.info)
            raise

    return engine


QUEUED = "entitle_write_queue"
"""Set in a pooled SQLite connection's ``info`` while its write transaction holds the queue."""
_QUEUES: dict[str, threading.Lock] = {}
_OWNERS: dict[str, int] = {}
"""The thread holding each file's turn: a thread that already holds it (a second writer it
opened before ending the first) does not wait for itself; SQLite's lock decides, as before."""
_HELD: dict[str, object] = {}
"""Each file's turn now held (a new marker for each turn, kept in the holding connection's
``info`` under :data:`QUEUED`)."""
_TAKEN_HERE: ContextVar[dict[str, object] | None] = ContextVar("entitle_turns", default=None)
"""The turns taken in this context (a thread, or one step of a request in the thread pool,
which runs in a copy of the request's context)."""


def _holds_turn(key: str) -> bool:
    """Whether the file's turn is held by a writer begun in this thread and this context. The
    thread alone is not enough: a request's step may take the turn in a pool thread and leave
    its transaction to be ended by the session's close in another thread; meanwhile the first
    thread runs another request's write, which must wait for the turn, not pass as its owner
    (and then poll SQLite's lock)."""
    turn = _HELD.get(key)
    return (
        turn is not None
        and _OWNERS.get(key) == threading.get_ident()
        and (_TAKEN_HERE.get() or {}).get(key) is turn
    )


def _write_queue(engine: Engine, key: str) -> tuple[threading.Lock, Any]:
    """The threads of a process that write to the SQLite file ``key`` take their turn on one
    lock before ``BEGIN IMMEDIATE`` and give it up when the transaction has ended (after the
    COMMIT or ROLLBACK; at the latest when the connection is returned or invalidated).

    Without it they queued on SQLite's own lock, whose busy handler polls: a writer that finds
    the file locked sleeps 1, 2, 5, 10, … 100 ms between tries, so under load a write often
    waited far longer than the writes ahead of it took (four web writers: p50 57 ms, p99 0.6–1.6
    s, against 20 and 66–129 ms for one alone). Waiting threads now wake as soon as the lock is
    released. Processes still meet on SQLite's lock (one writer of each at a time). A thread
    that waits longer than the busy timeout for its turn tries ``BEGIN IMMEDIATE`` once, without
    waiting on SQLite's lock (busy timeout 0 for that statement): if the file is locked it fails
    with SQLite's "database is locked" — after one busy timeout in all, as before the turns, not
    two. A thread that already holds the turn does not wait for itself."""
    queue = _QUEUES.setdefault(key, threading.Lock())
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def leave(info: Any) -> None:
        if info is not None and info.pop(QUEUED, None) is not None:
            _OWNERS.pop(key, None)
            _HELD.pop(key, None)
            queue.release()

    def ended(dbapi_connection: Any) -> None:
        try:
            info = dbapi_connection.info  # the pooled connection's (its record's)
        except (AttributeError, NotImplementedError):  # the dialect's first connection
            return
        leave(info)

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            ended(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            ended(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    event.listen(engine, "checkin", lambda _dbapi, record: leave(record.info))
    event.listen(engine, "invalidate", lambda _dbapi, record, _error: leave(record.info))
    return queue, leave


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that SQLite transactions take the write lock at BEGIN."""
    return engine.execution_options(ledger_write=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("the ledger migrations have no head revision")
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database (``None``: no ledger yet). Every command asks this
    first, so a file that is not an SQLite database, or a damaged one, is told here as
    :class:`BadDatabase`; a database that cannot be reached raises ``OperationalError``."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except exc.OperationalError:
        raise
    except exc.DatabaseError as error:
        if engine.dialect.name != "sqlite":
            raise
        reason = " ".join(str(getattr(error, "orig", error)).split())
        where = sqlite_path(engine.url.render_as_string(hide_password=False)) or engine.url
        raise BadDatabase(
            f"{where}: not an entitle ledger: {reason} (give the ledger's file, or restore it "
            "from a backup)"
        ) from None


def upgrade(engine: Engine, revision: str = "head", fresh: bool = True) -> None:
    """Migrate the database to ``revision`` in one transaction per migration run. An SQLite
    database with no table at all, migrated to the newest revision, is first made from the
    snapshot of ``entitle.ledger.fresh`` (unless ``fresh`` is false), in the same transaction."""
    _migrate(engine, command.upgrade, revision, fresh and revision == "head")


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database back to ``revision`` (an older one), in one transaction."""
    _migrate(engine, command.downgrade, revision)


@cache
def fresh_snapshot() -> tuple[str, tuple[str, ...]]:
    """The revision and the statements of ``SNAPSHOT`` (read once)."""
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return str(data["revision"]), tuple(data["statements"])


def _no_table(connection: Any) -> bool:
    """True when the SQLite database holds no table at all."""
    sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    return int(connection.exec_driver_sql(sql).scalar_one()) == 0


def _migrate(engine: Engine, step: Any, revision: str, fresh: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with writer(engine).connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A migration that copies a table (SQLite cannot alter one in place) drops the old
            # one, which foreign keys would forbid; SQLite lets them be switched off only
            # outside a transaction. They are checked before the commit instead.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                if sqlite and fresh and _no_table(connection):
                    for statement in fresh_snapshot()[1]:
                        connection.exec_driver_sql(statement)
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke references: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
