"""Check a solution's use of site resources against the raw ``resources`` and ``resource_use`` tables.

What production draws is recomputed from the production table and the use per wafer; the limit
in each scenario from ``scenario_effects`` (:class:`siting.report.verify.Factors`), not from the
derived tables. Every row must hold: use <= limit (0 at a closed site) + the most extra supply
(0 where none is offered).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.report.verify import RTOL, Factors, _columns, _place


def verify_resources(inst, results) -> list[str]:
    """Return a line for every resource row the solution breaks (empty: all hold)."""
    res = inst["resources"]
    if res.empty:
        return []
    prod = results.tables["production"]
    sites = results.tables["sites"]
    scenarios = results.tables["scenarios"]["scenario"].tolist()
    is_open = dict(zip(sites["site"], sites["open"]))
    sites_at = _place(_columns(inst["sites"]))
    factor = Factors(inst)
    ru = inst["resource_use"]
    # the raw rows, read again here: a market's own row replaces the row for every market
    use: dict = {}
    for r, p, mk, u in zip(ru["resource"], ru["product"], ru["market"], ru["per_wafer"]):
        use[(r, p, mk if isinstance(mk, str) and mk else "*")] = float(u)
    out = []
    for r, s, kind, unit, limit, cost, most in zip(res["id"], res["site"], res["kind"], res["unit"], res["limit"],
                                                   res["extra_cost"], res["extra_max"]):
        place = {**sites_at[s], "id": r, "kind": kind}
        extra = 0.0 if pd.isna(cost) else (np.inf if pd.isna(most) else float(most))
        here = prod[prod["site"] == s]
        drawn: dict = {}
        for mk, p, t, w, x in zip(here["market"], here["product"], here["period"], here["scenario"],
                                  here["wafers_per_year"]):
            u = use.get((r, p, mk), use.get((r, p, "*"), 0.0))
            drawn[(t, w)] = drawn.get((t, w), 0.0) + u * float(x)
        for (t, w), used in sorted(drawn.items()):
            allowed = float(limit) * factor("resource", w, place, "*") * float(bool(is_open.get(s, False)))
            if used > allowed + extra + RTOL * max(1.0, allowed):
                at = "(" + ", ".join([r, *([t] if len(inst["periods"]) > 1 else []),
                                      *([w] if len(scenarios) > 1 else [])]) + ")"
                beyond = "" if extra == 0 else f" plus at most {extra:.6g} extra"
                out.append(f"resource {at}: draws {used:.6g} {unit}".rstrip() +
                           f", the limit is {allowed:.6g}{beyond}")
    return out
