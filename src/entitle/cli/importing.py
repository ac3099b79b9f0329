"""``entitle import KIND FILE... --into ESTATE``: real exports merged into an estate folder.

A thin face over :mod:`entitle.importers`: it runs one importer, merges its rows into the
estate (all tables or none, checked by the estate loader first) and prints what was mapped,
what was skipped and why, with counts and ``FILE:LINE`` examples. Bad input is printed as
``FILE:LINE: message`` with exit status 2, and nothing is written.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from entitle.cli.common import (
    SafeConsole,
    emit,
    err_console,
    fail,
    gc_paused,
    get_catalog,
    parse_date,
    to_json,
)
from entitle.cli.importing_help import KindHelpCommand
from entitle.estate.files import FOLLOW_SYMLINKS, not_regular

if TYPE_CHECKING:
    from entitle.catalog import Catalog
    from entitle.importers.ad import ExternalRule
    from entitle.importers.dates import Window
    from entitle.importers.merge import MergeReport
    from entitle.importers.result import ImportResult

# The importers (DuckDB, openpyxl, …) are imported inside the functions that run them, so that
# `entitle --help` and the other commands do not load them.

SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet", ".txt")


class Kind(StrEnum):
    ual = "ual"
    sil = "sil"
    ad = "ad"
    rvtools = "rvtools"
    hyperv = "hyperv"
    azure = "azure"
    aws = "aws"
    generic = "generic"


class DateStyle(StrEnum):
    auto = "auto"
    day_first = "day-first"
    month_first = "month-first"


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


CLOUD_SUFFIXES = (".json", ".csv", ".txt", ".xlsx", ".xlsm")  # importers/cloud.py reads each


def expand(paths: list[Path], suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """Files as given; a folder stands for the export files inside it (recursively). An input
    that is a symbolic link (unless ``--follow-symlinks``), a device or a pipe stops the import
    before anything reads it."""
    out: list[Path] = []
    empty: list[str] = []
    for path in paths:
        linked = path.is_symlink() and not FOLLOW_SYMLINKS.get()
        if path.is_dir() and not linked and not any(path.glob("*.parquet")):
            inside = sorted(
                p
                for p in path.rglob("*")
                if not p.is_dir() and p.suffix.lower() in suffixes and not p.name.startswith(".")
            )
            if not inside:  # an import of nothing would write an empty estate and exit 0
                kinds = ", ".join(suffixes)
                empty.append(f"{path}: no export file in this folder (looked for {kinds} files)")
            out.extend(inside)
        else:
            out.append(path)
    if empty:
        fail(empty)
    refused = [
        problem
        for path in out
        if path.is_symlink() or (path.exists() and not path.is_dir())
        for problem in [not_regular(path, str(path))]
        if problem is not None
    ]
    if refused:
        fail(refused)
    return out


@contextmanager
def progress_bar(console: Console, enabled: bool) -> Iterator[Callable[[float], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("reducing evidence"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("reduce", total=1.0)
        yield lambda done: bar.update(task, completed=done)


def run_import(
    kind: Kind,
    files: list[Path],
    catalog: Catalog,
    window: Window,
    *,
    mapping: Path | None,
    rule: ExternalRule,
    domain: str | None,
    server: str | None,
    engine: EngineName,
    console: Console,
    vcpus_map: Path | None = None,
    date_style: DateStyle = DateStyle.auto,
    encoding: str | None = None,
    bulk_dir: Path | None = None,
) -> ImportResult:
    # Only the importer of this kind is imported (the AD and RVTools ones load openpyxl).
    if kind in (Kind.azure, Kind.aws):
        from entitle.importers.aws import import_aws
        from entitle.importers.azure import import_azure
        from entitle.importers.cloud import read_vcpus_map

        sizes: dict[str, int] = {}
        if vcpus_map is not None:
            sizes, bad = read_vcpus_map(vcpus_map)
            if bad:
                fail(bad)
        if kind is Kind.azure:
            return import_azure(files, sizes)
        return import_aws(files, catalog, sizes)
    if kind is Kind.ual:
        from entitle.importers.ual import import_ual

        with progress_bar(console, console.is_terminal) as progress:
            return import_ual(
                files,
                catalog,
                window,
                server=server,
                engine=engine.value,
                progress=progress,
                date_style=date_style.value,
                bulk_dir=bulk_dir,
            )
    if kind is Kind.sil:
        from entitle.importers.sil import import_sil

        return import_sil(files, catalog, server=server)
    if kind is Kind.ad:
        from entitle.importers.ad import import_ad

        return import_ad(files, rule=rule, domain=domain, encoding=encoding)
    if kind is Kind.rvtools:
        from entitle.importers.rvtools import import_rvtools

        return import_rvtools(files, catalog)
    if kind is Kind.hyperv:
        from entitle.importers.hyperv import import_hyperv

        return import_hyperv(files, catalog)
    from entitle.importers.generic import import_generic, read_mapping

    if mapping is None:
        fail(["generic: give the header mapping with --map MAPPING.toml (see docs/importers.md)"])
    tables, problems = read_mapping(mapping)
    if problems:
        fail(problems)
    return import_generic(files, tables)


def show(result: ImportResult, report: MergeReport, into: Path, console: Console) -> None:
    """The summary: mapped, written, skipped (with reasons and examples), findings."""
    from entitle.importers.merge import table_names

    mapped = Table(
        title=f"entitle import {result.kind} → {into}", show_header=True, title_justify="left"
    )
    mapped.add_column("mapped")
    mapped.add_column("count", justify="right")
    for what, count in result.mapped:
        mapped.add_row(what, str(count))
    for table in table_names(report.touched):
        added, updated = report.added[table], report.updated[table]
        mapped.add_row(f"{table}.csv", f"+{added} new, {updated} updated")
    console.print(mapped)
    skipped = list(result.skipped)
    dropped = [(reason, n, report.examples.get(reason, [])) for reason, n in report.dropped.items()]
    if skipped or dropped:
        skips = Table(show_header=True)
        skips.add_column("skipped", overflow="fold")
        skips.add_column("count", justify="right")
        skips.add_column("for example", overflow="fold")
        for s in skipped:
            skips.add_row(s.reason, str(s.count), ", ".join(str(e) for e in s.examples))
        for reason, n, examples in dropped:
            skips.add_row(reason, str(n), ", ".join(str(e) for e in examples))
        console.print(skips)
    for finding in result.findings:
        where = f" ({finding.source})" if finding.source else ""
        console.print(
            f"warning [{finding.code}]: {finding.message}{where}", markup=False, soft_wrap=True
        )


def as_json(result: ImportResult, report: MergeReport, into: Path) -> dict[str, object]:
    """The summary for scripts: the same facts as :func:`show`."""
    from entitle.importers.merge import table_names

    return {
        "kind": result.kind,
        "into": str(into),
        "mapped": dict(result.mapped),
        "written": {
            t: {"added": report.added[t], "updated": report.updated[t]}
            for t in table_names(report.touched)
        },
        "skipped": [
            {"reason": s.reason, "count": s.count, "examples": [str(e) for e in s.examples]}
            for s in result.skipped
        ]
        + [
            {"reason": r, "count": n, "examples": [str(e) for e in report.examples.get(r, [])]}
            for r, n in report.dropped.items()
        ],
        "findings": [f.as_json() for f in result.findings],
    }


def register(app: typer.Typer) -> None:
    @app.command("import", cls=KindHelpCommand)
    def import_command(
        kind: Kind = typer.Argument(
            ...,
            help="What the files are: ual, sil, ad, rvtools, hyperv, azure, aws, or generic "
            "(with --map).",
        ),
        files: list[Path] = typer.Argument(
            ...,
            help="Export files (CSV, .xlsx, Parquet; JSON for azure and aws); a folder stands "
            "for the files in it.",
        ),
        into: Path = typer.Option(..., "--into", help="Estate folder to create or merge into."),
        since: str | None = typer.Option(
            None,
            "--since",
            help="First day of evidence kept (YYYY-MM-DD); default 90 days before --until.",
        ),
        until: str | None = typer.Option(
            None, "--until", help="Last day of evidence kept (YYYY-MM-DD); default today."
        ),
        mapping: Path | None = typer.Option(
            None, "--map", help="generic: the header mapping (TOML)."
        ),
        external_ou: list[str] = typer.Option(
            [], "--external-ou", help="ad: users under this OU are external (repeatable)."
        ),
        external_group: list[str] = typer.Option(
            [], "--external-group", help="ad: members of this group are external (repeatable)."
        ),
        external_attribute: list[str] = typer.Option(
            [], "--external-attribute", help="ad: COLUMN=VALUE marks external users."
        ),
        domain: str | None = typer.Option(
            None,
            "--domain",
            help="ad: NetBIOS domain of user ids (default: the first DC= of each DN).",
        ),
        server: str | None = typer.Option(
            None, "--server", help="ual/sil: the server the files come from, when they do not say."
        ),
        engine: EngineName = typer.Option(
            EngineName.duckdb,
            "--engine",
            help="ual: reduce evidence on duckdb (embedded) or spark.",
        ),
        vcpus_map: Path | None = typer.Option(
            None,
            "--vcpus-map",
            help="azure/aws: a CSV (columns size, vcpus) for VM sizes or instance types the "
            "importer does not know.",
        ),
        date_style: DateStyle = typer.Option(
            DateStyle.auto,
            "--date-style",
            help="ual: how day/month dates are written; auto decides from the whole column.",
        ),
        encoding: str | None = typer.Option(
            None,
            "--encoding",
            help="ad: the text encoding of CSV files that are not UTF-8/UTF-16 (e.g. cp1252).",
        ),
        catalog_path: Path | None = typer.Option(None, "--catalog", help="Use another catalog."),
        json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Import real exports into an estate folder (created if missing, else merged into).

        Example: entitle import ual exports/ual --into estate --since 2025-06-01

        Then: entitle import ad users.csv computers.csv --into estate --external-ou
        "OU=Partners,DC=contoso,DC=com"; entitle position estate

        azure: az vm list --show-details -o json; an Azure Resource Graph CSV
        (name, location, properties.hardwareProfile.vmSize, properties.licenseType,
        properties.storageProfile.imageReference.*); az sql vm list -o json.
        licenseType Windows_Server (Azure Hybrid Benefit) → model byol, none →
        provider; sqlServerLicenseType PAYG → provider, AHUB → byol, DR → byol.
        host.id: an Azure Dedicated Host; otherwise shared host azure-LOCATION.
        Example: entitle import azure vms.json sqlvms.json --into estate

        aws: aws ec2 describe-instances --output json (PlatformDetails or
        UsageOperation: RunInstances:0002 Windows → provider, RunInstances:0800
        Windows BYOL → byol, … with SQL Server → sql-server; Placement.Tenancy
        default → shared host aws-REGION, host → HostId, dedicated → placeholder;
        CpuOptions → vCPUs; Name tag → OSE id), describe-hosts (HostProperties
        Cores and Sockets), describe-images (the AMI's Windows/SQL version).
        Example: entitle import aws instances.json hosts.json images.json --into estate

        azure/aws: --vcpus-map FILE (CSV: size,vcpus) for sizes the table lacks.

        Exit status: 0 imported; 2 bad input (every problem printed as FILE:LINE; nothing
        written).
        """
        from entitle.importers.ad import ExternalRule
        from entitle.importers.dates import Window

        catalog = get_catalog(catalog_path)
        end = parse_date(until, "--until") or date.today()
        default = Window.default(end)
        start = parse_date(since, "--since") or default.since
        if start > end:
            fail([f"--since {start} is after --until {end}"])
        rule, bad = ExternalRule.parse(external_ou, external_group, external_attribute)
        if bad:
            fail(bad)
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                fail([f"--encoding {encoding}: not an encoding Python knows (e.g. cp1252)"])
        if into.exists() and not into.is_dir():
            fail([f"{into}: import writes into an estate folder of CSV files, not a file"])
        console = SafeConsole(emoji=False)
        # the collector paused (the command's own process): the merge and the estate loader's
        # check make tens of thousands of rows and no cycles; each collection walked them all
        # again (0.4 s of CPU at 1M UAL rows, issue #15 item 11)
        with tempfile.TemporaryDirectory(prefix="entitle-import-") as scratch, gc_paused():
            result, report = _import_into(
                into,
                catalog,
                run_import(
                    kind,
                    expand(files, CLOUD_SUFFIXES if kind in (Kind.azure, Kind.aws) else SUFFIXES),
                    catalog,
                    Window(start, end),
                    mapping=mapping,
                    rule=rule,
                    domain=domain,
                    server=server,
                    engine=engine,
                    console=err_console,
                    vcpus_map=vcpus_map,
                    date_style=date_style,
                    encoding=encoding,
                    bulk_dir=Path(scratch),
                ),
            )
        if json_out:
            emit(to_json(as_json(result, report, into)), None)
        else:
            show(result, report, into, console)


