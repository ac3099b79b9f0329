"""What may be read as an estate file or an import input, and how much of it.

A regular file of at most :data:`MAX_FILE_BYTES` is read; a symbolic link is refused unless the
command line says ``--follow-symlinks`` (:data:`FOLLOW_SYMLINKS`): a link in an uploaded or
shared folder could point at any file the user may read, and its first line would be echoed in
an error (a link to /etc/shadow did). Devices, pipes and sockets are refused always (a pipe named
hosts.csv would hang the read). The refusal names the link, never what it points at. The file is
opened without following a link (``O_NOFOLLOW``) and checked on the open descriptor, so it cannot
be swapped for a link in between. Imports only :mod:`entitle.source`.
"""

from __future__ import annotations

import errno
import os
import stat
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from entitle.source import Problem, Source

MiB = 2**20
GiB = 2**30
# The size of one CSV table. Reading holds the file, its text and its rows at once: at these
# limits a one-column table peaks near 1 GiB (bench/bench_limits.py measures it).
MAX_FILE_BYTES = 256 * MiB
MAX_ROWS = 2_000_000  # data rows of one table (file or sheet); also what a what-if may add
SPLIT_HINT = (
    "an estate table holds at most {:,} rows and {:,} MiB; "
    "import the evidence with entitle import, which reduces it"
)
# The table that grows with users x devices, streamed from the file into columns
# (estate/stream.py), which never holds the file, its text or its rows: what bounds it is what a
# position then builds from it, about 2 KiB an access row at its peak today (13.3 GB at 6.25
# million rows, bench/README.md "1,000,000 users"), so some 34 GB at 16 million: a big server's
# memory, past which an estate is better split. 2 GiB is 16 million rows of 134 bytes (the
# generator writes 71).
BULK_TABLES = frozenset({"access"})
BULK_MAX_ROWS = 16_000_000
BULK_MAX_FILE_BYTES = 2 * GiB
BULK_HINT = (
    "an {} table holds at most {:,} rows and {:,} MiB; keep one row per user, device, product "
    "and OSE (entitle import reduces the evidence so), or split the estate into parts (by site "
    "or domain, each with the hosts its access rows name) and take a position of each"
)


@dataclass(frozen=True, slots=True)
class Limits:
    """How many data rows and bytes the CSV file of one estate table may hold: ``rows`` and
    ``bytes`` for most, ``bulk_rows`` and ``bulk_bytes`` for the ``bulk`` tables (a UTF-8 file;
    UTF-16 ones are read whole, within ``rows`` and ``bytes``). The loader takes them as a
    parameter so that tests can pass small ones."""

    rows: int = MAX_ROWS
    bytes: int = MAX_FILE_BYTES
    bulk_rows: int = BULK_MAX_ROWS
    bulk_bytes: int = BULK_MAX_FILE_BYTES
    bulk: frozenset[str] = BULK_TABLES

    def max_bytes(self, table: str) -> int:
        return self.bulk_bytes if table in self.bulk else self.bytes

    def hint(self, table: str) -> str:
        """How big the table may be, and what to do about one that is bigger."""
        if table in self.bulk:
            return BULK_HINT.format(table, self.bulk_rows, self.bulk_bytes // MiB)
        return SPLIT_HINT.format(self.rows, self.bytes // MiB)


LIMITS = Limits()
FOLLOW_SYMLINKS: ContextVar[bool] = ContextVar("entitle_follow_symlinks", default=False)
SYMLINK_HINT = (
    "copy the file itself here, or run entitle --follow-symlinks ... if you trust the link"
)


def not_regular(path: Path, file: str) -> Problem | None:
    """The problem with a path that is a symbolic link (unless links are followed) or that is not
    a regular file, from its own metadata: nothing of what it points at is read or shown."""
    try:
        info = path.stat() if FOLLOW_SYMLINKS.get() else path.lstat()
    except OSError as error:
        return Problem(Source(file), f"cannot read the file: {error.strerror}", "check the path")
    if stat.S_ISLNK(info.st_mode):
        return Problem(Source(file), "the file is a symbolic link, not read", SYMLINK_HINT)
    if not stat.S_ISREG(info.st_mode):
        message = "not a regular file (a device, pipe or socket), not read"
        return Problem(Source(file), message, "give a file saved on disk")
    return None


def read_input(
    path: Path, file: str, max_bytes: int = MAX_FILE_BYTES, hint: str | None = None
) -> tuple[bytes | None, Problem | None]:
    """The bytes of a regular file of at most ``max_bytes``, or the problem: a symbolic link
    (refused when it is opened, unless links are followed), a device or pipe, a file too big
    (``hint`` says what to do then; the estate table's bounds by default)."""
    handle, problem = open_input(path, file, max_bytes, hint)
    if handle is None:
        return None, problem
    try:
        with handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return None, Problem(Source(file), f"cannot read the file: {error.strerror}", "")
    if len(data) > max_bytes:  # it grew while being read
        return None, too_big(file, len(data), max_bytes, hint)
    return data, None


def open_input(
    path: Path, file: str, max_bytes: int, hint: str | None = None
) -> tuple[BinaryIO | None, Problem | None]:
    """:func:`read_input`'s checks, and the file open for reading (the caller closes it) instead
    of its bytes; a reader of it stops at ``max_bytes`` itself, should the file grow."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a pipe must not hang the open
    if not FOLLOW_SYMLINKS.get():
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return None, Problem(
                Source(file), "the file is a symbolic link, not read", SYMLINK_HINT
            )
        return None, Problem(
            Source(file), f"cannot read the file: {error.strerror}", "check its permissions"
        )
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            message = "not a regular file (a device, pipe or socket), not read"
            return None, Problem(Source(file), message, "give a file saved on disk")
        if info.st_size > max_bytes:
            return None, too_big(file, info.st_size, max_bytes, hint)
        return os.fdopen(os.dup(fd), "rb"), None
    except OSError as error:
        return None, Problem(Source(file), f"cannot read the file: {error.strerror}", "")
    finally:
        os.close(fd)


def too_big(file: str, size: int, limit: int, hint: str | None = None) -> Problem:
    message = f"the file holds {size / MiB:,.0f} MiB, over the limit of {limit / MiB:,.0f} MiB"
    hint = hint if hint is not None else SPLIT_HINT.format(MAX_ROWS, MAX_FILE_BYTES // MiB)
    return Problem(Source(file), message, hint)
