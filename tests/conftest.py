"""Settings for the whole suite.

Under CI (``CI`` set, as `.ci/run` is run) the hypothesis property tests draw the same examples
on every run, so a red CI run always means a change broke something; on a developer's machine
they draw new examples each time (and replay any failure found from `.hypothesis/`).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
