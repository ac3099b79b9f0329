"""What every command shares: loading an estate (bad input → ``FILE:LINE: message``, exit 2),
JSON with exact money, and atomic output files."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from entitle.catalog import Catalog, CatalogError, default_catalog, load_catalog
from entitle.estate.loader import load_estate
from entitle.estate.records import Estate
from entitle.source import Problem

err_console = Console(stderr=True, highlight=False)


def fail(problems: list[Problem] | list[str], code: int = 2) -> NoReturn:
    """Print every problem on standard error and exit (2 = bad input)."""
    for p in problems:
        err_console.print(str(p), markup=False, soft_wrap=True)
    raise typer.Exit(code)


def get_catalog(path: Path | None) -> Catalog:
    try:
        return load_catalog(path) if path else default_catalog()
    except CatalogError as exc:
        fail([f"{exc.file}: {p}" for p in exc.problems])
    except OSError as exc:
        fail([f"{path}: cannot read the catalog: {exc.strerror}"])


def get_estate(path: Path, catalog: Catalog) -> tuple[Estate, list[Problem]]:
    """The estate, or exit 2 after printing every problem in it."""
    if not path.exists():
        fail(
            [
                f"{path}: no such folder or workbook (give an estate folder of CSV files or an "
                ".xlsx workbook)"
            ]
        )
    estate, problems = load_estate(path, catalog)
    if estate is None:
        errors = [p for p in problems if p.severity == "error"]
        fail(errors or problems)
    for p in problems:
        err_console.print(f"warning: {p}", markup=False, soft_wrap=True)
    return estate, problems


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail([f"{option} {text!r}: not a date; write YYYY-MM-DD, e.g. 2026-11-28"])


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Money is exact Decimal in the engine; the text written is exact for up to 15
        # significant digits, far beyond any license price.
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=_json_default, ensure_ascii=False)


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
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(out, text if text.endswith("\n") else text + "\n")
