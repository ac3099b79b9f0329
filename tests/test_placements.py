"""VM history and the 90-day rule (issue #12, item 7; licensing-rules.md §7.1).

A license without License Mobility may be reassigned to another server only 90 days after its
last assignment, so a VM that left a host fewer than 90 days before the day of the position still
counts on that host. Catalog choice (sa_rights.reassignment_choice): left 89 days before → counts,
90 days → no longer (the ledger allows the next reassignment on day 90).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from builders import AS_OF, estate, host, owned, position, required, sw, vm
from entitle.estate.records import Estate, Placement


def moved(days_ago: int, product: str = "windows-server") -> Estate:
    # Two stand-alone hosts of 2 × 8 cores. VM v runs on h2 now; placements.csv says it ran on
    # h1 from 2025-01-01 until `days_ago` days before the position.
    edition, version = (
        ("standard", "2022") if product == "windows-server" else ("enterprise", "2019")
    )
    model = None if product == "windows-server" else "per-vm"
    e = estate(
        [host("h1", 2, 8), host("h2", 2, 8)],
        [vm("v", "h2", 4)],
        [sw("v", product, edition, version, model)],
    )
    left = AS_OF - timedelta(days=days_ago)
    return replace(e, placements=(Placement("v", "h1", date(2025, 1, 1), left),))


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        # §3.1: each host 2 × 8 = 16 core licenses (≥8/processor, ≥16/server), one OSE → one
        # Standard licensing. Left 30 or 89 days ago: h1 and h2 both count v → 16 + 16 = 32.
        (30, 32),
        (89, 32),
        # Left 90 or 95 days ago: the license on h1 could have moved (§7.1) → h2 only: 16.
        (90, 16),
        (95, 16),
    ],
)
def test_windows_server_counts_a_vm_on_the_host_it_left(days_ago: int, expected: int) -> None:
    p = position(moved(days_ago))
    assert required(p, "windows-server", "core") == expected
    history = [f for f in p.findings if f.code == "vm-history"]
    assert bool(history) == (expected == 32)
    if history:
        assert "v left h1" in history[0].message


@pytest.mark.parametrize(("days_ago", "expected"), [(30, 8), (95, 4)])
def test_sql_per_vm_without_sa_counts_on_the_host_it_left(days_ago: int, expected: int) -> None:
    # §3.5: the 4-vCPU VM needs 4 per-VM core licenses; without SA they have no License Mobility
    # (§7.1), so h1, left 30 days ago, still needs its 4: 4 + 4 = 8. Left 95 days ago: 4.
    p = position(moved(days_ago, "sql-server"))
    assert required(p, "sql-server", "core") == expected


def test_sql_per_vm_with_sa_ignores_history() -> None:
    # With active SA the per-VM licenses follow the VM (§7.1): left h1 30 days ago, still 4. The
    # VM's farm is h2 alone here (no cluster), so SA matters only for the history.
    e = moved(30, "sql-server")
    e = replace(
        e,
        entitlements=(
            owned("sql-server", "core", 4, "enterprise", "2019", sa_until=AS_OF + timedelta(400)),
        ),
    )
    assert required(position(e), "sql-server", "core") == 4


def test_a_placement_after_the_position_or_still_open_is_handled() -> None:
    # A stay that starts after the as-of date says nothing about that day → 16 (h2 only). An
    # open stay (until blank) on h1 means it is there on the day → h1 counts it: 32.
    e = moved(30)
    later = replace(e, placements=(Placement("v", "h1", AS_OF + timedelta(days=5), None),))
    assert required(position(later), "windows-server", "core") == 16
    open_stay = replace(e, placements=(Placement("v", "h1", date(2025, 1, 1), None),))
    assert required(position(open_stay), "windows-server", "core") == 32


def test_system_center_server_mls_count_the_history_too() -> None:
    # §5: server MLs per core like Windows Server; a managed VM that left h1 30 days ago still
    # counts there: 16 + 16 = 32 Standard server MLs; 95 days ago: 16.
    from entitle.estate.records import Managed

    for days_ago, expected in ((30, 32), (95, 16)):
        e = replace(moved(days_ago), managed=(Managed("system-center", "v"),))
        assert required(position(e), "system-center", "server-ml") == expected


@pytest.mark.parametrize(("sa_qty", "expected"), [(0, 32), (16, 16)])
def test_sql_enterprise_host_licensing_and_history(sa_qty: int, expected: int) -> None:
    # A SQL Server 2022 Enterprise VM fixed model=per-core (Enterprise on the host's physical
    # cores, §3.5): host 2 × 8 → 16 core licenses (≥4/processor). It left h1 30 days ago.
    # Without SA the licenses do not follow it (§7.1): h1 and h2 → 16 + 16 = 32. With SA on the
    # 16 core licenses of h2 (every core of every host it may run on) they do → 16.
    e = estate(
        [host("h1", 2, 8), host("h2", 2, 8)],
        [vm("v", "h2", 4)],
        [sw("v", "sql-server", "enterprise", "2022", "per-core")],
        entitlements=[
            owned(
                "sql-server", "core", sa_qty, "enterprise", "2022", sa_until=AS_OF + timedelta(400)
            )
        ]
        if sa_qty
        else [],
    )
    e = replace(e, placements=(Placement("v", "h1", date(2025, 1, 1), AS_OF - timedelta(30)),))
    assert required(position(e), "sql-server", "core", "enterprise") == expected
