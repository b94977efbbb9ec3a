"""Derive the model's data from a checked instance: plain tables, no Pyomo.

Everything the model needs is computed here, once: capital recovery factors, per-unit costs in the
money unit, freight from geodesic distances or lanes, duties, the sparse index sets (which
site-product pairs, routes and supply arcs exist) and the tight bounds used in linking
constraints. The model builder only reads these tables.

Index conventions: every second-stage table carries a ``period`` and a ``scenario`` column, and
every first-stage table a ``period`` column, so that scenarios and phased plans are more rows of
data, not a different model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from siting.instance.checked import Instance
from siting.instance.finance import crf
from siting.instance.fx import in_instance_currency
from siting.instance.geo import geodesic_km
from siting.instance.instruments import derive_instruments
from siting.instance.periods import Calendar, calendar, carry_forward, parse_ramp
from siting.instance.resources import resource_rows, use_table
from siting.instance.scenarios import NOMINAL, ScenarioFactors, scenario_factors

__all__ = ["NOMINAL", "Derived", "crf", "derive", "target_rows"]


@dataclass(frozen=True)
class Derived:
    """The model's data. Every money figure is in the instance's money unit.

    ``instance`` is the checked instance with every money amount converted to
    ``settings.currency`` (:func:`siting.instance.fx.in_instance_currency`).

    Attributes
    ----------
    periods, scenarios
        Period labels; scenarios with ``id`` and ``probability`` (the scenarios table, or the
        nominal scenario alone).
    sites
        One row per site: ``site, country, region, lat, lon, crf, fixed_cost``.
    modules
        One row per (site, product, period) that can hold modules:
        ``site, product, period, wafers_per_module, capex_per_module, max_modules``.
    demand
        ``market, product, period, scenario, wafers, penalty`` (penalty NaN: demand must be met).
    routes
        One row per (site, market, product, period, scenario) that can carry wafers:
        ``operating, freight, tariff`` (money per wafer), ``bound`` (largest flow one module
        allows: min(demand, module size)), ``module`` and ``demand_row`` (row numbers in
        ``modules`` and ``demand``).
    offers
        ``supplier, input, period, scenario, capacity, price, freight_factor, qualification_lead``
        (price in money per unit; capacity and price scaled by the scenario; the offer's
        qualification lead time in years, NaN: the supplier's).
    arcs
        One row per (supplier, input, site, period, scenario) that may carry purchases:
        ``price, freight, tariff`` (money per unit), ``bound`` (B[u,s,i]), ``local`` (whether the
        supplier counts as local to the site), ``counts`` (whether the input counts in local-share
        targets), ``offer`` and ``qualification`` (row numbers).
    qualifications
        ``supplier, site, period, cost`` (money, paid once).
    needs
        ``site, input, period, scenario``: input balances that exist.
    bom
        ``product, input, units_per_wafer``.
    local_targets
        ``site, target`` for sites with a target.
    diversification
        ``site, input, max_share`` where a supplier-share limit applies.
    min_suppliers
        ``site, input, k`` for critical inputs.
    concentration
        ``label, max_share, sites`` (tuple of site ids).
    instruments
        One row per instrument and site it is offered at, in the model's form
        (:func:`siting.instance.instruments.derive_instruments`).
    programs
        ``id, budget``: program budgets shared by the instruments naming them.
    firm_budget
        Most total capex, or None.
    availability
        ``module, scenario, share, freight_factor``: the share alpha[s,w] of a module row's capacity
        usable in each scenario, and the factor on its outbound freight.
    factors
        The scenario multipliers the second-stage tables were built with.
    resources, resource_use
        Site resources, one row per (resource, period, scenario): ``resource, site, period,
        scenario, limit, extra_cost`` (money per unit and year), ``extra_max``
        (:func:`siting.instance.resources.resource_rows`); and ``resource, site, product,
        per_wafer``: what a wafer a year of a product draws.
    """

    instance: Instance
    periods: tuple[str, ...]
    scenarios: pd.DataFrame
    sites: pd.DataFrame
    modules: pd.DataFrame
    demand: pd.DataFrame
    routes: pd.DataFrame
    offers: pd.DataFrame
    arcs: pd.DataFrame
    qualifications: pd.DataFrame
    needs: pd.DataFrame
    bom: pd.DataFrame
    local_targets: pd.DataFrame
    diversification: pd.DataFrame
    min_suppliers: pd.DataFrame
    concentration: list
    instruments: pd.DataFrame
    programs: pd.DataFrame
    firm_budget: float | None
    availability: pd.DataFrame
    factors: ScenarioFactors
    calendar: Calendar | None = None
    capacity: pd.DataFrame | None = None
    resources: pd.DataFrame | None = None
    resource_use: pd.DataFrame | None = None

    @property
    def money(self) -> float:
        """Currency units per money unit."""
        return self.instance.settings.money_multiplier


def derive(inst: Instance, factors: ScenarioFactors | None = None) -> Derived:
    """Compute the model's data from a checked instance.

    Parameters
    ----------
    inst
        The checked instance.
    factors
        Scenario multipliers to use instead of the instance's own (the expected-value and
        wait-and-see problems of the risk report); they must belong to the same instance.
    """
    # every money amount in settings.currency from here on: the model never sees a currency
    inst = in_instance_currency(inst)
    st = inst.settings
    per_unit = 1.0 / st.money_multiplier
    t = inst.tables
    cal = calendar(t, st.period, st.discount_rate)

    sites = t["sites"].copy()
    sites["discount_rate"] = sites["discount_rate"].astype(float).fillna(st.discount_rate)
    sites["lifetime_years"] = sites["lifetime_years"].astype(float).fillna(st.lifetime_years)
    sites["crf"] = [crf(r, L) for r, L in zip(sites["discount_rate"], sites["lifetime_years"])]
    sites["lead_time_years"] = sites["lead_time_years"].astype(float).fillna(0.0)
    sites = sites.rename(columns={"id": "site"})[
        ["site", "country", "region", "lat", "lon", "hazard_zones", "status", "discount_rate", "lifetime_years",
         "crf", "fixed_cost", "lead_time_years"]
    ].reset_index(drop=True)
    sites["fixed_cost"] = sites["fixed_cost"].astype(float)

    modules = _modules(t["modules"], sites, cal, st.ramp)
    capacity = _capacity(modules, cal)

    demand = carry_forward(t["demand"], ["market", "product"], cal)
    demand = demand[demand["wafers_per_year"] > 0]
    pen = demand["penalty_per_wafer"].astype(object)
    if st.unmet_penalty_per_wafer is not None:
        pen = pen.where(pen.notna(), st.unmet_penalty_per_wafer)
    base_demand = pd.DataFrame({
        "market": demand["market"].values, "product": demand["product"].values, "period": demand["period"].values,
        "wafers": demand["wafers_per_year"].astype(float).values,
        "penalty": pd.to_numeric(pen, errors="coerce").astype(float).values * per_unit,
    })
    offers = carry_forward(t["offers"], ["supplier", "input"], cal)
    base_offers = pd.DataFrame({
        "supplier": offers["supplier"].values, "input": offers["input"].values, "period": offers["period"].values,
        "capacity": offers["capacity_units_per_year"].astype(float).values,
        "price": offers["price_per_unit"].astype(float).values * per_unit,
        # the offer's own qualification lead time (NaN: the supplier's)
        "qualification_lead": offers["qualification_lead_years"].astype(float).values,
    })
    if factors is None:
        factors = scenario_factors(inst, modules, base_demand, base_offers)
    scenarios = pd.DataFrame({"id": list(factors.ids), "probability": factors.probability})
    ids = factors.ids
    # second-stage tables: one copy of the base rows per scenario, scaled by its multipliers
    demand = pd.concat([base_demand.assign(scenario=w, wafers=base_demand["wafers"].values * factors.demand[:, j])
                        for j, w in enumerate(ids)], ignore_index=True)
    demand = demand[["market", "product", "period", "scenario", "wafers", "penalty"]]
    offers = pd.concat([base_offers.assign(scenario=w, capacity=base_offers["capacity"].values * factors.capacity[:, j],
                                           price=base_offers["price"].values * factors.price[:, j],
                                           freight_factor=factors.freight_in[:, j])
                        for j, w in enumerate(ids)], ignore_index=True)
    offers = offers[["supplier", "input", "period", "scenario", "capacity", "price", "freight_factor",
                     "qualification_lead"]]
    availability = pd.DataFrame({
        "module": np.tile(np.arange(len(modules)), len(ids)), "scenario": np.repeat(ids, len(modules)),
        "share": factors.site.T.ravel(), "freight_factor": factors.freight_out.T.ravel(),
    })

    routes = _routes(inst, sites, modules, demand, availability, per_unit, capacity)
    bom = t["bom"][["product", "input", "units_per_wafer"]].reset_index(drop=True)
    bom = bom.astype({"units_per_wafer": float})
    needs, arcs, quals = _supply(inst, sites, modules, bom, offers, ids, per_unit, cal)
    local = _local_targets(inst, cal)
    diversification, min_sup = _diversification(inst, needs)
    instruments = derive_instruments(carry_forward(inst["instruments"], ["id"], cal), sites, per_unit)
    return Derived(
        instance=inst, periods=cal.ids, scenarios=scenarios, sites=sites, modules=modules,
        demand=demand, routes=routes, offers=offers, arcs=arcs, qualifications=quals,
        needs=needs, bom=bom, local_targets=local, diversification=diversification,
        min_suppliers=min_sup, concentration=_concentration(inst),
        instruments=instruments, programs=_programs(inst),
        firm_budget=st.firm_budget, availability=availability, factors=factors,
        calendar=cal, capacity=capacity,
        resources=resource_rows(inst, cal.ids, ids, factors.resource, per_unit), resource_use=use_table(inst),
    )


def _modules(table: pd.DataFrame, sites: pd.DataFrame, cal: Calendar, ramp: str) -> pd.DataFrame:
    """One row per (site, product, period) from the first period a module can be ordered in.

    ``crf`` annualises a module's capex over its own lifetime (the site's where none is given),
    ``lead`` and ``ramp`` are the lead time and ramp profile of its capacity (a snapshot has
    neither: its one period is a steady state).
    """
    modules = carry_forward(table, ["site", "product"], cal)
    modules = modules[modules["max_modules"] > 0].copy()
    by_site = sites.set_index("site")
    rate = by_site["discount_rate"].reindex(modules["site"]).values.astype(float)
    life = modules["lifetime_years"].astype(float).values
    site_life = by_site["lifetime_years"].reindex(modules["site"]).values.astype(float)
    modules["lifetime_years"] = np.where(np.isnan(life), site_life, life)
    # the site's own CRF where the module has the site's life, so that one life for both assets
    # gives the snapshot's figures to the last digit
    site_crf = by_site["crf"].reindex(modules["site"]).values.astype(float)
    modules["crf"] = [c if L == s_l else crf(r, L)
                      for c, r, L, s_l in zip(site_crf, rate, modules["lifetime_years"], site_life)]
    lead = modules["lead_time_years"].astype(float).values
    site_lead = by_site["lead_time_years"].reindex(modules["site"]).values.astype(float)
    default_ramp = parse_ramp(ramp)
    if cal.phased:
        modules["lead"] = np.where(np.isnan(lead), site_lead, lead)
        modules["ramp"] = [parse_ramp(r) if r else default_ramp for r in modules["ramp"]]
    else:
        modules["lead"] = 0.0
        modules["ramp"] = [()] * len(modules)
    modules = modules[["site", "product", "period", "wafers_per_module", "capex_per_module",
                       "max_modules", "operating_cost_per_wafer", "lifetime_years", "crf", "lead",
                       "ramp"]].reset_index(drop=True)
    return modules.astype({"wafers_per_module": float, "capex_per_module": float,
                           "max_modules": int, "operating_cost_per_wafer": float, "lifetime_years": float,
                           "crf": float, "lead": float})


def _capacity(modules: pd.DataFrame, cal: Calendar) -> pd.DataFrame:
    """Capacity of each module row's (site, product) in its period as a sum over the cumulative
    module counts of the periods it was ordered in.

    With n[t] the modules ordered by period t, capacity in period u is
    sum_t K[t] f(t, u) (n[t] - n[t-1]), f the mean ramp share in u of capacity ordered in t (0
    before its lead time has passed); regrouped on the cumulative counts, the coefficient of n[t]
    is K[t] f(t, u) - K[t+1] f(t+1, u). Returns rows ``module`` (the row of period u), ``order``
    (the row of period t) and ``coef`` (wafers a year per module), and per module row ``link``:
    the latest row whose capacity produces in u (-1: none), ``link_size``: the largest module
    size among the rows producing in u. A snapshot has one row (k, k, K[k]) per module row.
    """
    rows = []
    keys = list(zip(modules["site"], modules["product"]))
    by_key: dict = {}
    for k, key in enumerate(keys):
        by_key.setdefault(key, []).append(k)
    period = [cal.index(p) for p in modules["period"]]
    size, lead, ramp = modules["wafers_per_module"].tolist(), modules["lead"].tolist(), modules["ramp"].tolist()
    link = np.full(len(modules), -1, dtype=np.int64)
    link_size = np.zeros(len(modules))
    for ks in by_key.values():
        for u in ks:
            if not cal.phased:
                rows.append((u, u, size[u]))
                link[u], link_size[u] = u, size[u]
                continue
            share = {t: cal.ramp_share(period[t], period[u], lead[t], ramp[t]) for t in ks if period[t] <= period[u]}
            for t in (k for k in ks if period[k] <= period[u]):
                # rows of a key are consecutive periods: the next row is the next period's
                later = [k for k in ks if period[k] > period[t]]
                nxt = later[0] if later and period[later[0]] <= period[u] else None
                coef = size[t] * share[t] - (size[nxt] * share[nxt] if nxt is not None else 0.0)
                if coef != 0:
                    rows.append((u, t, coef))
                if share[t] > 0:
                    link[u] = t
                    link_size[u] = max(link_size[u], size[t])
    cap = pd.DataFrame(rows, columns=["module", "order", "coef"])
    modules["link"] = link
    modules["link_size"] = link_size
    return cap


def _lookup(table: pd.DataFrame, pair: dict[str, pd.Series], item: pd.Series, values: list[str]) -> pd.DataFrame:
    """Look each (pair, item) up in ``table``; rows naming the item override rows with item '*'.

    Returns one row per key with the ``values`` columns (NaN where no row covers the key).
    """
    index = item.index
    key = pd.DataFrame({**{k: v.values for k, v in pair.items()}, "item": item.values})
    out = pd.DataFrame(np.nan, index=index, columns=values)
    if table.empty:
        return out
    for wildcard in (True, False):
        sub = table[(table["item"] == "*") == wildcard]
        if sub.empty:
            continue
        on = list(pair) if wildcard else [*pair, "item"]
        merged = key.merge(sub[on + values].drop_duplicates(on), on=on, how="left")
        hit = merged[values[0]].notna().values
        found = merged[values].astype(float).set_axis(index)
        out = out.mask(pd.DataFrame(np.repeat(hit[:, None], len(values), axis=1), index=index, columns=values),
                       found)
    return out


def _freight(inst: Instance, items: pd.DataFrame, item: pd.Series, dist: np.ndarray, own_rate: str) -> pd.Series:
    """Freight per unit before lanes: geodesic km x route factor x the rate of the item's mode, or
    km x the item's own rate where it names no mode."""
    mode = pd.Series(items["mode"].reindex(item.values).values, index=item.index)
    rates = _lookup(inst["freight_rates"], {"mode": mode}, item, ["rate_per_unit_km", "route_factor"])
    own = items[own_rate].reindex(item.values).astype(float).values
    by_mode = rates["rate_per_unit_km"] * rates["route_factor"].fillna(1.0)
    per_km = by_mode.where(by_mode.notna() & (mode != ""), own)
    return pd.Series(dist * per_km.values, index=item.index)


