"""Cloud and hybrid licensing (issue #16): Azure Hybrid Benefit, License Mobility through SA, the
Flexible Virtualization Benefit, Listed Providers' dedicated hosts, lapsed SA, PAYG, Extended
Security Updates and containers.

Every number is worked by hand from licensing-rules.md (section cited at each test) and the
catalog's [cloud] table, whose facts and sources docs/rules/cloud-and-hybrid.md lists.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from builders import AS_OF, estate, host, physical, position, required, sw, vm
from entitle.catalog import default_catalog
from entitle.estate.records import Access, Entitlement, Estate, Host, Ose, Placement
from entitle.position import Position, compute_position

SA = AS_OF + timedelta(days=400)  # active on the day, and past the next true-up
LAPSED = AS_OF - timedelta(days=1)
AZURE = Host("azure-eu", None, None, provider="azure")  # shared: hardware unknown
AWS = Host("aws-eu", None, None, provider="aws")
HOSTER = Host("hoster", None, None, provider="outsourcer")


def shortfall(p: Position, product: str, license: str = "core", edition: str | None = None) -> int:
    return sum(
        x.shortfall
        for x in p.lines
        if x.product == product
        and x.license == license
        and (edition is None or x.edition == edition)
    )


def codes(p: Position) -> list[str]:
    return [f.code for f in p.findings]


def cloud_vm(name: str, on: str, vcpus: int, replaces: str | None = None) -> Ose:
    return Ose(name, on, True, vcpus, replaces=replaces)


def bought(
    product: str,
    qty: int,
    edition: str,
    version: str,
    *,
    sa_until: date | None = None,
    purchased: date | None = None,
    id: str = "E1",
) -> Entitlement:
    return Entitlement(product, "core", qty, id, edition, version, sa_until, purchased=purchased)


# --- Azure Hybrid Benefit for Windows Server (§7.2) ---------------------------------------------


def _ahb_estate(edition: str, replaces: bool = False) -> Estate:
    # Five own servers of 2 × 8 cores, each one physical OSE running Windows Server 2022:
    # §3.1: all cores, ≥8 per processor, ≥16 per server → 16 each, 5 × 16 = 80 core licenses.
    # Ten Azure VMs of 8 vCPU brought with software.csv model byol.
    hosts = [host(f"hv{i}", 2, 8) for i in range(1, 6)] + [AZURE]
    oses = [physical(f"p{i}", f"hv{i}") for i in range(1, 6)]
    oses += [
        cloud_vm(f"az{i}", "azure-eu", 8, replaces=f"p{i % 5 + 1}" if replaces else None)
        for i in range(10)
    ]
    software = [sw(f"p{i}", "windows-server", edition, "2022") for i in range(1, 6)]
    software += [sw(f"az{i}", "windows-server", "datacenter", "2022", "byol") for i in range(10)]
    return estate(
        hosts,
        oses,
        software,
        entitlements=[bought("windows-server", 80, edition, "2022", sa_until=SA)],
    )


def test_80_datacenter_cores_with_sa_cover_ten_azure_vms_and_the_servers_at_once() -> None:
    # §7.2 (Azure Hybrid Benefit FAQ): each 16 core licenses = 2 VMs of up to 8 cores, so 80
    # licenses = 80 / 16 × 2 = 10 VMs of 8 vCPU: 10 × 8 = 80 licenses in Azure. Datacenter may be
    # used on premises and in Azure at once, so the same 80 also cover the five servers (80).
    p = position(_ahb_estate("datacenter"))
    assert required(p, "windows-server", "core") == 160  # 80 on premises + 80 in Azure
    assert shortfall(p, "windows-server") == 0
    azure = [r for r in p.cloud if r.provider == "azure"]
    assert {r.ose for r in azure} == {f"az{i}" for i in range(10)}
    assert all(r.right == "Azure Hybrid Benefit" and r.entitlement == "E1" for r in azure)
    assert sum(r.quantity for r in azure) == 80 and all(r.short == 0 for r in azure)
    assert all(r.note == "also covers needs on premises (dual use)" for r in azure)


def test_80_standard_cores_are_either_on_premises_or_in_azure() -> None:
    # §7.2: Standard licenses are used either on premises or in Azure: 160 needed, 80 owned → 80
    # short (which side goes short is the optimizer's choice; the total is not).
    p = position(_ahb_estate("standard"))
    assert required(p, "windows-server", "core") == 160
    assert shortfall(p, "windows-server") == 80


def test_standard_cores_cover_both_sides_within_the_180_day_migration_overlap() -> None:
    # §7.2: 180 days of dual use while a workload migrates, counted from the first placement of
    # the VM that `replaces` the old OSE. 30 days in: both sides are covered by the 80 → 0 short.
    e = _ahb_estate("standard", replaces=True)
    recent = tuple(Placement(f"az{i}", "azure-eu", AS_OF - timedelta(days=30)) for i in range(10))
    p = position(replace(e, placements=recent))
    assert shortfall(p, "windows-server") == 0
    assert codes(p).count("migration-overlap") == 10
    # 200 days in, the overlap has ended (200 ≥ 180): either/or again → 80 short.
    old = tuple(Placement(f"az{i}", "azure-eu", AS_OF - timedelta(days=200)) for i in range(10))
    assert shortfall(position(replace(e, placements=old)), "windows-server") == 80
    # No placement at all: the overlap is taken as open (a finding says so) → 0 short.
    p = position(e)
    assert shortfall(p, "windows-server") == 0 and "migration-overlap-assumed" in codes(p)


def test_ahb_counts_at_least_8_cores_per_vm_and_every_core_beyond() -> None:
    # Microsoft Learn (AHB for Windows Server): minimum 8 core licenses per VM; a 12-core VM
    # needs 12. VMs of 2, 8 and 12 vCPU → 8 + 8 + 12 = 28; 16 owned with SA → 12 short.
    e = estate(
        [AZURE],
        [cloud_vm("a", "azure-eu", 2), cloud_vm("b", "azure-eu", 8), cloud_vm("c", "azure-eu", 12)],
        [sw(x, "windows-server", "datacenter", "2022", "byol") for x in "abc"],
        entitlements=[bought("windows-server", 16, "standard", "2022", sa_until=SA)],
    )
    p = position(e)
    assert required(p, "windows-server", "core") == 28
    assert shortfall(p, "windows-server") == 12


def test_lapsed_sa_gives_no_azure_hybrid_benefit() -> None:
    # §7.2, §7.3: Azure Hybrid Benefit needs active SA or subscription. SA ended yesterday →
    # the 8-vCPU VM's 8 licenses are short, and the finding names the lapse.
    e = estate(
        [AZURE],
        [cloud_vm("a", "azure-eu", 8)],
        [sw("a", "windows-server", "datacenter", "2022", "byol")],
        entitlements=[bought("windows-server", 16, "datacenter", "2022", sa_until=LAPSED)],
    )
    p = position(e)
    assert shortfall(p, "windows-server") == 8
    [f] = [f for f in p.findings if f.code == "cloud-shortfall"]
    assert "Azure Hybrid Benefit needs active SA" in f.message and "E1" in f.message


def test_provider_billed_vms_need_no_owned_licenses_nor_windows_cals() -> None:
    # Spec, version 2: blank model on a provider's host means `provider`: the license is in the
    # provider's bill. No line, an info finding, and no Windows Server CAL for its users
    # (catalog choice cloud.ahb_cals_choice).
    e = estate(
        [AWS],
        [cloud_vm("a", "aws-eu", 4)],
        [sw("a", "windows-server", "datacenter", "2022")],
        access=(Access("a", "windows-server", "u1"),),
    )
    p = position(e)
    assert required(p, "windows-server", "core") == 0
    assert (
        required(p, "windows-server", "user-cal") + required(p, "windows-server", "device-cal") == 0
    )
    assert "provider-billed" in codes(p)
    assert [(r.ose, r.model, r.right) for r in p.cloud] == [("a", "provider", "provider's bill")]


# --- License Mobility and the Flexible Virtualization Benefit (§7.2) ----------------------------


def _sql_at(provider_host: Host, sa_until: date | None) -> Position:
    # One 8-vCPU VM running SQL Server 2022 Enterprise brought to the provider: counted per VM,
    # one license per virtual core, ≥4 (§3.5) → 8. Owned: 8 Enterprise core licenses.
    return position(
        estate(
            [provider_host],
            [cloud_vm("db", provider_host.host, 8)],
            [sw("db", "sql-server", "enterprise", "2022", "byol")],
            entitlements=[bought("sql-server", 8, "enterprise", "2022", sa_until=sa_until)],
        )
    )


def test_sql_enterprise_with_sa_on_aws_shared_hardware_under_license_mobility() -> None:
    # §7.2: License Mobility through SA lets SQL Server licenses with SA run on an Authorized
    # Mobility Partner's (AWS) shared servers: 8 needed, 8 with SA → covered.
    p = _sql_at(AWS, SA)
    assert required(p, "sql-server", "core", "enterprise") == 8
    assert shortfall(p, "sql-server") == 0
    assert [r.right for r in p.cloud] == ["License Mobility through SA"]


def test_sql_enterprise_with_sa_on_an_outsourcers_shared_hardware_under_fvb() -> None:
    # §7.2: the Flexible Virtualization Benefit (from 1 October 2022) lets SA licenses run on an
    # outsourcer's shared servers → covered, under that right.
    p = _sql_at(HOSTER, SA)
    assert shortfall(p, "sql-server") == 0
    assert [r.right for r in p.cloud] == ["the Flexible Virtualization Benefit"]


def test_sql_without_sa_on_shared_hardware_is_short() -> None:
    # §7.2: both rights need SA. Lapsed → the 8 are short on AWS and at the outsourcer.
    for where in (AWS, HOSTER):
        p = _sql_at(where, LAPSED)
        assert shortfall(p, "sql-server") == 8
        assert "cloud-shortfall" in codes(p)


def test_windows_server_on_aws_shared_hardware_cannot_be_brought() -> None:
    # §3.1, §7.2: Windows Server has no License Mobility, and the FVB excludes Listed Providers.
    # Counted per VM (8 vCPU → 8, §3.2) and short whatever is owned; at an outsourcer the same
    # VM is covered under the FVB by 8 core licenses with SA.
    def at(h: Host) -> Position:
        return position(
            estate(
                [h],
                [cloud_vm("w", h.host, 8)],
                [sw("w", "windows-server", "standard", "2022", "byol")],
                entitlements=[bought("windows-server", 16, "datacenter", "2022", sa_until=SA)],
            )
        )

    aws = at(AWS)
    assert shortfall(aws, "windows-server") == 8 and "byol-not-allowed" in codes(aws)
    hoster = at(HOSTER)
    assert shortfall(hoster, "windows-server") == 0
    assert [r.right for r in hoster.cloud] == ["the Flexible Virtualization Benefit"]


def _sql_azure(edition: str, vcpus: int, owned_edition: str, qty: int) -> Position:
    return position(
        estate(
            [AZURE],
            [cloud_vm("db", "azure-eu", vcpus)],
            [sw("db", "sql-server", edition, "2022", "byol")],
            entitlements=[bought("sql-server", qty, owned_edition, "2022", sa_until=SA)],
        )
    )


def test_sql_ahb_one_enterprise_core_covers_four_standard_vcpus() -> None:
    # Azure Hybrid Benefit for SQL Server (Microsoft Learn; August 2020 Product Terms): 1
    # Enterprise core license with SA covers 4 vCPUs of SQL Server Standard in an Azure VM.
    # A Standard VM of 8 vCPU (≥4 per VM) → 8 Standard licenses = 2 Enterprise licenses.
    p = _sql_azure("standard", 8, "enterprise", 2)
    assert required(p, "sql-server", "core", "standard") == 8
    assert shortfall(p, "sql-server") == 0
    assert [(r.entitlement, r.quantity) for r in p.cloud] == [("E1", 8)]
    assert sum(x.surplus for x in p.lines) == 0  # both Enterprise licenses are spent
    # One Enterprise license covers only 4 of the 8 → 4 short.
    assert shortfall(_sql_azure("standard", 8, "enterprise", 1), "sql-server") == 4


def test_sql_ahb_four_standard_cores_cover_one_enterprise_vcpu() -> None:
    # Same source: 4 Standard core licenses with SA cover 1 vCPU of Enterprise. An Enterprise
    # VM of 2 vCPU counts ≥4 → 4 vCPUs × 4 = 16 Standard licenses; 12 cover 3 → 1 short.
    p = _sql_azure("enterprise", 2, "standard", 16)
    assert required(p, "sql-server", "core", "enterprise") == 4
    assert shortfall(p, "sql-server") == 0
    assert shortfall(_sql_azure("enterprise", 2, "standard", 12), "sql-server") == 1


# --- Listed Providers' dedicated hosts (§7.2) ---------------------------------------------------


def _dedicated(purchased: date, sa_until: date | None = None, version: str = "2019") -> Position:
    # An AWS dedicated host of 2 × 16 cores running one VM with Windows Server Datacenter, own
    # licenses: all physical cores (§3.1) → 32. Owned: 32 Datacenter core licenses of 2019.
    dh = Host("aws-dh", 2, 16, provider="aws", dedicated=True)
    return position(
        estate(
            [dh],
            [vm("w", "aws-dh", 4)],
            [sw("w", "windows-server", "datacenter", version, "byol")],
            entitlements=[
                bought(
                    "windows-server",
                    32,
                    "datacenter",
                    version,
                    purchased=purchased,
                    sa_until=sa_until,
                )
            ],
        )
    )


def test_a_2018_purchase_covers_a_dedicated_host() -> None:
    # §7.2: licenses bought before 1 October 2019, for versions released before it (2019:
    # October 2018), may run on a Listed Provider's dedicated hosts without SA → 0 short.
    p = _dedicated(date(2018, 6, 1))
    assert required(p, "windows-server", "core") == 32
    assert shortfall(p, "windows-server") == 0
    assert {r.right for r in p.cloud} == {"licenses bought before the Listed Providers' cut-off"}
    assert "model-not-allowed" not in codes(p)  # byol says whose licenses, not how


def test_a_2021_purchase_does_not_cover_a_dedicated_host() -> None:
    # §7.2: bought on or after 1 October 2019 → not at AWS (Windows Server has no License
    # Mobility), SA or not → 32 short, and the finding says why.
    p = _dedicated(date(2021, 3, 1))
    assert shortfall(p, "windows-server") == 32
    [f] = [f for f in p.findings if f.code == "cloud-shortfall"]
    assert "bought before 2019-10-01" in f.message and "dedicated host" in f.message
    assert shortfall(_dedicated(date(2021, 3, 1), sa_until=SA), "windows-server") == 32


# --- PAYG, ESU and containers -----------------------------------------------------------------


def test_payg_windows_2025_needs_no_owned_licenses_but_rds_cals_stay() -> None:
    # §3.3: Windows Server 2025 pay-as-you-go through Azure Arc is billed per core (2 vCPU → 2,
    # no minimum) and needs no Windows Server CALs; RDS still needs RDS CALs (§1.3): 1 user → 1.
    e = estate(
        [host("hv1", 2, 8)],
        [vm("ts", "hv1", 2)],
        [sw("ts", "windows-server", "standard", "2025", "payg"), sw("ts", "rds", None, "2025")],
        access=(Access("ts", "rds", "u1"),),
    )
    p = position(e)
    [line] = [x for x in p.lines if x.product == "windows-server" and x.license == "core"]
    assert line.billed and line.required == 2 and line.shortfall == 0
    assert required(p, "windows-server", "user-cal") == 0
    assert required(p, "rds", "user-cal") + required(p, "rds", "device-cal") == 1


def test_extended_security_updates_by_physical_and_virtual_cores() -> None:
    # Catalog [[cloud.esu]] (Microsoft Learn, ESU enabled by Azure Arc): Windows Server 2012 R2
    # by physical cores, ≥16 per server and ≥8 per processor, or by virtual cores, ≥8 per VM.
    # On 2025-06-01 (before the last ESU day, 2026-10-13): a physical OSE on 2 × 6 cores →
    # max(16, 2 × 8, 12) = 16; a VM of 4 vCPU → 8; a VM in Azure → free. Total 24.
    e = estate(
        [host("old1", 2, 6), host("hv1", 2, 8), AZURE],
        [physical("p", "old1"), vm("v", "hv1", 4), cloud_vm("a", "azure-eu", 4)],
        [
            replace(sw("p", "windows-server", "standard", "2012r2"), esu=True),
            replace(sw("v", "windows-server", "standard", "2012r2"), esu=True),
            replace(sw("a", "windows-server", "standard", "2012r2", "provider"), esu=True),
        ],
    )
    p = compute_position(e, default_catalog(), date(2025, 6, 1))
    assert required(p, "windows-server", "esu") == 24
    assert "esu-free-in-azure" in codes(p)
    # On the default day (2026-11-28) Windows Server 2012 R2's ESU have ended: nothing counted.
    later = position(e)
    assert required(later, "windows-server", "esu") == 0 and "esu-ended" in codes(later)


def test_sql_2014_esu_counts_4_per_vm() -> None:
    # SQL Server 2014 ESU run until 2027-07-13 (catalog); per VM, ≥4 virtual cores: a 2-vCPU VM
    # → 4; 4 owned → 0 short.
    e = estate(
        [host("hv1", 2, 8)],
        [vm("db", "hv1", 2)],
        [replace(sw("db", "sql-server", "standard", "2014", "per-vm"), esu=True)],
        entitlements=[Entitlement("sql-server", "esu", 4, "ESU", "standard", "2014")],
    )
    p = position(e)
    assert required(p, "sql-server", "esu") == 4 and shortfall(p, "sql-server", "esu") == 0


def test_hyperv_containers_count_as_oses_and_process_containers_do_not() -> None:
    # §3.1: Standard covers 2 OSEs (VMs or Hyper-V isolated containers) per full licensing of
    # the server's cores, and unlimited containers without Hyper-V isolation.
    # Host 2 × 8 → 16 per licensing. One VM + two Hyper-V containers = 3 OSEs → 2 × 16 = 32
    # (Datacenter: 16); adding two process-isolated containers changes nothing.
    oses = [
        vm("vm1", "hv1", 4),
        Ose("hc1", "hv1", True, 2, kind="hyperv-container"),
        Ose("hc2", "hv1", True, 2, kind="hyperv-container"),
        Ose("pc1", "hv1", True, 2, kind="container", runs_in="vm1"),
        Ose("pc2", "hv1", True, 2, kind="container", runs_in="vm1"),
    ]
    software = [sw(o.ose, "windows-server", "standard", "2022") for o in oses]
    e = estate(
        [host("hv1", 2, 8)],
        oses,
        software,
        entitlements=[bought("windows-server", 32, "standard", "2022")],
    )
    p = position(e)
    assert "container-covered" in codes(p) and codes(p).count("container-covered") == 2
    # With 32 Standard licenses owned, Standard ×2 costs nothing: 32 required, 0 short.
    assert required(p, "windows-server", "core", "standard") == 32
    assert shortfall(p, "windows-server") == 0


def test_sql_in_a_container_is_licensed_like_a_vm_unless_its_vm_is_licensed() -> None:
    # §3.5: SQL Server in a container is licensed per container like a VM (≥4 per container),
    # or covered by licensing all the cores of the OSE it runs in. A 2-vCPU container on its own
    # → 4; the same in vm1, whose 8 vCPUs are licensed for Enterprise → covered (0 more).
    oses = [
        vm("vm1", "hv1", 8),
        Ose("c1", "hv1", True, 2, kind="container", runs_in="vm1"),
        Ose("c2", "hv1", True, 2, kind="container"),
    ]
    software = [
        sw("vm1", "sql-server", "enterprise", "2022", "per-vm"),
        sw("c1", "sql-server", "standard", "2022", "per-vm"),
        sw("c2", "sql-server", "standard", "2022", "per-vm"),
    ]
    p = position(estate([host("hv1", 2, 8)], oses, software))
    assert required(p, "sql-server", "core", "enterprise") == 8
    assert required(p, "sql-server", "core", "standard") == 4
    assert "container-covered" in codes(p)


# --- what-if: moving a workload to a provider --------------------------------------------------


MOVE = """\
changes:
  - add: host
    host: azure-eu
    provider: azure
  - set: vm
    ose: app1
    host: azure-eu
  - set: software
    ose: app1
    product: windows-server
    model: byol
