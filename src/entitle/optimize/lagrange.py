"""Owned quantities in the CAL cut: Lagrangian pricing of owned license classes.

Owned CALs, suites and connectors are free up to their quantity, for holders whose version needs
they cover — a convex cost of a count that no cut can hold. Each owned class (a resource and the
newest version it may run) gets a price λ between 0 and its list price; a holder uses the
cheapest class its version allows, or buys. Each λ is one cut, and

    true cost ≥ (cost of the cheapest plan at prices λ) − Σ λ · owned

is a lower bound at every step. The multipliers move by bisection, each driven by the over- or
under-use of its class; the best plan found is kept with its true cost, in which owned units go,
newest needs first, to the oldest class that still covers them (optimal for nested classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from entitle.optimize.calgraph import Prepared

BISECTION_STEPS = 14


@dataclass(frozen=True, slots=True)
class Problem:
    """The cut graph with what pricing needs: per finite edge its resource and the version
    (index) its holder needs; owned classes (resource, version index, quantity)."""

    n_nodes: int
    tails: np.ndarray
    heads: np.ndarray
    res: np.ndarray
    need_version: np.ndarray
    prices: np.ndarray
    class_res: np.ndarray
    class_version: np.ndarray
    class_qty: np.ndarray

    def edge_prices(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cents per edge when owned class c costs ``lam[c]`` (each holder uses the cheapest
        class its version allows, or buys), and the class used per edge (−1 = bought)."""
        finite = self.res >= 0
        cents = np.full(len(self.res), -1, dtype=np.int64)
        cents[finite] = self.prices[self.res[finite]]
        used = np.full(len(self.res), -1, dtype=np.int64)
        for c in range(len(self.class_qty)):
            ok = (self.res == self.class_res[c]) & (self.need_version <= self.class_version[c])
            cheaper = ok & (lam[c] < cents)
            cents[cheaper] = lam[c]
            used[cheaper] = c
        return cents, used

    def cut_edges(self, side: np.ndarray) -> np.ndarray:
        return np.flatnonzero((self.res >= 0) & side[self.tails] & ~side[self.heads])

    def true_cost(self, side: np.ndarray) -> int:
        """Cents to buy for the plan ``side``: owned units go, newest needs first, to the
        oldest class that still covers them (optimal for classes nested by version)."""
        cut = self.cut_edges(side)
        total = 0
        for r in np.unique(self.res[cut]):
            members = cut[self.res[cut] == r]
            mine = np.flatnonzero(self.class_res == r)
            matched = _match_nested(
                self.need_version[members], self.class_version[mine], self.class_qty[mine]
            )
            total += int(self.prices[r]) * (len(members) - matched)
        return total


def _match_nested(needs: np.ndarray, versions: np.ndarray, qty: np.ndarray) -> int:
    """How many holders (each needing a version ≥ its own) get an owned unit."""
    if not len(versions):
        return 0
    order = np.argsort(-versions, kind="stable")
    versions, qty = versions[order], qty[order]
    matched = available = j = 0
    for need in np.sort(needs)[::-1]:
        while j < len(versions) and versions[j] >= need:
            available += int(qty[j])
            j += 1
        if available:
            available -= 1
            matched += 1
    return matched


def lagrangian(p: Problem, enough: int | None = None) -> tuple[np.ndarray, int, str]:
    """Best plan found and the best lower bound, pricing every owned class between 0 and the
    list price of its resource (bisection on each, driven by its over- or under-use). Stops
    early once the bound reaches ``enough`` cents, when given."""
    n_cls = len(p.class_qty)
    hi = p.prices[p.class_res] if n_cls else np.zeros(0, dtype=np.int64)
    lo = np.zeros(n_cls, dtype=np.int64)
    lam = np.zeros(n_cls, dtype=np.int64)
    best_side: np.ndarray | None = None
    best = lower = None
    methods: set[str] = set()
    graph = Prepared(p.n_nodes, p.tails, p.heads)  # the same for every step
    for _ in range(BISECTION_STEPS + 1 if n_cls else 1):
        cents, used = p.edge_prices(lam)
        cut = graph.min_cut(cents)
        methods.update(cut.methods)
        edges = p.cut_edges(cut.source_side)
        usage = np.bincount(used[edges][used[edges] >= 0], minlength=n_cls)
        true = p.true_cost(cut.source_side)
        bound = int(cents[edges].sum()) - int((lam * p.class_qty).sum())
        if best is None or true < best:
            best, best_side = true, cut.source_side
        lower = bound if lower is None else max(lower, bound)
        if best <= lower or (enough is not None and lower >= enough):
            break
        over = usage > p.class_qty
        lo = np.where(over, lam, lo)
        hi = np.where(~over, lam, hi)
        step = (lo + hi + 1) // 2
        if np.array_equal(step, lam):
            break
        lam = step
    if best_side is None or best is None or lower is None:  # pragma: no cover - loop runs once
        raise RuntimeError("no cut was computed")
    return best_side, min(lower, best), " + ".join(sorted(methods)) or "max-flow"
