"""The ledger sits below the engine's faces: it may import entitle.source, entitle.catalog and
entitle.estate, never position, optimize or cli (style.md, "the layout shows the architecture");
its pure rules import nothing of entitle at all."""

from __future__ import annotations

import ast
from pathlib import Path

import entitle.ledger

PACKAGE = Path(entitle.ledger.__file__).parent
ALLOWED = (
    "entitle.source",
    "entitle.faults",  # named fault points of the write paths (tests/faults)
    "entitle.catalog",
    "entitle.estate",
    "entitle.ledger",
)


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name for name in found if name.startswith("entitle")}


def test_the_ledger_imports_only_lower_layers() -> None:
    for path in PACKAGE.rglob("*.py"):
        wrong = {n for n in imports(path) if not n.startswith(ALLOWED)}
        assert not wrong, f"{path.relative_to(PACKAGE)} imports {sorted(wrong)}"


def test_the_rules_are_pure() -> None:
    assert imports(PACKAGE / "rules.py") == set()
