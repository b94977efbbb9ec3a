"""Turn a solved model into tidy tables: one row per thing, units in the column names.

Money columns are in the instance's money unit (``summary.json`` ``units.money``); ``_per_year``
marks annualised amounts, ``_total`` undiscounted ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.instance.periods import previous_rows
from siting.model.families import by_row, rounded
from siting.model.objective import CATEGORIES
from siting.report.periods import cash_flow_table, local_share_table, payout_present_values, schedule_table
from siting.report.resources import resource_table


@dataclass
class Solution:
    """Variable values of a solved model, aligned with the rows of the derived tables.

    One field per variable family read by row (:func:`siting.model.families.by_row`), of the same name.
    """

    build: np.ndarray
    modules: np.ndarray
    qualify: np.ndarray
    payout: np.ndarray  # one entry per instrument row; production subsidies: expected over scenarios
    take: np.ndarray  # 1 where a conditional instrument is taken up (unconditional rows: 1)
    produce: np.ndarray
    purchase: np.ndarray
    unmet: np.ndarray  # one entry per demand row (0 where unmet is not allowed)
    build_by_period: np.ndarray | None = None  # phased: site row x period, open by then (cumulative)
    # phased, repay_share: instrument row x period x scenario, the share of its payout repaid then
    # (money unit; None: no row may repay)
    repaid: np.ndarray | None = None


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
    ids = d.scenarios["id"]
    scenarios = ids.tolist()
    categories = list(dict.fromkeys(c for w in scenarios for c in by_scenario[w]))
    row = _codes(scenarios, d.demand["scenario"].tolist())
    wafers = d.demand["wafers"].to_numpy(dtype=float)
    return pd.DataFrame({
        "scenario": ids.array, "probability": d.scenarios["probability"].to_numpy(dtype=float),
        "cost_per_year": np.array([sum(by_scenario[w].values()) for w in scenarios], dtype=float),
        **{f"{c}_per_year": np.array([by_scenario[w].get(c, np.nan) for w in scenarios], dtype=float)
           for c in categories},
        "demand_wafers_per_year": np.array([wafers[row == k].sum() for k in range(len(scenarios))], dtype=float),
        "unmet_wafers_per_year": np.array([sol.unmet[row == k].sum() for k in range(len(scenarios))], dtype=float),
    })


def risk_summary(table: pd.DataFrame, beta: float) -> dict:
    """Expected, CVaR and worst cost, expected and worst unmet demand, from the per-scenario table."""
    p = table["probability"].to_numpy()
    cost, unmet = table["cost_per_year"].to_numpy(), table["unmet_wafers_per_year"].to_numpy()
    scenario = table["scenario"].tolist()
    return {
        "scenarios": len(table),
        "expected_cost": float(np.sum(p * cost)),
        "cvar": cvar_of(cost, p, beta),
        "cvar_level": beta,
        "worst_case": float(cost.max()),
        "worst_scenario": str(scenario[int(np.argmax(cost))]),
        "expected_unmet": float(np.sum(p * unmet)),
        "worst_unmet": float(unmet.max()),
        "worst_unmet_scenario": str(scenario[int(np.argmax(unmet))]),
    }


def read_solution(sm) -> Solution:
    """Read the variable values currently held in the Pyomo model.

    Every variable that follows a derived table's rows (:func:`siting.model.families.by_row`) is
    read into the :class:`Solution` field of its name; a row without a column takes the family's
    default. Production subsidies (``wafer_payout[k, w]``) are added to ``payout`` weighted by the
    scenarios' probabilities; a phased model's ``build_early`` gives ``build_by_period``.
    """
    m, d = sm.model, sm.data

    def vals(var, index) -> np.ndarray:
        return np.array([var[k].value or 0.0 for k in index], dtype=float)

    values: dict[str, np.ndarray] = {}
    for fam in by_row():
        var = getattr(m, fam.name)
        out = np.full(len(getattr(d, str(fam.table))), fam.default, dtype=np.float64)
        index = list(var.index_set())
        out[index] = vals(var, index)
        values[fam.name] = out
    prob = dict(zip(d.scenarios["id"], d.scenarios["probability"]))
    for (k, w) in m.WAFER_PAYOUTS:
        values["payout"][k] += prob[w] * (m.wafer_payout[k, w].value or 0.0)
    if len(getattr(m, "REPAY", ())):
        t_of = {t: n for n, t in enumerate(d.periods)}
        w_of = {w: n for n, w in enumerate(d.scenarios["id"])}
        repaid = np.zeros((len(d.instruments), len(d.periods), len(w_of)))
        for (k, u, w) in m.REPAY:
            repaid[k, t_of[u], w_of[w]] = m.repayment[k, u, w].value or 0.0
        values["repaid"] = repaid
    if len(d.periods) > 1:
        values["build_by_period"] = np.column_stack(
            [vals(m.build_early, [(j, t) for j in range(len(d.sites))]) for t in d.periods[:-1]] + [values["build"]])
    return clean_solution(**values)


def clean_solution(**values: np.ndarray) -> Solution:
    """A :class:`Solution` from raw values by family: integers rounded, values within HiGHS's
    tolerance of zero set to zero (every variable is non-negative). ``payout`` is already the
    expected payout of each instrument row (production subsidies weighted by scenario probability)."""
    x = {k: np.where(v < 1e-9, 0.0, v) for k, v in values.items()}
    for k in (*rounded(), "build_by_period"):
        if k in x:
            x[k] = np.round(x[k])
    return Solution(**x)


def _group_sum(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weights`` by group number (-1: in no group). Group-bys on numbers, not pandas':
    a sweep tabulates every case, and on a plan's few rows a pandas group-by costs a millisecond."""
    keep = codes >= 0
    return np.bincount(codes[keep], weights=np.asarray(weights, dtype=float)[keep], minlength=n)


