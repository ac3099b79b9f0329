"""What every command shares: loading an estate (bad input → ``FILE:LINE: message``, exit 2),
JSON with exact money, atomic output files, and one line instead of a traceback when the system
fails (a full disk, a read-only file system, a database that cannot be reached: exit 3)."""

from __future__ import annotations

import errno
import functools
import gc
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.segment import Segment

from entitle import money
from entitle.faults import fault_point

if TYPE_CHECKING:  # the catalog and the estate loader are imported by the commands that use them
    from entitle.catalog import Catalog
    from entitle.estate.records import Estate
    from entitle.source import Problem

# Control characters (C0 but tab and line feed, DEL, C1) and the bidirectional overrides: in an
# id they could move the cursor, recolour or retitle the terminal, or hide text. They are shown
# as escapes (\u001b), so the id can still be found in its file.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LINE_BREAK = re.compile("\r\n|[\n\r]")


def _escape(match: re.Match[str]) -> str:
    # \u001b, not \x1b: the same text is a valid escape inside JSON printed to a terminal
    return f"\\u{ord(match.group()):04x}"


def terminal_text(text: str) -> str:
    """``text`` with every control character shown as an escape (line breaks kept)."""
    return CONTROL.sub(_escape, text)


def one_problem_line(text: str) -> str:
    """A problem as the one line it must be: line breaks inside it (a value that holds one, a
    library's message over several lines) shown as ``\\n``, control characters escaped."""
    return terminal_text(LINE_BREAK.sub("\\\\n", text.strip()))


class SafeConsole(Console):
    """A Rich console that never sends a control character of the text it prints to the
    terminal: Rich's own styles and cursor moves pass, the text of ids and files is escaped."""

    def _render_buffer(self, buffer: Any) -> str:
        return super()._render_buffer(
            Segment(terminal_text(text), style, control)
            if not control
            else Segment(text, style, control)
            for text, style, control in buffer
        )


# emoji=False: "hosts.csv:100: …" must not print as "hosts.csv💯 …" (Rich reads :100: as an emoji)
err_console = SafeConsole(stderr=True, highlight=False, emoji=False)
SYSTEM_FAILURE = 3  # exit status when the disk, the file system or the database fails

HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up: free some space and run the command again",
    errno.EROFS: "the file system is read-only: write somewhere else",
    errno.EACCES: "permission denied: check the folder's permissions",
    errno.EPERM: "permission denied: check the folder's permissions",
}


def fail(problems: list[Problem] | list[str], code: int = 2) -> NoReturn:
    """Print every problem on standard error and exit (2 = bad input)."""
    for p in problems:
        err_console.print(one_problem_line(str(p)), markup=False, soft_wrap=True)
    raise typer.Exit(code)


def get_catalog(path: Path | None) -> Catalog:
    from entitle.catalog import CatalogError, default_catalog, load_catalog

    try:
        return load_catalog(path) if path else default_catalog()
    except CatalogError as exc:
        fail([f"{exc.file}: {p}" for p in exc.problems])
    except OSError as exc:
        fail([f"{path}: cannot read the catalog: {exc.strerror}"])


def get_estate(path: Path, catalog: Catalog) -> tuple[Estate, list[Problem]]:
    """The estate, or exit 2 after printing every problem in it."""
    from entitle.estate.loader import load_estate

    if not path.exists():
        fail(
            [
                f"{path}: no such folder or workbook (give an estate folder of CSV files or an "
                ".xlsx workbook)"
            ]
        )
    with gc_paused():  # the command's own process (the library never switches it)
        estate, problems = load_estate(path, catalog)
    if estate is None:
        errors = [p for p in problems if p.severity == "error"]
        fail(errors or problems)
    for p in problems:
        err_console.print(f"warning: {one_problem_line(str(p))}", markup=False, soft_wrap=True)
    return estate, problems


def bounded(value: int | None, option: str, low: int, high: int, what: str) -> str | None:
    """The problem with a count given on the command line outside ``low..high`` (the estate's
    own limits: a pasted id or a typo is bad input, not hours of work and gigabytes)."""
    if value is None or low <= value <= high:
        return None
    return f"{option} {value}: must be from {low:,} to {high:,} ({what})"


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail([f"{option} {text!r}: not a date; write YYYY-MM-DD, e.g. 2026-11-28"])


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a command computes: the engine makes
    millions of records and tuples and no reference cycles, and each collection walks them all
    again (bench/bench_gc.py). A switch for the whole process, so only for a command's own
    process, never in library code the web server runs in its threads."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def to_json(data: Any) -> str:
    """``--json`` output: money as exact JSON numbers, as every face writes it (money.py)."""
    return money.dumps(data, indent=2)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader sees the old
    file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        fault_point("report.staged")
        fault_point("report.rename")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(text: str, out: Path | None) -> None:
    if out is None:
        text = terminal_text(text) if sys.stdout.isatty() else text  # a file gets every byte
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(out, text if text.endswith("\n") else text + "\n")


def one_line(text: object) -> str:
    """A driver's message (psycopg's run over several lines) as one line."""
    return " ".join(str(text).split())


def system_failure(error: BaseException) -> str | None:
    """The one line that explains a failure of the system around entitle (not of its input, not
    a bug), or ``None`` for any other exception."""
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        hint = HINTS.get(error.errno or 0, "")
        reason = error.strerror or one_line(error) or type(error).__name__
        return f"{where}{reason}" + (f" ({hint}); nothing was changed" if hint else "")
    duckdb = sys.modules.get("duckdb")  # the importers' evidence reduction spills to disk
    if duckdb is not None and isinstance(error, duckdb.IOException | duckdb.OutOfMemoryException):
        reason = one_line(str(error).splitlines()[0] if str(error) else type(error).__name__)
        return f"the evidence reduction failed: {reason} (free memory or disk space); nothing was changed"
    exc = sys.modules.get("sqlalchemy.exc")  # loaded only by the commands that use a database
    if exc is not None and isinstance(error, exc.OperationalError | exc.InternalError):
        reason = one_line(getattr(error, "orig", None) or error)
        return (
            f"the ledger database failed: {reason} (check that the database is reachable, "
            "writable and has space); nothing was changed"
        )
    return None


def guarded(command: Callable[..., object]) -> Callable[..., object]:
    """``command`` printing one line and exiting 3 when the system fails under it, instead of a
    traceback. Bugs still raise."""

    @functools.wraps(command)
    def run(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except Exception as error:
            ledger_db = sys.modules.get("entitle.ledger.db")  # loaded by the --db commands
            bad = (ledger_db.BadDatabase, ledger_db.NulCharacter) if ledger_db else ()
            if bad and isinstance(error, bad):
                fail([str(error)])  # bad input: exit 2
            message = system_failure(error)
            if message is None:
                raise
            fail([message], SYSTEM_FAILURE)

    return run


def guard_commands(app: typer.Typer, skip: frozenset[str] = frozenset()) -> None:
    """Wrap every command of ``app`` and of its sub-apps with :func:`guarded`."""
    for info in app.registered_commands:
        if info.callback is not None and info.name not in skip:
            info.callback = guarded(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_commands(group.typer_instance, skip)


def generation_time() -> datetime:
    """When a report says it was made: SOURCE_DATE_EPOCH when set (reproducible builds), else
    now, to the second."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)
