"""Uploads that are folders: a ``.zip`` of a folder is unpacked in memory into the files it
holds, each named ``<archive>/<path inside>``, so exports of the same name from several servers
(``fs01/SystemId.csv``, ``fs02/SystemId.csv``) arrive as a browser's folder upload
(``<input webkitdirectory>``) sends them: with their relative paths.

Nothing in an archive becomes a path on the server (the callers place files by their own
rules), and an archive is refused whole, before anything is unpacked, when an entry is absolute
or climbs out with ``..`` (zip slip), is a link or encrypted, or the declared sizes say it would
unpack to more than the limits (zip bombs) — the workbook reader's limits, for the same reason.
:mod:`zipfile` never reads an entry past its declared size, so the declared sizes bound what is
unpacked.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from entitle.source import Problem, Source
from entitle.web.errors import ApiError

MiB = 2**20


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_bytes: int = 512 * MiB  # unpacked size of every entry together
    max_ratio: int = 250  # unpacked / packed size of one entry (as for workbooks) ...
    ratio_from: int = 16 * MiB  # ... checked for entries that unpack to more than this
    max_entries: int = 10_000


LIMITS = ZipLimits()
DRIVE = re.compile(r"^[A-Za-z]:")


def is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def expand(
    uploads: Sequence[tuple[str, bytes]], limits: ZipLimits = LIMITS
) -> list[tuple[str, bytes]]:
    """The uploads with every ``.zip`` replaced by the files it holds (folders skipped), or 422
    naming each archive refused and why. Empty parts (a file input left blank) are dropped."""
    out: list[tuple[str, bytes]] = []
    problems: list[Problem] = []
    for given, data in uploads:
        if not given and not data:
            continue
        if not is_zip(given):
            out.append((given, data))
            continue
        entries, problem = _unpack(given, data, limits)
        if problem is not None:
            problems.append(problem)
        out.extend(entries)
    if problems:
        raise ApiError.of_problems(problems)
    return out


def _unpack(
    given: str, data: bytes, limits: ZipLimits
) -> tuple[list[tuple[str, bytes]], Problem | None]:
    name = re.split(r"[\\/]", given)[-1][:120]
    where = Source(name)

    def refuse(message: str, hint: str) -> tuple[list[tuple[str, bytes]], Problem]:
        return [], Problem(where, message, hint)

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception:  # BadZipFile, and more on a damaged directory
        return refuse("not a zip archive, or cut short", "zip the folder again")
    if len(members) > limits.max_entries:
        return refuse(
            f"the archive holds {len(members):,} entries, over the limit of {limits.max_entries:,}",
            "zip only the export files",
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_bytes:
        return refuse(
            f"the archive would unpack to {total / MiB:,.0f} MiB, over the limit of "
            f"{limits.max_bytes / MiB:,.0f} MiB",
            "upload the exports in several parts",
        )
    for m in members:
        path = m.filename.replace("\\", "/")
        if path.startswith("/") or DRIVE.match(path) or ".." in path.split("/"):
            return refuse(
                f"entry {m.filename!r} points outside the archive's folder",
                "zip the folder with relative paths only",
            )
        if stat.S_ISLNK(m.external_attr >> 16):
            return refuse(f"entry {m.filename!r} is a symbolic link", "zip the files themselves")
        if m.flag_bits & 0x1:
            return refuse(f"entry {m.filename!r} is encrypted", "zip it without a password")
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > limits.ratio_from and ratio > limits.max_ratio:
            return refuse(
                f"entry {m.filename!r} is compressed {ratio:,.0f} to 1, more than any real "
                f"export (limit {limits.max_ratio} to 1): a zip bomb?",
                "zip the exports as they are",
            )
    out = []
    try:
        for m in members:
            if m.is_dir():
                continue
            out.append((f"{name}/{m.filename.replace(chr(92), '/')}", archive.read(m)))
    except Exception as error:  # a bad CRC, a cut-short entry
        return refuse(f"cannot unpack the archive: {error}", "zip the folder again")
    return out, None
