"""Which version an owned license may run: its own, or — with Software Assurance — the newest
released while SA was active (licensing-rules.md §7.3, §7.4). A Subscription Edition (Exchange,
SharePoint, Skype for Business Server SE) counts only with SA or a subscription active on the day
(§1.4, §7.3): a license whose SA reached SE but lapsed keeps the version before it."""

from __future__ import annotations

from datetime import date

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement


def sa_active(e: Entitlement, as_of: date) -> bool:
    """Software Assurance (or the subscription) of ``e`` runs on ``as_of``."""
    return e.sa_until is not None and e.sa_until >= as_of


def effective_version(catalog: Catalog, e: Entitlement, as_of: date) -> str | None:
    """The newest version ``e`` covers on ``as_of``; its purchase date's version when its own is
    blank; ``None`` when unknown or the product is version-less (CAL Suites)."""
    product = catalog.product(e.product)
    if not product.versions:
        return None
    version = e.version if e.version in product.version_ids else None
    if version is None and e.purchased is not None:
        version = catalog.version_at(e.product, e.purchased)
    if e.sa_until is not None:
        with_sa = catalog.version_at(e.product, min(e.sa_until, as_of))
        if with_sa is not None and (
            version is None
            or catalog.version_index(e.product, with_sa) > catalog.version_index(e.product, version)
        ):
            version = with_sa
    if version is not None and version != e.version and not sa_active(e, as_of):
        # SA reached a Subscription Edition but has lapsed: the last version before it.
        while version is not None and catalog.subscription_edition(e.product, version):
            i = catalog.version_index(e.product, version)
            version = product.version_ids[i - 1] if i > 0 else None
    return version


def subscription_lapsed(catalog: Catalog, e: Entitlement, as_of: date) -> bool:
    """``e`` is a Subscription Edition license (its own version) without active SA or
    subscription on ``as_of``: it counts for nothing (licensing-rules.md §7.3)."""
    return catalog.subscription_edition(e.product, e.version) is not None and not sa_active(
        e, as_of
    )
