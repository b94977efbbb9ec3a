"""The programme's allocation: which priced options a government funds within a budget.

Each option belongs to one group (one firm's decision) and has a cost (its break-even offer, money
unit, undiscounted) and what it brings (domestic fabs, capacity, investment, locally sourced
capacity). Every group has options of cost 0 (each project as it stands, with no offer). The
allocation is the knapsack MIP

    max  sum_o v[o] x[o] - delta sum_o c[o] x[o]
    s.t. sum_o c[o] x[o] <= B,   sum_{o in g} x[o] = 1 for every group g,   x binary,

solved by HiGHS; delta (1e-9 of the objective's scale per money unit of the whole pool) only breaks
ties between allocations worth the same in favour of the cheaper one. The fab curve is the least
outlay for each number of domestic fabs (min sum c x s.t. sum fabs x >= k, one option per group),
whose differences are the marginal cost of each additional fab.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.solve import SolverOptions, solve_small

#: The column of the options table each objective maximises.
VALUE = {"fabs": "fabs", "capacity": "capacity_wafers_per_year", "investment": "investment",
         "local-share": "local_capacity_wafers_per_year"}


def _groups(options: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    groups = list(dict.fromkeys(options["group"]))
    rows = np.zeros((len(groups), len(options)))
    for k, g in enumerate(options["group"]):
        rows[groups.index(g), k] = 1.0
    return rows, np.ones(len(groups)), np.ones(len(groups))


def allocate(options: pd.DataFrame, budget: float, objective: str, solver: SolverOptions) -> pd.Series:
    """The options funded within ``budget``.

    Parameters
    ----------
    options
        Needs ``group``, ``offer`` (money unit) and the objective's column (:data:`VALUE`); rows
        with a missing offer (no offer opens the site) are never chosen.
    budget
        What may be offered in all (money unit).
    objective
        What the choice maximises, a key of :data:`VALUE`.
    solver
        HiGHS's options.

    Returns
    -------
    pandas.Series
        A boolean mask over the rows of ``options``.
    """
    ok = options["offer"].notna().to_numpy()
    opts = options[ok]
    value = opts[VALUE[objective]].fillna(0.0).to_numpy(float)
    cost = opts["offer"].to_numpy(float)
    scale = max(1.0, float(np.abs(value).max()) if len(value) else 1.0)
    delta = 1e-9 * scale / max(1.0, float(cost.sum()))
    g_rows, g_lo, g_hi = _groups(opts)
    rows = np.vstack([cost[None, :], g_rows])
    lo = np.concatenate([[-np.inf], g_lo])
    hi = np.concatenate([[budget], g_hi])
    status, x, _ = solve_small(value - delta * cost, rows, lo, hi, np.zeros(len(opts)), np.ones(len(opts)),
                               np.ones(len(opts), bool), solver, maximise=True)
    chosen = pd.Series(False, index=options.index)
    if x is None:
        raise RuntimeError(f"the allocation MIP ended {status}: every group has an option of cost 0, so it cannot")
    chosen[opts.index[x > 0.5]] = True
    return chosen


def fab_curve(options: pd.DataFrame, solver: SolverOptions) -> pd.DataFrame:
    """Least outlay for each number of domestic fabs from the fewest (no money) to the most.

    Returns
    -------
    DataFrame
        ``fabs``, ``least_outlay`` (money unit), ``marginal_cost`` (of the last fab(s) added),
        ``investment`` and ``capacity_wafers_per_year`` of that allocation, ``options`` chosen.
    """
    ok = options["offer"].notna().to_numpy()
    opts = options[ok]
    fabs = opts["fabs"].to_numpy(float)
    cost = opts["offer"].to_numpy(float)
    g_rows, g_lo, g_hi = _groups(opts)
    most = int(round(sum(opts.groupby("group")["fabs"].max())))
    least = int(round(sum(opts[opts["offer"] == 0].groupby("group")["fabs"].max().reindex(
        opts["group"].unique()).fillna(0.0))))
    rows_out, previous = [], None
    for k in range(least, most + 1):
        rows = np.vstack([fabs[None, :], g_rows])
        lo = np.concatenate([[k], g_lo])
        hi = np.concatenate([[np.inf], g_hi])
        # least outlay first; among equals the most investment (a tiny reward, far below a money unit)
        inv = opts["investment"].fillna(0.0).to_numpy(float)
        tie = 1e-9 / max(1.0, float(inv.sum()))
        status, x, _ = solve_small(cost - tie * inv, rows, lo, hi, np.zeros(len(opts)), np.ones(len(opts)),
                                   np.ones(len(opts), bool), solver)
        if x is None:
            continue
        pick = x > 0.5
        outlay = float(cost[pick].sum())
        rows_out.append({"fabs": int(round(fabs[pick].sum())), "target_fabs": k, "least_outlay": outlay,
                         "marginal_cost": None if previous is None else outlay - previous,
                         "investment": float(inv[pick].sum()),
                         "capacity_wafers_per_year":
                             float(opts["capacity_wafers_per_year"].to_numpy(float)[pick].sum()),
                         "options": "; ".join(opts["option"][pick][opts["offer"][pick] > 0])})
        previous = outlay
    return pd.DataFrame(rows_out)
