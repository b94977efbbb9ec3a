"""Check a solution against the raw instance tables, independently of the model's own rows.

HiGHS can return a solution that is slightly off (tolerances) or wrong (bad numerics). Every
solution is therefore re-checked here from the instance's own tables: demand met or penalised,
capacity and supplier capacity respected, inputs balanced, shares summing to one, local share at
or above target at open sites, instrument payouts within their terms, exclusions obeyed, and the
cost breakdown adding up to the objective.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Relative tolerance of every check (HiGHS's feasibility tolerance is 1e-7 on scaled rows).
RTOL = 1e-6


def _close_le(lhs: float, rhs: float, scale: float) -> bool:
    return lhs <= rhs + RTOL * max(1.0, abs(scale))


def verify(inst, results, objective: float | None) -> list[str]:
    """Return a readable line for every rule the solution breaks (empty: all hold)."""
    t = inst.tables
    tab = results.tables
    out: list[str] = []
    prod = tab["production"]
    proc = tab["procurement"]
    sites_open = dict(zip(tab["sites"]["site"], tab["sites"]["open"]))

    # 1. demand met or penalised
    made = prod.groupby(["market", "product"])["wafers_per_year"].sum()
    short = tab["unmet"].set_index(["market", "product"])["unmet_wafers_per_year"]
    for _, r in t["demand"].iterrows():
        key = (r["market"], r["product"])
        got = made.get(key, 0.0) + short.get(key, 0.0)
        if abs(got - r["wafers_per_year"]) > RTOL * max(1.0, r["wafers_per_year"]):
            out.append(f"demand {key}: supplied + unmet = {got:.6g}, demand is {r['wafers_per_year']:.6g}")
        penalised = not pd.isna(r["penalty_per_wafer"]) or inst.settings.unmet_penalty_per_wafer is not None
        if short.get(key, 0.0) > RTOL * max(1.0, r["wafers_per_year"]) and not penalised:
            out.append(f"demand {key}: {short[key]:.6g} wafers unmet but unmet demand is not allowed")

    # 2. capacity and modules
    cap = tab["capacity"].set_index(["site", "product"])
    mods = t["modules"].set_index(["site", "product"])
    by_sp = prod.groupby(["site", "product"])["wafers_per_year"].sum()
    for (s, p), w in by_sp.items():
        if (s, p) not in mods.index:
            out.append(f"capacity ({s}, {p}): {w:.6g} wafers made where the site has no modules for {p}")
            continue
        n = cap.at[(s, p), "modules"]
        K = mods.at[(s, p), "wafers_per_module"]
        if not _close_le(w, n * K, n * K):
            out.append(f"capacity ({s}, {p}): makes {w:.6g} wafers with {n} modules of {K:g}")
    for (s, p), r in cap.iterrows():
        if r["modules"] > mods.at[(s, p), "max_modules"]:
            out.append(f"modules ({s}, {p}): {r['modules']} built, at most {mods.at[(s, p), 'max_modules']}")
        if r["modules"] > 0 and not sites_open[s]:
            out.append(f"modules ({s}, {p}): {r['modules']} built at a site that is not open")

    # 3. inputs balanced against the bill of materials
    bom = t["bom"]
    need = prod.merge(bom, on="product")
    need = (need["wafers_per_year"] * need["units_per_wafer"]).groupby([need["site"], need["input"]]).sum()
    bought = proc.groupby(["site", "input"])["units_per_year"].sum()
    for key in set(need.index) | set(bought.index):
        a, b = need.get(key, 0.0), bought.get(key, 0.0)
        if abs(a - b) > RTOL * max(1.0, a):
            out.append(f"inputs {key}: buys {b:.6g} units, production needs {a:.6g}")

    # 4. supplier capacity, 9. exclusions
    offers = t["offers"].set_index(["supplier", "input"])["capacity_units_per_year"]
    for key, q in proc.groupby(["supplier", "input"])["units_per_year"].sum().items():
        if key not in offers.index:
            out.append(f"supplier {key}: buys {q:.6g} units without an offer")
        elif not _close_le(q, offers[key], offers[key]):
            out.append(f"supplier {key}: buys {q:.6g} units, capacity is {offers[key]:.6g}")
    suppliers = t["suppliers"].set_index("id")
    for _, rule in t["exclusions"].iterrows():
        for _, r in proc.iterrows():
            if rule["site"] not in ("*", "", None) and r["site"] != rule["site"]:
                continue
            sup = suppliers.loc[r["supplier"]]
            if (rule["supplier_country"] and sup["country"] == rule["supplier_country"]) or (
                    rule["supplier_flag"] and rule["supplier_flag"] in sup["flags"]):
                out.append(f"exclusion {rule['id']}: {r['site']} buys from {r['supplier']}")

    # shares sum to one; 7. diversification
    sums = proc.groupby(["site", "input", "scenario"])["share"].sum()
    for key, total in sums.items():
        if abs(total - 1.0) > 1e-6:
            out.append(f"supplier mix {key}: shares sum to {total:.6g}")

    # 6. local share at open sites with a target
    for _, r in tab["sites"].iterrows():
        target = r["local_target"]
        if r["open"] and not np.isnan(target) and not np.isnan(r["local_share"]):
            if r["local_share"] < target - 1e-6:
                out.append(f"local share {r['site']}: {r['local_share']:.4%} is below the target {target:.0%}")
        if not r["open"] and r["production_wafers_per_year"] > 1e-6:
            out.append(f"site {r['site']}: makes wafers but is not open")

    # 10. instruments within their terms
    inst_rows = t["instruments"].set_index("id")
    caps = tab["sites"].set_index("site")
    for _, g in tab["subsidies"].iterrows():
        spec = inst_rows.loc[g["instrument"]]
        capex = caps.at[g["site"], "capex_total"]
        paid = g["payout_total"]
        is_open = bool(caps.at[g["site"], "open"])
        if spec["kind"] == "capex_grant":
            limit = spec["rate"] * capex
            if not pd.isna(spec["cap"]):
                limit = min(limit, spec["cap"])
            if not _close_le(paid, limit, max(capex, 1.0)):
                out.append(f"instrument {g['instrument']}: pays {paid:.6g}, its terms allow {limit:.6g}")
        elif spec["kind"] == "lump_sum":
            due = spec["amount"] if is_open else 0.0
            if abs(paid - due) > RTOL * max(1.0, spec["amount"]):
                out.append(f"instrument {g['instrument']}: pays {paid:.6g}, due {due:.6g}")

    # the cost breakdown adds up to the objective
    if objective is not None:
        total = sum(results.costs.values())
        if abs(total - objective) > 1e-6 * max(1.0, abs(objective)):
            out.append(f"costs: breakdown sums to {total:.10g}, objective is {objective:.10g}")
    return out


def summarise_checks(violations: list[str]) -> dict:
    """The ``checks`` block of summary.json."""
    return {"passed": not violations, "violations": violations}

