"""The position in the terminal (Rich), the one renderer of ``entitle position`` and ``entitle
calc`` with or without a report file: the summary, the what-if difference when a change file was
applied, the lines, the top shortfalls, pay-as-you-go bills, the CAL plan, with ``--explain``
the server choices and why each license is needed, the cloud rows and the findings.

Imports the report model (and the records it holds) only.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from entitle.position.cloud import CloudRow
from entitle.reports.fmt import count, money, signed
from entitle.reports.model import Report, cloud_text, line_label
from entitle.source import Finding


def render_report(r: Report, console: Console, *, explain: bool = False) -> None:
    s = r.summary
    cur = s.currency
    status = "[green]compliant[/green]" if s.compliant else "[red]shortfall[/red]"
    title = f"License position of {escape(s.estate)} on {s.as_of.isoformat()}"
    console.print(f"[bold]{title}[/bold]")  # the estate's name is text, never markup
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row("cost to be compliant", f"[bold]{money(s.total_cost, cur)}[/bold] ({status})")
    grid.add_row("lines short", f"{s.lines_short} of {s.lines} ({count(s.units_short)} licenses)")
    plan = s.optimality or "computed"
    if s.lower_bound is not None and s.optimality != "optimal":
        plan += f"; lower bound {money(s.lower_bound, cur)}"
    grid.add_row("plan", plan)
    grid.add_row("findings", ", ".join(f"{n} {sev}" for sev, n in s.findings) or "none")
    grid.add_row("catalog", s.catalog_version)
    console.print(grid)

    if r.what_if is not None:
        console.print()
        d = r.what_if
        console.print(
            f"[bold]What-if[/bold]: total {money(d.total_before, cur)} → "
            f"{money(d.total_after, cur)} ({signed(d.total_change)})"
        )
        for text in r.changes:
            console.print(f"  {text}", markup=False)
        table = Table(header_style="bold")
        table.add_column("license", overflow="fold")
        for name in ("required", "owned", "short", "cost before", "cost after", "change"):
            table.add_column(name, justify="right", no_wrap=True)
        for c in d.changed:
            table.add_row(
                c.label,
                signed(c.delta("required")),
                signed(c.delta("owned")),
                signed(c.delta("shortfall")),
                money(c.before.cost if c.before else None),
                money(c.after.cost if c.after else None),
                signed(c.delta("cost")),
            )
        console.print(table)

    console.print()
    table = Table(title="License lines", title_justify="left", header_style="bold")
    table.add_column("license", overflow="fold")
    for name in ("required", "owned", "short", "surplus", "unit price", "cost"):
        table.add_column(name, justify="right", no_wrap=True)
    for x in r.lines:
        table.add_row(
            line_label(x),
            count(x.required),
            count(x.owned),
            count(x.shortfall),
            count(x.surplus),
            money(x.unit_price),
            money(x.cost),
            style="red" if x.shortfall else ("yellow" if x.surplus else ""),
        )
    console.print(table)

    if r.top_shortfalls:
        table = Table(title="Top shortfalls", title_justify="left", header_style="bold")
        table.add_column("license", overflow="fold")
        table.add_column("short", justify="right")
        table.add_column("cost", justify="right")
        table.add_column("buy")
        for x in r.top_shortfalls:
            packs = " + ".join(f"{n} × {size}-core pack" for size, n in x.packs.items())
            table.add_row(line_label(x), count(x.shortfall), money(x.cost, cur), packs)
        console.print(table)

    for x in r.lines:
        if x.billed:
            console.print(
                f"{line_label(x)}: billed {money(x.monthly_cost, cur)} per month (nothing bought)",
                markup=False,
            )

    if r.cal_groups:
        console.print("[bold]CAL plan[/bold]")
        for what, quantity, holders in r.cal_groups:
            console.print(f"  {count(quantity)} × {what}: {holders}", markup=False)

    if explain:
        render_explanation(r, console)

    render_cloud(r.cloud, console)
    render_findings(r.findings, console)


def render_explanation(r: Report, console: Console) -> None:
    """``--explain``: each server choice with its alternatives and why, and the reason behind
    every license needed (the report's choices and evidence)."""
    if r.choices:
        console.print("[bold]Server choices[/bold]")
        for c in r.choices:
            others = f"; alternatives {c.alternatives}" if c.alternatives else ""
            console.print(
                f"  {c.decision}: {c.chosen} ({money(c.cost)}{others}) — {c.why}", markup=False
            )
    if r.evidence:
        console.print("[bold]Why each license is needed[/bold]")
        for e in r.evidence:
            where = f" on {e.where}" if e.where else ""
            console.print(f"  {count(e.quantity)} × {e.line}{where}: {e.reason}", markup=False)


def render_cloud(rows: Iterable[CloudRow], console: Console) -> None:
    """The rows of the cloud section grouped by provider (the position's and the report's)."""
    provider = None
    for row in rows:
        if provider is None:
            console.print("[bold]Cloud and hosting providers[/bold]")
        if row.provider != provider:
            provider = row.provider
            console.print(f"  {provider}", markup=False)
        console.print(f"    {cloud_text(row)}", markup=False)


def render_findings(findings: Iterable[Finding], console: Console) -> None:
    """The findings, one a line (the position's and the report's)."""
    header = False
    for f in findings:
        if not header:
            console.print("[bold]Findings[/bold]")
            header = True
        where = f" [{f.source}]" if f.source else ""
        console.print(f"  {f.severity}: {f.code}: {f.message}{where}", markup=False)
