"""Subscription Editions and CAL Suite step-ups, worked by hand from licensing-rules.md §1.4
(last bullet: SE CALs need an active subscription instead of a version), §7.3 "Exchange Server
SE" (server licenses and every CAL must be subscription licenses or have active SA) and §6.1
(Enterprise CAL Suite = Core CAL Suite + Enterprise components, obtained up front or by a
step-up that needs SA; the Enterprise CAL add-on on top of the Core CAL Suite)."""

from __future__ import annotations

from datetime import date, timedelta

from builders import AS_OF, estate, host, position, sw, vm
from entitle.estate.records import Access, Entitlement, Estate
from entitle.position import Position

EX = "exchange-server"
DAY_BEFORE = AS_OF - timedelta(days=1)


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


def exchange(
    version: str, ents: list[Entitlement], users: int = 20, level: str = "standard"
) -> Estate:
    """One Exchange Server Standard ``version`` VM that ``users`` users reach."""
    access = tuple(Access("ex1", EX, f"u{i:02}", level=level) for i in range(users))  # type: ignore[arg-type]
    return estate(
        [host("h", 2, 8)],
        [vm("ex1", "h", 4)],
        [sw("ex1", EX, "standard", version)],
        access=access,
        entitlements=ents,
    )


def se(license: str, quantity: int, sa_until: date | None, id: str) -> Entitlement:
    edition = "standard" if license == "server" else None
    return Entitlement(EX, license, quantity, id, edition, "se", sa_until)


def lapsed_codes(p: Position) -> list[str]:
    return sorted(f.message.split(" ", 1)[0] for f in p.findings if f.code == "subscription-lapsed")


def test_exchange_se_with_active_sa_is_compliant() -> None:
    # §7.3: the server license and the 20 CALs have SA to the day of the position: they count.
    # One server license per OSE (Server + CAL) and one Exchange CAL per user: 1 and 20.
    p = position(exchange("se", [se("server", 1, AS_OF, "X-1"), se("user-cal", 20, AS_OF, "X-2")]))
    server = line(p, EX, "server", "standard", "se")
    assert (server.required, server.owned, server.shortfall) == (1, 1, 0)
    cals = line(p, EX, "user-cal", None, "se")
    assert (cals.required, cals.owned, cals.shortfall) == (20, 20, 0)
    assert lapsed_codes(p) == []


def test_exchange_se_with_sa_lapsed_the_day_before_is_short_with_findings() -> None:
    # SA ended 2026-11-27, the position is on 2026-11-28: neither the server license nor the
    # CALs count (§7.3), so 1 server license and 20 CALs are short, and each entitlement gets
    # a `subscription-lapsed` warning.
    ents = [se("server", 1, DAY_BEFORE, "X-1"), se("user-cal", 20, DAY_BEFORE, "X-2")]
    p = position(exchange("se", ents))
    server = line(p, EX, "server", "standard", "se")
    assert (server.required, server.owned, server.shortfall) == (1, 0, 1)
    cals = line(p, EX, "user-cal", None, "se")
    assert (cals.required, cals.owned, cals.shortfall) == (20, 0, 20)
    assert lapsed_codes(p) == ["X-1", "X-2"]
    assert all(
        f.severity == "warning" and "2026-11-27" in f.message
        for f in p.findings
        if f.code == "subscription-lapsed"
    )


def test_a_2019_license_whose_sa_reached_se_but_lapsed_keeps_2019_only() -> None:
    # §7.3: SA active on SE's release (2025-07-01) gave the SE version, but SE needs SA on the
    # day: lapsed the day before the position, the 2019 license covers 2019, not SE.
    ent = Entitlement(EX, "server", 1, "X-9", "standard", "2019", DAY_BEFORE)
    on_se = position(exchange("se", [ent], users=0))
    assert line(on_se, EX, "server", "standard", "se").shortfall == 1
    assert lapsed_codes(on_se) == ["X-9"]
    on_2019 = position(exchange("2019", [ent], users=0))
    assert line(on_2019, EX, "server", "standard", "2019").shortfall == 0


def test_the_catalog_knows_se_for_the_three_products() -> None:
    from entitle.catalog import default_catalog

    catalog = default_catalog()
    for product in (EX, "sharepoint-server", "skype-server"):
        assert "se" in catalog.product(product).version_ids
        assert catalog.subscription_edition(product, "se") is not None
        assert catalog.subscription_edition(product, "2019") is None


SUITES = ("core-cal-suite", "enterprise-cal-suite")


def suites(users: int, ents: list[Entitlement]) -> Position:
    """Exchange 2019 with ``users`` users at the enterprise level: each needs the Exchange
    Standard CAL and the additive Enterprise CAL (§1.2), or an Enterprise CAL Suite (§6.1)."""
    server = Entitlement(EX, "server", 1, "X-S", "standard", "2019")
    return position(exchange("2019", [server, *ents], users=users, level="enterprise"))


