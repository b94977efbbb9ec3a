"""Second-stage operations: wafers made and shipped, and demand left unmet.

Variables
---------
produce[r]
    Wafers per year on route r (row r of ``data.routes``: site, market, product, period,
    scenario), x[s,m,p,w] in MODEL.md.
unmet[q]
    Wafers of demand row q left unmet, r[m,p,w]; exists only where a penalty is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.core as pyo

from siting.model.investment import capacity_terms
from siting.model.linear import groups, lin

if TYPE_CHECKING:
    from siting.model.build import SitingModel


def add_operations(sm: SitingModel) -> None:
    """Add production and unmet demand with their constraints.

    - demand_balance (1): sum_s x[s,m,p,w] + r[m,p,w] = d[m,p].
    - capacity (2): sum_m x[s,m,p,t,w] <= alpha[s,w] cap[s,p,t], alpha the share of the site's
      capacity available in scenario w and cap[s,p,t] the capacity producing in period t
      (:func:`siting.model.investment.capacity_terms`; a snapshot's K[s,p] n[s,p]).
    - route_link (valid inequality): x[s,m,p,w] <= min(d[m,p,w], alpha[s,w] K[s,p]) n[s,p]; it cuts
      off fractional plans that spread a little output over many barely-built sites.
    - demand_cover (valid inequality): sum_s alpha[s,w] K[s,p] n[s,p] >= the demand of p that must
      be met in scenario w.
    """
    m, d = sm.model, sm.data
    routes, demand = d.routes, d.demand
    m.ROUTES = pyo.RangeSet(0, len(routes) - 1) if len(routes) else pyo.Set(initialize=[])
    m.produce = pyo.Var(m.ROUTES, domain=pyo.NonNegativeReals)
    penalised = np.flatnonzero(~np.isnan(demand["penalty"].values))
    m.UNMET = pyo.Set(initialize=penalised.tolist(), ordered=True)
    wafers = demand["wafers"].tolist()
    m.unmet = pyo.Var(m.UNMET, domain=pyo.NonNegativeReals, bounds=lambda _, q: (0, wafers[q]))

    by_demand = groups(routes["demand_row"])
    m.DEMAND = pyo.RangeSet(0, len(demand) - 1) if len(demand) else pyo.Set(initialize=[])

    def demand_balance(_: Any, q: int) -> Any:
        rows = by_demand.get(q, [])
        terms = [m.produce[r] for r in rows]
        if q in m.UNMET:
            terms.append(m.unmet[q])
        if not terms:
            return pyo.Constraint.Infeasible if wafers[q] > 0 else pyo.Constraint.Skip
        return lin([1.0] * len(terms), terms) == wafers[q]

    m.demand_balance = pyo.Constraint(m.DEMAND, rule=demand_balance)

    share = {(k, w): float(a) for k, w, a in d.availability[["module", "scenario", "share"]].itertuples(index=False)}
    by_module = groups(routes[["module", "scenario"]])
    m.CAPACITY = pyo.Set(initialize=list(by_module), dimen=2, ordered=True)

    def capacity(_: Any, k: int, w: str) -> Any:
        terms = [m.produce[r] for r in by_module[k, w]]
        if share[k, w] == 0:  # the site is out in this scenario: nothing flows (no module column)
            return lin([1.0] * len(terms), terms) <= 0
        # alpha[s,w] times the capacity producing in the period (a snapshot's K n)
        coefs, mods = capacity_terms(sm, k)
        return lin([1.0] * len(terms) + [-share[k, w] * c for c in coefs], terms + mods) <= 0

    m.capacity = pyo.Constraint(m.CAPACITY, rule=capacity)

    bound, link = routes["bound"].tolist(), routes["link"].tolist()
    m.route_link = pyo.Constraint(
        m.ROUTES, rule=lambda _, r: lin([1.0, -bound[r]], [m.produce[r], m.modules[link[r]]]) <= 0)

    hard = demand[np.isnan(demand["penalty"].values)]
    must = hard.groupby(["product", "period", "scenario"], sort=False)["wafers"].sum()
    must = must[must > 0]
    m.COVER = pyo.Set(initialize=list(must.index), dimen=3, ordered=True)

    def demand_cover(_: Any, p: str, t: str, w: str) -> Any:
        rows = [int(k) for k in np.flatnonzero((d.modules["product"].values == p) & (d.modules["period"].values == t))
                if share[k, w] > 0]
        coefs, mods = [], []
        for k in rows:
            c, v = capacity_terms(sm, k)
            coefs += [share[k, w] * x for x in c]
            mods += v
        if len(mods) == 0:
            return pyo.Constraint.Infeasible
        return lin(coefs, mods) >= float(must[p, t, w])

    m.demand_cover = pyo.Constraint(m.COVER, rule=demand_cover)