def _codes(labels: list, values: list) -> np.ndarray:
    """Position of each of ``values`` in ``labels`` (-1: not there). On a plan's few rows a dict
    does this several times faster than pandas' indexers on its string columns."""
    position = {x: k for k, x in enumerate(labels)}
    return np.fromiter((position.get(v, -1) for v in values), dtype=np.int64, count=len(values))


def _weights(probability: dict[str, float], scenarios: list) -> np.ndarray:
    """The probability of each of ``scenarios`` (NaN for one the run does not have)."""
    return np.array([probability.get(w, np.nan) for w in scenarios], dtype=float)


def open_sites(results: Results) -> list[tuple[str, float]]:
    """(site, capacity in wafers a year) of every open site, in the order of the sites table."""
    t = results.tables["sites"]
    return [(s, float(c)) for s, c, o in zip(t["site"], t["capacity_wafers_per_year"], t["open"]) if o]


def _local_share(value: np.ndarray, local: np.ndarray, site: np.ndarray, n: int) -> np.ndarray:
    """Share of ``value`` bought from local suppliers (``local``) by site (``site``: row in the
    sites table of each purchase), NaN where nothing is bought."""
    total = _group_sum(site, value, n)
    from_local = _group_sum(site, value * local, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, from_local / np.where(total > 0, total, 1.0), np.nan)


def extract(sm, costs: dict[str, float]) -> Results:
    """Build the result tables from the values in the model."""
    return tabulate(sm.data, read_solution(sm), costs, sm.costs.scenario_values())


