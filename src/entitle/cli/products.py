"""``entitle products``: how each product is licensed, which CALs and MLs it needs.

A thin face over :func:`entitle.catalog.search.search_products`: parse the arguments, search the
catalog, then print one Rich block per product (or a JSON list with ``--json``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from entitle.cli.common import SafeConsole

if TYPE_CHECKING:  # the catalog is loaded by the command, not by `entitle --help`
    from entitle.catalog.model import CoreFactor, CoreRule, Limit
    from entitle.catalog.search import ModelLine, ProductLicensing

# One paragraph per line: the help formatter keeps line breaks as written.
HELP = "\n\n".join(
    (
        "Show how products are licensed: models by edition and version, the CALs and MLs they "
        "need, External Connectors, the CAL Suites and bridges that include them, core "
        "minimums, VM rights, limits and indicative prices, each with its source.",
        "QUERY matches product ids, names and aliases (case-insensitive; part of a word is "
        "enough). Without QUERY every product is shown.",
        "Example: entitle products sql",
        "shows that SQL Server is licensed per core (4 per processor, core factor applies) or, "
        "for Standard, Server+CAL with a SQL Server user or device CAL, and that it has no "
        "External Connector. Add --json for a JSON list (prices as exact decimal strings). "
        "Exit status 2 when nothing matches.",
    )
)


def register(app: typer.Typer) -> None:
    @app.command("products", help=HELP)
    def products(
        query: Annotated[
            str | None, typer.Argument(help="Part of a product id, name or alias, e.g. sql.")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print a JSON list instead of tables.")
        ] = False,
    ) -> None:
        from entitle.catalog import CatalogError, default_catalog
        from entitle.catalog.search import search_products, suggest_products

        try:
            catalog = default_catalog()
        except CatalogError as exc:  # a broken shipped catalog: report every problem
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        found = search_products(catalog, query)
        if not found:
            hints = suggest_products(catalog, query or "")
            message = f"entitle products: no product matches {query!r}."
            if hints:
                message += f" Did you mean: {', '.join(hints)}?"
            typer.echo(message + " Run `entitle products` to list every product.", err=True)
            raise typer.Exit(2)
        if as_json:
            typer.echo(json.dumps([p.as_json() for p in found], indent=2, ensure_ascii=False))
            return
        console = SafeConsole(
            highlight=False, markup=False, emoji=False
        )  # catalog text is shown as written
        currency = catalog.meta.currency
        for item in found:
            console.print(render_product(item, currency))


# -- rendering ----------------------------------------------------------------------------------


def _table(title: str, *columns: str) -> Table:
    table = Table(
        title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, expand=True
    )
    for col in columns:
        table.add_column(col, overflow="fold")
    return table


def _bullets(items: list[str]) -> Table:
    """A bulleted list whose long lines (URLs) fold under the text, not under the bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=1)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row("•", item)
    return grid


def render_product(item: ProductLicensing, currency: str) -> Panel:
    """One block: what licenses the product, and who needs which CAL or ML."""
    parts: list[RenderableType] = []
    if item.aliases:
        parts.append(Text(f"Also known as: {', '.join(item.aliases)}"))
    if item.models:
        parts.append(_models_table(item))
    if item.access:
        parts.append(_access_table(item))
    parts.append(Text(f"External Connector: {item.external_connector.describe()}"))
    if item.suite is not None:
        parts.append(_suite_table(item))
    for rule in item.core_rules:
        parts.append(Text(_core_rule_text(rule)))
    if item.core_factors:
        parts.append(_core_factor_table(item.core_factors))
    if item.vm_rights:
        rights = "; ".join(
            f"{ed}: {'unlimited' if n is None else n} OSEs per full licensing of a host"
            for ed, n in item.vm_rights
        )
        parts.append(Text(f"VM rights: {rights}"))
    for lim in item.limits:
        parts.append(Text(_limit_text(lim)))
    if item.prices:
        parts.append(_price_table(item, currency))
    if item.choices:
        parts.append(Text("Choices on open questions", style="bold"))
        parts.append(_bullets([f"{c.about}: {c.text}" for c in item.choices]))
    parts.append(Text("Sources", style="bold"))
    parts.append(_bullets(list(item.sources)))
    title = Text.assemble((item.name, "bold"), f" ({item.id}) · {item.kind}")
    return Panel(Group(*parts), title=title)


