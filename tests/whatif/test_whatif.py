"""What-if on a worked example: a change file applied to a tiny estate, the position after it and
the difference line by line, with every number worked out from the rules by hand."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from builders import AS_OF, estate, host, owned, physical, price, sw, users_reach
from entitle.catalog import default_catalog
from entitle.estate.records import Access, Device
from entitle.position import compute_position
from entitle.whatif import apply_changes, diff_positions, parse_changes

CAT = default_catalog()

CHANGES = """\
# upgrade h1 to 2025, add a small server, and a new negotiated price
changes:
  - set: software
    ose: h1-os
    product: windows-server
    version: 2025
  - add: host
    host: h2
    processors: 1
    cores_per_processor: 6
  - add: ose
    ose: h2-os
    host: h2
    virtual: no
  - add: software
    ose: h2-os
    product: windows-server
    edition: standard
    version: 2025
  - set: price
    product: windows-server
    license: core
    edition: standard
    price: 75.10
"""


def base():
    return estate(
        [host("h1", 2, 10)],
        [physical("h1-os", "h1")],
        [sw("h1-os", "windows-server", "standard", "2022")],
        entitlements=[owned("windows-server", "core", 16, "standard", "2022")],
        prices=[price("windows-server", "core", "70.00", "standard")],
    )


def line(p, version):
    return next(x for x in p.lines if x.product == "windows-server" and x.version == version)


def test_worked_example_position_and_difference() -> None:
    changes, problems = parse_changes(CHANGES)
    assert problems == []
    before_estate = base()
    after_estate, problems = apply_changes(before_estate, changes, CAT)
    assert problems == [] and after_estate is not None
    before = compute_position(before_estate, CAT, AS_OF)
    after = compute_position(after_estate, CAT, AS_OF)
    # Before (§3.1): 2 × 10 cores → max(16, 10 + 10) = 20 core licenses; 16 owned, 4 short × 70.
    b = line(before, "2022")
    assert (b.required, b.owned, b.shortfall, b.cost) == (20, 16, 4, Decimal("280.00"))
    # After: an older version does not cover a newer one (§7.4), so h1 needs 20 cores of 2025;
    # h2 (1 × 6 cores) needs the 16-core minimum (§3.1, example 1): 36 at 75.10 = 2,703.60.
    # The 16 cores of 2022 are left as surplus.
    a22, a25 = line(after, "2022"), line(after, "2025")
    assert (a22.required, a22.owned, a22.surplus, a22.cost) == (0, 16, 16, Decimal(0))
    assert (a25.required, a25.owned, a25.shortfall) == (36, 0, 36)
    assert a25.cost == Decimal("2703.60")

    diff = diff_positions(before, after)
    by_label = {c.label: c for c in diff.changed}
    old = by_label["windows-server standard 2022 core"]
    new = by_label["windows-server standard 2025 core"]
    assert (old.delta("required"), old.delta("shortfall"), old.delta("surplus")) == (-20, -4, 16)
    assert old.delta("cost") == Decimal("-280.00")
    assert (new.delta("required"), new.delta("cost")) == (36, Decimal("2703.60"))
    assert diff.total_before == Decimal("280.00")
    assert diff.total_after == Decimal("2703.60")
    assert diff.total_change == Decimal("2423.60")
    assert diff.as_json()["total_cost"]["change"] == Decimal("2423.60")


def test_more_users_like_one_need_more_cals() -> None:
    """Three users reach a WS 2022 VM; two more like u0 → five user CALs (§1.1: one per user)."""
    e = estate(
        [host("h1", 1, 8)],
        [physical("h1-os", "h1")],
        [sw("h1-os", "windows-server", "standard", "2022")],
        access=users_reach("h1-os", "windows-server", 3),
    )
    changes, _ = parse_changes("- add: users\n  count: 2\n  like: u0\n  prefix: hire\n")
    after, problems = apply_changes(e, changes, CAT)
    assert problems == [] and after is not None
    assert {u.user for u in after.users} >= {"hire1", "hire2"}
    assert sum(1 for a in after.access if a.user in ("hire1", "hire2")) == 2
    cals = [x for x in compute_position(after, CAT, AS_OF).lines if x.license == "user-cal"]
    assert sum(x.required for x in cals) == 5


def test_new_users_get_their_own_copies_of_dedicated_devices() -> None:
    e = estate(
        [host("h1", 1, 8)],
        [physical("h1-os", "h1")],
        [sw("h1-os", "windows-server", "standard", "2022")],
        access=(
            Access("h1-os", "windows-server", "ann", "ann-pc"),
            Access("h1-os", "windows-server", "ann", "kiosk"),
            Access("h1-os", "windows-server", "bob", "kiosk"),
        ),
    )
    e = replace(e, devices=(Device("ann-pc"), Device("kiosk")))
    changes, _ = parse_changes("- add: users\n  count: 1\n  like: ann\n  prefix: new\n")
    after, problems = apply_changes(e, changes, CAT)
    assert problems == [] and after is not None
    mine = {(a.user, a.device) for a in after.access if a.user == "new1"}
    assert mine == {("new1", "new1-ann-pc"), ("new1", "kiosk")}  # the kiosk stays shared


def test_removing_a_host_takes_its_oses_software_and_access() -> None:
    e = estate(
        [host("h1", 1, 8), host("h2", 1, 8)],
        [physical("h1-os", "h1"), physical("h2-os", "h2")],
        [
            sw("h1-os", "windows-server", "standard", "2022"),
            sw("h2-os", "windows-server", "standard", "2022"),
        ],
        access=users_reach("h2-os", "windows-server", 2),
        entitlements=[owned("windows-server", "core", 16, "standard", "2022", assigned_to="h2")],
    )
    changes, _ = parse_changes("- remove: host\n  host: h2\n")
    after, problems = apply_changes(e, changes, CAT)
    assert problems == [] and after is not None
    assert [h.host for h in after.hosts] == ["h1"]
    assert [o.ose for o in after.oses] == ["h1-os"]
    assert after.access == ()
    assert after.entitlements[0].assigned_to is None and after.entitlements[0].quantity == 16


def test_no_changes_give_the_same_estate() -> None:
    e = base()
    after, problems = apply_changes(e, (), CAT)
    assert problems == [] and after == e


def test_problems_name_the_change_file_line() -> None:
    text = """\
