"""Run every atheris target (targets.py), all at once, for a bounded time and fail on any crash;
the input that crashed is saved in tests/fuzz/crashes/TARGET/ (and replayed by the test below
from then on). ENTITLE_FUZZ_SECONDS sets the time per target (default 4; `make test-long` runs
300); see README.md here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
CORPUS = ROOT / "tests" / "corpus" / "files"
CRASHES = HERE / "crashes"
SECONDS = int(os.environ.get("ENTITLE_FUZZ_SECONDS", "4"))
SEEDS = {
    "estate_csv": [CORPUS, ROOT / "examples" / "sample-estate"],
    "estate_folder": [CORPUS, ROOT / "examples" / "sample-estate"],
    "estate_workbook": [CORPUS, EXPORTS / "rvtools"],
    "export_csv": [CORPUS, EXPORTS],
    "ual": [EXPORTS / "ual", CORPUS],
    "sil": [EXPORTS / "sil"],
    "ad": [EXPORTS / "ad"],
    "rvtools": [EXPORTS / "rvtools"],
    "what_if": [CORPUS, ROOT / "examples"],
    "mapping": [CORPUS, ROOT / "examples"],
    "names": [CORPUS],
}

pytest.importorskip("atheris", reason="the fuzz targets need atheris (pip install -e '.[dev]')")
pytestmark = pytest.mark.fuzz


@dataclass
class Session:
    process: subprocess.Popen[str]
    crashes: Path
    before: set[Path]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Session]]:
    """Every target fuzzing at once (they are independent processes): the module takes about
    as long as the slowest target, not the sum of them."""
    started: dict[str, Session] = {}
    for target in sorted(SEEDS):
        crashes = CRASHES / target
        crashes.mkdir(parents=True, exist_ok=True)
        work = tmp_path_factory.mktemp(f"corpus-{target}")  # new inputs land here, not in seeds
        command = [
            sys.executable,
            str(HERE / "targets.py"),
            target,
            f"-max_total_time={SECONDS}",
            "-timeout=60",
            "-rss_limit_mb=3072",
            "-max_len=65536",
            f"-artifact_prefix={crashes}/",
            "-print_final_stats=1",
            str(work),
            *(str(seed) for seed in SEEDS[target] if seed.exists()),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        started[target] = Session(process, crashes, set(crashes.iterdir()))
    yield started
    for session in started.values():
        if session.process.poll() is None:
            session.process.kill()
            session.process.communicate()


@pytest.mark.parametrize("target", sorted(SEEDS))
def test_fuzz(target: str, sessions: dict[str, Session]) -> None:
    session = sessions[target]
    _, stderr = session.process.communicate(timeout=SECONDS + 600)
    found = sorted(set(session.crashes.iterdir()) - session.before)
    tail = "\n".join(stderr.splitlines()[-40:])
    assert session.process.returncode == 0 and not found, (
        f"{target} crashed; the input is saved as {[str(f) for f in found]}. Replay it with\n"
        f"  .venv/bin/python tests/fuzz/targets.py {target} {found[0] if found else ''}\n{tail}"
    )
    if not any(session.crashes.iterdir()):
        session.crashes.rmdir()


def saved() -> list[tuple[str, Path]]:
    return (
        [
            (folder.name, path)
            for folder in sorted(CRASHES.iterdir())
            if folder.is_dir()
            for path in sorted(folder.iterdir())
        ]
        if CRASHES.is_dir()
        else []
    )


@pytest.mark.parametrize(
    ("target", "path"),
    saved() or [pytest.param("", Path(), marks=pytest.mark.skip(reason="no saved crash inputs"))],
)
def test_saved_crashes_replay(target: str, path: Path) -> None:
    """Every input that once crashed a target runs through it cleanly now."""
    done = subprocess.run(
        [sys.executable, str(HERE / "targets.py"), target, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
