"""The optimizer: prices every allowed option and picks the cheapest, deterministically.

Server choices (Standard or Datacenter, per core or per VM or Server + CAL) are small independent
decisions, priced exactly; per-user-or-per-device covers are minimum weighted vertex covers on a
bipartite graph, solved as one s–t minimum cut. May import everything below ``position``.
"""

from entitle.optimize.cover import CoverResult, min_vertex_cover
from entitle.optimize.pricing import Pricing, UnitPrice
from entitle.optimize.servers import Choice, ServerPlan, choose

__all__ = [
    "Choice",
    "CoverResult",
    "Pricing",
    "ServerPlan",
    "UnitPrice",
    "choose",
    "min_vertex_cover",
]
