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


def _columns(frame: pd.DataFrame) -> dict[str, list]:
    """Every column of ``frame`` as a plain list, in one conversion of the whole table.

    verify runs once per sweep case on tables of a few dozen rows, where a pandas operation (even
    reading one column) costs more than the rule it serves: the rules are plain loops over lists.
    """
    return dict(zip(frame.columns, frame.to_numpy(dtype=object).T.tolist()))


class _Lists(dict):
    """Table name -> its columns as lists (:func:`_columns`), each table converted when first read."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        super().__init__()
        self.tables = tables

    def __missing__(self, name: str) -> dict[str, list]:
        self[name] = _columns(self.tables[name])
        return self[name]


def _number(value) -> float:
    """A cell of a typed number column as a float (NaN where empty)."""
    return np.nan if pd.isna(value) else float(value)


def _total(values) -> float:
    """Sum ignoring NaN, added as pandas' ``Series.sum`` adds (so limits compare the same numbers)."""
    return float(np.nansum(np.asarray(values, dtype=float)))


def _place(table: dict[str, list]) -> dict:
    """id -> the attributes an effect selects by (``table``: columns as lists)."""
    zones = table.get("hazard_zones", [()] * len(table["id"]))
    return {i: {"id": i, "country": c, "region": r, "hazard_zones": z}
            for i, c, r, z in zip(table["id"], table["country"], table["region"], zones)}


class Factors:
    """Each scenario's multiplier on one value, recomputed effect by effect from ``scenario_effects``.

    The expected-value problem's one scenario takes the probability-weighted mean over the scenarios.
    """

    def __init__(self, inst):
        self.effects: dict = {}
        e, sc = _columns(inst["scenario_effects"]), _columns(inst["scenarios"])
        for target, scenario, by, match, item, multiplier in zip(e["target"], e["scenario"], e["by"], e["match"],
                                                                  e["item"], e["multiplier"]):
            self.effects.setdefault((target, scenario), []).append((by, match, item, float(multiplier)))
        self.probability = dict(zip(sc["id"], sc["probability"]))

    def __call__(self, target: str, scenario: str, place: dict, item: str) -> float:
        """The multiplier on ``item`` of ``target`` at ``place`` in ``scenario`` (expected over the
        scenarios for the expected value)."""
        if scenario == EXPECTED and EXPECTED not in self.probability:
            return sum(p * self(target, w, place, item) for w, p in self.probability.items())
        out = 1.0
        for by, match, wanted, multiplier in self.effects.get((target, scenario), ()):
            if by == "all":
                hit = True
            elif by == "hazard_zone":
                hit = match in place["hazard_zones"]
            else:
                hit = place.get(by) == match
            if hit and wanted in ("*", "", None, item):
                out *= multiplier
        return out


def _close_le(lhs: float, rhs: float, scale: float) -> bool:
    return lhs <= rhs + RTOL * max(1.0, abs(scale))


def _sums(keys, values) -> dict:
    """Sum of ``values`` by key (``keys``: one tuple per value), in the order the keys first appear."""
    out: dict = {}
    for key, x in zip(keys, values):
        out[key] = out.get(key, 0.0) + x
    return out


def verify(inst, results, objective: float | None) -> list[str]:
    """Return a readable line for every rule the solution breaks (empty: all hold): the rules
    below, and the site resources (:func:`siting.report.verify_resources.verify_resources`)."""
    from siting.report.verify_resources import verify_resources  # imports this module

    return _verify(inst, results, objective) + verify_resources(inst, results)


def _verify(inst, results, objective: float | None) -> list[str]:
    """Every rule but the site resources.

    A phased instance (a periods table) is checked period by period
    (:func:`siting.report.verify_periods.verify_phased`); with one period the rules below hold as well.
    """
    if not inst["periods"].empty:
        from siting.report.verify_periods import verify_phased  # imports this module

        phased = verify_phased(inst, results, objective)
        if len(inst["periods"]) > 1:  # the breakdown, the scenarios' NPVs and the risk premium
            return phased + _check_risk(inst, results, objective)
        return phased + _verify_snapshot(inst, results, objective)
    return _verify_snapshot(inst, results, objective)


