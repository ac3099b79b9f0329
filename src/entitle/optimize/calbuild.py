"""Building the CAL cut from the demand, column-wise: one node per holder and right, the suite
and base-right gadgets of :mod:`entitle.optimize.calgraph`, External Connectors per host. What the
cut means is documented there; what the plan reads back from it lives in
:mod:`entitle.optimize.cals`. This is the only builder: a rule of the cut changes here.

Every holder of a right gets the same gadget (its suite nodes, its cost edge, the chain of base
rights), so each gadget is emitted for all holders at once from integer keys ``holder × R +
right``; a node's id is its block's offset plus the rank of its key. The minimum cut with the
smallest source side is one set of nodes whatever their numbers (:mod:`entitle.optimize.calgraph`).
``tests/oracles/cut_by_need.py`` builds the same graph need by need, for the tests to compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from entitle.catalog.model import Catalog
from entitle.optimize.calgraph import SINK, SOURCE
from entitle.optimize.calplan import CENT, Resource
from entitle.optimize.calrows import Rows, distinct
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import base_right

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


def suite_pair(catalog: Catalog) -> tuple[str, str]:
    """(the suite that includes the other, the one it includes): Enterprise, Core; "" for one
    the catalog lacks (no suite applies then)."""
    ent, core, *_ = (*catalog.suite_order(), "", "")
    return ent, core


class Resources:
    """The licenses a cut may buy, numbered as the build meets them, with what the catalog and the
    prices say of each: whether it has a price, which suite may hold a right."""

    def __init__(self, catalog: Catalog, pricing: Pricing):
        self.catalog = catalog
        self.pricing = pricing
        self.resources: dict[Resource, int] = {}
        self.suite_rights = {
            sid: {str(c) for c in catalog.suite_components(sid)} for sid in catalog.suite_order()
        }
        self.suites = suite_pair(catalog)
        self._priced: dict[tuple[str, str], bool] = {}
        self._res_ids: dict[tuple[str, str], int] = {}
        self._applies_cache: dict[tuple[str, str, str], bool] = {}

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
        """Whether ``suite`` may hold ``right`` on ``side`` (one of its components, priced)."""
        key = (side, suite, right)
        known = self._applies_cache.get(key)
        if known is None:
            known = self._applies_cache[key] = (
                suite in self.suite_rights
                and right in self.suite_rights[suite]
                and self.priced(side, suite)
            )
        return known

    def price_cents(self) -> np.ndarray:
        out = np.zeros(len(self.resources), dtype=np.int64)
        for r, i in self.resources.items():
            product, license, edition = r.license()
            amount = self.pricing.amount(product, license, edition)
            out[i] = int((amount / CENT).to_integral_value())
        return out


class _Edges:
    def __init__(self) -> None:
        self.tails: list[np.ndarray] = []
        self.heads: list[np.ndarray] = []
        self.res: list[np.ndarray] = []

    def add(self, tails: object, heads: object, res: object) -> None:
        """Edges from arrays of equal length, or scalars repeated along them."""
        columns = [np.asarray(x, dtype=np.int64) for x in (tails, heads, res)]
        n = max(len(c) if c.ndim else 1 for c in columns)
        if any(c.ndim and len(c) == 0 for c in columns):
            n = 0
        for out, c in zip((self.tails, self.heads, self.res), columns, strict=True):
            out.append(np.broadcast_to(c, n))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.concatenate(self.tails),
            np.concatenate(self.heads),
            np.concatenate(self.res),
        )


def _closure(
    keys: np.ndarray, start: np.ndarray, up: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes ``keys`` (holder × n + what) plus, from the nodes ``start``, the chain of ``up``
    (a base right, a required connector): every node the chains reach, and one edge (from, to)
    per node of a chain with something above it."""
    seen = distinct(start)
    frontier = seen
    froms, tos = [], []
    while len(frontier):
        above = up[frontier % n]
        f = frontier[above >= 0]
        to = f - f % n + above[above >= 0]
        froms.append(f)
        tos.append(to)
        to = distinct(to)
        frontier = to[_lookup(seen, to, 0) < 0]
        seen = distinct(np.concatenate([seen, frontier]))
    empty = np.zeros(0, dtype=np.int64)
    return (
        distinct(np.concatenate([keys, seen])),
        np.concatenate(froms) if froms else empty,
        np.concatenate(tos) if tos else empty,
    )


