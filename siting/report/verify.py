"""Check a solution against the raw instance tables, independently of the model's own rows.

HiGHS can return a solution that is slightly off (tolerances) or wrong (bad numerics). Every
solution is therefore re-checked here from the instance's own tables: demand met or penalised (1),
capacity and modules (2), inputs balanced (3), supplier capacity (4), purchases only from suppliers
qualified at open sites (5), local share at or above target at open sites (6), shares summing to
one, the largest supplier share and the least number of qualified suppliers (7), concentration
limits (8), exclusions (9), instrument payouts within their terms (10), the firm budget (11), and
the cost breakdown adding up to the objective.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Relative tolerance of every check (HiGHS's feasibility tolerance is 1e-7 on scaled rows).
RTOL = 1e-6


def _close_le(lhs: float, rhs: float, scale: float) -> bool:
    return lhs <= rhs + RTOL * max(1.0, abs(scale))


def _sums(frame: pd.DataFrame, keys: tuple[str, ...], column: str) -> dict:
    """Sum of ``column`` by ``keys`` as a dict (a plain loop: on the few rows of a plan this is
    several times faster than a pandas group-by, and verify runs once per sweep case)."""
    out: dict = {}
    for *key, x in zip(*(frame[k] for k in keys), frame[column]):
        out[tuple(key)] = out.get(tuple(key), 0.0) + x
    return out


def verify(inst, results, objective: float | None) -> list[str]:
    """Return a readable line for every rule the solution breaks (empty: all hold)."""
    t = inst.tables
    tab = results.tables
    out: list[str] = []
    prod = tab["production"]
    proc = tab["procurement"]
    sites_open = dict(zip(tab["sites"]["site"], tab["sites"]["open"]))

    # 1. demand met or penalised
    made = _sums(prod, ("market", "product"), "wafers_per_year")
    short = _sums(tab["unmet"], ("market", "product"), "unmet_wafers_per_year")
    dem = t["demand"]
    for key, wafers, penalty in zip(zip(dem["market"], dem["product"]), dem["wafers_per_year"],
                                    dem["penalty_per_wafer"]):
        got = made.get(key, 0.0) + short.get(key, 0.0)
        if abs(got - wafers) > RTOL * max(1.0, wafers):
            out.append(f"demand {key}: supplied + unmet = {got:.6g}, demand is {wafers:.6g}")
        penalised = not pd.isna(penalty) or inst.settings.unmet_penalty_per_wafer is not None
        if short.get(key, 0.0) > RTOL * max(1.0, wafers) and not penalised:
            out.append(f"demand {key}: {short[key]:.6g} wafers unmet but unmet demand is not allowed")

    # 2. capacity and modules
    cap_t = tab["capacity"]
    built = dict(zip(zip(cap_t["site"], cap_t["product"]), cap_t["modules"]))
    mods = t["modules"]
    size = dict(zip(zip(mods["site"], mods["product"]), mods["wafers_per_module"]))
    most = dict(zip(zip(mods["site"], mods["product"]), mods["max_modules"]))
    by_sp = _sums(prod, ("site", "product"), "wafers_per_year")
    for (s, p), w in by_sp.items():
        if (s, p) not in size:
            out.append(f"capacity ({s}, {p}): {w:.6g} wafers made where the site has no modules for {p}")
            continue
        n = built[(s, p)]
        K = size[(s, p)]
        if not _close_le(w, n * K, n * K):
            out.append(f"capacity ({s}, {p}): makes {w:.6g} wafers with {n} modules of {K:g}")
    for (s, p), n in built.items():
        if n > most[(s, p)]:
            out.append(f"modules ({s}, {p}): {n} built, at most {most[(s, p)]}")
        if n > 0 and not sites_open[s]:
            out.append(f"modules ({s}, {p}): {n} built at a site that is not open")

    # 3. inputs balanced against the bill of materials
    bom = t["bom"]
    per_wafer: dict = {}
    for p, i, u in zip(bom["product"], bom["input"], bom["units_per_wafer"]):
        per_wafer.setdefault(p, []).append((i, u))
    need: dict = {}
    for s, p, w in zip(prod["site"], prod["product"], prod["wafers_per_year"]):
        for i, u in per_wafer.get(p, ()):
            need[(s, i)] = need.get((s, i), 0.0) + w * u
    bought = _sums(proc, ("site", "input"), "units_per_year")
    for key in set(need) | set(bought):
        a, b = need.get(key, 0.0), bought.get(key, 0.0)
        if abs(a - b) > RTOL * max(1.0, a):
            out.append(f"inputs {key}: buys {b:.6g} units, production needs {a:.6g}")

    # 4. supplier capacity, 9. exclusions
    offers = dict(zip(zip(t["offers"]["supplier"], t["offers"]["input"]), t["offers"]["capacity_units_per_year"]))
    for key, q in sorted(_sums(proc, ("supplier", "input"), "units_per_year").items()):
        if key not in offers:
            out.append(f"supplier {key}: buys {q:.6g} units without an offer")
        elif not _close_le(q, offers[key], offers[key]):
            out.append(f"supplier {key}: buys {q:.6g} units, capacity is {offers[key]:.6g}")
    suppliers = t["suppliers"].set_index("id")
    by_pair = sorted(_sums(proc, ("supplier", "site"), "units_per_year").items())
    bought = pd.DataFrame([(u, s, q) for (u, s), q in by_pair], columns=["supplier", "site", "units_per_year"])
    country = suppliers["country"].reindex(bought["supplier"]).values
    flags = suppliers["flags"].reindex(bought["supplier"]).values
    for _, rule in t["exclusions"].iterrows():
        at_site = (bought["site"].values == rule["site"]) | (rule["site"] in ("*", "", None))
        hit = np.zeros(len(bought), dtype=bool)
        if rule["supplier_country"]:
            hit |= country == rule["supplier_country"]
        if rule["supplier_flag"]:
            hit |= np.array([rule["supplier_flag"] in f for f in flags], dtype=bool)
        for _, r in bought[at_site & hit].iterrows():
            out.append(f"exclusion {rule['id']}: {r['site']} buys from {r['supplier']}")

    # 5. purchases only from suppliers qualified at open sites
    qual = tab["qualification"]
    qualified = set(zip(qual.loc[qual["qualified"], "supplier"], qual.loc[qual["qualified"], "site"]))
    for u, s in zip(bought["supplier"], bought["site"]):
        if (u, s) not in qualified:
            out.append(f"qualification: {s} buys from {u}, which is not qualified there")
        if not sites_open.get(s, False):
            out.append(f"qualification: {s} buys from {u} but is not open")

    # shares sum to one; 7. diversification
    for key, total in sorted(_sums(proc, ("site", "input", "scenario"), "share").items()):
        if abs(total - 1.0) > 1e-6:
            out.append(f"supplier mix {key}: shares sum to {total:.6g}")
    inputs = t["inputs"].set_index("id")
    st = inst.settings
    sigma = inputs["max_supplier_share"].reindex(proc["input"]).to_numpy(dtype=float)
    if st.max_supplier_share is not None:
        sigma = np.where(np.isnan(sigma), st.max_supplier_share, sigma)
    for k in np.flatnonzero(proc["share"].to_numpy(dtype=float) > sigma + 1e-6):
        r = proc.iloc[k]
        out.append(f"supplier share ({r['site']}, {r['input']}): {r['supplier']} has {r['share']:.4%}, "
                   f"at most {sigma[k]:.0%} allowed")
    cap_t = tab["capacity"]
    made_at = {(s, p) for s, p, n in zip(cap_t["site"], cap_t["product"], cap_t["max_modules"]) if n > 0}
    uses: dict = {}
    for p, i in zip(t["bom"]["product"], t["bom"]["input"]):
        uses.setdefault(i, set()).add(p)
    offered: dict = {}
    for u, i in zip(t["offers"]["supplier"], t["offers"]["input"]):
        offered.setdefault(i, set()).add(u)
    for i, critical, k_input in zip(inputs.index, inputs["critical"], inputs["min_suppliers"]):
        k = k_input if not pd.isna(k_input) else st.min_suppliers
        if not critical or k is None:
            continue
        for s, is_open in sites_open.items():
            if not is_open or not any((s, p) in made_at for p in uses.get(i, ())):
                continue
            n = sum((u, s) in qualified for u in offered.get(i, ()))
            if n < k:
                out.append(f"min suppliers ({s}, {i}): {n} qualified, at least {k} required")

    # 8. concentration, 11. firm budget
    site_rows = tab["sites"].set_index("site")
    total_cap = float(site_rows["capacity_wafers_per_year"].sum())
    sites_t = t["sites"].set_index("id")
    for _, rule in t["concentration"].iterrows():
        gt, g = rule["group_type"], rule["group"]
        members = [s for s in sites_t.index
                   if (g in sites_t.at[s, "hazard_zones"] if gt == "hazard_zone" else sites_t.at[s, gt] == g)]
        inside = float(site_rows["capacity_wafers_per_year"].reindex(members).sum())
        if not _close_le(inside, rule["max_share"] * total_cap, total_cap):
            out.append(f"concentration {gt}={g}: {inside:.6g} of {total_cap:.6g} wafers, "
                       f"at most {rule['max_share']:.0%} allowed")
    if st.firm_budget is not None:
        spent = float(site_rows["capex_total"].sum())
        if not _close_le(spent, st.firm_budget, st.firm_budget):
            out.append(f"firm budget: capex {spent:.6g}, budget {st.firm_budget:.6g}")

    # 6. local share at open sites with a target
    for _, r in tab["sites"].iterrows():
        target = r["local_target"]
        if r["open"] and not np.isnan(target) and not np.isnan(r["local_share"]):
            if r["local_share"] < target - 1e-6:
                out.append(f"local share {r['site']}: {r['local_share']:.4%} is below the target {target:.0%}")
        if not r["open"] and r["production_wafers_per_year"] > 1e-6:
            out.append(f"site {r['site']}: makes wafers but is not open")

    # 10. instruments within their terms
    terms = t["instruments"].set_index("id")[["kind", "rate", "cap", "amount"]].to_dict("index")
    capex_at = dict(zip(tab["sites"]["site"], tab["sites"]["capex_total"]))
    subs = tab["subsidies"]
    for name, site, paid in zip(subs["instrument"], subs["site"], subs["payout_total"]):
        spec = terms[name]
        capex = capex_at[site]
        is_open = bool(sites_open[site])
        if spec["kind"] == "capex_grant":
            limit = spec["rate"] * capex
            if not pd.isna(spec["cap"]):
                limit = min(limit, spec["cap"])
            if not _close_le(paid, limit, max(capex, 1.0)):
                out.append(f"instrument {name}: pays {paid:.6g}, its terms allow {limit:.6g}")
        elif spec["kind"] == "lump_sum":
            due = spec["amount"] if is_open else 0.0
            if abs(paid - due) > RTOL * max(1.0, spec["amount"]):
                out.append(f"instrument {name}: pays {paid:.6g}, due {due:.6g}")

    # the cost breakdown adds up to the objective
    if objective is not None:
        total = sum(results.costs.values())
        if abs(total - objective) > 1e-6 * max(1.0, abs(objective)):
            out.append(f"costs: breakdown sums to {total:.10g}, objective is {objective:.10g}")
    return out