def tabulate(d, sol: Solution, costs: dict[str, float], by_scenario: dict[str, dict[str, float]]) -> Results:
    """Build the result tables of ``sol`` from the derived tables ``d``, the cost breakdown and
    each scenario's cost by category (:meth:`CostRegistry.scenario_values`).

    A sweep tabulates every case, and on a plan's few rows each pandas operation (even reading a
    column) costs more than its arithmetic: every column is read once, rows are filtered as arrays,
    and each table is built once from arrays.
    """
    costs = tidy_costs(costs)
    by_scenario = {w: tidy_costs(c) for w, c in by_scenario.items()}
    site_ids = d.sites["site"].tolist()
    n_sites = len(site_ids)
    probability = dict(zip(d.scenarios["id"].tolist(), d.scenarios["probability"].tolist()))

    m, r = d.modules, d.routes
    module_site = m["site"]
    site_of_module = _codes(site_ids, module_site.tolist())
    modules = sol.modules.astype(int)
    if d.calendar is not None and d.calendar.phased:
        # capacity producing in each row's period: ordered in time, with its ramp share
        cap = d.capacity
        module_capacity = _group_sum(cap["module"].to_numpy(dtype=np.int64),
                                     cap["coef"].to_numpy(dtype=float) * sol.modules[cap["order"].to_numpy(dtype=int)],
                                     len(m))
    else:
        module_capacity = modules * m["wafers_per_module"].to_numpy()
    # the sites table shows the horizon's last period (a snapshot's one period)
    last = np.asarray(m["period"].to_numpy() == d.periods[-1], dtype=float)
    # production is the expected output over the scenarios
    route_scenario = r["scenario"]
    made = _group_sum(r["module"].to_numpy(dtype=np.int64),
                      sol.produce * _weights(probability, route_scenario.tolist()), len(m))
    capacity = pd.DataFrame({
        "site": module_site.array, "product": m["product"].array, "period": m["period"].array, "modules": modules,
        "max_modules": m["max_modules"].to_numpy(), "capacity_wafers_per_year": module_capacity,
        "production_wafers_per_year": made,
        "utilisation": made / np.where(module_capacity > 0, module_capacity, np.nan),
    }, index=m.index)

    g = d.instruments
    paid_at = g["site"]
    site_row = _codes(site_ids, paid_at.tolist())
    kind = g["kind"]
    grant_element = g["grant_element"].to_numpy(dtype=float)
    payout_per_year = sol.payout * g["factor"].to_numpy()
    subsidies = pd.DataFrame({
        "instrument": g["id"].values, "kind": kind.values, "site": paid_at.values,
        "provider_country": g["provider_country"].values, "conditional": g["conditional"].values,
        "taken": (sol.take > 0.5) & sol.build[site_row].astype(bool),
        "payout_total": sol.payout, "payout_per_year": payout_per_year,
        # a loan's payout is its grant element (a present value); the principal lent is repaid
        "loan_principal_total": np.where(np.array([k == "concessional_loan" for k in kind.tolist()], dtype=bool),
                                         sol.payout / np.where(grant_element > 0, grant_element, np.nan), np.nan),
        # the period the row is offered in, and its payout's present value as the objective counts
        # it (on a snapshot the payout a year: every discount weight is 1)
        "period": g["period"].to_numpy(),
        "payout_present_value": (payout_present_values(d, sol) if d.calendar is not None else payout_per_year),
    })
    repayments = None
    if sol.repaid is not None:  # repay_share: what was repaid (expected), and its present value
        expected = sol.repaid @ _weights(probability, d.scenarios["id"].tolist())
        life = dict(zip(d.sites["site"], d.sites["lifetime_years"]))
        subsidies["repaid_total"] = expected.sum(axis=1)
        subsidies["repaid_present_value"] = [
            sum(expected[k, u] * f * d.calendar.annuity_weight(u, float(life[s])) for u in range(len(d.periods)))
            for k, (s, f) in enumerate(zip(g["site"], g["factor"]))]
        k, u, w = np.nonzero(sol.repaid)
        repayments = pd.DataFrame({
            "instrument": g["id"].to_numpy()[k], "site": g["site"].to_numpy()[k], "period": g["period"].to_numpy()[k],
            "period_short": np.asarray(d.periods, dtype=object)[u],
            "scenario": d.scenarios["id"].to_numpy()[w], "repaid": sol.repaid[k, u, w]})

    a = d.arcs
    arc_columns = {c: a[c] for c in ("supplier", "input", "site", "period", "scenario")}
    arc_keys = {c: col.tolist() for c, col in arc_columns.items() if c != "supplier"}
    arc_site = _codes(site_ids, arc_keys["site"])
    price, local = a["price"].to_numpy(dtype=float), a["local"].to_numpy()
    arc_last = np.asarray(a["period"].to_numpy() == d.periods[-1], dtype=float)
    counted = (price * sol.purchase * a["counts"].to_numpy(dtype=float) * _weights(probability, arc_keys["scenario"])
               * arc_last)
    targets = dict(zip(d.local_targets["site"].tolist(), d.local_targets["target"].tolist()))
    fixed_cost, capex_per_module = d.sites["fixed_cost"].to_numpy(), m["capex_per_module"].to_numpy()
    prev = previous_rows(m)
    ordered = sol.modules - np.where(prev >= 0, sol.modules[np.maximum(prev, 0)], 0.0)
    capex = [fixed_cost[j] * sol.build[j]
             + float(np.sum(capex_per_module[site_of_module == j] * ordered[site_of_module == j]))
             for j in range(n_sites)]
    site_capacity = _group_sum(site_of_module, module_capacity * last, n_sites)
    site_made = _group_sum(site_of_module, made * last, n_sites)
    sites = pd.DataFrame({
        "site": d.sites["site"].values, "country": d.sites["country"].values,
        "region": d.sites["region"].values, "open": sol.build.astype(bool),
        "capex_total": capex, "capacity_wafers_per_year": site_capacity, "production_wafers_per_year": site_made,
        "utilisation": site_made / np.where(site_capacity > 0, site_capacity, np.nan),
        "local_share": _local_share(counted, local.astype(float), arc_site, n_sites),
        "local_target": [targets.get(s, np.nan) for s in site_ids],
        "subsidy_total": _group_sum(site_row, sol.payout, n_sites),
        "subsidy_per_year": _group_sum(site_row, payout_per_year, n_sites),
    })

    made_here = sol.produce > 1e-9
    produce = sol.produce[made_here]
    production = pd.DataFrame({
        "site": r["site"].array[made_here], "market": r["market"].array[made_here],
        "product": r["product"].array[made_here], "period": r["period"].array[made_here],
        "scenario": route_scenario.array[made_here], "wafers_per_year": produce,
        "distance_km": r["distance_km"].to_numpy()[made_here],
        "operating_per_year": r["operating"].to_numpy()[made_here] * produce,
        "freight_per_year": r["freight"].to_numpy()[made_here] * produce,
        "tariffs_per_year": r["tariff"].to_numpy()[made_here] * produce,
    })

    # each arc's share of what its site buys of its input in its period and scenario
    group = arc_site
    for col in ("input", "period", "scenario"):
        labels = list(dict.fromkeys(arc_keys[col]))
        group = group * (len(labels) + 1) + _codes(labels, arc_keys[col])
    _, group = np.unique(group, return_inverse=True)
    totals = _group_sum(group, sol.purchase, int(group.max()) + 1 if len(group) else 0)[group]
    with np.errstate(invalid="ignore", divide="ignore"):
        mix = np.where(totals > 0, sol.purchase / np.where(totals > 0, totals, 1.0), np.nan)
    bought = sol.purchase > 1e-9
    units = sol.purchase[bought]
    keys = {c: col.array[bought] for c, col in arc_columns.items()}
    procurement = pd.DataFrame({
        **keys, "units_per_year": units, "local": local[bought], "distance_km": a["distance_km"].to_numpy()[bought],
        "purchases_per_year": price[bought] * units, "freight_per_year": a["freight"].to_numpy()[bought] * units,
        "tariffs_per_year": a["tariff"].to_numpy()[bought] * units, "share": mix[bought],
    })
    supplier_mix = pd.DataFrame({
        "site": keys["site"], "input": keys["input"], "supplier": keys["supplier"], "period": keys["period"],
        "scenario": keys["scenario"], "share": mix[bought], "local": local[bought],
    })

    q = d.qualifications
    qual = pd.DataFrame({
        "supplier": q["supplier"].array, "site": q["site"].array, "period": q["period"].array,
        "qualified": sol.qualify.astype(bool), "cost_total": q["cost"].to_numpy(),
    }, index=q.index)

    dem = d.demand
    unmet = pd.DataFrame({
        "market": dem["market"].array, "product": dem["product"].array, "period": dem["period"].array,
        "scenario": dem["scenario"].array, "demand_wafers_per_year": dem["wafers"].to_numpy(),
        "unmet_wafers_per_year": sol.unmet, "penalty_per_year": np.nan_to_num(dem["penalty"].to_numpy()) * sol.unmet,
    }, index=dem.index)
    cost_table = pd.DataFrame({"category": list(CATEGORIES), "cost_per_year": [costs[c] for c in CATEGORIES]})
    scen = scenario_costs(d, sol, by_scenario)
    st = d.instance.settings
    risk = {**risk_summary(scen, st.cvar_level), "risk_weight": st.risk_weight}
    tables = {
        "sites": sites, "capacity": capacity, "production": production, "procurement": procurement,
        "supplier_mix": supplier_mix, "qualification": qual, "unmet": unmet, "subsidies": subsidies,
        "costs": cost_table, "scenarios": scen,
    }
    if d.resources is not None and len(d.resources):
        tables["resources"] = resource_table(d, sol)
    if d.calendar is not None and d.calendar.phased:
        tables["schedule"] = schedule_table(d, sol, made, module_capacity)
        tables["periods"] = cash_flow_table(d, sol, probability)
        tables["local_share"] = local_share_table(d, sol, probability)
    if repayments is not None:
        tables["repayments"] = repayments
    return Results(solution=sol, costs=costs, risk=risk, tables={k: tidy_table(t) for k, t in tables.items()})


