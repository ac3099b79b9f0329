"""The position as a readable terminal report (Rich)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table

from entitle.position.model import Position


def money(value: Decimal | None, currency: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value.quantize(Decimal('0.01')):,}"
    return f"{text} {currency}".strip()


def render_position(position: Position, console: Console, *, explain: bool = False) -> None:
    cur = position.currency
    title = f"License position of {position.estate or 'the estate'} on {position.as_of}"
    table = Table(title=title, title_justify="left", header_style="bold")
    for col, justify in (
        ("product", "left"),
        ("license", "left"),
        ("edition", "left"),
        ("version", "left"),
        ("required", "right"),
        ("owned", "right"),
        ("shortfall", "right"),
        ("surplus", "right"),
        ("unit price", "right"),
        ("cost", "right"),
        ("packs", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for line in position.lines:
        packs = " + ".join(f"{n}×{size}" for size, n in line.packs.items())
        if line.billed:
            packs = f"billed {money(line.monthly_cost)}/month"
        style = "red" if line.shortfall else ("yellow" if line.surplus else "")
        table.add_row(
            line.product,
            line.license,
            line.edition or "",
            line.version or "",
            str(line.required),
            str(line.owned),
            str(line.shortfall),
            str(line.surplus),
            money(line.unit_price),
            money(line.cost),
            packs,
            style=style,
        )
    console.print(table)
    status = "[red]shortfall[/red]" if position.has_shortfall else "[green]compliant[/green]"
    console.print(
        f"Total cost to be compliant: [bold]{money(position.total_cost, cur)}[/bold] ({status})"
    )
    console.print()
    console.print("[bold]Choices[/bold]")
    for c in position.choices:
        console.print(f"  {c.decision.key}: {c.explain()} — {c.decision.why}", markup=False)
        if explain:
            for n in c.needs:
                console.print(
                    f"      {n.quantity} × {n.license} {n.edition or ''}: {n.reason}", markup=False
                )
    if position.findings:
        console.print()
        console.print("[bold]Findings[/bold]")
        for f in position.findings:
            where = f" [{f.source}]" if f.source else ""
            console.print(f"  {f.severity}: {f.code}: {f.message}{where}", markup=False)
