"""The readers the atheris targets fuzz (targets.py), one function per kind of input: each
takes the fuzzer's bytes as a file of that kind and runs entitle's reader of it. Bad input must
come back as problems (values); any exception is a crash. Kept apart from atheris so that
test_fuzz.py replays saved crash inputs through them in-process. See README.md here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from entitle.catalog import default_catalog
from entitle.cli.common import CONTROL, one_problem_line, terminal_text
from entitle.estate.checks import defined_ids
from entitle.estate.convert import rows_of
from entitle.estate.loader import load_estate
from entitle.estate.reader import read_csv_bytes
from entitle.estate.spreadsheet import looks_like_formula, spreadsheet_safe, unquote
from entitle.estate.workbook import read_workbook
from entitle.importers.ad import ExternalRule, import_ad
from entitle.importers.dates import Window
from entitle.importers.exports import parse_export, sniff
from entitle.importers.generic import read_mapping
from entitle.importers.rvtools import import_rvtools
from entitle.importers.sil import import_sil
from entitle.importers.ual import import_ual
from entitle.whatif.changes import parse_changes

CATALOG = default_catalog()
WINDOW = Window(date(2025, 1, 1), date(2025, 12, 31))
_scratch: list[Path] = []  # where the bytes are written as files; made at first use


def use_scratch(folder: Path) -> None:
    """Write the inputs' files into ``folder`` (the tests give theirs)."""
    _scratch[:] = [folder]


def scratch() -> Path:
    if not _scratch:
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None  # fast: the fuzzer writes a lot
        _scratch.append(Path(tempfile.mkdtemp(prefix="entitle-fuzz-", dir=shm)))
    return _scratch[0]


RULE = ExternalRule.parse(
    ["OU=Partners,DC=contoso,DC=com"], ["Extranet"], ["EmployeeType=Contractor"]
)[0]


def as_file(data: bytes, name: str) -> Path:
    path = scratch() / name
    path.write_bytes(data)
    return path


def estate_csv(data: bytes) -> None:
    """The estate reader's decoding and splitting of one table."""
    read_csv_bytes(data, "hosts", "hosts.csv")


def estate_folder(data: bytes) -> None:
    """A whole estate folder: the bytes cut into hosts.csv, oses.csv and software.csv (at the
    first two form feeds), then the loader's conversion and checks."""
    folder = scratch() / "estate"
    folder.mkdir(exist_ok=True)
    parts = data.split(b"\f", 2) + [b"", b""]
    for name, part in zip(("hosts", "oses", "software"), parts, strict=False):
        (folder / f"{name}.csv").write_bytes(part)
    load_estate(folder, CATALOG)


def estate_workbook(data: bytes) -> None:
    read_workbook(as_file(data, "estate.xlsx"))


def export_csv(data: bytes) -> None:
    """The importers' CSV reading: whole (parse_export) and its head only (sniff)."""
    parse_export(data, scratch() / "export.csv", "export.csv")
    sniff(as_file(data, "head.csv"))


def ual(data: bytes) -> None:
    import_ual([as_file(data, "ual.csv")], CATALOG, WINDOW, server="fuzz01")


def sil(data: bytes) -> None:
    import_sil([as_file(data, "sil.csv")], CATALOG, server="fuzz01")


def ad(data: bytes) -> None:
    import_ad([as_file(data, "ad.csv")], rule=RULE, domain=None)


def rvtools(data: bytes) -> None:
    suffix = "xlsx" if data[:2] == b"PK" else "csv"
    import_rvtools([as_file(data, f"RVTools_tabvInfo.{suffix}")], CATALOG)


def what_if(data: bytes) -> None:
    """A what-if change file (YAML, any nesting, anchors)."""
    parse_changes(data.decode("utf-8", errors="replace"), "changes.yaml")


def mapping(data: bytes) -> None:
    """An import mapping (TOML, any nesting)."""
    read_mapping(as_file(data, "map.toml"))


def names(data: bytes) -> None:
    """Ids as a users table: compared by case and NFC, look-alikes warned about; and any text
    as a problem line and a spreadsheet cell. Properties, checked here: a problem prints as one
    line with no control character; a spreadsheet-safe cell never looks like a formula and
    reads back as it was."""
    table, _ = read_csv_bytes(b"user\n" + data, "users", "users.csv")
    if table is not None:
        defined_ids(rows_of(table), "users", [])
    text = data.decode("utf-8", errors="replace")
    line = one_problem_line(text)
    if "\n" in line or "\r" in line or CONTROL.search(line):
        raise AssertionError(f"a control character is printed: {line!r}")
    if CONTROL.search(terminal_text(text)):
        raise AssertionError("terminal_text left a control character")
    safe = spreadsheet_safe(text)
    if looks_like_formula(safe) or unquote(safe) != text:
        raise AssertionError(f"spreadsheet_safe({text!r}) = {safe!r}")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "estate_csv": estate_csv,
    "estate_folder": estate_folder,
    "estate_workbook": estate_workbook,
    "export_csv": export_csv,
    "ual": ual,
    "sil": sil,
    "ad": ad,
    "rvtools": rvtools,
    "what_if": what_if,
    "mapping": mapping,
    "names": names,
}
