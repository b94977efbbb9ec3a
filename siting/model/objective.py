"""The objective and the one registry of cost terms.

Every cost or subsidy term registers itself here once. The objective is the sum of the registry,
and the cost breakdown in the results evaluates the same entries, so the two cannot drift apart.

Objective (MODEL.md): annualised firm cost
    sum_s CRF_s (F z + sum_p C n) + sum CRF_s Q v - sum_g f_g payout
    + (1 - lambda) sum_w pi[w] cost2[w] + lambda CVaR_beta(cost2)
with cost2[w] = operating + purchases + inbound and outbound freight + tariffs + unmet penalty
- production subsidies, and f_g the annualisation factor of instrument row g.
The registry holds the expected value of every category; the CVaR term enters as the category
"risk" = lambda (CVaR_beta(cost2) - E[cost2]) (see :mod:`siting.model.risk`), so that the sum of
the categories is the objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.core as pyo

from siting.model.linear import groups, lin
from siting.model.risk import add_risk

#: Cost categories, in the order results list them.
CATEGORIES = ("capex", "qualification", "operating", "purchases", "freight", "tariffs",
              "unmet_penalty", "subsidies", "risk")
#: Categories that are not a cost of the plan in any one scenario (the risk premium of the objective).
OBJECTIVE_ONLY = ("risk",)
#: Categories of each scenario's cost (the risk premium is not a cost of any one scenario).
SCENARIO_CATEGORIES = tuple(c for c in CATEGORIES if c not in OBJECTIVE_ONLY)


@dataclass
class CostRegistry:
    """Cost terms by category; first-stage terms have scenario None.

    Attributes
    ----------
    terms
        (category, scenario) -> list of linear expressions in money per year.
    probability
        scenario -> probability weight.
    """

    terms: dict = field(default_factory=dict)
    probability: dict = field(default_factory=dict)

    def register(self, category: str, expr, scenario: str | None = None) -> None:
        """Add ``expr`` (money per year) to ``category``; ``scenario`` None for first stage."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown cost category {category}")
        self.terms.setdefault((category, scenario), []).append(expr)

    def expected(self, category: str):
        """Probability-weighted sum of one category's terms, as a Pyomo expression."""
        total = 0
        for (cat, w), exprs in self.terms.items():
            if cat == category:
                weight = 1.0 if w is None else self.probability[w]
                total = total + weight * sum(exprs)
        return total

    def values(self) -> dict[str, float]:
        """Expected value of each category at the model's current variable values."""
        return {c: float(pyo.value(self.expected(c), exception=False) or 0.0) for c in CATEGORIES}

    def first_stage(self):
        """The first-stage cost (capex, qualification, subsidies), the same in every scenario."""
        return sum(sum(exprs) for (cat, w), exprs in self.terms.items()
                   if w is None and cat not in OBJECTIVE_ONLY)

    def second_stage(self, scenario: str):
        """cost2[w]: the second-stage cost of one scenario, as a Pyomo expression."""
        return sum(sum(exprs) for (_, w), exprs in self.terms.items() if w == scenario)

    def scenario_cost(self, scenario: str, category: str):
        """One scenario's cost in one category (its first-stage terms and the scenario's own), as a
        Pyomo expression; 0 where there is none."""
        return sum(sum(self.terms[category, s]) for s in (None, scenario) if (category, s) in self.terms)

    def scenario_values(self) -> dict[str, dict[str, float]]:
        """Each scenario's cost by category (:data:`SCENARIO_CATEGORIES`) at the model's current
        variable values; the risk premium is not a cost of a scenario."""
        return {w: {c: float(pyo.value(self.scenario_cost(w, c), exception=False) or 0.0) for c in SCENARIO_CATEGORIES}
                for w in self.probability}


def add_objective(sm) -> None:
    """Register every cost term, add the risk terms, and minimise the objective.

    The objective is the sum of the registry (the risk-weighted firm cost), or with
    ``settings.objective = risk`` the risk measure alone (:func:`siting.model.risk.add_risk`).
    """
    m, d, reg = sm.model, sm.data, sm.costs
    reg.probability = dict(zip(d.scenarios["id"], d.scenarios["probability"]))
    crf = dict(zip(d.sites["site"], d.sites["crf"]))

    site_crf = d.sites["crf"].values
    reg.register("capex", lin(site_crf * d.sites["fixed_cost"].values, [m.build[j] for j in m.SITES]))
    mod_crf = np.array([crf[s] for s in d.modules["site"]])
    reg.register("capex", lin(mod_crf * d.modules["capex_per_module"].values,
                              [m.modules[k] for k in m.MODULES]))
    q_crf = np.array([crf[s] for s in d.qualifications["site"]])
    reg.register("qualification", lin(q_crf * d.qualifications["cost"].values,
                                      [m.qualify[q] for q in m.QUALIFICATIONS]))
    factor = d.instruments["factor"].values
    first = list(m.INSTRUMENTS)
    reg.register("subsidies", lin(-factor[first], [m.payout[k] for k in first]))

    # rows of each scenario, found once (a pass over all rows per scenario grows with its square)
    route_rows, arc_rows = groups(d.routes["scenario"]), groups(d.arcs["scenario"])
    unmet_rows = groups(d.demand["scenario"].iloc[list(m.UNMET)]) if len(m.UNMET) else {}
    unmet_index = np.array(list(m.UNMET), dtype=int)
    for w in d.scenarios["id"]:
        r = route_rows.get(w, [])
        produce = [m.produce[k] for k in r]
        for category, column in (("operating", "operating"), ("freight", "freight"), ("tariffs", "tariff")):
            reg.register(category, lin(d.routes[column].values[r], produce), w)
        a = arc_rows.get(w, [])
        purchase = [m.purchase[k] for k in a]
        for category, column in (("purchases", "price"), ("freight", "freight"), ("tariffs", "tariff")):
            reg.register(category, lin(d.arcs[column].values[a], purchase), w)
        q = unmet_index[unmet_rows.get(w, [])].tolist()
        reg.register("unmet_penalty", lin(d.demand["penalty"].values[q], [m.unmet[k] for k in q]), w)
        paid = [k for (k, v) in m.WAFER_PAYOUTS if v == w]
        reg.register("subsidies", lin(-factor[paid], [m.wafer_payout[k, w] for k in paid]), w)

    measure = add_risk(sm)
    if d.instance.settings.objective == "risk":
        m.firm_cost = pyo.Objective(expr=measure, sense=pyo.minimize)
    else:
        m.firm_cost = pyo.Objective(expr=sum(reg.expected(c) for c in CATEGORIES), sense=pyo.minimize)
