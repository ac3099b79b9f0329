"""CAL equivalency (licensing-rules.md §6.3; issue #3): a user who holds a subscription or a CAL
Suite Bridge with CAL rights needs no CAL or client ML for those rights. Prices from the catalog
(§8): WS CAL user 46 / device 40, RDS CAL user 150 / device 130, ConfigMgr client ML per OSE 22 /
per user 62. What each subscription carries is the catalog's documented choice (its
`subscriptions` and `bridges` tables)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from builders import AS_OF, estate, host, owned, physical, position, sw
from entitle.catalog import default_catalog
from entitle.estate.records import Access, Managed, User
from entitle.rules.cals import cal_demand
from entitle.rules.index import EstateIndex
from entitle.source import Source


def cal_lines(p):  # type: ignore[no-untyped-def]
    return {
        (x.product, x.license, x.edition): (x.required, x.shortfall)
        for x in p.lines
        if x.license.endswith("cal") or x.license.startswith("client-ml")
    }


def five_users(subscriptions: dict[str, tuple[str, ...]], **kw):  # type: ignore[no-untyped-def]
    """One Windows Server 2022 file server reached by u0..u4, each from no named device."""
    e = estate(
        [host("h", 1, 8)],
        [physical("fs", "h")],
        [sw("fs", "windows-server", "standard", "2022")],
        access=tuple(
            Access("fs", "windows-server", f"u{i}", source=Source("access.csv", i + 2))
            for i in range(5)
        ),
        **kw,
    )
    users = tuple(User(f"u{i}", subscriptions=subscriptions.get(f"u{i}", ())) for i in range(5))
    return replace(e, users=users)


def codes(p):  # type: ignore[no-untyped-def]
    return {f.code for f in p.findings}


def test_microsoft_365_e3_holders_need_no_windows_server_cal() -> None:
    # M365 E3 carries the Windows Server base CAL (catalog: EMS part, §6.3 "(in EMS)"):
    # u0 and u1 hold it → 5 − 2 = 3 user CALs. No User SL recorded → trusted, with a note.
    p = position(five_users({"u0": ("microsoft-365-e3",), "u1": ("microsoft-365-e3",)}))
    assert cal_lines(p) == {("windows-server", "user-cal", None): (3, 3)}
    assert "subscription-unrecorded" in codes(p)


def test_only_as_many_holders_as_owned_active_user_sls_count() -> None:
    # entitlements.csv records 1 active M365 E3 User SL: of u0, u1 (by id) only u0 counts → 4.
    subs = {"u0": ("microsoft-365-e3",), "u1": ("microsoft-365-e3",)}
    one = [owned("microsoft-365-e3", "user-sl", 1, sa_until=date(2027, 6, 30))]
    p = position(five_users(subs, entitlements=one))
    assert cal_lines(p)[("windows-server", "user-cal", None)] == (4, 4)
    assert "subscription-shortfall" in codes(p)
    # An expired subscription carries no rights on the day of the position → 5.
    lapsed = [owned("microsoft-365-e3", "user-sl", 2, sa_until=date(2026, 1, 31))]
    p = position(five_users(subs, entitlements=lapsed))
    assert cal_lines(p)[("windows-server", "user-cal", None)] == (5, 5)


def test_office_365_alone_carries_no_windows_server_cal_but_its_bridge_does() -> None:
    # §6.3: Office 365 lacks the Windows Server CAL; the Core CAL Suite Bridge for Office 365
    # adds it. u0 holds O365 E3 only (needs a CAL), u1 holds O365 E3 + the bridge (does not) → 4.
    subs = {"u0": ("office-365-e3",), "u1": ("core-cal-bridge-office-365", "office-365-e3")}
    p = position(five_users(subs))
    assert cal_lines(p) == {("windows-server", "user-cal", None): (4, 4)}


def test_unknown_subscription_is_a_warning_and_grants_nothing() -> None:
    p = position(five_users({"u0": ("microsoft-365-e9",)}))
    assert cal_lines(p) == {("windows-server", "user-cal", None): (5, 5)}
    assert "unknown-subscription" in codes(p)


def test_intune_user_needs_no_configuration_manager_client_ml() -> None:
    # Intune carries the ConfigMgr client ML (§6.3 "(in Intune)"): of two managed PCs, the one
    # whose user holds Intune needs nothing; the other needs one ML per OSE (22 < 62 per user).
    e = estate(
        [host("h", 1, 8)],
        [physical("cm", "h")],
        [
            sw("cm", "windows-server", "standard", "2022"),
            sw("cm", "configuration-manager", None, "2403"),
        ],
        managed=[
            Managed("configuration-manager", device="pc1", user="ann"),
            Managed("configuration-manager", device="pc2", user="bob"),
        ],
    )
    e = replace(e, users=(User("ann", subscriptions=("intune",)), User("bob")))
    lines = cal_lines(position(e))
    assert lines == {("configuration-manager", "client-ml-ose", None): (1, 1)}


def test_demand_records_who_is_covered_and_the_held_base() -> None:
    # The plan's evidence: which holders a subscription covered, and the (user, right) pairs
    # the optimizer may treat as held when an additive right needs its base.
    e = five_users({"u0": ("ems-e3",), "u3": ("ems-e3",)})
    demand = cal_demand(EstateIndex.build(e), default_catalog(), frozenset(), AS_OF)
    assert sorted(n.user for n in demand.needs) == ["u1", "u2", "u4"]
    [eq] = demand.equivalency
    assert (eq.held, eq.users, eq.rows) == ("ems-e3", ("u0", "u3"), 2)
    assert ("u0", "windows-server:cal") in demand.held
    assert ("u0", "rds:cal") not in demand.held  # RDS is in no subscription (§6.2 note)


def test_plan_json_names_the_holders_each_subscription_covered() -> None:
    p = position(five_users({"u4": ("microsoft-365-e5",), "u2": ("microsoft-365-e5",)}))
    assert p.as_json()["plan"]["subscriptions"] == [
        {"subscription": "microsoft-365-e5", "users": ["u2", "u4"], "rows": 2}
    ]


def test_rds_on_a_subscription_users_own_base_is_an_rds_user_cal_alone() -> None:
    # §1.3: RDS needs an RDS CAL and a WS CAL (or equivalent) on the same principal. u0 holds
    # EMS E3 (the WS CAL right) and uses RDS from pc0: an RDS user CAL alone = 150, against a
    # device's RDS CAL + WS CAL = 130 + 40 = 170 → 1 RDS user CAL, no WS CAL.
    e = estate(
        [host("h", 1, 8)],
        [physical("fs", "h")],
        [sw("fs", "windows-server", "standard", "2022"), sw("fs", "rds", None, "2022")],
        access=(Access("fs", "rds", "u0", "pc0"),),
    )
    e = replace(e, users=(User("u0", subscriptions=("ems-e3",)),))
    assert cal_lines(position(e)) == {("rds", "user-cal", None): (1, 1)}


def test_what_if_keeps_users_subscriptions() -> None:
    # A what-if scenario rebuilds the estate from its rows: a user's subscriptions (a list
    # cell) must come back as they were, not as the text of a tuple.
    from entitle.whatif.apply import apply_changes

    e = five_users({"u0": ("core-cal-bridge-office-365", "office-365-e3")})
    again, problems = apply_changes(e, (), default_catalog())
    assert problems == [] and again is not None
    assert again.users[0].subscriptions == ("core-cal-bridge-office-365", "office-365-e3")
