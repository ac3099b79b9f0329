"""The layout is the architecture: each package imports only the layers below it (README)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "entitle"
BASE = {"source", "faults", "text", "money"}  # the bottom: they import nothing of entitle
ALLOWED: dict[str, set[str]] = {
    "source": set(),
    "faults": set(),
    "text": set(),
    "money": set(),
    "catalog": BASE,
    "estate": BASE | {"catalog"},
    "rules": BASE | {"catalog", "estate"},
    "optimize": BASE | {"catalog", "estate", "rules"},
    "position": BASE | {"catalog", "estate", "rules", "optimize"},
    "importers": BASE | {"catalog", "estate"},
    "ledger": BASE | {"catalog", "estate"},
    "samples": BASE | {"catalog", "estate"},
    "whatif": BASE | {"catalog", "estate", "rules", "optimize", "position"},
    "reports": BASE | {"catalog", "estate", "rules", "optimize", "position", "whatif"},
    "decide": BASE | {"catalog", "estate", "rules", "optimize", "position", "whatif", "reports"},
    "web": BASE
    | {
        "catalog",
        "estate",
        "rules",
        "optimize",
        "position",
        "whatif",
        "reports",
        "decide",
        "importers",
        "ledger",
        "samples",
    },
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "entitle" and len(parts) > 1:
                out.add(parts[1])
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package: str) -> None:
    module = SRC / f"{package}.py"
    files = [module] if module.exists() else sorted((SRC / package).rglob("*.py"))
    bad = {}
    for f in files:
        wrong = imported_packages(f) - ALLOWED[package] - {package}
        if wrong:
            bad[str(f.relative_to(SRC))] = sorted(wrong)
    assert bad == {}, f"{package} imports layers above it: {bad}"