def _verify_snapshot(inst, results, objective: float | None) -> list[str]:
    raw, res = _Lists(inst.tables), _Lists(results.tables)
    st = inst.settings
    out: list[str] = []
    prod, proc, sites = res["production"], res["procurement"], res["sites"]
    sites_open = dict(zip(sites["site"], sites["open"]))

    scenarios = res["scenarios"]["scenario"]  # the run's own: all, one alone, or the expected-value one
    markets, sites_at, suppliers_at = _place(raw["markets"]), _place(raw["sites"]), _place(raw["suppliers"])
    factor = Factors(inst)

    def shown(key: tuple) -> tuple:
        """A key as messages show it: without its scenario when the run has only one."""
        return key if len(scenarios) > 1 else key[:-1]

    # 1. demand met or penalised, in every scenario
    made = _sums(zip(prod["market"], prod["product"], prod["scenario"]), prod["wafers_per_year"])
    unmet = res["unmet"]
    short = _sums(zip(unmet["market"], unmet["product"], unmet["scenario"]), unmet["unmet_wafers_per_year"])
    dem = raw["demand"]
    penalty_default = st.unmet_penalty_per_wafer is not None
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
    cap_t = res["capacity"]
    built = dict(zip(zip(cap_t["site"], cap_t["product"]), cap_t["modules"]))
    mods = raw["modules"]
    size = dict(zip(zip(mods["site"], mods["product"]), mods["wafers_per_module"]))
    most = dict(zip(zip(mods["site"], mods["product"]), mods["max_modules"]))
    for (s, p, sc), w in sorted(_sums(zip(prod["site"], prod["product"], prod["scenario"]),
                                      prod["wafers_per_year"]).items()):
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
    bom = raw["bom"]
    per_wafer: dict = {}
    for p, i, u in zip(bom["product"], bom["input"], bom["units_per_wafer"]):
        per_wafer.setdefault(p, []).append((i, u))
    need: dict = {}
    for s, p, sc, w in zip(prod["site"], prod["product"], prod["scenario"], prod["wafers_per_year"]):
        for i, u in per_wafer.get(p, ()):
            need[(s, i, sc)] = need.get((s, i, sc), 0.0) + w * u
    bought = _sums(zip(proc["site"], proc["input"], proc["scenario"]), proc["units_per_year"])
    for key in sorted(set(need) | set(bought)):
        a, b = need.get(key, 0.0), bought.get(key, 0.0)
        if abs(a - b) > RTOL * max(1.0, a):
            out.append(f"inputs {shown(key)}: buys {b:.6g} units, production needs {a:.6g}")

    # 4. supplier capacity, 9. exclusions
    offer = raw["offers"]
    offers = dict(zip(zip(offer["supplier"], offer["input"]), offer["capacity_units_per_year"]))
    for (u, i, sc), q in sorted(_sums(zip(proc["supplier"], proc["input"], proc["scenario"]),
                                      proc["units_per_year"]).items()):
        if (u, i) not in offers:
            out.append(f"supplier {(u, i)}: buys {q:.6g} units without an offer")
            continue
        most = offers[(u, i)] * factor("supplier", sc, suppliers_at[u], i)
        if not _close_le(q, most, offers[(u, i)]):
            out.append(f"supplier {shown((u, i, sc))}: buys {q:.6g} units, capacity is {most:.6g}")
    flags = dict(zip(raw["suppliers"]["id"], raw["suppliers"]["flags"]))
    # a pair buys when it buys something: a row of 0 units (a value cleared as round-off when the
    # results were extracted) is not a purchase
    pairs = [key for key, q in sorted(_sums(zip(proc["supplier"], proc["site"]), proc["units_per_year"]).items())
             if q > 0]
    excl = raw["exclusions"]
    for rule, country, flag, where in zip(excl["id"], excl["supplier_country"], excl["supplier_flag"], excl["site"]):
        everywhere = where in ("*", "", None)
        for u, s in pairs:
            if (everywhere or s == where) and ((country and suppliers_at.get(u, {}).get("country") == country)
                                               or (flag and flag in flags[u])):
                out.append(f"exclusion {rule}: {s} buys from {u}")

    # 5. purchases only from suppliers qualified at open sites
    qual = res["qualification"]
    qualified = {(u, s) for u, s, q in zip(qual["supplier"], qual["site"], qual["qualified"]) if q}
    for u, s in pairs:
        if (u, s) not in qualified:
            out.append(f"qualification: {s} buys from {u}, which is not qualified there")
        if not sites_open.get(s, False):
            out.append(f"qualification: {s} buys from {u} but is not open")

    # shares sum to one; 7. diversification
    for key, total in sorted(_sums(zip(proc["site"], proc["input"], proc["scenario"]), proc["share"]).items()):
        if abs(total - 1.0) > 1e-6:
            out.append(f"supplier mix {key}: shares sum to {total:.6g}")
    inputs = raw["inputs"]
    largest = dict(zip(inputs["id"], inputs["max_supplier_share"]))
    for u, i, s, x in zip(proc["supplier"], proc["input"], proc["site"], proc["share"]):
        sigma = _number(largest.get(i))
        if st.max_supplier_share is not None and np.isnan(sigma):
            sigma = st.max_supplier_share
        if x > sigma + 1e-6:
            out.append(f"supplier share ({s}, {i}): {u} has {x:.4%}, at most {sigma:.0%} allowed")
    made_at = {(s, p) for s, p, n in zip(cap_t["site"], cap_t["product"], cap_t["max_modules"]) if n > 0}
    uses: dict = {}
    for p, i in zip(bom["product"], bom["input"]):
        uses.setdefault(i, set()).add(p)
    offered: dict = {}
    for u, i in zip(offer["supplier"], offer["input"]):
        offered.setdefault(i, set()).add(u)
    for i, critical, k_input in zip(inputs["id"], inputs["critical"], inputs["min_suppliers"]):
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
    capacity = dict(zip(sites["site"], sites["capacity_wafers_per_year"]))
    total_cap = _total(sites["capacity_wafers_per_year"])
    rules = raw["concentration"]
    for gt, g, max_share in zip(rules["group_type"], rules["group"], rules["max_share"]):
        members = [s for s, at in sites_at.items() if (g in at["hazard_zones"] if gt == "hazard_zone" else at[gt] == g)]
        inside = _total([capacity.get(s, np.nan) for s in members])
        if not _close_le(inside, max_share * total_cap, total_cap):
            out.append(f"concentration {gt}={g}: {inside:.6g} of {total_cap:.6g} wafers, "
                       f"at most {max_share:.0%} allowed")
    if st.firm_budget is not None:
        spent = _total(sites["capex_total"])
        if not _close_le(spent, st.firm_budget, st.firm_budget):
            out.append(f"firm budget: capex {spent:.6g}, budget {st.firm_budget:.6g}")

    # 6. local share at open sites with a target, in every scenario the targets bind in
    price = dict(zip(zip(offer["supplier"], offer["input"]), offer["price_per_unit"]))
    counts = dict(zip(inputs["id"], inputs["counts_for_local"]))
    # a target scoped to classes of inputs counts only those (the site's first target row)
    scope = {s: set(c or ()) for s, c in zip(reversed(raw["local_targets"]["site"]),
                                              reversed(raw["local_targets"]["classes"]))}
    klass = dict(zip(inputs["id"], inputs["class"]))
    binds = scenarios if st.local_share_scenarios == "all" else [st.local_share_scenarios, EXPECTED]
    shares: dict = {}  # (site, scenario) -> [value, local value] of the purchases that count
    for u, i, s, sc, q, local in zip(proc["supplier"], proc["input"], proc["site"], proc["scenario"],
                                     proc["units_per_year"], proc["local"]):
        if scope.get(s) and klass.get(i) not in scope[s]:
            continue
        if counts.get(i, False) and sc in binds and (u, i) in price:  # without an offer: reported above
            value = q * price[(u, i)] * factor("price", sc, suppliers_at[u], i)
            total = shares.setdefault((s, sc), [0.0, 0.0])
            for k, x in enumerate((value, value * float(local))):
                if not np.isnan(x):  # a purchase of no number leaves the share of the others checked
                    total[k] += x
    by_site: dict = {}
    for (s, sc), v in sorted(shares.items()):
        by_site.setdefault(s, []).append((sc, *v))
    targets = dict(zip(raw["local_targets"]["site"], raw["local_targets"]["target"]))  # the instance's, not the model's
    for s, is_open, wafers in zip(sites["site"], sites["open"], sites["production_wafers_per_year"]):
        target = float(targets.get(s, np.nan))
        if is_open and not np.isnan(target):
            for sc, value, local_value in by_site.get(s, ()):
                if value > 0 and local_value < (target - 1e-6) * value:
                    out.append(f"local share {s} ({sc}): {local_value / value:.4%} is below the target "
                               f"{target:.0%}")
        if not is_open and wafers > 1e-6:
            out.append(f"site {s}: makes wafers but is not open")

    out += _check_instruments(raw, res, st)

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



