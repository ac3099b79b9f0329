"""Indirect access (licensing-rules.md §1.1: "CALs are required whether access is direct or
indirect") and multiplexing (§1.6), through the whole position, numbers worked out by hand.

Whoever uses any product on an OSE under Windows Server uses that Windows Server too, so needs a
Windows Server CAL of that OSE's version (§1.1, §1.9), with every exemption of §1.5. Whoever uses
a front end (oses.csv ``front_end``) needs the CALs of what it reaches server-to-server (§1.6).

Catalog prices (§8): WS CAL user 46 / device 40, WS External Connector 1,543, Exchange Standard
CAL user 80.50, SQL Server CAL user 230, SQL Server Standard server 989, SQL Server Standard
core 1,972.50, Core CAL Suite user 102.35 (WS CAL + Exchange, SharePoint, Skype Standard CALs +
ConfigMgr and Endpoint Protection MLs; no SQL CAL).
"""

from __future__ import annotations

from dataclasses import replace

from builders import AS_OF, estate, host, physical, position, price, sw, vm
from entitle.catalog import default_catalog
from entitle.estate.records import Access, Estate, Ose, User
from entitle.rules.cals import CalDemand, cal_demand
from entitle.rules.index import EstateIndex
from entitle.source import Source

NO_SUITE = [
    price("core-cal-suite", "user-cal", "999"),
    price("core-cal-suite", "device-cal", "999"),
]


def row(line: int, ose: str, product: str, user: str | None = None, **kw) -> Access:  # type: ignore[no-untyped-def]
    return Access(ose, product, user, source=Source("access.csv", line), **kw)


def cal_lines(e: Estate) -> dict[tuple[str, str, str | None, str | None], tuple[int, int]]:
    return {
        (x.product, x.license, x.edition, x.version): (x.required, x.shortfall)
        for x in position(e).lines
        if x.license.endswith("cal") or x.license == "external-connector"
    }


def demand(e: Estate, server_cal: frozenset[str] = frozenset()) -> CalDemand:
    return cal_demand(EstateIndex.build(e), default_catalog(), server_cal, AS_OF)


def front(name: str, on: str, vcpus: int = 4) -> Ose:
    return Ose(name, on, True, vcpus, front_end=True)


# -- §1.1 indirect access: the Windows Server CAL of the product's OSE ------------------------


def exchange_estate(n: int, **kw) -> Estate:  # type: ignore[no-untyped-def]
    """Exchange Standard 2019 on ``ex``, a VM under Windows Server Standard 2019; ``n`` mailbox
    users, and no windows-server row in access.csv."""
    return estate(
        [host("h", 1, 8)],
        [vm("ex", "h", 4)],
        [
            sw("ex", "windows-server", "standard", "2019"),
            sw("ex", "exchange-server", "standard", "2019"),
        ],
        access=tuple(row(2 + i, "ex", "exchange-server", f"u{i}") for i in range(n)),
        **kw,
    )


def test_ten_exchange_mailbox_users_need_ten_exchange_and_ten_windows_server_cals() -> None:
    # §1.1 + §1.9: each mailbox user uses Exchange (an Exchange Standard CAL) and, indirectly,
    # the Windows Server 2019 of ex (a WS 2019 CAL). Suites priced out of the way: separate CALs,
    # 10 × 80.50 + 10 × 46 = 1,265.
    lines = cal_lines(exchange_estate(10, prices=NO_SUITE))
    assert lines == {
        ("windows-server", "user-cal", None, "2019"): (10, 10),
        ("exchange-server", "user-cal", None, "2019"): (10, 10),
    }


def test_the_implied_cal_says_which_access_implied_it() -> None:
    needs = demand(exchange_estate(1)).needs
    ws = [n for n in needs if n.right == "windows-server:cal"]
    assert [(n.user, n.version, n.source) for n in ws] == [
        ("u0", "2019", "implied by access.csv:2 (exchange-server on ex)")
    ]


def test_the_core_cal_suite_is_judged_with_the_implied_cal() -> None:
    # §6: WS CAL + Exchange CAL = 46 + 80.50 = 126.50 per user > Core CAL Suite 102.35, so 10
    # suites (1,023.50). Without the implied WS CAL the comparison would have been Exchange
    # alone, 80.50 < 102.35, and no suite.
    assert cal_lines(exchange_estate(10)) == {("core-cal-suite", "user-cal", None, None): (10, 10)}


