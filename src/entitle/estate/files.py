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
from pathlib import Path

from entitle.source import Problem, Source

MiB = 2**20
# The size of one CSV table. Reading holds the file, its text and its rows at once: at these
# limits a one-column table peaks near 1 GiB (bench/bench_limits.py measures it).
MAX_FILE_BYTES = 256 * MiB
MAX_ROWS = 2_000_000  # data rows of one table (file or sheet); also what a what-if may add
SPLIT_HINT = (
    "an estate table holds at most {:,} rows and {:,} MiB; "
    "import the evidence with entitle import, which reduces it"
)
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
    path: Path, file: str, max_bytes: int = MAX_FILE_BYTES
) -> tuple[bytes | None, Problem | None]:
    """The bytes of a regular file of at most ``max_bytes``, or the problem: a symbolic link
    (refused when it is opened, unless links are followed), a device or pipe, a file too big."""
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
            return None, _too_big(file, info.st_size, max_bytes)
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return None, Problem(Source(file), f"cannot read the file: {error.strerror}", "")
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while being read
        return None, _too_big(file, len(data), max_bytes)
    return data, None


def _too_big(file: str, size: int, limit: int) -> Problem:
    message = f"the file holds {size / MiB:,.0f} MiB, over the limit of {limit / MiB:,.0f} MiB"
    return Problem(Source(file), message, SPLIT_HINT.format(MAX_ROWS, MAX_FILE_BYTES // MiB))