#: Relative size below which an amount is round-off of the solve, not a value: the objective is
#: scaled before HiGHS sees it, and scaling back leaves dust such as -2.1e-11 in a category that is
#: zero. Far below any solver tolerance (1e-6 and up), so no real amount is ever cleared.
DUST = 1e-9


def tidy_costs(costs: dict[str, float]) -> dict[str, float]:
    """A cost breakdown without round-off dust or negative zeros: an amount within ``DUST`` times
    the breakdown's size (the sum of the amounts' magnitudes, at least 1) of zero is 0.0."""
    size = max(sum(abs(v) for v in costs.values() if np.isfinite(v)), 1.0)
    return {k: (0.0 if abs(v) <= DUST * size else v + 0.0) for k, v in costs.items()}


def tidy_table(table: pd.DataFrame) -> pd.DataFrame:
    """A result table whose float columns have no round-off dust (values within ``DUST`` times the
    column's largest magnitude, at least 1, of zero) and no negative zeros; NaN stays NaN."""
    for col in table.columns:
        values = table[col].to_numpy()
        if values.dtype.kind != "f" or not len(values):
            continue
        with np.errstate(invalid="ignore"):
            size = max(float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0, 1.0)
            table[col] = np.where(np.abs(values) <= DUST * size, 0.0, values) + 0.0
    return table


def expected_mix(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each input's supplier shares at each open site, in the horizon's last period, over the
    scenarios' expected purchases (one scenario: the plan's own shares). Columns ``site``,
    ``input``, ``supplier``, ``local``, ``share``."""
    proc = tables.get("procurement")
    if proc is None or len(proc) == 0:
        return pd.DataFrame(columns=["site", "input", "supplier", "local", "share"])
    if "period" in proc.columns and proc["period"].nunique() > 1:
        proc = proc[proc["period"] == proc["period"].iloc[-1]]
    scen = tables["scenarios"]
    p = dict(zip(scen["scenario"], scen["probability"]))
    units = proc.assign(units=proc["units_per_year"] * proc["scenario"].map(p))
    units = units.groupby(["site", "input", "supplier", "local"], sort=False, as_index=False)["units"].sum()
    return units.assign(share=units["units"] / units.groupby(["site", "input"])["units"].transform("sum"))
