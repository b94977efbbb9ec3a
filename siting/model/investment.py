"""First-stage investment: which sites open and how many modules each gets.

Variables
---------
build[j]
    1 if site j (row j of ``data.sites``) is open by the horizon's last period (z[s] in MODEL.md).
build_early[j, t]
    1 if site j is open by period t, for the periods before the last (phased instances only);
    with ``build`` the cumulative z[s,t], non-decreasing in t.
modules[k]
    Modules of row k of ``data.modules`` (n[s,p,t]) ordered by the row's period, cumulative and
    non-decreasing over the periods, integer in 0..max_modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.core as pyo

from siting.instance.periods import previous_rows
from siting.model.linear import lin

if TYPE_CHECKING:
    from siting.model.build import SitingModel


def site_positions(sm: SitingModel) -> dict:
    """Map site id -> row number in ``data.sites``."""
    return {s: j for j, s in enumerate(sm.data.sites["site"])}


def opened(sm: SitingModel, j: int, period: str) -> Any:
    """The variable z[s,t]: site row j open by ``period`` (``build[j]`` for the last period)."""
    m = sm.model
    return m.build[j] if period == sm.data.periods[-1] else m.build_early[j, period]


def ordered_terms(sm: SitingModel, j: int, period: str | None = None) -> tuple[list, list]:
    """Coefficients and variables of the capex site row j orders in ``period`` (None: over the
    horizon), undiscounted: F[s] (z[s,t] - z[s,t-1]) + sum_p C[s,p,t] (n[s,p,t] - n[s,p,t-1]).

    Over the horizon, sum_t C[t] (n[t] - n[t-1]) regroups to sum_t (C[t] - C[t+1]) n[t]; a
    snapshot's capex is F z + sum_p C n, in that order.
    """
    m, d = sm.model, sm.data
    site = d.sites.at[j, "site"]
    periods = d.periods
    coef: dict = {}  # id(variable) -> [variable, coefficient], in first-seen order

    def add(var: Any, c: float) -> None:
        coef.setdefault(id(var), [var, 0.0])[1] += c

    t_of = {t: n for n, t in enumerate(periods)}
    F = d.sites.at[j, "fixed_cost"]
    if period is None:
        add(m.build[j], F)
    else:
        add(opened(sm, j, period), F)
        if t_of[period] > 0:
            add(opened(sm, j, periods[t_of[period] - 1]), -F)
    rows = np.flatnonzero(d.modules["site"].values == site)
    prev = previous_rows(d.modules)
    cost = d.modules["capex_per_module"].values
    mod_period = d.modules["period"].values
    for k in rows:
        if period is None:
            nxt = [n for n in rows if prev[n] == k]
            add(m.modules[k], cost[k] - (cost[nxt[0]] if nxt else 0.0))
        elif mod_period[k] == period:
            add(m.modules[k], cost[k])
            if prev[k] >= 0:
                add(m.modules[prev[k]], -cost[k])
    return [c for _, c in coef.values()], [v for v, _ in coef.values()]


def capex_expression(sm: SitingModel, j: int, period: str | None = None) -> Any:
    """Undiscounted capex of site row j ordered in ``period`` (None: over the horizon);
    a snapshot's F[s] build[s] + sum_p C[s,p] modules[s,p]."""
    coefs, variables = ordered_terms(sm, j, period)
    return lin(coefs, variables)


def capacity_terms(sm: SitingModel, k: int) -> tuple[list, list]:
    """Wafers a year module row k's (site, product) can make in its period, as coefficients on the
    cumulative module counts (``data.capacity``): a snapshot's K[s,p] n[s,p]."""
    m, cap = sm.model, sm.capacity_rows
    rows = cap.get(k, [])
    return [c for _, c in rows], [m.modules[t] for t, _ in rows]


def add_investment(sm: SitingModel) -> None:
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
    sm.capacity_rows = {}
    assert d.capacity is not None, "derive always makes the capacity table"
    for k, t, c in d.capacity[["module", "order", "coef"]].itertuples(index=False, name=None):
        sm.capacity_rows.setdefault(int(k), []).append((int(t), float(c)))
    # sites.status: a site the planner opens (or closes) by decision; the model decides the rest
    status = d.sites["status"].tolist()

    def site_bounds(_: Any, j: int, *t: str) -> tuple[int, int]:
        return (1 if status[j] == "open" else 0, 0 if status[j] == "closed" else 1)

    m.build = pyo.Var(m.SITES, domain=pyo.Binary, bounds=site_bounds)
    early = list(d.periods[:-1])
    m.EARLY = pyo.Set(initialize=[(j, t) for j in range(len(d.sites)) for t in early], dimen=2, ordered=True)
    m.build_early = pyo.Var(m.EARLY, domain=pyo.Binary, bounds=site_bounds)
    maxn = d.modules["max_modules"].tolist()
    m.modules = pyo.Var(m.MODULES, domain=pyo.NonNegativeIntegers,
                        bounds=lambda _, k: (0, int(maxn[k])))
    pos = site_positions(sm)
    site_of = [pos[s] for s in d.modules["site"]]
    mod_period = d.modules["period"].tolist()
    m.module_site = pyo.Constraint(
        m.MODULES, rule=lambda _, k: m.modules[k] - int(maxn[k]) * opened(sm, site_of[k], mod_period[k]) <= 0)
    # what is built stays built: z[s,t-1] <= z[s,t], n[s,p,t-1] <= n[s,p,t]
    m.build_stays = pyo.Constraint(
        m.EARLY, rule=lambda _, j, t: m.build_early[j, t] - opened(sm, j, d.periods[d.periods.index(t) + 1]) <= 0)
    prev = previous_rows(d.modules)
    m.GROWN = pyo.Set(initialize=[k for k in range(len(d.modules)) if prev[k] >= 0], ordered=True)
    m.modules_stay = pyo.Constraint(m.GROWN, rule=lambda _, k: m.modules[prev[k]] - m.modules[k] <= 0)

    # A site opens only to hold at least one module: a lump sum paid "on opening" must not be
    # collectable by opening an empty site (a rule, not a valid inequality).
    by_site: dict = {}
    for k, j in enumerate(site_of):
        by_site.setdefault((j, mod_period[k]), []).append(k)
    m.site_needs_module = pyo.Constraint(
        m.SITES, rule=lambda _, j: lin([1.0] + [-1.0] * len(by_site.get((j, d.periods[-1]), [])),
                                       [m.build[j]] + [m.modules[k] for k in by_site.get((j, d.periods[-1]), [])])
        <= 0)
    m.site_needs_module_early = pyo.Constraint(
        m.EARLY, rule=lambda _, j, t: lin([1.0] + [-1.0] * len(by_site.get((j, t), [])),
                                          [m.build_early[j, t]] + [m.modules[k] for k in by_site.get((j, t), [])])
        <= 0)

    # capacity at the horizon's end: the last period's cumulative modules
    size = d.modules["wafers_per_module"].values
    last = np.flatnonzero(d.modules["period"].values == d.periods[-1])
    if d.concentration:
        labels = [c[0] for c in d.concentration]
        m.CONCENTRATION = pyo.Set(initialize=labels, ordered=True)

        def concentration(_: Any, label: str) -> Any:
            _, share, members = d.concentration[labels.index(label)]
            inside = np.isin(d.modules["site"].values[last], list(members))
            coefs = size[last] * (inside.astype(float) - share)
            return lin(coefs, [m.modules[k] for k in last]) <= 0

        m.concentration = pyo.Constraint(m.CONCENTRATION, rule=concentration)
    if d.firm_budget is not None:
        m.firm_budget = pyo.Constraint(
            expr=sum(capex_expression(sm, j) for j in m.SITES) <= d.firm_budget)
