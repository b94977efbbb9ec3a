"""Check a solution against the raw instance tables, independently of the model's own rows.

HiGHS can return a solution that is slightly off (tolerances) or wrong (bad numerics). Every
solution is therefore re-checked here from the instance's own tables: demand met or penalised (1),
capacity and modules (2), inputs balanced (3), supplier capacity (4), purchases only from suppliers
qualified at open sites (5), local share at or above target at open sites (6), shares summing to
one, the largest supplier share and the least number of qualified suppliers (7), concentration
limits (8), exclusions (9), instrument payouts within their terms (10), the firm budget (11), and
the cost breakdown adding up to the objective.

Second-stage rules are checked in every scenario, with the scenario's multipliers recomputed here
row by row from ``scenario_effects`` (not taken from the derived tables); the risk premium of the
objective is checked against the CVaR of the per-scenario costs, and a risk limit against its
measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.instance.finance import crf, grant_element, spread_factor
from siting.instance.scenarios import EXPECTED

#: Relative tolerance of every check (HiGHS's feasibility tolerance is 1e-7 on scaled rows).
RTOL = 1e-6


def _place(table: pd.DataFrame) -> dict:
    """id -> the attributes an effect selects by."""
    zones = table["hazard_zones"] if "hazard_zones" in table.columns else [()] * len(table)
    return {i: {"id": i, "country": c, "region": r, "hazard_zones": z}
            for i, c, r, z in zip(table["id"], table["country"], table["region"], zones)}


class Factors:
    """Each scenario's multiplier on one value, recomputed effect by effect from ``scenario_effects``.

    The expected-value problem's one scenario takes the probability-weighted mean over the scenarios.
    """

    def __init__(self, inst):
        self.effects: dict = {}
        for e in inst["scenario_effects"].itertuples(index=False):
            self.effects.setdefault((e.target, e.scenario), []).append((e.by, e.match, e.item, float(e.multiplier)))
        sc = inst["scenarios"]
        self.probability = dict(zip(sc["id"], sc["probability"]))

    def __call__(self, target: str, scenario: str, place: dict, item: str) -> float:
        if scenario == EXPECTED and EXPECTED not in self.probability:
            return sum(p * self(target, w, place, item) for w, p in self.probability.items())
        out = 1.0
        for by, match, wanted, multiplier in self.effects.get((target, scenario), ()):
            if by == "all":
                hit = True
            elif by == "hazard_zone":
                hit = match in place["hazard_zones"]
            else:
                hit = place[by] == match
            if hit and wanted in ("*", "", None, item):
                out *= multiplier
        return out


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

    scenarios = list(tab["scenarios"]["scenario"])  # the run's own: all, one alone, or the expected-value one
    markets, sites_at, suppliers_at = _place(t["markets"]), _place(t["sites"]), _place(t["suppliers"])
    factor = Factors(inst)

    def shown(key: tuple) -> tuple:
        """A key as messages show it: without its scenario when the run has only one."""
        return key if len(scenarios) > 1 else key[:-1]

    # 1. demand met or penalised, in every scenario
    made = _sums(prod, ("market", "product", "scenario"), "wafers_per_year")
    short = _sums(tab["unmet"], ("market", "product", "scenario"), "unmet_wafers_per_year")
    dem = t["demand"]
    penalty_default = inst.settings.unmet_penalty_per_wafer is not None
    for market, product, wafers, penalty in zip(dem["market"], dem["product"], dem["wafers_per_year"],
                                                dem["penalty_per_wafer"]):
        penalised = not pd.isna(penalty) or penalty_default
        for w in scenarios:
            key = (market, product, w)
            due = wafers * factor("demand", w, markets[market], product)
            got = made.get(key, 0.0) + short.get(key, 0.0)
            if abs(got - due) > RTOL * max(1.0, due):
                out.append(f"demand {shown(key)}: supplied + unmet = {got:.6g}, demand is {due:.6g}")
            if short.get(key, 0.0) > RTOL * max(1.0, due) and not penalised:
                out.append(f"demand {shown(key)}: {short[key]:.6g} wafers unmet but unmet demand is not allowed")

    # 2. capacity and modules
    cap_t = tab["capacity"]
    built = dict(zip(zip(cap_t["site"], cap_t["product"]), cap_t["modules"]))
    mods = t["modules"]
    size = dict(zip(zip(mods["site"], mods["product"]), mods["wafers_per_module"]))
    most = dict(zip(zip(mods["site"], mods["product"]), mods["max_modules"]))
    for (s, p, sc), w in sorted(_sums(prod, ("site", "product", "scenario"), "wafers_per_year").items()):
        if (s, p) not in size:
            out.append(f"capacity ({s}, {p}): {w:.6g} wafers made where the site has no modules for {p}")
            continue
        n = built[(s, p)]
        K = size[(s, p)] * factor("site", sc, sites_at[s], p)
        if not _close_le(w, n * K, n * K):
            at = f"({s}, {p}, {sc})" if len(scenarios) > 1 else f"({s}, {p})"
            out.append(f"capacity {at}: makes {w:.6g} wafers with {n} modules of {K:g}"
                       + (" available" if len(scenarios) > 1 else ""))
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
    for s, p, sc, w in zip(prod["site"], prod["product"], prod["scenario"], prod["wafers_per_year"]):
        for i, u in per_wafer.get(p, ()):
            need[(s, i, sc)] = need.get((s, i, sc), 0.0) + w * u
    bought = _sums(proc, ("site", "input", "scenario"), "units_per_year")
    for key in sorted(set(need) | set(bought)):
        a, b = need.get(key, 0.0), bought.get(key, 0.0)
        if abs(a - b) > RTOL * max(1.0, a):
            out.append(f"inputs {shown(key)}: buys {b:.6g} units, production needs {a:.6g}")

    # 4. supplier capacity, 9. exclusions
    offers = dict(zip(zip(t["offers"]["supplier"], t["offers"]["input"]), t["offers"]["capacity_units_per_year"]))
    for (u, i, sc), q in sorted(_sums(proc, ("supplier", "input", "scenario"), "units_per_year").items()):
        if (u, i) not in offers:
            out.append(f"supplier {(u, i)}: buys {q:.6g} units without an offer")
            continue
        most = offers[(u, i)] * factor("supplier", sc, suppliers_at[u], i)
        if not _close_le(q, most, offers[(u, i)]):
            out.append(f"supplier {shown((u, i, sc))}: buys {q:.6g} units, capacity is {most:.6g}")
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

    # 6. local share at open sites with a target, in every scenario the targets bind in
    price = t["offers"].set_index(["supplier", "input"])["price_per_unit"]
    counts = t["inputs"].set_index("id")["counts_for_local"]
    binds = scenarios if st.local_share_scenarios == "all" else [st.local_share_scenarios, EXPECTED]
    counted = proc[proc["input"].map(counts).fillna(False).astype(bool) & proc["scenario"].isin(binds)]
    value = np.array([q * price[(u, i)] * factor("price", sc, suppliers_at[u], i)
                      for u, i, sc, q in counted[["supplier", "input", "scenario", "units_per_year"]].itertuples(
                          index=False)], dtype=float)
    counted = counted.assign(value=value, local_value=value * counted["local"].values.astype(float))
    shares = counted.groupby(["site", "scenario"])[["value", "local_value"]].sum()
    for _, r in tab["sites"].iterrows():
        target = r["local_target"]
        if r["open"] and not np.isnan(target):
            for (s_, sc), v in shares.loc[shares.index.get_level_values(0) == r["site"]].iterrows():
                if v["value"] > 0 and v["local_value"] < (target - 1e-6) * v["value"]:
                    out.append(f"local share {s_} ({sc}): {v['local_value'] / v['value']:.4%} is below the target "
                               f"{target:.0%}")
        if not r["open"] and r["production_wafers_per_year"] > 1e-6:
            out.append(f"site {r['site']}: makes wafers but is not open")

    out += _check_instruments(inst, tab)

    out += _check_risk(inst, results, objective)
    return out


def _check_risk(inst, results, objective: float | None) -> list[str]:
    """The breakdown adds up to the objective, the scenarios' costs to the breakdown, the risk
    premium to lambda (CVaR - E) of the scenarios' costs, and a risk limit holds."""
    from siting.report.extract import cvar_of

    st = inst.settings
    out = []
    costs, risk = results.costs, results.risk
    scen = results.tables.get("scenarios")
    total = sum(costs.values())

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))

    if objective is not None and st.objective == "cost" and not close(total, objective):
        out.append(f"costs: breakdown sums to {total:.10g}, objective is {objective:.10g}")
    if scen is None or not len(scen):
        return out
    p, c = scen["probability"].values, scen["cost_per_year"].values
    expected = float(np.sum(p * c))
    if not close(expected + costs.get("risk", 0.0), total):
        out.append(f"scenarios: expected cost {expected:.10g} + risk premium {costs.get('risk', 0.0):.10g} "
                   f"differs from the breakdown {total:.10g}")
    premium = st.risk_weight * (cvar_of(c, p, st.cvar_level) - expected)
    # the model may overstate the premium of a plan by a little within the MIP gap (eta need not be
    # optimal in an incumbent), but never understate it
    got = costs.get("risk", 0.0)
    if got < premium - 1e-6 * max(1.0, abs(total)) or got > premium + 1e-4 * max(1.0, abs(total)):
        out.append(f"risk: premium is {costs.get('risk', 0.0):.10g}, lambda (CVaR - E) of the scenarios' costs is "
                   f"{premium:.10g}")
    measure = {"cvar": risk.get("cvar"), "worst": risk.get("worst_case"), "unmet": risk.get("expected_unmet")}
    value = measure[st.risk_measure]
    if st.risk_limit is not None and value is not None and not _close_le(value, st.risk_limit, st.risk_limit):
        out.append(f"risk limit: {st.risk_measure} is {value:.10g}, the limit is {st.risk_limit:.10g}")
    if objective is not None and st.objective == "risk" and value is not None and not close(value, objective):
        out.append(f"risk: the objective is {objective:.10g}, the {st.risk_measure} of the plan is {value:.10g}")
    return out



