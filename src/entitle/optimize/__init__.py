"""The optimizer: prices every allowed option and finds the cheapest plan, deterministically.

Server choices (Standard or Datacenter, per core or per VM or Server + CAL) are small decisions,
priced exactly; who holds which CAL, client ML, CAL Suite and External Connector is one s–t
minimum cut (:mod:`entitle.optimize.calgraph`), with Lagrangian pricing and a MILP for owned
quantities (:mod:`entitle.optimize.cals`); :mod:`entitle.optimize.plan` decides SQL Server's
Server + CAL against per core together with the CALs it brings.

May import source, catalog, estate and rules; never position or the faces.
"""

from typing import Any

from entitle.optimize.calplan import CalPlan, Holding, Resource
from entitle.optimize.pricing import Pricing, UnitPrice
from entitle.optimize.servers import Choice, ServerPlan, choose


def __getattr__(name: str) -> Any:
    """The optimizer itself on first use (NumPy, SciPy): importing a light module of this
    package, such as the plan's records, loads neither."""
    if name == "optimise_cals":
        from entitle.optimize.cals import optimise_cals

        return optimise_cals
    if name in ("Plan", "make_plan"):
        from entitle.optimize import plan

        return getattr(plan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CalPlan",
    "Choice",
    "Holding",
    "Plan",
    "Pricing",
    "Resource",
    "ServerPlan",
    "UnitPrice",
    "choose",
    "make_plan",
    "optimise_cals",
]
