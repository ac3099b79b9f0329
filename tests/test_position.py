"""Owned entitlements matched to requirements, and the priced lines (estate-format.md, the
position; licensing-rules.md §3.1 editions, §1.4 and §7.3 versions and Software Assurance)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from builders import estate, host, owned, physical, position, price, sw


def one_line(p, product="windows-server", license="core"):  # type: ignore[no-untyped-def]
    lines = [x for x in p.lines if x.product == product and x.license == license and x.required > 0]
    assert len(lines) == 1, lines
    return lines[0]


def std_server(version: str = "2025", cores: int = 16):  # type: ignore[no-untyped-def]
    return (
        [host("h", 1, cores)],
        [physical("p", "h")],
        [sw("p", "windows-server", "standard", version)],
    )


def test_datacenter_license_covers_a_standard_need() -> None:
    hosts, oses, software = std_server()
    p = position(
        estate(
            hosts,
            oses,
            software,
            entitlements=[owned("windows-server", "core", 16, "datacenter", "2025")],
        )
    )
    line = one_line(p)
    assert (line.edition, line.required, line.owned, line.shortfall) == ("standard", 16, 16, 0)


def test_standard_license_does_not_cover_a_datacenter_need() -> None:
    e = estate(
        [host("h", 1, 16)],
        [physical("p", "h")],
        [sw("p", "windows-server", "datacenter", "2025")],
        entitlements=[owned("windows-server", "core", 16, "standard", "2025")],
    )
    p = position(e)
    line = one_line(p)
    assert (line.edition, line.shortfall) == ("datacenter", 16)
    surplus = [x for x in p.lines if x.edition == "standard"]
    assert surplus[0].surplus == 16


def test_older_version_does_not_cover_newer_but_sa_does() -> None:
    # §1.4 / §7.4: an older license does not cover a newer version; §7.3: SA active on the
    # 2025 release date (2024-11-01) gives the 2025 version.
    hosts, oses, software = std_server("2025")
    old = owned("windows-server", "core", 16, "standard", "2022")
    with_sa = owned("windows-server", "core", 16, "standard", "2022", sa_until=date(2025, 6, 30))
    assert one_line(position(estate(hosts, oses, software, entitlements=[old]))).shortfall == 16
    assert one_line(position(estate(hosts, oses, software, entitlements=[with_sa]))).shortfall == 0


def test_newer_version_covers_older_need() -> None:
    hosts, oses, software = std_server("2019")
    p = position(
        estate(
            hosts,
            oses,
            software,
            entitlements=[owned("windows-server", "core", 16, "standard", "2025")],
        )
    )
    assert one_line(p).shortfall == 0


def test_assigned_licenses_only_cover_their_host() -> None:
    e = estate(
        [host("a", 1, 16), host("b", 1, 16)],
        [physical("pa", "a"), physical("pb", "b")],
        [
            sw("pa", "windows-server", "standard", "2025"),
            sw("pb", "windows-server", "standard", "2025"),
        ],
        entitlements=[owned("windows-server", "core", 32, "standard", "2025", assigned_to="a")],
    )
    line = one_line(position(e))
    # 16 needed on each host; the 32 assigned to `a` cover a's 16 only: shortfall 16 on b,
    # surplus 16 (owned counts the 16 used plus the 16 spare).
    assert (line.required, line.owned, line.shortfall, line.surplus) == (32, 32, 16, 16)


def test_cost_is_shortfall_times_unit_price_with_packs() -> None:
    # 2×10 cores → 20 core licenses; 4 owned → 16 short × 73.50 = 1,176.00; packs 1 × 16.
    e = estate(
        [host("h", 2, 10)],
        [physical("p", "h")],
        [sw("p", "windows-server", "standard", "2025")],
        entitlements=[owned("windows-server", "core", 4, "standard", "2025")],
    )
    p = position(e)
    line = one_line(p)
    assert (line.required, line.shortfall, line.unit_price) == (20, 16, Decimal("73.50"))
    assert line.cost == Decimal("1176.00")
    assert line.packs == {16: 1}
    assert p.total_cost == Decimal("1176.00")


def test_prices_csv_overrides_the_catalog() -> None:
    hosts, oses, software = std_server()
    p = position(
        estate(hosts, oses, software, prices=[price("windows-server", "core", "60.00", "standard")])
    )
    line = one_line(p)
    assert (line.unit_price, line.cost) == (Decimal("60.00"), Decimal("960.00"))


def test_scarce_licenses_go_where_the_shortfall_costs_most() -> None:
    # 16 Datacenter cores owned, one Standard host (16) and one Datacenter host (16): the DC
    # licenses cover the DC need (423.19/core) rather than the Standard one (73.50/core).
    e = estate(
        [host("a", 1, 16), host("b", 1, 16)],
        [physical("pa", "a"), physical("pb", "b")],
        [
            sw("pa", "windows-server", "standard", "2025"),
            sw("pb", "windows-server", "datacenter", "2025"),
        ],
        entitlements=[owned("windows-server", "core", 16, "datacenter", "2025")],
    )
    p = position(e)
    by_edition = {x.edition: x.shortfall for x in p.lines if x.required}
    assert by_edition == {"datacenter": 0, "standard": 16}
    assert p.total_cost == Decimal("1176.00")


def test_owned_licenses_steer_the_edition_choice() -> None:
    # 2×8 host with 4 Standard VMs: at list prices Standard ×2 (32 × 73.50 = 2,352) beats
    # Datacenter (16 × 423.1875 = 6,771). But 16 Datacenter cores are owned: licensed
    # Datacenter the host costs nothing, while Standard would still need 32 − 16 = 16 cores
    # (1,176). The plan must take Datacenter (§3.1, owned entitlements used first).
    from builders import chosen, vm

    e = estate(
        [host("h", 2, 8)],
        [physical("p", "h", hosting_only=True)] + [vm(f"v{i}", "h") for i in range(4)],
        [sw(f"v{i}", "windows-server", "standard", "2025") for i in range(4)],
        entitlements=[owned("windows-server", "core", 16, "datacenter", "2025")],
    )
    p = position(e)
    assert chosen(p, "windows-server@h") == "datacenter"
    assert p.total_cost == 0
    assert p.optimality == "optimal"
