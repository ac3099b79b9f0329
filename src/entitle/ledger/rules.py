"""The reassignment rules, as pure functions: no database, no clock, no I/O.

Product Terms, Universal License Terms (licensing-rules.md §1.7 for CALs, §7.1 for server
licenses): a license may be reassigned no sooner than 90 days after its last reassignment,
except

* permanent hardware failure or loss (of the device or server that holds it);
* termination of the user's employment or contract (of the user who holds it);
* *temporary* reallocation of CALs, client management licenses and user/device SLs to cover a
  user's absence or a device that is out of service — the units go back later;
* and, for server licenses, License Mobility within a server farm (§7.1): licenses of server
  applications with active Software Assurance (or subscription), and External Connectors, may
  move within one farm as often as needed; Windows Server licensed by physical cores may not.
  The ledger does not know farms: the reason asserts that the move stays in one.

Our reading, stated once here (docs/rules/reassignment.md): the clock counts from the last
*assignment*, the first one included — the Product Terms forbid reassigning "on a short-term
basis (i.e. not within 90 days of the last assignment)", so units assigned on day 0 may move on
day 90, not before; permanent moves, exceptions included, restart the clock; a temporary
reallocation and its return neither wait for nor restart it (the older PUR called those
"temporary", all others "permanent" reassignments, §1.7); units on temporary loan move only back
to the holder they came from. The rule is counted in calendar days (``date`` arithmetic), so
leap days count as days. Imports nothing of entitle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

WAIT = timedelta(days=90)
HARDWARE, EMPLOYMENT = "hardware-failure", "end-of-employment"
ABSENCE, OUT_OF_SERVICE, RETURN = "absence", "out-of-service", "return"
MOBILITY = "license-mobility"
EXCEPTIONS = (HARDWARE, EMPLOYMENT, ABSENCE, OUT_OF_SERVICE, MOBILITY)
REASONS = (*EXCEPTIONS, RETURN)
HOLDER_KINDS = ("user", "device", "host", "ose")
# Kinds that the temporary-reallocation exception covers (§1.7): CALs, client MLs, SLs.
TEMPORARY_KINDS = frozenset(
    {"user-cal", "device-cal", "client-ml-user", "client-ml-ose", "user-sl"}
)
SERVER_KINDS = frozenset({"core", "server", "instance", "external-connector", "server-ml"})
# Who may hold a license unit of each kind.
HOLDERS: dict[str, tuple[str, ...]] = {
    "user-cal": ("user",),
    "client-ml-user": ("user",),
    "user-sl": ("user",),
    "device-cal": ("device",),
    "client-ml-ose": ("device", "ose"),
    "core": ("host", "ose"),
    "server": ("host", "ose"),
    "instance": ("host", "ose"),
    "external-connector": ("host", "ose"),
    "server-ml": ("host", "ose"),
}


@dataclass(frozen=True, slots=True)
class Holding:
    """Units of one entitlement held by one holder since ``since``. ``clock``: the day of their
    last assignment — the first one or the last permanent reassignment (``None``: unknown, no
    wait). ``lent_by``: the holder they go back to when on temporary reallocation."""

    quantity: int
    holder: tuple[str, str]
    since: date
    clock: date | None = None
    lent_by: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a move may happen. When refused, ``message`` says why and ``allowed_from`` when
    it becomes allowed (``None``: not by waiting)."""

    allowed: bool
    message: str = ""
    allowed_from: date | None = None
    permanent: bool = True  # a permanent move restarts the 90-day clock
    temporary: bool = False  # the new holder has the units on loan


def holder_problem(license: str, kind: str) -> str | None:
    """Why a unit of ``license`` cannot be held by a ``kind``, or ``None``."""
    allowed = HOLDERS.get(license)
    if allowed is None or kind in allowed:
        return None
    return f"a {license} license is assigned to a {' or '.join(allowed)}, not to a {kind}"


def next_allowed(clock: date | None) -> date | None:
    """The first day units last assigned (or permanently reassigned) on ``clock`` may move
    again: ``clock`` is day 0, days 1–89 are "within 90 days", day 90 is the first allowed."""
    return None if clock is None else clock + WAIT