def _lane_costs(inst: Instance, origin: pd.Series, dest: pd.Series, item: pd.Series) -> pd.Series:
    """Lane cost per unit where a lane (or a '*' lane) covers the pair, else NaN."""
    return _lookup(inst["lanes"], {"origin": origin, "destination": dest}, item, ["cost_per_unit"])["cost_per_unit"]


def _tariffs(inst: Instance, from_c: pd.Series, to_c: pd.Series, item: pd.Series,
             price: pd.Series | None) -> pd.Series:
    """Duty per unit (currency) from the tariffs table: duty + ad valorem share x price (inputs)."""
    rates = _lookup(inst["tariffs"], {"from_country": from_c, "to_country": to_c}, item,
                    ["duty_per_unit", "ad_valorem"]).fillna(0.0)
    duty = rates["duty_per_unit"]
    if price is not None:
        duty = duty + rates["ad_valorem"] * price.values
    return duty


def _routes(inst: Instance, sites: pd.DataFrame, modules: pd.DataFrame, demand: pd.DataFrame,
            availability: pd.DataFrame, per_unit: float, capacity: pd.DataFrame) -> pd.DataFrame:
    # a (site, product) makes nothing in a period before capacity ordered in time produces
    mod = modules[modules["link"].values >= 0].reset_index().rename(columns={"index": "module"})
    dem = demand.reset_index().rename(columns={"index": "demand_row"})
    r = mod.merge(dem, on=["product", "period"], how="inner")
    if r.empty:
        return pd.DataFrame(columns=["site", "market", "product", "period", "scenario", "operating",
                                     "freight", "tariff", "distance_km", "bound", "module", "demand_row", "link"])
    markets = inst["markets"].set_index("id")
    srow = sites.set_index("site")
    products = inst["products"].set_index("id")
    dist = geodesic_km(srow.loc[r["site"], "lat"].values, srow.loc[r["site"], "lon"].values,
                       markets.loc[r["market"], "lat"].values, markets.loc[r["market"], "lon"].values)
    freight = _freight(inst, products, r["product"], dist, "freight_per_wafer_km")
    lane = _lane_costs(inst, r["site"], r["market"], r["product"])
    freight = lane.where(lane.notna(), freight)
    at = pd.MultiIndex.from_arrays([r["module"], r["scenario"]])
    per = availability.set_index(["module", "scenario"]).reindex(at)
    freight = freight * per["freight_factor"].values
    tariff = _tariffs(inst, pd.Series(srow.loc[r["site"], "country"].values, index=r.index),
                      pd.Series(markets.loc[r["market"], "country"].values, index=r.index),
                      r["product"], None)
    return pd.DataFrame({
        "site": r["site"], "market": r["market"], "product": r["product"],
        "period": r["period"], "scenario": r["scenario"],
        "operating": r["operating_cost_per_wafer"].astype(float) * per_unit,
        "freight": freight.astype(float) * per_unit,
        "tariff": tariff.astype(float) * per_unit,
        "distance_km": dist,
        # x[s,m,p,w] <= min(d[m,p,w], alpha[s,w] K[s,p]) n[s,p] is valid: if n = 0 nothing flows;
        # if n >= 1 the flow is at most the demand and at most the available capacity alpha K n.
        # Phased: n is the count of the latest period whose orders produce now (``link``), and K
        # the largest module size among the producing orders (ramp shares are at most 1).
        "bound": np.minimum(r["wafers"].values, per["share"].values * r["link_size"].values),
        "module": r["module"], "demand_row": r["demand_row"], "link": r["link"],
    }).reset_index(drop=True)