def test_direct_and_implied_access_to_one_windows_server_need_one_cal() -> None:
    # §1.1: one CAL per user covers any number of licensed instances; a user who reaches ex's
    # Windows Server directly (a file share) and through Exchange needs one WS 2019 CAL.
    e = exchange_estate(1, prices=NO_SUITE)
    e = replace(e, access=e.access + (row(9, "ex", "windows-server", "u0"),))
    assert cal_lines(e)[("windows-server", "user-cal", None, "2019")] == (1, 1)


def test_sql_server_per_core_users_still_need_the_windows_server_cal() -> None:
    # §3.5: SQL Server per core needs no SQL CAL; Windows Server is per core + CAL (§1.1), so
    # the 5 users still need 5 WS 2022 CALs (5 × 46 = 230), and the report says so.
    e = estate(
        [host("h", 1, 8)],
        [vm("db", "h", 4)],
        [
            sw("db", "windows-server", "standard", "2022"),
            sw("db", "sql-server", "enterprise", "2022", "per-vm"),
        ],
        access=tuple(row(2 + i, "db", "sql-server", f"u{i}") for i in range(5)),
    )
    p = position(e)
    cals = {(x.product, x.license, x.version): x.required for x in p.lines if "cal" in x.license}
    assert cals == {("windows-server", "user-cal", "2022"): 5}
    partial = [f.message for f in p.findings if f.code == "cal-exempt-product"]
    assert len(partial) == 1 and partial[0].startswith("5 access row(s)")


def test_the_cal_version_is_the_windows_server_of_the_product_s_ose() -> None:
    # §1.4: Exchange on a WS 2025 OSE needs 2025 CALs, although the Exchange CAL is 2019.
    e = exchange_estate(2, prices=NO_SUITE)
    e = replace(e, software=(sw("ex", "windows-server", "standard", "2025"), e.software[1]))
    assert cal_lines(e) == {
        ("windows-server", "user-cal", None, "2025"): (2, 2),
        ("exchange-server", "user-cal", None, "2019"): (2, 2),
    }


def test_an_ose_without_windows_server_implies_no_cal_and_says_so() -> None:
    # No windows-server row on db: no WS CAL can be implied (it may run Linux); a warning names
    # the OSE. The 3 SQL CALs of its Server + CAL licence stay.
    e = estate(
        [host("h", 1, 8)],
        [vm("db", "h", 4)],
        [sw("db", "sql-server", "standard", "2022", "server-cal")],
        access=tuple(row(2 + i, "db", "sql-server", f"u{i}") for i in range(3)),
    )
    p = position(e)
    cals = {(x.product, x.license): x.required for x in p.lines if "cal" in x.license}
    assert cals == {("sql-server", "user-cal"): 3}
    unknown = [f for f in p.findings if f.code == "os-unknown"]
    assert len(unknown) == 1 and unknown[0].message.startswith("db: ")


# -- §1.5: the exemptions hold for the implied CAL too ----------------------------------------


def test_two_administrators_need_neither_cal() -> None:
    # §1.5 item 2: 3 admins of Exchange on ex: two are exempt (no Exchange CAL, no WS CAL), the
    # third needs both.
    e = exchange_estate(0, prices=NO_SUITE)
    e = replace(
        e,
        access=tuple(
            row(2 + i, "ex", "exchange-server", f"a{i}", purpose="admin") for i in range(3)
        ),
    )
    assert cal_lines(e) == {
        ("windows-server", "user-cal", None, "2019"): (1, 1),
        ("exchange-server", "user-cal", None, "2019"): (1, 1),
    }


def sql_per_core(os_edition: str, model: str | None = None, n: int = 3, **kw) -> Estate:  # type: ignore[no-untyped-def]
    """SQL Server Standard 2022 per VM on db, under Windows Server ``os_edition`` 2022."""
    return estate(
        [host("h", 1, 8)],
        [vm("db", "h", 4)],
        [
            sw("db", "windows-server", os_edition, "2022", model),
            sw("db", "sql-server", "standard", "2022", "per-vm"),
        ],
        access=tuple(row(2 + i, "db", "sql-server", f"u{i}") for i in range(n)),
        **kw,
    )


def test_essentials_needs_no_cal_for_indirect_access() -> None:
    # §1.5 item 7, §4: Essentials is a Specialty Server, no CALs; SQL per VM, no SQL CAL.
    assert cal_lines(sql_per_core("essentials")) == {}


def test_pay_as_you_go_windows_server_needs_no_cal_for_indirect_access() -> None:
    # §1.5 item 7: WS 2025 pay-as-you-go needs no WS CALs.
    e = sql_per_core("standard", "payg")
    e = replace(e, software=(sw("db", "windows-server", "standard", "2025", "payg"), e.software[1]))
    assert cal_lines(e) == {}


