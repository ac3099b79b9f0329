"""Worked examples of licensing-rules.md §10 (servers, cores, VMs, SQL, System Center), each with
the number derived by hand from the rule it cites."""

from __future__ import annotations

import pytest

from builders import (
    chosen,
    estate,
    host,
    owned,
    physical,
    position,
    price,
    required,
    sw,
    users_reach,
    vm,
)
from entitle.estate.records import Managed


def ws_physical(processors: int, cores: int) -> int:
    e = estate(
        [host("h", processors, cores)],
        [physical("h-os", "h")],
        [sw("h-os", "windows-server", "standard", "2025")],
    )
    return required(position(e), "windows-server", "core", "standard")


# §3.1: ws_cores = max(16, Σ max(8, cores per processor)); one Standard licensing covers the
# physical OSE when it runs no VMs.
@pytest.mark.parametrize(
    ("example", "processors", "cores", "expected"),
    [
        (1, 1, 6, 16),  # max(16, max(8, 6)) = 16
        (2, 2, 4, 16),  # max(16, 8 + 8) = 16
        (4, 2, 8, 16),  # max(16, 8 + 8) = 16
        (5, 2, 12, 24),  # 12 + 12 = 24
        (8, 4, 6, 32),  # 4 × max(8, 6) = 32
        (9, 1, 4, 16),  # max(16, 8) = 16
        (10, 2, 16, 32),  # 16 + 16
        (12, 2, 24, 48),  # 24 + 24 = 48 = 3 sixteen-packs
        (13, 1, 10, 16),  # max(16, 10)
    ],
)
def test_windows_server_core_examples(
    example: int, processors: int, cores: int, expected: int
) -> None:
    assert ws_physical(processors, cores) == expected


def test_example_12_packs_are_three_sixteen_packs() -> None:
    e = estate(
        [host("h", 2, 24)],
        [physical("h-os", "h")],
        [sw("h-os", "windows-server", "standard", "2025")],
    )
    line = next(x for x in position(e).lines if x.product == "windows-server")
    assert line.packs == {16: 3}  # 48 = 3 × 16 (§10 #12)


def test_example_17_standard_four_vms_stacks_twice() -> None:
    # §3.1: Standard covers 2 OSEs per full licensing; 4 VMs → 2 × 16 = 32 (§10 #17).
    e = estate(
        [host("h", 2, 8)],
        [physical("h-os", "h", hosting_only=True)] + [vm(f"v{i}", "h") for i in range(4)],
        [sw(f"v{i}", "windows-server", "standard", "2025") for i in range(4)],
    )
    p = position(e)
    assert chosen(p, "windows-server@h") == "standard ×2"
    assert required(p, "windows-server", "core", "standard") == 32


def test_example_19_datacenter_forty_vms() -> None:
    # §3.1: Datacenter = unlimited OSEs on the fully licensed server: 2 × 12 → 24 (§10 #19).
    e = estate(
        [host("h", 2, 12)],
        [vm(f"v{i}", "h") for i in range(40)],
        [sw(f"v{i}", "windows-server", "datacenter", "2025") for i in range(40)],
    )
    assert required(position(e), "windows-server", "core", "datacenter") == 24


def test_many_standard_vms_choose_datacenter_when_cheaper() -> None:
    # 2×8 host, 20 VMs: Standard needs 10 stacks × 16 × 73.50 = 11,760;
    # Datacenter 16 × 423.1875 = 6,771 → Datacenter (catalog prices, §8).
    e = estate(
        [host("h", 2, 8)],
        [vm(f"v{i}", "h") for i in range(20)],
        [sw(f"v{i}", "windows-server", "standard", "2025") for i in range(20)],
    )
    p = position(e)
    assert chosen(p, "windows-server@h") == "datacenter"
    assert required(p, "windows-server", "core", "datacenter") == 16
    assert required(p, "windows-server", "core", "standard") == 0


def test_cluster_hosts_each_licensed_for_every_vm() -> None:
    # §3.1: a VM that can move must be licensed on every host it may run on. Two 1×8 hosts of
    # one cluster, 3 Standard VMs on h1 and 1 on h2: each host may run all 4 → 2 stacks × 16.
    e = estate(
        [host("h1", 1, 8, cluster="c"), host("h2", 1, 8, cluster="c")],
        [vm("a", "h1"), vm("b", "h1"), vm("c", "h1"), vm("d", "h2")],
        [sw(x, "windows-server", "standard", "2025") for x in "abcd"],
    )
    p = position(e)
    assert required(p, "windows-server", "core", "standard") == 2 * 32