def _local_flags(inst: Instance, sup: pd.DataFrame, site_ids: pd.Series, dist: np.ndarray) -> np.ndarray:
    """Whether each supplier row is local to each site row, by the site's rule."""
    st = inst.settings
    # the rule is the site's, in every period: its first row names it
    targets = inst["local_targets"].drop_duplicates("site").set_index("site")
    rule_of, radius_of = {}, {}
    for s in inst["sites"]["id"]:
        row = targets.loc[s] if s in targets.index else None
        rule_of[s] = row["rule"] if row is not None and not pd.isna(row["rule"]) else st.local_rule
        rad = row["radius_km"] if row is not None and not pd.isna(row["radius_km"]) else st.local_radius_km
        radius_of[s] = np.nan if rad is None or pd.isna(rad) else float(rad)
    sites = inst["sites"].set_index("id")
    rules = site_ids.map(rule_of).values
    radii = site_ids.map(radius_of).values.astype(float)
    same_country = sup["country"].values == sites["country"].reindex(site_ids).values
    same_region = same_country & (sup["region"].values == sites["region"].reindex(site_ids).values) & (
        sup["region"].values != "")
    within = dist <= radii
    return np.where(rules == "country", same_country, np.where(rules == "region", same_region, within))


def _excluded(inst: Instance, sup: pd.DataFrame, site_ids: pd.Series) -> np.ndarray:
    out = np.zeros(len(sup), dtype=bool)
    for _, rule in inst["exclusions"].iterrows():
        applies = (site_ids.values == rule["site"]) | (rule["site"] in ("*", "", None))
        hit = np.zeros(len(sup), dtype=bool)
        if rule["supplier_country"]:
            hit |= sup["country"].values == rule["supplier_country"]
        if rule["supplier_flag"]:
            hit |= np.array([rule["supplier_flag"] in f for f in sup["flags"].values], dtype=bool)
        out |= applies & hit
    return out


