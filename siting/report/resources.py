"""The resources table of a solution: what each open site draws of its resources, per scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.instance.resources import use_lookup, use_of


def resource_table(d, sol) -> pd.DataFrame:
    """One row per (resource, period, scenario) of ``d.resources``: the limit in the scenario
    (0 at a closed site), what production draws, the extra drawn above the limit and its cost.

    Parameters
    ----------
    d
        The derived tables (:class:`siting.instance.derive.Derived`).
    sol
        The solution (:class:`siting.report.extract.Solution`).

    Returns
    -------
    pandas.DataFrame
        ``resource, site, period, scenario, limit, used, extra, extra_cost_per_year``; ``limit``,
        ``used`` and ``extra`` in the resource's unit, the cost in the money unit a year. The
        extra is what use exceeds the limit by: the least extra supply the plan needs, which the
        model buys when it costs something.
    """
    res, use, routes = d.resources, d.resource_use, d.routes
    site_row = {s: j for j, s in enumerate(d.sites["site"])}
    period_no = {t: n for n, t in enumerate(d.periods)}
    opened = sol.build_by_period if sol.build_by_period is not None else sol.build[:, None]
    is_open = np.array([opened[site_row[s], min(period_no[t], opened.shape[1] - 1)]
                        for s, t in zip(res["site"], res["period"])], dtype=float)
    lookup = use_lookup(use[["resource", "product", "market", "per_wafer"]].itertuples(index=False, name=None))
    resources_at: dict = {}
    for r, s in zip(use["resource"], use["site"]):
        resources_at.setdefault(s, {})[r] = None
    drawn: dict = {}
    for s, mk, p, t, w, x in zip(routes["site"], routes["market"], routes["product"], routes["period"],
                                 routes["scenario"], sol.produce):
        if not x:
            continue
        for r in resources_at.get(s, ()):
            u = use_of(lookup, r, p, mk)
            if u:
                drawn[(r, t, w)] = drawn.get((r, t, w), 0.0) + u * x
    used = np.array([drawn.get(k, 0.0) for k in zip(res["resource"], res["period"], res["scenario"])], dtype=float)
    limit = res["limit"].to_numpy(dtype=float) * is_open
    extra = np.maximum(used - limit, 0.0)
    extra = np.where(extra > 1e-9 * np.maximum(1.0, limit), extra, 0.0)
    cost = np.nan_to_num(res["extra_cost"].to_numpy(dtype=float))
    return pd.DataFrame({
        "resource": res["resource"].to_numpy(), "site": res["site"].to_numpy(), "period": res["period"].to_numpy(),
        "scenario": res["scenario"].to_numpy(), "limit": limit, "used": used, "extra": extra,
        "extra_cost_per_year": extra * cost,
    })
