"""Result tables of a phased plan: the schedule, the cash flows by period, the local-share path.

Only phased instances (with a periods table) get these tables; a snapshot's results are unchanged.
Money is in the instance's money unit; ``_per_year`` is one year's amount in the period,
``cash_flow`` the sum over the period's years (undiscounted) and ``discounted`` its present value
(docs/model.md, "Periods"): the ``discounted`` columns of every period and category, plus the risk
premium, add up to the objective.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.instance.derive import target_rows
from siting.instance.periods import previous_rows
from siting.model.objective import build_years, payment_periods

#: Categories of the cash-flow table, in the order of the costs table (the risk premium is not a
#: cash flow of any period).
FLOW_CATEGORIES = ("capex", "qualification", "operating", "purchases", "freight", "tariffs", "unmet_penalty",
                   "subsidies")


def schedule_table(d, sol, made: np.ndarray, capacity: np.ndarray) -> pd.DataFrame:
    """One row per (site, product, period): modules ordered by then (cumulative) and in the period,
    the period the first of them produces in, the capacity producing and the expected production
    (wafers a year), and whether the site is open by then."""
    m, cal = d.modules, d.calendar
    prev = previous_rows(m)
    inc = sol.modules - np.where(prev >= 0, sol.modules[np.maximum(prev, 0)], 0.0)
    site_pos = {s: j for j, s in enumerate(d.sites["site"])}
    first_ordered: dict = {}
    producing = []
    for k, (s, p, t, lead) in enumerate(zip(m["site"], m["product"], m["period"], m["lead"])):
        if inc[k] > 0.5 and (s, p) not in first_ordered:
            first_ordered[s, p] = t
        start = first_ordered.get((s, p))
        u = cal.first_producing(cal.index(start), lead) if start is not None else None
        producing.append(cal.ids[u] if u is not None else "")
    opened = sol.build_by_period if sol.build_by_period is not None else np.repeat(
        sol.build[:, None], len(d.periods), axis=1)
    return pd.DataFrame({
        "site": m["site"].array, "product": m["product"].array, "period": m["period"].array,
        "start_year": [cal.start[cal.index(t)] for t in m["period"]],
        "site_open": [bool(opened[site_pos[s], cal.index(t)] > 0.5) for s, t in zip(m["site"], m["period"])],
        "modules": sol.modules.astype(int), "modules_ordered": inc.astype(int),
        "first_ordered": [first_ordered.get((s, p), "") for s, p in zip(m["site"], m["product"])],
        "first_producing": producing,
        "capacity_wafers_per_year": capacity, "production_wafers_per_year": made,
    })


def _capital_flows(cal, annual: np.ndarray, period: list[int], life: np.ndarray, n: int,
                   build: np.ndarray | None = None) -> tuple:
    """Per period, the undiscounted and discounted annuities of amounts ordered in ``period`` worth
    ``annual`` a year over ``life`` years from the start of their period (to the horizon's end);
    with ``build`` years, each yearly part of the build an annuity from its own year."""
    cash, disc = np.zeros(n), np.zeros(n)
    build = np.zeros(len(annual)) if build is None else build
    for a, t, L, b in zip(annual, period, life, build):
        if a == 0:
            continue
        for first, part in cal.build_parts(t, b):
            for u in range(t, n):
                for y in range(max(first, cal.start[u]), cal.start[u] + cal.years[u]):
                    share = min(1.0, max(0.0, first + L - y))
                    cash[u] += a * part * share
                    disc[u] += a * part * share * cal.discount(y)
    return cash, disc


def payout_present_values(d, sol) -> np.ndarray:
    """Per instrument row, the present value of its payout as the objective counts it: a
    first-stage payout as the annuity of the capital it pays for from its payment period, a
    production subsidy (expected over the scenarios) in every year of its period."""
    cal, g = d.calendar, d.instruments
    life = dict(zip(d.sites["site"], d.sites["lifetime_years"]))
    paid = payment_periods(d)
    out = np.zeros(len(g))
    for k, (kind, site, period, f) in enumerate(zip(g["kind"], g["site"], g["period"], g["factor"])):
        if kind == "production_subsidy":
            out[k] = sol.payout[k] * f * cal.weight(cal.index(period))
        elif paid[k] is not None:
            out[k] = sol.payout[k] * f * cal.annuity_weight(paid[k], float(life[site]))
    return out


def cash_flow_table(d, sol, probability: dict) -> pd.DataFrame:
    """One row per period: the cash flow of each category (undiscounted, over the period's years)
    and its discounted value; ``cash_flow`` and ``discounted`` are their totals."""
    cal = d.calendar
    n = len(cal.ids)
    t_of = {t: k for k, t in enumerate(cal.ids)}
    cash = {c: np.zeros(n) for c in FLOW_CATEGORIES}
    disc = {c: np.zeros(n) for c in FLOW_CATEGORIES}

    def add(cat, flows):
        cash[cat] += flows[0]
        disc[cat] += flows[1]

    sites = d.sites
    life = sites["lifetime_years"].to_numpy(dtype=float)
    opened = sol.build_by_period if sol.build_by_period is not None else sol.build[:, None]
    first_open = np.column_stack([opened[:, 0], np.diff(opened, axis=1)]) if opened.shape[1] else opened
    for t in range(n):
        add("capex", _capital_flows(cal, sites["crf"].to_numpy() * sites["fixed_cost"].to_numpy() * first_open[:, t],
                                    [t] * len(sites), life, n, build_years(d, sites)))
    m = d.modules
    prev = previous_rows(m)
    inc = sol.modules - np.where(prev >= 0, sol.modules[np.maximum(prev, 0)], 0.0)
    add("capex", _capital_flows(cal, m["crf"].to_numpy() * m["capex_per_module"].to_numpy() * inc,
                                [t_of[t] for t in m["period"]], m["lifetime_years"].to_numpy(), n,
                                build_years(d, m)))
    q = d.qualifications
    qprev = previous_rows(q, ("supplier", "site"))
    qinc = sol.qualify - np.where(qprev >= 0, sol.qualify[np.maximum(qprev, 0)], 0.0)
    pos = {s: j for j, s in enumerate(sites["site"])}
    qsite = [pos[s] for s in q["site"]]
    add("qualification", _capital_flows(cal, sites["crf"].to_numpy()[qsite] * q["cost"].to_numpy() * qinc,
                                        [t_of[t] for t in q["period"]], life[qsite], n))
    g = d.instruments
    first = np.array([k != "production_subsidy" for k in g["kind"]], dtype=bool)
    gsite = [pos[s] for s in g["site"]]
    paid = payment_periods(d)
    at = np.array([p is not None for p in paid], dtype=bool)
    add("subsidies", _capital_flows(cal, -(sol.payout * g["factor"].to_numpy() * first * at),
                                    [p if p is not None else 0 for p in paid], life[gsite], n))
    if sol.repaid is not None:  # shares repaid where continued production fell short, like payouts back
        expected = sol.repaid @ np.array([probability[w] for w in d.scenarios["id"]], dtype=float)
        for u in range(n):
            add("subsidies", _capital_flows(cal, expected[:, u] * g["factor"].to_numpy(), [u] * len(g),
                                            life[gsite], n))
    weight = np.array([cal.weight(t) for t in range(n)])
    years = np.array(cal.years, dtype=float)

    def running(cat, amount, periods):
        per = np.bincount([t_of[t] for t in periods], weights=amount, minlength=n) if len(amount) else np.zeros(n)
        add(cat, (per * years, per * weight))

    r, a, dem = d.routes, d.arcs, d.demand
    pr = np.array([probability[w] for w in r["scenario"]], dtype=float)
    pa = np.array([probability[w] for w in a["scenario"]], dtype=float)
    pd_ = np.array([probability[w] for w in dem["scenario"]], dtype=float)
    running("operating", r["operating"].to_numpy() * sol.produce * pr, r["period"])
    running("freight", r["freight"].to_numpy() * sol.produce * pr, r["period"])
    running("tariffs", r["tariff"].to_numpy() * sol.produce * pr, r["period"])
    running("purchases", a["price"].to_numpy() * sol.purchase * pa, a["period"])
    running("freight", a["freight"].to_numpy() * sol.purchase * pa, a["period"])
    running("tariffs", a["tariff"].to_numpy() * sol.purchase * pa, a["period"])
    running("unmet_penalty", np.nan_to_num(dem["penalty"].to_numpy()) * sol.unmet * pd_, dem["period"])
    # production subsidies: payout is already the expected payout over the scenarios
    running("subsidies", -(sol.payout * g["factor"].to_numpy() * ~first), g["period"])
    out = pd.DataFrame({"period": list(cal.ids), "start_year": list(cal.start), "years": list(cal.years),
                        "discount_weight": weight})
    for c in FLOW_CATEGORIES:
        out[f"{c}_cash_flow"] = cash[c]
    out["cash_flow"] = sum(cash[c] for c in FLOW_CATEGORIES)
    for c in FLOW_CATEGORIES:
        out[f"{c}_discounted"] = disc[c]
    out["discounted"] = sum(disc[c] for c in FLOW_CATEGORIES)
    return out


def local_share_table(d, sol, probability: dict) -> pd.DataFrame:
    """One row per (site, period) with a target: the target, the expected local and total spend a
    year on inputs that count, and the share achieved (NaN where nothing is bought)."""
    lt, a = d.local_targets, d.arcs
    p = np.array([probability[w] for w in a["scenario"]], dtype=float)
    spend = a["price"].to_numpy() * sol.purchase * p * a["counts"].to_numpy(dtype=float)
    local = a["local"].to_numpy(dtype=float)
    rows = []
    for s, t, target, classes in zip(lt["site"], lt["period"], lt["target"], lt["classes"]):
        scoped = target_rows(d, s, t)
        x = spend * scoped
        tot, loc = float(x.sum()), float((x * local).sum())
        rows.append({"site": s, "period": t, "classes": ";".join(classes) or "all",
                     "inputs_counted": ";".join(sorted(set(a["input"].values[scoped]))), "target": float(target),
                     "achieved": loc / tot if tot > 0 else np.nan, "local_spend_per_year": loc,
                     "total_spend_per_year": tot})
    return pd.DataFrame(rows, columns=["site", "period", "classes", "inputs_counted", "target", "achieved",
                                       "local_spend_per_year", "total_spend_per_year"])
