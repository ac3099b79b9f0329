"""The position as a readable terminal report (Rich): the plain view of ``entitle position``
without a report. Its money, labels, cloud and findings sections are the report's
(reports/fmt.py, reports/terminal.py); with a report, reports/terminal.py renders it all."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from entitle.cli.common import SafeConsole

if TYPE_CHECKING:
    from entitle.position.model import Position


def terminal() -> Console:
    """Standard output: the terminal's width on a terminal, 120 columns into a file or pipe."""
    return SafeConsole(width=None if sys.stdout.isatty() else 120, emoji=False)


def render_position(position: Position, console: Console, *, explain: bool = False) -> None:
    # the reports' money, labels and sections, imported here: `entitle --help` loads none of it
    from entitle.reports.fmt import money
    from entitle.reports.model import cloud_sorted, label, line_label
    from entitle.reports.terminal import render_cloud, render_findings

    cur = position.currency
    title = f"License position of {position.estate or 'the estate'} on {position.as_of}"
    table = Table(title=title, title_justify="left", header_style="bold", expand=False)
    table.add_column("license", overflow="fold", ratio=3)
    for col in ("required", "owned", "short", "surplus", "unit price", "cost"):
        table.add_column(col, justify="right", no_wrap=True)
    notes = []
    for line in position.lines:
        style = "red" if line.shortfall else ("yellow" if line.surplus else "")
        table.add_row(
            line_label(line),
            str(line.required),
            str(line.owned),
            str(line.shortfall),
            str(line.surplus),
            money(line.unit_price),
            money(line.cost),
            style=style,
        )
        if line.packs:
            packs = " + ".join(f"{n} × {size}-core pack" for size, n in line.packs.items())
            notes.append(f"{line_label(line)}: buy {packs}")
        if line.billed:
            notes.append(f"{line_label(line)}: billed {money(line.monthly_cost, cur)} per month")
    console.print(table)
    status = "[red]shortfall[/red]" if position.has_shortfall else "[green]compliant[/green]"
    console.print(
        f"Total cost to be compliant: [bold]{money(position.total_cost, cur)}[/bold] ({status}); "
        f"plan {position.optimality or 'computed'}"
        + (
            f", lower bound {money(position.lower_bound, cur)}"
            if position.lower_bound is not None and position.optimality != "optimal"
            else ""
        )
    )
    for note in notes:
        console.print(f"  {note}", markup=False)
    console.print()
    console.print("[bold]Server choices[/bold]")
    for c in position.choices:
        console.print(f"  {c.decision.key}: {c.explain()} — {c.decision.why}", markup=False)
        if explain:
            for n in c.needs:
                console.print(
                    f"      {n.quantity} × {n.license} {n.edition or ''}: {n.reason}", markup=False
                )
    if position.cal_needs:
        console.print()
        console.print("[bold]CAL plan[/bold]")
        for n in position.cal_needs:
            who = ", ".join(n.holders[:6]) + (" …" if len(n.holders) > 6 else "")
            what = label(n.product, n.edition, n.version, n.license)
            where = f" on {n.host}" if n.host else ""
            console.print(f"  {n.quantity} × {what}{where}: {who}", markup=False)
    if position.cloud:
        console.print()
        render_cloud(cloud_sorted(position.cloud), console)
    if position.findings:
        console.print()
        render_findings(position.findings, console)
