"""Site resources: what the output of an open site draws of its water, power, engineers or tools.

Variables
---------
resource_extra[k]
    Units drawn above the limit of row k of ``data.resources`` (resource, period, scenario),
    bought at the row's ``extra_cost``; exists only where extra supply is offered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.core as pyo

from siting.instance.resources import use_lookup, use_of
from siting.model.investment import opened, site_positions
from siting.model.linear import groups, lin
from siting.model.objective import running_weights

if TYPE_CHECKING:
    from siting.model.build import SitingModel


def add_resources(sm: SitingModel) -> None:
    """Add the resource limits and the cost of extra supply.

    - resource_limit, per resource of site s, period t and scenario w:
      sum_{m,p} u[r,p] x[s,m,p,t,w] <= rho[r,w] L[r] z[s,t] + e[r,t,w], with u the use per wafer
      a year, L the limit, rho the scenario's factor on it, z the site open by t and e the extra
      supply (0 <= e <= E[r], absent where none is offered).
    - The extra supply costs c[r] e[r,t,w] a year, an operating cost of the scenario.
    """
    m, d = sm.model, sm.data
    res = d.resources
    if res is None or not len(res):
        m.RESOURCES = pyo.Set(initialize=[])
        m.RESOURCE_EXTRA = pyo.Set(initialize=[])
        return
    m.RESOURCES = pyo.RangeSet(0, len(res) - 1)
    most = res["extra_max"].to_numpy(dtype=float)
    extra = np.flatnonzero(most > 0).tolist()
    m.RESOURCE_EXTRA = pyo.Set(initialize=extra, ordered=True)
    m.resource_extra = pyo.Var(m.RESOURCE_EXTRA, domain=pyo.NonNegativeReals,
                               bounds=lambda _, k: (0, None if np.isinf(most[k]) else float(most[k])))
    use = d.resource_use
    assert use is not None  # derive makes both tables or neither
    lookup = use_lookup(use[["resource", "product", "market", "per_wafer"]].itertuples(index=False, name=None))
    routes = d.routes
    route_product = routes["product"].to_numpy(dtype=object)
    route_market = routes["market"].to_numpy(dtype=object)
    by_place = groups(routes[["site", "period", "scenario"]])
    site_row = site_positions(sm)
    limit = res["limit"].to_numpy(dtype=float)
    rows = list(res[["resource", "site", "period", "scenario"]].itertuples(index=False, name=None))

    def resource_limit(_: Any, k: int) -> Any:
        r, s, t, w = rows[k]
        coefs, terms = [], []
        for x in by_place.get((s, t, w), []):
            u = use_of(lookup, r, route_product[x], route_market[x])
            if u:
                coefs.append(u)
                terms.append(m.produce[x])
        if not terms:
            return pyo.Constraint.Skip
        coefs.append(-limit[k])
        terms.append(opened(sm, site_row[s], t))
        if k in m.RESOURCE_EXTRA:
            coefs.append(-1.0)
            terms.append(m.resource_extra[k])
        return lin(coefs, terms) <= 0

    m.resource_limit = pyo.Constraint(m.RESOURCES, rule=resource_limit)
    weight = running_weights(d)(res["period"].iloc[extra]) if extra else np.zeros(0)
    cost = res["extra_cost"].to_numpy(dtype=float)
    for w, ks in groups(res["scenario"].iloc[extra]).items():
        rows_w = [extra[i] for i in ks]
        sm.costs.register("operating", lin(cost[rows_w] * weight[ks], [m.resource_extra[k] for k in rows_w]), w)
