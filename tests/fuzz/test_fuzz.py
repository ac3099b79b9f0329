"""Every atheris target (targets.py) on a fixed campaign — a fixed libFuzzer ``-seed`` and a
fixed number of ``-runs``, PYTHONHASHSEED=0 — so that a run finds exactly what the last run
on the same code found: a red test means the change broke a parser, never that the fuzzer was
lucky this time. ``make test`` runs FAST_RUNS per target, ``make test-long`` LONG_RUNS (or
ENTITLE_FUZZ_RUNS) with another seed; ENTITLE_FUZZ_SECONDS, when set, caps each campaign's time
(an exploratory run: what it reaches then depends on the machine's speed). ``make fuzz`` is the
open-ended run: a new seed, for a time. Any input that crashes a target is saved in
tests/fuzz/crashes/TARGET/ and replayed by every run from then on; see README.md here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tiers import SLOW

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
CORPUS = ROOT / "tests" / "corpus" / "files"
CRASHES = HERE / "crashes"
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
# The campaigns: (libFuzzer seed, runs per target). Runs count the seed inputs too (up to 130
# for the targets fed the corpus and the examples), so the fast campaign is those inputs and a
# few hundred mutations of them. The long one, 40,000 runs per target, takes 6-230 s of one core
# per target (about 9 minutes of CPU for all eleven; ual and what_if are the slowest).
FAST = (1, 400)
# Each campaign starts an instrumented interpreter (3-4 s of a core), so `make test` runs none:
# every target's seed inputs and saved crashes run through it in-process there
# (test_seed_inputs_pass, test_saved_crashes_replay below), and the campaigns run in the long
# tier, which CI runs too. FAST_TARGETS names targets whose short campaign `make test` should
# also run (none now: beside another test run they cost the fast tier a tenth of its time).
FAST_TARGETS: tuple[str, ...] = ()
LONG_SEED, LONG_RUNS = 2, 40_000
RUNS = os.environ.get("ENTITLE_FUZZ_RUNS")  # the long campaign's runs for every target
SECONDS = os.environ.get("ENTITLE_FUZZ_SECONDS")  # an optional cap per campaign
SEED = os.environ.get("ENTITLE_FUZZ_SEED")  # `make fuzz`: 0, a new seed each run
WORK = os.environ.get("ENTITLE_FUZZ_CORPUS")  # `make fuzz`: a corpus kept between runs

pytest.importorskip("atheris", reason="the fuzz targets need atheris (pip install -e '.[test]')")
pytestmark = pytest.mark.fuzz


def long_runs(target: str) -> int:
    return int(RUNS) if RUNS else LONG_RUNS


def campaigns() -> list[object]:
    return [pytest.param(target, *FAST, id=f"{target}-fast") for target in sorted(FAST_TARGETS)] + [
        pytest.param(target, LONG_SEED, long_runs(target), id=f"{target}-long", marks=SLOW)
        for target in sorted(SEEDS)
    ]


@pytest.mark.parametrize(("target", "seed", "runs"), campaigns())
def test_fuzz(target: str, seed: int, runs: int, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"  # libFuzzer writes a crashing input here
    artifacts.mkdir()
    work = Path(WORK) / target if WORK else tmp_path / "corpus"  # new inputs, not in the seeds
    work.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(HERE / "targets.py"),
        target,
        f"-seed={SEED if SEED is not None else seed}",
        f"-runs={runs}",
        *([f"-max_total_time={SECONDS}"] if SECONDS else []),
        "-timeout=300",  # per input: generous, so that a loaded machine is never a "hang"
        "-rss_limit_mb=3072",
        "-max_len=65536",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(work),
        *(str(folder) for folder in SEEDS[target] if folder.exists()),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same hashes every run
    done = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )
    found = []
    for artifact in sorted(artifacts.iterdir()):  # kept, to be replayed by every run from now
        (CRASHES / target).mkdir(parents=True, exist_ok=True)
        found.append(Path(shutil.copy(artifact, CRASHES / target / artifact.name)))
    used = re.search(r"INFO: Seed: (\d+)", done.stderr)
    tail = "\n".join(done.stderr.splitlines()[-40:])
    assert done.returncode == 0 and not found, (
        f"{target} crashed (libFuzzer seed {used[1] if used else '?'}, {runs} runs); the input "
        f"is saved as {[str(f) for f in found]}. Replay it with\n"
        f"  .venv/bin/python tests/fuzz/targets.py {target} {found[0] if found else ''}\n{tail}"
    )


@pytest.mark.parametrize("target", sorted(SEEDS))
def test_seed_inputs_pass(target: str, tmp_path: Path) -> None:
    """Every seed input of a target runs through it cleanly, in this process: what each
    campaign starts from, for the targets whose campaign is in the long tier only."""
    import readers

    readers.use_scratch(tmp_path)
    inputs = sorted(p for folder in SEEDS[target] for p in folder.rglob("*") if p.is_file())
    assert inputs
    failed = []
    for path in inputs:
        try:
            readers.TARGETS[target](path.read_bytes())
        except Exception as error:  # what libFuzzer would call a crash
            failed.append(f"{path.relative_to(ROOT)}: {error!r}")
    assert failed == [], "\n".join(failed)


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
    ids=lambda value: (value.name or None) if isinstance(value, Path) else None,
)
def test_saved_crashes_replay(target: str, path: Path, tmp_path: Path) -> None:
    """Every input that once crashed a target runs through it cleanly now: in this process (a
    traceback, not a fuzzer's report), except the inputs saved for running out of time or
    memory, which run in a process of their own under libFuzzer's limits."""
    if path.name.startswith("crash-"):
        import readers

        readers.use_scratch(tmp_path)
        readers.TARGETS[target](path.read_bytes())
        return
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "targets.py"),
            target,
            "-timeout=300",
            "-rss_limit_mb=3072",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
