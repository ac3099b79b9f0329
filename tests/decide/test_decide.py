"""The CAL Decision Tool on hand-worked scenarios (entitle's own logic, licensing-rules.md §9),
priced at user CAL 46.00 and device CAL 40.00 (the catalog's Windows Server CAL prices, §8)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from builders import AS_OF, estate, host, physical, sw
from entitle.catalog import default_catalog
from entitle.cli.main import app
from entitle.decide import Answers, GrowthRates, Prices, project_answers, recommend
from entitle.decide.data import OPTIMUM, decide_from_estate
from entitle.estate.records import Access, Device, User

P = Prices("windows-server", Decimal("46.00"), Decimal("40.00"))
D = Decimal


def answers(users, ded, dpu, sh, shared_devices, **kw) -> Answers:
    return Answers(users, D(ded) / 100, D(dpu), D(sh) / 100, shared_devices, **kw)


def test_call_centre_on_shared_pcs_takes_device_cals() -> None:
    """200 agents in three shifts on 60 PCs: 60 × 40 = 2,400 beats 200 × 46 = 9,200."""
    rec = recommend(answers(200, 0, 1, 100, 60), P)
    assert rec.kind == "Device"
    assert (rec.user_cals, rec.device_cals, rec.cost) == (0, 60, D("2400.00"))


def test_roaming_staff_with_three_devices_take_user_cals() -> None:
    """50 people × (laptop, phone, tablet): 50 × 46 = 2,300 beats 150 × 40 = 6,000."""
    rec = recommend(answers(50, 100, 3, 0, 0), P)
    assert rec.kind == "User"
    assert (rec.user_cals, rec.device_cals, rec.cost) == (50, 0, D("2300.00"))


def test_a_mix_is_the_worked_example_41() -> None:
    """§10 example 41: 30 staff with 3 devices each → 30 user CALs (not 90); 20 shift workers on
    5 terminals → 5 device CALs (not 20). 30 × 46 + 5 × 40 = 1,580."""
    rec = recommend(answers(50, 60, 3, 40, 5), P)
    assert rec.kind == "Mix"
    assert (rec.user_cals, rec.device_cals, rec.cost) == (30, 5, D("1580.00"))
    assert "not Microsoft's" in rec.considerations[0]


def test_one_device_each_is_device_unless_uncountable_or_growing() -> None:
    """100 people with one PC each: 100 × 40 = 4,000 < 4,600, so Device CALs — but when devices
    cannot be counted or are expected to grow, User CALs (§9's questions 5 and 6)."""
    assert recommend(answers(100, 100, 1, 0, 0), P).kind == "Device"
    hard = recommend(answers(100, 100, 1, 0, 0, can_count_devices=False), P)
    assert hard.kind == "User" and "counted" in hard.groups[0].reason
    growing = recommend(answers(100, 100, 1, 0, 0, device_growth=True), P)
    assert growing.kind == "User" and growing.cost == D("4600.00")


def test_switching_type_is_a_consideration() -> None:
    rec = recommend(answers(200, 0, 1, 100, 60, current="user"), P)
    assert any("Software Assurance renewal" in n for n in rec.considerations)


def test_bad_answers_are_problems() -> None:
    assert answers(0, 50, 1, 60, 0).problems()  # no users, shares over 100 %, no shared devices


def test_growth_finds_the_year_device_cals_stop_being_cheapest() -> None:
    """40 people with 1 device each, +1 device per person a year, no head-count growth.
    Year 0: User 40 × 46 = 1,840; Device 40 × 40 = 1,600 (cheapest).
    Year 1: 80 devices → 3,200 > 1,840, so Device CALs stop being cheapest in year 1."""
    a = answers(40, 100, 1, 0, 0)
    today = recommend(a, P)
    assert today.kind == "Device"
    g = project_answers(a, P, GrowthRates(2, D(0), D(1), D(0)), today)
    assert [g.cost("all User", y) for y in g.years] == [D("1840.00")] * 3
    assert [g.cost("all Device", y) for y in g.years] == [D("1600.00"), D("3200.00"), D("4800.00")]
    assert g.stops("all Device") == 1
    assert g.stops("recommended today") == 1
    assert g.stops("all User") == 0
    assert g.floor == (D("1600.00"), D("1840.00"), D("1840.00"))


def test_the_words_tell_the_strategies_from_the_floor() -> None:
    """Issue #17 item 2, by hand: A costs 10 then 20, B 15 then 12, the floor 10 then 11. Year
    0: A (10) is the cheapest strategy and the floor equals it; year 1: B (12) is, and the
    floor is 12 - 11 = 1.00 below it."""
    from entitle.decide.growth import Projection

    p = Projection(
        ("A", "B"), ((D(10), D(20)), (D(15), D(12))), "cheapest mix that year", (D(10), D(11))
    )
    assert p.stop_text("A") == (
        "A: the cheapest of the strategies you could adopt until year 0, no longer in year 1"
    )
    assert p.stop_text("B") == "B: not the cheapest of the strategies you could adopt, even today"
    assert p.floor_text() == (
        "cheapest mix that year: cheaper than every strategy in year 1, by 1.00 in year 1 "
        "(each group's cheaper CAL type, year by year)"
    )
    same = Projection(("A",), ((D(5), D(5)),), "exact optimum", (D(5), D(5)))
    assert same.floor_text() == (
        "exact optimum: costs the same as the cheapest strategy in every year projected"
    )


def test_headcount_growth_rounds_half_up() -> None:
    """10 people, +25 %/year: 12.5 → 13 in year 1, 15.625 → 16 in year 2 (User: × 46)."""
    a = answers(10, 100, 3, 0, 0)
    g = project_answers(a, P, GrowthRates(2, D("0.25"), D(0), D(0)), recommend(a, P))
    assert [g.cost("all User", y) for y in g.years] == [D("460.00"), D("598.00"), D("736.00")]


def shop() -> object:
    """A WS 2022 server; ann and bob each have a PC of their own and a laptop (2 devices each);
    cy, di, ed share one kiosk. Priced at 46 / 40 (prices in catalog)."""
    access = (
        Access("s-os", "windows-server", "ann", "ann-pc"),
        Access("s-os", "windows-server", "ann", "ann-lap"),
        Access("s-os", "windows-server", "bob", "bob-pc"),
        Access("s-os", "windows-server", "bob", "bob-lap"),
        Access("s-os", "windows-server", "cy", "kiosk"),
        Access("s-os", "windows-server", "di", "kiosk"),
        Access("s-os", "windows-server", "ed", "kiosk"),
    )
    e = estate(
        [host("s", 1, 8)],
        [physical("s-os", "s")],
        [sw("s-os", "windows-server", "standard", "2022")],
        access=access,
    )
    from dataclasses import replace

    names = ("ann-pc", "ann-lap", "bob-pc", "bob-lap", "kiosk")
    return replace(
        e,
        users=tuple(User(u) for u in ("ann", "bob", "cy", "di", "ed")),
        devices=tuple(Device(d) for d in names),
    )


def test_data_mode_prices_the_optimum_beside_simple_strategies() -> None:
    """Exact optimum: ann, bob user CALs (2 × 46) + the kiosk (1 × 40) = 132.
    All User: 5 × 46 = 230. All Device: 5 devices × 40 = 200.
    The questionnaire (2 with own devices, 2 each; 3 on 1 shared device) answers Mix = optimum."""
    d = decide_from_estate(shop(), default_catalog(), AS_OF, P)  # type: ignore[arg-type]
    cost = {s.name: s.list_cost for s in d.strategies}
    assert cost[OPTIMUM] == D("132.00")
    assert cost["all User"] == D("230.00")
    assert cost["all Device"] == D("200.00")
    assert cost["questionnaire's answer"] == D("132.00")
    assert d.recommendation.kind == "Mix"
    assert d.saving("all User") == D("98.00")
    assert (d.answers.users, d.answers.shared_devices, d.answers.devices_per_user) == (
        5,
        1,
        D("2.00"),
    )


def test_data_mode_growth_adds_people_through_what_if() -> None:
    """+100 % head count in year 1: every person gets a twin (own devices copied, the kiosk
    shared): optimum 4 × 46 + 1 × 40 = 224; all User 10 × 46 = 460."""
    d = decide_from_estate(
        shop(), default_catalog(), AS_OF, P, rates=GrowthRates(1, D(1), D(0), D(0))
    )  # type: ignore[arg-type]
    g = d.growth
    assert g is not None
    assert g.floor == (D("132.00"), D("224.00"))
    assert g.cost("all User", 1) == D("460.00")


runner = CliRunner()


def test_cli_questionnaire_json_and_missing_answers() -> None:
    result = runner.invoke(
        app,
        [
            "decide",
            "--users",
            "50",
            "--dedicated",
            "60",
            "--devices-per-user",
            "3",
            "--shared",
            "40",
            "--shared-devices",
            "5",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"recommendation": "Mix"' in result.stdout and '"cost": 1580.0' in result.stdout
    missing = runner.invoke(app, ["decide", "--users", "50"])
    assert missing.exit_code == 2 and "--dedicated" in missing.stderr


def test_cli_interactive_asks_the_questions() -> None:
    result = runner.invoke(app, ["decide", "-i", "--years", "1"], input="50\n60\n3\n40\n5\n")
    assert result.exit_code == 0, result.output
    assert "Recommendation: Mix" in result.stdout


def windows_server(folder: Path) -> Path:
    """An estate folder of one file server running Windows Server 2022, users alice and bob, and
    no access table."""
    folder.mkdir()
    (folder / "hosts.csv").write_text("host,processors,cores_per_processor\nh1,2,8\n")
    (folder / "oses.csv").write_text("ose,host,virtual\nfs1,h1,no\n")
    (folder / "software.csv").write_text(
        "ose,product,edition,version\nfs1,windows-server,standard,2022\n"
    )
    (folder / "users.csv").write_text("user\nalice\nbob\n")
    return folder


def test_cli_on_an_estate_without_access_says_it_has_no_evidence(tmp_path: Path) -> None:
    """An estate whose access table is missing: every strategy counts 0 CALs, which reads as a
    recommendation unless the tool says it had nothing to decide on (stderr and the JSON)."""
    folder = windows_server(tmp_path / "no-access")
    result = runner.invoke(app, ["decide", str(folder), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    assert "no access rows (access.csv is absent or empty)" in result.stderr
    [warning] = json.loads(result.stdout)["warnings"]
    assert warning.startswith("no access rows")
    (folder / "devices.csv").write_text("device\npc1\n")
    (folder / "access.csv").write_text("ose,product,user,device\nfs1,windows-server,alice,pc1\n")
    result = runner.invoke(app, ["decide", str(folder), "--json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] == [] and "warning" not in result.stderr


def test_cli_on_an_estate_without_access_to_the_product_says_so(tmp_path: Path) -> None:
    """Access rows to Windows Server only, a decision asked for SQL Server: no row needs a SQL
    Server CAL, every count is 0, and the tool says why rather than recommend 0 CALs."""
    folder = windows_server(tmp_path / "windows-only")
    (folder / "devices.csv").write_text("device\npc1\n")
    (folder / "access.csv").write_text("ose,product,user,device\nfs1,windows-server,alice,pc1\n")
    args = ["decide", str(folder), "--json", "--as-of", "2026-11-28", "--product", "sql-server"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    [warning] = json.loads(result.stdout)["warnings"]
    assert warning.startswith("no access row needs a sql-server CAL")
