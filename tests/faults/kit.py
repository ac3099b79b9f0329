"""The fault harness: run ``entitle`` commands in a warm worker (``zygote.py``), count the passes
of the named fault points of their write paths (``entitle.faults``), and kill them with SIGKILL
at each pass of each point in turn, then look at what they left. Nothing depends on timing: a
run is killed by the command itself when it reaches the named point."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Outcome:
    code: int | None
    signal: int | None
    log: str
    passes: dict[str, int] = field(default_factory=dict)
    """How often the run passed each fault point (empty when it was killed)."""

    @property
    def killed(self) -> bool:
        return self.signal == signal.SIGKILL


class Zygote:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "zygote.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def run(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        fault: str | None = None,
        no_exchange: bool = False,
    ) -> Outcome:
        """Run ``entitle ARGV`` in ``cwd``; with ``fault`` (``NAME:N``) it kills itself at the
        Nth pass of the point NAME."""
        log = cwd / ".entitle-run.log"
        passes = cwd / ".entitle-passes.json"
        order = {
            "argv": argv,
            "cwd": str(cwd),
            "env": {**(env or {}), **({"ENTITLE_FAULT": fault} if fault else {})},
            "log": str(log),
            "passes": str(passes),
            "no_exchange": no_exchange,
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the fault worker died")
        report = json.loads(line)
        text = log.read_text(errors="replace")
        log.unlink()
        counted: dict[str, int] = {}
        if passes.exists():
            counted = json.loads(passes.read_text(encoding="utf-8"))
            passes.unlink()
        return Outcome(report["code"], report["signal"], text, counted)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def kill_points(passes: dict[str, int], prefix: str) -> list[str]:
    """Every pass of every point named ``PREFIX.*`` that a clean run went through, as the
    ``NAME:N`` values of ``ENTITLE_FAULT``, in a fixed order."""
    return [
        f"{name}:{n}"
        for name in sorted(passes)
        if name.startswith(prefix + ".")
        for n in range(1, passes[name] + 1)
    ]


def files(folder: Path) -> dict[str, bytes]:
    """The visible files of a folder and their bytes (hidden staging leftovers aside)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }
