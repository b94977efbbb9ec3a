"""Subsidy instruments (MODEL.md constraint 10).

Rows of ``data.instruments`` are (instrument, site) pairs in a common form
(:mod:`siting.instance.instruments`): a payout that is a share of capex (capex grant, tax credit,
the grant element of a concessional loan), a lump sum, or a payout per wafer made (production
subsidy), each up to a cap, each annualised by its row's ``factor``.

Variables
---------
payout[g]
    Undiscounted amount instrument row g pays at its site (first-stage kinds), money unit.
wafer_payout[g, w]
    Undiscounted amount production-subsidy row g pays in scenario w, money unit.
take[g]
    1 if the firm takes up conditional instrument row g (e[g] in MODEL.md): it then meets the
    conditions and may be paid; 0 if it declines because meeting them costs more than they bring.

Every bound is derived from the data (no blind big-M): a payout is at most its rate times the
most capex the site could carry, its per-wafer amount times the most the site could make, or its
cap; a condition is relaxed, when declined, by exactly the most its left-hand side could fall short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.core as pyo

from siting.instance.bounds import max_capex, module_rows, most_counted_spend, most_output
from siting.instance.instruments import CAPEX_SHARE
from siting.model.investment import capacity_terms, capex_expression, opened, site_positions
from siting.model.linear import lin

if TYPE_CHECKING:
    from siting.instance.derive import Derived
    from siting.model.build import SitingModel


def _route_rows(d: Derived, site: str, w: str, product: str = "", period: str | None = None) -> np.ndarray:
    rows = (d.routes["site"].values == site) & (d.routes["scenario"].values == w)
    if period is not None and len(d.periods) > 1:
        rows &= d.routes["period"].values == period
    if product:
        rows &= d.routes["product"].values == product
    return np.flatnonzero(rows)


def add_subsidies(sm: SitingModel) -> None:
    """Add instrument payouts, take-up decisions, conditions and program budgets.

    - grant_rate: payout[g] <= rho[g] capex[s] (capex grant, tax credit, loan grant element);
    - grant_cap: payout[g] <= min(cap[g], rho[g] max capex[s]) y[g];
    - lump_sum: payout[g] <= L[g] y[g] (paid in full unless a program budget runs short);
    - grants_within_capex: sum of capex-share payouts at a site <= its capex (where several stack);
    - wafer_rate: wafer_payout[g,w] / (D[g] a[g]) <= sum_m x[s,m,p,w] (a: subsidy per wafer, D: years);
    - wafer_cap: wafer_payout[g,w] <= min(cap[g], D[g] a[g] max output[s]) y[g];
    with y[g] = take[g] for a conditional instrument and build[s] otherwise, and
    - take_site: take[g] <= build[s];
    - condition_local: sum_{u,i} (local[u,s] - theta[g]) c q >= -theta[g] V[s,w] (1 - take[g]),
      V the most the site could spend on counted inputs;
    - condition_utilisation: sum_{m,p} x[s,m,p,w] - kappa[g] sum_p K n >= -kappa[g] max capacity[s] (1 - take[g]);
    - program_budget: sum_{g in program} payout[g] (+ wafer_payout[g,w]) <= budget, per scenario.
    """
    m, d = sm.model, sm.data
    g = d.instruments
    pos = site_positions(sm)
    kind = g["kind"].tolist()
    site = g["site"].tolist()
    period = g["period"].tolist()
    t_of = {t: n for n, t in enumerate(d.periods)}
    scenarios = list(d.scenarios["id"])
    first = [k for k in range(len(g)) if kind[k] != "production_subsidy"]
    wafer = [k for k in range(len(g)) if kind[k] == "production_subsidy"]
    cond = [k for k in range(len(g)) if g.at[k, "conditional"]]

    m.INSTRUMENTS = pyo.Set(initialize=first, ordered=True)
    m.payout = pyo.Var(m.INSTRUMENTS, domain=pyo.NonNegativeReals)
    m.WAFER_PAYOUTS = pyo.Set(initialize=[(k, w) for k in wafer for w in scenarios], dimen=2, ordered=True)
    m.wafer_payout = pyo.Var(m.WAFER_PAYOUTS, domain=pyo.NonNegativeReals)
    m.TAKEUP = pyo.Set(initialize=cond, ordered=True)
    m.take = pyo.Var(m.TAKEUP, domain=pyo.Binary)

    def paid_if(k: int) -> Any:
        return m.take[k] if k in m.TAKEUP else opened(sm, pos[site[k]], period[k])

    def limit(k: int, most: float) -> float:
        cap = g.at[k, "cap"]
        return most if np.isnan(cap) else min(most, float(cap))

    share = [k for k in first if kind[k] in CAPEX_SHARE]
    m.GRANTS = pyo.Set(initialize=share, ordered=True)
    m.grant_rate = pyo.Constraint(
        m.GRANTS, rule=lambda _, k: m.payout[k]
        - float(g.at[k, "rate"]) * capex_expression(sm, pos[site[k]], period[k]) <= 0)
    m.grant_cap = pyo.Constraint(
        m.GRANTS, rule=lambda _, k: m.payout[k]
        - limit(k, float(g.at[k, "rate"]) * max_capex(d, pos[site[k]])) * paid_if(k) <= 0)
    m.LUMPS = pyo.Set(initialize=[k for k in first if kind[k] == "lump_sum"], ordered=True)
    # at most L: the objective pays it in full unless a program budget runs short
    m.lump_sum = pyo.Constraint(m.LUMPS, rule=lambda _, k: m.payout[k] - float(g.at[k, "amount"]) * paid_if(k) <= 0)

    # instruments that pay a share of capex never pay more than the capex, however they stack
    # (a grant and a tax credit, a site's and its country's): else building idle modules would pay
    stacked: dict = {}
    for k in share:
        stacked.setdefault((pos[site[k]], period[k]), []).append(k)
    m.STACKED = pyo.Set(initialize=[jt for jt, ks in stacked.items() if len(ks) > 1], dimen=2, ordered=True)
    m.grants_within_capex = pyo.Constraint(
        m.STACKED, rule=lambda _, j, t: sum(m.payout[k] for k in stacked[j, t]) - capex_expression(sm, j, t) <= 0)

    # Phased: an instrument's rows of several periods share its cap (a lump sum its amount), and a
    # lump sum is paid in the period the site opens.
    rows_of: dict = {}
    for k in first:
        rows_of.setdefault((g.at[k, "id"], site[k]), []).append(k)
    shared = [key for key, ks in rows_of.items() if len(ks) > 1
              and (kind[ks[0]] == "lump_sum" or not np.isnan(g.at[ks[0], "cap"]))]
    m.SHARED_CAP = pyo.Set(initialize=range(len(shared)), ordered=True)

    def total_cap(_: Any, n: int) -> Any:
        ks = rows_of[shared[n]]
        most = max(float(g.at[k, "amount"]) if kind[k] == "lump_sum" else float(g.at[k, "cap"]) for k in ks)
        return lin([1.0] * len(ks), [m.payout[k] for k in ks]) <= most

    m.shared_cap = pyo.Constraint(m.SHARED_CAP, rule=total_cap)
    m.OPENING = pyo.Set(initialize=[k for k in m.LUMPS if t_of[period[k]] > 0], ordered=True)
    m.lump_on_opening = pyo.Constraint(
        m.OPENING, rule=lambda _, k: lin([1.0, -float(g.at[k, "amount"]), float(g.at[k, "amount"])],
                                         [m.payout[k], opened(sm, pos[site[k]], period[k]),
                                          opened(sm, pos[site[k]], d.periods[t_of[period[k]] - 1])]) <= 0)

    def wafer_rate(_: Any, k: int, w: str) -> Any:
        rows = _route_rows(d, site[k], w, g.at[k, "product"], period[k])
        a = float(g.at[k, "per_wafer_total"])
        if a <= 0:
            return m.wafer_payout[k, w] <= 0
        # divided by a: per-wafer amounts in the money unit are tiny next to the wafers they multiply
        return lin([1.0 / a] + [-1.0] * len(rows), [m.wafer_payout[k, w]] + [m.produce[r] for r in rows]) <= 0

    def wafer_cap(_: Any, k: int, w: str) -> Any:
        most = float(g.at[k, "per_wafer_total"]) * most_output(d, site[k], g.at[k, "product"])
        return m.wafer_payout[k, w] - limit(k, most) * paid_if(k) <= 0

    m.wafer_rate = pyo.Constraint(m.WAFER_PAYOUTS, rule=wafer_rate)
    m.wafer_cap = pyo.Constraint(m.WAFER_PAYOUTS, rule=wafer_cap)

    m.take_site = pyo.Constraint(m.TAKEUP, rule=lambda _, k: m.take[k] - opened(sm, pos[site[k]], period[k]) <= 0)
    # the most each first-stage payout can be (the bound grant_cap and lump_sum give it): the
    # repayment of a share of it is linearised with this bound
    most_payout = {k: (float(g.at[k, "amount"]) if kind[k] == "lump_sum"
                       else limit(k, float(g.at[k, "rate"]) * max_capex(d, pos[site[k]])))
                   for k in share + list(m.LUMPS)}
    _add_conditions(sm, [k for k in cond if not np.isnan(g.at[k, "min_local_share"])],
                    [k for k in cond if not np.isnan(g.at[k, "min_utilisation"])], scenarios, most_payout)
    _add_programs(sm, first, wafer, scenarios)


def _add_conditions(sm: SitingModel, local: list, utilisation: list, scenarios: list,
                    most_payout: dict | None = None) -> None:
    m, d = sm.model, sm.data
    g, arcs = d.instruments, d.arcs
    price, is_local = arcs["price"].values, arcs["local"].values.astype(float)
    scale = {}

    phased = len(d.periods) > 1

    def condition_local(_: Any, k: int, w: str) -> Any:
        s, theta, t = g.at[k, "site"], float(g.at[k, "min_local_share"]), g.at[k, "period"]
        at = (arcs["site"].values == s) & (arcs["scenario"].values == w) & arcs["counts"].values
        if phased:
            at &= arcs["period"].values == t
        a = np.flatnonzero(at)
        most = theta * most_counted_spend(d, s, w, t)
        if len(a) == 0:
            return pyo.Constraint.Skip  # no counted purchases: the share condition holds vacuously
        coefs = (is_local[a] - theta) * price[a]
        # scaled like local_share, by the largest purchase coefficient (prices in the money unit are
        # tiny): the take-up coefficient then reads in units bought, like a qualification link's bound
        scale[k, w] = float(np.max(np.abs(coefs))) or 1.0
        return lin(np.append(coefs, -most) / scale[k, w], [m.purchase[r] for r in a] + [m.take[k]]) \
            >= -most / scale[k, w]

    m.CONDITION_LOCAL = pyo.Set(initialize=[(k, w) for k in local for w in scenarios], dimen=2, ordered=True)
    m.condition_local = pyo.Constraint(m.CONDITION_LOCAL, rule=condition_local)
    sm.row_scale["condition_local"] = scale

    def condition_utilisation(_: Any, k: int, w: str) -> Any:
        s, kappa, t = g.at[k, "site"], float(g.at[k, "min_utilisation"]), g.at[k, "period"]
        routes = _route_rows(d, s, w, "", t)
        mods = [j for j in module_rows(d, s) if not phased or d.modules.at[j, "period"] == t]
        most = kappa * most_output(d, s)
        cap_coefs, cap_vars = [], []
        for j in mods:  # the site's capacity producing in the period (a snapshot's K n)
            c, v = capacity_terms(sm, j)
            cap_coefs += [-kappa * x for x in c]
            cap_vars += v
        coefs = [1.0] * len(routes) + cap_coefs + [-most]
        variables = [m.produce[r] for r in routes] + cap_vars + [m.take[k]]
        return lin(coefs, variables) >= -most

    m.CONDITION_UTILISATION = pyo.Set(initialize=[(k, w) for k in utilisation for w in scenarios], dimen=2,
                                      ordered=True)
    m.condition_utilisation = pyo.Constraint(m.CONDITION_UTILISATION, rule=condition_utilisation)

    # Continued production (phased): a row with condition_years N holds its utilisation condition
    # in every period that starts within N years of the first period the capacity it pays for
    # produces (the site's lead time after the row's period; the window ends with the horizon).
    # Bound: the most the site can make in that period, kappa sum K N (tight from the data).
    cal = d.calendar
    lead = dict(zip(d.sites["site"], d.sites["lead_time_years"]))
    window = []
    if phased and "condition_years" in g.columns:
        for k in utilisation:
            years = float(g.at[k, "condition_years"])
            if years != years:
                continue
            t = d.periods.index(g.at[k, "period"])
            first = cal.first_producing(t, float(lead[g.at[k, "site"]]))
            if first is None:
                continue
            window += [(k, cal.ids[u], w) for u in range(first, len(cal.ids))
                       if cal.start[u] < cal.start[first] + years and u != t for w in scenarios]

    # Repay a share (repay_share rho): in a window period the firm may fall short (short = 1, its
    # choice, only with the grant taken) and then repays rho x the payout in that period:
    # repayment >= rho payout - rho P (1 - short), P the most the payout can be (tight from the data).
    most_payout = most_payout or {}
    repays = [(k, u, w) for (k, u, w) in window if "repay_share" in g.columns
              and not np.isnan(g.at[k, "repay_share"]) and k in most_payout]
    m.REPAY = pyo.Set(initialize=repays, dimen=3, ordered=True)
    m.repay_short = pyo.Var(m.REPAY, domain=pyo.Binary)
    m.repayment = pyo.Var(m.REPAY, domain=pyo.NonNegativeReals)

    def condition_continued(_: Any, k: int, u: Any, w: Any) -> Any:
        s, kappa = g.at[k, "site"], float(g.at[k, "min_utilisation"])
        routes = _route_rows(d, s, w, "", u)
        mods = [j for j in module_rows(d, s) if d.modules.at[j, "period"] == u]
        most = kappa * float(sum(d.modules.at[j, "wafers_per_module"] * d.modules.at[j, "max_modules"]
                                 for j in mods))
        cap_coefs, cap_vars = [], []
        for j in mods:
            c, v = capacity_terms(sm, j)
            cap_coefs += [-kappa * x for x in c]
            cap_vars += v
        # relaxed by kappa M when the grant is declined, or when the firm falls short and repays
        short = [most] if (k, u, w) in m.REPAY else []
        return lin([1.0] * len(routes) + cap_coefs + [-most] + short,
                   [m.produce[r] for r in routes] + cap_vars + [m.take[k]]
                   + ([m.repay_short[k, u, w]] if short else [])) >= -most

    m.CONDITION_CONTINUED = pyo.Set(initialize=window, dimen=3, ordered=True)
    m.condition_continued = pyo.Constraint(m.CONDITION_CONTINUED, rule=condition_continued)
    m.short_needs_take = pyo.Constraint(m.REPAY, rule=lambda _, k, u, w: m.repay_short[k, u, w] - m.take[k] <= 0)

    def repay_link(_: Any, k: int, u: Any, w: Any) -> Any:
        rho, most = float(g.at[k, "repay_share"]), most_payout[k]
        return lin([1.0, -rho, -rho * most], [m.repayment[k, u, w], m.payout[k], m.repay_short[k, u, w]]) \
            >= -rho * most

    m.repay_link = pyo.Constraint(m.REPAY, rule=repay_link)


def _add_programs(sm: SitingModel, first: list, wafer: list, scenarios: list) -> None:
    m, d = sm.model, sm.data
    g = d.instruments
    budget = dict(zip(d.programs["id"], d.programs["budget"]))
    used = [p for p in d.programs["id"] if (g["program"] == p).any()]
    m.PROGRAMS = pyo.Set(initialize=[(p, w) for p in used for w in scenarios], dimen=2, ordered=True)

    def program_budget(_: Any, p: str, w: str) -> Any:
        ks = [k for k in first if g.at[k, "program"] == p]
        ws = [k for k in wafer if g.at[k, "program"] == p]
        terms = [m.payout[k] for k in ks] + [m.wafer_payout[k, w] for k in ws]
        return lin([1.0] * len(terms), terms) <= float(budget[p])

    m.program_budget = pyo.Constraint(m.PROGRAMS, rule=program_budget)
