"""Settings for the whole suite.

Under CI (``CI`` set, as `.ci/run` is run) the hypothesis property tests draw the same examples
on every run, so a red CI run always means a change broke something; on a developer's machine
they draw new examples each time (and replay any failure found from `.hypothesis/`).

``make test`` runs the tests on every core (pytest-xdist, ``--dist loadgroup``). A module whose
tests share an expensive module-scoped fixture — the web app with its signed-up users and
imported estate, the fuzzers all started at once — runs whole on one worker (its
``xdist_group``), so the fixture is built once, not once per worker. The tiers are in tiers.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No deadline per example anywhere: a loaded machine makes an example slow, not wrong.
settings.register_profile("suite", deadline=None)
settings.register_profile("ci", settings.get_profile("suite"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "suite")

TESTS = Path(__file__).resolve().parent
ONE_WORKER = ("web/", "fuzz/test_fuzz.py")  # modules kept together (see above)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the modules kept together, and run them first: a group is the largest unit of work,
    and one started last would leave the other workers idle at the end."""
    grouped = set()
    for item in items:
        module = item.path.relative_to(TESTS).as_posix()
        if module.startswith(ONE_WORKER):
            item.add_marker(pytest.mark.xdist_group(module))
            grouped.add(item.nodeid)
    items.sort(key=lambda item: item.nodeid not in grouped)  # stable: the order within stays
