"""The shipped catalog: it loads, a typo is an error at load time, and its facts match the rules
in licensing-rules.md worked out by hand."""

from __future__ import annotations

import math
from decimal import Decimal
from importlib import resources

import pytest

from entitle.catalog import Catalog, CatalogError, default_catalog, parse_catalog
from entitle.catalog.model import Component, CoreRule
from entitle.catalog.search import search_products, suggest_products


@pytest.fixture(scope="module")
def text() -> str:
    return resources.files("entitle.catalog").joinpath("data/catalog.toml").read_text("utf-8")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def _mutated(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the test's anchor must occur once: {old!r}"
    return text.replace(old, new)


def _problems(text: str) -> list[str]:
    with pytest.raises(CatalogError) as err:
        parse_catalog(text)
    return err.value.problems


# -- loading and validation ------------------------------------------------------------------


def test_shipped_catalog_loads(text: str) -> None:
    cat = parse_catalog(text)
    assert "windows-server" in cat.products
    assert cat.meta.currency == "USD"


def test_misspelt_key_is_named(text: str) -> None:
    bad = _mutated(
        text,
        "[core_rules.windows]\nmin_per_processor = 8",
        "[core_rules.windows]\nmin_per_procesor = 8",
    )
    problems = _problems(bad)
    assert any("min_per_procesor" in p and "core_rules.windows" in p for p in problems)
    # ...and the real key is then reported missing
    assert any(p.startswith("core_rules.windows.min_per_processor") for p in problems)


def test_unknown_product_in_a_model_row(text: str) -> None:
    bad = _mutated(
        text,
        'product = "skype-server"\neditions = []\nversions = ["2015", "2019", "se"]\nmodel',
        'product = "skype-srever"\neditions = []\nversions = ["2015", "2019", "se"]\nmodel',
    )
    assert any("unknown product 'skype-srever'" in p for p in _problems(bad))


def test_unknown_edition_in_a_price(text: str) -> None:
    bad = _mutated(
        text,
        'license = "core"\nedition = "standard"\nversion = "2025"',
        'license = "core"\nedition = "standrad"\nversion = "2025"',
    )
    assert any("windows-server core" in p and "'standrad'" in p for p in _problems(bad))


def test_cal_level_is_an_edition_only_on_cal_prices(text: str) -> None:
    """SharePoint has no server editions; `enterprise` names its additive CAL level, which is
    valid on a CAL price row and not on a server license."""
    bad = _mutated(
        text,
        'product = "sharepoint-server"\nlicense = "server"\nversion = "se"',
        'product = "sharepoint-server"\nlicense = "server"\nedition = "enterprise"\nversion = "se"',
    )
    assert any("sharepoint-server server" in p and "'enterprise'" in p for p in _problems(bad))


def test_version_not_in_versions(text: str) -> None:
    bad = _mutated(
        text,
        'versions = ["2019", "2022", "2025"]\nmax_users',
        'versions = ["2019", "2023", "2025"]\nmax_users',
    )
    assert any("limits[" in p and "unknown version '2023'" in p for p in _problems(bad))


def test_every_problem_is_reported_at_once(text: str) -> None:
    bad = _mutated(
        text, 'product = "skype-server"\neditions = []', 'product = "lync"\neditions = []'
    )
    bad = _mutated(
        bad, 'versions = ["2012r2", "2016"]\nmax_users', 'versions = ["2012r2", "2017"]\nmax_users'
    )
    problems = _problems(bad)
    assert any("unknown product 'lync'" in p for p in problems)
    assert any("unknown version '2017'" in p for p in problems)


def test_every_fact_names_a_source(catalog: Catalog) -> None:
    rows: list[object] = [
        *catalog.products.values(),
        *catalog.core_rules.values(),
        *catalog.core_factors,
        *catalog.models,
        *catalog.vm_rights,
        *catalog.limits,
        *catalog.suites.values(),
        *catalog.bridges.values(),
        *catalog.prices,
    ]
    missing = [row for row in rows if not getattr(row, "source", "").strip()]
    assert missing == []


# -- facts, worked out by hand from licensing-rules.md --------------------------------------


def _cores(rule: CoreRule, processors: list[int], factor: Decimal | None = None) -> int:
    """Physical-core licenses: all the server's cores times the core factor, rounded up once
    (§3.6), at least ``min_per_processor`` per processor and ``min_per_server`` per server."""
    counted = math.ceil(sum(processors) * (factor or 1))
    return max(rule.min_per_server, rule.min_per_processor * len(processors), counted)


@pytest.mark.parametrize(
    ("processors", "expected"),
    [
        ([6], 16),  # §10 #1: 1 × 6 cores → 16 (the per-server minimum)
        ([4, 4], 16),  # §10 #2
        ([12, 12], 24),  # §10 #5
        ([6, 6, 6, 6], 32),  # §10 #8: 8 per processor × 4
        ([16, 16], 32),  # §10 #10
    ],
)
def test_windows_core_rule(catalog: Catalog, processors: list[int], expected: int) -> None:
    """§3.1: all physical cores, at least 8 per processor and 16 per server; no core factor;
    2-core and 16-core packs."""
    rule = catalog.core_rule("windows")
    assert (rule.min_per_processor, rule.min_per_server) == (8, 16)
    assert rule.core_factor is False
    assert set(rule.pack_sizes) == {2, 16}
    assert (rule.per_vm_min, rule.per_vm_customer_min) == (8, 16)  # §3.2
    assert _cores(rule, processors) == expected


def test_sql_core_rule(catalog: Catalog) -> None:
    """§3.5: 4 core licenses per processor, no server minimum, 2-core packs, 4 per VM; the core
    factor applies to physical cores (§3.6)."""
    rule = catalog.core_rule("sql")
    assert (rule.min_per_processor, rule.min_per_server, rule.per_vm_min) == (4, 0, 4)
    assert rule.core_factor is True
    assert rule.pack_sizes == (2,)
    assert _cores(rule, [2]) == 4  # §10 #26
    assert _cores(rule, [6, 6]) == 12  # §10 #28, Intel: factor 1


@pytest.mark.parametrize(
    ("cpu_model", "cores", "factor"),
    [
        ("AMD Opteron 6180 SE", 12, Decimal("0.75")),  # 61XX with 6 or more cores
        ("AMD Opteron 6380", 16, Decimal("0.75")),  # 63XX, added in the 2014 table
        ("AMD Opteron 6128", 4, None),  # 61XX with fewer than 6 cores: not listed → 1
        ("Intel Xeon E5-2690", 2, Decimal("2")),  # any dual-core processor
        ("Intel Xeon", 1, Decimal("4")),  # single-core
        ("Intel Xeon Gold 6248", 20, None),  # not listed → 1
        (None, 8, None),
    ],
)
def test_core_factor_table(
    catalog: Catalog, cpu_model: str | None, cores: int, factor: Decimal | None
) -> None:
    """§3.6: AMD 31/32/41/42/61/62XX (2012) and 33/43/63XX (2014) with ≥ 6 cores 0.75;
    single-core 4; dual-core 2; all others 1 (no row)."""
    row = catalog.core_factor(cpu_model, cores)
    assert (row.factor if row else None) == factor


def test_sql_counts_with_core_factor(catalog: Catalog) -> None:
    """§10 #27: 2 dual-core processors → 2 × max(4, 2 × 2) = 8; §10 #31: 1 × 8-core AMD 61XX →
    8 × 0.75 = 6."""
    rule = catalog.core_rule("sql")
    dual = catalog.core_factor("AMD Athlon X2", 2)
    amd = catalog.core_factor("AMD Opteron 6136", 8)
    assert dual is not None and amd is not None
    assert _cores(rule, [2, 2], dual.factor) == 8
    assert _cores(rule, [8], amd.factor) == 6


def test_datacenter_covers_standard_not_the_reverse(catalog: Catalog) -> None:
    assert catalog.edition_covers("windows-server", "datacenter", "standard")
    assert not catalog.edition_covers("windows-server", "standard", "datacenter")
    assert catalog.edition_covers("sql-server", "enterprise", "standard")
    assert not catalog.edition_covers("windows-server", "essentials", "standard")


def test_cal_versions(catalog: Catalog) -> None:
    """§1.3: 2012 CALs are valid for 2012 R2; §1.4: an older CAL or license does not cover a
    newer version, a newer one covers an older."""
    assert catalog.version_covers("windows-server", "2012", "2012r2", cal=True)
    assert catalog.version_covers("rds", "2012", "2012r2", cal=True)
    assert not catalog.version_covers("windows-server", "2008r2", "2012", cal=True)
    assert not catalog.version_covers("windows-server", "2019", "2022")
    assert not catalog.version_covers("windows-server", "2019", "2022", cal=True)
    assert catalog.version_covers("windows-server", "2025", "2016", cal=True)


def test_enterprise_suite_includes_the_core_suite(catalog: Catalog) -> None:
    """§6.1: the Enterprise CAL Suite includes every Core CAL Suite component; §6.2: it adds the
    Enterprise CALs of Exchange, SharePoint, Skype and the AD RMS CAL; RDS is in no suite."""
    core = set(catalog.suite_components("core-cal-suite"))
    enterprise = set(catalog.suite_components("enterprise-cal-suite"))
    assert core < enterprise
    assert Component("windows-server", "cal") in core
    assert {
        Component("exchange-server", "cal-enterprise"),
        Component("ad-rms", "cal"),
    } <= enterprise - core
    assert all(c.product != "rds" for c in enterprise)


def test_bridge_contents(catalog: Catalog) -> None:
    """§6.3 table: a bridge holds what its online service lacks. Office 365 brings Exchange,
    SharePoint and Skype; Intune brings the ConfigMgr and Endpoint Protection MLs; EMS brings
    the Windows Server CAL and (through Intune) the MLs."""
    o365 = set(catalog.bridges["core-cal-bridge-office-365"].components)
    ems = set(catalog.bridges["core-cal-bridge-ems"].components)
    assert Component("exchange-server", "cal") not in o365
    assert Component("configuration-manager", "ml") in o365
    assert ems == {
        Component("exchange-server", "cal"),
        Component("sharepoint-server", "cal"),
        Component("skype-server", "cal"),
    }


def test_enterprise_cal_prices(catalog: Catalog) -> None:
    """The additive Enterprise CAL has its own price row (edition = CAL level)."""
    for product in ("exchange-server", "sharepoint-server", "skype-server"):
        for kind in ("user-cal", "device-cal"):
            ent = catalog.price(product, kind, "enterprise")
            base = catalog.price(product, kind)
            assert ent is not None and base is not None
            assert ent.edition == "enterprise" and base.edition is None
    # MOSS 2007 Enterprise CAL $75; per user + 15% (§1.8)
    sp = catalog.price("sharepoint-server", "user-cal", "enterprise")
    assert sp is not None and sp.price == Decimal("75.00") * Decimal("1.15")


def test_sql_enterprise_server_price_is_the_2008r2_license(catalog: Catalog) -> None:
    """$8,592 is the SQL 2008 R2 Enterprise server license (§8); Server+CAL Enterprise is only
    modelled for 2008 R2."""
    row = catalog.price("sql-server", "server", "enterprise")
    assert row is not None and row.version == "2008r2"
    rule = catalog.model_rule("sql-server", "enterprise", "2008r2")
    # 2008 R2 is counted per core (what owned 2008 R2 processor licenses cover) or Server + CAL.
    assert rule is not None and "server-cal" in (rule.model, *rule.also)


# -- search ------------------------------------------------------------------------------------


def test_search_matches_id_name_and_alias(catalog: Catalog) -> None:
    assert [p.id for p in search_products(catalog, "SQL")] == ["sql-server"]
    assert [p.id for p in search_products(catalog, "lync")] == ["skype-server"]
    assert [p.id for p in search_products(catalog, "remote desktop")] == ["rds"]
    assert len(search_products(catalog, None)) == len(catalog.products)
    assert search_products(catalog, "nosuchthing") == []
    # "sc" is System Center's alias: the exact match comes first, then partial ones
    assert [p.id for p in search_products(catalog, "sc")][0] == "system-center"


def test_search_describes_cals_and_suites(catalog: Catalog) -> None:
    """§1.2/§1.3: the RDS CAL is additive on the Windows Server CAL and in no suite; the Windows
    Server CAL is in the Core CAL Suite and, through it, in the Enterprise CAL Suite."""
    (rds,) = search_products(catalog, "rds")
    (cal,) = rds.access
    assert cal.licenses == ("user-cal", "device-cal")
    assert cal.note == "additive, needs the windows-server base CAL"
    assert cal.included_in == ()
    assert rds.external_connector.available and rds.external_connector.requires == "windows-server"

    (ws,) = search_products(catalog, "windows-server")
    suites = {i.id: i.via for i in ws.access[0].included_in if i.type == "suite"}
    assert suites == {"core-cal-suite": None, "enterprise-cal-suite": "core-cal-suite"}


def test_search_describes_management_licenses(catalog: Catalog) -> None:
    """§5: servers managed by ConfigMgr need System Center server MLs; client OSEs need a client
    ML per OSE or per user, which the Core CAL Suite includes."""
    (cm,) = search_products(catalog, "configuration-manager")
    server, client = cm.access
    assert (server.product, server.licenses) == ("system-center", ("server-ml",))
    assert client.licenses == ("client-ml-ose", "client-ml-user")
    assert "core-cal-suite" in {i.id for i in client.included_in}


def test_search_json_writes_prices_as_exact_numbers(catalog: Catalog) -> None:
    (ws,) = search_products(catalog, "windows-server")
    prices = ws.as_json()["prices"]
    assert {"license": "core", "edition": "datacenter", "price": 423.1875}.items() <= next(
        p for p in prices if p["edition"] == "datacenter"
    ).items()


def test_suggestions(catalog: Catalog) -> None:
    assert suggest_products(catalog, "exchnage")[0] == "exchange-server"
    assert suggest_products(catalog, "sharepiont")[0] == "sharepoint-server"
    assert suggest_products(catalog, "nosuchthing")  # always something to offer


def test_a_search_ending_in_a_version_finds_the_product_that_has_it() -> None:
    from entitle.catalog.search import split_version

    catalog = default_catalog()
    # "SQL Server 2019" is no product's name, but SQL Server has a 2019 (catalog versions)
    assert split_version(catalog, "SQL Server 2019") == ("sql server", "2019")
    assert [p.id for p in search_products(catalog, "SQL Server 2019")] == ["sql-server"]
    assert split_version(catalog, "Windows Server 2012 R2") == ("windows server", "2012r2")
    assert [p.id for p in search_products(catalog, "windows server 2012 R2")] == ["windows-server"]
    # configuration-manager stops at 2016 in the catalog: "configmgr 2019" finds nothing
    assert search_products(catalog, "configmgr 2019") == []
    # a year no product has is part of the name, and an empty search lists every product
    assert split_version(catalog, "sql 1997") == ("sql 1997", None)
    assert len(search_products(catalog, "")) == len(catalog.products)
