"""atheris fuzz targets for entitle's raw parsers: run one with

    .venv/bin/python tests/fuzz/targets.py TARGET [libFuzzer options] [CORPUS_DIR ...]

The targets are the readers of readers.py, with entitle's modules instrumented for coverage.
Bad input must come back as problems (values); any exception is a crash, and libFuzzer saves
the input that raised it (``-artifact_prefix``). See README.md here.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["entitle"]):
    from readers import TARGETS


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: targets.py {{{','.join(TARGETS)}}} [libFuzzer options] [corpus ...]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
