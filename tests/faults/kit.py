"""The fault harness: run ``entitle`` commands in a warm worker (``zygote.py``) and kill them
with SIGKILL at random points, then look at what they left."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = int(os.environ.get("ENTITLE_FAULT_RUNS", "20"))


@dataclass(frozen=True)
class Outcome:
    code: int | None
    signal: int | None
    seconds: float
    log: str

    @property
    def killed(self) -> bool:
        return self.signal is not None


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
        kill_after: float | None = None,
    ) -> Outcome:
        log = cwd / ".entitle-run.log"
        order = {
            "argv": argv,
            "cwd": str(cwd),
            "env": env or {},
            "kill_after": kill_after,
            "log": str(log),
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
        return Outcome(report["code"], report["signal"], report["seconds"], text)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def kill_points(seconds: float, runs: int = RUNS, seed: int = 8) -> list[float]:
    """Delays to kill at: half spread over the whole run, half over its last fifth (where the
    files and the transaction are written)."""
    rng = random.Random(seed)
    early = [rng.uniform(0.0, seconds) for _ in range(runs - runs // 2)]
    late = [rng.uniform(0.8 * seconds, 1.02 * seconds) for _ in range(runs // 2)]
    return sorted(early + late)


def files(folder: Path) -> dict[str, bytes]:
    """The visible files of a folder and their bytes (hidden staging leftovers aside)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }
