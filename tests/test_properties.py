"""Properties of the server engine (hypothesis): more cores or more VMs never lower what is
required, and Datacenter never needs more core licenses than Standard for the same host."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import estate, host, physical, position, sw, vm
from entitle.catalog import default_catalog
from entitle.rules.cores import physical_cores
from tiers import examples

shapes = st.tuples(st.integers(1, 4), st.integers(1, 40), st.integers(0, 12))


def ws_host(processors: int, cores: int, n_vms: int, edition: str = "standard"):  # type: ignore[no-untyped-def]
    oses = [physical("p", "h", hosting_only=n_vms > 0)] + [vm(f"v{i}", "h") for i in range(n_vms)]
    software = [sw(o.ose, "windows-server", edition, "2025") for o in oses]
    return estate([host("h", processors, cores)], oses, software)


def options(e):  # type: ignore[no-untyped-def]
    p = position(e)
    choice = next(c for c in p.choices if c.decision.key == "windows-server@h")
    return p, {label: cost for label, cost in choice.alternatives}, choice


@settings(max_examples=examples(30, 60), deadline=None)
@given(shapes, st.sampled_from(["core", "vm"]))
def test_more_cores_or_vms_never_cost_less(shape: tuple[int, int, int], grow: str) -> None:
    processors, cores, n_vms = shape
    bigger = (processors, cores + 1, n_vms) if grow == "core" else (processors, cores, n_vms + 1)
    before = position(ws_host(*shape)).total_cost
    after = position(ws_host(*bigger)).total_cost
    assert after >= before


@settings(max_examples=examples(30, 60), deadline=None)
@given(shapes, st.sampled_from(["core", "vm"]))
def test_more_cores_or_vms_never_need_fewer_standard_licenses(
    shape: tuple[int, int, int], grow: str
) -> None:
    processors, cores, n_vms = shape
    bigger = (processors, cores + 1, n_vms) if grow == "core" else (processors, cores, n_vms + 1)

    def standard_units(s: tuple[int, int, int]) -> int:
        _, _, choice = options(ws_host(*s))
        option = next(o for o in choice.decision.options if o.label.startswith("standard"))
        return sum(n.quantity for n in option.needs)

    assert standard_units(bigger) >= standard_units(shape)


@settings(max_examples=examples(30, 60), deadline=None)
@given(shapes)
def test_datacenter_never_needs_more_cores_than_standard(shape: tuple[int, int, int]) -> None:
    _, _, choice = options(ws_host(*shape))
    units = {o.label.split()[0]: sum(n.quantity for n in o.needs) for o in choice.decision.options}
    assert units["datacenter"] <= units["standard"]


@settings(max_examples=examples(50, 200), deadline=None)
@given(st.integers(1, 8), st.integers(1, 64))
def test_physical_cores_respects_both_minimums(processors: int, cores: int) -> None:
    rule = default_catalog().core_rule("windows")
    n = physical_cores(processors, cores, rule)
    assert n >= processors * cores  # every physical core is licensed
    assert n >= 16 and n >= 8 * processors  # §3.1 minimums
    assert n == max(16, processors * max(8, cores))
