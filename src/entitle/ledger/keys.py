"""Product keys recognised wherever they are, so that one is never kept in plain text.

A Microsoft product key (MAK, KMS host key, retail) is five groups of five letters or digits:
five blocks joined by hyphens (``ABCDE-FGHIJ-KLMNO-PQRST-UVWXY`` in shape). An entitlements file may carry one under any header that
names a key (``Product Key``, ``product key``, ``ProductKey``, ``MAK key``, ``key``...) or in a
column that has nothing to do with keys (a note, a description). :func:`scrub` takes every such
key out of a row's cells: the first becomes the row's ``product_key`` (stored only encrypted,
:mod:`entitle.ledger.crypto`), the column it came from is dropped or has the key replaced by
``[product key]``, and a warning names the row and the column — never the key. So no key
reaches the entitlement's extra columns, the audit trail, logs, exports or the API. Imports only
:mod:`entitle.source`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from entitle.source import Problem, Source

KEY = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{5}(?:-[A-Za-z0-9]{5}){4}(?![A-Za-z0-9])")
"""Five groups of five letters or digits, joined by hyphens, not inside a longer token."""
FIELD = "product_key"
KIND = "key_kind"
HIDDEN = "[product key]"


def names_a_key(header: str) -> bool:
    """Whether a column header names a key: ``product_key``, ``Product Key``, ``ProductKey``,
    ``key``, ``MAK key``, ``license keys``... (not ``key_kind``, which says MAK or KMS)."""
    folded = re.sub(r"[^a-z0-9]", "", header.casefold())
    return folded.endswith(("key", "keys"))


def holds_a_key(text: str) -> bool:
    return KEY.search(text) is not None


def hide(text: str) -> str:
    """``text`` with every product key in it replaced by ``[product key]``."""
    return KEY.sub(HIDDEN, text)


def scrub(cells: Mapping[str, str], where: Source, problems: list[Problem]) -> dict[str, str]:
    """The row's cells with every product key moved to ``product_key``: columns whose header
    names a key are dropped, keys inside other cells are hidden. Two different keys in one row
    are an error (which one was bought is not for entitle to guess)."""
    out: dict[str, str] = {}
    found: list[tuple[str, str]] = []  # (column, key)
    for name, value in cells.items():
        if names_a_key(name):
            if value.strip():
                found.append((name, value.strip()))
            continue
        keys = KEY.findall(value)
        if keys and name == "id":  # an id names the entitlement everywhere: not a secret's place
            problems.append(
                Problem(
                    where,
                    "the id looks like a product key (five groups of five)",
                    "give the entitlement another id and put the key in product_key",
                )
            )
        elif keys:
            found.extend((name, k) for k in keys)
            value = hide(value)
            problems.append(
                Problem(
                    where,
                    f"column '{name}' holds a product key; it is kept only encrypted, as the "
                    "entitlement's product key, and shown there as [product key]",
                    "put keys in a product_key column",
                    severity="warning",
                )
            )
        out[name] = value
    distinct = sorted({k.upper() for _, k in found})
    if len(distinct) > 1:
        columns = ", ".join(sorted({c for c, _ in found}))
        problems.append(
            Problem(
                where,
                f"the row holds {len(distinct)} different product keys (columns {columns})",
                "give one entitlement per key, each with its key in product_key",
            )
        )
    if found:
        out[FIELD] = found[0][1]
    return out


def leaks(values: Mapping[str, str | None]) -> list[str]:
    """The names of the values that hold a product key (for a last check before writing)."""
    return [name for name, value in values.items() if value and holds_a_key(value)]
