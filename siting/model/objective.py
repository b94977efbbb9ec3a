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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.core as pyo

from siting.model.linear import groups, lin

if TYPE_CHECKING:
    from siting.instance.derive import Derived
    from siting.model.build import SitingModel

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

    def register(self, category: str, expr: Any, scenario: str | None = None) -> None:
        """Add ``expr`` (money per year) to ``category``; ``scenario`` None for first stage."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown cost category {category}")
        self.terms.setdefault((category, scenario), []).append(expr)

    def expected(self, category: str) -> Any:
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

    def first_stage(self) -> Any:
        """The first-stage cost (capex, qualification, subsidies), the same in every scenario."""
        return sum(sum(exprs) for (cat, w), exprs in self.terms.items()
                   if w is None and cat not in OBJECTIVE_ONLY)

    def second_stage(self, scenario: str) -> Any:
        """cost2[w]: the second-stage cost of one scenario, as a Pyomo expression."""
        return sum(sum(exprs) for (_, w), exprs in self.terms.items() if w == scenario)

    def scenario_cost(self, scenario: str, category: str) -> Any:
        """One scenario's cost in one category (its first-stage terms and the scenario's own), as a
        Pyomo expression; 0 where there is none."""
        return sum(sum(self.terms[category, s]) for s in (None, scenario) if (category, s) in self.terms)

    def scenario_values(self) -> dict[str, dict[str, float]]:
        """Each scenario's cost by category (:data:`SCENARIO_CATEGORIES`) at the model's current
        variable values; the risk premium is not a cost of a scenario."""
        return {w: {c: float(pyo.value(self.scenario_cost(w, c), exception=False) or 0.0) for c in SCENARIO_CATEGORIES}
                for w in self.probability}


def capital_weights(d: Derived) -> Callable[..., float]:
    """w(t, L): present value of one money unit a year from the start of period t for L years or
    to the horizon's end (:meth:`siting.instance.periods.Calendar.annuity_weight`); 1 on a
    snapshot."""
    cal = d.calendar
    cache: dict = {}

    def weight(t: int, life: float, build: float = 0.0) -> float:
        if (t, life, build) not in cache:
            cache[t, life, build] = cal.capital_weight(t, float(life), float(build)) if cal is not None else 1.0
        return cache[t, life, build]

    return weight


def build_years(d: Derived, table: Any) -> np.ndarray:
    """Per row of ``table`` (sites or modules), the years its capital is spread over: the lead time
    with ``settings.capex_over_build`` on a phased instance, else 0 (all on order)."""
    over = d.instance.settings.capex_over_build and d.calendar is not None and d.calendar.phased
    column = "lead" if "lead" in table.columns else "lead_time_years"
    return table[column].to_numpy(dtype=float) if over else np.zeros(len(table))


def payment_periods(d: Derived) -> list:
    """Per instrument row, the period (index) its first-stage payout is paid in: the row's own period
    (``paid = on_order``), or the first period the site's capacity ordered then produces in
    (``on_start``, after the site's lead time; None: after the horizon, worth nothing in it)."""
    lead = dict(zip(d.sites["site"], d.sites["lead_time_years"]))
    out: list[int | None] = []
    for t, s, paid in zip(d.instruments["period"], d.instruments["site"], d.instruments["paid"]):
        n = d.periods.index(t)
        if paid == "on_start" and d.calendar is not None and d.calendar.phased:
            out.append(d.calendar.first_producing(n, float(lead[s])))
        else:
            out.append(n)
    return out


def running_weights(d: Derived) -> Callable[[Sequence[str]], np.ndarray]:
    """Per row of a table with a ``period`` column, the present value of one money unit a year
    during that period (:meth:`siting.instance.periods.Calendar.weight`); 1 on a snapshot."""
    cal = d.calendar
    by_period = {t: (cal.weight(n) if cal is not None else 1.0) for n, t in enumerate(d.periods)}

    def weights(periods: Sequence[str]) -> np.ndarray:
        return np.array([by_period[t] for t in periods], dtype=float)

    return weights


def _increments(table: Any, annual: np.ndarray, life: np.ndarray, w_cap: Callable[..., float], d: Derived,
                key: tuple[str, ...] = ("site", "product"), build: np.ndarray | None = None) -> np.ndarray:
    """Coefficients on cumulative counts x[t] (rows of ``table``, one per key and period) of the
    annuities of the increments x[t] - x[t-1], each worth ``annual`` a year from period t over its
    life: c[t] w(t) - c[t+1] w(t+1) regrouped on x[t] (a snapshot's ``annual``)."""
    t_of = {t: n for n, t in enumerate(d.periods)}
    periods = [t_of[t] for t in table["period"]]
    build = np.zeros(len(table)) if build is None else build
    own = np.array([annual[k] * w_cap(periods[k], life[k], build[k]) for k in range(len(table))], dtype=np.float64)
    out = own.copy()
    nxt: dict = {}
    keys = list(zip(*(table[c] for c in key)))
    for k in range(len(table) - 1, -1, -1):
        if keys[k] in nxt:
            out[k] = own[k] - own[nxt[keys[k]]]
        nxt[keys[k]] = k
    return out


def register_costs(sm: SitingModel) -> None:
    """Register every cost and subsidy term of the plan, by category, in the model's registry.

    First-stage terms (capex, qualification, payouts) have no scenario; running costs, the unmet
    penalty and production subsidies are registered per scenario, for the risk measures to read.
    """
    m, d, reg = sm.model, sm.data, sm.costs
    reg.probability = dict(zip(d.scenarios["id"], d.scenarios["probability"]))
    w_cap, w_run = capital_weights(d), running_weights(d)
    site_pos = {s: j for j, s in enumerate(d.sites["site"])}

    # capital: each site's annuity from the period it opens; the cumulative z[s,t] carries the
    # difference of the weights of t and t+1 (a snapshot's CRF F z)
    site_crf = d.sites["crf"].values
    life = d.sites["lifetime_years"].values
    site_build = build_years(d, d.sites)
    for t_n, t in enumerate(d.periods):
        a = np.array([w_cap(t_n, L, b) for L, b in zip(life, site_build)])
        if t_n + 1 < len(d.periods):
            a = a - np.array([w_cap(t_n + 1, L, b) for L, b in zip(life, site_build)])
        variables = [m.build[j] if t == d.periods[-1] else m.build_early[j, t] for j in m.SITES]
        reg.register("capex", lin(site_crf * d.sites["fixed_cost"].values * a, variables))
    reg.register("capex", lin(_increments(d.modules, d.modules["crf"].values * d.modules["capex_per_module"].values,
                                          d.modules["lifetime_years"].values, w_cap, d,
                                          build=build_years(d, d.modules)),
                              [m.modules[k] for k in m.MODULES]))
    q = d.qualifications
    q_crf = d.sites["crf"].values[[site_pos[s] for s in q["site"]]]
    q_life = d.sites["lifetime_years"].values[[site_pos[s] for s in q["site"]]]
    reg.register("qualification", lin(_increments(q, q_crf * q["cost"].values, q_life, w_cap, d,
                                                  key=("supplier", "site")),
                                      [m.qualify[k] for k in m.QUALIFICATIONS]))
    factor = d.instruments["factor"].values
    g_period = payment_periods(d)
    g_life = d.sites["lifetime_years"].values[[site_pos[s] for s in d.instruments["site"]]]
    first = list(m.INSTRUMENTS)
    # a first-stage payout is annualised like the capital it pays for, from the period it is paid in
    pay_weight = np.array([w_cap(g_period[k], g_life[k]) if g_period[k] is not None else 0.0 for k in first])
    reg.register("subsidies", lin(-factor[first] * pay_weight, [m.payout[k] for k in first]))
    # a share repaid in period u (continued production fallen short) reverses that much payout,
    # counted like it from u: factor x the capital weight of u over the site's life, per scenario
    t_of = {t: n for n, t in enumerate(d.periods)}
    for w in d.scenarios["id"]:
        rep = [(k, u) for (k, u, v) in m.REPAY if v == w]
        reg.register("subsidies", lin([factor[k] * w_cap(t_of[u], g_life[k]) for k, u in rep],
                                      [m.repayment[k, u, w] for k, u in rep]), w)

    # rows of each scenario, found once (a pass over all rows per scenario grows with its square)
    route_rows, arc_rows = groups(d.routes["scenario"]), groups(d.arcs["scenario"])
    unmet_rows = groups(d.demand["scenario"].iloc[list(m.UNMET)]) if len(m.UNMET) else {}
    unmet_index = np.array(list(m.UNMET), dtype=int)
    # running costs: the amount of one year of the row's period times that period's discount weight
    route_w, arc_w, demand_w = w_run(d.routes["period"]), w_run(d.arcs["period"]), w_run(d.demand["period"])
    wafer_w = w_run(d.instruments["period"])
    for w in d.scenarios["id"]:
        r = route_rows.get(w, [])
        produce = [m.produce[k] for k in r]
        for category, column in (("operating", "operating"), ("freight", "freight"), ("tariffs", "tariff")):
            reg.register(category, lin(d.routes[column].values[r] * route_w[r], produce), w)
        a = arc_rows.get(w, [])
        purchase = [m.purchase[k] for k in a]
        for category, column in (("purchases", "price"), ("freight", "freight"), ("tariffs", "tariff")):
            reg.register(category, lin(d.arcs[column].values[a] * arc_w[a], purchase), w)
        q = unmet_index[unmet_rows.get(w, [])].tolist()
        reg.register("unmet_penalty", lin(d.demand["penalty"].values[q] * demand_w[q], [m.unmet[k] for k in q]), w)
        paid = [k for (k, v) in m.WAFER_PAYOUTS if v == w]
        reg.register("subsidies", lin(-factor[paid] * wafer_w[paid], [m.wafer_payout[k, w] for k in paid]), w)



def add_objective(sm: SitingModel, measure: Any) -> None:
    """Minimise the sum of the registry (the risk-weighted firm cost), or with
    ``settings.objective = risk`` the risk ``measure`` alone (:func:`siting.model.risk.add_risk`)."""
    m, d, reg = sm.model, sm.data, sm.costs
    if d.instance.settings.objective == "risk":
        m.firm_cost = pyo.Objective(expr=measure, sense=pyo.minimize)
    else:
        m.firm_cost = pyo.Objective(expr=sum(reg.expected(c) for c in CATEGORIES), sense=pyo.minimize)