def _import_into(
    into: Path, catalog: Catalog, result: ImportResult
) -> tuple[ImportResult, MergeReport]:
    """Merge an import's rows into the estate at ``into`` and write it (all or nothing); a
    refusal (exit 2) when the import or the merged estate has errors."""
    from entitle.importers.assumed import TABLE, record_findings, split_identities
    from entitle.importers.bulk import BulkAccess, as_rows
    from entitle.importers.merge import merge, read_tables, recover, write_estate

    if not result.ok:
        fail([p for p in result.problems if p.severity == "error"])
    recover(into.absolute())  # an earlier import killed half-way through its swap
    tables, problems = read_tables(into) if into.is_dir() else ({}, [])
    if problems:
        fail(problems)
    bulk = result.bulk.get("access")
    if bulk is not None and "access" in tables:  # merged key by key into the rows there
        rows = {**result.rows, "access": as_rows(bulk)}
        result, bulk = replace(result, rows=rows, bulk={}), None
    tables, report = merge(tables, result.rows)
    changed = {name: tables[name] for name in report.touched}
    if "oses" in report.touched:  # one server under two ids (short name and FQDN)?
        result = replace(result, findings=(*result.findings, *split_identities(tables)))
    if record_findings(tables, result.kind, result.findings):  # import-findings.csv
        changed[TABLE] = tables[TABLE]
    access = BulkAccess(bulk, tables, catalog) if bulk is not None else None
    try:
        writers = {}
        if access is not None:  # the access tuples go from file to file in DuckDB
            access.merge(report)
            writers["access"] = access.write
        problems = write_estate(into, changed, catalog, writers)
    finally:
        if access is not None:
            access.close()
    errors = [p for p in problems if p.severity == "error"]
    if errors:  # each on its one line, saying what it is about (no heading line above them)
        merged = "in the merged estate; nothing was written"
        fail([replace(p, hint=f"{p.hint}; {merged}" if p.hint else merged) for p in errors])
    return result, report
