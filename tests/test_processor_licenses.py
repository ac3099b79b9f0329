"""Licenses bought before per-core licensing (entitlements.csv license kind `processor`), worked
by hand from licensing-rules.md: §3.0 and §3.4 (Windows Server 2012/2012 R2 Standard and
Datacenter: one license per 2 physical processors; Standard 2 VMs per license, stacked;
Datacenter unlimited), §3.1 (per-core counting, and the 2016 SA transition: each 2-processor
license became at least 16 core licenses), §3.5 (SQL Server 2008 R2 per processor; SQL Server
2012's per-core model, 4 core licenses per processor at least) and §7.4 (down-version rights)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from builders import AS_OF, estate, host, owned, physical, position, sw, vm
from entitle.estate.records import Entitlement, Estate, Managed
from entitle.position import Position

WS = "windows-server"
WS_2016_RELEASE = date(2016, 10, 12)  # catalog [versions]; the day SA had to be active (§3.1)
SQL_2012_RELEASE = date(2012, 4, 1)


def line(p: Position, product: str, license: str, edition: str | None, version: str | None):  # type: ignore[no-untyped-def]
    found = [
        x
        for x in p.lines
        if (x.product, x.license, x.edition, x.version) == (product, license, edition, version)
    ]
    assert len(found) == 1, [
        (x.product, x.license, x.edition, x.version, x.required) for x in p.lines
    ]
    return found[0]


def codes(p: Position) -> list[str]:
    return [f.code for f in p.findings]


def ws_host(n_vms: int, version: str, ents: list[Entitlement]) -> Estate:
    """A 2 × 8-core host running ``n_vms`` Windows Server Standard VMs of ``version``."""
    names = [f"vm{i}" for i in range(1, n_vms + 1)]
    return estate(
        [host("hv1", 2, 8)],
        [physical("hv1-os", "hv1", hosting_only=True)] + [vm(n, "hv1", 4) for n in names],
        [sw(n, WS, "standard", version) for n in names],
        entitlements=ents,
    )


def ws_2012r2_std(quantity: int, sa_until: date | None = None) -> Entitlement:
    return Entitlement(WS, "processor", quantity, "P-1", "standard", "2012r2", sa_until)


def test_two_2012r2_standard_licenses_cover_four_vms_on_a_2x8_host() -> None:
    # §3.1: the 2 × 8-core host counts 16 core licenses per full licensing (8 per processor,
    # 16 per server); 4 Standard VMs need 2 licensings (2 OSEs each): 32.
    # §3.4: one 2012 R2 Standard license covers 2 processors and 2 VMs; this host has 2
    # processors, so each license is one full licensing: 2 licenses → 4 VMs → all 32 covered.
    p = position(ws_host(4, "2012r2", [ws_2012r2_std(2)]))
    need = line(p, WS, "core", "standard", "2012r2")
    assert (need.required, need.owned, need.shortfall) == (32, 32, 0)
    assert not [x for x in p.lines if x.license == "processor"]  # both in use: no surplus line
    coverage = [f for f in p.findings if f.code == "processor-license-coverage"]
    assert len(coverage) == 1
    assert "hv1" in coverage[0].message and "2 of P-1" in coverage[0].message
    assert "32 of the 32" in coverage[0].message
    assert not p.has_shortfall


def test_a_fifth_vm_leaves_one_standard_licensing_short() -> None:
    # 5 VMs: ceil(5 / 2) = 3 Standard licensings of 16 = 48 core licenses (§3.1). The two
    # processor licenses cover 2 licensings (4 VMs, §3.4): 32; 48 − 32 = 16 short (a 16-core
    # Standard license, used with downgrade rights, §7.4). Datacenter instead would need 16
    # Datacenter cores at 423.1875 = 6,771.00, more than 16 × 73.50 = 1,176.00.
    p = position(ws_host(5, "2012r2", [ws_2012r2_std(2)]))
    need = line(p, WS, "core", "standard", "2012r2")
    assert (need.required, need.owned, need.shortfall) == (48, 32, 16)
    assert p.has_shortfall


def test_one_2012r2_datacenter_license_covers_every_vm_of_a_2x8_host() -> None:
    # §3.4: a 2012 R2 Datacenter license covers 2 processors and unlimited VMs: one license
    # covers this 2-processor host with 5 VMs entirely.
    dc = Entitlement(WS, "processor", 1, "P-DC", "datacenter", "2012r2")
    p = position(ws_host(5, "2012r2", [dc]))
    assert not p.has_shortfall
    assert not [x for x in p.lines if x.license == "processor"]  # in use: no surplus line


def test_a_4_processor_host_needs_two_licenses_for_its_processors() -> None:
    # §3.4/§5: a license covers at most 2 processors, so a 4 × 8-core host needs 2 licenses
    # before any VM is covered; then 2 licenses × 2 VMs = 4 VMs. Per core (§3.1) the host
    # counts 32 per licensing, 2 licensings for 4 VMs = 64: one license covers nothing (64
    # short), two cover all 64.
    def four_way(quantity: int) -> Position:
        names = ["a", "b", "c", "d"]
        return position(
            estate(
                [host("big", 4, 8)],
                [physical("big-os", "big", hosting_only=True)] + [vm(n, "big", 4) for n in names],
                [sw(n, WS, "standard", "2012r2") for n in names],
                entitlements=[ws_2012r2_std(quantity)],
            )
        )

    one = line(four_way(1), WS, "core", "standard", "2012r2")
    assert (one.required, one.shortfall) == (64, 64)
    two = line(four_way(2), WS, "core", "standard", "2012r2")
    assert (two.required, two.shortfall) == (64, 0)


def test_2012r2_licenses_do_not_cover_2016_without_sa() -> None:
    # §7.4: a license covers its version or an earlier one. SA ended the day before WS 2016
    # was released: no conversion (§3.1), the 2016 host's 32 core licenses are all short and
    # both processor licenses are surplus.
    p = position(ws_host(4, "2016", [ws_2012r2_std(2, WS_2016_RELEASE.replace(day=11))]))
    need = line(p, WS, "core", "standard", "2016")
    assert (need.required, need.shortfall) == (32, 32)
    assert line(p, WS, "processor", "standard", "2012r2").surplus == 2
    assert "processor-converted" not in codes(p)


def test_sa_active_on_the_2016_release_converts_each_license_into_16_cores() -> None:
    # §3.1 "SA transition 2016": SA active on 2016-10-12 → each 2-processor license became
    # (at least) 16 core licenses: 2 × 16 = 32 Standard 2016 core licenses, exactly the 32 a
    # 2 × 8-core host with 4 Standard VMs needs (2 licensings × 16).
    p = position(ws_host(4, "2016", [ws_2012r2_std(2, WS_2016_RELEASE)]))
    need = line(p, WS, "core", "standard", "2016")
    assert (need.required, need.owned, need.shortfall) == (32, 32, 0)
    converted = [f for f in p.findings if f.code == "processor-converted"]
    assert len(converted) == 1
    assert "32 standard core licenses of 2016" in converted[0].message
    assert "windows-server-2016" in converted[0].message  # the catalog rule's id
    # The report says which host the converted licenses covered, and under which rule.
    coverage = [f for f in p.findings if f.code == "processor-license-coverage"]
    assert len(coverage) == 1
    assert (
        "32 core licenses of P-1 (converted under rule windows-server-2016)" in coverage[0].message
    )
    assert "cover hv1" in coverage[0].message and "32 of the 32" in coverage[0].message


def test_converted_licenses_with_sa_still_active_cover_a_2025_host() -> None:
    # §7.3: the 32 converted core licenses keep SA to the day of the position (2026-11-28),
    # so they cover Windows Server 2025 (released 2024-11-01) too.
    p = position(ws_host(4, "2025", [ws_2012r2_std(2, AS_OF)]))
    need = line(p, WS, "core", "standard", "2025")
    assert (need.required, need.shortfall) == (32, 0)


def sql_host(version: str, edition: str, ents: list[Entitlement]) -> Estate:
    """A physical 2 × 4-core Intel server running SQL Server on its own OSE."""
    return estate(
        [host("db", 2, 4, "Intel Xeon E5-2620")],
        [physical("db-os", "db")],
        [sw("db-os", "sql-server", edition, version)],
        entitlements=ents,
    )


def test_sql_2008r2_enterprise_per_processor_covers_its_2008r2_server() -> None:
    # §3.5: SQL Server 2008 R2 was licensed per processor: 2 Enterprise processor licenses
    # cover both processors of the 2 × 4-core server. Counted per core (§3.5: all cores, at
    # least 4 per processor) the server needs 2 × 4 = 8 core licenses, and no CALs.
    ent = Entitlement("sql-server", "processor", 2, "S-1", "enterprise", "2008r2")
    p = position(sql_host("2008r2", "enterprise", [ent]))
    need = line(p, "sql-server", "core", "enterprise", "2008r2")
    assert (need.required, need.owned, need.shortfall) == (8, 8, 0)
    assert not any(x.product == "sql-server" and x.shortfall for x in p.lines)
    assert "processor-license-coverage" in codes(p)


def test_one_sql_processor_license_of_two_covers_nothing() -> None:
    # §3.5: every physical processor must be licensed; one license for a 2-processor server
    # covers no part of it: the license stays unused (surplus 1).
    ent = Entitlement("sql-server", "processor", 1, "S-1", "enterprise", "2008r2")
    p = position(sql_host("2008r2", "enterprise", [ent]))
    assert line(p, "sql-server", "processor", "enterprise", "2008r2").surplus == 1
    assert "processor-license-coverage" not in codes(p)


def test_sql_2008r2_licenses_with_sa_in_april_2012_became_4_cores_each() -> None:
    # SQL Server 2012 transition (catalog rule sql-server-2012): a processor license with SA
    # active on SQL 2012's release (2012-04-01) became at least 4 core licenses: 2 × 4 = 8
    # Enterprise 2012 core licenses; a 2 × 4-core SQL 2012 server needs 2 × 4 = 8 (§3.5).
    ent = Entitlement("sql-server", "processor", 2, "S-1", "enterprise", "2008r2", SQL_2012_RELEASE)
    p = position(sql_host("2012", "enterprise", [ent]))
    need = line(p, "sql-server", "core", "enterprise", "2012")
    assert (need.required, need.owned, need.shortfall) == (8, 8, 0)
    assert "processor-converted" in codes(p)


def test_sql_2008r2_datacenter_became_8_enterprise_cores_per_processor() -> None:
    # Datacenter processor licenses with SA became at least 8 Enterprise core licenses each
    # (catalog rule sql-server-2012-datacenter): 1 × 8 = 8 covers the 8-core need above.
    ent = Entitlement("sql-server", "processor", 1, "S-D", "datacenter", "2008r2", SQL_2012_RELEASE)
    p = position(sql_host("2012", "enterprise", [ent]))
    need = line(p, "sql-server", "core", "enterprise", "2012")
    assert (need.required, need.shortfall) == (8, 0)


def test_a_processor_license_the_catalog_does_not_know_is_a_warning() -> None:
    # Windows Server 2016 was never sold per processor (§3.1): not counted, with a warning.
    ent = Entitlement(WS, "processor", 2, "P-9", "standard", "2016")
    p = position(ws_host(2, "2016", [ent]))
    assert "processor-license-unknown" in codes(p)
    assert line(p, WS, "core", "standard", "2016").shortfall == 16
    assert line(p, WS, "processor", "standard", "2016").surplus == 2  # shown, never used


def test_physical_server_licenses_still_match_without_processor_licenses() -> None:
    # A guard that the plain matching is unchanged: 16 owned core licenses cover 1 × 16 cores.
    p = position(
        estate(
            [host("h", 1, 16)],
            [physical("p", "h")],
            [sw("p", WS, "standard", "2025")],
            entitlements=[owned(WS, "core", 16, "standard", "2025")],
        )
    )
    assert not p.has_shortfall


def sc_host(quantity: int) -> Estate:
    """A 2 × 8-core host with 3 VMs managed by System Center 2012 R2 (managed.csv `version`)."""
    names = ["m1", "m2", "m3"]
    managed = [
        Managed("system-center", n, extra={"edition": "standard", "version": "2012r2"})
        for n in names
    ]
    ent = Entitlement("system-center", "processor", quantity, "SC-1", "standard", "2012r2")
    return estate(
        [host("hv2", 2, 8)],
        [physical("hv2-os", "hv2", hosting_only=True)] + [vm(n, "hv2", 2) for n in names],
        [],
        managed=managed,
        entitlements=[ent],
    )


def test_system_center_2012r2_standard_manages_two_oses_per_license() -> None:
    # §5: SC 2012 R2 Standard licenses = max(ceil(2 processors / 2), ceil(3 OSEs / 2)) = 2.
    # Per core (§5, like Windows Server) the host needs ceil(3 / 2) = 2 licensings of 16 = 32
    # server ML core licenses: 2 processor licenses cover all 32, one covers 16 (16 short).
    two = line(position(sc_host(2)), "system-center", "server-ml", "standard", "2012r2")
    assert (two.required, two.shortfall) == (32, 0)
    one = line(position(sc_host(1)), "system-center", "server-ml", "standard", "2012r2")
    assert (one.required, one.shortfall) == (32, 16)


def test_the_catalog_rejects_a_processor_row_naming_an_unknown_version() -> None:
    # The facts are validated at load: a typo in a processor_licenses row is an error.
    from importlib import resources

    import pytest

    from entitle.catalog import CatalogError, parse_catalog

    text = resources.files("entitle.catalog").joinpath("data/catalog.toml").read_text("utf-8")
    bad = text.replace(
        'versions = ["2012", "2012r2"]\nprocessors = 2', 'versions = ["2012r3"]\nprocessors = 2', 1
    )
    assert bad != text
    with pytest.raises(CatalogError, match="processor_licenses.*2012r3"):
        parse_catalog(bad)
    bad = text.replace('at = "2016"', 'at = "2017"', 1)
    with pytest.raises(CatalogError, match="processor_conversions.windows-server-2016.*2017"):
        parse_catalog(bad)


def test_a_core_license_covers_the_licensing_the_processor_licenses_leave() -> None:
    # The fifth VM above leaves 16 short; an owned 16-core Windows Server 2019 Standard license
    # covers that third licensing with down-version rights (§7.4): 32 + 16 = 48, compliant.
    cores = owned(WS, "core", 16, "standard", "2019")
    p = position(ws_host(5, "2012r2", [ws_2012r2_std(2), cores]))
    need = line(p, WS, "core", "standard", "2012r2")
    assert (need.required, need.owned, need.shortfall) == (48, 48, 0)


def test_processor_licenses_assigned_to_another_host_do_not_cover_this_one() -> None:
    # Licenses assigned to a host cover only that host (§7.1): assigned to hv9, they leave all
    # 32 core licenses of hv1 short.
    ent = Entitlement(WS, "processor", 2, "P-1", "standard", "2012r2", assigned_to="hv9")
    e = ws_host(4, "2012r2", [ent])
    e = replace(e, hosts=(*e.hosts, host("hv9", 2, 8)))
    assert line(position(e), WS, "core", "standard", "2012r2").shortfall == 32
