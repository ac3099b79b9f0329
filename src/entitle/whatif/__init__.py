"""What-if: a YAML file of changes (add or remove hosts, cores, VMs, users, devices, products or
versions; change prices) applied to an estate, and the position's difference line by line.

Pure: :func:`apply_changes` returns a new estate (records are replaced, never edited). May import
source, catalog, estate, rules, optimize and position; never the faces.
"""

from entitle.whatif.apply import apply_changes, estate_rows
from entitle.whatif.changes import Change, parse_changes, read_changes
from entitle.whatif.diff import LineChange, PositionDiff, diff_positions

__all__ = [
    "Change",
    "LineChange",
    "PositionDiff",
    "apply_changes",
    "diff_positions",
    "estate_rows",
    "parse_changes",
    "read_changes",
]
