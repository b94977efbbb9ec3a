"""Turn a solved model into tidy tables: one row per thing, units in the column names.

Money columns are in the instance's money unit (``summary.json`` ``units.money``); ``_per_year``
marks annualised amounts, ``_total`` undiscounted ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.model.objective import CATEGORIES


@dataclass
class Solution:
    """Variable values of a solved model, aligned with the rows of the derived tables."""

    build: np.ndarray
    modules: np.ndarray
    qualify: np.ndarray
    payout: np.ndarray  # one entry per instrument row; production subsidies: expected over scenarios
    take: np.ndarray  # 1 where a conditional instrument is taken up (unconditional rows: 1)
    produce: np.ndarray
    purchase: np.ndarray
    unmet: np.ndarray  # one entry per demand row (0 where unmet is not allowed)


@dataclass
class Results:
    """Everything a solve reports, as tables plus the cost breakdown.

    ``costs`` holds each category's expected value over the scenarios (their sum is the
    objective); ``risk`` the risk figures computed from the per-scenario table
    (:func:`risk_summary`).
    """

    solution: Solution
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    risk: dict = field(default_factory=dict)


def cvar_of(values, probability, beta: float) -> float:
    """CVaR at level ``beta`` of a discrete distribution: min over eta of
    eta + 1/(1 - beta) sum_w p[w] max(values[w] - eta, 0).

    The function is piecewise linear and convex in eta with its kinks at the values, so its
    minimum is at one of them: evaluated there, not through the model's own rows.

    Examples
    --------
    >>> cvar_of([10.0, 20.0], [0.5, 0.5], 0.5)   # the worse half: 20
    20.0
    >>> cvar_of([10.0, 20.0], [0.5, 0.5], 0.0)   # beta = 0: the mean
    15.0
    """
    c = np.asarray(values, dtype=float)
    p = np.asarray(probability, dtype=float)
    return float(min(eta + np.sum(p * np.maximum(c - eta, 0.0)) / (1.0 - beta) for eta in c))


def scenario_costs(sm, sol: Solution) -> pd.DataFrame:
    """One row per scenario: probability, the plan's total annual cost in it by category, unmet wafers."""
    d = sm.data
    by_scenario = sm.costs.scenario_values()
    dem = d.demand
    rows = []
    for w, p in zip(d.scenarios["id"], d.scenarios["probability"]):
        at = dem["scenario"].values == w
        cost = by_scenario[w]
        rows.append({"scenario": w, "probability": float(p), "cost_per_year": sum(cost.values()),
                     **{f"{c}_per_year": v for c, v in cost.items()},
                     "demand_wafers_per_year": float(dem["wafers"].values[at].sum()),
                     "unmet_wafers_per_year": float(sol.unmet[at].sum())})
    return pd.DataFrame(rows)


def risk_summary(table: pd.DataFrame, beta: float) -> dict:
    """Expected, CVaR and worst cost, expected and worst unmet demand, from the per-scenario table."""
    p = table["probability"].values
    cost, unmet = table["cost_per_year"].values, table["unmet_wafers_per_year"].values
    return {
        "scenarios": len(table),
        "expected_cost": float(np.sum(p * cost)),
        "cvar": cvar_of(cost, p, beta),
        "cvar_level": beta,
        "worst_case": float(cost.max()),
        "worst_scenario": str(table["scenario"].values[int(np.argmax(cost))]),
        "expected_unmet": float(np.sum(p * unmet)),
        "worst_unmet": float(unmet.max()),
        "worst_unmet_scenario": str(table["scenario"].values[int(np.argmax(unmet))]),
    }


def read_solution(sm) -> Solution:
    """Read the variable values currently held in the Pyomo model."""
    m, d = sm.model, sm.data

    def vals(var, n):
        x = np.array([var[k].value or 0.0 for k in range(n)], dtype=float)
        # every variable is non-negative: values within HiGHS's tolerance of zero are zero
        return np.where(x < 1e-9, 0.0, x)

    unmet = np.zeros(len(d.demand))
    for k in m.UNMET:
        unmet[k] = max(m.unmet[k].value or 0.0, 0.0)
    unmet[unmet < 1e-9] = 0.0
    payout = np.zeros(len(d.instruments))
    for k in m.INSTRUMENTS:
        payout[k] = m.payout[k].value or 0.0
    prob = dict(zip(d.scenarios["id"], d.scenarios["probability"]))
    for (k, w) in m.WAFER_PAYOUTS:
        payout[k] += prob[w] * (m.wafer_payout[k, w].value or 0.0)
    payout[payout < 1e-9] = 0.0
    take = np.ones(len(d.instruments))
    for k in m.TAKEUP:
        take[k] = round(m.take[k].value or 0.0)
    return Solution(
        build=np.round(vals(m.build, len(d.sites))), modules=np.round(vals(m.modules, len(d.modules))),
        qualify=np.round(vals(m.qualify, len(d.qualifications))), payout=payout, take=take,
        produce=vals(m.produce, len(d.routes)), purchase=vals(m.purchase, len(d.arcs)), unmet=unmet,
    )