def test_a_hosting_only_physical_ose_implies_no_cal() -> None:
    # §1.5 item 3: a physical OSE used only for hosting needs no CALs, whatever is used there.
    e = estate(
        [host("h", 1, 8)],
        [physical("hv", "h", hosting_only=True)],
        [
            sw("hv", "windows-server", "datacenter", "2022"),
            sw("hv", "sql-server", "standard", "2022", "per-core"),
        ],
        access=(row(2, "hv", "sql-server", "u0"),),
    )
    assert cal_lines(e) == {}


def test_external_users_are_covered_by_the_windows_server_external_connector() -> None:
    # §1.5 item 6, §2: 40 external users of SQL per VM on db need the WS CAL indirectly:
    # 40 × 46 = 1,840 > one WS External Connector on h (1,543), so one connector.
    e = sql_per_core("standard", n=40)
    e = replace(e, users=tuple(User(f"u{i}", external=True) for i in range(40)))
    assert cal_lines(e) == {("windows-server", "external-connector", None, "2022"): (1, 1)}


def test_unauthenticated_and_dev_test_access_imply_nothing() -> None:
    # §1.5 item 5 (unauthenticated), and dev-test OSEs (§7.3): no CAL.
    e = sql_per_core("standard", n=0)
    dev = vm("dev", "h", 4, env="dev-test")
    e = replace(
        e,
        oses=e.oses + (dev,),
        software=e.software
        + (
            sw("dev", "windows-server", "standard", "2022"),
            sw("dev", "sql-server", "standard", "2022"),
        ),
        access=(row(2, "db", "sql-server"), row(3, "dev", "sql-server", "u1")),
    )
    assert cal_lines(e) == {}


# -- §1.6 multiplexing: the users of a front end need what it reaches --------------------------


def app_and_db(n: int, front_end: bool, db_model: str | None = "server-cal") -> Estate:
    """``n`` users on app (WS Standard 2019), which reaches SQL Server Standard 2022 on db
    (WS Standard 2022) server-to-server (access.csv:100)."""
    app = front("app", "h") if front_end else vm("app", "h", 4)
    return estate(
        [host("h", 1, 8)],
        [app, vm("db", "h", 4)],
        [
            sw("app", "windows-server", "standard", "2019"),
            sw("db", "windows-server", "standard", "2022"),
            sw("db", "sql-server", "standard", "2022", db_model),
        ],
        access=tuple(row(2 + i, "app", "windows-server", f"u{i}") for i in range(n))
        + (Access("db", "sql-server", None, "app", source=Source("access.csv", 100)),),
    )


def test_hundred_users_behind_a_front_end_need_sql_and_windows_server_cals() -> None:
    # §1.6: every user at the front of the multiplexer needs the CAL: 100 SQL Server 2022 CALs.
    # And they use db's Windows Server 2022 indirectly (§1.1): a 2022 WS CAL each, which also
    # covers app's 2019 (§1.4). 100 × (230 + 46) = 27,600 (no suite holds the SQL CAL).
    assert cal_lines(app_and_db(100, front_end=True)) == {
        ("windows-server", "user-cal", None, "2022"): (100, 100),
        ("sql-server", "user-cal", None, "2022"): (100, 100),
    }


def test_the_server_cal_choice_counts_the_users_behind_the_front_end() -> None:
    # The Server + CAL option's own estimate of its SQL CALs counts the 100 relayed users.
    p = position(app_and_db(100, front_end=True))
    server = next(x for x in p.lines if x.product == "sql-server" and x.license == "server")
    assert any("SQL CALs for its 100 user(s)" in r for r in server.reasons)


def test_the_relayed_need_names_both_rows() -> None:
    needs = demand(app_and_db(1, front_end=True), frozenset({"db"})).needs
    sql = [n for n in needs if n.right == "sql-server:cal"]
    assert [(n.user, n.ose, n.source) for n in sql] == [
        ("u0", "db", "access.csv:2 via front end app → access.csv:100 (sql-server on db)")
    ]


def test_an_unmarked_relay_needs_no_sql_cal_but_gets_a_warning_with_the_cost() -> None:
    # Not a front end: server-to-server access needs no CAL (§1.5 item 1), so the users need
    # only app's WS 2019 CAL. The warning names app and db and what 100 SQL CALs would cost:
    # 100 × 230 = 23,000.00.
    p = position(app_and_db(100, front_end=False))
    cals = {(x.product, x.license, x.version): x.required for x in p.lines if "cal" in x.license}
    assert cals == {("windows-server", "user-cal", "2019"): 100}
    warnings = [f for f in p.findings if f.code == "multiplexing-unmarked"]
    assert len(warnings) == 1
    text = warnings[0].message
    assert "app" in text and "sql-server 2022 on db" in text
    assert "up to 23,000.00 USD" in text
    assert warnings[0].source == "access.csv:100"


