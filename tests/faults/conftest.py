"""The fault tests' worker: one warm ``entitle`` process that forks a child per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kit import Zygote


@pytest.fixture(scope="session")
def zygote() -> Iterator[Zygote]:
    worker = Zygote()
    yield worker
    worker.close()
