"""Settings for the whole suite.

Under CI (``CI`` set, as `.ci/run` is run) the hypothesis property tests draw the same examples
on every run, so a red CI run always means a change broke something; on a developer's machine
they draw new examples each time (and replay any failure found from `.hypothesis/`).

``make test`` runs the tests on every core (pytest-xdist, ``--dist loadgroup``). A module whose
tests share an expensive module-scoped fixture — the web app with its signed-up users and
imported estate — runs whole on one worker, once per database engine (the engine is the
fixture's parameter), so each fixture is built once, not once per worker. xdist's own
``xdist_group`` marker does nothing under pytest 9 (xdist 3.8 renames ``item._nodeid``, which
pytest 9 no longer reads), so the grouping is done by the scheduler below, from the test ids.
The tiers are in tiers.py.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Iterator
from typing import Any

import pytest
import typer.testing
from hypothesis import settings

import pgreuse

# No deadline per example anywhere: a loaded machine makes an example slow, not wrong.
settings.register_profile("suite", deadline=None)
settings.register_profile("ci", settings.get_profile("suite"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "suite")

# Typer's CliRunner builds the Click command from the app again on every ``invoke``: it reads the
# signature and evaluates the type hints of every command (about 25 ms of a core each time, some
# 600 invokes a run: 15 s of the fast tier's 150). An app does not change once its modules are
# imported, and a Click command keeps nothing of one run for the next (each gets its own
# context), so each process builds it once, as the `entitle` executable does for its one run.
# test_cli_startup.py checks that this still takes hold after an upgrade of Typer.
BUILD_COMMAND = typer.testing._get_command
typer.testing._get_command = functools.cache(BUILD_COMMAND)

# Modules kept together (see above), as test-id prefixes. test_cli_startup.py runs its commands in
# one interpreter for the module (a module-scoped fixture): together, it is started once a suite.
TOGETHER = ("tests/web/", "tests/test_cli_startup.py")
ENGINES = ("sqlite", "postgresql")


def group_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its module and database engine for the modules kept
    together, else the test alone."""
    nodeid = nodeid.split("@")[0] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid
    if not nodeid.startswith(TOGETHER):
        return nodeid
    module, _, name = nodeid.partition("::")
    params = name.partition("[")[2].rstrip("]").split("-")
    engine = next((e for e in ENGINES if e in params), "")
    return f"{module}[{engine}]" if engine else module


def first(item: pytest.Item) -> int:
    """The order of the work: the browser tests (20-25 s each, the longest units), then the rest
    of the modules kept together, then the rest; a long unit started last would leave the other
    workers idle at the end."""
    if item.nodeid.startswith("tests/web/test_e2e"):
        return 0
    return 1 if item.nodeid.startswith(TOGETHER) else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=first)  # stable: the order within each kind stays


@pytest.fixture(scope="session", autouse=True)
def _drop_at_the_end() -> Iterator[None]:
    """The PostgreSQL databases the worker's tests are done with (``pgreuse.LATER``), dropped at
    its end, all at once: each DROP DATABASE waits for a checkpoint of the whole server, and sent
    together they share one or two (``pgreuse.drop``). Dropped by a process the run does not wait
    for (``pgreuse.drop_detached``; it logs to ``pgreuse.DROP_LOG``): beside another run that
    checkpoint kept both workers 15-28 s after their last test. Set up first, so torn down last."""
    yield
    if pgreuse.LATER:
        pgreuse.drop_detached(os.environ["ENTITLE_TEST_POSTGRES"], list(pgreuse.LATER))
        pgreuse.LATER.clear()


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the collection built stays for the whole run (the imported modules, 2,400 test items
    and their fixtures' definitions): moved out of the collector's sight, so that each of its
    full collections (twenty to thirty a worker) no longer walks it all again: 3.7 → 2.0 s of a
    core a worker in them. What a test makes is collected as before."""
    gc.freeze()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups of ``group_of``, handed out in the order above."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Groups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    config.option.loadscopereorder = False  # the collection's order (``first``), not by size
    return Groups(config, log)
