"""A what-if plans the estate twice; the CAL problems its changes leave as they were are solved
once (:class:`entitle.optimize.calmemo.CalPlans`, counted by ``solved`` and ``reused``)."""

from __future__ import annotations

from builders import AS_OF, estate, host, physical, sw, users_reach
from entitle.catalog import default_catalog
from entitle.optimize.calmemo import CalPlans
from entitle.position import compute_position
from entitle.whatif import apply_changes, parse_changes

CAT = default_catalog()


def three_users():
    """Three users reach Windows Server 2022 on a 1 × 8-core host."""
    return estate(
        [host("h1", 1, 8)],
        [physical("h1-os", "h1")],
        [sw("h1-os", "windows-server", "standard", "2022")],
        access=users_reach("h1-os", "windows-server", 3),
    )


def scenario(text: str):
    changes, problems = parse_changes(text)
    assert problems == []
    after, problems = apply_changes(three_users(), changes, CAT)
    assert problems == [] and after is not None
    return after


def required(position, license: str) -> int:
    return sum(x.required for x in position.lines if x.license == license)


def test_more_cores_reuse_the_baselines_cal_plan() -> None:
    """More cores at a new core price change the server licenses, not who needs a CAL nor what
    a CAL costs: the three users' CAL plan (§1.1: one user CAL each) is the baseline's, handed
    back; the position is the one computed without the memo. 1 × 24 cores → 24 core licenses
    (§3.1: at least 8 a processor, 16 a server)."""
    memo = CalPlans(CAT)
    before = compute_position(three_users(), CAT, AS_OF, memo=memo)
    assert (memo.solved, memo.reused) == (1, 0)
    assert (required(before, "user-cal"), required(before, "core")) == (3, 16)
    after_estate = scenario(
        "- set: host\n  host: h1\n  cores_per_processor: 24\n"
        "- set: price\n  product: windows-server\n  license: core\n  price: 70\n"
    )
    after = compute_position(after_estate, CAT, AS_OF, memo=memo)
    assert (memo.solved, memo.reused) == (1, 1)
    assert (required(after, "user-cal"), required(after, "core")) == (3, 24)
    assert after == compute_position(after_estate, CAT, AS_OF)


def test_a_new_user_is_a_new_cal_problem() -> None:
    """A fourth user changes the CAL demand: solved again, not reused (4 user CALs, §1.1)."""
    memo = CalPlans(CAT)
    compute_position(three_users(), CAT, AS_OF, memo=memo)
    after_estate = scenario("- add: users\n  count: 1\n  like: u0\n  prefix: hire\n")
    after = compute_position(after_estate, CAT, AS_OF, memo=memo)
    assert (memo.solved, memo.reused) == (2, 0)
    assert required(after, "user-cal") == 4
    assert after == compute_position(after_estate, CAT, AS_OF)


def test_another_price_is_another_problem() -> None:
    """The same needs at another user CAL price are not the same problem."""
    memo = CalPlans(CAT)
    compute_position(three_users(), CAT, AS_OF, memo=memo)
    text = "- set: price\n  product: windows-server\n  license: user-cal\n  price: 10\n"
    after = compute_position(scenario(text), CAT, AS_OF, memo=memo)
    assert (memo.solved, memo.reused) == (2, 0)
    assert required(after, "user-cal") == 3


def test_every_price_a_cal_plan_reads_is_in_the_memos_key() -> None:
    """The memo tells pricings apart by the CAL licenses' prices only: every license a CAL plan
    is priced in (a right's, a suite's, a client ML's, a connector's) is one of them."""
    from entitle.optimize.calmemo import CAL_LICENSES
    from entitle.optimize.calplan import Resource

    kinds = ("windows-server:cal", "exchange-server:cal-enterprise", "configuration-manager:ml")
    resources = [Resource(h, w) for h in ("user", "device") for w in (*kinds, "core-cal")]
    resources.append(Resource("ec", "windows-server"))
    assert {r.license()[1] for r in resources} <= CAL_LICENSES