def _check_instruments(inst, tab: dict) -> list[str]:
    """10. Every payout within its instrument's terms, recomputed from the raw tables."""
    t, st = inst.tables, inst.settings
    out: list[str] = []
    specs = t["instruments"].set_index("id").copy()
    for c in ("rate", "cap", "amount", "per_wafer", "years", "loan_share", "loan_rate", "min_local_share",
              "min_utilisation"):
        specs[c] = pd.to_numeric(specs[c], errors="coerce").astype(float)
    raw_sites = t["sites"].set_index("id")
    sites = tab["sites"].set_index("site")
    # a production subsidy pays on the expected output over the scenarios
    prod = tab["production"]
    prob = prod["scenario"].map(dict(zip(tab["scenarios"]["scenario"], tab["scenarios"]["probability"])))
    weight = prob.astype(float).fillna(1.0)
    made = (prod["wafers_per_year"].astype(float) * weight).groupby([prod["site"], prod["product"]]).sum()
    per_unit = 1.0 / st.money_multiplier
    for _, g in tab["subsidies"].iterrows():
        spec, s, paid = specs.loc[g["instrument"]], g["site"], float(g["payout_total"])
        name = f"instrument {g['instrument']} at {s}"
        scope = [c for c in ("site", "country", "region") if isinstance(spec[c], str) and spec[c]][0]
        if (s if scope == "site" else raw_sites.at[s, scope]) != spec[scope]:
            out.append(f"{name}: the site is not in the instrument's {scope} {spec[scope]}")
        rate = raw_sites.at[s, "discount_rate"]
        rate = st.discount_rate if pd.isna(rate) else float(rate)
        life = raw_sites.at[s, "lifetime_years"]
        life = st.lifetime_years if pd.isna(life) else float(life)
        years = life if pd.isna(spec["years"]) else min(float(spec["years"]), life)
        site = sites.loc[s]
        kind = spec["kind"]
        if kind in ("capex_grant", "tax_credit", "concessional_loan"):
            share, cap = spec["rate"], spec["cap"]
            if kind == "concessional_loan":
                term = life if pd.isna(spec["years"]) else float(spec["years"])
                gift = grant_element(float(spec["loan_rate"]), rate, term)
                share, cap = spec["loan_share"] * gift, cap * gift
            limit = share * site["capex_total"]
            factor = crf(rate, life)
        elif kind == "lump_sum":
            limit, cap, factor = spec["amount"], np.nan, crf(rate, life)
            # paid in full at an open site that takes it, unless a program budget runs short
            in_program = isinstance(spec["program"], str) and bool(spec["program"])
            if bool(site["open"]) and g["taken"] and not in_program and abs(paid - limit) > RTOL * max(1.0, limit):
                out.append(f"{name}: pays {paid:.6g}, due {limit:.6g}")
        else:
            product = spec["product"] if isinstance(spec["product"], str) and spec["product"] else None
            at_site = made[made.index.get_level_values(0) == s]
            wafers = float(at_site.sum()) if product is None else float(at_site.get((s, product), 0.0))
            limit = float(spec["per_wafer"]) * per_unit * years * wafers
            cap, factor = spec["cap"], spread_factor(rate, life, years)
        if not pd.isna(cap):
            limit = min(limit, float(cap))
        if not bool(site["open"]) or not g["taken"]:
            limit = 0.0
        if not _close_le(paid, limit, max(abs(limit), 1.0)):
            out.append(f"{name}: pays {paid:.6g}, its terms allow {limit:.6g}")
        if abs(g["payout_per_year"] - paid * factor) > RTOL * max(1.0, abs(paid)):
            out.append(f"{name}: {g['payout_per_year']:.6g} a year is not {paid:.6g} annualised ({factor:.6g})")
        if paid > RTOL * max(1.0, abs(limit)):
            theta, kappa = spec["min_local_share"], spec["min_utilisation"]
            if not pd.isna(theta) and not pd.isna(site["local_share"]) and site["local_share"] < theta - 1e-6:
                out.append(f"{name}: paid although the local share {site['local_share']:.4%} is below its "
                           f"condition {theta:.0%}")
            capacity = site["capacity_wafers_per_year"]
            if not pd.isna(kappa) and site["production_wafers_per_year"] < kappa * capacity - RTOL * max(1.0, capacity):
                out.append(f"{name}: paid although utilisation {site['production_wafers_per_year'] / capacity:.4%} "
                           f"is below its condition {kappa:.0%}")
    share = tab["subsidies"][tab["subsidies"]["instrument"].map(specs["kind"]).isin(
        ("capex_grant", "tax_credit", "concessional_loan"))]
    for s, paid in share.groupby("site")["payout_total"].sum().items():
        capex = float(sites.at[s, "capex_total"])
        if not _close_le(paid, capex, capex):
            out.append(f"site {s}: grants, credits and loans pay {paid:.6g} in all, more than its capex {capex:.6g}")
    budget = dict(zip(t["programs"]["id"], t["programs"]["budget"])) if "programs" in t else {}
    program = tab["subsidies"]["instrument"].map(specs["program"])
    for p, b in budget.items():
        spent = float(tab["subsidies"].loc[program == p, "payout_total"].sum())
        if not _close_le(spent, b, b):
            out.append(f"program {p}: instruments pay {spent:.6g}, its budget is {b:.6g}")
    return out
