"""No-good cuts and fixed plans on a compiled model: re-solve without building the model again.

A plan found by a solve is excluded from the next one by a row added to the compiled matrices
(:class:`siting.solve.Compiled`); the Pyomo model is never rebuilt. Two kinds of plan:

* by sites, the set O of open sites. With b the build binaries, the row
  sum_{s in O} (1 - b[s]) + sum_{s not in O} b[s] >= 1
  leaves every plan that opens or closes at least one site differently, and no other;
* by modules, the count n[s,p] of capacity modules of every site and product. A general integer
  differs from its value a either below or above, so each module column j gets two new binaries,
  lo[j] (n[j] <= a - 1) and hi[j] (n[j] >= a + 1), written with the column's own bounds
  L <= n[j] <= U (no blind big-M):
  n[j] + (U - a + 1) lo[j] <= U,   n[j] - (a + 1 - L) hi[j] >= L,
  and one row sum_j (lo[j] + hi[j]) >= 1. A binary is left out where its side is empty
  (lo at a = L, hi at a = U).

The added rows and columns come after the model's own, so a solution's first columns are still
the model's (:func:`siting.run.resolve` reads only those).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from siting.solve import Compiled

#: How added rows and columns are named in the compiled model (what the numerics report shows).
CUT = "no_good_cut"


def positions(compiled: Compiled, var) -> np.ndarray:
    """Column position of every element of the indexed Pyomo variable ``var`` in its index order
    (-1 for an element the compiler left out: it appears in no row and has no cost)."""
    where = {id(v): k for k, v in enumerate(compiled.columns)}
    return np.array([where.get(id(var[k]), -1) for k in var.index_set()], dtype=np.int64)


def add_rows(compiled: Compiled, rows: list[tuple[dict[int, float], float, float]],
             new_columns: int = 0) -> Compiled:
    """A copy of ``compiled`` with binary columns and rows appended.

    Parameters
    ----------
    compiled
        The compiled model.
    rows
        Each a map of column position to coefficient, with its lower and upper bound.
    new_columns
        Binary columns (cost 0) appended before the rows, numbered after the existing ones.

    Returns
    -------
    Compiled
        The copy; ``compiled`` is left as it was.
    """
    lp = compiled.lp
    n = len(lp["cost"])
    A = sp.csc_matrix((lp["value"], lp["index"], lp["start"]), shape=(lp["num_row"], n))
    total = n + new_columns
    if new_columns:
        A = sp.hstack([A, sp.csc_matrix((A.shape[0], new_columns))], format="csc")
    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for coef, _, _ in rows:
        cols.extend(coef)
        data.extend(coef.values())
        ptr.append(len(cols))
    added = sp.csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(cols, dtype=np.int64), ptr),
                          shape=(len(rows), total))
    A = sp.vstack([A, added], format="csc")
    A.sort_indices()
    new = dict(lp)
    new.update(
        cost=np.concatenate([lp["cost"], np.zeros(new_columns)]),
        lower=np.concatenate([lp["lower"], np.zeros(new_columns)]),
        upper=np.concatenate([lp["upper"], np.ones(new_columns)]),
        row_lower=np.concatenate([lp["row_lower"], [lo for _, lo, _ in rows]]),
        row_upper=np.concatenate([lp["row_upper"], [hi for _, _, hi in rows]]),
        start=A.indptr.astype(np.int32), index=A.indices.astype(np.int32), value=A.data.astype(float),
        num_row=A.shape[0])
    return replace(compiled, columns=[*compiled.columns, *[CUT] * new_columns],
                   rows=[*compiled.rows, *[(CUT, 0)] * len(rows)], lp=new,
                   integer=np.concatenate([compiled.integer, np.ones(new_columns, dtype=bool)]))


def site_cut(build: np.ndarray, opened: np.ndarray) -> tuple[dict[int, float], float, float]:
    """The row that excludes the set of open sites ``opened`` (bools, by site), given the build
    columns' positions ``build``."""
    coef = {int(j): (-1.0 if o else 1.0) for j, o in zip(build, opened) if j >= 0}
    return coef, 1.0 - float(sum(1 for j, o in zip(build, opened) if j >= 0 and o)), np.inf


def module_cuts(compiled: Compiled, cols: np.ndarray, counts: np.ndarray,
                first_new: int) -> tuple[list[tuple[dict[int, float], float, float]], int]:
    """Rows that exclude one set of module counts: each count moves down or up by at least one.

    Parameters
    ----------
    compiled
        The compiled model (its columns' bounds).
    cols
        The module columns' positions (-1: not in the model).
    counts
        The counts to exclude, aligned with ``cols``.
    first_new
        Position of the first new binary the rows use.

    Returns
    -------
    tuple[list, int]
        The rows (as :func:`add_rows` takes them) and how many new binaries they use.
    """
    lower, upper = compiled.lp["lower"], compiled.lp["upper"]
    rows, pick, k = [], {}, first_new
    for j, a in zip(cols, counts):
        if j < 0:
            continue
        L, U, a = float(lower[j]), float(upper[j]), float(round(a))
        if a > L:  # lo: n <= a - 1
            rows.append(({int(j): 1.0, k: U - a + 1.0}, -np.inf, U))
            pick[k] = 1.0
            k += 1
        if a < U:  # hi: n >= a + 1
            rows.append(({int(j): 1.0, k: -(a + 1.0 - L)}, L, np.inf))
            pick[k] = 1.0
            k += 1
    rows.append((pick, 1.0, np.inf))
    return rows, k - first_new


def fixed(compiled: Compiled, values: np.ndarray) -> Compiled:
    """A copy of ``compiled`` with every integer column held at its value in ``values`` (the
    first stage of a plan, as equal bounds); the second stage is left free."""
    lp = dict(compiled.lp)
    at = np.round(np.asarray(values, dtype=float)[compiled.integer])
    lp["lower"] = compiled.lp["lower"].copy()
    lp["upper"] = compiled.lp["upper"].copy()
    lp["lower"][compiled.integer] = at
    lp["upper"][compiled.integer] = at
    return replace(compiled, lp=lp)
