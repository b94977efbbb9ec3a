"""First-stage investment: which sites open and how many modules each gets.

Variables
---------
build[j]
    1 if site j (row j of ``data.sites``) opens in the period (z[s] in MODEL.md).
modules[k]
    Modules of row k of ``data.modules`` (n[s,p]), integer in 0..max_modules.
"""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo

from siting.model.linear import lin


def site_positions(sm) -> dict:
    """Map site id -> row number in ``data.sites``."""
    return {s: j for j, s in enumerate(sm.data.sites["site"])}


def capex_expression(sm, j: int):
    """Undiscounted capex of site row j: F[s] build[s] + sum_p C[s,p] modules[s,p]."""
    m, d = sm.model, sm.data
    site = d.sites.at[j, "site"]
    rows = np.flatnonzero(d.modules["site"].values == site)
    coefs = [d.sites.at[j, "fixed_cost"]] + list(d.modules["capex_per_module"].values[rows])
    return lin(coefs, [m.build[j]] + [m.modules[k] for k in rows])


def add_investment(sm) -> None:
    """Add build and module decisions, their link, and the optional first-stage limits.

    - sites.status fixes z[s] = 1 (open) or 0 (closed) where the planner gives it.
    - module_site (MODEL.md, first stage): n[s,p] <= N[s,p] z[s].
    - site_needs_module: z[s] <= sum_p n[s,p] (an open site holds at least one module).
    - concentration (8): sum_{s in group} K n <= gamma sum_s K n, per country/region/hazard zone.
    - firm_budget (11): sum_s F z + sum_{s,p} C n <= budget.
    """
    m, d = sm.model, sm.data
    m.SITES = pyo.RangeSet(0, len(d.sites) - 1) if len(d.sites) else pyo.Set(initialize=[])
    m.MODULES = pyo.RangeSet(0, len(d.modules) - 1) if len(d.modules) else pyo.Set(initialize=[])
    # sites.status: a site the planner opens (or closes) by decision; the model decides the rest
    status = d.sites["status"].tolist()
    m.build = pyo.Var(m.SITES, domain=pyo.Binary,
                      bounds=lambda _, j: (1 if status[j] == "open" else 0, 0 if status[j] == "closed" else 1))
    maxn = d.modules["max_modules"].tolist()
    m.modules = pyo.Var(m.MODULES, domain=pyo.NonNegativeIntegers,
                        bounds=lambda _, k: (0, int(maxn[k])))
    pos = site_positions(sm)
    site_of = [pos[s] for s in d.modules["site"]]
    m.module_site = pyo.Constraint(
        m.MODULES, rule=lambda _, k: m.modules[k] - int(maxn[k]) * m.build[site_of[k]] <= 0)

    # A site opens only to hold at least one module: a lump sum paid "on opening" must not be
    # collectable by opening an empty site (a rule, not a valid inequality).
    by_site: dict = {}
    for k, j in enumerate(site_of):
        by_site.setdefault(j, []).append(k)
    m.site_needs_module = pyo.Constraint(
        m.SITES, rule=lambda _, j: lin([1.0] + [-1.0] * len(by_site.get(j, [])),
                                       [m.build[j]] + [m.modules[k] for k in by_site.get(j, [])]) <= 0)

    size = d.modules["wafers_per_module"].values
    if d.concentration:
        labels = [c[0] for c in d.concentration]
        m.CONCENTRATION = pyo.Set(initialize=labels, ordered=True)

        def concentration(_, label):
            _, share, members = d.concentration[labels.index(label)]
            inside = np.isin(d.modules["site"].values, list(members))
            coefs = size * (inside.astype(float) - share)
            return lin(coefs, [m.modules[k] for k in m.MODULES]) <= 0

        m.concentration = pyo.Constraint(m.CONCENTRATION, rule=concentration)
    if d.firm_budget is not None:
        m.firm_budget = pyo.Constraint(
            expr=sum(capex_expression(sm, j) for j in m.SITES) <= d.firm_budget)
