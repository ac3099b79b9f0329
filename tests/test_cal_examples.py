"""CAL, External Connector, suite, RDS, version and exemption examples of licensing-rules.md,
through the whole position, with the numbers worked out by hand (prices from the catalog, §8:
WS CAL user 46 / device 40, RDS CAL user 150 / device 130, WS EC 1,543, Core CAL Suite user
102.35, Exchange Standard CAL user 80.50, SharePoint CAL user 110)."""

from __future__ import annotations

from decimal import Decimal

from builders import estate, host, owned, physical, position, price, sw, vm
from entitle.estate.records import Access, User


def cal_lines(p):  # type: ignore[no-untyped-def]
    return {
        (x.product, x.license, x.edition, x.version): (x.required, x.shortfall)
        for x in p.lines
        if x.license.endswith("cal") or x.license == "external-connector"
    }


def one_server(version: str = "2022", **kw):  # type: ignore[no-untyped-def]
    return dict(
        hosts=[host("h", 1, 8)],
        oses=[physical("fs", "h")],
        software=[sw("fs", "windows-server", "standard", version)],
        **kw,
    )


def build(access, users=(), software_extra=(), **kw):  # type: ignore[no-untyped-def]
    base = one_server()
    e = estate(
        base["hosts"],
        base["oses"],
        base["software"] + list(software_extra),
        access=tuple(access),
        **kw,
    )
    from dataclasses import replace

    return replace(e, users=tuple(users))


def test_example_41_user_and_device_cals_by_smaller_count() -> None:
    # §10 #41: 30 staff with laptop, phone and desktop → 30 user CALs (not 90 device CALs);
    # 20 shift workers on 5 terminals → 5 device CALs (not 20 user CALs).
    access = [
        Access("fs", "windows-server", f"s{i}", f"{k}{i}")
        for i in range(30)
        for k in ("lt", "ph", "pc")
    ]
    access += [Access("fs", "windows-server", f"w{i}", f"term{i % 5}") for i in range(20)]
    lines = cal_lines(position(build(access)))
    assert lines == {
        ("windows-server", "user-cal", None, "2022"): (30, 30),
        ("windows-server", "device-cal", None, "2022"): (5, 5),
    }


def test_admin_exemption_two_per_server() -> None:
    # §1.5 item 2: up to two users administering a server need no CAL: 10 admins → 8 CALs.
    access = [Access("fs", "windows-server", f"adm{i}", purpose="admin") for i in range(10)]
    lines = cal_lines(position(build(access)))
    assert lines == {("windows-server", "user-cal", None, "2022"): (8, 8)}


def test_unauthenticated_and_server_to_server_need_no_cal() -> None:
    # §1.5 items 1 and 5.
    e = build([Access("fs", "windows-server"), Access("fs", "windows-server", None, "fs")])
    p = position(e)
    assert cal_lines(p) == {}
    assert {f.code for f in p.findings} >= {"cal-exempt"}


def test_rds_needs_rds_cal_and_windows_cal_on_the_same_principal() -> None:
    # §1.3: RDS use → an RDS CAL and a WS CAL. 3 users on their own PCs: 3 × (150 + 46)
    # as user CALs, or 3 × (130 + 40) as device CALs = 510 → device CALs.
    software = [sw("fs", "rds", None, "2022")]
    access = [Access("fs", "rds", f"u{i}", f"pc{i}") for i in range(3)]
    p = position(build(access, software_extra=software))
    assert cal_lines(p) == {
        ("windows-server", "device-cal", None, "2022"): (3, 3),
        ("rds", "device-cal", None, "2022"): (3, 3),
    }
    assert p.total_cost == Decimal("510.00") + Decimal("1176.00")  # + 16 WS Standard cores


def test_cal_version_is_the_newest_server_reached() -> None:
    # §1.4: a user who touches one 2022 server and a 2019 server needs one 2022 CAL.
    e = estate(
        [host("a", 1, 8), host("b", 1, 8)],
        [physical("pa", "a"), physical("pb", "b")],
        [
            sw("pa", "windows-server", "standard", "2022"),
            sw("pb", "windows-server", "standard", "2019"),
        ],
        access=(Access("pa", "windows-server", "u1"), Access("pb", "windows-server", "u1")),
    )
    assert cal_lines(position(e)) == {("windows-server", "user-cal", None, "2022"): (1, 1)}


def test_owned_2012_cals_cover_2012r2_but_2019_cals_not_2022() -> None:
    # §1.3: 2012 CALs are valid for 2012 R2; §1.4: older CALs cannot access newer versions.
    r2 = estate(
        [host("h", 1, 8)],
        [physical("p", "h")],
        [sw("p", "windows-server", "standard", "2012r2")],
        access=(Access("p", "windows-server", "u1"),),
        entitlements=[owned("windows-server", "user-cal", 1, version="2012")],
    )
    assert cal_lines(position(r2))[("windows-server", "user-cal", None, "2012r2")] == (1, 0)
    new = build(
        [Access("fs", "windows-server", "u1")],
        entitlements=[owned("windows-server", "user-cal", 1, version="2019")],
    )
    assert cal_lines(position(new))[("windows-server", "user-cal", None, "2022")] == (1, 1)


