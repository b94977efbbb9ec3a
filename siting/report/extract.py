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


def scenario_costs(d, sol: Solution, by_scenario: dict[str, dict[str, float]]) -> pd.DataFrame:
    """One row per scenario: probability, the plan's total annual cost in it by category
    (``by_scenario``: scenario -> category -> cost), unmet wafers."""
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

    def vals(var, index) -> np.ndarray:
        return np.array([var[k].value or 0.0 for k in index], dtype=float)

    unmet = np.zeros(len(d.demand))
    unmet[list(m.UNMET)] = vals(m.unmet, m.UNMET)
    payout = np.zeros(len(d.instruments))
    payout[list(m.INSTRUMENTS)] = vals(m.payout, m.INSTRUMENTS)
    prob = dict(zip(d.scenarios["id"], d.scenarios["probability"]))
    for (k, w) in m.WAFER_PAYOUTS:
        payout[k] += prob[w] * (m.wafer_payout[k, w].value or 0.0)
    take = np.ones(len(d.instruments))
    take[list(m.TAKEUP)] = vals(m.take, m.TAKEUP)
    return clean_solution(
        build=vals(m.build, range(len(d.sites))), modules=vals(m.modules, range(len(d.modules))),
        qualify=vals(m.qualify, range(len(d.qualifications))), payout=payout, take=take,
        produce=vals(m.produce, range(len(d.routes))), purchase=vals(m.purchase, range(len(d.arcs))), unmet=unmet)


def clean_solution(**values: np.ndarray) -> Solution:
    """A :class:`Solution` from raw values by family: integers rounded, values within HiGHS's
    tolerance of zero set to zero (every variable is non-negative). ``payout`` is already the
    expected payout of each instrument row (production subsidies weighted by scenario probability)."""
    x = {k: np.where(v < 1e-9, 0.0, v) for k, v in values.items()}
    for k in ("build", "modules", "qualify", "take"):
        x[k] = np.round(x[k])
    return Solution(**x)


def _group_sum(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weights`` by group number (-1: in no group). Group-bys on numbers, not pandas':
    a sweep tabulates every case, and on a plan's few rows a pandas group-by costs a millisecond."""
    keep = codes >= 0
    return np.bincount(codes[keep], weights=np.asarray(weights, dtype=float)[keep], minlength=n)


def _site_codes(d, sites) -> np.ndarray:
    return pd.Index(d.sites["site"]).get_indexer(sites)


def scenario_weights(d, scenario: pd.Series) -> np.ndarray:
    """The probability of each row's scenario."""
    return scenario.map(dict(zip(d.scenarios["id"], d.scenarios["probability"]))).values.astype(float)


def open_sites(results: Results) -> list[tuple[str, float]]:
    """(site, capacity in wafers a year) of every open site, in the order of the sites table."""
    t = results.tables["sites"]
    return [(s, float(c)) for s, c, o in zip(t["site"], t["capacity_wafers_per_year"], t["open"]) if o]


def local_share_by_site(d, purchase: np.ndarray) -> pd.Series:
    """Value share of counting purchases from local suppliers, by site (NaN where nothing is bought),
    over the expected purchases of the scenarios."""
    arcs = d.arcs
    value = arcs["price"].to_numpy(dtype=float) * purchase * arcs["counts"].to_numpy(dtype=float) \
        * scenario_weights(d, arcs["scenario"])
    codes, n = _site_codes(d, arcs["site"]), len(d.sites)
    total = _group_sum(codes, value, n)
    local = _group_sum(codes, value * arcs["local"].to_numpy(dtype=float), n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, local / np.where(total > 0, total, 1.0), np.nan)
    return pd.Series(share, index=pd.Index(d.sites["site"], name="site"))


def extract(sm, costs: dict[str, float]) -> Results:
    """Build the result tables from the values in the model."""
    return tabulate(sm.data, read_solution(sm), costs, sm.costs.scenario_values())


def tabulate(d, sol: Solution, costs: dict[str, float], by_scenario: dict[str, dict[str, float]]) -> Results:
    """Build the result tables of ``sol`` from the derived tables ``d``, the cost breakdown and
    each scenario's cost by category (:meth:`CostRegistry.scenario_values`)."""
    site_row = _site_codes(d, d.instruments["site"])

    mods = d.modules[["site", "product", "period", "wafers_per_module", "max_modules"]].copy()
    mods["modules"] = sol.modules.astype(int)
    mods["capacity_wafers_per_year"] = mods["modules"] * mods["wafers_per_module"]
    # production is the expected output over the scenarios
    mods["production_wafers_per_year"] = _group_sum(d.routes["module"].to_numpy(dtype=np.int64),
                                                    sol.produce * scenario_weights(d, d.routes["scenario"]),
                                                    len(mods))
    mods["utilisation"] = mods["production_wafers_per_year"] / mods["capacity_wafers_per_year"].where(
        mods["capacity_wafers_per_year"] > 0)
    capacity = mods[["site", "product", "period", "modules", "max_modules", "capacity_wafers_per_year",
                     "production_wafers_per_year", "utilisation"]]

    g = d.instruments
    subsidies = pd.DataFrame({
        "instrument": g["id"].values, "kind": g["kind"].values, "site": g["site"].values,
        "provider_country": g["provider_country"].values, "conditional": g["conditional"].values,
        "taken": (sol.take > 0.5) & sol.build[site_row].astype(bool),
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
    module_site = _site_codes(d, capacity["site"])
    sites = pd.DataFrame({
        "site": d.sites["site"].values, "country": d.sites["country"].values,
        "region": d.sites["region"].values, "open": sol.build.astype(bool),
        "capex_total": capex,
        "capacity_wafers_per_year": _group_sum(module_site, capacity["capacity_wafers_per_year"], len(d.sites)),
        "production_wafers_per_year": _group_sum(module_site, capacity["production_wafers_per_year"], len(d.sites)),
    })
    sites["utilisation"] = sites["production_wafers_per_year"] / sites["capacity_wafers_per_year"].where(
        sites["capacity_wafers_per_year"] > 0)
    sites["local_share"] = share.values
    sites["local_target"] = [targets.get(s, np.nan) for s in sites["site"]]
    paid_at = _site_codes(d, subsidies["site"])
    sites["subsidy_total"] = _group_sum(paid_at, subsidies["payout_total"], len(d.sites))
    sites["subsidy_per_year"] = _group_sum(paid_at, subsidies["payout_per_year"], len(d.sites))

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
    group = np.zeros(len(a), dtype=np.int64)
    for col in ("site", "input", "period", "scenario"):
        codes, labels = pd.factorize(a[col])
        group = group * (len(labels) + 1) + codes
    _, group = np.unique(group, return_inverse=True)
    totals = _group_sum(group, sol.purchase, int(group.max()) + 1 if len(group) else 0)[group]
    with np.errstate(invalid="ignore", divide="ignore"):
        procurement["share"] = np.where(totals > 0, sol.purchase / np.where(totals > 0, totals, 1.0), np.nan)
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
    scen = scenario_costs(d, sol, by_scenario)
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
