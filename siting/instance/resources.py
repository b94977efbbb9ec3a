"""Site resources: water, grid power, engineers or a shared tool pool that limit an open site.

A resource (``resources.csv``) belongs to one site and has a limit, a rate the site may draw
while it is open (m3 per day, MW, headcount); ``resource_use.csv`` says what one wafer a year of a
product made there draws. Beyond the limit the site may buy more at ``extra_cost`` per unit and
year (up to ``extra_max``), or not at all. Scenario effects with target ``resource`` scale the
limit (an Arizona water cut).

This module checks the tables and derives the model's rows. Plain pandas, no Pyomo.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.errors import ProblemCollector
from siting.instance.schema import TABLES, key_label

#: Columns of :func:`resource_rows`.
ROW_COLUMNS = ("resource", "site", "period", "scenario", "limit", "extra_cost", "extra_max")


def check_resources(typed: dict[str, pd.DataFrame], origins: dict[str, str], found: ProblemCollector) -> None:
    """Rules of the resource tables that one column alone cannot state."""
    res = typed["resources"]
    where = origins.get("resources", "resources.csv")
    table = TABLES["resources"]
    for row_no, r in res.iterrows():
        if pd.notna(r["extra_max"]) and pd.isna(r["extra_cost"]):
            found.add(f"{where} row {row_no} {key_label(table, r.to_dict())} column extra_max",
                      f"is {r['extra_max']:g} but extra_cost is empty", "give the cost of the extra supply, or "
                      "leave extra_max empty (no supply beyond the limit)")
    use = typed["resource_use"]
    if len(res) and not len(use):
        found.add(where, "has resources but resource_use.csv gives no use of them",
                  "add resource_use.csv: what one wafer a year of each product draws of each resource")


def resource_rows(inst, periods: tuple[str, ...], scenario_ids: tuple[str, ...], factor: np.ndarray,
                  per_unit: float) -> pd.DataFrame:
    """One row per (resource, period, scenario): the site, its limit in the scenario, the cost
    of a unit above it (money per unit and year; NaN: no extra supply) and the most extra (inf:
    unbounded; 0 without extra supply).

    Parameters
    ----------
    inst
        The checked instance.
    periods, scenario_ids
        The periods and scenarios of the derived tables.
    factor
        Rows of ``resources`` x scenarios: the scenario's factor on each limit.
    per_unit
        Money units per currency unit.
    """
    res = inst["resources"]
    n, nt, nw = len(res), len(periods), len(scenario_ids)
    if not n:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("resource", "site", "period", "scenario") else float)
                             for c in ROW_COLUMNS})
    cost = res["extra_cost"].astype(float).to_numpy()
    most = res["extra_max"].astype(float).to_numpy()
    most = np.where(np.isnan(cost), 0.0, np.where(np.isnan(most), np.inf, most))
    # order: resource, then period, then scenario
    limit = np.repeat(res["limit"].astype(float).to_numpy()[:, None] * factor, nt, axis=0)
    return pd.DataFrame({
        "resource": np.repeat(res["id"].to_numpy(dtype=object), nt * nw),
        "site": np.repeat(res["site"].to_numpy(dtype=object), nt * nw),
        "period": np.tile(np.repeat(np.array(periods, dtype=object), nw), n),
        "scenario": np.tile(np.array(scenario_ids, dtype=object), n * nt),
        "limit": limit.ravel(),
        "extra_cost": np.repeat(cost * per_unit, nt * nw),
        "extra_max": np.repeat(most, nt * nw),
    })


def use_table(inst) -> pd.DataFrame:
    """``resource, site, product, market, per_wafer``: what a wafer a year of each product
    (for a market, or ``*`` for every market) draws."""
    use = inst["resource_use"]
    site = dict(zip(inst["resources"]["id"], inst["resources"]["site"]))
    market = use["market"].fillna("*").replace("", "*")
    return pd.DataFrame({"resource": use["resource"].to_numpy(dtype=object),
                         "site": np.array([site[r] for r in use["resource"]], dtype=object),
                         "product": use["product"].to_numpy(dtype=object),
                         "market": market.to_numpy(dtype=object),
                         "per_wafer": use["per_wafer"].astype(float).to_numpy()})


def use_lookup(rows) -> dict:
    """(resource, product, market) -> use per wafer from ``(resource, product, market, per_wafer)``
    rows, with market ``*`` for every market; :func:`use_of` reads it."""
    return {(r, p, m if m not in ("", None) else "*"): float(u) for r, p, m, u in rows}


def use_of(lookup: dict, resource: str, product: str, market: str) -> float | None:
    """What a wafer of ``product`` for ``market`` draws of ``resource``: the market's own row,
    else the row for every market, else None (it draws nothing)."""
    u = lookup.get((resource, product, market))
    return lookup.get((resource, product, "*")) if u is None else u
