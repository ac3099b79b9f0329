"""The position as a readable terminal report (Rich)."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from entitle.cli.common import SafeConsole

if TYPE_CHECKING:
    from entitle.position.model import Line, Position


def terminal() -> Console:
    """Standard output: the terminal's width on a terminal, 120 columns into a file or pipe."""
    return SafeConsole(width=None if sys.stdout.isatty() else 120, emoji=False)


def money(value: Decimal | None, currency: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value.quantize(Decimal('0.01')):,}"
    return f"{text} {currency}".strip()


def _label(line: Line) -> str:
    parts = [line.product, line.edition or "", line.version or "", line.license]
    return " ".join(p for p in parts if p)


def render_position(position: Position, console: Console, *, explain: bool = False) -> None:
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
            _label(line),
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
            notes.append(f"{_label(line)}: buy {packs}")
        if line.billed:
            notes.append(f"{_label(line)}: billed {money(line.monthly_cost, cur)} per month")
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
            label = " ".join(
                x for x in (n.product, n.edition or "", n.version or "", n.license) if x
            )
            where = f" on {n.host}" if n.host else ""
            console.print(f"  {n.quantity} × {label}{where}: {who}", markup=False)
    if position.cloud:
        console.print()
        console.print("[bold]Cloud and hosting providers[/bold]")
        # the reports (and the what-if and estate checks they import) only when there is a
        # cloud part: `entitle calc` prints without them
        from entitle.reports.model import cloud_sorted, cloud_text

        provider = None
        for row in cloud_sorted(position.cloud):
            if row.provider != provider:
                provider = row.provider
                console.print(f"  {provider}", markup=False)
            console.print(f"    {cloud_text(row)}", markup=False)
    if position.findings:
        console.print()
        console.print("[bold]Findings[/bold]")
        for f in position.findings:
            where = f" [{f.source}]" if f.source else ""
            console.print(f"  {f.severity}: {f.code}: {f.message}{where}", markup=False)
