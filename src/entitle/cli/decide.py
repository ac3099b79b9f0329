"""``entitle decide``: the CAL Decision Tool — User, Device or a mix — by questionnaire or from
an estate's evidence, with a growth projection."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from entitle.cli.common import (
    bounded,
    emit,
    err_console,
    fail,
    get_catalog,
    get_estate,
    parse_date,
    to_json,
)

if TYPE_CHECKING:
    from entitle.catalog import Catalog
    from entitle.decide import Prices, Projection
    from entitle.decide.data import DataDecision
    from entitle.decide.questionnaire import Answers, Recommendation
    from entitle.estate.records import Price

# The decision tool, the optimizer and the reports are imported inside the functions that use
# them, so that `entitle --help` and the other commands do not load them.


QUESTIONS = {
    "users": "About how many users (employees and onsite contractors) access your servers?",
    "dedicated": "What percentage of users have devices of their own (not shared) they use to "
    "reach the servers?",
    "devices_per_user": "How many such devices does each of these users have, on average?",
    "shared": "What percentage of users use shared devices (shifts, kiosks, counters)?",
    "shared_devices": "About how many shared devices does your organisation have?",
}


def _decimal(text: str | None, option: str) -> Decimal | None:
    """The number given to ``option``: finite and at most the estate's count limit in size
    (nan, inf and 1e999 are bad input, not a traceback or a runaway projection)."""
    from entitle.estate.convert import MAX_COUNT

    if text is None:
        return None
    try:
        number = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        fail([f"{option} {text!r}: not a number; write e.g. 40 or 2.5"])
    if not number.is_finite():
        fail([f"{option} {text!r}: not a finite number; write e.g. 40 or 2.5"])
    if abs(number) > MAX_COUNT:
        fail([f"{option} {text!r}: too large (at most {MAX_COUNT:,})"])
    return number


def _prices(
    catalog: Catalog,
    product: str,
    estate_prices: tuple[Price, ...],
    user: str | None,
    device: str | None,
) -> Prices:
    from entitle.decide import Prices
    from entitle.optimize.pricing import Pricing

    pricing = Pricing(catalog, estate_prices)
    found_user = pricing.unit(product, "user-cal")
    found_device = pricing.unit(product, "device-cal")
    u = _decimal(user, "--user-price") or (found_user.amount if found_user else None)
    d = _decimal(device, "--device-price") or (found_device.amount if found_device else None)
    if u is None or d is None:
        fail(
            [
                f"--product {product}: no user and device CAL price known; give --user-price and --device-price"
            ]
        )
    return Prices(product, u, d)


def register(app: typer.Typer) -> None:
    @app.command("decide")
    def decide(
        estate: Path | None = typer.Argument(
            None, help="Estate folder or workbook: decide from real evidence (data mode)."
        ),
        users: int | None = typer.Option(None, "--users", help=QUESTIONS["users"]),
        current: str = typer.Option(
            "unknown", "--current", help="CAL type licensed today: user, device, mix or unknown."
        ),
        dedicated: str | None = typer.Option(None, "--dedicated", help=QUESTIONS["dedicated"]),
        devices_per_user: str | None = typer.Option(
            None, "--devices-per-user", help=QUESTIONS["devices_per_user"]
        ),
        count_devices: bool = typer.Option(
            True,
            "--count-devices/--cannot-count-devices",
            help="How well can you count these devices?",
        ),
        device_growth: bool = typer.Option(
            False,
            "--device-growth/--no-device-growth",
            help="Do you expect devices per user to grow over the next 2–3 years?",
        ),
        shared: str | None = typer.Option(None, "--shared", help=QUESTIONS["shared"]),
        shared_devices: int | None = typer.Option(
            None, "--shared-devices", help=QUESTIONS["shared_devices"]
        ),
        interactive: bool = typer.Option(
            False, "--interactive", "-i", help="Ask every question not answered by a flag."
        ),
        product: str | None = typer.Option(
            None,
            "--product",
            help="Whose CALs to price (catalog or prices.csv); default the server OS, Windows "
            "Server.",
        ),
        user_price: str | None = typer.Option(None, "--user-price", help="Price of a user CAL."),
        device_price: str | None = typer.Option(
            None, "--device-price", help="Price of a device CAL."
        ),
        years: int = typer.Option(3, "--years", help="Years to project (1–5)."),
        headcount_growth: str = typer.Option(
            "0", "--headcount-growth", help="Head-count growth, % a year."
        ),
        devices_growth: str = typer.Option(
            "0", "--devices-growth", help="Devices added per user with own devices, a year."
        ),
        shared_growth: str = typer.Option(
            "0", "--shared-growth", help="Growth of shared devices, % a year."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
        html: Path | None = typer.Option(
            None, "--html", help="Write the growth table and chart as an HTML page."
        ),
        as_of: str | None = typer.Option(None, "--as-of", help="Date (data mode), YYYY-MM-DD."),
        catalog_path: Path | None = typer.Option(None, "--catalog", help="Another catalog."),
    ) -> None:
        """Recommend User CALs, Device CALs or a mix, with counts, cost and the reasons.

        The logic is entitle's own, not Microsoft's (Microsoft does not publish the scoring of
        its CAL Decision Tool); it is documented in docs/reports.md.

        Questionnaire: entitle decide --users 50 --dedicated 60 --devices-per-user 3
        --shared 40 --shared-devices 5 --headcount-growth 10

        From evidence: entitle decide examples/sample-estate --years 3 --headcount-growth 5

        Exit status: 0 answered; 2 bad input (every problem printed).
        """
        from entitle.cli.render import terminal
        from entitle.cli.reporting import write_reports_text
        from entitle.decide import Answers, GrowthRates, project_answers, recommend
        from entitle.decide.data import GrowthFailed, decide_from_estate
        from entitle.decide.render import (
            answers_json,
            growth_html,
            projection_json,
            recommendation_json,
        )
        from entitle.estate.convert import MAX_COUNT

        counts = (
            bounded(users, "--users", 1, MAX_COUNT, "people"),
            bounded(shared_devices, "--shared-devices", 0, MAX_COUNT, "devices"),
        )
        if any(counts):
            fail([p for p in counts if p])
        catalog = get_catalog(catalog_path)
        product = product or catalog.roles.server_os
        rates = GrowthRates(
            years,
            (_decimal(headcount_growth, "--headcount-growth") or Decimal(0)) / 100,
            _decimal(devices_growth, "--devices-growth") or Decimal(0),
            (_decimal(shared_growth, "--shared-growth") or Decimal(0)) / 100,
        )
        if rates.problems():
            fail(rates.problems())
        if estate is not None:
            day = parse_date(as_of, "--as-of")
            loaded, _ = get_estate(estate, catalog)
            prices = _prices(catalog, product, loaded.prices, user_price, device_price)
            try:
                result = decide_from_estate(
                    loaded,
                    catalog,
                    day or _today(),
                    prices,
                    growth_expected=device_growth,
                    rates=rates,
                )
            except GrowthFailed as exc:
                fail(exc.problems)
            for text in result.warnings:
                err_console.print(f"warning: {estate}: {text}", markup=False, soft_wrap=True)
            _finish_data(result, prices, as_json, html, loaded.name)
            return
        prices = _prices(catalog, product, (), user_price, device_price)
        answers = _ask(users, dedicated, devices_per_user, shared, shared_devices, interactive)
        answers = Answers(
            answers.users,
            answers.dedicated_share,
            answers.devices_per_user,
            answers.shared_share,
            answers.shared_devices,
            count_devices,
            device_growth,
            current.lower(),
        )
        if answers.problems():
            fail(answers.problems())
        rec = recommend(answers, prices)
        growth = project_answers(answers, prices, rates, rec)
        if html is not None:
            write_reports_text(
                html, growth_html(growth, _currency(catalog), "CAL strategies over time")
            )
        if as_json:
            data = {
                "answers": answers_json(answers),
                **recommendation_json(rec, prices),
                "growth": projection_json(growth),
            }
            emit(to_json(data), None)
            return
        console = terminal()
        _show_recommendation(console, rec, prices)
        _show_growth(console, growth)


def _today() -> date:
    return date.today()


def _currency(catalog: Catalog) -> str:
    return catalog.meta.currency


def _ask(
    users: int | None,
    dedicated: str | None,
    dpu: str | None,
    shared: str | None,
    shared_devices: int | None,
    interactive: bool,
) -> Answers:
    from entitle.decide import Answers

    ask = interactive or sys.stdin.isatty()
    if users is None and ask:
        users = typer.prompt(QUESTIONS["users"], type=int)
    if dedicated is None and ask:
        dedicated = typer.prompt(QUESTIONS["dedicated"] + " (%)", default="0")
    ded = _decimal(dedicated, "--dedicated")
    if dpu is None and ask and ded:
        dpu = typer.prompt(QUESTIONS["devices_per_user"], default="1")
    if shared is None and ask:
        shared = typer.prompt(QUESTIONS["shared"] + " (%)", default="0")
    sh = _decimal(shared, "--shared")
    if shared_devices is None and ask and sh:
        shared_devices = typer.prompt(QUESTIONS["shared_devices"], type=int)
    missing = [
        name
        for name, value in (("--users", users), ("--dedicated", ded), ("--shared", sh))
        if value is None
    ]
    if missing:
        how = "answer by the flag, run with --interactive, or give an ESTATE for data mode"
        fail(
            [
                f"{m}: missing answer: {QUESTIONS[m.strip('-').replace('-', '_')]} ({how})"
                for m in missing
            ]
        )
    return Answers(
        int(users or 0),
        (ded or Decimal(0)) / 100,
        _decimal(dpu, "--devices-per-user") or Decimal(1),
        (sh or Decimal(0)) / 100,
        shared_devices or 0,
    )


def _show_recommendation(console: Console, rec: Recommendation, p: Prices) -> None:
    from entitle.decide.questionnaire import DISCLAIMER
    from entitle.reports.fmt import money

    console.print(f"[bold]CAL Decision Tool[/bold] — {DISCLAIMER}", markup=True)
    console.print(
        f"Recommendation: [bold]{rec.kind}[/bold] — {rec.user_cals:,} user CALs + "
        f"{rec.device_cals:,} device CALs of {p.product}, {money(rec.cost)} "
        f"(user {p.user}, device {p.device})"
    )
    table = Table(header_style="bold")
    for col in ("group", "people", "devices", "choice", "CALs", "as user CALs", "as device CALs"):
        table.add_column(col, justify="left" if col in ("group", "choice") else "right")
    table.add_column("why")
    for g in rec.groups:
        table.add_row(
            g.name,
            f"{g.users:,}",
            f"{g.devices:,}" if g.name != "rest" else "—",
            g.choice,
            f"{g.cals:,}",
            money(g.user_cost),
            money(g.device_cost) if g.name != "rest" else "—",
            g.reason,
        )
    console.print(table)
    for note in rec.considerations[1:]:
        console.print(f"  • {note}", markup=False)


def _show_growth(console: Console, p: Projection) -> None:
    from entitle.reports.fmt import money

    table = Table(
        title="Growth: cost of each strategy per year", title_justify="left", header_style="bold"
    )
    table.add_column("year", justify="right")
    for s in p.strategies:
        table.add_column(s, justify="right")
    table.add_column(p.floor_name, justify="right")
    for y in p.years:
        best = p.cheapest(y)
        table.add_row(
            str(y),
            *[("[green]" if s in best else "") + money(p.cost(s, y)) for s in p.strategies],
            money(p.floor[y]),
        )
    console.print(table)
    top = max([max(c) for c in p.costs] + [max(p.floor)]) or Decimal(1)
    width = 40
    for y in p.years:
        for i, s in enumerate(p.strategies):
            bar = "█" * max(1, int(p.cost(s, y) / top * width))
            head = f"year {y}" if i == 0 else ""
            console.print(f"  {head:>7} {s:<24} {bar} {money(p.cost(s, y))}", markup=False)
    for s in p.strategies:
        console.print(f"  {p.stop_text(s)}", markup=False)
    console.print(f"  {p.floor_text()}", markup=False)
    for note in p.notes:
        console.print(f"  ({note})", markup=False, style="dim")


def _finish_data(
    d: DataDecision, prices: Prices, as_json: bool, html: Path | None, name: str
) -> None:
    from entitle.cli.render import terminal
    from entitle.cli.reporting import write_reports_text
    from entitle.decide.data import OPTIMUM
    from entitle.decide.render import (
        answers_json,
        data_json,
        growth_html,
        projection_json,
        recommendation_json,
    )
    from entitle.reports.fmt import money

    if html is not None and d.growth is not None:
        write_reports_text(html, growth_html(d.growth, "", f"CAL strategies over time: {name}"))
    if as_json:
        data = {
            "answers_from_evidence": answers_json(d.answers),
            "questionnaire": recommendation_json(d.recommendation, prices),
            **data_json(d),
            "growth": projection_json(d.growth) if d.growth else None,
        }
        emit(to_json(data), None)
        return
    console = terminal()
    console.print(
        f"[bold]CAL Decision Tool on {name}[/bold]: the exact optimum beside simple strategies"
    )
    table = Table(header_style="bold")
    for col in (
        "strategy",
        "user licenses",
        "device licenses",
        "list cost",
        "to buy (owned counted)",
        "optimum saves",
    ):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for s in d.strategies:
        table.add_row(
            s.name,
            f"{s.user_cals:,}",
            f"{s.device_cals:,}",
            money(s.list_cost),
            money(s.to_buy),
            "—" if s.name == OPTIMUM else money(d.saving(s.name)),
        )
    console.print(table)
    ev = d.evidence
    console.print(
        f"Evidence: {len(ev.users):,} internal users; {len(ev.dedicated):,} with devices of their "
        f"own ({d.answers.devices_per_user} each on average), {len(ev.shared_users):,} only on "
        f"{len(ev.shared_devices):,} shared devices, {len(ev.rest):,} with no device known; "
        f"devices {'listed' if ev.countable else 'not all listed'} in devices.csv.",
        markup=False,
    )
    console.print()
    _show_recommendation(console, d.recommendation, prices)
    if d.growth is not None:
        console.print()
        _show_growth(console, d.growth)
