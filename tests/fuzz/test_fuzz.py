"""Run each atheris target (targets.py) for a bounded time and fail on any crash; the input
that crashed is saved in tests/fuzz/crashes/TARGET/ (and replayed by the test below from then
on). ENTITLE_FUZZ_SECONDS sets the time per target (default 8); README.md here says more."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
CORPUS = ROOT / "tests" / "corpus" / "files"
CRASHES = HERE / "crashes"
SECONDS = int(os.environ.get("ENTITLE_FUZZ_SECONDS", "8"))
SEEDS = {
    "estate_csv": [CORPUS, ROOT / "examples" / "sample-estate"],
    "estate_folder": [CORPUS, ROOT / "examples" / "sample-estate"],
    "estate_workbook": [CORPUS, EXPORTS / "rvtools"],
    "export_csv": [CORPUS, EXPORTS],
    "ual": [EXPORTS / "ual"],
    "sil": [EXPORTS / "sil"],
    "ad": [EXPORTS / "ad"],
    "rvtools": [EXPORTS / "rvtools"],
}

pytest.importorskip("atheris", reason="the fuzz targets need atheris (pip install -e '.[dev]')")


@pytest.mark.parametrize("target", sorted(SEEDS))
def test_fuzz(target: str, tmp_path: Path) -> None:
    crashes = CRASHES / target
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    work = tmp_path / "corpus"  # new inputs land here, not among the seeds
    work.mkdir()
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
    done = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 300)
    found = sorted(set(crashes.iterdir()) - before)
    tail = "\n".join(done.stderr.splitlines()[-40:])
    assert done.returncode == 0 and not found, (
        f"{target} crashed; the input is saved as {[str(f) for f in found]}. Replay it with\n"
        f"  .venv/bin/python tests/fuzz/targets.py {target} {found[0] if found else ''}\n{tail}"
    )
    if not any(crashes.iterdir()):
        crashes.rmdir()


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
