"""Random small instances and an independent brute-force truth for them.

The truth here owes nothing to the package's model: every assignment of the first-stage integer
decisions (build per site, modules per site and product, qualification per supplier and site) is
enumerated, and for each one the remaining LP (production, purchases, unmet demand, payouts) is
built from the raw tables of this file's generator and solved with highspy directly. The least
total over all assignments must equal the objective ``run_case`` reports with the ``exact``
profile. Only the formulas of MODEL.md and docs/model.md are shared, written out again here from
their definitions: the capital recovery factor, a loan's grant element and the annual equivalent
of a production subsidy paid over fewer years than the lifetime (both through present values of
annuities, summed year by year).

Freight rates are zero in every instance, so freight comes only from ``lanes`` rows (no geodesic
distances are needed). Each instance draws its own mix of features from its seed: money in plain
currency or in millions, CRF = 1 or r = 8% over 10 years (sometimes per site), hard or penalised
demand, capex grants (capped or not), lump sums, local-share targets, inputs that do not count
for the local share, qualification overrides, lanes, tariffs, edge rows (a product no site can
make, a demand row of zero, a modules row with max_modules 0), and the other instruments: a tax
credit for every site of a country, a production subsidy at a site or across a region (for some
years, one product, capped), a concessional loan, an offer the firm may decline with a
local-share and/or utilisation condition (its take-up binary enumerated like the others), and a
program budget shared by some of them.

Used by ``test_bruteforce.py`` and ``test_invariants.py``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pandas as pd

from tests.helpers import write_instance

COUNTRIES = ("JP", "US", "TW")
#: A rough location per country; only used for coordinates (freight rates are 0).
ANCHOR = {"JP": (33.0, 131.0), "US": (33.5, -112.0), "TW": (24.8, 121.0)}
INF = highspy.kHighsInf
INSTRUMENT_COLUMNS = ["id", "kind", "site", "country", "region", "rate", "cap", "amount", "per_wafer", "product",
                      "years", "loan_share", "loan_rate", "min_local_share", "min_utilisation", "program"]

#: The package's model opens a site only to hold a module (site_needs_module: z[s] <= sum_p
#: n[s,p]), so a lump sum "paid on opening" cannot be collected by an empty site. The enumeration
#: follows the same rule.
OPEN_SITE_NEEDS_A_MODULE = True


@dataclass
class Case:
    """A random instance: settings and tables, with the features its seed drew."""

    seed: int
    settings: dict
    tables: dict[str, pd.DataFrame]
    features: set[str] = field(default_factory=set)

    @property
    def money(self) -> float:
        """Currency units per money unit."""
        return {"one": 1.0, "million": 1e6}[self.settings["money_unit"]]

    def scheduled(self) -> Case:
        """The same case as a schedule of three periods (2025-2026, 2027, 2028-2029): nothing is
        demanded in the first (the build period), the case's demand in the second and third;
        offers cost 10% more from the third; each site has a lead time of 0, 1 or 2 years drawn
        from the seed (all can produce from 2027), and where every demand row may go unmet at a
        price a ramp of 50% in the first year of operation. Every other table holds in every period."""
        rng = np.random.default_rng(10_000 + self.seed)
        tables = {k: v.copy() for k, v in self.tables.items()}
        tables["periods"] = pd.DataFrame({"id": ["p1", "p2", "p3"], "start_year": [2025, 2027, 2028],
                                          "years": [2, 1, 2]})
        demand = tables["demand"]
        first = demand.assign(period="p1", wafers_per_year=0.0)
        tables["demand"] = pd.concat([first, demand.assign(period="p2")], ignore_index=True)
        offers = tables["offers"]
        dearer = offers.assign(period="p3", price_per_unit=offers["price_per_unit"] * 1.1)
        tables["offers"] = pd.concat([offers.assign(period="p1"), dearer], ignore_index=True)
        tables["sites"] = tables["sites"].assign(lead_time_years=rng.integers(0, 3, len(tables["sites"])))
        settings = dict(self.settings)
        if "demand=default" in self.features:
            settings["ramp"] = "0.5;1"
        return Case(self.seed, settings, tables, set(self.features) | {"scheduled"})

    def with_periods(self, label: str = "base", start_year: int = 2025) -> Case:
        """The same case with a periods table of one period of one year labelled ``label`` (the
        settings' period label by default, so that result tables name the same period): lead time
        zero and full ramp, the snapshot as a phased instance."""
        periods = pd.DataFrame({"id": [label], "start_year": [start_year], "years": [1]})
        return Case(self.seed, dict(self.settings), {"periods": periods, **self.tables}, set(self.features))

    def write(self, folder: Path) -> Path:
        """Write ``instance.yaml`` and one CSV per non-empty table into ``folder``."""
        csv = {name: df.to_csv(index=False) for name, df in self.tables.items() if len(df)}
        return write_instance(folder, csv, self.settings, name=f"random-{self.seed}")


def assignments_count(maxn: dict, n_sites: int, n_suppliers: int, takeups: dict | None = None) -> int:
    """How many (build, modules, qualify, take) assignments the enumeration visits; ``takeups``:
    how many conditional instruments each site index is offered (each a binary at an open site)."""
    total = 1
    for s in range(n_sites):
        combos = math.prod(n + 1 for (t, _), n in maxn.items() if t == s)
        open_options = (combos - 1 if OPEN_SITE_NEEDS_A_MODULE else combos) * 2**n_suppliers
        open_options *= 2 ** (takeups or {}).get(s, 0)
        total *= 1 + open_options
    return total


def _append(df: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    return pd.concat([df, pd.DataFrame(rows)], ignore_index=True)


def random_case(seed: int, *, max_assignments: int | None = 4096, min_assignments: int = 64,
                **force) -> Case:
    """A small random instance drawn from ``seed``.

    Parameters
    ----------
    seed
        Seed of the instance's own generator (no global random state).
    max_assignments, min_assignments
        Redraw the dimensions until the brute force has between these many first-stage
        assignments to visit (max_assignments None: any size).
    force
        Feature switches that replace the seed's draw: ``money`` ("one"/"million"), ``finance``
        ("unit"/"r08"/"per_site"), ``demand`` ("hard"/"row"/"default"), ``grant``, ``lump``,
        ``target``, ``lanes``, ``tariffs``, ``qual_override``, the edge rows ``orphan`` (a
        product no site can make), ``zero_demand`` (a demand row of 0 wafers), ``dead_module`` (a
        modules row with max_modules 0), and the instruments ``credit`` (a tax credit for a
        country), ``wafer`` (a production subsidy), ``loan`` (a concessional loan; only where a
        site's discount rate is above 0), ``conditional`` (an offer with conditions; left out when
        its take-up binary would take the enumeration above ``max_assignments``) and ``program``
        (a budget shared by some of these four), all bools. Every draw happens whether forced or
        not, so forcing one switch leaves the rest of the instance unchanged.
    """
    rng = np.random.default_rng(seed)

    def pick(name, value):
        return force.get(name, value)

    money = pick("money", "million" if rng.random() < 0.25 else "one")
    finance = pick("finance", str(rng.choice(["unit", "unit", "r08", "per_site"])))
    demand_mode = pick("demand", str(rng.choice(["hard", "row", "default"])))
    odds = (("grant", 0.45), ("lump", 0.35), ("target", 0.5), ("lanes", 0.6), ("tariffs", 0.5),
            ("qual_override", 0.3))
    want = {k: pick(k, bool(rng.random() < p)) for k, p in odds}
    features = {f"money={money}", f"finance={finance}", f"demand={demand_mode}"}
    features |= {k for k, v in want.items() if v}

    def draw(lo, hi):
        return int(rng.integers(lo, hi))

    for _ in range(1000):
        n_sites, n_products = draw(2, 4), draw(1, 3)
        n_markets, n_inputs, n_suppliers = draw(2, 4), draw(1, 3), draw(2, 5)
        maxn = {(s, p): draw(1, 3) for s in range(n_sites) for p in range(n_products)
                if rng.random() < 0.75}
        for p in range(n_products):
            if not any(q == p for (_, q) in maxn):
                maxn[draw(0, n_sites), p] = 1
        for s in range(n_sites):
            if not any(t == s for (t, _) in maxn):
                maxn[s, draw(0, n_products)] = 1
        count = assignments_count(maxn, n_sites, n_suppliers)
        if max_assignments is None or min_assignments <= count <= max_assignments:
            break
    else:  # pragma: no cover - the draw above always succeeds quickly
        raise RuntimeError("no small enough instance drawn")

    big = 1000 if money == "million" else 1  # quantities x1000 in millions mode...
    capital = 1e-3 if money == "million" else 1.0  # ...and capital amounts in USD million

    S = [f"s{k}" for k in range(n_sites)]
    P = [f"p{k}" for k in range(n_products)]
    M = [f"m{k}" for k in range(n_markets)]
    I = [f"i{k}" for k in range(n_inputs)]  # noqa: E741
    U = [f"u{k}" for k in range(n_suppliers)]

    def place(country):
        lat, lon = ANCHOR[country]
        return round(lat + rng.uniform(-1, 1), 3), round(lon + rng.uniform(-1, 1), 3)

    def located(ids):
        countries = [str(rng.choice(COUNTRIES)) for _ in ids]
        return pd.DataFrame({"id": ids, "country": countries,
                             "lat": [place(c)[0] for c in countries],
                             "lon": [place(c)[1] for c in countries]})

    sites = located(S)
    sites["fixed_cost"] = [round(rng.uniform(0, 8000) * capital, 6) for _ in S]
    if finance == "unit":
        settings = {"discount_rate": 0.0, "lifetime_years": 1}
    else:
        settings = {"discount_rate": 0.08, "lifetime_years": 10}
    if finance == "per_site":
        # one site on its own terms (r = 5%, 20 years), another at r = 0 over 4 years (CRF 1/4)
        sites["discount_rate"] = [0.05, 0.0] + [None] * (n_sites - 2)
        sites["lifetime_years"] = [20, 4] + [None] * (n_sites - 2)
    settings.update(currency="USD", money_unit=money, local_rule="country")

    products = pd.DataFrame({"id": P, "freight_per_wafer_km": 0.0})
    size = {k: int(rng.choice([200, 300, 400, 500])) * big for k in maxn}
    modules = pd.DataFrame([
        {"site": S[s], "product": P[p], "wafers_per_module": size[s, p],
         "capex_per_module": round(rng.uniform(1000, 10000) * capital, 6), "max_modules": n,
         "operating_cost_per_wafer": round(rng.uniform(2, 30), 2)}
        for (s, p), n in sorted(maxn.items())])

    markets = located(M)
    rows = []
    for p in range(n_products):
        most = sum(size[k] * n for k, n in maxn.items() if k[1] == p)
        total = rng.uniform(0.3, 0.95) * most
        served = [m for m in range(n_markets) if rng.random() < 0.85] or [draw(0, n_markets)]
        weights = rng.dirichlet(np.ones(len(served)))
        for m, w in zip(served, weights, strict=True):
            penalty = round(rng.uniform(30, 300), 2) if rng.random() < 0.7 else None
            rows.append({"market": M[m], "product": P[p],
                         "wafers_per_year": max(20 * big, round(total * w)),
                         "penalty_per_wafer": penalty})
    demand = pd.DataFrame(rows)
    if demand_mode == "hard":
        demand["penalty_per_wafer"] = None
    elif demand_mode == "default":
        settings["unmet_penalty_per_wafer"] = round(rng.uniform(30, 300), 2)
        first = demand["penalty_per_wafer"].iloc[0]
        demand["penalty_per_wafer"] = [first] + [None] * (len(demand) - 1)

    counts = [bool(rng.random() > 0.3) for _ in I]
    inputs = pd.DataFrame({"id": I, "freight_per_unit_km": 0.0,
                           "counts_for_local": ["true" if c else "false" for c in counts]})
    if not all(counts):
        features.add("uncounted_input")
    bom_pairs = {(p, i) for p in range(n_products) for i in range(n_inputs) if rng.random() < 0.75}
    for p in range(n_products):
        if not any(q == p for q, _ in bom_pairs):
            bom_pairs.add((p, draw(0, n_inputs)))
    for i in range(n_inputs):
        if not any(j == i for _, j in bom_pairs):
            bom_pairs.add((draw(0, n_products), i))
    bom = pd.DataFrame([
        {"product": P[p], "input": I[i], "units_per_wafer": round(rng.uniform(0.5, 3), 2)}
        for p, i in sorted(bom_pairs)])

    suppliers = located(U)
    suppliers["qualification_cost"] = [round(rng.uniform(0, 2500) * capital, 6) for _ in U]
    offer_pairs = {(u, i) for u in range(n_suppliers) for i in range(n_inputs)
                   if rng.random() < 0.65}
    for u in range(n_suppliers):
        if not any(v == u for v, _ in offer_pairs):
            offer_pairs.add((u, draw(0, n_inputs)))
    for i in range(n_inputs):
        if not any(j == i for _, j in offer_pairs):
            offer_pairs.add((draw(0, n_suppliers), i))
    wafers = demand.groupby("product")["wafers_per_year"].sum()
    uses = bom[["product", "input", "units_per_wafer"]].itertuples(index=False)
    need = dict.fromkeys(range(n_inputs), 0.0)
    for p, i, a in uses:
        need[I.index(i)] += a * wafers[p]
    offers = pd.DataFrame([
        {"supplier": U[u], "input": I[i],
         "capacity_units_per_year": round(need[i] * rng.uniform(0.3, 1.3)),
         "price_per_unit": round(rng.uniform(1, 25), 2)}
        for u, i in sorted(offer_pairs)])
    # Most instances can buy all they need; supplier capacity still binds offer by offer.
    for i in range(n_inputs):
        rows_i = offers.index[offers["input"] == I[i]]
        short = need[i] - offers.loc[rows_i, "capacity_units_per_year"].sum()
        if short > 0 and rng.random() < 0.8:
            offers.loc[rows_i[-1], "capacity_units_per_year"] += round(short) + 1

    qualification = pd.DataFrame([
        {"supplier": U[draw(0, n_suppliers)], "site": S[draw(0, n_sites)],
         "cost": round(rng.uniform(0, 4000) * capital, 6)} for _ in range(2)])
    qualification = qualification.drop_duplicates(["supplier", "site"])
    if not want["qual_override"]:
        qualification = qualification.iloc[0:0]

    lanes = []
    for s in S:
        for m in M:
            if rng.random() < 0.4:
                item = "*" if rng.random() < 0.5 else str(rng.choice(P))
                lanes.append({"origin": s, "destination": m, "item": item,
                              "cost_per_unit": round(rng.uniform(0, 15), 2)})
    for u in range(n_suppliers):
        for s in S:
            if rng.random() < 0.4:
                mine = [I[i] for v, i in sorted(offer_pairs) if v == u]
                item = "*" if rng.random() < 0.5 else str(rng.choice(mine))
                lanes.append({"origin": U[u], "destination": s, "item": item,
                              "cost_per_unit": round(rng.uniform(0, 3), 2)})
    lanes = pd.DataFrame(lanes, columns=["origin", "destination", "item", "cost_per_unit"])
    if not want["lanes"]:
        lanes = lanes.iloc[0:0]

    tariffs = []
    for a, b in itertools.permutations(COUNTRIES, 2):
        if rng.random() < 0.5:
            item = str(rng.choice(["*", *P, *I]))
            ad_valorem = 0.0 if item in P else round(rng.uniform(0, 0.3), 3)
            tariffs.append({"from_country": a, "to_country": b, "item": item,
                            "duty_per_unit": round(rng.uniform(0, 5), 2), "ad_valorem": ad_valorem})
    tariffs = pd.DataFrame(
        tariffs, columns=["from_country", "to_country", "item", "duty_per_unit", "ad_valorem"])
    if not want["tariffs"]:
        tariffs = tariffs.iloc[0:0]

    grant_site = draw(0, n_sites)
    rate = round(rng.uniform(0.1, 0.6), 2)
    here = modules[modules["site"] == S[grant_site]]
    most = sites.at[grant_site, "fixed_cost"] + sum(
        c * n for c, n in zip(here["capex_per_module"], here["max_modules"], strict=True))
    # a cap somewhere below the most the rate could pay, so that it binds on larger plans
    cap = round(rng.uniform(0.2, 0.9) * rate * most, 6) if rng.random() < 0.5 else None
    grant = {"id": "grant", "kind": "capex_grant", "site": S[grant_site], "rate": rate, "cap": cap,
             "amount": None}
    lump = {"id": "lump", "kind": "lump_sum", "site": S[draw(0, n_sites)], "rate": None,
            "cap": None, "amount": round(rng.uniform(0, 6000) * capital, 6)}
    chosen = [g for g, on in ((grant, want["grant"]), (lump, want["lump"])) if on]
    instruments = pd.DataFrame(chosen, columns=["id", "kind", "site", "rate", "cap", "amount"])
    if want["grant"] and cap is not None:
        features.add("grant_cap")

    local_targets = pd.DataFrame([{"site": S[draw(0, n_sites)],
                                   "target": float(rng.choice([0.2, 0.4, 0.6, 0.8]))}])
    if not want["target"]:
        local_targets = local_targets.iloc[0:0]

    # Edge rows, drawn last so that the rest of each seed's instance does not depend on them.
    edge = {k: bool(rng.random() < 0.25) for k in ("orphan", "zero_demand", "dead_module")}
    edge = {k: pick(k, v) for k, v in edge.items()}
    orphan_market, orphan_penalty = M[draw(0, n_markets)], round(rng.uniform(30, 300), 2)
    missing_demand = [(m, p) for m in M for p in P
                      if not ((demand["market"] == m) & (demand["product"] == p)).any()]
    zero_row = missing_demand[draw(0, len(missing_demand))] if missing_demand else None
    missing_modules = [(s, p) for s in range(n_sites) for p in range(n_products)
                       if (s, p) not in maxn]
    dead = missing_modules[draw(0, len(missing_modules))] if missing_modules else None
    if edge["orphan"]:
        # a product no site can make: its demand can only go unmet, at its own penalty
        products = _append(products, [{"id": "px", "freight_per_wafer_km": 0.0}])
        demand = _append(demand, [{"market": orphan_market, "product": "px",
                                   "wafers_per_year": 50 * big,
                                   "penalty_per_wafer": orphan_penalty}])
        features.add("orphan")
    if edge["zero_demand"] and zero_row is not None:
        demand = _append(demand, [{"market": zero_row[0], "product": zero_row[1],
                                   "wafers_per_year": 0, "penalty_per_wafer": None}])
        features.add("zero_demand")
    if edge["dead_module"] and dead is not None:
        modules = _append(modules, [{"site": S[dead[0]], "product": P[dead[1]],
                                     "wafers_per_module": 300 * big, "capex_per_module": 1.0,
                                     "max_modules": 0, "operating_cost_per_wafer": 0.0}])
        features.add("dead_module")

    # Every other kind of instrument, drawn after everything above so that each seed's instance
    # up to here is the same as before these kinds existed.
    odds = (("credit", 0.4), ("wafer", 0.45), ("loan", 0.4), ("conditional", 0.5), ("program", 0.4))
    more = {k: pick(k, bool(rng.random() < p)) for k, p in odds}
    sites["region"] = [str(rng.choice(["north", "south"])) for _ in S]
    extra = []
    # a tax credit for every site of one country, each site with its own cap
    credit_country = str(sites.at[draw(0, n_sites), "country"])
    credit_rate = round(rng.uniform(0.05, 0.4), 2)
    credit_cap = round(rng.uniform(500, 4000) * capital, 6) if rng.random() < 0.5 else None
    if more["credit"]:
        extra.append({"id": "credit", "kind": "tax_credit", "country": credit_country,
                      "rate": credit_rate, "cap": credit_cap})
        features.add("credit")
        features |= {"scope=country"} | ({"credit_cap"} if credit_cap is not None else set())
    # a production subsidy per wafer (currency), at a site or across a region
    wafer_site, wafer_region = S[draw(0, n_sites)], str(rng.choice(sites["region"]))
    by_region = bool(rng.random() < 0.5)
    per_wafer = round(rng.uniform(1, 40), 2)
    wafer_years = [None, 2, 5][draw(0, 3)]
    wafer_product = str(rng.choice(P)) if rng.random() < 0.5 else None
    per_unit = 1e-6 if money == "million" else 1.0  # per-wafer amounts are in currency
    wafer_cap = rng.uniform(0.1, 0.6) * per_wafer * per_unit * (wafer_years or 10)
    wafer_cap = round(wafer_cap * float(demand["wafers_per_year"].sum()), 6) if rng.random() < 0.5 else None
    if more["wafer"]:
        scope = {"region": wafer_region} if by_region else {"site": wafer_site}
        extra.append({"id": "wafer", "kind": "production_subsidy", **scope, "per_wafer": per_wafer,
                      "years": wafer_years, "product": wafer_product, "cap": wafer_cap})
        features |= {"wafer"} | ({"scope=region"} if by_region else set())
        features |= {name for name, on in (("wafer_years", wafer_years), ("wafer_product", wafer_product),
                                           ("wafer_cap", wafer_cap)) if on is not None}
    # a concessional loan at a site whose own discount rate is above the loan's (none at r = 0)
    dear = [s for s in range(n_sites) if finance in ("r08", "per_site") and not (finance == "per_site" and s == 1)]
    loan_site = draw(0, n_sites)
    loan = {"id": "loan", "kind": "concessional_loan", "site": S[dear[loan_site % len(dear)]] if dear else None,
            "loan_share": round(rng.uniform(0.3, 0.9), 2), "loan_rate": [0.0, 0.02, 0.04][draw(0, 3)],
            "years": [None, 5, 15][draw(0, 3)],
            "cap": round(rng.uniform(1000, 10000) * capital, 6) if rng.random() < 0.5 else None}
    if more["loan"] and dear:
        extra.append(loan)
        features.add("loan")
    # an offer the firm may decline: paid only if the site meets a local share and/or utilisation
    cond_site = draw(0, n_sites)
    cond_kind = str(rng.choice(["capex_grant", "lump_sum", "production_subsidy"]))
    cond = {"id": "cond", "kind": cond_kind, "site": S[cond_site]}
    cond |= {"capex_grant": {"rate": round(rng.uniform(0.2, 0.7), 2)},
             "lump_sum": {"amount": round(rng.uniform(500, 6000) * capital, 6)},
             "production_subsidy": {"per_wafer": round(rng.uniform(5, 60), 2)}}[cond_kind]
    which = str(rng.choice(["local", "utilisation", "both"]))
    theta, kappa = float(rng.choice([0.4, 0.6, 0.8])), round(rng.uniform(0.7, 1.0), 2)
    if which != "utilisation":
        cond["min_local_share"] = theta
    if which != "local":
        cond["min_utilisation"] = kappa
    # its take-up decision doubles the open plans of its site: keep within max_assignments
    bigger = assignments_count(maxn, n_sites, n_suppliers, takeups={cond_site: 1})
    if more["conditional"] and (max_assignments is None or bigger <= max_assignments):
        extra.append(cond)
        features |= {"conditional", f"cond={cond_kind}"}
        features |= {f"cond_{c}" for c in ("local", "utilisation") if which in (c, "both")}
    # a program budget shared by some of the instruments above
    budget = round(rng.uniform(300, 4000) * capital, 6)
    joins = {name: bool(rng.random() < 0.7) for name in ("credit", "wafer", "loan", "cond")}
    members = [g for g in extra if joins[g["id"]]]
    programs = pd.DataFrame([{"id": "prog", "budget": budget}])
    if more["program"] and members:
        for g in members:
            g["program"] = "prog"
        features.add("program")
    else:
        programs = programs.iloc[0:0]
    instruments = pd.concat([instruments, pd.DataFrame(extra, columns=INSTRUMENT_COLUMNS)],
                            ignore_index=True) if extra else instruments

    tables = {"sites": sites, "products": products, "modules": modules, "markets": markets,
              "demand": demand, "inputs": inputs, "bom": bom, "suppliers": suppliers,
              "offers": offers, "qualification": qualification, "lanes": lanes,
              "tariffs": tariffs, "instruments": instruments, "local_targets": local_targets,
              "programs": programs}
    return Case(seed=seed, settings=settings, tables=tables, features=features)


# --------------------------------------------------------------------------------------------
# The independent truth
# --------------------------------------------------------------------------------------------

def capital_recovery(rate: float, years: float) -> float:
    """r(1+r)^L / ((1+r)^L - 1), and 1/L at r = 0 (MODEL.md, Units)."""
    if rate == 0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


def given(value) -> bool:
    """Whether a cell holds a value (not None, not NaN)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def annuity(rate: float, years: float) -> float:
    """Present value of 1 paid at the end of each of ``years`` whole years: sum_t (1+r)^-t."""
    assert float(years).is_integer(), years
    return sum((1.0 + rate) ** -t for t in range(1, int(years) + 1))


def _float(value) -> float | None:
    return float(value) if given(value) else None


class RawData:
    """Plain dictionaries read from a :class:`Case`'s tables, money in the money unit.

    Per-unit amounts (prices, operating costs, lanes, duties, penalties) stay in currency here;
    ``per_unit`` converts them (1 / 1e6 when the money unit is USD million). ``instruments`` has
    one row per instrument and site it is offered at (see :meth:`offered`).
    """

    def __init__(self, case: Case):
        st = case.settings
        empty = pd.DataFrame()

        def rows(name):
            return case.tables.get(name, empty).to_dict("records")

        self.per_unit = 1.0 / case.money
        self.sites = [r["id"] for r in rows("sites")]
        self.country, self.crf, self.fixed, self.rate, self.life, self.region = {}, {}, {}, {}, {}, {}
        for r in rows("sites"):
            rate = r.get("discount_rate")
            years = r.get("lifetime_years")
            rate = float(rate) if given(rate) else st["discount_rate"]
            years = float(years) if given(years) else st["lifetime_years"]
            self.rate[r["id"]], self.life[r["id"]] = rate, years
            self.crf[r["id"]] = capital_recovery(rate, years)
            self.fixed[r["id"]] = float(r["fixed_cost"])
            self.region[r["id"]] = r.get("region")
        for name in ("sites", "markets", "suppliers"):
            self.country.update({r["id"]: r["country"] for r in rows(name)})
        self.modules = {
            (r["site"], r["product"]): (float(r["wafers_per_module"]), float(r["capex_per_module"]),
                                        int(r["max_modules"]), float(r["operating_cost_per_wafer"]))
            for r in rows("modules")}
        default = st.get("unmet_penalty_per_wafer")
        self.demand = {}
        for r in rows("demand"):
            pen = r["penalty_per_wafer"] if given(r["penalty_per_wafer"]) else default
            self.demand[r["market"], r["product"]] = (float(r["wafers_per_year"]),
                                                      None if pen is None else float(pen))
        self.inputs = [r["id"] for r in rows("inputs")]
        self.counts = {r["id"]: str(r["counts_for_local"]).lower() == "true"
                       for r in rows("inputs")}
        self.bom = {(r["product"], r["input"]): float(r["units_per_wafer"]) for r in rows("bom")}
        self.suppliers = [r["id"] for r in rows("suppliers")]
        self.qual_cost = {(r["id"], s): float(r["qualification_cost"])
                          for r in rows("suppliers") for s in self.sites}
        self.qual_cost.update({(r["supplier"], r["site"]): float(r["cost"])
                               for r in rows("qualification")})
        self.offers = {(r["supplier"], r["input"]): (float(r["capacity_units_per_year"]),
                                                     float(r["price_per_unit"]))
                       for r in rows("offers")}
        self.lanes = {(r["origin"], r["destination"], r["item"]): float(r["cost_per_unit"])
                      for r in rows("lanes")}
        self.tariffs = {(r["from_country"], r["to_country"], r["item"]):
                        (float(r["duty_per_unit"]), float(r["ad_valorem"]))
                        for r in rows("tariffs")}
        self.instruments = [row for g in rows("instruments") for row in self.offered(g)]
        self.budget = {r["id"]: float(r["budget"]) for r in rows("programs")}
        self.targets = {r["site"]: float(r["target"]) for r in rows("local_targets")}

    def offered(self, g: dict) -> list[dict]:
        """Raw instrument row ``g`` at each site it is offered at (its site, or every site of its
        country or region), its terms written out from their definitions:

        - ``share``: the share of capex it pays (grant, tax credit; a loan: below), ``cap`` the
          most it pays there (None: no cap), ``amount`` a lump sum;
        - a loan of a share phi of capex at rate i over T years (default the lifetime), repaid in
          T equal instalments P / annuity(i, T), is worth P annuity(r, T) / annuity(i, T) today
          to the firm at its rate r: the rest of P is a gift, so share = phi (1 - that ratio) and
          the cap on principal scales by the same gift ratio;
        - ``per_wafer_total``: a production subsidy's payout per wafer made in a year, summed
          over its D years (D at most the lifetime L), in the money unit;
        - ``factor``: the equal annual amount over L worth the same today: CRF for what is paid
          on opening; for the production subsidy's D equal payments of T / D, their present
          value (T / D) annuity(r, D) spread over L, i.e. divided by annuity(r, L);
        - ``theta``, ``kappa``: its conditions (None: none); ``program``: its budget's id.
        """
        if given(g.get("site")):
            at = [g["site"]]
        elif given(g.get("country")):
            at = [s for s in self.sites if self.country[s] == g["country"]]
        else:
            at = [s for s in self.sites if self.region[s] == g["region"]]
        out = []
        for s in at:
            r, life = self.rate[s], self.life[s]
            years = _float(g.get("years")) or life
            row = {"id": g["id"], "kind": g["kind"], "site": s, "share": None, "cap": _float(g.get("cap")),
                   "amount": _float(g.get("amount")), "per_wafer_total": None,
                   "product": g.get("product") if given(g.get("product")) else None,
                   "factor": self.crf[s], "theta": _float(g.get("min_local_share")),
                   "kappa": _float(g.get("min_utilisation")),
                   "program": g.get("program") if given(g.get("program")) else None}
            if g["kind"] in ("capex_grant", "tax_credit"):
                row["share"] = float(g["rate"])
            elif g["kind"] == "concessional_loan":
                gift = 1.0 - annuity(r, years) / annuity(float(g["loan_rate"]), years)
                row["share"] = float(g["loan_share"]) * gift
                row["cap"] = None if row["cap"] is None else row["cap"] * gift
            elif g["kind"] == "production_subsidy":
                paid_years = min(years, life)
                row["per_wafer_total"] = float(g["per_wafer"]) * self.per_unit * paid_years
                row["factor"] = annuity(r, paid_years) / (paid_years * annuity(r, life))
            row["conditional"] = row["theta"] is not None or row["kappa"] is not None
            out.append(row)
        return out

    def lane(self, origin: str, dest: str, item: str) -> float:
        """Freight per unit (currency): the item's lane, else the pair's '*' lane, else 0."""
        return self.lanes.get((origin, dest, item), self.lanes.get((origin, dest, "*"), 0.0))

    def duty(self, origin: str, dest: str, item: str, price: float | None) -> float:
        """Duty per unit (currency); ad valorem applies to a supplier's price (inputs only)."""
        key = (self.country[origin], self.country[dest])
        row = self.tariffs.get((*key, item), self.tariffs.get((*key, "*")))
        if row is None:
            return 0.0
        return row[0] + (row[1] * price if price is not None else 0.0)

    def capex(self, s: str, build: int, modules: dict) -> float:
        """Undiscounted capex of site s: F z + sum_p C n."""
        made = sum(self.modules[s, p][1] * n for (t, p), n in modules.items() if t == s)
        return self.fixed[s] * build + made

    def capacity(self, s: str, modules: dict, product: str | None = None) -> float:
        """Wafers a year site s can make with ``modules`` (of ``product``; None: of every product)."""
        return sum(self.modules[t, p][0] * n for (t, p), n in modules.items()
                   if t == s and product in (None, p))

    def payout_limit(self, g: dict, capex: float, wafers: float) -> float:
        """Most instrument row ``g`` pays at an open site that takes it, given the site's capex
        and the wafers it makes (of ``g``'s product): a lump sum its amount; a share of capex or
        the payout per wafer times the wafers, no more than its cap."""
        if g["kind"] == "lump_sum":
            return g["amount"]
        most = g["share"] * capex if g["share"] is not None else g["per_wafer_total"] * wafers
        return most if g["cap"] is None else min(most, g["cap"])

    def is_local(self, u: str, s: str) -> bool:
        """The default rule: same country."""
        return self.country[u] == self.country[s]


@dataclass
class Assignment:
    """First-stage decisions: build[s], modules[(s, p)], qualify[(u, s)], and take[k] for each
    conditional instrument row k (index into ``RawData.instruments``)."""

    build: dict
    modules: dict
    qualify: dict
    take: dict = field(default_factory=dict)

    def paid(self, data: RawData, k: int) -> bool:
        """Whether instrument row k may pay: its site is open and, if conditional, taken up."""
        g = data.instruments[k]
        return bool(self.build[g["site"]]) and (not g["conditional"] or bool(self.take[k]))

    def label(self) -> str:
        opened = [s for s, z in self.build.items() if z]
        mods = {f"{s}/{p}": n for (s, p), n in self.modules.items() if n}
        quals = [f"{u}@{s}" for (u, s), v in self.qualify.items() if v]
        return f"open={opened} modules={mods} qualified={quals} taken={sorted(k for k, e in self.take.items() if e)}"


class SecondStage:
    """The LP left once an :class:`Assignment` is fixed, built from :class:`RawData` alone.

    Columns: x[s,m,p] (wafers), r[m,p] (unmet), q[u,s,i] (purchases; every offer to every site),
    payout[k] (each instrument row, cost -factor). Rows: demand balance, capacity (right-hand side
    K n), input balance (every site and input), supplier capacity, local share (sites with a
    target), payout per wafer (production subsidies: payout <= per-wafer total x wafers made),
    the conditions of conditional rows (active only when taken: local share >= theta, output >=
    kappa x capacity), program budgets. First-stage decisions enter only through bounds and
    right-hand sides, so one highspy model is re-solved for every assignment.
    """

    def __init__(self, data: RawData):
        self.data = d = data
        cost, lower, upper = [], [], []

        def column(c, lo=0.0, up=INF):
            cost.append(c)
            lower.append(lo)
            upper.append(up)
            return len(cost) - 1

        self.x = {}
        for (s, p), (_, _, n_max, operating) in d.modules.items():
            for m, q in d.demand:
                if q == p and n_max > 0:
                    c = operating + d.lane(s, m, p) + d.duty(s, m, p, None)
                    self.x[s, m, p] = column(c * d.per_unit)
        self.r = {}
        for (m, p), (wafers, pen) in d.demand.items():
            if pen is None:  # hard demand: nothing may go unmet
                self.r[m, p] = column(0.0, 0.0, 0.0)
            else:
                self.r[m, p] = column(pen * d.per_unit, 0.0, wafers)
        self.q = {}
        for (u, i), (_, price) in d.offers.items():
            for s in d.sites:
                c = price + d.lane(u, s, i) + d.duty(u, s, i, price)
                self.q[u, s, i] = column(c * d.per_unit, 0.0, 0.0)
        self.g = [column(-g["factor"], 0.0, 0.0) for g in d.instruments]

        rows, row_lo, row_up = [], [], []

        def row(terms, lo, up):
            rows.append(terms)
            row_lo.append(lo)
            row_up.append(up)
            return len(rows) - 1

        def made_at(s, product=None):
            return [(k, 1.0) for (ss, _, pp), k in self.x.items() if ss == s and product in (None, pp)]

        def local_terms(s, tau):
            # sum_{u local, i counts} c q >= tau sum_{u, i counts} c q, as one homogeneous row
            return [(k, (float(d.is_local(u, s)) - tau) * d.offers[u, i][1])
                    for (u, ss, i), k in self.q.items() if ss == s and d.counts[i]]

        for (m, p), (wafers, _) in d.demand.items():
            terms = [(k, 1.0) for (_, mm, pp), k in self.x.items() if (mm, pp) == (m, p)]
            row(terms + [(self.r[m, p], 1.0)], wafers, wafers)
        self.capacity = {}
        for s, p in d.modules:
            terms = [(k, 1.0) for (ss, _, pp), k in self.x.items() if (ss, pp) == (s, p)]
            self.capacity[s, p] = row(terms, -INF, 0.0)
        for s in d.sites:
            for i in d.inputs:
                buy = [(k, 1.0) for (_, ss, ii), k in self.q.items() if (ss, ii) == (s, i)]
                use = [(k, -d.bom[p, i]) for (ss, _, p), k in self.x.items()
                       if ss == s and (p, i) in d.bom]
                if buy or use:
                    row(buy + use, 0.0, 0.0)
        for (u, i), (cap, _) in d.offers.items():
            row([(k, 1.0) for (uu, _, ii), k in self.q.items() if (uu, ii) == (u, i)], -INF, cap)
        for s, tau in d.targets.items():
            row(local_terms(s, tau), 0.0, INF)
        # payout <= a x wafers, written divided by a (a is tiny when money is in millions)
        for k, g in enumerate(d.instruments):
            if g["per_wafer_total"] is not None:
                per = g["per_wafer_total"]
                if per > 0:
                    row([(self.g[k], 1.0 / per)] + [(j, -1.0) for j, _ in made_at(g["site"], g["product"])],
                        -INF, 0.0)
                else:
                    row([(self.g[k], 1.0)], -INF, 0.0)
        # conditions, loose (-inf) until an assignment takes the row up: (k, row, "local"/"kappa")
        self.conditions = []
        for k, g in enumerate(d.instruments):
            if g["theta"] is not None:
                terms = local_terms(g["site"], g["theta"])
                if terms:  # no counted input can be bought there: the share condition is void
                    self.conditions.append((k, row(terms, -INF, INF), "local"))
            if g["kappa"] is not None:
                self.conditions.append((k, row(made_at(g["site"]), -INF, INF), "kappa"))
        for program, budget in d.budget.items():
            members = [self.g[k] for k, g in enumerate(d.instruments) if g["program"] == program]
            if members:
                row([(j, 1.0) for j in members], -INF, budget)

        by_col: list[list] = [[] for _ in cost]
        for r_no, terms in enumerate(rows):
            for k, a in terms:
                if a != 0.0:
                    by_col[k].append((r_no, a))
        starts, index, value = [0], [], []
        for entries in by_col:
            index += [r for r, _ in entries]
            value += [a for _, a in entries]
            starts.append(len(index))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cost), len(rows)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = map(np.array, (cost, lower, upper))
        lp.row_lower_, lp.row_upper_ = np.array(row_lo), np.array(row_up)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=float)
        self.highs = highspy.Highs()
        for option, v in (("output_flag", False), ("threads", 1), ("random_seed", 0)):
            self.highs.setOptionValue(option, v)
        self.highs.passModel(lp)
        self.solves = 0

    def first_stage_cost(self, a: Assignment) -> float:
        """CRF (F z + C n + Q v), summed over sites."""
        d = self.data
        total = 0.0
        for s in d.sites:
            quals = sum(d.qual_cost[u, s] * a.qualify[u, s] for u in d.suppliers)
            total += d.crf[s] * (d.capex(s, a.build[s], a.modules) + quals)
        return total

    def payout_bounds(self, a: Assignment) -> list[tuple[float, float]]:
        """(lower, upper) payout of each instrument row: nothing unless :meth:`Assignment.paid`;
        else a share of capex up to its limit, a lump sum exactly its amount, a production subsidy
        up to its cap (its payout-per-wafer row bounds it by the wafers made)."""
        d = self.data
        out = []
        for k, g in enumerate(d.instruments):
            if not a.paid(d, k):
                out.append((0.0, 0.0))
            elif g["kind"] == "lump_sum":
                out.append((g["amount"], g["amount"]))
            elif g["per_wafer_total"] is not None:
                out.append((0.0, INF if g["cap"] is None else g["cap"]))
            else:
                out.append((0.0, d.payout_limit(g, d.capex(g["site"], 1, a.modules), 0.0)))
        return out

    def lower_bound(self, a: Assignment) -> float:
        """First-stage cost less the most the instruments can pay (a production subsidy: as if
        every wafer it pays for were made); every second-stage cost coefficient is >= 0 (prices,
        freight, duties, penalties), so no plan does better."""
        d = self.data
        most = 0.0
        for k, g in enumerate(d.instruments):
            if a.paid(d, k):
                capex = d.capex(g["site"], 1, a.modules)
                most += g["factor"] * d.payout_limit(g, capex, d.capacity(g["site"], a.modules, g["product"]))
        return self.first_stage_cost(a) - most

    def solve(self, a: Assignment) -> float | None:
        """Total cost of the best plan under ``a``; None if no plan exists."""
        d, h = self.data, self.highs
        idx = list(self.q.values()) + self.g
        lo = [0.0] * len(self.q)
        up = [INF if a.build[s] and a.qualify[u, s] else 0.0 for (u, s, _) in self.q]
        for glo, gup in self.payout_bounds(a):
            lo.append(glo)
            up.append(gup)
        h.changeColsBounds(len(idx), np.array(idx, dtype=np.int32), np.array(lo), np.array(up))
        ridx = list(self.capacity.values())
        rlo = [-INF] * len(ridx)
        rup = [d.modules[s, p][0] * a.modules[s, p] for (s, p) in self.capacity]
        for k, r_no, what in self.conditions:
            g = d.instruments[k]
            ridx.append(r_no)
            rup.append(INF)
            if not a.paid(d, k):
                rlo.append(-INF)  # declined (or closed): no condition
            elif what == "local":
                rlo.append(0.0)
            else:
                rlo.append(g["kappa"] * d.capacity(g["site"], a.modules))
        h.changeRowsBounds(len(ridx), np.array(ridx, dtype=np.int32), np.array(rlo, dtype=float),
                           np.array(rup, dtype=float))
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        # every column is bounded below and every cost but the payouts' is >= 0; the payouts are
        # bounded (by their caps or the wafers made), so the LP is never unbounded: "unbounded or
        # infeasible" means infeasible
        if status in (highspy.HighsModelStatus.kInfeasible,
                      highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
        return self.first_stage_cost(a) + h.getInfo().objective_function_value


def every_assignment(data: RawData):
    """Every assignment the linking rules allow: modules (0..N), qualifications and take-ups only
    at open sites, and an open site holds at least one module (:data:`OPEN_SITE_NEEDS_A_MODULE`)."""
    per_site = []
    for s in data.sites:
        rows = [(s, p) for (t, p) in data.modules if t == s]
        pairs = [(u, s) for u in data.suppliers]
        conds = [k for k, g in enumerate(data.instruments) if g["site"] == s and g["conditional"]]
        options = [(0, dict.fromkeys(rows, 0), dict.fromkeys(pairs, 0), dict.fromkeys(conds, 0))]
        for counts in itertools.product(*(range(data.modules[k][2] + 1) for k in rows)):
            if OPEN_SITE_NEEDS_A_MODULE and not any(counts):
                continue
            for quals in itertools.product((0, 1), repeat=len(pairs)):
                for takes in itertools.product((0, 1), repeat=len(conds)):
                    options.append((1, dict(zip(rows, counts, strict=True)),
                                    dict(zip(pairs, quals, strict=True)),
                                    dict(zip(conds, takes, strict=True))))
        per_site.append(options)
    for combo in itertools.product(*per_site):
        a = Assignment(build={}, modules={}, qualify={}, take={})
        for s, (z, n, v, e) in zip(data.sites, combo, strict=True):
            a.build[s] = z
            a.modules.update(n)
            a.qualify.update(v)
            a.take.update(e)
        yield a


@dataclass
class Truth:
    """The brute force's answer: least total (None: no assignment has a plan) and its plan."""

    best: float | None
    plan: Assignment | None
    visited: int
    solved: int


def brute_force(case: Case, prune: bool = True, loosen: tuple = ()) -> tuple[Truth, SecondStage]:
    """Least total cost over every assignment.

    With ``prune``, assignments are visited in order of :meth:`SecondStage.lower_bound` and the
    visit stops once that bound reaches the best total found; the minimum is the same.
    ``loosen`` names rules left out, to show that a case depends on them: "local" and "kappa"
    (the local-share and utilisation conditions of conditional offers), "product" (production
    subsidies then pay for every product made at their site).
    """
    data = RawData(case)
    if "product" in loosen:
        for g in data.instruments:
            g["product"] = None
    lp = SecondStage(data)
    lp.conditions = [c for c in lp.conditions if c[2] not in loosen]
    todo = list(every_assignment(lp.data))
    if prune:
        todo.sort(key=lp.lower_bound)
    best, plan = None, None
    for a in todo:
        if prune and best is not None and lp.lower_bound(a) >= best:
            break
        value = lp.solve(a)
        if value is not None and (best is None or value < best):
            best, plan = value, a
    return Truth(best, plan, len(todo), lp.solves), lp


def package_plan(run, data: RawData) -> Assignment:
    """The first-stage decisions of a package solution, in this file's terms."""
    tab = run.results.tables
    build = {s: int(o) for s, o in tab["sites"][["site", "open"]].itertuples(index=False)}
    modules = dict.fromkeys(data.modules, 0)
    modules.update({(s, p): int(n) for s, p, n in
                    tab["capacity"][["site", "product", "modules"]].itertuples(index=False)})
    qualify = {(u, s): 0 for u in data.suppliers for s in data.sites}
    quals = tab["qualification"][["supplier", "site", "qualified"]]
    qualify.update({(u, s): int(v) for u, s, v in quals.itertuples(index=False)})
    taken = {(g, s): bool(e) for g, s, e in tab["subsidies"][["instrument", "site", "taken"]].itertuples(index=False)}
    take = {k: int(taken[g["id"], g["site"]]) for k, g in enumerate(data.instruments) if g["conditional"]}
    return Assignment(build=build, modules=modules, qualify=qualify, take=take)
