"""The floor: the OR-Library reduction built directly with highspy, no Pyomo, no pandas.

This is what the capacitated facility location model costs when nothing stands between the data
and HiGHS: numpy arrays handed to ``Highs.passModel``. It builds the *same* matrix as
``siting`` builds for the reduction of MODEL.md (see ``siting.instance.orlib``), with the same
column order, row order, signs and bounds, so that a comparison of solve times is a comparison
at equal order (``tests/benchmarks/test_floor_order.py`` checks this array by array).

Columns (``siting.solve.compile_model`` passes ``build, modules, ..., produce``):

- ``build[i]``, i = 0..m-1: binary, cost 0 (the sites themselves carry no fixed cost);
- ``modules[i]``: integer in [0, 1], cost f_i (the warehouse's fixed cost, CRF = 1);
- ``produce[i, j]``, site-major (all customers of warehouse 1 first): >= 0, cost c_ij / d_j.

Rows (constraint declaration order in ``siting.model``):

- ``module_site[i]``:     modules_i - build_i <= 0
- ``site_needs_module[i]``: build_i - modules_i <= 0
- ``demand_balance[j]``:  sum_i produce_ij = d_j
- ``capacity[i]``:        sum_j produce_ij - s_i modules_i <= 0
- ``route_link[i, j]``:   produce_ij - min(d_j, s_i) modules_i <= 0   (site-major)
- ``demand_cover``:       sum_i s_i modules_i >= sum_j d_j

Customers with zero demand have no demand row in ``siting`` and are dropped here too; zero
coefficients are not stored.

Run as a script it solves one file and prints one JSON line (times and peak memory)::

    python benchmarks/floor.py cap41.txt
    python benchmarks/floor.py capa.txt --capacity 8000 --time-limit 300
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np

#: HiGHS options of the tool's ``exact`` profile (solvers/exact.toml), by their HiGHS names.
EXACT_OPTIONS: dict[str, object] = {
    "mip_rel_gap": 1e-9, "mip_abs_gap": 1e-9, "threads": 1, "random_seed": 0, "presolve": "choose",
    "primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9, "mip_feasibility_tolerance": 1e-9,
}


def cost_scale(cost: np.ndarray) -> float:
    """The power of two the tool multiplies its objective by (``siting.solve.objective_scale``:
    smallest nonzero cost lifted to at least 1, largest kept at most 1e7, never below 1), written
    out here so that the floor imports nothing of the package and HiGHS does the same work."""
    mags = np.abs(cost[(cost != 0) & np.isfinite(cost)])
    if not mags.size:
        return 1.0
    up = int(np.ceil(np.log2(1.0 / mags.min())))
    most = int(np.floor(np.log2(1e7 / mags.max())))
    return float(2.0 ** max(0, min(up, most)))


@dataclass
class FloorModel:
    """The reduction as the arrays ``Highs.passModel`` takes (column-wise matrix).

    Attributes
    ----------
    cost, lower, upper
        Objective coefficient and bounds per column.
    row_lower, row_upper
        Row bounds (-inf / inf where a side is open).
    start, index, value
        The constraint matrix in compressed sparse column form.
    integer
        True for integer columns.
    """

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    integer: np.ndarray

    @property
    def num_col(self) -> int:
        """Number of columns."""
        return len(self.cost)

    @property
    def num_row(self) -> int:
        """Number of rows."""
        return len(self.row_lower)


def read_orlib(text: str, capacity: float | None = None) -> dict:
    """Parse an OR-Library capacitated warehouse file into numpy arrays.

    Parameters
    ----------
    text
        File content (whitespace separated; line breaks carry no meaning).
    capacity
        Capacity to use where the file holds the word ``capacity`` (capa, capb, capc).

    Returns
    -------
    dict
        ``m``, ``n``, ``capacity`` (m), ``fixed`` (m), ``demand`` (n) and ``cost`` (n x m: the
        cost of serving all of customer j's demand from warehouse i).
    """
    tokens = text.split()
    m, n = int(tokens[0]), int(tokens[1])
    head = tokens[2:2 + 2 * m]
    caps = [capacity if t.lower() == "capacity" else t for t in head[0::2]]
    if any(c is None for c in caps):
        raise ValueError("the file's capacities are the word 'capacity': give capacity=")
    body = np.array(tokens[2 + 2 * m:], dtype=float).reshape(n, m + 1)
    return {"m": m, "n": n, "capacity": np.array(caps, dtype=float),
            "fixed": np.array(head[1::2], dtype=float), "demand": body[:, 0].copy(),
            "cost": body[:, 1:].copy()}


def build_floor(data: dict) -> FloorModel:
    """Build the reduction's arrays in the tool's column and row order.

    Parameters
    ----------
    data
        Output of :func:`read_orlib` (or of ``siting.instance.orlib.parse_orlib``).
    """
    cap = np.asarray(data["capacity"], dtype=float)
    fixed = np.asarray(data["fixed"], dtype=float)
    demand_all = np.asarray(data["demand"], dtype=float)
    keep = demand_all > 0
    d = demand_all[keep]
    c = np.asarray(data["cost"], dtype=float)[keep]          # n x m
    m, n = len(cap), len(d)
    unit = (c / d[:, None]).T.ravel()                          # site-major c_ij / d_j

    # column numbers
    build = np.arange(m)
    modules = m + np.arange(m)
    produce = (2 * m + np.arange(m * n)).reshape(m, n)
    # row numbers
    module_site = np.arange(m)
    needs_module = m + np.arange(m)
    balance = 2 * m + np.arange(n)
    capacity = 2 * m + n + np.arange(m)
    link = (3 * m + n + np.arange(m * n)).reshape(m, n)
    cover = 3 * m + n + m * n
    num_col, num_row = 2 * m + m * n, cover + 1

    ii = np.repeat(np.arange(m), n)                            # site of each route
    jj = np.tile(np.arange(n), m)                              # customer of each route
    bound = np.minimum(d[jj], cap[ii])
    pieces = [
        (module_site, build, -np.ones(m)),
        (module_site, modules, np.ones(m)),
        (needs_module, build, np.ones(m)),
        (needs_module, modules, -np.ones(m)),
        (capacity, modules, -cap),
        (link.ravel(), modules[ii], -bound),
        (np.full(m, cover), modules, cap),
        (balance[jj], produce.ravel(), np.ones(m * n)),
        (capacity[ii], produce.ravel(), np.ones(m * n)),
        (link.ravel(), produce.ravel(), np.ones(m * n)),
    ]
    rows = np.concatenate([p[0] for p in pieces])
    cols = np.concatenate([p[1] for p in pieces])
    vals = np.concatenate([p[2] for p in pieces])
    nz = vals != 0
    rows, cols, vals = rows[nz], cols[nz], vals[nz]
    order = np.lexsort((rows, cols))
    start = np.zeros(num_col + 1, dtype=np.int32)
    np.cumsum(np.bincount(cols, minlength=num_col), out=start[1:])

    cost = np.concatenate([np.zeros(m), fixed, unit])
    lower = np.zeros(num_col)
    upper = np.concatenate([np.ones(2 * m), np.full(m * n, np.inf)])
    row_lower = np.full(num_row, -np.inf)
    row_upper = np.zeros(num_row)
    row_lower[balance] = d
    row_upper[balance] = d
    row_lower[cover] = d.sum()  # pandas sums the tool's in another order: equal for integer d
    row_upper[cover] = np.inf
    integer = np.zeros(num_col, dtype=bool)
    integer[:2 * m] = True
    return FloorModel(cost=cost, lower=lower, upper=upper, row_lower=row_lower, row_upper=row_upper,
                      start=start, index=rows[order].astype(np.int32), value=vals[order],
                      integer=integer)


def solve_floor(model: FloorModel, time_limit: float | None = None,
                options: dict | None = None) -> dict:
    """Solve the arrays with HiGHS, options as the tool's ``exact`` profile.

    Parameters
    ----------
    model
        Output of :func:`build_floor`.
    time_limit
        Seconds HiGHS may run (None: no limit).
    options
        HiGHS options; :data:`EXACT_OPTIONS` when None.

    Returns
    -------
    dict
        ``status`` ("optimal", "feasible" or HiGHS's status text), ``termination``,
        ``objective``, ``best_bound``, ``mip_gap``, ``nodes`` and ``solve`` (seconds from
        creating the solver to the end of ``run``, measured as the tool measures its solve).
    """
    t0 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    scale = cost_scale(model.cost)
    opts = {**(options or EXACT_OPTIONS), **({"time_limit": float(time_limit)} if time_limit else {})}
    opts["mip_abs_gap"] = float(opts.get("mip_abs_gap", 1e-6)) * scale  # in the objective's units, as the tool
    for key, val in opts.items():
        h.setOptionValue(key, val)
    h.passModel(model.num_col, model.num_row, len(model.value), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, model.cost * scale, model.lower, model.upper,
                model.row_lower, model.row_upper, model.start, model.index, model.value,
                model.integer.astype(np.int32))
    h.run()
    t1 = time.perf_counter()
    info = h.getInfo()
    ms = h.getModelStatus()
    feasible = info.primal_solution_status == 2
    if ms == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif feasible:
        status = "feasible"
    else:
        status = h.modelStatusToString(ms)

    def finite(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    return {"status": status, "termination": h.modelStatusToString(ms),
            "objective": float(info.objective_function_value) / scale if feasible else None,
            "best_bound": None if finite(info.mip_dual_bound) is None else info.mip_dual_bound / scale,
            "mip_gap": finite(info.mip_gap) if feasible else None,
            "nodes": int(info.mip_node_count), "solve": t1 - t0}


def main(argv: list[str] | None = None) -> int:
    """Solve one OR-Library file and print one JSON line with times and peak memory."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--capacity", type=float, default=None)
    ap.add_argument("--time-limit", type=float, default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    data = read_orlib(args.file.read_text(), args.capacity)
    t1 = time.perf_counter()
    model = build_floor(data)
    t2 = time.perf_counter()
    out = solve_floor(model, args.time_limit)
    out.update(parse=t1 - t0, build=t2 - t1, columns=model.num_col, rows=model.num_row,
               nonzeros=len(model.value),
               rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