def judge(
    license: str,
    held: Holding,
    to: tuple[str, str],
    day: date,
    reason: str | None,
    *,
    product: str = "",
    sa_until: date | None = None,
    server_os: str = "",
) -> Verdict:
    """May ``held`` move to ``to`` on ``day`` for ``reason`` (``None``: an ordinary move)?
    ``product``, ``sa_until`` (end of Software Assurance) and ``server_os`` (the catalog's
    ``roles.server_os``, whose core licenses never move under it) matter to License Mobility
    only."""
    kind, name = held.holder
    if day < held.since:
        return Verdict(False, f"{day} is before {kind} {name} got these units ({held.since})")
    if to == held.holder:
        return Verdict(False, f"the units are already held by {kind} {name}")
    if held.lent_by is not None:
        lender = f"{held.lent_by[0]} {held.lent_by[1]}"
        if reason != RETURN:
            return Verdict(
                False,
                f"these units are on temporary reallocation from {lender} "
                f"since {held.since}; return them first (--reason return)",
            )
        if to != held.lent_by:
            return Verdict(False, f"units on temporary reallocation go back to {lender}")
        return Verdict(True, f"returned to {lender} after temporary reallocation", permanent=False)
    if reason == RETURN:
        return Verdict(False, f"the units held by {kind} {name} are not on temporary reallocation")
    if reason in (ABSENCE, OUT_OF_SERVICE):
        return _temporary(license, held, reason)
    if reason == MOBILITY:
        return _mobility(license, product, sa_until, day, server_os)
    if reason == HARDWARE:
        if kind == "user":
            return Verdict(
                False,
                f"hardware failure frees licenses held by a device or server, not by user {name}",
            )
        return Verdict(True, f"permanent hardware failure or loss of {kind} {name}")
    if reason == EMPLOYMENT:
        if kind != "user":
            return Verdict(
                False, f"end of employment frees licenses held by a user, not by {kind} {name}"
            )
        return Verdict(True, f"end of employment or contract of user {name}")
    allowed_from = next_allowed(held.clock)
    if allowed_from is None or day >= allowed_from:
        return Verdict(True, "")
    wait = (allowed_from - day).days
    return Verdict(
        False,
        f"{license} units held by {kind} {name} were last assigned on {held.clock}; the 90-day "
        f"rule (§1.7, §7.1) allows the next reassignment from {allowed_from} ({wait} "
        f"day{'s' if wait != 1 else ''} later), unless it is for permanent hardware failure, "
        "end of employment or a temporary reallocation",
        allowed_from,
    )


def _mobility(
    license: str, product: str, sa_until: date | None, day: date, server_os: str
) -> Verdict:
    """§7.1: within a server farm, as often as needed; the move still restarts the clock, so a
    later move out of the farm waits 90 days from the last move (our cautious reading)."""
    if license not in SERVER_KINDS:
        return Verdict(
            False,
            f"License Mobility within a server farm is for server licenses, not {license} (§7.1)",
        )
    if license == "external-connector":
        return Verdict(True, "License Mobility within a server farm (External Connector)")
    if product == server_os and license == "core":
        return Verdict(
            False,
            f"the server OS ({product}) licensed by physical cores is not eligible for License "
            "Mobility (§7.1)",
        )
    if sa_until is None or sa_until < day:
        ended = "has no Software Assurance" if sa_until is None else f"SA ended {sa_until}"
        return Verdict(
            False,
            f"License Mobility needs active Software Assurance or a "
            f"subscription on {day}; this entitlement {ended} (§7.1)",
        )
    return Verdict(True, f"License Mobility within a server farm (SA until {sa_until})")


def _temporary(license: str, held: Holding, reason: str) -> Verdict:
    kind, name = held.holder
    if license not in TEMPORARY_KINDS:
        return Verdict(
            False,
            f"temporary reallocation covers CALs, client MLs and SLs (§1.7), "
            f"not {license} licenses (§7.1 allows only hardware failure)",
        )
    if reason == ABSENCE and kind != "user":
        return Verdict(False, f"an absence is a user's; the units are held by {kind} {name}")
    if reason == OUT_OF_SERVICE and kind == "user":
        return Verdict(
            False, f"out of service is said of a device; the units are held by user {name}"
        )
    why = "absence of user" if reason == ABSENCE else f"{kind} out of service:"
    return Verdict(
        True, f"temporary reallocation for {why} {name}", permanent=False, temporary=True
    )


@dataclass(frozen=True, slots=True)
class Pick:
    """Which holdings a move takes units from (``taken``: holding index and units), or the
    verdict that refuses it."""

    verdict: Verdict
    taken: tuple[tuple[int, int], ...] = ()


def pick(
    license: str,
    holdings: Sequence[Holding],
    quantity: int,
    to: tuple[str, str],
    day: date,
    reason: str | None,
    *,
    product: str = "",
    sa_until: date | None = None,
    server_os: str = "",
) -> Pick:
    """Take ``quantity`` units from one holder's holdings, those free to move first (own units
    for a move, units on loan for a return; never reassigned, then the longest ago). Refused
    when too few units may move; the refusal names the day more of them may."""
    held = sum(h.quantity for h in holdings)
    if held < quantity:
        return Pick(Verdict(False, f"only {held} units are held there, {quantity} asked"))

    def rank(i: int) -> tuple[bool, date, int]:
        fits = (holdings[i].lent_by is not None) == (reason == RETURN)
        return not fits, holdings[i].clock or date.min, i

    order = sorted(range(len(holdings)), key=rank)
    taken: list[tuple[int, int]] = []
    verdict = Verdict(True)
    left = quantity
    for index in order:
        if left == 0:
            break
        verdict = judge(
            license,
            holdings[index],
            to,
            day,
            reason,
            product=product,
            sa_until=sa_until,
            server_os=server_os,
        )
        if not verdict.allowed:
            return Pick(verdict)
        units = min(left, holdings[index].quantity)
        taken.append((index, units))
        left -= units
    return Pick(verdict, tuple(taken))