def _models_table(item: ProductLicensing) -> Table:
    table = _table(
        "Licensing models", "Editions and versions", "Model", "Server side", "Owner may fix"
    )
    for m in item.models:
        notes = []
        if m.core_rule:
            notes.append(f"{m.core_rule} core rule")
        if m.per_vm_from:
            notes.append(f"per VM from {m.per_vm_from}")
        if m.per_vm_needs_sa_from:
            notes.append(f"per VM needs SA from {m.per_vm_needs_sa_from}")
        if not m.needs_cals and m.model != "management":
            notes.append("no CALs")
        model = " or ".join((m.model, *m.also))
        table.add_row(
            m.scope,
            model + ("\n" + "; ".join(notes) if notes else ""),
            _server_side(m),
            ", ".join(m.allows) or "-",
        )
    return table


def _server_side(m: ModelLine) -> str:
    if m.model == "management":  # the management server itself needs no license (§5)
        return f"{', '.join(m.server_licenses)} per managed server" if m.server_licenses else "-"
    return ", ".join(m.server_licenses) or "-"


def _access_table(item: ProductLicensing) -> Table:
    table = _table("CALs and MLs needed", "License", "Who needs it", "Note", "Included in")
    for a in item.access:
        license = ("" if a.product == item.id else f"{a.product} ") + " or ".join(a.licenses)
        if a.level:
            license += f" ({a.level})"
        who = a.who + (f"; under {'; '.join(a.scopes)}" if a.scopes else "")
        included = ", ".join(i.describe() for i in a.included_in)
        if not included:
            included = "-" if item.kind in ("suite", "subscription") else "no suite"
        table.add_row(license, who, a.note, included)
    return table


def _suite_table(item: ProductLicensing) -> Table:
    table = _table("Suite components", "Component", "Via")
    if item.suite is not None:
        for component, via in item.suite.components:
            table.add_row(component, via or "-")
        if item.suite.bridges:
            table.caption = f"Bridges of this suite: {', '.join(item.suite.bridges)}"
            table.caption_justify = "left"
    return table


def _core_rule_text(rule: CoreRule) -> str:
    per_server = f"{rule.min_per_server} per server" if rule.min_per_server else "no server minimum"
    customer = (
        f"{rule.per_vm_customer_min} per customer"
        if rule.per_vm_customer_min
        else "no customer minimum"
    )
    return (
        f"Core minimums ({rule.id} core rule): {rule.min_per_processor} per processor, "
        f"{per_server}; per VM {rule.per_vm_min}, {customer}; "
        f"core factor {'applies' if rule.core_factor else 'does not apply'}; "
        f"packs of {', '.join(str(s) for s in rule.pack_sizes)} cores"
    )


def _core_factor_table(rows: tuple[CoreFactor, ...]) -> Table:
    table = _table("Core factor (physical cores; first match wins)", "Row", "Processor", "Factor")
    for row in rows:
        cond = []
        if row.pattern:
            cond.append(f"model matches {row.pattern}")
        if row.min_cores is not None and row.min_cores == row.max_cores:
            cond.append(f"{row.min_cores} cores")
        elif row.min_cores is not None:
            cond.append(f"{row.min_cores} or more cores")
        elif row.max_cores is not None:
            cond.append(f"at most {row.max_cores} core" + ("s" if row.max_cores > 1 else ""))
        if row.since:
            cond.append(f"table of {row.since}")
        table.add_row(row.id, ", ".join(cond), str(row.factor))
    table.add_row("-", "any other processor", "1")
    return table


def _limit_text(lim: Limit) -> str:
    caps = [
        f"≤ {value} {label}"
        for value, label in (
            (lim.max_users, "users"),
            (lim.max_devices, "devices"),
            (lim.max_processors, "processors"),
            (lim.max_cores, "cores"),
        )
        if value is not None
    ]
    return f"Limits, {lim.edition} {'/'.join(lim.versions)}: {', '.join(caps)}"


def _price_table(item: ProductLicensing, currency: str) -> Table:
    table = _table(
        f"Indicative prices ({currency} per unit)",
        "License",
        "Edition / level",
        "Version",
        "Price",
        "Confidence",
        "Note",
    )
    table.columns[3].justify = "right"
    for p in item.prices:
        price = f"{p.price:,}" + (f" / {p.period}" if p.period else "")
        table.add_row(
            p.license, p.edition or "-", p.version or "-", price, p.confidence, p.note or ""
        )
    return table
