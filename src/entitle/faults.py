"""Named fault points in the write paths, for the fault tests (``tests/faults``).

The code that writes what a user keeps — an estate folder swapped in by an import, a ledger
transaction, a report file renamed into place — calls :func:`fault_point` at the steps where a crash
matters. Normally that only counts the step. When the environment names a point,
``ENTITLE_FAULT=NAME:N``, the process kills itself with SIGKILL at the Nth pass of ``NAME``: no
``finally`` block, exit handler or buffered write runs, as when the power goes. The fault tests
run each command once to count the passes of every point (:func:`passes`), then once per point
and pass with the kill there, so what they check never depends on timing.

This module imports nothing of entitle, so every layer may call it.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

VARIABLE = "ENTITLE_FAULT"

_passes: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """One pass of the step ``name``; SIGKILL here when ``ENTITLE_FAULT`` is ``NAME:N`` and
    this is the Nth pass."""
    _passes[name] += 1
    wanted = os.environ.get(VARIABLE)
    if wanted:
        target, _, nth = wanted.rpartition(":")
        if target == name and nth == str(_passes[name]):
            os.kill(os.getpid(), signal.SIGKILL)


def passes() -> dict[str, int]:
    """How often each point was passed in this process so far."""
    return dict(_passes)
