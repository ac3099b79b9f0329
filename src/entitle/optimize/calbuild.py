"""Building the CAL cut from the demand: one node per holder and right, the suite and base-right
gadgets of :mod:`entitle.optimize.calgraph`, External Connectors per host. What the cut means is
documented there; what the plan reads back from it lives in :mod:`entitle.optimize.cals`.

:class:`Builder` adds the needs one by one (small demands; its node order is the one the MILP's
ties were settled with); :mod:`entitle.optimize.calarrays` makes the same graph with numpy for
large ones. Both give a :class:`Cut`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

import numpy as np

from entitle.catalog.model import Catalog
from entitle.optimize.calgraph import SINK, SOURCE, Graph
from entitle.optimize.calrows import Rows
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalNeed, base_right

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Resource:
    """A kind of license the plan can buy: (holder kind, what)."""

    holder: str  # user | device | ec
    what: str  # a right ("windows-server:cal"), a suite id, or a product (for an EC)

    def is_suite(self) -> bool:
        """Whether this is a CAL Suite (a right is named ``product:kind``, a suite by its id)."""
        return self.holder != "ec" and ":" not in self.what

    def license(self) -> tuple[str, str, str | None]:
        """(product, license kind, edition/level) of one unit of this resource."""
        if self.holder == "ec":
            return (self.what, "external-connector", None)
        if self.is_suite():
            return (self.what, f"{self.holder}-cal", None)
        product, _, kind = self.what.partition(":")
        if kind == "ml":
            return (product, "client-ml-user" if self.holder == "user" else "client-ml-ose", None)
        level = "enterprise" if kind == "cal-enterprise" else None
        return (product, f"{self.holder}-cal", level)


SIDES = ("", "user", "device", "ec")  # node_side codes (0: the source and the sink)


@dataclass(frozen=True, slots=True)
class Cut:
    """A built cut as arrays: edges with their resource (−1 = infinite; source 0, sink 1), the
    name of every node — (side, holder, right or suite or product) from the tables ``who`` and
    ``whats`` — and, per group of need rows (:class:`~entitle.optimize.calrows.Rows`), the nodes
    that can cover it."""

    n_nodes: int
    tails: np.ndarray
    heads: np.ndarray
    res: np.ndarray
    resources: dict[Resource, int]
    prices: np.ndarray  # cents per resource
    who: list[str]
    whats: list[str]
    node_side: np.ndarray  # per node: code into SIDES
    node_who: np.ndarray  # per node: index into who (−1 for the source and the sink)
    node_what: np.ndarray
    group_user: np.ndarray  # per group: its user's node for its right, or −1
    group_device: np.ndarray  # its device's node for its right, or −1
    group_ec: np.ndarray  # the External Connector node of its host and product, or −1

    def name(self, node: int) -> tuple[str, str, str] | str:
        if node < 2:
            return "st"[node]
        return (
            SIDES[int(self.node_side[node])],
            self.who[int(self.node_who[node])],
            self.whats[int(self.node_what[node])],
        )


class Builder:
    def __init__(self, catalog: Catalog, pricing: Pricing):
        self.catalog = catalog
        self.pricing = pricing
        self.g = Graph()
        self.resources: dict[Resource, int] = {}
        self.suite_rights = self._suite_rights()
        # (the suite that includes the other, the one it includes): Enterprise, Core; "" for
        # one the catalog lacks (no suite applies then)
        ent, core, *_ = (*catalog.suite_order(), "", "")
        self.suites: tuple[str, str] = (ent, core)
        self._priced: dict[tuple[str, str], bool] = {}
        self._res_ids: dict[tuple[str, str], int] = {}
        self._applies_cache: dict[tuple[str, str, str], bool] = {}
        self._based: set[tuple[str, str, str]] = set()
        # per need built: its user's and its device's node (−1: none, or not known yet)
        self.need_user: list[int] = []
        self.need_device: list[int] = []

    def _suite_rights(self) -> dict[str, set[str]]:
        out = {}
        for sid in self.catalog.suite_order():
            out[sid] = {str(c) for c in self.catalog.suite_components(sid)}
        return out

    def resource(self, holder: str, what: str) -> int:
        key = (holder, what)
        i = self._res_ids.get(key)
        if i is None:
            i = self._res_ids[key] = len(self.resources)
            self.resources[Resource(holder, what)] = i
        return i

    def priced(self, holder: str, what: str) -> bool:
        key = (holder, what)
        known = self._priced.get(key)
        if known is None:
            product, license, edition = Resource(holder, what).license()
            known = self._priced[key] = self.pricing.unit(product, license, edition) is not None
        return known

    def applies(self, side: str, suite: str, right: str) -> bool:
        key = (side, suite, right)
        known = self._applies_cache.get(key)
        if known is None:
            known = self._applies_cache[key] = (
                suite in self.suite_rights
                and right in self.suite_rights[suite]
                and self.priced(side, suite)
            )
        return known

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

    def price_cents(self) -> np.ndarray:
        out = np.zeros(len(self.resources), dtype=np.int64)
        for r, i in self.resources.items():
            product, license, edition = r.license()
            amount = self.pricing.amount(product, license, edition)
            out[i] = int((amount / CENT).to_integral_value())
        return out

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