def test_hosting_only_physical_ose_is_free_but_a_working_one_counts() -> None:
    # §3.1: Standard covers 2 VMs plus the physical OSE if it only hosts them.
    hosting = estate(
        [host("h", 1, 16)],
        [physical("p", "h", True), vm("a", "h"), vm("b", "h")],
        [sw(x, "windows-server", "standard", "2025") for x in ("p", "a", "b")],
    )
    working = estate(
        [host("h", 1, 16)],
        [physical("p", "h"), vm("a", "h"), vm("b", "h")],
        [sw(x, "windows-server", "standard", "2025") for x in ("p", "a", "b")],
    )
    assert required(position(hosting), "windows-server", "core", "standard") == 16
    assert required(position(working), "windows-server", "core", "standard") == 32  # 3 OSEs


def test_example_24_per_vm_licensing() -> None:
    # §3.2: per VM, virtual cores with at least 8 per VM: 2, 4, 12 vCPU → 8 + 8 + 12 = 28 ≥ 16.
    e = estate(
        [host("h", 2, 32)],
        [vm("a", "h", 2), vm("b", "h", 4), vm("c", "h", 12)],
        [sw(x, "windows-server", "standard", "2025", "per-vm") for x in "abc"],
    )
    assert required(position(e), "windows-server", "core") == 28


def test_per_vm_customer_minimum_is_sixteen() -> None:
    # §3.2: at least 16 core licenses per customer: one 2-vCPU VM → 8, raised to 16.
    e = estate(
        [host("h", 2, 32)],
        [vm("a", "h", 2)],
        [sw("a", "windows-server", "standard", "2025", "per-vm")],
    )
    p = position(e)
    assert required(p, "windows-server", "core") == 16
    assert any(f.code == "per-vm-needs-sa" for f in p.findings)


def test_example_57_payg_bills_vcpus_without_minimums() -> None:
    # §3.3: WS 2025 pay-as-you-go, 1 VM with 2 vCPU → billed 2 cores, nothing bought.
    e = estate(
        [host("h", 2, 16)],
        [vm("a", "h", 2)],
        [sw("a", "windows-server", "standard", "2025", "payg")],
    )
    p = position(e)
    line = next(x for x in p.lines if x.product == "windows-server")
    assert (line.required, line.shortfall, line.billed) == (2, 0, True)
    assert p.total_cost == 0


# §3.5 / §3.6: SQL per core, ≥4 per processor, core factor on physical cores.
@pytest.mark.parametrize(
    ("example", "processors", "cores", "cpu", "expected"),
    [
        (26, 1, 2, None, 4),  # dual-core factor 2: 2 × 2 = 4 (and ≥ 4)
        (27, 2, 2, None, 8),  # 2 processors × 2 cores × 2 = 8
        (28, 2, 6, "Intel Xeon E5-2620", 12),  # factor 1: 12
        (31, 1, 8, "AMD Opteron 6128", 6),  # 8 × 0.75 = 6
    ],
)
def test_sql_physical_core_examples(
    example: int, processors: int, cores: int, cpu: str | None, expected: int
) -> None:
    e = estate(
        [host("h", processors, cores, cpu)],
        [physical("p", "h")],
        [sw("p", "sql-server", "enterprise", "2022")],
    )
    assert required(position(e), "sql-server", "core", "enterprise") == expected


def test_sql_per_vm_minimum_four() -> None:
    # §3.5: per VM, one license per virtual core, at least 4 per VM; no core factor.
    e = estate(
        [host("h", 2, 16, "AMD Opteron 6284 SE")],
        [vm("a", "h", 2), vm("b", "h", 6)],
        [sw(x, "sql-server", "standard", "2022", "per-vm") for x in "ab"],
    )
    assert required(position(e), "sql-server", "core", "standard") == 4 + 6


@pytest.mark.parametrize(("users", "expected"), [(30, "server-cal"), (31, "per-vm")])
def test_example_36_sql_break_even_four_core_vm(users: int, expected: str) -> None:
    # §10 #36: $989 + $230 × users vs 4 cores × $1,972.50 = $7,890: 30 users → $7,889
    # (Server + CAL); 31 → $8,119 (per core).
    e = estate(
        [host("h", 1, 4)],
        [vm("a", "h", 4)],
        [sw("a", "sql-server", "standard", "2022")],
        access=users_reach("a", "sql-server", users),
    )
    p = position(e)
    within = next(c for c in p.choices if c.decision.key == "sql-server@h")
    assert within.option.label == "each-vm"
    assert within.sub[0].option.label == expected


@pytest.mark.parametrize(("users", "expected"), [(132, "server-cal"), (133, "per-core")])
def test_example_37_sql_break_even_sixteen_core_physical(users: int, expected: str) -> None:
    # §10 #37: 16 × $1,972.50 = $31,560 vs $989 + $230 × users: 132 → $31,349; 133 → $31,579.
    e = estate(
        [host("h", 1, 16)],
        [physical("p", "h")],
        [sw("p", "sql-server", "standard", "2022")],
        access=users_reach("p", "sql-server", users),
    )
    assert chosen(position(e), "sql-server@p") == expected