changes:
  - add: host
    host: h9
    processors: two
    cores_per_processor: 8
  - set: software
    ose: nowhere
    product: windows-server
    version: 2025
  - add: software
    ose: h1-os
    product: sql-sever
    edition: standard
    version: 2022
  - add: users
    count: 0
  - add: dragon
  - set: host
    host: h1
    colour: red
"""
    changes, problems = parse_changes(text, "what.yaml")
    messages = [str(p) for p in problems]
    assert any(m.startswith("what.yaml:17: cannot add 'dragon'") for m in messages)
    _, problems = apply_changes(base(), changes, CAT)
    messages += [str(p) for p in problems]
    text_all = "\n".join(messages)
    assert "what.yaml:6: no software with ose nowhere" in text_all
    assert "what.yaml:16: count '0'" in text_all
    assert "what.yaml:20: host has no field 'colour'" in text_all
    changes, _ = parse_changes(text.split("  - set: software")[0], "what.yaml")
    _, problems = apply_changes(base(), changes, CAT)
    assert any(str(p).startswith("what.yaml:2: processors 'two'") for p in problems)
    changes, _ = parse_changes(
        "- add: software\n  ose: h1-os\n  product: sql-sever\n  edition: standard\n  version: 2022\n",
        "w.yaml",
    )
    _, problems = apply_changes(base(), changes, CAT)
    assert any(str(p).startswith("w.yaml:1: unknown product 'sql-sever'") for p in problems)


def test_bad_yaml_is_a_problem_with_a_line() -> None:
    _, problems = parse_changes("changes:\n  - add: host\n    host: [unclosed\n", "c.yaml")
    assert problems and str(problems[0]).startswith("c.yaml:")
    _, problems = parse_changes("just text", "c.yaml")
    assert "expected a list of changes" in str(problems[0])


def test_a_change_that_makes_two_currencies_is_refused_at_the_change() -> None:
    """The estate's two prices are in USD; a what-if sets the first to EUR. The loader's check
    names the later of two rows in different currencies; a changed row is written after the
    estate's own, so the problem is the change's, and the what-if is refused rather than add
    EUR to USD in one total."""
    usd = [
        replace(price("windows-server", "core", "70.00", "standard"), currency="USD"),
        replace(price("sql-server", "core", "1800.00", "standard"), currency="USD"),
    ]
    e = replace(base(), prices=tuple(usd))
    text = """\
changes:
  - set: price
    product: windows-server
    license: core
    edition: standard
    price: 65.00
    currency: EUR
"""
    changes, problems = parse_changes(text, "what.yaml")
    assert problems == []
    after, problems = apply_changes(e, changes, CAT)
    assert after is None
    assert [p.message for p in problems] == ["currency 'EUR', but <none> is in 'USD'"]
    assert [str(p.source) for p in problems] == ["what.yaml:2"]