def _supply(inst: Instance, sites: pd.DataFrame, modules: pd.DataFrame, bom: pd.DataFrame,
            offers: pd.DataFrame, scenarios: tuple[str, ...], per_unit: float, cal: Calendar):
    # most of input i a site could ever use in a period: sum_p a[p,i] K[s,p] N[s,p] (K: the largest
    # size of the modules producing then; a snapshot's K)
    use = modules.merge(bom, on="product")
    use["most"] = use["units_per_wafer"] * use["link_size"] * use["max_modules"]
    needs = use.groupby(["site", "input", "period"], as_index=False, sort=False)["most"].sum()
    needs = pd.concat([needs.assign(scenario=w) for w in scenarios], ignore_index=True)
    needs = needs[["site", "input", "period", "scenario", "most"]]

    off = offers.reset_index().rename(columns={"index": "offer"})
    a = off.merge(needs, on=["input", "period", "scenario"], how="inner")
    suppliers = inst["suppliers"].set_index("id")
    sup = suppliers.loc[a["supplier"]].reset_index(drop=True)
    a = a.reset_index(drop=True)
    keep = ~_excluded(inst, sup, a["site"])
    a, sup = a[keep].reset_index(drop=True), sup[keep].reset_index(drop=True)
    # qualification lead time (phased only): purchases in period t need the supplier qualified at
    # the site by the latest period starting at least the lead before t; none: no purchase then
    a["qualified_by"] = a["period"]
    if cal.phased and len(a):
        own = sup["qualification_lead_years"].astype(float).fillna(0.0)
        lead = a["qualification_lead"].astype(float).fillna(own).to_numpy()
        by = [_qualified_by(cal, cal.index(t), x) for t, x in zip(a["period"], lead)]
        keep = np.array([b is not None for b in by], dtype=bool)
        a["qualified_by"] = [b if b is not None else "" for b in by]
        a, sup = a[keep].reset_index(drop=True), sup[keep].reset_index(drop=True)
    srow = sites.set_index("site")
    dist = geodesic_km(sup["lat"].values, sup["lon"].values,
                       srow.loc[a["site"], "lat"].values, srow.loc[a["site"], "lon"].values)
    inputs = inst["inputs"].set_index("id")
    freight = _freight(inst, inputs, a["input"], dist, "freight_per_unit_km")
    lane = _lane_costs(inst, a["supplier"], a["site"], a["input"])
    freight = lane.where(lane.notna(), freight) * a["freight_factor"].values
    tariff = _tariffs(inst, pd.Series(sup["country"].values, index=a.index),
                      pd.Series(srow.loc[a["site"], "country"].values, index=a.index), a["input"],
                      a["price"] / per_unit)
    local = _local_flags(inst, sup, a["site"], dist)

    qual = carry_forward(inst["qualification"], ["supplier", "site"], cal)
    qual_over = qual.set_index(["supplier", "site", "period"])["cost"] if not qual.empty else pd.Series(dtype=float)
    pairs = pd.concat([a[["supplier", "site", "period"]],
                       a[["supplier", "site", "qualified_by"]].rename(columns={"qualified_by": "period"})])
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    # rows of a (supplier, site) in period order: the cumulative rows follow each other
    pairs = pairs.iloc[np.argsort([cal.index(t) for t in pairs["period"]], kind="stable")].reset_index(drop=True)
    default_q = suppliers.loc[pairs["supplier"], "qualification_cost"].astype(float).values
    over = [qual_over.get((u, s, t), np.nan) for u, s, t in zip(pairs["supplier"], pairs["site"], pairs["period"])]
    pairs["cost"] = np.where(np.isnan(np.array(over, dtype=float)), default_q, np.array(over, dtype=float))
    qpos = {(u, s, p): k for k, (u, s, p) in enumerate(zip(pairs["supplier"], pairs["site"], pairs["period"]))}

    arcs = pd.DataFrame({
        "supplier": a["supplier"], "input": a["input"], "site": a["site"],
        "period": a["period"], "scenario": a["scenario"],
        "price": a["price"], "freight": freight * per_unit, "tariff": tariff * per_unit,
        "distance_km": dist,
        # B[u,s,i]: the supplier cannot sell more than its capacity, and the site never needs more
        # than its largest possible use of the input.
        "bound": np.minimum(a["capacity"].values, a["most"].values),
        "local": local.astype(bool),
        # whether purchases on the arc count in the site's local-share target
        "counts": inputs["counts_for_local"].reindex(a["input"]).values.astype(bool),
        # the class a scoped target selects the input by
        "class": inputs["class"].reindex(a["input"]).fillna("").values.astype(object),
        "offer": a["offer"],
        "qualification": [qpos[(u, s, p)] for u, s, p in zip(a["supplier"], a["site"], a["qualified_by"])],
    })
    return needs.reset_index(drop=True), arcs, pairs