"""


def test_what_if_moves_a_vm_to_azure_under_azure_hybrid_benefit() -> None:
    from entitle.whatif import apply_changes, diff_positions, parse_changes

    # Before: h1 (2 × 8) runs app1 and app2 under Standard: 2 OSEs → 16 core licenses (§3.1);
    # 16 Standard 2022 cores with SA owned → 0 short.
    e = estate(
        [host("h1", 2, 8)],
        [vm("app1", "h1", 4), vm("app2", "h1", 4)],
        [sw(o, "windows-server", "standard", "2022") for o in ("app1", "app2")],
        entitlements=[bought("windows-server", 16, "standard", "2022", sa_until=SA)],
    )
    changes, problems = parse_changes(MOVE)
    assert problems == []
    after_estate, problems = apply_changes(e, changes, default_catalog())
    assert problems == [] and after_estate is not None
    before, after = position(e), position(after_estate)
    assert shortfall(before, "windows-server") == 0
    # After: h1 still needs its 16 (one VM left: Standard's minimum is all cores, §3.1), and
    # app1 in Azure needs 8 (≥8 per VM, AHB) — Standard is either here or there: 24 needed,
    # 16 owned → 8 short.
    assert required(after, "windows-server", "core") == 24
    assert shortfall(after, "windows-server") == 8
    assert diff_positions(before, after).changed
    # The same move without vcpus: the shared host needs them (a FILE:LINE problem, no estate).
    bad = MOVE.replace(
        "    host: azure-eu\n  - set: software",
        "    host: azure-eu\n    vcpus: ''\n  - set: software",
    )
    changes, _ = parse_changes(bad)
    none, problems = apply_changes(e, changes, default_catalog())
    assert none is None and any("vcpus is blank for app1" in p.message for p in problems)


def test_windows_server_cals_in_azure_and_on_own_licenses_elsewhere() -> None:
    # Catalog choice cloud.ahb_cals_choice: access to Windows Server in Azure needs no Windows
    # Server CAL, also under Azure Hybrid Benefit; own licenses on an AWS dedicated host keep the
    # on-premises rule (§1.1): one user → one CAL there, none in Azure.
    dh = Host("aws-dh", 1, 8, provider="aws", dedicated=True)
    e = estate(
        [AZURE, dh],
        [cloud_vm("az", "azure-eu", 8), vm("dh", "aws-dh", 2)],
        [
            sw("az", "windows-server", "datacenter", "2022", "byol"),
            sw("dh", "windows-server", "datacenter", "2019", "byol"),
        ],
        access=(Access("az", "windows-server", "u1"), Access("dh", "windows-server", "u2")),
    )
    p = position(e)
    cals = required(p, "windows-server", "user-cal") + required(p, "windows-server", "device-cal")
    assert cals == 1


def test_a_passive_copy_in_azure_takes_the_azure_dr_right() -> None:
    # §3.5, §7.3 (SA failover rights): with SA on the primary's licenses, one passive copy for
    # disaster recovery in Azure needs no license. Primary: SQL Server Enterprise 2022 on its own
    # 1 × 8 host, per core → 8 (≥4 per processor). Its copy runs in Azure (4 vCPU, model blank).
    # With 8 SA cores: 8 required in all. Without SA: the copy is licensed like a VM → 4 more.
    def at(sa_until: date) -> Position:
        return position(
            estate(
                [host("h1", 1, 8), AZURE],
                [physical("p", "h1"), cloud_vm("dr", "azure-eu", 4)],
                [
                    sw("p", "sql-server", "enterprise", "2022", "per-core"),
                    replace(sw("dr", "sql-server", "enterprise", "2022"), passive_for="p"),
                ],
                entitlements=[bought("sql-server", 8, "enterprise", "2022", sa_until=sa_until)],
            )
        )

    with_sa = at(SA)
    assert required(with_sa, "sql-server", "core") == 8
    [f] = [f for f in with_sa.findings if f.code == "failover-right"]
    assert "Azure" in f.message
    assert required(at(LAPSED), "sql-server", "core") == 12