def scenario_weights(d, scenario: pd.Series) -> np.ndarray:
    """The probability of each row's scenario."""
    return scenario.map(dict(zip(d.scenarios["id"], d.scenarios["probability"]))).values.astype(float)


def local_share_by_site(d, purchase: np.ndarray) -> pd.Series:
    """Value share of counting purchases from local suppliers, by site (NaN where nothing is bought),
    over the expected purchases of the scenarios."""
    arcs = d.arcs
    value = arcs["price"].values * purchase * arcs["counts"].values * scenario_weights(d, arcs["scenario"])
    frame = pd.DataFrame({"site": arcs["site"].values, "value": value, "local": value * arcs["local"].values})
    sums = frame.groupby("site")[["value", "local"]].sum()
    share = sums["local"] / sums["value"].where(sums["value"] > 0)
    return share.reindex(d.sites["site"])


def extract(sm, costs: dict[str, float]) -> Results:
    """Build the result tables from the values in the model."""
    d = sm.data
    sol = read_solution(sm)
    site_row = {s: j for j, s in enumerate(d.sites["site"])}

    mods = d.modules[["site", "product", "period", "wafers_per_module", "max_modules"]].copy()
    mods["modules"] = sol.modules.astype(int)
    mods["capacity_wafers_per_year"] = mods["modules"] * mods["wafers_per_module"]
    # production is the expected output over the scenarios
    made = pd.DataFrame({"module": d.routes["module"].values,
                         "w": sol.produce * scenario_weights(d, d.routes["scenario"])}).groupby("module")["w"].sum()
    mods["production_wafers_per_year"] = made.reindex(range(len(mods))).fillna(0.0).values
    mods["utilisation"] = mods["production_wafers_per_year"] / mods["capacity_wafers_per_year"].where(
        mods["capacity_wafers_per_year"] > 0)
    capacity = mods[["site", "product", "period", "modules", "max_modules", "capacity_wafers_per_year",
                     "production_wafers_per_year", "utilisation"]]

    g = d.instruments
    subsidies = pd.DataFrame({
        "instrument": g["id"].values, "kind": g["kind"].values, "site": g["site"].values,
        "provider_country": g["provider_country"].values, "conditional": g["conditional"].values,
        "taken": (sol.take > 0.5) & sol.build[[site_row[s] for s in g["site"]]].astype(bool),
        "payout_total": sol.payout, "payout_per_year": sol.payout * g["factor"].values,
        # a loan's payout is its grant element (a present value); the principal lent is repaid
        "loan_principal_total": np.where(g["kind"].values == "concessional_loan",
                                         sol.payout / g["grant_element"].where(g["grant_element"] > 0).values, np.nan),
    })

    share = local_share_by_site(d, sol.purchase)
    targets = dict(zip(d.local_targets["site"], d.local_targets["target"]))
    capex = []
    for j, s in enumerate(d.sites["site"]):
        rows = d.modules["site"].values == s
        capex.append(d.sites.at[j, "fixed_cost"] * sol.build[j]
                     + float(np.sum(d.modules["capex_per_module"].values[rows] * sol.modules[rows])))
    by_site = capacity.groupby("site")[["capacity_wafers_per_year", "production_wafers_per_year"]].sum()
    sites = pd.DataFrame({
        "site": d.sites["site"].values, "country": d.sites["country"].values,
        "region": d.sites["region"].values, "open": sol.build.astype(bool),
        "capex_total": capex,
        "capacity_wafers_per_year": by_site["capacity_wafers_per_year"].reindex(d.sites["site"]).fillna(0).values,
        "production_wafers_per_year": by_site["production_wafers_per_year"].reindex(d.sites["site"]).fillna(0).values,
    })
    sites["utilisation"] = sites["production_wafers_per_year"] / sites["capacity_wafers_per_year"].where(
        sites["capacity_wafers_per_year"] > 0)
    sites["local_share"] = share.values
    sites["local_target"] = [targets.get(s, np.nan) for s in sites["site"]]
    paid = subsidies.groupby("site")[["payout_total", "payout_per_year"]].sum()
    sites["subsidy_total"] = paid["payout_total"].reindex(sites["site"]).fillna(0.0).values
    sites["subsidy_per_year"] = paid["payout_per_year"].reindex(sites["site"]).fillna(0.0).values

    r = d.routes
    production = pd.DataFrame({
        "site": r["site"], "market": r["market"], "product": r["product"], "period": r["period"],
        "scenario": r["scenario"], "wafers_per_year": sol.produce, "distance_km": r["distance_km"],
        "operating_per_year": r["operating"] * sol.produce, "freight_per_year": r["freight"] * sol.produce,
        "tariffs_per_year": r["tariff"] * sol.produce,
    })
    production = production[production["wafers_per_year"] > 1e-9].reset_index(drop=True)

    a = d.arcs
    procurement = pd.DataFrame({
        "supplier": a["supplier"], "input": a["input"], "site": a["site"], "period": a["period"],
        "scenario": a["scenario"], "units_per_year": sol.purchase, "local": a["local"],
        "distance_km": a["distance_km"], "purchases_per_year": a["price"] * sol.purchase,
        "freight_per_year": a["freight"] * sol.purchase, "tariffs_per_year": a["tariff"] * sol.purchase,
    })
    totals = procurement.groupby(["site", "input", "period", "scenario"])["units_per_year"].transform("sum")
    procurement["share"] = procurement["units_per_year"] / totals.where(totals > 0)
    procurement = procurement[procurement["units_per_year"] > 1e-9].reset_index(drop=True)
    supplier_mix = procurement[["site", "input", "supplier", "period", "scenario", "share", "local"]]

    qual = d.qualifications[["supplier", "site", "period"]].copy()
    qual["qualified"] = sol.qualify.astype(bool)
    qual["cost_total"] = d.qualifications["cost"].values

    dem = d.demand
    unmet = pd.DataFrame({
        "market": dem["market"], "product": dem["product"], "period": dem["period"],
        "scenario": dem["scenario"], "demand_wafers_per_year": dem["wafers"],
        "unmet_wafers_per_year": sol.unmet,
        "penalty_per_year": np.nan_to_num(dem["penalty"].values) * sol.unmet,
    })
    cost_table = pd.DataFrame({"category": list(CATEGORIES), "cost_per_year": [costs[c] for c in CATEGORIES]})
    scen = scenario_costs(sm, sol)
    st = d.instance.settings
    risk = {**risk_summary(scen, st.cvar_level), "risk_weight": st.risk_weight}
    return Results(solution=sol, costs=costs, risk=risk, tables={
        "sites": sites, "capacity": capacity, "production": production, "procurement": procurement,
        "supplier_mix": supplier_mix, "qualification": qual, "unmet": unmet, "subsidies": subsidies,
        "costs": cost_table, "scenarios": scen,
    })


