"""The rules: what each server, VM and managed device requires, as pure functions over the estate
and the catalog. The rules list the *allowed* ways to license each thing (a :class:`Decision` with
its :class:`Option` s); choosing the cheapest is the optimizer's job.

May import :mod:`entitle.source`, :mod:`entitle.catalog` and :mod:`entitle.estate`.
"""

from entitle.rules.demand import Decision, Demand, Need, Option
from entitle.rules.servers import server_demand

__all__ = ["Decision", "Demand", "Need", "Option", "server_demand"]
