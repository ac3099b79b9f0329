"""``entitle ledger …``: the license ledger's commands, a thin face over :mod:`entitle.ledger`.

Bad input prints ``FILE:LINE: message`` and exits 2 with nothing written; a move the rules
refuse prints why and from when it is allowed, and exits 1; ``verify`` exits 1 on tampering; a
database that cannot be opened or written (down, read-only, full) is one line and exit 3.
Imports of entitle.ledger beyond its pure ``rules`` are made inside the commands.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from entitle.cli.common import SYSTEM_FAILURE, emit, fail, get_catalog, parse_date, to_json
from entitle.cli.ledger_render import render_history, render_list
from entitle.estate.records import Entitlement
from entitle.ledger import rules

if TYPE_CHECKING:
    from entitle.ledger import service

# The rest of entitle.ledger (SQLAlchemy, Alembic, cryptography) is imported inside the commands
# that use it, so that `entitle position` and friends do not pay a second to load it.

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="ENTITLE_DB",
        help="Ledger: an SQLite file or a "
        "postgresql://user@host/db URL (default: entitle.db here).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
OnOption = Annotated[
    str | None, typer.Option("--on", help="Day of the change (YYYY-MM-DD); default today.")
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Show the ledger as it stood on this day (YYYY-MM-DD); default today."
    ),
]

ledger_app = typer.Typer(
    name="ledger",
    help="Track licenses: agreements, entitlements, assignments, the 90-day rule, an audit trail.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


def _open(db_text: str | None) -> service.Ledger:
    from entitle.ledger import crypto, db, service

    url = db.resolve_url(db_text)
    try:
        return service.connect(url, service.default_actor())
    except service.NotReady as error:
        fail([str(error)], SYSTEM_FAILURE if isinstance(error, service.Unreachable) else 2)
    except crypto.KeyProblem as error:
        fail([str(error)])


def ledger_entitlements(db_text: str, day: date | None) -> tuple[Entitlement, ...]:
    """The ledger's entitlements on ``day`` (default today), for ``entitle position --db``."""
    from entitle.ledger import query, service

    try:
        return query.entitlements_on(db_text, day or service.today())
    except service.NotReady as error:
        fail([str(error)], SYSTEM_FAILURE if isinstance(error, service.Unreachable) else 2)


def _day(text: str | None, option: str) -> date:
    return parse_date(text, option) or datetime.now(UTC).date()


def _holder(text: str | None, option: str) -> tuple[str, str] | None:
    if text is None:
        return None
    kind, _, name = text.partition(":")
    if kind not in rules.HOLDER_KINDS or not name:
        fail(
            [
                f"{option} {text!r}: write KIND:NAME with KIND one of "
                f"{', '.join(rules.HOLDER_KINDS)}, e.g. host:hv01 or user:ann"
            ]
        )
    return kind, name


def _done(outcome: service.Outcome, as_json: bool) -> None:
    if as_json:
        emit(
            to_json(
                {"ok": outcome.ok, "message": outcome.message, "allowed_from": outcome.allowed_from}
            ),
            None,
        )
    elif outcome.ok:
        print(outcome.message)
    if not outcome.ok:
        if not as_json:
            fail([outcome.message], code=1)
        raise typer.Exit(1)


@ledger_app.command("init")
def init_cmd(db_text: DbOption = None) -> None:
    """Create the ledger (or upgrade it to the newest schema). Safe to run again.

    Example: entitle ledger init --db entitle.db
    """
    from entitle.ledger import db, service

    outcome = service.init(db.resolve_url(db_text), service.default_actor())
    if not outcome.ok:
        fail([outcome.message], SYSTEM_FAILURE if outcome.unreachable else 2)
    print(outcome.message)


@ledger_app.command("import")
def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="entitlements.csv, a workbook, or an MLS entitlement summary (.csv or .xlsx)."
        ),
    ],
    db_text: DbOption = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="Rename a column: 'Their Header=our header' (repeatable)."),
    ] = None,
    agreement: Annotated[
        str | None, typer.Option("--agreement", help="Agreement number for rows that name none.")
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress", help="Report progress on standard error.")
    ] = False,
    catalog_path: Annotated[Path | None, typer.Option("--catalog")] = None,
    as_json: JsonOption = False,
) -> None:
    """Import entitlements; importing the same file twice adds nothing. All or nothing: a file
    with a bad row imports no row, and every bad row is reported.

    Example: entitle ledger import entitlements.csv --agreement EA-4711
    """
    from entitle.ledger import service
    from entitle.ledger.importing import read_file

    pairs: dict[str, str] = {}
    for item in mapping or []:
        theirs, sep, ours = item.partition("=")
        if not sep or not theirs.strip() or not ours.strip():
            fail([f"--map {item!r}: write 'Their Header=our header'"])
        pairs[theirs] = ours
    candidates, problems = read_file(file, get_catalog(catalog_path), pairs, agreement)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        fail(errors)
    ledger = _open(db_text)

    def report(done: int, total: int) -> None:
        print(f"imported {done}/{total}", file=sys.stderr, flush=True)

    result = service.import_candidates(ledger, candidates, report if progress else None)
    if result.problems:
        fail(list(result.problems))
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    if as_json:
        emit(
            to_json(
                {
                    "added": result.added,
                    "unchanged": result.unchanged,
                    "warnings": [str(p) for p in problems],
                }
            ),
            None,
        )
    else:
        print(
            f"{file.name}: added {result.added} entitlements, {result.unchanged} already in "
            "the ledger"
        )


