"""Marginal values of the limits a planner can negotiate: local share, capacity, supplier capacity.

Each limit is moved one unit each way in the LP with the plan's integer decisions fixed (sites,
modules, qualifications), and the change in the optimal annual cost is reported for both
directions (:func:`siting.solve.fixed_lp_rates`). These one-sided rates are what one more (or one
less) unit is worth; unlike a dual of a degenerate LP, they do not depend on which of many optimal
bases HiGHS returns, so they are the same from one HiGHS version to the next.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.report.extract import Solution, read_solution
from siting.solve import Compiled, Probe, SolverOptions, fixed_lp_rates

COLUMNS = ["constraint", "site", "product", "supplier", "input", "scenario", "value", "more", "less",
           "unit", "meaning"]

#: One "unit" of a local-share target: one percentage point.
POINT = 0.01


def marginal_values(sm, compiled: Compiled | None, values: np.ndarray | None, options: SolverOptions,
                    solution: Solution | None = None) -> pd.DataFrame:
    """One-sided marginal values of local-share, capacity and supplier-capacity limits.

    Parameters
    ----------
    sm
        The solved model (its values set).
    compiled, values
        The compiled model and the MIP solution whose integer decisions are held.
    options
        Solver options (the same tolerances as the solve).
    solution
        The solution's arrays, if already read.

    Returns
    -------
    pandas.DataFrame
        One row per limit: ``more`` and ``less`` are the change in the firm's annual cost when the
        limit is one unit higher or lower (a wafer a year of capacity, a unit a year of a supplier's
        capacity, a percentage point of a local-share target; negative: a saving), in ``unit``;
        empty where that change leaves no plan with the same sites and modules, or would take a
        target above 100% or below 0%. ``value`` is the
        one the ``meaning`` names: for capacities the saving from one more unit (-``more``), for
        a local-share target the cost of one more point (``more``). Capacity rows are listed only
        where modules are built, local-share rows only at open sites.
    """
    if compiled is None or values is None:
        return pd.DataFrame(columns=COLUMNS)
    m, d = sm.model, sm.data
    st = d.instance.settings
    sol = solution or read_solution(sm)
    is_open = dict(zip(d.sites["site"], sol.build > 0.5))
    row_of = {id(row[0]): n for n, row in enumerate(compiled.rows) if row is not None}
    share = dict(zip(d.local_targets["site"], d.local_targets["target"]))
    rows, probes = [], []

    local = [(s, t, w) for (s, t, w) in m.LOCAL if is_open[s] and id(m.local_share[s, t, w]) in row_of]
    if local:
        col_of = {id(v): n for n, v in enumerate(compiled.columns)}
        price = d.arcs["price"].values
    for s, t, w in local:
        # one point more of target tau: each coefficient (local - tau) price / scale loses
        # 0.01 price / scale (the row was divided by its largest coefficient when built)
        arcs = np.flatnonzero((d.arcs["site"].values == s) & d.arcs["counts"].values
                              & (d.arcs["period"].values == t) & (d.arcs["scenario"].values == w))
        scale = sm.row_scale["local_share"][s, t, w]
        coefs = tuple((col_of[id(m.purchase[a])], -POINT * price[a] / scale) for a in arcs
                      if id(m.purchase[a]) in col_of)
        probes.append(Probe(row=row_of[id(m.local_share[s, t, w])], coefs=coefs))
        rows.append(dict(constraint="local_share", site=s, scenario=w, unit=f"{st.money_label} per year per point",
                         meaning=f"cost of raising the local-share target above {share[s]:.0%} by one point"))
    for k, w in m.CAPACITY:
        n = row_of.get(id(m.capacity[k, w]))
        if n is None or sol.modules[k] < 0.5:
            continue
        probes.append(Probe(row=n, step=1.0))
        rows.append(dict(constraint="capacity", site=d.modules.at[k, "site"], product=d.modules.at[k, "product"],
                         scenario=w, unit=f"{st.currency} per wafer per year",
                         meaning="saving from one more wafer per year of built capacity"))
    for o, w in m.SUPPLY:
        n = row_of.get(id(m.supplier_capacity[o, w]))
        if n is None:
            continue
        probes.append(Probe(row=n, step=1.0))
        rows.append(dict(constraint="supplier_capacity", supplier=d.offers.at[o, "supplier"],
                         input=d.offers.at[o, "input"], scenario=w, unit=f"{st.currency} per unit per year",
                         meaning="saving from one more unit per year of the supplier's capacity"))
    if not probes:
        return pd.DataFrame(columns=COLUMNS)
    rates = fixed_lp_rates(compiled, values, options, probes, implied_rows(sm, compiled, sol))
    if rates is None:
        return pd.DataFrame(columns=COLUMNS)
    for row, (more, less) in zip(rows, rates, strict=True):
        # local share in the money unit per point; capacities in plain currency per unit
        factor = 1.0 if row["constraint"] == "local_share" else d.money
        if row["constraint"] == "local_share":
            # a target is a share: one point more than 100% or less than 0% is not a target
            tau = share[row["site"]]
            more = more if tau + POINT <= 1 + 1e-12 else np.nan
            less = less if tau - POINT >= -1e-12 else np.nan
        row["more"], row["less"] = _clean(more * factor), _clean(less * factor)
        row["value"] = row["more"] if row["constraint"] == "local_share" else _clean(-more * factor)
    return pd.DataFrame(rows, columns=COLUMNS)


def _clean(x: float) -> float:
    """+0.0 for -0.0, so that a zero prints as 0 (NaN stays NaN)."""
    return x + 0.0


def implied_rows(sm, compiled: Compiled, sol: Solution) -> np.ndarray:
    """Rows the fixed-integer LP does not need: every ``route_link`` row (x <= min(d, K) n is
    implied by the demand and capacity rows once n is fixed), and the ``qualification_link`` rows
    of qualified arcs (q <= B is implied by the supplier's capacity and the site's need; an arc
    whose supplier is not qualified keeps its row, which holds its purchases at zero)."""
    freed = compiled.freed
    routes = np.asarray(freed.get("route_link", []), dtype=np.int64)
    links = np.asarray(freed.get("qualification_link", []), dtype=np.int64)
    if links.size:
        qualified = sol.qualify[sm.data.arcs["qualification"].values] > 0.5
        links = links[qualified[: links.size]]
    return np.concatenate([routes, links])