def test_an_unmarked_relay_to_sql_server_per_core_gets_no_warning() -> None:
    # Nothing is at stake when what is reached needs no CAL (SQL per VM, §3.5).
    p = position(app_and_db(10, front_end=False, db_model="per-vm"))
    assert [f for f in p.findings if f.code == "multiplexing-unmarked"] == []


def test_the_sql_model_is_chosen_with_the_users_behind_the_front_end() -> None:
    # §3.5, §10 #36 with §1.6: a 4-core SQL Standard VM, model open. 10 users behind app:
    # Server + CAL 989 + 10 × 230 = 3,289 < per VM 4 × 1,972.50 = 7,890. 100 users: 989 +
    # 23,000 = 23,989 > 7,890, so per VM and no SQL CAL.
    ten = cal_lines(app_and_db(10, front_end=True, db_model=None))
    assert ten[("sql-server", "user-cal", None, "2022")] == (10, 10)
    hundred = cal_lines(app_and_db(100, front_end=True, db_model=None))
    assert ("sql-server", "user-cal", None, "2022") not in hundred
    assert hundred[("windows-server", "user-cal", None, "2022")] == (100, 100)


def chain(cycle: bool = False) -> Estate:
    """5 users on web (front end, WS 2019) → app (front end, WS 2019) → SQL Server Standard 2019
    Server + CAL on db (WS 2022); with ``cycle``, app also reaches back to web."""
    s2s = [
        Access("app", "windows-server", None, "web", source=Source("access.csv", 50)),
        Access("db", "sql-server", None, "app", source=Source("access.csv", 51)),
    ]
    if cycle:
        s2s.append(Access("web", "windows-server", None, "app", source=Source("access.csv", 52)))
    return estate(
        [host("h", 2, 8)],
        [front("web", "h"), front("app", "h"), vm("db", "h", 4)],
        [
            sw("web", "windows-server", "standard", "2019"),
            sw("app", "windows-server", "standard", "2019"),
            sw("db", "windows-server", "standard", "2022"),
            sw("db", "sql-server", "standard", "2019", "server-cal"),
        ],
        access=tuple(row(2 + i, "web", "windows-server", f"u{i}") for i in range(5)) + tuple(s2s),
        prices=NO_SUITE,
    )


def test_a_chain_of_two_front_ends_is_followed() -> None:
    # §1.6 through web and app: each of the 5 users needs a SQL Server 2019 CAL (db's SQL
    # version) and a WS 2022 CAL (db's Windows Server, the newest one reached, §1.4).
    expected = {
        ("windows-server", "user-cal", None, "2022"): (5, 5),
        ("sql-server", "user-cal", None, "2019"): (5, 5),
    }
    assert cal_lines(chain()) == expected
    sql = [n for n in demand(chain(), frozenset({"db"})).needs if n.right == "sql-server:cal"]
    assert sql[0].source == (
        "access.csv:2 via front end web → access.csv:50 (windows-server on app) → "
        "access.csv:51 (sql-server on db)"
    )
    # A cycle (app reaches web again) changes nothing and ends.
    assert cal_lines(chain(cycle=True)) == expected


def test_the_admins_of_a_front_end_are_not_relayed() -> None:
    # Two admins of app administer it (§1.5 item 2); they do not use what it relays.
    e = app_and_db(0, front_end=True)
    admins = tuple(row(2 + i, "app", "windows-server", f"a{i}", purpose="admin") for i in range(2))
    assert cal_lines(replace(e, access=admins + e.access)) == {}


def test_relayed_external_users_are_covered_by_one_connector_per_host() -> None:
    # §2 with §1.6: 40 external users on app, relayed to SQL per VM on db (no SQL CAL), need
    # WS CALs of app (2019) and db (2022): one 2022 CAL each, 40 × 46 = 1,840 > one WS External
    # Connector on h, which covers every OSE of the host (1,543).
    e = app_and_db(40, front_end=True, db_model="per-vm")
    e = replace(e, users=tuple(User(f"u{i}", external=True) for i in range(40)))
    assert cal_lines(e) == {("windows-server", "external-connector", None, "2022"): (1, 1)}
