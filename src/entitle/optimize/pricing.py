"""Unit prices: the estate's ``prices.csv`` first, then the catalog's indicative list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from entitle.catalog.model import Catalog
from entitle.estate.records import Price


@dataclass(frozen=True, slots=True)
class UnitPrice:
    amount: Decimal
    source: str  # "prices.csv:4" or "catalog"
    confidence: str = "high"
    period: str | None = None  # "month" for pay-as-you-go


class Pricing:
    """Looks up the price of one license unit; ``None`` when nobody knows it."""

    def __init__(self, catalog: Catalog, prices: tuple[Price, ...] = ()):
        self._catalog = catalog
        self._estate: dict[tuple[str, str, str | None], Price] = {}
        for p in prices:
            self._estate.setdefault((p.product, p.license, p.edition), p)
        # looked up per need, hundreds of thousands of times for a few dozen kinds
        self._units: dict[tuple[str, str, str | None], UnitPrice | None] = {}

    def prices_key(
        self, licenses: frozenset[str] | None = None
    ) -> frozenset[tuple[tuple[str, str, str | None], Decimal, str | None]]:
        """What the estate's prices of ``licenses`` (default: all) say, for telling two
        pricings of one catalog apart (:class:`entitle.optimize.calmemo.CalPlans`): each key's
        price and currency, not where it was written."""
        return frozenset(
            (k, p.price, p.currency)
            for k, p in self._estate.items()
            if licenses is None or k[1] in licenses
        )

    @property
    def currency(self) -> str:
        for p in self._estate.values():
            said = (p.currency or "").strip()
            if said:  # as check_prices compares them: 'usd' is USD
                return said.upper()
        return self._catalog.meta.currency

    def unit(self, product: str, license: str, edition: str | None = None) -> UnitPrice | None:
        key = (product, license, edition)
        if key in self._units:
            return self._units[key]
        found = self._units[key] = self._unit(product, license, edition)
        return found

    def _unit(self, product: str, license: str, edition: str | None) -> UnitPrice | None:
        for key in ((product, license, edition), (product, license, None)):
            row = self._estate.get(key)
            if row is not None:
                return UnitPrice(row.price, str(row.source))
        cat = self._catalog.price(product, license, edition)
        if cat is None:
            return None
        return UnitPrice(cat.price, "catalog", cat.confidence, cat.period)

    def amount(self, product: str, license: str, edition: str | None = None) -> Decimal:
        unit = self.unit(product, license, edition)
        return unit.amount if unit is not None else Decimal(0)