def test_sql_enterprise_host_for_many_vms() -> None:
    # §3.5: Enterprise on all physical cores + SA → unlimited SQL VMs. 1×8 host, ten 8-vCPU
    # Enterprise VMs: per VM 80 × $7,561.50 vs host 8 × $7,561.50 → the host. With SA owned on
    # all 8 core licenses of the host (SA on only some of them gives no unlimited virtualization).
    e = estate(
        [host("h", 1, 8)],
        [vm(f"v{i}", "h", 8) for i in range(10)],
        [sw(f"v{i}", "sql-server", "enterprise", "2022") for i in range(10)],
        entitlements=[
            owned(
                "sql-server",
                "core",
                8,
                "enterprise",
                "2022",
                sa_until=__import__("datetime").date(2028, 1, 1),
            )
        ],
    )
    p = position(e)
    assert chosen(p, "sql-server@h") == "enterprise-host"
    assert required(p, "sql-server", "core", "enterprise") == 8


def test_dev_test_oses_are_excluded_with_a_finding() -> None:
    e = estate(
        [host("h", 1, 8)],
        [vm("t", "h", 4, env="dev-test")],
        [sw("t", "sql-server", "enterprise", "2022")],
    )
    p = position(e)
    assert required(p, "sql-server", "core") == 0
    assert [f.code for f in p.findings] == ["dev-test-excluded"]


def test_system_center_server_mls_like_windows_server() -> None:
    # §5: SC server MLs per core, Standard manages 2 OSEs per full licensing. 2×8 host, 4
    # managed VMs: Standard 2 × 16 × 82.6875 = 2,646 < Datacenter 16 × 225.4375 = 3,607.
    e = estate(
        [host("h", 2, 8)],
        [vm(f"v{i}", "h") for i in range(4)],
        [],
        managed=[Managed("system-center", f"v{i}") for i in range(4)],
    )
    p = position(e)
    assert required(p, "system-center", "server-ml", "standard") == 32


def test_example_54_configmgr_client_mls_per_user_or_per_ose() -> None:
    # §10 #54: 100 users each with a PC and a laptop → 100 user client MLs or 200 OSE client
    # MLs, whichever costs less: at $30/user vs $22/OSE (2 × 22 = 44 > 30) → 100 user MLs;
    # at $50/user (> 44) → 200 OSE MLs.
    managed = [
        Managed("configuration-manager", None, f"{k}{i}", f"u{i}")
        for i in range(100)
        for k in ("pc", "lt")
    ]
    for user_price, expect in (("30", ("client-ml-user", 100)), ("50", ("client-ml-ose", 200))):
        e = estate(
            [host("h", 1, 8)],
            [],
            [],
            managed=managed,
            prices=[
                price("configuration-manager", "client-ml-user", user_price),
                price("configuration-manager", "client-ml-ose", "22"),
            ],
        )
        p = position(e)
        lines = [(x.license, x.required) for x in p.lines if x.product == "configuration-manager"]
        assert lines == [expect]


def test_essentials_is_one_server_license_and_flags_limits() -> None:
    # §3.4: Essentials 2022: one server license, no CALs; ≤ 25 users, 1 processor, 10 cores.
    e = estate(
        [host("b", 2, 8)],
        [physical("b-os", "b")],
        [sw("b-os", "windows-server", "essentials", "2022")],
        access=users_reach("b-os", "windows-server", 30),
    )
    p = position(e)
    assert required(p, "windows-server", "server", "essentials") == 1
    codes = sorted(
        f.message.split(" allows at most ")[1].split(";")[0]
        for f in p.findings
        if f.code == "essentials-limit"
    )
    assert codes == ["1 processors", "10 cores", "25 users"]


def test_a_blank_windows_server_edition_is_licensed_as_the_cheaper_edition() -> None:
    """An edition no export names (RVTools) is left blank; the host is then licensed like an
    open edition choice (§3.1): h (2 × 8 = 16 cores) with 7 such VMs needs Standard ×4 (2 OSEs
    per licensing, ceil(7 / 2) = 4) = 64 core licenses, or Datacenter 16. With Standard priced
    100 and Datacenter 300 a core: 6,400 against 4,800 → Datacenter. With 3 VMs, Standard ×2 =
    32 × 100 = 3,200 against 4,800 → Standard. The assumption is the finding edition-unknown."""
    prices = [
        price("windows-server", "core", "100", "standard"),
        price("windows-server", "core", "300", "datacenter"),
    ]

    def with_vms(n: int):  # type: ignore[no-untyped-def]
        names = [f"v{i}" for i in range(n)]
        e = estate(
            [host("h", 2, 8)],
            [vm(name, "h", 2) for name in names],
            [sw(name, "windows-server", None, "2022") for name in names],
            prices=prices,
        )
        return position(e)

    seven = with_vms(7)
    assert chosen(seven, "windows-server@h") == "datacenter"
    assert required(seven, "windows-server", "core", "datacenter") == 16
    three = with_vms(3)
    assert chosen(three, "windows-server@h") == "standard ×2"
    assert required(three, "windows-server", "core", "standard") == 32
    assert [f.code for f in three.findings].count("edition-unknown") == 1
