"""The suite's two tiers. ``make test`` runs the fast one (every test, with the random oracle
comparisons capped to what proves the point); ``make test-long`` runs the rest of the cases,
marked ``slow``, the fuzz targets for longer, and the hypothesis tests again with all their
examples (``ENTITLE_TEST_TIER=long``). CI runs both (.ci/run)."""

from __future__ import annotations

import os
from typing import Any

import pytest

SLOW = pytest.mark.slow


def seeds(fast: int, full: int) -> list[Any]:
    """Seeds ``0 .. full - 1`` for a parametrized random test: the first ``fast`` run on every
    ``make test``, the rest only in the long tier."""
    return [pytest.param(s, marks=() if s < fast else SLOW) for s in range(full)]


LONG = os.environ.get("ENTITLE_TEST_TIER") == "long"


def examples(fast: int, full: int) -> int:
    """``max_examples`` of a hypothesis test: ``fast`` in ``make test``, ``full`` in the long
    tier, which selects the hypothesis tests by their marker and sets ENTITLE_TEST_TIER."""
    return full if LONG else fast
