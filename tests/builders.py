"""Tiny estates written inline, for tests that speak the domain."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from entitle.catalog import default_catalog
from entitle.estate.records import (
    Access,
    Entitlement,
    Estate,
    Host,
    Managed,
    Ose,
    Price,
    Software,
)
from entitle.position import Position, compute_position

AS_OF = date(2026, 11, 28)


def host(
    name: str, processors: int, cores: int, cpu: str | None = None, cluster: str | None = None
) -> Host:
    return Host(name, processors, cores, cpu, cluster)


def vm(name: str, on: str, vcpus: int | None = None, env: str = "production") -> Ose:
    return Ose(name, on, True, vcpus, env)  # type: ignore[arg-type]


def physical(name: str, on: str, hosting_only: bool = False) -> Ose:
    return Ose(name, on, False, None, "production", hosting_only)


def sw(
    ose: str, product: str, edition: str | None, version: str, model: str | None = None
) -> Software:
    return Software(ose, product, version, edition, model)  # type: ignore[arg-type]


def owned(
    product: str,
    license: str,
    quantity: int,
    edition: str | None = None,
    version: str | None = None,
    assigned_to: str | None = None,
    sa_until: date | None = None,
) -> Entitlement:
    return Entitlement(product, license, quantity, None, edition, version, sa_until, assigned_to)


def price(product: str, license: str, amount: str, edition: str | None = None) -> Price:
    return Price(product, license, Decimal(amount), edition)


def users_reach(ose: str, product: str, n: int, prefix: str = "u") -> tuple[Access, ...]:
    return tuple(Access(ose, product, f"{prefix}{i}") for i in range(n))


def estate(
    hosts: list[Host],
    oses: list[Ose],
    software: list[Software],
    *,
    access: tuple[Access, ...] = (),
    managed: list[Managed] | None = None,
    entitlements: list[Entitlement] | None = None,
    prices: list[Price] | None = None,
) -> Estate:
    return Estate(
        hosts=tuple(hosts),
        oses=tuple(oses),
        software=tuple(software),
        access=access,
        managed=tuple(managed or ()),
        entitlements=tuple(entitlements or ()),
        prices=tuple(prices or ()),
    )


def position(e: Estate) -> Position:
    return compute_position(e, default_catalog(), AS_OF)


def required(p: Position, product: str, license: str, edition: str | None = None) -> int:
    return sum(
        line.required
        for line in p.lines
        if line.product == product
        and line.license == license
        and (edition is None or line.edition == edition)
    )


def chosen(p: Position, key: str) -> str:
    for c in p.choices:
        if c.decision.key == key:
            return c.option.label
    raise KeyError(key)
