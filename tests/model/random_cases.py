"""Random small instances and an independent brute-force truth for them.

The truth here owes nothing to the package's model: every assignment of the first-stage integer
decisions (build per site, modules per site and product, qualification per supplier and site) is
enumerated, and for each one the remaining LP (production, purchases, unmet demand, payouts) is
built from the raw tables of this file's generator and solved with highspy directly. The least
total over all assignments must equal the objective ``run_case`` reports with the ``exact``
profile. Only the capital recovery factor formula is shared with MODEL.md, and it is written out
again here.

Freight rates are zero in every instance, so freight comes only from ``lanes`` rows (no geodesic
distances are needed). Each instance draws its own mix of features from its seed: money in plain
currency or in millions, CRF = 1 or r = 8% over 10 years (sometimes per site), hard or penalised
demand, capex grants (capped or not), lump sums, local-share targets, inputs that do not count
for the local share, qualification overrides, lanes, tariffs, and edge rows (a product no site
can make, a demand row of zero, a modules row with max_modules 0).

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

    def write(self, folder: Path) -> Path:
        """Write ``instance.yaml`` and one CSV per non-empty table into ``folder``."""
        csv = {name: df.to_csv(index=False) for name, df in self.tables.items() if len(df)}
        return write_instance(folder, csv, self.settings, name=f"random-{self.seed}")


def assignments_count(maxn: dict, n_sites: int, n_suppliers: int) -> int:
    """How many (build, modules, qualify) assignments the enumeration visits."""
    total = 1
    for s in range(n_sites):
        combos = math.prod(n + 1 for (t, _), n in maxn.items() if t == s)
        open_options = (combos - 1 if OPEN_SITE_NEEDS_A_MODULE else combos) * 2**n_suppliers
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
        ``target``, ``lanes``, ``tariffs``, ``qual_override``, and the edge rows ``orphan`` (a
        product no site can make), ``zero_demand`` (a demand row of 0 wafers), ``dead_module`` (a
        modules row with max_modules 0), all bools. Every draw happens whether forced or not, so
        forcing one switch leaves the rest of the instance unchanged.
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

    tables = {"sites": sites, "products": products, "modules": modules, "markets": markets,
              "demand": demand, "inputs": inputs, "bom": bom, "suppliers": suppliers,
              "offers": offers, "qualification": qualification, "lanes": lanes,
              "tariffs": tariffs, "instruments": instruments, "local_targets": local_targets}
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


class RawData:
    """Plain dictionaries read from a :class:`Case`'s tables, money in the money unit.

    Per-unit amounts (prices, operating costs, lanes, duties, penalties) stay in currency here;
    ``per_unit`` converts them (1 / 1e6 when the money unit is USD million).
    """

    def __init__(self, case: Case):
        st = case.settings
        empty = pd.DataFrame()

        def rows(name):
            return case.tables.get(name, empty).to_dict("records")

        self.per_unit = 1.0 / case.money
        self.sites = [r["id"] for r in rows("sites")]
        self.country, self.crf, self.fixed = {}, {}, {}
        for r in rows("sites"):
            rate = r.get("discount_rate")
            years = r.get("lifetime_years")
            rate = float(rate) if given(rate) else st["discount_rate"]
            years = float(years) if given(years) else st["lifetime_years"]
            self.crf[r["id"]] = capital_recovery(rate, years)
            self.fixed[r["id"]] = float(r["fixed_cost"])
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
        self.instruments = rows("instruments")
        self.targets = {r["site"]: float(r["target"]) for r in rows("local_targets")}

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

    def grant_limit(self, g: dict, capex: float) -> float:
        """Most a capex grant pays on ``capex``: rate x capex, and no more than its cap."""
        most = float(g["rate"]) * capex
        return min(most, float(g["cap"])) if given(g["cap"]) else most

    def is_local(self, u: str, s: str) -> bool:
        """The default rule: same country."""
        return self.country[u] == self.country[s]


@dataclass
class Assignment:
    """First-stage decisions: build[s], modules[(s, p)], qualify[(u, s)]."""

    build: dict
    modules: dict
    qualify: dict

    def label(self) -> str:
        opened = [s for s, z in self.build.items() if z]
        mods = {f"{s}/{p}": n for (s, p), n in self.modules.items() if n}
        quals = [f"{u}@{s}" for (u, s), v in self.qualify.items() if v]
        return f"open={opened} modules={mods} qualified={quals}"


class SecondStage:
    """The LP left once an :class:`Assignment` is fixed, built from :class:`RawData` alone.

    Columns: x[s,m,p] (wafers), r[m,p] (unmet), q[u,s,i] (purchases; every offer to every site),
    payout[g]. Rows: demand balance, capacity (right-hand side K n), input balance (every site and
    input), supplier capacity, local share (sites with a target). First-stage decisions enter only
    through bounds and right-hand sides, so one highspy model is re-solved for every assignment.
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
        self.g = [column(-d.crf[g["site"]], 0.0, 0.0) for g in d.instruments]

        rows, row_lo, row_up = [], [], []

        def row(terms, lo, up):
            rows.append(terms)
            row_lo.append(lo)
            row_up.append(up)
            return len(rows) - 1

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
            # sum_{u local, i counts} c q >= tau sum_{u, i counts} c q, as one homogeneous row
            terms = [(k, (float(d.is_local(u, s)) - tau) * d.offers[u, i][1])
                     for (u, ss, i), k in self.q.items() if ss == s and d.counts[i]]
            row(terms, 0.0, INF)

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
        """(lower, upper) payout of each instrument: a grant up to rate x capex and its cap at an
        open site; a lump sum exactly its amount at an open site; nothing at a closed site."""
        d = self.data
        out = []
        for g in d.instruments:
            s = g["site"]
            if not a.build[s]:
                out.append((0.0, 0.0))
            elif g["kind"] == "capex_grant":
                out.append((0.0, d.grant_limit(g, d.capex(s, 1, a.modules))))
            else:
                out.append((float(g["amount"]), float(g["amount"])))
        return out

    def lower_bound(self, a: Assignment) -> float:
        """First-stage cost less the most the instruments can pay: every second-stage cost
        coefficient is >= 0 (prices, freight, duties, penalties), so no plan does better."""
        paid = zip(self.data.instruments, self.payout_bounds(a), strict=True)
        return self.first_stage_cost(a) - sum(self.data.crf[g["site"]] * up for g, (_, up) in paid)

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
        rup = [d.modules[s, p][0] * a.modules[s, p] for (s, p) in self.capacity]
        h.changeRowsBounds(len(ridx), np.array(ridx, dtype=np.int32), np.full(len(ridx), -INF),
                           np.array(rup, dtype=float))
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        # every column is bounded below and every cost but the (bounded) payouts is >= 0, so the
        # LP is never unbounded: "unbounded or infeasible" means infeasible
        if status in (highspy.HighsModelStatus.kInfeasible,
                      highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
        return self.first_stage_cost(a) + h.getInfo().objective_function_value


def every_assignment(data: RawData):
    """Every assignment the linking rules allow: modules (0..N) and qualifications only at open
    sites, and an open site holds at least one module (:data:`OPEN_SITE_NEEDS_A_MODULE`)."""
    per_site = []
    for s in data.sites:
        rows = [(s, p) for (t, p) in data.modules if t == s]
        pairs = [(u, s) for u in data.suppliers]
        options = [(0, dict.fromkeys(rows, 0), dict.fromkeys(pairs, 0))]
        for counts in itertools.product(*(range(data.modules[k][2] + 1) for k in rows)):
            if OPEN_SITE_NEEDS_A_MODULE and not any(counts):
                continue
            for quals in itertools.product((0, 1), repeat=len(pairs)):
                options.append((1, dict(zip(rows, counts, strict=True)),
                                dict(zip(pairs, quals, strict=True))))
        per_site.append(options)
    for combo in itertools.product(*per_site):
        a = Assignment(build={}, modules={}, qualify={})
        for s, (z, n, v) in zip(data.sites, combo, strict=True):
            a.build[s] = z
            a.modules.update(n)
            a.qualify.update(v)
        yield a


@dataclass
class Truth:
    """The brute force's answer: least total (None: no assignment has a plan) and its plan."""

    best: float | None
    plan: Assignment | None
    visited: int
    solved: int


def brute_force(case: Case, prune: bool = True) -> tuple[Truth, SecondStage]:
    """Least total cost over every assignment.

    With ``prune``, assignments are visited in order of :meth:`SecondStage.lower_bound` and the
    visit stops once that bound reaches the best total found; the minimum is the same.
    """
    lp = SecondStage(RawData(case))
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
    return Assignment(build=build, modules=modules, qualify=qualify)
