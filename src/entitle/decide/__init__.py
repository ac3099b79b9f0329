"""The CAL Decision Tool: User, Device or a mix of CALs.

Questionnaire mode (:mod:`~entitle.decide.questionnaire`) answers the questions Microsoft's tool
asks with **entitle's own logic, not Microsoft's** (Microsoft does not publish its scoring);
data mode (:mod:`~entitle.decide.data`) prices the exact optimum beside all User, all Device and
the questionnaire's answer from real evidence; :mod:`~entitle.decide.growth` projects each
strategy's cost over 1–5 years and finds the year a strategy stops being the cheapest.

May import source, catalog, estate, rules, optimize, position, whatif and reports; never the faces.
"""

from entitle.decide.growth import GrowthRates, Projection, project_answers
from entitle.decide.questionnaire import Answers, Prices, Recommendation, recommend

__all__ = [
    "Answers",
    "GrowthRates",
    "Prices",
    "Projection",
    "Recommendation",
    "project_answers",
    "recommend",
]
