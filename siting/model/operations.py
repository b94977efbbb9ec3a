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

import numpy as np
import pyomo.core as pyo

from siting.model.linear import groups, lin


def add_operations(sm) -> None:
    """Add production and unmet demand with their constraints.

    - demand_balance (1): sum_s x[s,m,p,w] + r[m,p,w] = d[m,p].
    - capacity (2): sum_m x[s,m,p,w] <= alpha[s,w] K[s,p] n[s,p], alpha the share of the site's
      capacity available in scenario w.
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

    def demand_balance(_, q):
        rows = by_demand.get(q, [])
        terms = [m.produce[r] for r in rows]
        if q in m.UNMET:
            terms.append(m.unmet[q])
        if not terms:
            return pyo.Constraint.Infeasible if wafers[q] > 0 else pyo.Constraint.Skip
        return lin([1.0] * len(terms), terms) == wafers[q]

    m.demand_balance = pyo.Constraint(m.DEMAND, rule=demand_balance)

    size = d.modules["wafers_per_module"].tolist()
    share = {(k, w): float(a) for k, w, a in d.availability[["module", "scenario", "share"]].itertuples(index=False)}
    by_module = groups(routes[["module", "scenario"]])
    m.CAPACITY = pyo.Set(initialize=list(by_module), dimen=2, ordered=True)

    def capacity(_, k, w):
        terms = [m.produce[r] for r in by_module[k, w]]
        if share[k, w] == 0:  # the site is out in this scenario: nothing flows (no module column)
            return lin([1.0] * len(terms), terms) <= 0
        return lin([1.0] * len(terms) + [-share[k, w] * size[k]], terms + [m.modules[k]]) <= 0

    m.capacity = pyo.Constraint(m.CAPACITY, rule=capacity)

    bound, module = routes["bound"].tolist(), routes["module"].tolist()
    m.route_link = pyo.Constraint(
        m.ROUTES, rule=lambda _, r: lin([1.0, -bound[r]], [m.produce[r], m.modules[module[r]]]) <= 0)

    hard = demand[np.isnan(demand["penalty"].values)]
    must = hard.groupby(["product", "period", "scenario"], sort=False)["wafers"].sum()
    must = must[must > 0]
    m.COVER = pyo.Set(initialize=list(must.index), dimen=3, ordered=True)

    def demand_cover(_, p, t, w):
        rows = np.flatnonzero((d.modules["product"].values == p) & (d.modules["period"].values == t))
        rows = [k for k in rows if share[k, w] > 0]
        if len(rows) == 0:
            return pyo.Constraint.Infeasible
        return lin([share[k, w] * size[k] for k in rows], [m.modules[k] for k in rows]) >= float(must[p, t, w])

    m.demand_cover = pyo.Constraint(m.COVER, rule=demand_cover)
