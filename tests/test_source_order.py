"""Evidence is listed in the order of its sources with their numbers compared as numbers
(``position/build.py`` ``source_order``): the key is the text split at its runs of digits, text
and number alternating; it orders sources as the key of one (kind, value) pair per part did."""

from __future__ import annotations

import random
import re

from entitle.position.build import source_order


def test_numbers_compare_as_numbers() -> None:
    texts = [
        "managed.csv:2",
        "implied by access.csv:12 (sql-server on vm10)",
        "access.csv:10",
        "implied by access.csv:12 (sql-server on vm9)",
        "estate.xlsx:access!3",
        "access.csv:9",
        "implied by access.csv:9 (rds on vm1)",
    ]
    assert sorted(texts, key=source_order) == [
        "access.csv:9",
        "access.csv:10",
        "estate.xlsx:access!3",
        "implied by access.csv:9 (rds on vm1)",
        "implied by access.csv:12 (sql-server on vm9)",
        "implied by access.csv:12 (sql-server on vm10)",
        "managed.csv:2",
    ]


def pairs_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """The key before: one (0, number) or (1, text) pair per part."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text))


def test_the_same_order_as_the_key_of_pairs() -> None:
    rng = random.Random(5)
    alphabet = "ab:.!→ 0123456789"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    texts += ["", "7", "a", "a01", "a1", "01", "1", "a1b", "a1b2", "a01b"]
    assert sorted(texts, key=source_order) == sorted(texts, key=pairs_key)
