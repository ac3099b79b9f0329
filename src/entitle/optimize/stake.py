"""What an unmarked relay would cost if it were a front end (licensing-rules.md §1.6): the
warning for an OSE that users access and that reaches a CAL product server-to-server without
``front_end`` in oses.csv. The rules find such OSEs; pricing them is the optimizer's knowledge."""

from __future__ import annotations

from decimal import Decimal

from entitle.catalog.model import Catalog
from entitle.optimize.calplan import Resource
from entitle.optimize.pricing import Pricing
from entitle.rules.multiplex import Unmarked
from entitle.source import Finding


def unmarked_findings(
    unmarked: tuple[Unmarked, ...],
    catalog: Catalog,
    pricing: Pricing,
    server_cal: frozenset[str],
) -> list[Finding]:
    """One warning per unmarked relay whose target needs CALs (SQL Server only where it is
    licensed Server + CAL in the plan, ``server_cal``), with the CALs at stake priced at unit
    prices, before any CAL the users and devices already hold."""
    out = []
    database = catalog.database_right()
    for u in unmarked:
        rights = [r for r in u.rights if r != database or u.target in server_cal]
        if not rights:
            continue
        cost = Decimal(0)
        names = []
        for right in rights:
            for holder, count in (("user", len(u.users)), ("device", len(u.devices))):
                if count:
                    product, license, edition = Resource(holder, right).license()
                    cost += pricing.amount(product, license, edition) * count
            names.append(_name(right))
        who = " and ".join(
            f"{n} {kind}(s)"
            for n, kind in ((len(u.users), "user"), (len(u.devices), "device"))
            if n
        )
        version = f" {u.version}" if u.version else ""
        message = (
            f"{u.ose} is used by {who} and reaches {u.product}{version} on {u.target} "
            f"server-to-server ({u.source}), but oses.csv does not mark {u.ose} front_end. If it "
            f"relays their requests (multiplexing, licensing-rules.md §1.6), each of them needs "
            f"{' and '.join(names)}{version} there: up to {cost:,.2f} {pricing.currency} at unit "
            f"prices, before the CALs they already hold. Set front_end=yes on {u.ose} if it does."
        )
        out.append(Finding("warning", "multiplexing-unmarked", message, u.source))
    return out


def _name(right: str) -> str:
    product, _, kind = right.partition(":")
    if kind == "cal-enterprise":
        return f"a {product} Enterprise CAL"
    return f"a {product} CAL"