#: The columns of an instrument's terms that hold numbers.
TERMS = ("rate", "cap", "amount", "per_wafer", "years", "loan_share", "loan_rate", "min_local_share", "min_utilisation")
#: Instruments whose payouts together may not exceed a site's capex.
CAPEX_SHARES = ("capex_grant", "tax_credit", "concessional_loan")


def _check_instruments(raw: _Lists, res: _Lists, st) -> list[str]:
    """10. Every payout within its instrument's terms, recomputed from the raw tables (``raw``: the
    instance's, ``res``: the results', as lists)."""
    out: list[str] = []
    g = raw["instruments"]
    terms = {c: g[c] for c in ("kind", "site", "country", "region", "product", "program")}
    terms.update({c: [_number(v) for v in g[c]] for c in TERMS})
    specs = {i: {c: v[k] for c, v in terms.items()} for k, i in enumerate(g["id"])}
    raw_sites = {i: {"country": c, "region": r, "discount_rate": dr, "lifetime_years": lt}
                 for i, c, r, dr, lt in zip(*(raw["sites"][c] for c in ("id", "country", "region", "discount_rate",
                                                                         "lifetime_years")))}
    names = ("capex_total", "open", "local_share", "capacity_wafers_per_year", "production_wafers_per_year")
    sites = {s: dict(zip(names, row)) for s, *row in zip(res["sites"]["site"], *(res["sites"][c] for c in names))}
    # a production subsidy pays on the expected output over the scenarios
    probability = dict(zip(res["scenarios"]["scenario"], res["scenarios"]["probability"]))
    made: dict = {}  # (site, product) -> wafers a year
    prod = res["production"]
    for s, p, sc, w in zip(prod["site"], prod["product"], prod["scenario"], prod["wafers_per_year"]):
        weight = _number(probability.get(sc))
        wafers = float(w) * (1.0 if np.isnan(weight) else weight)
        made[(s, p)] = made.get((s, p), 0.0) + (0.0 if np.isnan(wafers) else wafers)
    per_unit = 1.0 / st.money_multiplier
    sub = res["subsidies"]
    paid_by = [sub[c] for c in ("instrument", "site", "payout_total", "taken", "payout_per_year")]
    for instrument, s, paid, taken, per_year in zip(*paid_by):
        spec, paid = specs[instrument], float(paid)
        name = f"instrument {instrument} at {s}"
        scope = [c for c in ("site", "country", "region") if isinstance(spec[c], str) and spec[c]][0]
        if (s if scope == "site" else raw_sites[s][scope]) != spec[scope]:
            out.append(f"{name}: the site is not in the instrument's {scope} {spec[scope]}")
        rate = raw_sites[s]["discount_rate"]
        rate = st.discount_rate if pd.isna(rate) else float(rate)
        life = raw_sites[s]["lifetime_years"]
        life = st.lifetime_years if pd.isna(life) else float(life)
        years = life if pd.isna(spec["years"]) else min(float(spec["years"]), life)
        site = sites[s]
        kind = spec["kind"]
        if kind in CAPEX_SHARES:
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
            if bool(site["open"]) and taken and not in_program and abs(paid - limit) > RTOL * max(1.0, limit):
                out.append(f"{name}: pays {paid:.6g}, due {limit:.6g}")
        else:
            product = spec["product"] if isinstance(spec["product"], str) and spec["product"] else None
            wafers = (sum(w for (at, _), w in made.items() if at == s) if product is None
                      else made.get((s, product), 0.0))
            limit = float(spec["per_wafer"]) * per_unit * years * wafers
            cap, factor = spec["cap"], spread_factor(rate, life, years)
        if not pd.isna(cap):
            limit = min(limit, float(cap))
        if not bool(site["open"]) or not taken:
            limit = 0.0
        if not _close_le(paid, limit, max(abs(limit), 1.0)):
            out.append(f"{name}: pays {paid:.6g}, its terms allow {limit:.6g}")
        if abs(per_year - paid * factor) > RTOL * max(1.0, abs(paid)):
            out.append(f"{name}: {per_year:.6g} a year is not {paid:.6g} annualised ({factor:.6g})")
        if paid > RTOL * max(1.0, abs(limit)):
            theta, kappa = spec["min_local_share"], spec["min_utilisation"]
            if not pd.isna(theta) and not pd.isna(site["local_share"]) and site["local_share"] < theta - 1e-6:
                out.append(f"{name}: paid although the local share {site['local_share']:.4%} is below its "
                           f"condition {theta:.0%}")
            capacity = site["capacity_wafers_per_year"]
            if not pd.isna(kappa) and site["production_wafers_per_year"] < kappa * capacity - RTOL * max(1.0, capacity):
                out.append(f"{name}: paid although utilisation {site['production_wafers_per_year'] / capacity:.4%} "
                           f"is below its condition {kappa:.0%}")
    capex_paid: dict = {}  # site -> payouts of grants, credits and loans
    program: dict = {}  # program -> payouts of its instruments
    for instrument, s, paid, *_ in zip(*paid_by):
        spec = specs.get(instrument, {})
        if spec.get("kind") in CAPEX_SHARES:
            capex_paid[s] = capex_paid.get(s, 0.0) + (0.0 if np.isnan(paid) else paid)
        program.setdefault(spec.get("program"), []).append(paid)
    for s, paid in sorted(capex_paid.items()):
        capex = float(sites[s]["capex_total"])
        if not _close_le(paid, capex, capex):
            out.append(f"site {s}: grants, credits and loans pay {paid:.6g} in all, more than its capex {capex:.6g}")
    budget = dict(zip(raw["programs"]["id"], raw["programs"]["budget"])) if "programs" in raw.tables else {}
    for p, b in budget.items():
        spent = _total(program.get(p, []))
        if not _close_le(spent, b, b):
            out.append(f"program {p}: instruments pay {spent:.6g}, its budget is {b:.6g}")
    return out
