"""Where a VM counts, and which owned licenses have Software Assurance on the day of the position
(licensing-rules.md §3.1, §3.2, §3.5, §7.1–§7.3; docs/rules/software-assurance-and-vm-history.md).

- A VM *may run* on the hosts ``oses.csv`` ``hosts`` names (its current host always included),
  else on every host of its host's cluster, else on its host alone.
- A license without License Mobility stays on its server for ``reassignment_days`` (90) after
  its last assignment: a VM that left a host fewer than 90 days before the as-of date
  (``placements.csv``) still counts there (left 89 days before: counts; 90: no longer).
- A license with License Mobility (catalog ``sa_rights.mobility``, active SA on the day) follows
  the VM: it is counted once, where the VM runs, and must be covered by licenses with SA active on
  the as-of date (``Need.sa_required``). :class:`SaStock` holds how many such units are owned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from entitle.catalog.model import Catalog
from entitle.catalog.sarights import DEFAULT, SaRights
from entitle.estate.records import Entitlement, Ose, Software
from entitle.rules.demand import Need, Option
from entitle.rules.index import EstateIndex
from entitle.source import Finding


def sa_rights(catalog: Catalog) -> SaRights:
    """The catalog's SA rights (the Product Terms' defaults for a catalog without the table)."""
    return catalog.sa_rights or DEFAULT


def sa_active(e: Entitlement, as_of: date) -> bool:
    """``e`` has Software Assurance (or is a subscription) on ``as_of``: ``sa_until`` on or
    after that day."""
    return e.sa_until is not None and e.sa_until >= as_of


@dataclass(frozen=True, slots=True)
class Places:
    """Where each VM may run and where it ran recently, on one as-of date."""

    as_of: date
    days: int
    may_run: dict[str, tuple[str, ...]]
    left: dict[str, dict[str, date]]  # VM → host it left fewer than ``days`` ago → day it left

    @classmethod
    def build(cls, idx: EstateIndex, catalog: Catalog, as_of: date) -> Places:
        days = sa_rights(catalog).reassignment_days
        may_run: dict[str, tuple[str, ...]] = {}
        for ose in idx.estate.oses:
            if not ose.virtual:
                continue
            if ose.hosts:
                others = set(ose.hosts) - {ose.host}
            else:
                others = set(idx.mobility_hosts(ose.host)) - {ose.host}
            may_run[ose.ose] = (ose.host, *sorted(others))
        left: dict[str, dict[str, date]] = defaultdict(dict)
        for p in idx.estate.placements:
            if p.since > as_of:
                continue  # not there yet on the day of the position
            gone = p.until if p.until is not None and p.until <= as_of else as_of
            if (as_of - gone).days < days:
                seen = left[p.ose].get(p.host)
                left[p.ose][p.host] = gone if seen is None else max(seen, gone)
        return cls(as_of, days, may_run, dict(left))

    def hosts(self, ose: Ose, mobile: bool) -> tuple[str, ...]:
        """The hosts ``ose`` counts on: where it may run, plus — for a license that cannot follow
        it (``mobile`` False) — every host it left fewer than ``days`` days ago."""
        if not ose.virtual:
            return (ose.host,)
        hosts = self.may_run.get(ose.ose, (ose.host,))
        if mobile:
            return hosts
        extra = sorted(set(self.left.get(ose.ose, {})) - set(hosts))
        return (*hosts, *extra)

    def history(self, ose_id: str, host: str) -> date | None:
        """The day ``ose_id`` left ``host`` when that still counts (None: it did not, or it may
        run there anyway)."""
        if host in self.may_run.get(ose_id, ()):
            return None
        return self.left.get(ose_id, {}).get(host)

    def findings(self, idx: EstateIndex) -> list[Finding]:
        """One info per VM and host it left fewer than ``days`` days ago (where it may no longer
        run): licenses without License Mobility still count it there."""
        out = []
        for ose_id in sorted(self.left):
            ose = idx.oses.get(ose_id)
            if ose is None or ose.environment != "production":
                continue
            for host in sorted(self.left[ose_id]):
                gone = self.history(ose_id, host)
                if gone is None:
                    continue
                out.append(
                    Finding(
                        "info",
                        "vm-history",
                        f"{ose_id} left {host} on {gone}, {(self.as_of - gone).days} day(s) "
                        f"before {self.as_of} (fewer than {self.days}): licenses without License "
                        "Mobility (Windows Server and System Center per core; SQL Server, Exchange, "
                        "SharePoint and Skype for Business without active SA) still count it on "
                        f"{host} (licensing-rules.md §7.1; placements.csv; catalog choice "
                        "sa_rights.reassignment_choice: 89 days counts, 90 no longer).",
                        "placements.csv",
                    )
                )
        return out


@dataclass
class SaStock:
    """Units of one product and license kind with SA active on the as-of date, by edition, that
    the rules hand out to the VMs whose licenses should follow them (biggest saving first)."""

    catalog: Catalog
    product: str
    license: str
    as_of: date
    left: dict[str | None, int] = field(default_factory=dict)
    rows: list[Entitlement] = field(default_factory=list)

    @classmethod
    def build(
        cls, idx: EstateIndex, catalog: Catalog, product: str, license: str, as_of: date
    ) -> SaStock:
        stock = cls(catalog, product, license, as_of)
        for e in idx.estate.entitlements:
            if e.product == product and e.license == license and sa_active(e, as_of):
                stock.left[e.edition] = stock.left.get(e.edition, 0) + e.quantity
                stock.rows.append(e)
        return stock

    @property
    def total(self) -> int:
        return sum(self.left.values())

    def covering(self, edition: str | None) -> list[Entitlement]:
        """The SA licenses whose edition covers ``edition``."""
        return [
            e
            for e in self.rows
            if e.edition is None or self.catalog.edition_covers(self.product, e.edition, edition)
        ]

    def total_for(self, edition: str | None) -> int:
        """Units left whose edition covers ``edition``."""
        return sum(
            n
            for ed, n in self.left.items()
            if ed is None or self.catalog.edition_covers(self.product, ed, edition)
        )

    def take(self, edition: str | None, qty: int) -> bool:
        """Reserve ``qty`` units whose edition covers ``edition`` (lowest edition first);
        False, and nothing reserved, when the stock is short."""
        ranks = dict(self.catalog.product(self.product).edition_rank)
        fits = [
            ed
            for ed, n in self.left.items()
            if n > 0 and (ed is None or self.catalog.edition_covers(self.product, ed, edition))
        ]
        fits.sort(key=lambda ed: ranks.get(ed or "", -1))
        if sum(self.left[ed] for ed in fits) < qty:
            return False
        for ed in fits:
            n = min(qty, self.left[ed])
            self.left[ed] -= n
            qty -= n
            if qty == 0:
                break
        return True


def lapse_finding(
    catalog: Catalog, rows: list[Entitlement], as_of: date, right: str, evidence: str
) -> Finding | None:
    """A warning when SA of licenses an SA-only right relies on ends before the next true-up
    (catalog ``sa_rights.true_up_days`` after ``as_of``)."""
    horizon = as_of + timedelta(days=sa_rights(catalog).true_up_days)
    lapsing = sorted(
        (e for e in rows if e.sa_until is not None and as_of <= e.sa_until < horizon),
        key=lambda e: (e.sa_until or as_of, e.id or ""),
    )
    if not lapsing:
        return None
    first = lapsing[0].sa_until
    ids = ", ".join(e.id or str(e.source) for e in lapsing[:5])
    more = f" and {len(lapsing) - 5} more" if len(lapsing) > 5 else ""
    return Finding(
        "warning",
        "sa-lapses",
        f"{right} relies on Software Assurance that ends on {first}, before the next true-up "
        f"(within {sa_rights(catalog).true_up_days} days of {as_of}, catalog choice "
        f"sa_rights.true_up_days): {ids}{more}. Renew it, or the right is lost on that day.",
        evidence,
    )


def no_mobility(ose: Ose, hosts: tuple[str, ...], what: str, places: Places) -> str:
    """The warning of a VM whose ``what`` licenses (say "SQL Server core") cannot follow it: no
    license with SA active on the day is left for it (§7.1)."""
    if len(hosts) < 2:
        return ""
    return (
        f"{ose.ose}: no {what} licenses with active SA on {places.as_of} are left for it, so its "
        f"licenses cannot follow it (License Mobility needs SA, §7.1): counted on each of "
        f"{', '.join(hosts)}; licenses bought with SA would let one follow it. Which VMs the SA "
        "licenses go to is a choice (fixed models first, "
        "biggest saving first; catalog sa_rights.mobility_choice)."
    )


def where(ose: Ose, host: str, hosts: tuple[str, ...], mobile: bool, places: Places | None) -> str:
    """Why a VM's license is counted on ``host`` (§7.1)."""
    farm = places.hosts(ose, True) if places is not None else (ose.host,)
    if mobile and len(farm) > 1:
        return (
            f"; with active SA the license follows it between {', '.join(farm)} "
            "(License Mobility within a server farm, §7.1)"
        )
    if len(hosts) == 1:
        return ""
    left = places.history(ose.ose, host) if places is not None else None
    why = (
        f"it left {host} on {left}, fewer than {places.days} days before"
        if left is not None and places is not None
        else f"it may run on {host}"
    )
    return (
        f"; without active SA the license cannot follow it: {why}, so {host} is licensed "
        f"for it too ({len(hosts)} hosts, §7.1)"
    )


def server_license_option(
    ose: Ose,
    sw: Software,
    base: str,
    hosts: tuple[str, ...],
    follows: bool,
    places: Places | None,
    what: str,
    shadow: tuple[Need, ...] = (),
) -> Option:
    """Server + CAL: one server license for ``ose``'s ``sw`` on each of ``hosts`` (one host when
    the license ``follows`` the VM with SA, then only SA licenses may cover it; §7.1), each need
    saying why it is counted there; ``what`` names the licenses in the warning of a VM that
    holds one on several hosts."""
    needs = tuple(
        Need(
            sw.product,
            "server",
            1,
            sw.edition,
            sw.version,
            host=host,
            ose=ose.ose,
            model="server-cal",
            reason=base + where(ose, host, hosts, follows, places),
            evidence=(str(sw.source),),
            sa_required=follows and places is not None,
        )
        for host in hosts
    )
    warning = "" if follows or places is None else no_mobility(ose, hosts, what, places)
    return Option("server-cal", needs, shadow=shadow, warning=warning)
