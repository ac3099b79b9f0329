"""No process-wide switch in a request path (issue #13): the web server computes positions in
threads beside other requests, so the engine must never pause Python's garbage collector (a
switch for the whole process). Only ``entitle position``, a process of its own, may (its
gc_paused, cli/common.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from builders import AS_OF, estate, host, physical, sw, users_reach
from entitle.catalog import default_catalog
from entitle.cli.common import gc_paused
from entitle.optimize import cals
from entitle.position import Position, compute_position


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_a_position_computed_in_a_thread_leaves_the_collector_on(
    collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []  # gc.isenabled() at each look from inside the computation
    real_build = cals.build

    def build(*args: Any, **kwargs: Any) -> Any:  # the CAL cut builder, deep in the engine
        seen.append(gc.isenabled())
        return real_build(*args, **kwargs)

    monkeypatch.setattr(cals, "build", build)
    e = estate(
        [host("h1", 1, 16)],
        [physical("h1", "h1")],
        [sw("h1", "windows-server", "standard", "2025")],
        access=users_reach("h1", "windows-server", 3),
    )
    results: list[Position] = []

    def work() -> None:
        results.append(
            compute_position(
                e, default_catalog(), AS_OF, progress=lambda _: seen.append(gc.isenabled())
            )
        )

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert results, "the position was not computed"
    # three users reach Windows Server: its CALs are planned (§1.1), through the cut builder
    assert any(line.license == "user-cal" for line in results[0].lines)
    assert len(seen) >= 2 and all(seen), seen
    assert gc.isenabled()


def test_the_cli_pause_gives_the_collector_back_as_it_found_it(collector_on: None) -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # it was off before: left off
