"""How a catalog record's field is written in the catalog file: the metadata that
:mod:`entitle.catalog.filemodel` reads to derive the file's row models from the records
(:mod:`entitle.catalog.model`, ``cloud``, ``sarights``). Imports only the standard library, so
every record module can use it without importing another."""

from __future__ import annotations

from typing import Any

FILE = "catalog_file"
"""The metadata key under which a record's field says how the catalog file writes it."""


def rule(**how: Any) -> dict[str, Any]:
    """Field metadata for the file: pydantic constraints (``ge=0``, ``pattern=…``,
    ``min_length=1``), and ``type=`` (with its ``default``/``default_factory`` when the field
    has one) when the file writes the field as another type."""
    return {FILE: how}


KEY = rule(omit="the table's key")
"""Field metadata: the file writes this field as the key of its table, not in the row."""
FILLED = rule(omit="filled by the loader")
"""Field metadata: not in the file; the loader fills it from another table."""
COMPONENTS = rule(type=list[str])  # the file writes each as "product:right"
