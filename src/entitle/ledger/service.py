"""The ledger's transactions: open it, initialise it, import into it.

Every write runs in one transaction that first locks the audit chain's tip
(:func:`entitle.ledger.audit.lock`), then checks, then writes the rows and their audit events
together: all of it lands or none of it does (a killed process leaves the ledger as it was).
Refusals and bad input come back as values; exceptions are for system failures.
Imports the ledger's own modules, entitle.source and entitle.estate.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from entitle.faults import fault_point
from entitle.ledger import audit, crypto, db, keys
from entitle.ledger.importing import Candidate
from entitle.ledger.models import Agreement, Assignment, EntitlementRow
from entitle.source import Problem

LEDGER_COLUMNS = frozenset({"sa_start", "product_key", "key_kind"})
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Ledger:
    """An open ledger: where it is, who acts, and the product-key cipher if this user is an
    editor (holds the key)."""

    url: str
    engine: Engine
    actor: str
    fernet: Fernet | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command did, or why it was refused (``ok`` false; ``allowed_from`` when waiting
    would help)."""

    ok: bool
    message: str
    allowed_from: date | None = None
    problems: tuple[Problem, ...] = field(default=())
    unreachable: bool = False  # the database could not be opened (a system failure, not input)


def default_actor(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if env.get("ENTITLE_USER"):
        return env["ENTITLE_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def today() -> date:
    return datetime.now(UTC).date()


def connect(url: str, actor: str, env: Mapping[str, str] | None = None) -> Ledger:
    """Open an existing ledger. Raises :class:`NotReady` when it needs ``entitle ledger init``."""
    path = db.sqlite_path(url)
    if path is not None and not path.exists():
        raise NotReady(f"{path}: no ledger there; run `entitle ledger init` first")
    engine = db.open_engine(url)
    try:
        current = db.current_revision(engine)
    except OperationalError as error:
        engine.dispose()
        message = f"cannot open the ledger at {_shown(url)}: {_reason(error)}{_read_only(path)}"
        raise Unreachable(message) from error
    if current != db.head_revision():
        engine.dispose()
        state = "has no ledger" if current is None else f"is at schema {current}"
        raise NotReady(f"{_shown(url)} {state}; run `entitle ledger init` first")
    return Ledger(url, engine, actor, crypto.load_key(db.sqlite_path(url), env))


class NotReady(Exception):
    """The database holds no ledger (or an older schema): run ``entitle ledger init``."""


class Unreachable(NotReady):
    """The database could not be opened at all (down, refused, unreadable file)."""


def _read_only(path: Path | None) -> str:
    """A hint when an SQLite ledger's folder is on a read-only file system."""
    if path is None:
        return ""
    try:
        read_only = bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return ""
    if not read_only:
        return ""
    return (
        " (its folder is on a read-only file system, and SQLite must write beside the ledger "
        "even to read it: copy the ledger somewhere writable)"
    )


def _reason(error: OperationalError) -> str:
    """The driver's message on one line (psycopg's runs over several)."""
    return " ".join(str(error.orig).split())


def _shown(url: str) -> str:
    path = db.sqlite_path(url)
    return str(path) if path is not None else url.split("@")[-1]


def init(url: str, actor: str, env: Mapping[str, str] | None = None) -> Outcome:
    """Create or upgrade the ledger to the newest schema; create the key file beside an SQLite
    ledger (unless ``ENTITLE_KEY`` is set). Running it again changes nothing."""
    env = os.environ if env is None else env
    path = db.sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = db.open_engine(url)
    try:
        try:
            before = db.current_revision(engine)
        except OperationalError as error:
            return Outcome(False, f"cannot open {_shown(url)}: {_reason(error)}", unreachable=True)
        db.upgrade(engine)
        notes = []
        if before is None:
            ledger = Ledger(url, engine, actor)
            with write(ledger) as chain:
                chain.append("ledger.init", "ledger", None, {"schema": db.head_revision()})
            notes.append(f"created the ledger at {_shown(url)}")
        elif before != db.head_revision():
            notes.append(f"upgraded {_shown(url)} from schema {before} to {db.head_revision()}")
        else:
            notes.append(f"{_shown(url)} is already a ledger at the newest schema")
        make_key = path is not None and not env.get("ENTITLE_KEY")
        if path is not None and make_key and (created := crypto.create_key_file(path)):
            notes.append(f"product keys will be encrypted with the key in {created} (mode 0600)")
        return Outcome(True, "; ".join(notes))
    finally:
        engine.dispose()


@contextmanager
def write(ledger: Ledger) -> Iterator[audit.Chain]:
    """One write transaction holding the chain's lock. Leaving the block commits; an exception
    rolls everything back."""
    with Session(db.writer(ledger.engine), expire_on_commit=False) as session, session.begin():
        chain = audit.lock(session, ledger.actor)
        fault_point("ledger.locked")
        yield chain
        session.flush()
        fault_point("ledger.flushed")  # every row sent, not committed
    fault_point("ledger.committed")


# -- import -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    unchanged: int
    problems: tuple[Problem, ...] = ()


def import_candidates(
    ledger: Ledger,
    candidates: Sequence[Candidate],
    progress: Progress | None = None,
    every: int = 200,
) -> ImportReport:
    """Add the candidates not in the ledger yet, in one transaction. A candidate whose id is
    taken by different content is a problem, and then nothing is added."""
    leaked = [problem for c in candidates if (problem := _key_outside(c)) is not None]
    if leaked:
        return ImportReport(0, 0, tuple(leaked))
    if any(c.product_key for c in candidates) and ledger.fernet is None:
        first = next(c for c in candidates if c.product_key)
        hint = "set ENTITLE_KEY (or run entitle ledger init beside an SQLite ledger)"
        return ImportReport(
            0,
            0,
            (
                Problem(
                    first.entitlement.source,
                    "a product key needs the ledger's encryption key, which you do not hold",
                    hint,
                ),
            ),
        )
    with write(ledger) as chain:
        session = chain.session
        by_ref = {row.ref: row for row in _known(session, candidates)}
        hashes = {row.content_hash for row in by_ref.values()}
        problems: list[Problem] = []
        new: list[Candidate] = []
        for c in candidates:
            if c.content_hash in hashes:
                continue
            held = by_ref.get(c.ref)
            if held is not None:
                problems.append(
                    Problem(
                        c.entitlement.source,
                        f"id {c.ref} is already in the ledger with other content ({held.source})",
                        "the ledger never overwrites history: retire the old "
                        "entitlement and import this one under a new id",
                    )
                )
                continue
            new.append(c)
        if problems:
            return ImportReport(0, 0, tuple(problems))
        numbers = {c.entitlement.agreement for c in new if c.entitlement.agreement}
        agreements = (
            {
                a.number: a
                for a in session.execute(
                    select(Agreement).where(Agreement.number.in_(sorted(numbers)))
                ).scalars()
            }
            if numbers  # none named (a web purchase, mostly): no round trip for an empty IN
            else {}
        )
        for number in sorted({c.entitlement.agreement for c in new if c.entitlement.agreement}):
            if number not in agreements:
                agreements[number] = Agreement(number=number)
                session.add(agreements[number])
                chain.record("agreement.create", agreements[number])
        for done in range(0, len(new), every):
            _add_batch(chain, new[done : done + every], agreements, ledger.fernet)
            if progress is not None:
                progress(min(done + every, len(new)), len(new))
        return ImportReport(len(new), len(candidates) - len(new))


FEW = 400
"""Up to this many candidates (twice as many parameters, under SQLite's oldest limit of 999),
only the rows they could collide with are read (by id and by
content hash, both unique and indexed); a larger import reads the whole table once."""


def _known(session: Session, candidates: Sequence[Candidate]) -> list[EntitlementRow]:
    """The ledger's entitlements that share an id or a content hash with a candidate: a purchase
    made on the web reads one or two rows, not every entitlement the ledger holds."""
    if len(candidates) > FEW:
        return list(session.execute(select(EntitlementRow)).scalars())
    refs = sorted({c.ref for c in candidates})
    digests = sorted({c.content_hash for c in candidates})
    found = select(EntitlementRow).where(
        or_(EntitlementRow.ref.in_(refs), EntitlementRow.content_hash.in_(digests))
    )
    return list(session.execute(found).scalars())


def _add_batch(
    chain: audit.Chain,
    batch: Sequence[Candidate],
    agreements: dict[str, Agreement],
    fernet: Fernet | None,
) -> None:
    """Insert a batch of entitlements (and their first assignments) with one flush each, then
    one audit event per row, in file order."""
    rows = [_row(c, agreements, fernet) for c in batch]
    chain.session.add_all(rows)
    chain.session.flush()
    held = []
    for c, row in zip(batch, rows, strict=True):
        chain.append("entitlement.import", audit.entity_of(row), None, audit.row_state(row))
        e = c.entitlement
        if e.assigned_to:
            start = e.purchased or today()
            held.append(
                Assignment(
                    entitlement_id=row.id,
                    quantity=e.quantity,
                    holder_kind="host",
                    holder=e.assigned_to,
                    start=start,
                    clock=start,  # the 90-day rule counts from the first assignment (§1.7)
                    temporary=False,
                )
            )
    if held:
        chain.session.add_all(held)
        chain.session.flush()
        for a in held:
            chain.append("assignment.create", audit.entity_of(a), None, audit.row_state(a))


def _key_outside(c: Candidate) -> Problem | None:
    """A problem when a product key would be written anywhere but the encrypted column (the
    importer takes keys out of every cell; this is the last check, for other callers)."""
    e = c.entitlement
    fields = {
        "id": e.id,
        "product": e.product,
        "license": e.license,
        "edition": e.edition,
        "version": e.version,
        "assigned_to": e.assigned_to,
        "agreement": e.agreement,
        **{k: v for k, v in e.extra.items() if k not in LEDGER_COLUMNS},
    }
    found = keys.leaks(fields)
    if not found:
        return None
    return Problem(
        e.source,
        f"{', '.join(found)} holds what looks like a product key (five groups of five); the "
        "ledger keeps keys only encrypted",
        "put the key in product_key",
    )


def _row(c: Candidate, agreements: dict[str, Agreement], fernet: Fernet | None) -> EntitlementRow:
    e = c.entitlement
    extra = {k: v for k, v in e.extra.items() if k not in LEDGER_COLUMNS}
    return EntitlementRow(
        ref=c.ref,
        product=e.product,
        license=e.license,
        edition=e.edition,
        version=e.version,
        quantity=e.quantity,
        purchased=e.purchased,
        unit_price=None if e.unit_price is None else str(e.unit_price),
        sa_start=c.sa_start,
        sa_end=e.sa_until,
        agreement_id=agreements[e.agreement].id if e.agreement else None,
        product_key=crypto.encrypt(fernet, c.product_key) if c.product_key and fernet else None,
        key_kind=c.key_kind,
        content_hash=c.content_hash,
        source=str(e.source)[:300],
        extra=json.dumps(extra, sort_keys=True) if extra else None,
    )
