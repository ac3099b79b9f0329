"""Lets these tests import ``builders`` (tests/builders.py) when run on their own."""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