def test_core_cal_suites_alone_leave_the_enterprise_cals_short() -> None:
    # 50 Core CAL Suites cover the 50 Exchange Standard (base) CALs (§6.2); the additive
    # Exchange Enterprise CAL is not in the Core suite: 50 short. Buying 50 Enterprise CALs at
    # 86.25 (catalog) costs less than 50 Enterprise CAL Suites at 201.25.
    core = Entitlement("core-cal-suite", "user-cal", 50, "C-1", sa_until=AS_OF)
    p = suites(50, [core])
    assert line(p, EX, "user-cal", "enterprise", "2019").shortfall == 50
    assert not any(x.product == "enterprise-cal-suite" and x.required for x in p.lines)


def test_50_core_cal_suites_and_50_step_ups_are_50_enterprise_cal_suites() -> None:
    # §6.1: a step-up turns a Core CAL Suite into an Enterprise CAL Suite: 50 + 50 step-ups =
    # 50 Enterprise CAL Suites, which cover both CALs of the 50 users; nothing is short and no
    # Core CAL Suite is left over.
    core = Entitlement("core-cal-suite", "user-cal", 50, "C-1", sa_until=AS_OF)
    step = Entitlement(
        "enterprise-cal-suite-step-up",
        "user-cal",
        50,
        "C-2",
        sa_until=AS_OF,
        purchased=date(2025, 1, 1),
    )
    p = suites(50, [core, step])
    ecal = line(p, "enterprise-cal-suite", "user-cal", None, None)
    assert (ecal.required, ecal.owned, ecal.shortfall) == (50, 50, 0)
    assert not p.has_shortfall
    assert not any(x.product == "core-cal-suite" for x in p.lines)
    assert [f.code for f in p.findings if f.code.startswith("step-up")] == ["step-up-counted"]


def test_step_ups_beyond_the_core_suites_count_for_nothing() -> None:
    # 30 Core CAL Suites + 50 step-ups: only 30 pairs (§6.1: a step-up needs a Core CAL Suite
    # to step up from) = 30 Enterprise CAL Suites; 20 step-ups unpaired (a warning). The other
    # 20 users need both Exchange CALs: 20 base and 20 Enterprise CALs short (or suites).
    core = Entitlement("core-cal-suite", "user-cal", 30, "C-1", sa_until=AS_OF)
    step = Entitlement("enterprise-cal-suite-step-up", "user-cal", 50, "C-2", sa_until=AS_OF)
    p = suites(50, [core, step])
    assert line(p, "enterprise-cal-suite", "user-cal", None, None).owned == 30
    unpaired = [f for f in p.findings if f.code == "step-up-unpaired"]
    assert len(unpaired) == 1 and "20 " in unpaired[0].message
    assert line(p, "enterprise-cal-suite-step-up", "user-cal", None, None).surplus == 20
    short = sum(x.shortfall for x in p.lines if x.license == "user-cal")
    assert short == 40  # 20 users × (Exchange base CAL + Exchange Enterprise CAL)


def test_a_step_up_needs_sa_on_the_core_suite_when_bought() -> None:
    # The Core CAL Suites' SA ended in 2024, the step-ups were bought in 2025: no pair (§6.1,
    # §7.3 "CAL suite step-ups" need SA), so the 50 Enterprise CALs stay short.
    core = Entitlement("core-cal-suite", "user-cal", 50, "C-1", sa_until=date(2024, 6, 30))
    step = Entitlement(
        "enterprise-cal-suite-step-up",
        "user-cal",
        50,
        "C-2",
        sa_until=AS_OF,
        purchased=date(2025, 1, 1),
    )
    p = suites(50, [core, step])
    assert line(p, EX, "user-cal", "enterprise", "2019").shortfall == 50
    assert "step-up-unpaired" in [f.code for f in p.findings]


def test_the_enterprise_cal_add_on_on_core_suites_counts_as_the_suite() -> None:
    # §6.1: "ECAL Suite ≈ Core CAL + ECAL add-on": 50 + 50 add-ons = 50 Enterprise CAL Suites.
    core = Entitlement("core-cal-suite", "user-cal", 50, "C-1")
    addon = Entitlement("enterprise-cal-add-on", "user-cal", 50, "C-3")
    p = suites(50, [core, addon])
    assert not p.has_shortfall
    assert line(p, "enterprise-cal-suite", "user-cal", None, None).owned == 50


def test_device_step_ups_do_not_pair_with_user_suites() -> None:
    # A step-up steps up a suite of its own kind: device step-ups with user Core CAL Suites
    # make no pair.
    core = Entitlement("core-cal-suite", "user-cal", 50, "C-1")
    step = Entitlement("enterprise-cal-suite-step-up", "device-cal", 50, "C-2")
    p = suites(50, [core, step])
    assert line(p, EX, "user-cal", "enterprise", "2019").shortfall == 50


def test_no_se_warning_where_no_se_is_installed() -> None:
    # The same lapsed 2019 license on an estate running only Exchange 2019: it covers 2019, and
    # nothing is said about SE (no SE installation depends on it).
    ent = Entitlement(EX, "server", 1, "X-9", "standard", "2019", DAY_BEFORE)
    p = position(exchange("2019", [ent], users=0))
    assert lapsed_codes(p) == []
    assert not p.has_shortfall
