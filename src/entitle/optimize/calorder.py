"""The cut's nodes and edges numbered in the order the demand meets them, for the MILP.

The minimum cut does not depend on how the nodes are numbered, but HiGHS's choice among plans
that tie on every term of the MILP's tie-break does: it follows the order of the variables and
constraints. Small demands' plans were settled with the nodes and edges numbered need by need —
each group of need rows, in order, adding its user's node (with its suite nodes and cost edge),
its chain of base rights, its device's node, its host's External Connectors, then its own edge.
:func:`need_order` gives that numbering of a graph :mod:`entitle.optimize.calbuild` built
column-wise, reading the gadgets from the graph itself (no rule is restated here), so those plans
stay the same. ``tests/oracles/cut_by_need.py`` builds the graph need by need; the tests check
that the renumbered graph is that one, array for array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from entitle.optimize.calbuild import Cut
from entitle.optimize.calgraph import SINK, SOURCE
from entitle.optimize.calrows import Rows


@dataclass(frozen=True, slots=True)
class Order:
    nodes: np.ndarray  # new number → old node
    edges: np.ndarray  # new position → old edge

    def apply(self, cut: Cut) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tails, heads, res) of ``cut`` in this numbering."""
        new = np.empty(len(self.nodes), dtype=np.int64)
        new[self.nodes] = np.arange(len(self.nodes))
        e = self.edges
        return new[cut.tails[e]], new[cut.heads[e]], cut.res[e]


def need_order(cut: Cut, rows: Rows, suites: tuple[str, str]) -> Order | None:
    """The need-by-need numbering of ``cut``, or None where the graph holds a gadget that
    numbering cannot place (a Core suite with both its own cost edge and its Enterprise link)."""
    n = cut.n_nodes
    tails, heads, res = cut.tails.tolist(), cut.heads.tolist(), cut.res.tolist()
    side = cut.node_side.tolist()  # 1 user, 2 device, 3 connector
    what = [cut.whats[i] if i >= 0 else "" for i in cut.node_what.tolist()]
    who = cut.node_who.tolist()
    user_res = {i for r, i in cut.resources.items() if r.holder == "user"}
    ent_name, core_name = suites

    cost = [-1] * n  # the node's cost edge
    far = [-1] * n  # the other end of it
    up = [-1] * n  # a right node's base right node, a connector's required connector
    up_edge = [-1] * n
    link = [-1] * n  # a Core node: its infinite edge to or from its Enterprise node
    suite_of: dict[tuple[int, int, str], int] = {}
    for v in range(2, n):
        if what[v] in suites and side[v] in (1, 2):
            suite_of[(side[v], who[v], what[v])] = v
    needs: dict[tuple[int, int], list[int]] = {}
    for e, (t, h, r) in enumerate(zip(tails, heads, res, strict=True)):
        if r >= 0:
            v, other = (h, t) if r in user_res else (t, h)
            if cost[v] >= 0:
                return None
            cost[v], far[v] = e, other
        elif t > SINK and h > SINK and side[t] == side[h]:
            s = side[t]
            lower, upper = (t, h) if s == 1 else (h, t)  # the base (required) end, the other
            if s == 3:
                lower, upper = h, t
            if what[lower] in suites:  # Enterprise ⇄ Core
                link[upper if what[upper] == core_name else lower] = e
            else:
                up[upper], up_edge[upper] = lower, e
        else:
            needs.setdefault((t, h), []).append(e)

    made = [False] * n
    made[SOURCE] = made[SINK] = True
    based = [False] * n
    linked: set[int] = set()
    node_order = [SOURCE, SINK]
    edge_order: list[int] = []

    def make(v: int) -> None:
        made[v] = True
        node_order.append(v)

    def right(v: int) -> None:
        """``v`` and, where new, its suite nodes; then its cost edge."""
        make(v)
        s, holder, top = side[v], who[v], far[v]
        ent = suite_of.get((s, holder, ent_name), -1)
        core = suite_of.get((s, holder, core_name), -1)
        held_by_ent = top == ent or (top == core and core >= 0 and link[core] >= 0)
        parent = -1
        if held_by_ent and ent >= 0:
            parent = ent
            if not made[ent]:
                make(ent)
                edge_order.append(cost[ent])
        if top == core and core >= 0:
            if not made[core]:
                make(core)
                if parent < 0:
                    edge_order.append(cost[core])
            if parent >= 0 and core not in linked:
                linked.add(core)
                edge_order.extend((cost[core], link[core]))
        edge_order.append(cost[v])

    def touch(v: int) -> None:
        if not made[v]:
            right(v)

    def chain(v: int) -> None:
        """Base rights up from ``v``: their nodes first, then their edges, deepest first."""
        walked = []
        while not based[v]:
            based[v] = True
            b = up[v]
            if b < 0:
                break
            touch(b)
            walked.append(up_edge[v])
            v = b
        edge_order.extend(reversed(walked))

    def connector(v: int) -> None:
        make(v)
        edge_order.append(cost[v])
        if up[v] >= 0:
            if not made[up[v]]:
                connector(up[v])
            edge_order.append(up_edge[v])

    def need(t: int, h: int) -> bool:
        found = needs.get((t, h))
        if not found:
            return False
        edge_order.append(found.pop())
        return True

    with_base, user_base = rows.with_base.tolist(), rows.user_base.tolist()
    groups = zip(
        cut.group_user.tolist(), cut.group_device.tolist(), cut.group_ec.tolist(), strict=True
    )
    for g, (u, d, x) in enumerate(groups):
        if u >= 0:
            touch(u)
            if with_base[g] and user_base[g] and not based[u]:
                chain(u)
            if with_base[g] and d >= 0:
                touch(d)
                if not based[d]:
                    chain(d)
            if x >= 0 and needs.get((u, x)):
                if not made[x]:
                    connector(x)
                need(u, x)
                continue
            if d >= 0:
                touch(d)
            if not need(u, d if d >= 0 else SINK):
                return None
        elif d >= 0:
            touch(d)
            if with_base[g] and not based[d]:
                chain(d)
            if not need(SOURCE, d):
                return None
    if len(node_order) != n or len(edge_order) != len(tails) or -1 in edge_order:
        return None
    return Order(np.asarray(node_order, dtype=np.int64), np.asarray(edge_order, dtype=np.int64))
