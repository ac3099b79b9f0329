"""The SQL Server core factor on the server's cores, rounded up once (licensing-rules.md §3.5,
§3.6): the Product Terms count "the number of physical cores on the server multiplied by the
applicable core factor", at least 4 core licenses per processor. Which versions the table
applies to is a catalog choice (§12 q3), with a finding where it changes a count."""

from __future__ import annotations

from decimal import Decimal

import pytest

from builders import estate, host, physical, position, required, sw, vm
from entitle.catalog import default_catalog
from entitle.rules.cores import physical_cores

SQL = default_catalog().core_rule("sql")
WINDOWS = default_catalog().core_rule("windows")


@pytest.mark.parametrize(
    ("processors", "cores", "factor", "expected"),
    [
        # 4 × 6-core AMD 61XX: 24 × 0.75 = 18 (each processor alone: ceil(4.5) = 5, × 4 = 20)
        (4, 6, Decimal("0.75"), 18),
        # 2 × 6-core: 12 × 0.75 = 9 (per processor: 2 × 5 = 10); ≥ 2 × 4 = 8
        (2, 6, Decimal("0.75"), 9),
        # 1 × 6-core: 4.5 → 5 (one processor: nothing changes)
        (1, 6, Decimal("0.75"), 5),
        # §10 #31: 1 × 8-core AMD 61XX: 6
        (1, 8, Decimal("0.75"), 6),
        # §10 #27: 2 dual-core processors, factor 2: 4 × 2 = 8 (= the 4-per-processor minimum)
        (2, 2, Decimal("2"), 8),
        # single-core, factor 4: 4 per processor
        (3, 1, Decimal("4"), 12),
        # §10 #26: 1 × 2 cores with no factor: the minimum, 4
        (1, 2, None, 4),
    ],
)
def test_the_factor_applies_to_the_server_s_cores_rounded_up_once(
    processors: int, cores: int, factor: Decimal | None, expected: int
) -> None:
    assert physical_cores(processors, cores, SQL, factor) == expected


def test_windows_server_counts_are_unchanged() -> None:
    # §3.1 (no core factor): §10 #8, 4 × 6 → 8 per processor = 32; §10 #5, 2 × 12 = 24.
    assert physical_cores(4, 6, WINDOWS) == 32
    assert physical_cores(2, 12, WINDOWS) == 24


def amd_server(version: str, processors: int = 4, cores: int = 6):  # type: ignore[no-untyped-def]
    return estate(
        [host("h", processors, cores, "AMD Opteron 6176 SE")],
        [physical("p", "h")],
        [sw("p", "sql-server", "enterprise", version)],
    )


def test_four_six_core_amd_server_needs_eighteen_core_licenses() -> None:
    # The example of the issue: SQL Server 2014 Enterprise on 4 × 6-core Opteron 6176 (61XX,
    # factor 0.75): 24 × 0.75 = 18 ≥ 4 × 4 = 16 → 18, two fewer than 20. 2014 is a version the
    # table was published for: no finding.
    p = position(amd_server("2014"))
    assert required(p, "sql-server", "core", "enterprise") == 18
    assert [f for f in p.findings if f.code == "catalog-choice"] == []
    # bought as 9 two-core packs (§3.5)
    line = next(x for x in p.lines if x.product == "sql-server" and x.license == "core")
    assert line.packs == {2: 9}


def test_a_later_version_uses_the_table_by_catalog_choice_and_says_so() -> None:
    # SQL Server 2019 is outside the published table (2012, 2014); the catalog applies it
    # (the Product Terms still refer to it), so 18, and a warning with the 24 at stake.
    p = position(amd_server("2019"))
    assert required(p, "sql-server", "core", "enterprise") == 18
    choice = [f for f in p.findings if f.code == "catalog-choice"]
    assert len(choice) == 1 and choice[0].severity == "warning"
    assert "18 core licenses instead of 24" in choice[0].message
    assert "SQL Server 2019" in choice[0].message


def test_no_finding_where_the_factor_changes_nothing() -> None:
    # Intel: factor 1, 4 × 6 = 24, nothing to choose.
    e = estate(
        [host("h", 4, 6, "Intel Xeon E7-4807")],
        [physical("p", "h")],
        [sw("p", "sql-server", "enterprise", "2019")],
    )
    p = position(e)
    assert required(p, "sql-server", "core", "enterprise") == 24
    assert [f for f in p.findings if f.code == "catalog-choice"] == []


def test_enterprise_on_every_core_of_an_amd_host_for_its_vms() -> None:
    # §3.5 maximum virtualization: SQL Enterprise 2022 VMs fixed per core on a 4 × 6-core AMD
    # host: the host's 24 physical cores × 0.75 = 18 core licenses, with the finding (2022).
    e = estate(
        [host("h", 4, 6, "AMD Opteron 6176 SE")],
        [vm("a", "h", 4), vm("b", "h", 4)],
        [sw(x, "sql-server", "enterprise", "2022", "per-core") for x in "ab"],
    )
    p = position(e)
    assert required(p, "sql-server", "core", "enterprise") == 18
    assert len([f for f in p.findings if f.code == "catalog-choice"]) == 1


def test_the_catalog_records_the_choice_with_its_sources() -> None:
    catalog = default_catalog()
    scope = catalog.core_factor_scopes["sql-server"]
    assert scope.published_for == ("2012", "2014")
    assert scope.applies_from == "2012"
    assert "§12 q3" in scope.choice
    assert scope.source.count("http") >= 3  # the table, the Product Terms' wording, the dissent
    assert catalog.core_factor_applies("sql-server", "2019")
    assert not catalog.core_factor_applies("sql-server", "2008r2")  # per processor, before 2012
