"""What the cloud importers (:mod:`~entitle.importers.azure`, :mod:`~entitle.importers.aws`) share.

- :func:`read_json`: a CLI's JSON output (UTF-8, or UTF-16 as PowerShell's ``>`` writes it); bad
  JSON is a ``FILE:LINE`` problem, never an exception. :class:`JsonDoc` finds the line of a
  record by its id, so skips and findings point into the file.
- :func:`read_vcpus_map`: ``--vcpus-map FILE``, a CSV of ``size,vcpus`` for VM sizes or instance
  types the importer's table lacks.
- :func:`size_table` and :func:`usage_operations`: ``data/cloud.toml`` (Microsoft's VM size
  documentation, AWS's billing codes), each table with its source.
- :func:`shared_host`: the one ``hosts.csv`` row that stands for a provider's shared hardware in a
  region (estate format, additions version 2: ``provider`` set, ``dedicated`` no, processors and
  cores blank).
- :func:`refuse_if_empty`: an import that maps no row is refused, naming why each row was
  skipped.

Imports :mod:`entitle.source`, the decoding helper of :mod:`entitle.estate.reader` and
:mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from entitle.estate.reader import decode
from entitle.importers.exports import read_export, require
from entitle.importers.result import Outcome
from entitle.source import Problem, Source
from entitle.text import bom_encoding

MAX_VCPUS = 4096  # the estate loader's bound for vCPUs of a VM


@dataclass
class JsonDoc:
    """A parsed JSON file and its text, to find the line where a record's id is written."""

    file: str
    text: str
    data: object
    cursor: int = 0

    def where(self, value: str) -> Source:
        """The line of the first ``"value"`` after the previous one found (records are read in
        file order), else anywhere, else line 1."""
        needle = json.dumps(value)
        at = self.text.find(needle, self.cursor)
        if at < 0:
            at = self.text.find(needle)
        if at < 0:
            return Source(self.file, 1)
        self.cursor = at + len(needle)
        return Source(self.file, self.text.count("\n", 0, at) + 1)


def read_json(path: Path, out: Outcome) -> JsonDoc | None:
    """A JSON file, or ``None`` with the problem recorded in ``out``."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        out.error(Source(file), f"cannot read the file: {error.strerror}", "check the path")
        return None
    text, problems = decode(data, file)
    if text is None:
        out.problems.extend(problems)
        return None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        out.error(
            Source(file, error.lineno),
            f"not valid JSON: {error.msg} (column {error.colno})",
            "export again with --output json (-o json); the file may be cut short",
        )
        return None
    except RecursionError:
        out.error(Source(file, 1), "JSON nested too deeply", "this is not a CLI's JSON output")
        return None
    return JsonDoc(file, text, parsed)


def is_json(path: Path) -> bool:
    """A file to read as JSON: by its suffix, else by its first character."""
    if path.suffix.lower() == ".json":
        return True
    if path.suffix.lower() in {".csv", ".txt", ".xlsx", ".xlsm"}:
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    encoding, mark = bom_encoding(head)
    return head[mark:].decode(encoding, errors="replace").lstrip()[:1] in ("[", "{")


def whole(value: object) -> int | None:
    """A positive whole number from JSON or CSV text (``4``, ``"4"``, ``4.0``), else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip())
        if number != int(number) or not 1 <= number <= MAX_VCPUS:
            return None
    except (ValueError, OverflowError):  # not a number, NaN, infinity
        return None
    return int(number)


def read_vcpus_map(path: Path) -> tuple[dict[str, int], list[Problem]]:
    """``--vcpus-map``: a CSV with columns ``size`` and ``vcpus`` (size compared without case)."""
    export, problems = read_export(path, str(path))
    errors = [p for p in problems if p.severity == "error"] + [
        Problem(p.source, p.message, p.hint) for p in problems if p.severity != "error"
    ]
    if export is None or errors:
        return {}, errors
    missing = require(export, ("size", "vcpus"), "--vcpus-map")
    if missing is not None:
        return {}, [missing]
    sizes: dict[str, int] = {}
    for row in export.rows:
        size, vcpus = row.get("size"), whole(row.get("vcpus"))
        if not size or vcpus is None:
            errors.append(
                Problem(
                    row.source,
                    f"size '{size}' with vcpus '{row.get('vcpus')}'",
                    f"each row names a VM size or instance type and its vCPUs (1 to {MAX_VCPUS})",
                )
            )
            continue
        sizes[size.lower()] = vcpus
    return sizes, errors


@cache
def _data() -> dict[str, object]:
    text = resources.files("entitle.importers").joinpath("data/cloud.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def size_table() -> dict[str, int]:
    """Azure VM size (lower case) → vCPUs, from ``data/cloud.toml``."""
    sizes: dict[str, int] = {}
    series = _data()["azure"]
    assert isinstance(series, list)
    for entry in series:
        if not str(entry.get("source", "")).startswith("https://"):
            raise ValueError(f"data/cloud.toml: series {entry.get('series')} has no source URL")
        for name in entry.get("names", ()):
            for n in entry["n"]:
                sizes[name.replace("{n}", str(n)).lower()] = int(n)
        for name, vcpus in entry.get("sizes", {}).items():
            sizes[name.lower()] = int(vcpus)
    return sizes


@cache
def usage_operations() -> dict[str, str]:
    """AWS UsageOperation billing code → platform details, from ``data/cloud.toml``."""
    aws = _data()["aws"]
    assert isinstance(aws, dict)
    return {str(k).lower(): str(v) for k, v in aws["usage_operation"].items()}


def shared_host(provider: str, region: str) -> dict[str, str]:
    """The row of a provider's shared hardware in one region: no processors or cores (the
    organisation cannot know them; the VMs' vCPUs count)."""
    return {
        "host": f"{provider}-{region or 'unknown-region'}",
        "provider": provider,
        "dedicated": "no",
        "processors": "",
        "cores_per_processor": "",
    }


def placeholder_host(provider: str, host: str) -> dict[str, str]:
    """The row of a dedicated host whose cores no export gives: 1 processor of 1 core, so the
    per-server minimums apply, marked as a placeholder (a real inventory replaces it)."""
    return {
        "host": host,
        "provider": provider,
        "dedicated": "yes",
        "processors": "1",
        "cores_per_processor": "1",
        "placeholder": "yes",
    }


def refuse_if_empty(out: Outcome, read: int, what: str, first: Source) -> None:
    """An import that maps nothing is an error that says why every row was skipped."""
    if out.problems or any(out.rows.values()):
        return
    reasons = "; ".join(f"{reason}: {n}" for reason, n in sorted(out.skip_counts.items()))
    out.error(
        first,
        f"nothing to import: {read} {what} read, none mapped"
        + (f" (skipped — {reasons})" if reasons else ""),
        "check that these are the right files; the skip reasons say what each row lacks",
    )
