"""Real exports (UAL, SIL, Active Directory, RVTools, Hyper-V, any CSV with a header mapping)
uploaded into a stored estate, as ``entitle import KIND FILE... --into ESTATE`` does.

The upload is kept under ``DATA/org-<id>/jobs/job-<id>/`` while its job runs. A browser's file
name never becomes a path: each distinct folder the client names becomes ``part-<n>/`` (so a
folder per server, as UAL collection scripts write them, still groups a server's exports) and
the file keeps only its last component with every character outside ``A-Za-z0-9._-`` replaced.
Problems and examples name the files as the client sent them, never the server's paths.

The job runs the importer, merges its rows into the estate's CSV tables (all or nothing, checked
by the estate loader), then computes the position like an estate upload; the summary (mapped,
written, skipped with examples, findings, problems) is kept as the job's result.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from entitle import money
from entitle.catalog import Catalog
from entitle.importers.ad import ExternalRule, import_ad
from entitle.importers.assumed import TABLE as FINDINGS_TABLE
from entitle.importers.assumed import record_findings, split_identities
from entitle.importers.dates import Window
from entitle.importers.generic import import_generic, read_mapping
from entitle.importers.hyperv import import_hyperv
from entitle.importers.merge import MergeReport, merge, read_tables, table_names, write_estate
from entitle.importers.result import ImportResult
from entitle.importers.rvtools import import_rvtools
from entitle.importers.sil import import_sil
from entitle.importers.ual import import_ual
from entitle.source import Problem, Source
from entitle.web import jobs
from entitle.web.ceiling import Ceiling
from entitle.web.context import Workspace
from entitle.web.errors import ApiError
from entitle.web.models import StoredEstate

log = logging.getLogger("entitle.web")
KINDS = ("ual", "sil", "ad", "rvtools", "hyperv", "generic")
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet", ".txt")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAPPING = "mapping.toml"


@dataclass(frozen=True, slots=True)
class Options:
    """What ``entitle import`` takes besides the files."""

    kind: str
    since: date | None = None
    until: date | None = None
    server: str | None = None
    domain: str | None = None
    external_ous: tuple[str, ...] = ()
    external_groups: tuple[str, ...] = ()
    external_attributes: tuple[str, ...] = ()

    def window(self) -> Window:
        end = self.until or date.today()
        return Window(self.since or Window.default(end).since, end)

    def rule(self) -> tuple[ExternalRule, list[str]]:
        return ExternalRule.parse(self.external_ous, self.external_groups, self.external_attributes)

    def check(self, has_mapping: bool) -> None:
        """422 naming the field, before anything is stored."""
        if self.kind not in KINDS:
            raise ApiError(422, "invalid", "kind must be one of " + ", ".join(KINDS), "kind")
        window = self.window()
        if window.since > window.until:
            raise ApiError(
                422, "invalid", f"since {window.since} is after until {window.until}", "since"
            )
        bad = self.rule()[1]
        if bad:
            raise ApiError(422, "invalid", bad[0].replace("--", ""), "external_attribute")
        if self.kind == "generic" and not has_mapping:
            raise ApiError(
                422,
                "invalid",
                "a generic import needs the header mapping (a TOML file, see docs/importers.md)",
                "mapping",
            )

    def as_json(self) -> dict[str, Any]:
        window = self.window()
        return {
            "kind": self.kind,
            "since": window.since,
            "until": window.until,
            "server": self.server,
            "domain": self.domain,
            "external_ous": list(self.external_ous),
            "external_groups": list(self.external_groups),
            "external_attributes": list(self.external_attributes),
        }

    @staticmethod
    def of_json(data: dict[str, Any]) -> Options:
        return Options(
            data["kind"],
            date.fromisoformat(data["since"]),
            date.fromisoformat(data["until"]),
            data.get("server"),
            data.get("domain"),
            tuple(data.get("external_ous", ())),
            tuple(data.get("external_groups", ())),
            tuple(data.get("external_attributes", ())),
        )


def placed(uploads: Sequence[tuple[str, bytes]]) -> tuple[dict[str, bytes], dict[str, str]]:
    """Where each uploaded export is stored (``part-<n>/<safe name>``) and the name to show for
    it (the client's last two path components); 422 naming every file refused."""
    folders: dict[tuple[str, ...], str] = {}
    files: dict[str, bytes] = {}
    labels: dict[str, str] = {}
    problems: list[Problem] = []
    for given, data in uploads:
        parts = [p for p in re.split(r"[\\/]", given or "") if p not in ("", ".", "..")]
        base = parts[-1] if parts else ""
        label = "/".join(parts[-2:])[:160] or "(unnamed)"
        if base.startswith(".") or base.lower().endswith((".md",)):
            continue  # hidden files and a folder's README
        if not base.lower().endswith(SUFFIXES):
            problems.append(
                Problem(
                    Source(label),
                    "not an export file",
                    "upload the .csv, .xlsx or .parquet files the tools export",
                )
            )
            continue
        folder = folders.setdefault(tuple(parts[:-1]), f"part-{len(folders) + 1}")
        name = f"{folder}/{UNSAFE.sub('_', base)[-120:]}"
        if name in files:
            problems.append(
                Problem(Source(label), "the same file twice", "upload each export once")
            )
            continue
        files[name] = data
        labels[name] = label
    if problems:
        raise ApiError.of_problems(problems)
    if not files:
        raise ApiError(422, "invalid", "no export files in the upload", "files")
    return files, labels


def folder_of(data_dir: Path, org_id: int, job_id: int) -> Path:
    return data_dir / f"org-{org_id}" / "jobs" / f"job-{job_id}"


def store(
    data_dir: Path,
    org_id: int,
    job_id: int,
    files: dict[str, bytes],
    labels: dict[str, str],
    options: Options,
    mapping: bytes | None,
) -> None:
    folder = folder_of(data_dir, org_id, job_id)
    for name, data in files.items():
        (folder / "exports" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "exports" / name).write_bytes(data)
    if mapping is not None:
        (folder / MAPPING).write_bytes(mapping)
    (folder / "request.json").write_text(
        money.dumps({"options": options.as_json(), "labels": labels}), encoding="utf-8"
    )


class Shown:
    """Turns the server's paths in a text back into the names the client sent."""

    def __init__(self, folder: Path, estate_dir: Path, labels: dict[str, str]):
        exports = folder / "exports"
        pairs = [(str(exports / stored), label) for stored, label in labels.items()]
        pairs += [(str(folder / MAPPING), MAPPING), (str(estate_dir) + "/", "")]
        pairs += [(str(exports) + "/", ""), (str(folder) + "/", "")]
        self.pairs = sorted(pairs, key=lambda p: -len(p[0]))

    def __call__(self, text: object) -> str:
        out = str(text)
        for path, label in self.pairs:
            out = out.replace(path, label)
        return out


def _importer(
    options: Options,
    files: list[Path],
    catalog: Catalog,
    mapping: Path,
    progress: Callable[[float], None],
) -> ImportResult | list[str]:
    kind = options.kind
    if kind == "ual":
        return import_ual(
            files, catalog, options.window(), server=options.server, progress=progress
        )
    if kind == "sil":
        return import_sil(files, catalog, server=options.server)
    if kind == "ad":
        return import_ad(files, rule=options.rule()[0], domain=options.domain)
    if kind == "rvtools":
        return import_rvtools(files, catalog)
    if kind == "hyperv":
        return import_hyperv(files, catalog)
    tables, problems = read_mapping(mapping)
    return problems or import_generic(files, tables)


def summary(
    result: ImportResult | None, report: MergeReport | None, shown: Shown, labels: list[str]
) -> dict[str, Any]:
    """The import as ``entitle import --json`` tells it, with the client's file names."""
    skipped: list[dict[str, Any]] = []
    if result is not None:
        skipped += [
            {"reason": s.reason, "count": s.count, "examples": [shown(e) for e in s.examples]}
            for s in result.skipped
        ]
    if report is not None:
        skipped += [
            {"reason": r, "count": n, "examples": [shown(e) for e in report.examples.get(r, [])]}
            for r, n in report.dropped.items()
        ]
    return {
        "kind": result.kind if result is not None else None,
        "files": labels,
        "mapped": dict(result.mapped) if result is not None else {},
        "written": {
            t: {"added": report.added[t], "updated": report.updated[t]}
            for t in table_names(report.touched)
        }
        if report is not None
        else {},
        "skipped": skipped,
        "findings": [
            {**f.as_json(), "message": shown(f.message), "source": shown(f.source or "")}
            for f in (result.findings if result is not None else ())
        ],
        "problems": [],
    }


def run(ws: Workspace, org_id: int, job_id: int) -> None:
    """The background job: import, merge into the estate, compute the position."""
    engine, data_dir = ws.engine, ws.settings.data_dir
    step = jobs.stepper(engine, org_id, job_id)
    try:
        stored = jobs.job_estate(engine, org_id, job_id)
        if stored is None:
            step(100, "the estate was deleted", "failed")
            return
        _run(engine, data_dir, ws.catalog, stored, job_id, step, ws.ceiling)
        ws.forget(stored.id)
    except Exception as exc:  # a system failure: the job says so, the log has the trace
        log.exception("source import job %s failed", job_id)
        step(100, f"failed: {exc}", "failed")
    finally:
        shutil.rmtree(folder_of(data_dir, org_id, job_id), ignore_errors=True)


def _run(
    engine: Engine,
    data_dir: Path,
    catalog: Catalog,
    stored: StoredEstate,
    job_id: int,
    step: Callable[..., None],
    ceiling: Ceiling | None = None,
) -> None:
    folder = folder_of(data_dir, stored.org_id, job_id)
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    options, labels = Options.of_json(request["options"]), request["labels"]
    estate_dir = data_dir / stored.folder
    shown = Shown(folder, estate_dir, labels)
    files = [folder / "exports" / name for name in sorted(labels)]
    step(5, f"reading {len(files)} {options.kind} export file(s)")

    def progress(done: float) -> None:
        step(5 + int(done * 40), "reducing the evidence")

    result = _importer(options, files, catalog, folder / MAPPING, progress)
    shown_labels = [labels[name] for name in sorted(labels)]

    def fail(message: str, problems: Sequence[object], result: ImportResult | None) -> None:
        out = summary(result, None, shown, shown_labels)
        out["problems"] = [shown(p) for p in problems]
        jobs.save_result(data_dir, stored.org_id, job_id, out)
        if stored.status == "pending":  # a new estate that got nothing
            jobs.finish(engine, stored, status="invalid", problems=json.dumps(out["problems"]))
        step(100, message, "failed")

    if isinstance(result, list):
        fail("the mapping has problems; nothing was written", result, None)
        return
    if not result.ok:
        errors = [p for p in result.problems if p.severity == "error"]
        fail(f"the exports have {len(errors)} problem(s); nothing was written", errors, result)
        return
    step(50, "merging into the estate")
    tables, problems = read_tables(estate_dir) if estate_dir.is_dir() else ({}, [])
    if problems:
        fail("the estate's tables cannot be read; nothing was written", problems, result)
        return
    tables, report = merge(tables, result.rows)
    changed = {name: tables[name] for name in report.touched}
    if "oses" in report.touched:  # one server under two ids (short name and FQDN)?
        result = replace(result, findings=(*result.findings, *split_identities(tables)))
    if record_findings(tables, result.kind, result.findings):  # import-findings.csv
        changed[FINDINGS_TABLE] = tables[FINDINGS_TABLE]
    problems = write_estate(estate_dir, changed, catalog) if changed else []
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        fail("the merged estate would not load; nothing was written", errors, result)
        return
    out = summary(result, report, shown, shown_labels)
    jobs.save_result(data_dir, stored.org_id, job_id, out)
    if not estate_dir.is_dir():
        fail("the exports held nothing for the estate; nothing was written", [], result)
        return
    names = sorted(p.name for p in estate_dir.glob("*.csv"))
    if not jobs.finish(engine, stored, files=json.dumps(names)):
        step(100, jobs.GONE, "failed")
        return
    jobs.compute(engine, data_dir, catalog, stored, step, 70, None, ceiling)
