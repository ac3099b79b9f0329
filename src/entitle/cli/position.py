"""``entitle position ESTATE``: the effective license position, as the spec defines it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from entitle.cli.common import (
    emit,
    err_console,
    gc_paused,
    get_catalog,
    get_estate,
    parse_date,
    to_json,
)

if TYPE_CHECKING:
    from entitle.source import Finding


def register(app: typer.Typer) -> None:
    @app.command("position")
    def position(
        estate: Path = typer.Argument(
            ..., help="Estate folder of CSV files, or one .xlsx workbook."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the position as JSON."),
        check: bool = typer.Option(
            False,
            "--check",
            help="Exit 1 when any shortfall exists, or an import assumption is not accepted.",
        ),
        accept_assumptions: bool = typer.Option(
            False,
            "--accept-assumptions",
            help="With --check: accept what the imports assumed (import-findings.csv).",
        ),
        as_of: str | None = typer.Option(
            None,
            "--as-of",
            help="Date of the position (YYYY-MM-DD); "
            "default today. Software Assurance is judged on it.",
        ),
        out: Path | None = typer.Option(
            None,
            "--out",
            "-o",
            help="Write the output to FILE (atomically) instead of standard output.",
        ),
        explain: bool = typer.Option(False, "--explain", help="Show the reason for every need."),
        catalog_path: Path | None = typer.Option(
            None, "--catalog", help="Use another catalog file."
        ),
        ledger_db: str | None = typer.Option(
            None,
            "--db",
            envvar="ENTITLE_DB",
            help="Take the entitlements from this ledger, as of --as-of.",
        ),
        what_if_file: Path | None = typer.Option(
            None,
            "--what-if",
            help="Apply a YAML file of changes (add/remove hosts, VMs, users, devices, "
            "products, versions; prices) and report the position after it and the difference.",
        ),
        xlsx: Path | None = typer.Option(None, "--xlsx", help="Write an Excel workbook report."),
        html: Path | None = typer.Option(
            None, "--html", help="Write a self-contained HTML report."
        ),
        pdf: Path | None = typer.Option(None, "--pdf", help="Write a PDF report (needs Chromium)."),
    ) -> None:
        """Compute the license position: what is needed, owned, missing, and the cheapest plan.

        Example: entitle position examples/sample-estate --json --check

        Reports: entitle position ESTATE --xlsx out/p.xlsx --html out/p.html --pdf out/p.pdf

        What-if: entitle position ESTATE --what-if changes.yaml (see docs/reports.md)

        Exit status: 0 report produced; 2 bad input (every problem printed as FILE:LINE);
        with --check, 1 when a shortfall exists or an import assumption (import-findings.csv)
        is neither accepted there nor by --accept-assumptions.
        """
        # the engine and the reports are imported here, not with the module: `entitle --help`
        # and the other commands do not load them
        from entitle.cli.ledger import ledger_entitlements
        from entitle.cli.render import terminal
        from entitle.cli.reporting import (
            check_pdf_possible,
            make_report,
            report_text,
            what_if,
            what_if_json,
            write_reports,
        )
        from entitle.optimize.calmemo import CalPlans
        from entitle.position import compute_position
        from entitle.reports.terminal import render_report

        catalog = get_catalog(catalog_path)
        day = parse_date(as_of, "--as-of")
        loaded, _ = get_estate(estate, catalog)
        unknown: tuple[Finding, ...] = ()
        if ledger_db:  # rows the catalog does not know are findings, not a crash
            from entitle.ledger.importing import known_records  # noqa: PLC0415 (only for --db)

            owned, unknown = known_records(ledger_entitlements(ledger_db, day), catalog)
            loaded = replace(loaded, entitlements=owned)
        check_pdf_possible(pdf)
        # a what-if plans the estate twice: the CAL problems it leaves as they were are solved once
        memo = CalPlans(catalog) if what_if_file else None
        with err_console.status("computing the position", spinner="dots") as status, gc_paused():
            result = compute_position(
                loaded, catalog, day, progress=lambda msg: status.update(msg), memo=memo
            )
        if unknown:
            result = replace(result, findings=unknown + result.findings)
        change = what_if(what_if_file, loaded, result, catalog, day, memo) if what_if_file else None
        if change is not None:
            loaded, result = change.estate, change.position
        report = None
        if change is not None or xlsx or html or pdf:
            report = make_report(result, loaded, catalog, change)
            write_reports(report, xlsx=xlsx, html=html, pdf=pdf)
        if as_json:
            data = result.as_json()
            if change is not None:
                data["what_if"] = what_if_json(change)
            emit(to_json(data), out)
        else:  # one terminal view, with or without a report file (reports/terminal.py)
            report = report or make_report(result, loaded, catalog, None)
            if out is not None:
                emit(report_text(report, explain=explain), out)
            else:
                render_report(report, terminal(), explain=explain)
        if check and result.has_shortfall:
            raise typer.Exit(1)
        open_findings = [f for f in loaded.import_findings if not f.accepted]
        if check and open_findings and not accept_assumptions:
            codes = sorted({f.code for f in open_findings})
            err_console.print(
                f"check failed: {len(open_findings)} import assumption(s) not accepted "
                f"({', '.join(codes)}; first at {open_findings[0].source}) — resolve them, or "
                "write yes in their accepted column of import-findings.csv, or give "
                "--accept-assumptions",
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(1)
