"""Subsidy instruments (MODEL.md constraint 10): capex grants and lump sums.

Variables
---------
payout[g]
    Undiscounted amount instrument g pays the firm (money unit); the objective counts it
    annualised with the site's capital recovery factor, like the capex it offsets.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from siting.model.investment import capex_expression, site_positions


def max_capex(sm, j: int) -> float:
    """Largest capex site row j could carry: F[s] + sum_p C[s,p] N[s,p]."""
    d = sm.data
    site = d.sites.at[j, "site"]
    rows = d.modules["site"].values == site
    return float(d.sites.at[j, "fixed_cost"]
                 + np.sum(d.modules["capex_per_module"].values[rows] * d.modules["max_modules"].values[rows]))


def add_subsidies(sm) -> None:
    """Add instrument payouts.

    - capex_grant: payout[g] <= rho[g] capex[s] and payout[g] <= cap[g] z[s]; with no cap the
      second bound uses rho[g] times the most capex the site could carry, so no blind big-M.
    - lump_sum: payout[g] = L[g] z[s].
    """
    m, d = sm.model, sm.data
    g = d.instruments
    m.INSTRUMENTS = pyo.RangeSet(0, len(g) - 1) if len(g) else pyo.Set(initialize=[])
    m.payout = pyo.Var(m.INSTRUMENTS, domain=pyo.NonNegativeReals)
    pos = site_positions(sm)
    grants = [k for k in range(len(g)) if g.at[k, "kind"] == "capex_grant"]
    lumps = [k for k in range(len(g)) if g.at[k, "kind"] == "lump_sum"]
    m.GRANTS = pyo.Set(initialize=grants, ordered=True)
    m.LUMPS = pyo.Set(initialize=lumps, ordered=True)

    def site_of(k):
        return pos[g.at[k, "site"]]

    m.grant_rate = pyo.Constraint(
        m.GRANTS, rule=lambda _, k: m.payout[k] - float(g.at[k, "rate"]) * capex_expression(sm, site_of(k)) <= 0)

    def grant_cap(_, k):
        cap = g.at[k, "cap"]
        limit = float(g.at[k, "rate"]) * max_capex(sm, site_of(k))
        if not np.isnan(cap):
            limit = min(limit, float(cap))
        return m.payout[k] - limit * m.build[site_of(k)] <= 0

    m.grant_cap = pyo.Constraint(m.GRANTS, rule=grant_cap)
    m.lump_sum = pyo.Constraint(
        m.LUMPS, rule=lambda _, k: m.payout[k] - float(g.at[k, "amount"]) * m.build[site_of(k)] == 0)
