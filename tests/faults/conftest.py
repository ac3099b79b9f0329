"""The fault tests' worker: one warm ``entitle`` process that forks a child per run; and their
PostgreSQL databases, dropped together at the worker's end."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from kit import LATER, Zygote

from pgreuse import drop


@pytest.fixture(scope="session", autouse=True)
def _drop_at_the_end() -> Iterator[None]:
    yield
    if LATER:
        drop(os.environ["ENTITLE_TEST_POSTGRES"], LATER)
        LATER.clear()


@pytest.fixture(scope="session")
def zygote() -> Iterator[Zygote]:
    worker = Zygote()
    yield worker
    worker.close()
