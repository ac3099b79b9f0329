"""``entitle.faults``: a point counts its passes, and ``ENTITLE_FAULT=NAME:N`` kills the process
with SIGKILL at exactly the Nth pass of NAME (other points and other passes go by)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

SCRIPT = """
from entitle.faults import fault_point, passes
for step in ("a", "b", "a", "b", "a"):
    fault_point("w." + step)
    print(step, flush=True)
print(passes(), flush=True)
"""


def run(fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ENTITLE_FAULT"}
    if fault is not None:
        env["ENTITLE_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )


def test_without_a_fault_the_passes_are_counted() -> None:
    done = run(None)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:5] == ["a", "b", "a", "b", "a"]
    assert "{'w.a': 3, 'w.b': 2}" in done.stdout


def test_the_nth_pass_of_the_named_point_is_killed() -> None:
    done = run("w.b:2")  # passes: a b a [b: killed before printing it]
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["a", "b", "a"]


def test_a_point_never_reached_that_often_kills_nothing() -> None:
    for fault in ("w.b:3", "w.c:1", "w:1", "w.a"):
        done = run(fault)
        assert done.returncode == 0, (fault, done.stderr)
