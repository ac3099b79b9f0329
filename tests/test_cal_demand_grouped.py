"""The CAL demand of the access table, worked out once per group of alike rows and laid out as
columns (:mod:`entitle.rules.calaccess`), is the demand the row-by-row builder made
(``tests/oracles/cal_demand_by_row.py``): the same needs in the same order, every column equal,
and the same exemptions, partial exemptions, findings, subscriptions and unmarked front ends —
on random small estates that mix every case the rows can meet (dev-test OSEs, rows without a
principal, server-to-server rows, administrators competing for the two exemptions per OSE,
front ends relaying to other OSEs, external users, client MLs, subscriptions, workbook
sources), on the sample estate and on a generated one."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from builders import AS_OF, estate, host, sw
from entitle.catalog import default_catalog
from entitle.estate.loader import load_estate
from entitle.estate.records import Access, Estate, Managed, Ose, User
from entitle.rules.calaccess import AccessRows
from entitle.rules.cals import CalDemand, cal_demand
from entitle.rules.index import EstateIndex
from entitle.samples.generate import generate_estate, write_estate
from entitle.source import Source
from oracles.cal_demand_by_row import cal_demand_by_row
from tiers import seeds

CAT = default_catalog()
ROOT = Path(__file__).resolve().parents[1]
PRODUCTS: tuple[tuple[str, str | None, str, str | None], ...] = (
    ("exchange-server", "standard", "2019", None),
    ("exchange-server", "standard", "2016", None),
    ("sharepoint-server", None, "2019", None),
    ("sql-server", "standard", "2022", "server-cal"),
    ("sql-server", "standard", "2022", "per-core"),
    ("rds", None, "2022", None),
    ("windows-server", "standard", "2022", None),
)
WINDOWS: tuple[tuple[str | None, str, str | None], ...] = (
    ("standard", "2019", None),
    ("standard", "2022", None),
    ("essentials", "2022", None),
)


def random_estate(rng: random.Random) -> Estate:
    n_oses = rng.randint(1, 6)
    oses, software = [], []
    for i in range(n_oses):
        name = f"o{i}"
        env = "production" if rng.random() < 0.8 else "dev-test"
        oses.append(
            Ose(name, f"h{i % 2}", rng.random() < 0.8, 4, env, front_end=rng.random() < 0.3)  # type: ignore[arg-type]
        )
        if rng.random() < 0.8:
            edition, version, model = rng.choice(WINDOWS)
            if rng.random() < 0.1:
                edition, version, model = "standard", "2025", "payg"
            software.append(sw(name, "windows-server", edition, version, model))
        for _ in range(rng.randint(1, 2)):
            product, edition, version, model = rng.choice(PRODUCTS)
            software.append(sw(name, product, edition, version, model))
    users = [f"u{i}" for i in range(rng.randint(1, 6))]
    external = {u for u in users if rng.random() < 0.3}
    devices = [f"d{i}" for i in range(3)]
    access = []
    for line in range(rng.randint(0, 40)):
        s = rng.choice(software)
        user = rng.choice([*users, None, None])
        device = rng.choice([*devices, None, f"o{rng.randrange(n_oses)}"])
        level = "enterprise" if rng.random() < 0.3 else "standard"
        purpose = "admin" if rng.random() < 0.3 else "use"
        source = rng.choice(
            [Source("access.csv", line + 2), Source("estate.xlsx", line + 2, "access")]
        )
        access.append(Access(s.ose, s.product, user, device, level, purpose, source=source))  # type: ignore[arg-type]
    managed = [
        Managed(
            "configuration-manager",
            device=rng.choice([*devices, "o0", None]),
            user=rng.choice([*users, None]),
            source=Source("managed.csv", line + 2),
        )
        for line in range(rng.randint(0, 4))
    ]
    e = estate(
        [host("h0", 1, 8), host("h1", 1, 8)], oses, software, access=tuple(access), managed=managed
    )
    subscribed = ("microsoft-365-e3",) if rng.random() < 0.5 else ()
    people = tuple(
        User(u, external=u in external, subscriptions=subscribed if u == users[0] else ())
        for u in users
    )
    return replace(e, users=people)


def both(e: Estate) -> tuple[CalDemand, CalDemand]:
    server_cal = frozenset(s.ose for s in e.software if s.model == "server-cal")
    idx = EstateIndex.build(e)
    return cal_demand(idx, CAT, server_cal, AS_OF), cal_demand_by_row(idx, CAT, server_cal, AS_OF)


def assert_same(grouped: CalDemand, by_row: CalDemand) -> None:
    # column by column, so that the order of the needs and the types of their fields count
    assert grouped.needs.columns() == by_row.needs.columns()  # type: ignore[attr-defined]
    assert grouped == by_row


@pytest.mark.parametrize("seed", seeds(60, 400))
def test_grouped_demand_is_the_row_by_row_demand(seed: int) -> None:
    assert_same(*both(random_estate(random.Random(31_000 + seed))))


def test_an_admin_exemption_goes_first_to_who_has_no_other_access() -> None:
    """Three administrators of o0, one of whom uses o1 too: the two exempted are the two
    with nothing else (§1.5 item 2), both ways; the third one's row needs its CALs."""
    e = estate(
        [host("h0", 1, 8)],
        [Ose("o0", "h0", True, 4), Ose("o1", "h0", True, 4)],
        [
            sw("o0", "windows-server", "standard", "2022"),
            sw("o1", "windows-server", "standard", "2022"),
        ],
        access=(
            Access("o0", "windows-server", "a", purpose="admin", source=Source("access.csv", 2)),
            Access("o0", "windows-server", "b", purpose="admin", source=Source("access.csv", 3)),
            Access("o0", "windows-server", "c", purpose="admin", source=Source("access.csv", 4)),
            Access("o1", "windows-server", "a", source=Source("access.csv", 5)),
        ),
    )
    grouped, by_row = both(e)
    assert_same(grouped, by_row)
    assert dict(grouped.exempt) == {"administration only (≤ 2 per OSE)": 2}
    assert [(n.user, n.ose, n.source) for n in grouped.needs] == [
        ("a", "o0", "access.csv:2"),
        ("a", "o1", "access.csv:5"),
    ]


def test_rows_without_a_principal_or_on_dev_test_oses_are_counted_not_kept() -> None:
    e = estate(
        [host("h0", 1, 8)],
        [Ose("o0", "h0", True, 4), Ose("o1", "h0", True, 4, "dev-test")],
        [sw("o0", "exchange-server", "standard", "2019")],
        access=(
            Access("o0", "exchange-server", "u"),
            Access("o0", "exchange-server"),  # unauthenticated
            Access("o0", "exchange-server", None, "o1"),  # server-to-server
            Access("o1", "exchange-server", "u"),  # dev-test
        ),
    )
    from collections import Counter

    exempt: Counter[str] = Counter()
    rows = AccessRows.of(EstateIndex.build(e), exempt)
    assert (rows.user, rows.ose) == (["u"], ["o0"])
    assert exempt == {"unauthenticated": 1, "server-to-server": 1, "dev-test OSE": 1}


def test_sample_estate() -> None:
    e, _ = load_estate(ROOT / "examples" / "sample-estate", CAT)
    assert e is not None
    grouped, by_row = both(e)
    assert len(grouped.needs) > 3000
    assert_same(grouped, by_row)


def test_generated_estate(tmp_path: Path) -> None:
    write_estate(generate_estate(11, 600), tmp_path / "estate")
    e, _ = load_estate(tmp_path / "estate", CAT)
    assert e is not None
    assert_same(*both(e))