@ledger_app.command("list")
def list_cmd(
    db_text: DbOption = None,
    as_of: AsOfOption = None,
    show_keys: Annotated[
        bool,
        typer.Option(
            "--show-keys", help="Show product keys (editors only: needs the ledger's key)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """What is owned, retired, held by whom and free, on a day.

    Example: entitle ledger list --as-of 2025-06-30 --json
    """
    from entitle.ledger import crypto, query

    ledger = _open(db_text)
    if show_keys and ledger.fernet is None:
        fail(
            [
                "--show-keys: only editors see product keys, and you do not hold the ledger's key "
                "(ENTITLE_KEY, or the .key file beside an SQLite ledger)"
            ]
        )
    try:
        items = query.listing(
            ledger.engine, _day(as_of, "--as-of"), ledger.fernet if show_keys else None
        )
    except crypto.KeyProblem as error:
        fail([str(error)])
    if as_json:
        emit(to_json(items), None)
        return
    render_list(items, show_keys, Console(width=200, emoji=False))


@ledger_app.command("assign")
def assign_cmd(
    entitlement: Annotated[str, typer.Argument(help="Entitlement id (see ledger list).")],
    to: Annotated[
        str, typer.Option("--to", help="Holder: user:NAME, device:NAME, host:NAME or ose:NAME.")
    ],
    quantity: Annotated[int, typer.Option("--quantity", "-n", help="License units.")] = 1,
    on: OnOption = None,
    db_text: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assign free units of an entitlement to a user, device, host or OSE.

    Example: entitle ledger assign WS-2022-01 --to host:hv01 -n 16 --on 2025-01-15
    """
    from entitle.ledger import moves

    holder = _holder(to, "--to")
    if holder is None:
        fail(["--to is required"])
    _done(moves.assign(_open(db_text), entitlement, holder, quantity, _day(on, "--on")), as_json)


@ledger_app.command("reassign")
def reassign_cmd(
    entitlement: Annotated[str, typer.Argument(help="Entitlement id.")],
    source: Annotated[str, typer.Option("--from", help="Current holder, e.g. host:hv01.")],
    to: Annotated[
        str | None, typer.Option("--to", help="New holder (not needed with --reason return).")
    ] = None,
    quantity: Annotated[
        int | None,
        typer.Option("--quantity", "-n", help="Units to move (default: all the holder has)."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", help="An exception to the 90-day rule: " + ", ".join(rules.REASONS) + "."
        ),
    ] = None,
    on: OnOption = None,
    db_text: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move units to another holder, under the 90-day rule (§1.7, §7.1) or an exception.

    Example: entitle ledger reassign CAL-7 --from user:ann --to user:bob --reason absence
    """
    from entitle.ledger import moves

    if reason is not None and reason not in rules.REASONS:
        fail([f"--reason {reason!r}: write one of {', '.join(rules.REASONS)}"])
    start = _holder(source, "--from")
    if start is None:
        fail(["--from is required"])
    outcome = moves.reassign(
        _open(db_text), entitlement, start, _holder(to, "--to"), quantity, _day(on, "--on"), reason
    )
    _done(outcome, as_json)


@ledger_app.command("retire")
def retire_cmd(
    entitlement: Annotated[str, typer.Argument(help="Entitlement id.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why the units leave (sold, expired subscription, ...).")
    ],
    quantity: Annotated[
        int | None,
        typer.Option("--quantity", "-n", help="Units to retire (default: all not yet retired)."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from", help="Holder whose units are retired when free units do not suffice."
        ),
    ] = None,
    on: OnOption = None,
    db_text: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Retire units: they count as owned through the day given, not after.

    Example: entitle ledger retire SQL-2016-03 --reason "sold with the old cluster" --on 2025-03-31
    """
    from entitle.ledger import moves

    outcome = moves.retire(
        _open(db_text), entitlement, quantity, _day(on, "--on"), reason, _holder(source, "--from")
    )
    _done(outcome, as_json)


@ledger_app.command("history")
def history_cmd(
    entitlement: Annotated[str | None, typer.Argument(help="Only this entitlement.")] = None,
    db_text: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The audit trail: who changed what, when (UTC), before and after.

    Example: entitle ledger history WS-2022-01
    """
    from entitle.ledger import query

    events = query.history(_open(db_text).engine, entitlement)
    if events is None:
        fail([f"no entitlement {entitlement} in the ledger"])
    if as_json:
        emit(to_json(events), None)
        return
    render_history(events)


@ledger_app.command("verify")
def verify_cmd(db_text: DbOption = None, as_json: JsonOption = False) -> None:
    """Recompute the audit chain; name the first event altered or removed. Exit 1 if any.
    The head hash printed can be noted elsewhere to anchor the chain.

    Example: entitle ledger verify --db postgresql://ledger@db.example/entitle
    """
    from entitle.ledger import audit

    count, head, found = audit.verify_engine(_open(db_text).engine)
    if as_json:
        problems = [{"event": t.seq, "message": t.message} for t in found]
        emit(to_json({"ok": not found, "events": count, "head": head, "problems": problems}), None)
    elif not found:
        print(
            f"ok: {count} events, the chain is intact and every row matches its last event; "
            f"head {head}"
        )
    else:
        for t in found:
            print(f"tampered: {t}", file=sys.stderr)
    if found:
        raise typer.Exit(1)


@ledger_app.command("export")
def export_cmd(
    db_text: DbOption = None,
    as_of: AsOfOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to FILE (atomically) instead of standard output."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The spec's entitlements.csv as the ledger stood on a day (assigned_to from the
    assignments to hosts and OSEs then); --json gives the full listing instead.

    Example: entitle ledger export --as-of 2025-12-31 -o estate/entitlements.csv
    """
    from entitle.ledger import query

    ledger = _open(db_text)
    day = _day(as_of, "--as-of")
    text = (
        to_json(query.listing(ledger.engine, day))
        if as_json
        else query.export_csv(ledger.engine, day)
    )
    emit(text, out)
