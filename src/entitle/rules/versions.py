"""Which version an owned license may run: its own, or — with Software Assurance — the newest
released while SA was active (licensing-rules.md §7.3, §7.4)."""

from __future__ import annotations

from datetime import date

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement


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
    return version
