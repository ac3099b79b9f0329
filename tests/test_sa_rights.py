"""Software Assurance rights judged on the day of the position (issue #12, item 5):
License Mobility within a server farm, SQL Server failover rights, SA-only rights and lapses.

Every number is worked by hand from licensing-rules.md (section cited at each test); the catalog's
choices are in docs/rules/software-assurance-and-vm-history.md.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from builders import AS_OF, chosen, estate, host, owned, physical, position, required, sw, vm
from entitle.estate.records import Host, Ose, Placement, Software
from entitle.position import Position

SA_LONG = AS_OF + timedelta(days=400)  # active on the day and past the next true-up (365 days)
SA_ENDED = AS_OF - timedelta(days=1)  # lapsed the day before the position


def shortfall(p: Position, product: str, license: str, edition: str | None = None) -> int:
    return sum(
        x.shortfall
        for x in p.lines
        if x.product == product
        and x.license == license
        and (edition is None or x.edition == edition)
    )


def codes(p: Position) -> list[str]:
    return [f.code for f in p.findings]


def three_host_cluster() -> list[Host]:
    # Three hosts of 2 × 8 cores each, in cluster c.
    return [host(h, 2, 8, cluster="c") for h in ("h1", "h2", "h3")]


# --- License Mobility within a server farm (§7.1, §3.5 per VM) -----------------------------------


def test_per_vm_sql_2019_with_sa_is_licensed_once() -> None:
    # §3.5: per VM, one core license per virtual core, minimum 4 → a 4-vCPU VM needs 4.
    # §7.1: SQL Server per-VM licenses with SA may move within the farm as often as needed, so the
    # VM needs its 4 licenses once, whichever of h1..h3 it runs on. 4 owned with SA → no shortfall.
    e = estate(
        three_host_cluster(),
        [vm("sql1", "h1", 4)],
        [sw("sql1", "sql-server", "enterprise", "2019", "per-vm")],
        entitlements=[owned("sql-server", "core", 4, "enterprise", "2019", sa_until=SA_LONG)],
    )
    p = position(e)
    assert required(p, "sql-server", "core", "enterprise") == 4
    assert shortfall(p, "sql-server", "core") == 0
    assert "sa-lapses" not in codes(p) and "needs-sa" not in codes(p)


def test_per_vm_sql_2019_without_sa_is_licensed_on_every_host() -> None:
    # §7.1: without SA the licenses cannot follow the VM; it may run on h1, h2 and h3 (its
    # cluster), so each host is licensed for it: 3 hosts × 4 core licenses = 12. 4 owned → 8 short.
    e = estate(
        three_host_cluster(),
        [vm("sql1", "h1", 4)],
        [sw("sql1", "sql-server", "enterprise", "2019", "per-vm")],
        entitlements=[owned("sql-server", "core", 4, "enterprise", "2019")],
    )
    p = position(e)
    assert required(p, "sql-server", "core", "enterprise") == 12
    assert shortfall(p, "sql-server", "core", "enterprise") == 8
    hosts = sorted(n.host or "" for n in p.needs if n.product == "sql-server")
    assert hosts == ["h1", "h2", "h3"]
    warning = [f for f in p.findings if f.code == "needs-sa"]
    assert len(warning) == 1 and "counted on each of h1, h2, h3" in warning[0].message


def test_per_vm_sql_2019_with_lapsed_sa_counts_as_without() -> None:
    # SA ended the day before the position: judged on the day, it is not active → 12 as above.
    e = estate(
        three_host_cluster(),
        [vm("sql1", "h1", 4)],
        [sw("sql1", "sql-server", "enterprise", "2019", "per-vm")],
        entitlements=[owned("sql-server", "core", 4, "enterprise", "2019", sa_until=SA_ENDED)],
    )
    assert required(position(e), "sql-server", "core", "enterprise") == 12


def test_open_model_without_sa_prefers_per_vm_on_every_host_to_enterprise_hosts() -> None:
    # Model open, no SA. Each VM alone: 3 × 4 = 12 core licenses. Enterprise on every host
    # without SA: 2 × 8 = 16 per host (≥4/processor), 3 hosts = 48 (§3.5). 12 < 48 → each VM.
    e = estate(
        three_host_cluster(),
        [vm("sql1", "h1", 4)],
        [sw("sql1", "sql-server", "enterprise", "2019")],
    )
    p = position(e)
    assert chosen(p, "sql-server@c") == "each-vm"
    assert required(p, "sql-server", "core", "enterprise") == 12


def test_sa_stock_goes_to_the_vm_with_the_biggest_saving() -> None:
    # Two per-VM SQL 2019 Enterprise VMs in the three-host cluster: big (8 vCPU → 8) and small
    # (4 vCPU → 4); 8 core licenses with SA owned. Saving of mobility: big 8 × (3 − 1) = 16,
    # small 4 × 2 = 8 → big gets the SA licenses: 8 once; small on every host: 3 × 4 = 12.
    # Required 8 + 12 = 20.
    e = estate(
        three_host_cluster(),
        [vm("big", "h1", 8), vm("small", "h2", 4)],
        [
            sw("big", "sql-server", "enterprise", "2019", "per-vm"),
            sw("small", "sql-server", "enterprise", "2019", "per-vm"),
        ],
        entitlements=[owned("sql-server", "core", 8, "enterprise", "2019", sa_until=SA_LONG)],
    )
    p = position(e)
    assert required(p, "sql-server", "core", "enterprise") == 20
    big = [n for n in p.needs if n.ose == "big"]
    assert [n.quantity for n in big] == [8] and big[0].sa_required


def test_ose_hosts_restricts_a_vm_to_two_of_three_hosts() -> None:
    # oses.csv hosts = h1;h2: the VM may run on 2 of the 3 cluster hosts. Without SA its per-VM
    # licenses are needed on each: 2 × 4 = 8 (not 12, §7.1).
    restricted = replace(vm("sql1", "h1", 4), hosts=("h1", "h2"))
    e = estate(
        three_host_cluster(),
        [restricted],
        [sw("sql1", "sql-server", "enterprise", "2019", "per-vm")],
    )
    assert required(position(e), "sql-server", "core", "enterprise") == 8


def test_ose_hosts_restricts_windows_server_per_core_hosts() -> None:
    # §3.1: a Windows Server VM counts on every host it may run on. Restricted to h1;h2, the
    # Standard VM counts on h1 and h2: each host 2 × 8 = 16 core licenses (≥8/processor,
    # ≥16/server), 1 OSE ≤ 2 → one licensing; h3 runs no Windows Server → 2 × 16 = 32 (48 when
    # the VM could run on all three).
    restricted = replace(vm("w1", "h1", 4), hosts=("h1", "h2"))
    e = estate(three_host_cluster(), [restricted], [sw("w1", "windows-server", "standard", "2022")])
    p = position(e)
    assert required(p, "windows-server", "core") == 32
    unrestricted = estate(
        three_host_cluster(), [vm("w1", "h1", 4)], [sw("w1", "windows-server", "standard", "2022")]
    )
    assert required(position(unrestricted), "windows-server", "core") == 48


def test_sql_server_cal_vm_without_sa_needs_a_server_license_per_host() -> None:
    # Server + CAL, SQL Server 2019 Standard fixed model=server-cal: one server license per OSE
    # (§3.5); without SA it cannot follow the VM between h1, h2, h3 → 3 server licenses. With one
    # server license with SA it follows the VM → 1.
    vms = [vm("s1", "h1", 4)]
    soft = [sw("s1", "sql-server", "standard", "2019", "server-cal")]
    without = position(estate(three_host_cluster(), vms, soft))
    assert required(without, "sql-server", "server") == 3
    with_sa = position(
        estate(
            three_host_cluster(),
            vms,
            soft,
            entitlements=[owned("sql-server", "server", 1, "standard", "2019", sa_until=SA_LONG)],
        )
    )
    assert required(with_sa, "sql-server", "server") == 1
    assert shortfall(with_sa, "sql-server", "server") == 0


# --- SA-only rights judged on the day (§3.2, §3.5, §7.3) ----------------------------------------


def test_windows_per_vm_needs_licenses_with_active_sa() -> None:
    # §3.2: per VM, virtual cores with minimum 8 per VM and 16 per customer: one 4-vCPU VM → 8,
    # plus 8 to reach the customer minimum = 16, all with active SA or subscription. 16 owned
    # without SA do not count for it → 16 short, a per-vm-needs-sa warning. 16 with SA → 0 short.
    vms = [vm("w1", "h1", 4)]
    soft = [sw("w1", "windows-server", "standard", "2022", "per-vm")]
    no_sa = position(
        estate(
            three_host_cluster(),
            vms,
            soft,
            entitlements=[owned("windows-server", "core", 16, "standard", "2022")],
        )
    )
    assert required(no_sa, "windows-server", "core") == 16
    assert shortfall(no_sa, "windows-server", "core") == 16
    assert "per-vm-needs-sa" in codes(no_sa)
    with_sa = position(
        estate(
            three_host_cluster(),
            vms,
            soft,
            entitlements=[
                owned("windows-server", "core", 16, "standard", "2022", sa_until=SA_LONG)
            ],
        )
    )
    assert shortfall(with_sa, "windows-server", "core") == 0
    assert "per-vm-needs-sa" not in codes(with_sa)


def test_sql_2022_per_vm_only_counts_licenses_with_sa() -> None:
    # §3.5: SQL Server 2022 per VM requires SA. A 6-vCPU VM → 6 core licenses (≥4); 6 owned
    # without SA → all 6 short, with the needs-sa warning when per VM is fixed.
    e = estate(
        [host("h1", 2, 8)],
        [vm("s", "h1", 6)],
        [sw("s", "sql-server", "enterprise", "2022", "per-vm")],
        entitlements=[owned("sql-server", "core", 6, "enterprise", "2022")],
    )
    p = position(e)
    assert required(p, "sql-server", "core") == 6
    assert shortfall(p, "sql-server", "core") == 6
    assert "needs-sa" in codes(p)


def test_unlimited_virtualization_needs_sa_on_every_core() -> None:
    # §3.5: Enterprise on all physical cores + SA → unlimited VMs. Host 1 × 8 cores, ten 8-vCPU
    # Enterprise 2022 VMs fixed per core. SA on all 8 licenses → 8. SA on 2 of the 8 → no
    # unlimited virtualization: one VM per core license (catalog choice, §12 q4) → max(8, 10) = 10.
    def make(sa_qty: int) -> Position:
        return position(
            estate(
                [host("h", 1, 8)],
                [vm(f"v{i}", "h", 8) for i in range(10)],
                [sw(f"v{i}", "sql-server", "enterprise", "2022", "per-core") for i in range(10)],
                entitlements=[
                    owned("sql-server", "core", sa_qty, "enterprise", "2022", sa_until=SA_LONG)
                ],
            )
        )

    assert required(make(8), "sql-server", "core", "enterprise") == 8
    assert required(make(2), "sql-server", "core", "enterprise") == 10


def test_sa_lapsing_before_the_next_true_up_is_a_finding() -> None:
    # SA active on the day (per-VM mobility holds: 4 licenses once) but ending 100 days later,
    # before the next true-up (catalog choice: within 365 days) → sa-lapses warning naming E-7.
    e = estate(
        three_host_cluster(),
        [vm("sql1", "h1", 4)],
        [sw("sql1", "sql-server", "enterprise", "2019", "per-vm")],
        entitlements=[
            replace(
                owned("sql-server", "core", 4, "enterprise", "2019"),
                id="E-7",
                sa_until=AS_OF + timedelta(days=100),
            )
        ],
    )
    p = position(e)
    assert required(p, "sql-server", "core") == 4
    lapses = [f for f in p.findings if f.code == "sa-lapses"]
    assert len(lapses) == 1 and "E-7" in lapses[0].message
    assert str(AS_OF + timedelta(days=100)) in lapses[0].message


# --- Failover rights (§3.5 "SA failover rights", §7.3) ------------------------------------------


def passive(ose: str, primary: str, version: str = "2019") -> Software:
    return Software(ose, "sql-server", version, "enterprise", None, passive_for=primary)


def test_passive_copy_is_free_with_sa_on_the_primary() -> None:
    # Primary p1 on a 1 × 8-core host: 8 core licenses (≥4/processor, §3.5). Passive copy p2 on
    # another 1 × 8 host. With SA on the primary's licenses the HA copy needs none → 8 in all.
    e = estate(
        [host("a", 1, 8), host("b", 1, 8)],
        [physical("p1", "a"), physical("p2", "b")],
        [sw("p1", "sql-server", "enterprise", "2019"), passive("p2", "p1")],
        entitlements=[owned("sql-server", "core", 8, "enterprise", "2019", sa_until=SA_LONG)],
    )
    p = position(e)
    assert required(p, "sql-server", "core") == 8
    free = [f for f in p.findings if f.code == "failover-right"]
    assert len(free) == 1 and "p2" in free[0].message and "high availability" in free[0].message


def test_passive_copy_without_sa_is_licensed() -> None:
    # Same estate, the 8 licenses without SA: no failover rights → p2 licensed like any
    # installation: 8 + 8 = 16, with a passive-needs-sa warning.
    e = estate(
        [host("a", 1, 8), host("b", 1, 8)],
        [physical("p1", "a"), physical("p2", "b")],
        [sw("p1", "sql-server", "enterprise", "2019"), passive("p2", "p1")],
        entitlements=[owned("sql-server", "core", 8, "enterprise", "2019")],
    )
    p = position(e)
    assert required(p, "sql-server", "core") == 16
    assert shortfall(p, "sql-server", "core") == 8
    assert "passive-needs-sa" in codes(p)


def test_passive_copies_beyond_ha_dr_and_azure_dr_are_licensed() -> None:
    # Per primary with SA: one HA, one DR, one DR in Azure (catalog sa_rights.failover 1/1/1).
    # Copies p2, p3, p4 on premises and z1 on a host with provider=azure (each 1 × 8 → 8):
    # p2 = HA, p3 = DR, z1 = Azure DR are free; p4 is beyond → licensed: 8 (p1) + 8 (p4) = 16.
    azure = Host("az", 1, 8, extra={"provider": "azure"})
    hosts = [host(h, 1, 8) for h in ("a", "b", "c", "d")] + [azure]
    oses = [physical("p1", "a"), physical("p2", "b"), physical("p3", "c")]
    oses += [physical("p4", "d"), Ose("z1", "az", True, 8)]
    soft = [sw("p1", "sql-server", "enterprise", "2019")]
    soft += [passive(x, "p1") for x in ("p2", "p3", "p4", "z1")]
    e = estate(
        hosts,
        oses,
        soft,
        entitlements=[owned("sql-server", "core", 8, "enterprise", "2019", sa_until=SA_LONG)],
    )
    p = position(e)
    assert required(p, "sql-server", "core") == 16
    free = sorted(f.message.split()[0] for f in p.findings if f.code == "failover-right")
    assert free == ["p2", "p3", "z1"]
    beyond = [f for f in p.findings if f.code == "passive-beyond-rights"]
    assert len(beyond) == 1 and beyond[0].message.startswith("p4")


def test_passive_copy_uses_sa_assigned_to_the_primary() -> None:
    # The primary's licenses are assigned to it (host a) without SA; an SA license elsewhere
    # (assigned to host b's other server) is not the primary's → p2 is licensed: 8 + 8 = 16.
    e = estate(
        [host("a", 1, 8), host("b", 1, 8)],
        [physical("p1", "a"), physical("p2", "b")],
        [sw("p1", "sql-server", "enterprise", "2019"), passive("p2", "p1")],
        entitlements=[
            owned("sql-server", "core", 8, "enterprise", "2019", assigned_to="a"),
            owned("sql-server", "core", 8, "enterprise", "2019", "b", sa_until=SA_LONG),
        ],
    )
    p = position(e)
    assert required(p, "sql-server", "core") == 16
    assert "passive-needs-sa" in codes(p)


def test_catalog_carries_the_failover_counts_and_the_90_days() -> None:
    from entitle.catalog import default_catalog

    rights = default_catalog().sa_rights
    assert rights is not None
    row = rights.failover_for("sql-server")
    assert row is not None and (row.ha, row.dr, row.azure_dr) == (1, 1, 1)
    assert row.source.startswith("https://") and row.choice
    assert rights.reassignment_days == 90 and rights.true_up_days == 365


def test_catalog_sa_rights_are_validated() -> None:
    # A typo in the [sa_rights] table is an error at load time, naming the entry.
    import pytest

    from entitle.catalog import CatalogError, parse_catalog

    text = (
        Path(__file__).resolve().parents[1] / "src/entitle/catalog/data/catalog.toml"
    ).read_text("utf-8")
    broken = text.replace('"sql-server:per-vm",', '"sql-srever:per-vm",', 1)
    with pytest.raises(CatalogError) as err:
        parse_catalog(broken)
    assert any("sql-srever" in p for p in err.value.problems)


def test_enterprise_hosts_follow_ose_hosts() -> None:
    # Ten 4-vCPU SQL Server 2022 Enterprise VMs fixed per core, each restricted to h1;h2 of the
    # three-host cluster: Enterprise on every core of h1 and h2 = 16 + 16 = 32 (§3.5), h3 not
    # at all; SA on those 32 → unlimited VMs, 32 in all and none short.
    oses = [replace(vm(f"v{i}", "h1", 4), hosts=("h1", "h2")) for i in range(10)]
    soft = [sw(f"v{i}", "sql-server", "enterprise", "2022", "per-core") for i in range(10)]
    e = estate(
        three_host_cluster(),
        oses,
        soft,
        entitlements=[owned("sql-server", "core", 32, "enterprise", "2022", sa_until=SA_LONG)],
    )
    p = position(e)
    assert required(p, "sql-server", "core", "enterprise") == 32
    assert shortfall(p, "sql-server", "core") == 0
    assert sorted(n.host or "" for n in p.needs if n.product == "sql-server") == ["h1", "h2"]


# --- Exchange, SharePoint, Skype for Business server licenses (§7.1, Server + CAL) ---------------


def test_exchange_vm_without_sa_holds_a_server_license_on_every_host() -> None:
    # Server + CAL: one Exchange server license per OSE, assigned to the physical server it runs
    # on. §7.1: without SA it may be reassigned once per 90 days only, so a VM that may run on
    # h1, h2 and h3 (its cluster) needs a license assigned to each: 3. One owned → 2 short.
    e = estate(
        three_host_cluster(),
        [vm("mail1", "h1", 8)],
        [sw("mail1", "exchange-server", "standard", "2019")],
        entitlements=[owned("exchange-server", "server", 1, "standard", "2019")],
    )
    p = position(e)
    assert required(p, "exchange-server", "server", "standard") == 3
    assert shortfall(p, "exchange-server", "server") == 2
    assert sorted(n.host or "" for n in p.needs if n.product == "exchange-server") == [
        "h1",
        "h2",
        "h3",
    ]
    warning = [f for f in p.findings if f.code == "needs-sa"]
    assert len(warning) == 1 and "counted on each of h1, h2, h3" in warning[0].message


def test_exchange_vm_with_sa_holds_one_license_that_follows_it() -> None:
    # §7.1 License Mobility within Server Farms (with SA for Exchange since 2014): the one
    # license follows the VM between h1..h3 → required 1, covered by the SA license, no warning.
    e = estate(
        three_host_cluster(),
        [vm("mail1", "h1", 8)],
        [sw("mail1", "exchange-server", "standard", "2019")],
        entitlements=[owned("exchange-server", "server", 1, "standard", "2019", sa_until=SA_LONG)],
    )
    p = position(e)
    assert required(p, "exchange-server", "server") == 1
    assert shortfall(p, "exchange-server", "server") == 0
    needs = [n for n in p.needs if n.product == "exchange-server"]
    assert len(needs) == 1 and needs[0].sa_required
    assert "needs-sa" not in codes(p)


def test_sharepoint_sa_license_goes_to_the_vm_that_saves_most() -> None:
    # Two SharePoint 2019 VMs, one SA server license owned. wide may run on h1..h3 (its cluster,
    # saving 3 − 1 = 2); narrow is pinned by oses.csv hosts to h1 and h2 (saving 1). The SA
    # license follows wide (1); narrow holds one on each of its 2 hosts → required 1 + 2 = 3.
    narrow = replace(vm("narrow", "h2", 8), hosts=("h1", "h2"))
    e = estate(
        three_host_cluster(),
        [vm("wide", "h1", 8), narrow],
        [
            sw("wide", "sharepoint-server", None, "2019"),
            sw("narrow", "sharepoint-server", None, "2019"),
        ],
        entitlements=[owned("sharepoint-server", "server", 1, None, "2019", sa_until=SA_LONG)],
    )
    p = position(e)
    assert required(p, "sharepoint-server", "server") == 3
    by_vm = {
        ose: sorted(n.host or "" for n in p.needs if n.ose == ose) for ose in ("wide", "narrow")
    }
    assert by_vm == {"wide": ["h1"], "narrow": ["h1", "h2"]}


def test_exchange_vm_that_moved_30_days_ago_counts_on_both_hosts_without_sa() -> None:
    # Two stand-alone hosts; mail1 runs on h2 and left h1 30 days before the position
    # (placements.csv). §7.1: the license on h1 cannot have moved yet (90 days) → 2 licenses;
    # with SA it follows the VM → 1.
    e = estate(
        [host("h1", 2, 8), host("h2", 2, 8)],
        [vm("mail1", "h2", 8)],
        [sw("mail1", "exchange-server", "standard", "2019")],
    )
    e = replace(
        e,
        placements=(Placement("mail1", "h1", AS_OF - timedelta(days=400), AS_OF - timedelta(30)),),
    )
    assert required(position(e), "exchange-server", "server") == 2
    with_sa = replace(
        e,
        entitlements=(owned("exchange-server", "server", 1, "standard", "2019", sa_until=SA_LONG),),
    )
    assert required(position(with_sa), "exchange-server", "server") == 1


def test_physical_exchange_server_holds_one_license() -> None:
    # A physical OSE never moves: one server license, SA or not.
    e = estate(
        three_host_cluster(),
        [physical("mail1", "h1")],
        [sw("mail1", "exchange-server", "standard", "2019")],
    )
    assert required(position(e), "exchange-server", "server") == 1
