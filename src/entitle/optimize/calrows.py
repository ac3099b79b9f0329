"""The CAL demand as columns: one entry per need row, and the groups of rows the cut merges.

Rows with the same right, user, device, external user's host and base requirement are one need
of the cut; each group keeps its rows, whose versions and sources the plan reports. Strings become integer codes once here, so that building the cut and
reading the plan back are array operations instead of a Python loop per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

import numpy as np

from entitle.rules.calneeds import CalNeed, CalNeeds


@dataclass(frozen=True, slots=True)
class Rows:
    """Codes index the tables (``rights``, ``users``, …); −1 is "none"."""

    needs: Sequence[CalNeed]
    sources: list[str]  # per row
    rights: list[str]
    users: list[str]
    devices: list[str]
    hosts: list[str]  # external users' hosts
    versions: list[str]
    row_group: np.ndarray  # per row: its group
    row_version: np.ndarray  # per row: code into versions
    first: np.ndarray  # per group: its first row (groups are in the order of their first row)
    right: np.ndarray  # per group, like the columns below
    user: np.ndarray
    device: np.ndarray
    host: np.ndarray  # the host of an external user's need, else −1
    with_base: np.ndarray  # bool
    user_base: np.ndarray  # bool: the user's side needs the base right too (not held already)

    @property
    def n_groups(self) -> int:
        return len(self.first)

    def representatives(self) -> list[CalNeed]:
        """The first row of every group, in group order."""
        return [self.needs[i] for i in self.first.tolist()]


def distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values, by sorting (``np.unique`` hashes, which is slow on such keys)."""
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


def codes(values: list[str | None]) -> tuple[np.ndarray, list[str]]:
    """Integer codes in order of first appearance (None → −1), and the table of values. One
    pass in C: each value's code is first the row where it first appears, then made dense."""
    first: dict[str | None, int] = {}
    row = np.fromiter(map(first.setdefault, values, count()), np.int64, len(values))
    firsts = np.fromiter(first.values(), np.int64, len(first))
    code = np.searchsorted(firsts, row)
    table = list(first)
    if None in first:
        none = int(np.searchsorted(firsts, first[None]))
        del table[none]
        code = np.where(code == none, -1, code - (code > none))
    return code, table  # type: ignore[return-value]


def sorted_codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes of ``values`` in the order of the strings, and the sorted distinct strings."""
    code, table = codes(values)  # type: ignore[arg-type]
    if any("\x00" in v for v in table):  # numpy's strings drop trailing NULs
        order = sorted(range(len(table)), key=table.__getitem__)
    else:  # numpy compares code points, as Python does
        order = np.argsort(np.asarray(table, dtype=str), kind="stable").tolist()
    rank = np.empty(len(table), dtype=np.int64)
    rank[order] = np.arange(len(table))
    return rank[code], [table[i] for i in order]


def _combined(columns: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 key per row from code columns (values −1 … size − 1), equal exactly where all
    columns are equal; renumbered densely whenever the product of sizes would overflow."""
    key = np.zeros(len(columns[0][0]), dtype=np.int64)
    size = 1
    for codes, n in columns:
        if size * (n + 1) >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            size = int(key.max(initial=0)) + 1
        key = key * (n + 1) + (codes + 1)
        size *= n + 1
    return key


def rows_of(needs: Sequence[CalNeed]) -> Rows:
    """The rows of ``needs``, read from their columns (:class:`CalNeeds`, as the rules give
    them; other needs are put in columns first)."""
    c = CalNeeds.of(needs)
    n = len(c)
    right, rights = codes(c.right)  # type: ignore[arg-type]
    user, users = codes(c.user)
    device, devices = codes(c.device)
    version, versions = codes(c.version)
    external = np.fromiter(c.external, bool, n)
    with_base = np.fromiter(c.with_base, bool, n)
    has_base = np.fromiter(c.user_has_base, bool, n)
    host = np.full(n, -1, dtype=np.int64)
    ext_rows = np.flatnonzero(external)
    hosts_of = c.host
    host[ext_rows], hosts = codes([hosts_of[i] for i in ext_rows.tolist()])
    key = _combined(
        [(right, len(rights)), (user, len(users)), (device, len(devices)), (host, len(hosts))]
    )
    key = key * 2 + with_base
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # groups in the order of their first row
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    first = first[order]
    return Rows(
        c,
        c.source,
        rights,
        users,
        devices,
        hosts,
        versions,
        rank[inverse.reshape(-1)],
        version,
        first,
        right[first],
        user[first],
        device[first],
        host[first],
        with_base[first],
        with_base[first] & ~has_base[first],
    )
