"""Helpers shared by the ledger tests."""

from __future__ import annotations

from pathlib import Path

ACTOR = "auditor"


def write_csv(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path
