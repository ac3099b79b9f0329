"""The suite's two tiers. ``make test`` runs the fast one (every test, with the random oracle
comparisons capped to what proves the point); ``make test-long`` runs the rest of the cases,
marked ``slow``, the fuzz targets for longer, and the hypothesis tests again with all their
examples (``ENTITLE_TEST_TIER=long``). CI runs both (.ci/run)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import pytest

SLOW = pytest.mark.slow
T = TypeVar("T")


def seeds(fast: int, full: int) -> list[Any]:
    """Seeds ``0 .. full - 1`` for a parametrized random test: the first ``fast`` run on every
    ``make test``, the rest only in the long tier."""
    return [pytest.param(s, marks=() if s < fast else SLOW) for s in range(full)]


LONG = os.environ.get("ENTITLE_TEST_TIER") == "long"


def examples(fast: int, full: int) -> int:
    """``max_examples`` of a hypothesis test: ``fast`` in ``make test``, ``full`` in the long
    tier, which selects the hypothesis tests by their marker and sets ENTITLE_TEST_TIER."""
    return full if LONG else fast


# A test whose cases are known only when it runs (the fault points a clean run went through) is
# parametrized over its two parts, ``PARTS``: the fast tier runs the cases ``part`` picks, the
# long tier the others.
PARTS = [pytest.param("fast"), pytest.param("rest", marks=SLOW)]


def part(cases: Iterable[T], which: str, fast: Callable[[T], bool]) -> list[T]:
    """The cases of part ``which`` of ``PARTS``: those ``fast`` picks, or all the others."""
    return [case for case in cases if fast(case) == (which == "fast")]


def turns(names: Sequence[str], kinds: Sequence[str], fast: int) -> list[Any]:
    """Every ``(name, kind)`` pair, as parameters: the fast tier takes ``fast`` kinds of each name,
    turning through the kinds (the i-th name with kinds i, i + 1, ... modulo their number), so
    that it holds every name and every kind; the long tier takes the other pairs."""
    n = len(kinds)
    return [
        pytest.param(name, kind, marks=() if (k - i) % n < fast else SLOW)
        for i, name in enumerate(names)
        for k, kind in enumerate(kinds)
    ]