def shadow_prices(sm, compiled, duals: np.ndarray | None, solution: Solution | None = None) -> pd.DataFrame:
    """Duals of local-share, capacity and supplier-capacity rows of the fixed-integer LP.

    ``dual`` is d(cost per year)/d(right-hand side) as HiGHS reports it (money unit). ``value``
    restates it for a planner, in the unit its ``unit`` column names: for local share the money per
    year one more percentage point of target costs; for capacity rows the currency per year one
    more wafer (or input unit) of capacity saves. Capacity rows are reported only where modules are
    built: at a closed site every flow is pinned to zero by several rows at once, and the dual of
    any one of them is an arbitrary split of a degenerate vertex, not a price.
    """
    cols = ["constraint", "site", "product", "supplier", "input", "scenario", "dual", "value", "unit", "meaning"]
    if duals is None or compiled is None:
        return pd.DataFrame(columns=cols)
    m, d = sm.model, sm.data
    st = d.instance.settings
    row_of = {id(row[0]): n for n, row in enumerate(compiled.rows) if row is not None}
    sol = solution or read_solution(sm)
    is_open = dict(zip(d.sites["site"], sol.build > 0.5))
    out = []
    share = dict(zip(d.local_targets["site"], d.local_targets["target"]))
    for (s, t, w) in m.LOCAL:
        n = row_of.get(id(m.local_share[s, t, w]))
        if n is None or not is_open[s]:
            continue
        rows = ((d.arcs["site"].values == s) & d.arcs["counts"].values & (d.arcs["period"].values == t)
                & (d.arcs["scenario"].values == w))
        total = float(np.sum(d.arcs["price"].values[rows] * sol.purchase[rows]))
        y = float(duals[n]) / sm.row_scale["local_share"][s, t, w]
        out.append(dict(constraint="local_share", site=s, scenario=w, dual=y, value=y * total * 0.01,
                        unit=f"{st.money_label} per year per point",
                        meaning=f"cost of raising the local-share target above {share[s]:.0%} by one point"))
    for (k, w) in m.CAPACITY:
        n = row_of.get(id(m.capacity[k, w]))
        if n is None or sol.modules[k] < 0.5:
            continue
        y = float(duals[n])
        out.append(dict(constraint="capacity", site=d.modules.at[k, "site"], product=d.modules.at[k, "product"],
                        scenario=w, dual=y + 0.0, value=-y * d.money + 0.0, unit=f"{st.currency} per wafer per year",
                        meaning="saving from one more wafer per year of built capacity"))
    for (o, w) in m.SUPPLY:
        n = row_of.get(id(m.supplier_capacity[o, w]))
        if n is None:
            continue
        y = float(duals[n])
        out.append(dict(constraint="supplier_capacity", supplier=d.offers.at[o, "supplier"],
                        input=d.offers.at[o, "input"], scenario=w, dual=y + 0.0, value=-y * d.money + 0.0,
                        unit=f"{st.currency} per unit per year",
                        meaning="saving from one more unit per year of the supplier's capacity"))
    return pd.DataFrame(out, columns=cols)
