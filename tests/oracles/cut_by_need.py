"""The oracle of the CAL cut builder: the graph of a demand built need by need.

This was entitle's builder for small demands before the column-wise one
(``src/entitle/optimize/calbuild.py``) took every path; it stays here only so the tests can
check that the production builder makes the same graph, written the other way round: nodes by
name in a dictionary, each need adding its user's and device's nodes, their suite nodes, the chain
of base rights and the External Connectors of its host, one edge at a time.

One known difference: with a catalog where a right is held by the Core CAL Suite but not by the
Enterprise one, this builder's graph depends on the order of the needs (a Core node made before
its holder's Enterprise node keeps its own edge from the source); the production builder hangs
the Core node from the Enterprise one whenever the holder has both. The default catalog's
Enterprise suite includes every Core right, so the tests never meet that case.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from entitle.catalog.model import Catalog
from entitle.optimize.calbuild import SIDES, Cut, Resources
from entitle.optimize.calgraph import SINK, SOURCE
from entitle.optimize.calrows import Rows
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalNeed, base_right


class Graph:
    """Nodes by name, edges with a resource id (−1 = infinite)."""

    def __init__(self) -> None:
        self.names: list[object] = ["s", "t"]
        self.index: dict[object, int] = {}
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.resources: list[int] = []

    def node(self, name: object) -> int:
        i = self.index.get(name)
        if i is None:
            i = len(self.names)
            self.index[name] = i
            self.names.append(name)
        return i

    def edge(self, tail: int, head: int, resource: int = -1) -> None:
        self.tails.append(tail)
        self.heads.append(head)
        self.resources.append(resource)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.tails, dtype=np.int64),
            np.asarray(self.heads, dtype=np.int64),
            np.asarray(self.resources, dtype=np.int64),
        )


class Builder(Resources):
    """The graph of a demand, built need by need in the order of the needs."""

    def __init__(self, catalog: Catalog, pricing: Pricing):
        super().__init__(catalog, pricing)
        self.g = Graph()
        self._based: set[tuple[str, str, str]] = set()
        # per need built: its user's and its device's node (−1: none, or not known yet)
        self.need_user: list[int] = []
        self.need_device: list[int] = []

    def build(self, needs: list[CalNeed]) -> None:
        """Add every need to the graph: the same nodes and edges, in the same order, as
        :meth:`need` on each, with the per-right work (suites, resources, base rights) looked
        up once per (side, right) and the graph's lists appended to directly."""
        g = self.g
        index, names = g.index, g.names
        tails, heads, resources = g.tails, g.heads, g.resources
        based = self._based
        # per side and right: [Enterprise suite applies, Core applies, base right, resource]
        plans: dict[str, dict[str, list]] = {"user": {}, "device": {}}
        # per side and holder: [Enterprise node, Core node, Core hangs from Enterprise]
        suites: dict[str, dict[str, list]] = {"user": {}, "device": {}}
        ec_ok: dict[str, bool] = {}
        ent, core = self.suites
        catalog = self.catalog
        resource = self.resource

        def plan(side: str, right: str) -> list:
            p = plans[side][right] = [
                self.applies(side, ent, right),
                self.applies(side, core, right),
                base_right(right, catalog),
                -1,
            ]
            return p

        def node(name: tuple[str, str, str]) -> int:
            i = len(names)
            index[name] = i
            names.append(name)
            return i

        def right_node(name: tuple[str, str, str], side: str, who: str, right: str) -> int:
            """A new node for ``who`` holding ``right`` on ``side`` (``name`` not in the graph
            yet), with its suite nodes and its cost edge."""
            n = len(names)
            index[name] = n
            names.append(name)
            p = plans[side].get(right) or plan(side, right)
            user = side == "user"
            suite = -1
            if p[0] or p[1]:
                st = suites[side].get(who)
                if st is None:
                    st = suites[side][who] = [-1, -1, False]
                if p[0]:
                    suite = st[0]
                    if suite < 0:
                        suite = st[0] = node((side, who, ent))
                        r = resource(side, ent)
                        if user:
                            tails.append(SOURCE)
                            heads.append(suite)
                        else:
                            tails.append(suite)
                            heads.append(SINK)
                        resources.append(r)
                if p[1]:
                    ent_node = suite
                    suite = st[1]
                    if suite < 0:
                        suite = st[1] = node((side, who, core))
                        if ent_node < 0:
                            r = resource(side, core)
                            if user:
                                tails.append(SOURCE)
                                heads.append(suite)
                            else:
                                tails.append(suite)
                                heads.append(SINK)
                            resources.append(r)
                    if ent_node >= 0 and not st[2]:
                        st[2] = True
                        r = resource(side, core)
                        if user:
                            tails.extend((ent_node, suite))
                            heads.extend((suite, ent_node))
                        else:
                            tails.extend((suite, ent_node))
                            heads.extend((ent_node, suite))
                        resources.extend((r, -1))
            r = p[3]
            if r < 0:
                r = p[3] = resource(side, right)
            if user:
                tails.append(SOURCE if suite < 0 else suite)
                heads.append(n)
            else:
                tails.append(n)
                heads.append(SINK if suite < 0 else suite)
            resources.append(r)
            return n

        def base(side: str, who: str, right: str, n: int) -> None:
            """Whoever holds an additive right must hold its base right too (§1.2, §1.9): the
            chain of base rights, nodes first, then its edges deepest first."""
            chain: list[tuple[int, int]] = []
            while True:
                key = (side, who, right)
                if key in based:
                    break
                based.add(key)
                b = (plans[side].get(right) or plan(side, right))[2]
                if b is None:
                    break
                name = (side, who, b)
                known = index.get(name)
                bn = right_node(name, side, who, b) if known is None else known
                chain.append((bn, n) if side == "user" else (n, bn))
                right, n = b, bn
            for t, h in reversed(chain):
                tails.append(t)
                heads.append(h)
                resources.append(-1)

        def ec(host: str, product: str) -> int:
            name = ("ec", host, product)
            known = index.get(name)
            if known is not None:
                return known
            n = node(name)
            tails.append(n)
            heads.append(SINK)
            resources.append(resource("ec", product))
            requires = catalog.product(product).ec_requires
            if requires:
                r = ec(host, requires)
                tails.append(n)
                heads.append(r)
                resources.append(-1)
            return n

        need_user, need_device = self.need_user, self.need_device
        for n in needs:  # the order of the old per-need calls: user, its base rights, device, …
            k, u, d, wb = n.right, n.user, n.device, n.with_base
            un = dn = -1
            if u is not None:
                key = ("user", u, k)
                known = index.get(key)
                un = right_node(key, "user", u, k) if known is None else known
                if wb and not n.user_has_base and key not in based:
                    base("user", u, k, un)
                if wb and d is not None:
                    key = ("device", d, k)
                    known = index.get(key)
                    dn = right_node(key, "device", d, k) if known is None else known
                    if key not in based:
                        base("device", d, k, dn)
                host = n.host
                if n.external and host is not None:
                    product = n.product
                    ok = ec_ok.get(product)
                    if ok is None:
                        ok = ec_ok[product] = catalog.product(
                            product
                        ).external_connector and self.priced("ec", product)
                    if ok:
                        head = ec(host, product)  # may add edges: before this one
                        tails.append(un)
                        heads.append(head)
                        resources.append(-1)
                        need_user.append(un)
                        need_device.append(dn)
                        continue
                if d is None:
                    head = SINK
                elif dn >= 0:
                    head = dn
                else:
                    key = ("device", d, k)
                    known = index.get(key)
                    head = dn = right_node(key, "device", d, k) if known is None else known
                tails.append(un)
                heads.append(head)
                resources.append(-1)
            elif d is not None:
                key = ("device", d, k)
                known = index.get(key)
                dn = right_node(key, "device", d, k) if known is None else known
                if wb and key not in based:
                    base("device", d, k, dn)
                tails.append(SOURCE)
                heads.append(dn)
                resources.append(-1)
            need_user.append(un)
            need_device.append(dn)

    def cut(self, rows: Rows) -> Cut:
        """The graph built from ``rows.representatives()``, as a :class:`Cut`."""
        names = self.g.names
        index = self.g.index
        who_ids: dict[str, int] = {}
        what_ids: dict[str, int] = {}
        node_side = np.zeros(len(names), dtype=np.int8)
        node_who = np.full(len(names), -1, dtype=np.int64)
        node_what = np.full(len(names), -1, dtype=np.int64)
        for i, name in enumerate(names[2:], start=2):
            side, who, what = cast(tuple[str, str, str], name)
            node_side[i] = SIDES.index(side)
            node_who[i] = who_ids.setdefault(who, len(who_ids))
            node_what[i] = what_ids.setdefault(what, len(what_ids))
        device = np.full(rows.n_groups, -1, dtype=np.int64)
        ec = np.full(rows.n_groups, -1, dtype=np.int64)
        for g, (d, h, r) in enumerate(
            zip(rows.device.tolist(), rows.host.tolist(), rows.right.tolist(), strict=True)
        ):
            right = rows.rights[r]
            if d >= 0:
                device[g] = index.get(("device", rows.devices[d], right), -1)
            if h >= 0:
                ec[g] = index.get(("ec", rows.hosts[h], right.split(":", 1)[0]), -1)
        tails, heads, res = self.g.arrays()
        return Cut(
            len(names),
            tails,
            heads,
            res,
            self.resources,
            self.price_cents(),
            list(who_ids),
            list(what_ids),
            node_side,
            node_who,
            node_what,
            np.asarray(self.need_user, dtype=np.int64),
            device,
            ec,
        )


def build_by_need(rows: Rows, catalog: Catalog, pricing: Pricing) -> Cut:
    """The cut of ``rows``, built need by need from the first row of every group."""
    b = Builder(catalog, pricing)
    b.build(rows.representatives())
    return b.cut(rows)
