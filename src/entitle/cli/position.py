"""``entitle position ESTATE``: the effective license position, as the spec defines it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console

from entitle.cli.common import emit, get_catalog, get_estate, parse_date, to_json
from entitle.cli.ledger import ledger_entitlements
from entitle.cli.render import render_position, terminal
from entitle.position import compute_position


def register(app: typer.Typer) -> None:
    @app.command("position")
    def position(
        estate: Path = typer.Argument(
            ..., help="Estate folder of CSV files, or one .xlsx workbook."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the position as JSON."),
        check: bool = typer.Option(False, "--check", help="Exit 1 when any shortfall exists."),
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
    ) -> None:
        """Compute the license position: what is needed, owned, missing, and the cheapest plan.

        Example: entitle position examples/sample-estate --json --check

        Exit status: 0 report produced; 2 bad input (every problem printed as FILE:LINE);
        with --check, 1 when a shortfall exists.
        """
        catalog = get_catalog(catalog_path)
        day = parse_date(as_of, "--as-of")
        loaded, _ = get_estate(estate, catalog)
        if ledger_db:
            loaded = replace(loaded, entitlements=ledger_entitlements(ledger_db, day))
        result = compute_position(loaded, catalog, day)
        if as_json:
            emit(to_json(result.as_json()), out)
        elif out is not None:
            console = Console(record=True, width=160, force_terminal=False)
            with console.capture():
                render_position(result, console, explain=explain)
            emit(console.export_text(), out)
        else:
            render_position(result, terminal(), explain=explain)
        if check and result.has_shortfall:
            raise typer.Exit(1)
