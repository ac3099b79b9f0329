"""The position: what each product needs, what is owned, the shortfall and its cost, and the plan
behind it — one report model that every face (terminal, JSON, reports, web) renders.

May import source, catalog, estate, rules and optimize; never the faces.
"""

from entitle.position.build import compute_position
from entitle.position.model import Line, Position

__all__ = ["Line", "Position", "compute_position"]