def _qualified_by(cal: Calendar, t: int, lead: float) -> str | None:
    """The latest period starting at least ``lead`` years before period ``t`` starts (None: none)."""
    at = [u for u in range(t + 1) if cal.start[u] + lead <= cal.start[t]]
    return cal.ids[at[-1]] if at else None


def _local_targets(inst: Instance, cal: Calendar) -> pd.DataFrame:
    lt = carry_forward(inst["local_targets"], ["site"], cal)
    return pd.DataFrame({"site": lt["site"].values, "period": lt["period"].values,
                         "target": lt["target"].astype(float).values,
                         "classes": [tuple(c) if isinstance(c, tuple) else () for c in lt["classes"]]})


def target_rows(d: Derived, site: str, period: str, scenario: str | None = None) -> np.ndarray:
    """Mask of the arcs whose purchases count in ``site``'s local-share target of ``period`` (in
    ``scenario``; None: every scenario): inputs that count for local share and, where the target
    names classes, belong to one of them."""
    arcs = d.arcs
    at = (arcs["site"].values == site) & (arcs["period"].values == period) & arcs["counts"].values
    if scenario is not None:
        at &= arcs["scenario"].values == scenario
    lt = d.local_targets
    row = np.flatnonzero((lt["site"].values == site) & (lt["period"].values == period))
    classes = lt["classes"].iloc[row[0]] if len(row) else ()
    if classes:
        at &= np.isin(arcs["class"].values, list(classes))
    return at