def _lookup(nodes: np.ndarray, keys: np.ndarray, offset: int) -> np.ndarray:
    """Node id of each key (−1 where it is not a node)."""
    if not len(nodes):
        return np.full(len(keys), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(nodes, keys), len(nodes) - 1)
    return np.where(nodes[pos] == keys, offset + pos, -1)


@dataclass(frozen=True, slots=True)
class _Side:
    """The holders of one side that need a node for a right; ``based``: with its base right."""

    side: str
    who: np.ndarray
    right: np.ndarray
    based: np.ndarray


def build_cut(rows: Rows, b: Resources) -> Cut:
    """The cut of the groups of ``rows``, its licenses registered in ``b``."""
    catalog = b.catalog
    rights = list(rows.rights)
    code = {r: i for i, r in enumerate(rights)}
    base: list[int] = []
    while len(base) < len(rights):
        above = base_right(rights[len(base)], catalog)
        if above is not None and above not in code:
            code[above] = len(rights)
            rights.append(above)
        base.append(-1 if above is None else code[above])
    n_r = len(rights)
    up = np.asarray(base, dtype=np.int64)
    products = [r.split(":", 1)[0] for r in rights]

    # External Connectors: per product in a table, with the product each one requires.
    ec_products: list[str] = []
    for p in products:
        if p not in ec_products and catalog.product(p).external_connector and b.priced("ec", p):
            ec_products.append(p)
    ec_ok = np.asarray([p in ec_products for p in products], dtype=bool)
    requires: list[int] = []
    while len(requires) < len(ec_products):
        req = catalog.product(ec_products[len(requires)]).ec_requires
        if req and req not in ec_products:
            ec_products.append(req)
        requires.append(ec_products.index(req) if req else -1)
    ec_code = np.asarray(
        [ec_products.index(p) if p in ec_products else -1 for p in products], dtype=np.int64
    )

    gr, gu, gd, gh, wb = rows.right, rows.user, rows.device, rows.host, rows.with_base
    has_user, has_device = gu >= 0, gd >= 0
    connector = has_user & (gh >= 0) & ec_ok[gr]
    made = has_device & (~has_user | wb | ~connector)  # a connector covers it otherwise
    sides = (
        _Side("user", gu[has_user], gr[has_user], rows.user_base[has_user]),
        _Side("device", gd[made], gr[made], wb[made]),
    )
    edges = _Edges()
    offset = 2
    who_offset = 0
    who: list[str] = []
    whats = rights + list(b.suites) + ec_products
    blocks_side, blocks_who, blocks_what = [], [], []
    nodes_of: dict[str, np.ndarray] = {}
    offsets: dict[str, int] = {}
    for s, names in zip(sides, (rows.users, rows.devices), strict=True):
        user = s.side == "user"
        keys = s.who * n_r + s.right
        nodes, base_from, base_to = _closure(keys, keys[s.based], up, n_r)
        holder, right = nodes // n_r, nodes % n_r
        ent_ok = np.asarray([b.applies(s.side, b.suites[0], r) for r in rights], dtype=bool)
        core_ok = np.asarray([b.applies(s.side, b.suites[1], r) for r in rights], dtype=bool)
        present = distinct(right)
        ids = offset + np.arange(len(nodes))
        ent_holders = distinct(holder[ent_ok[right]])
        core_holders = distinct(holder[core_ok[right]])
        ent_ids = offset + len(nodes) + np.arange(len(ent_holders))
        core_ids = offset + len(nodes) + len(ent_holders) + np.arange(len(core_holders))
        outer = SOURCE if user else SINK

        def arc(far: object, near: object, res: object, user: bool = user) -> None:
            """An edge towards the holder's node on the user side, away from it on the
            device side (``far`` is the source, sink or suite end)."""
            if user:
                edges.add(far, near, res)
            else:
                edges.add(near, far, res)

        if len(ent_holders):
            arc(outer, ent_ids, b.resource(s.side, b.suites[0]))
        if len(core_holders):
            # A holder's Core suite hangs from its Enterprise suite where it has one (Core paid
            # only without Enterprise; Enterprise includes Core), else from the source or sink.
            core_res = b.resource(s.side, b.suites[1])
            at = np.minimum(np.searchsorted(ent_holders, core_holders), len(ent_holders) - 1)
            linked = (
                ent_holders[at] == core_holders
                if len(ent_holders)
                else np.zeros(len(core_holders), dtype=bool)
            )
            arc(ent_ids[at[linked]], core_ids[linked], core_res)
            arc(core_ids[linked], ent_ids[at[linked]], -1)
            arc(outer, core_ids[~linked], core_res)
        res_of = np.full(n_r, -1, dtype=np.int64)
        for r in present.tolist():
            res_of[r] = b.resource(s.side, rights[r])
        far = np.full(len(nodes), outer, dtype=np.int64)
        e = ent_ok[right]
        far[e] = ent_ids[np.searchsorted(ent_holders, holder[e])]
        c = core_ok[right]
        far[c] = core_ids[np.searchsorted(core_holders, holder[c])]
        arc(far, ids, res_of[right])
        arc(_lookup(nodes, base_to, offset), _lookup(nodes, base_from, offset), -1)

        n_side = len(nodes) + len(ent_holders) + len(core_holders)
        blocks_side.append(np.full(n_side, 1 if user else 2, dtype=np.int8))
        blocks_who.append(who_offset + np.concatenate([holder, ent_holders, core_holders]))
        blocks_what.append(
            np.concatenate(
                [
                    right,
                    np.full(len(ent_holders), n_r),
                    np.full(len(core_holders), n_r + 1),
                ]
            )
        )
        nodes_of[s.side], offsets[s.side] = nodes, offset
        offset += n_side
        who_offset += len(names)
        who += names

    # Connector nodes per (host, product), each with its cost and the one it requires.
    n_p = max(len(ec_products), 1)
    ec_keys = gh[connector] * n_p + ec_code[gr[connector]]
    ec_nodes, req_from, req_to = _closure(
        ec_keys, ec_keys, np.asarray(requires, dtype=np.int64), n_p
    )
    ec_ids = offset + np.arange(len(ec_nodes))
    ec_res = np.full(n_p, -1, dtype=np.int64)
    for p in distinct(ec_nodes % n_p).tolist():
        ec_res[p] = b.resource("ec", ec_products[p])
    if len(ec_nodes):
        edges.add(ec_ids, SINK, ec_res[ec_nodes % n_p])
        edges.add(_lookup(ec_nodes, req_from, offset), _lookup(ec_nodes, req_to, offset), -1)
    blocks_side.append(np.full(len(ec_nodes), 3, dtype=np.int8))
    blocks_who.append(who_offset + ec_nodes // n_p)
    blocks_what.append(n_r + len(b.suites) + ec_nodes % n_p)
    who += rows.hosts
    n_nodes = offset + len(ec_nodes)

    # The needs: user → device, user → t, user → connector, s → device (all infinite).
    user_node = np.full(rows.n_groups, -1, dtype=np.int64)
    user_node[has_user] = _lookup(
        nodes_of["user"], gu[has_user] * n_r + gr[has_user], offsets["user"]
    )
    device_node = np.full(rows.n_groups, -1, dtype=np.int64)
    device_node[has_device] = _lookup(
        nodes_of["device"], gd[has_device] * n_r + gr[has_device], offsets["device"]
    )
    ec_node = np.full(rows.n_groups, -1, dtype=np.int64)
    hosted = (gh >= 0) & (ec_code[gr] >= 0)
    ec_node[hosted] = _lookup(ec_nodes, gh[hosted] * n_p + ec_code[gr[hosted]], offset)
    edges.add(user_node[connector], ec_node[connector], -1)
    plain = has_user & ~connector
    edges.add(user_node[plain & ~has_device], SINK, -1)
    edges.add(user_node[plain & has_device], device_node[plain & has_device], -1)
    edges.add(SOURCE, device_node[~has_user & has_device], -1)

    tails, heads, res = edges.arrays()
    return Cut(
        n_nodes,
        tails,
        heads,
        res,
        b.resources,
        b.price_cents(),
        who,
        whats,
        np.concatenate([np.zeros(2, dtype=np.int8), *blocks_side]),
        np.concatenate([np.full(2, -1, dtype=np.int64), *blocks_who]),
        np.concatenate([np.full(2, -1, dtype=np.int64), *blocks_what]),
        user_node,
        device_node,
        ec_node,
    )