def test_external_connector_break_even() -> None:
    # §2: EC cheaper when external_users × CAL price > servers × EC price: 1,543 / 46 = 33.5,
    # so 33 external users → 33 CALs (1,518); 34 → one EC (1,543 < 1,564).
    for n, expected in (
        (33, {("windows-server", "user-cal", None, "2022"): (33, 33)}),
        (34, {("windows-server", "external-connector", None, "2022"): (1, 1)}),
    ):
        users = [User(f"x{i}", external=True) for i in range(n)]
        access = [Access("fs", "windows-server", f"x{i}") for i in range(n)]
        assert cal_lines(position(build(access, users=users))) == expected


def test_one_ec_per_physical_host_covers_its_vms() -> None:
    # §2: an EC is per physical server, not per OSE: 40 externals on 2 VMs of one host → 1 EC.
    users = [User(f"x{i}", external=True) for i in range(40)]
    e = estate(
        [host("h", 1, 16)],
        [vm("v1", "h"), vm("v2", "h")],
        [
            sw("v1", "windows-server", "standard", "2022"),
            sw("v2", "windows-server", "standard", "2022"),
        ],
        access=tuple(Access(f"v{1 + i % 2}", "windows-server", f"x{i}") for i in range(40)),
    )
    from dataclasses import replace

    lines = cal_lines(position(replace(e, users=tuple(users))))
    assert lines == {("windows-server", "external-connector", None, "2022"): (1, 1)}


def test_core_cal_suite_when_three_components() -> None:
    # §10 #52: WS CAL + Exchange Standard CAL + SharePoint CAL per user = 46 + 80.50 + 110
    # = 236.50 > Core CAL Suite 102.35 → 10 users take 10 suites.
    software = [
        sw("fs", "exchange-server", "standard", "2019"),
        sw("fs", "sharepoint-server", None, "2019"),
    ]
    access = [
        Access("fs", p, f"u{i}")
        for i in range(10)
        for p in ("windows-server", "exchange-server", "sharepoint-server")
    ]
    lines = cal_lines(position(build(access, software_extra=software)))
    assert lines == {("core-cal-suite", "user-cal", None, None): (10, 10)}


def test_payg_essentials_and_hosting_only_need_no_windows_cal() -> None:
    # §1.5 items 3 and 7: hosting-only physical OSE, Essentials, WS pay-as-you-go: no WS CAL;
    # RDS on a pay-as-you-go server still needs its RDS CAL.
    e = estate(
        [host("h", 1, 8), host("b", 1, 8)],
        [physical("hv", "h", hosting_only=True), vm("pg", "h", 4), physical("ess", "b")],
        [
            sw("hv", "windows-server", "datacenter", "2022"),
            sw("pg", "windows-server", "standard", "2025", "payg"),
            sw("pg", "rds", None, "2025"),
            sw("ess", "windows-server", "essentials", "2022"),
        ],
        access=(
            Access("hv", "windows-server", "u1"),
            Access("ess", "windows-server", "u1"),
            Access("pg", "windows-server", "u1"),
            Access("pg", "rds", "u1"),
        ),
    )
    assert cal_lines(position(e)) == {("rds", "user-cal", None, "2025"): (1, 1)}


def test_external_users_of_exchange_2013_and_later_need_no_exchange_cal() -> None:
    # §1.5: Exchange/SharePoint 2013+ license external users with the server: no Exchange CAL.
    # The Windows Server 2022 under it still needs a CAL or an External Connector for them
    # (§1.1: CALs for direct or indirect access; §2): one external user → one WS user CAL
    # (46 < EC 1,543).
    software = [sw("fs", "exchange-server", "standard", "2019")]
    e = build(
        [Access("fs", "exchange-server", "x1")],
        users=[User("x1", external=True)],
        software_extra=software,
    )
    assert cal_lines(position(e)) == {("windows-server", "user-cal", None, "2022"): (1, 1)}


def test_enterprise_cal_needs_its_standard_cal() -> None:
    # §1.2: an Exchange Enterprise CAL is additive on an Exchange Standard CAL, same user.
    software = [sw("fs", "exchange-server", "enterprise", "2019")]
    e = build(
        [Access("fs", "exchange-server", "u1", level="enterprise")],
        software_extra=software,
        prices=[
            price("enterprise-cal-suite", "user-cal", "999"),
            price("core-cal-suite", "user-cal", "999"),
        ],
    )
    lines = cal_lines(position(e))
    # and, using Exchange on fs, the Windows Server 2022 CAL of fs (§1.1: indirect access)
    assert lines == {
        ("exchange-server", "user-cal", None, "2019"): (1, 1),
        ("exchange-server", "user-cal", "enterprise", "2019"): (1, 1),
        ("windows-server", "user-cal", None, "2022"): (1, 1),
    }


def test_sql_server_cal_decided_with_the_cals() -> None:
    # §3.5 with §10 #36: a 4-core SQL Standard VM, 30 users: Server + CAL (989 + 30 × 230 =
    # 7,889) beats per VM (4 × 1,972.50 = 7,890); the 30 SQL CALs appear as a CAL line.
    e = estate(
        [host("h", 1, 4)],
        [vm("s", "h", 4)],
        [sw("s", "sql-server", "standard", "2022")],
        access=tuple(Access("s", "sql-server", f"u{i}") for i in range(30)),
    )
    p = position(e)
    assert cal_lines(p) == {("sql-server", "user-cal", None, "2022"): (30, 30)}
    assert p.total_cost == Decimal("7889.00")
    assert p.optimality == "optimal"