def _diversification(inst: Instance, needs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    st = inst.settings
    inputs = inst["inputs"].set_index("id")
    share = inputs["max_supplier_share"].astype(object)
    share = share.where(share.notna(), st.max_supplier_share)
    k = inputs["min_suppliers"].astype(object)
    k = k.where(k.notna(), st.min_suppliers)
    pairs = needs[["site", "input"]].drop_duplicates()
    div = pairs.assign(max_share=share.reindex(pairs["input"]).values)
    div = div[div["max_share"].notna()].reset_index(drop=True)
    crit = inputs["critical"].reindex(pairs["input"]).values.astype(bool)
    mins = pairs.assign(k=k.reindex(pairs["input"]).values)[crit]
    mins = mins[mins["k"].notna()].reset_index(drop=True)
    return div.astype({"max_share": float}), mins.astype({"k": int})


def _concentration(inst: Instance) -> list:
    sites = inst["sites"]
    out = []
    for _, rule in inst["concentration"].iterrows():
        gt, g = rule["group_type"], rule["group"]
        if gt == "hazard_zone":
            members = tuple(s for s, z in zip(sites["id"], sites["hazard_zones"]) if g in z)
        else:
            members = tuple(sites.loc[sites[gt] == g, "id"])
        out.append((f"{gt}={g}", float(rule["max_share"]), members))
    return out


def _programs(inst: Instance) -> pd.DataFrame:
    p = inst["programs"]
    return pd.DataFrame({"id": p["id"].values, "budget": p["budget"].astype(float).values})
