"""The OR-Library importer, on small files the tests write themselves (no dependence on ../shared)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from siting.errors import InputError
from siting.instance.orlib import import_orlib, parse_orlib
from tests.helpers import solve

# 3 warehouses x 4 customers, in the OR-Library layout (line breaks carry no meaning).
TINY = """3 4
 60 100.
 50 80.
 capacity 90.
 30
 10 40 25
 20 60 15
 30 40
 20 50 80
 25 40 30 10
"""


def test_parse_reads_the_layout_and_the_capacity_word():
    data = parse_orlib(TINY, capacity=70)
    assert data["m"] == 3 and data["n"] == 4
    assert data["capacity"] == [60.0, 50.0, 70.0]
    assert data["fixed"] == [100.0, 80.0, 90.0]
    assert data["demand"] == [30.0, 20.0, 40.0, 25.0]
    assert data["cost"][1] == [60.0, 15.0, 30.0]
    assert data["cost"][2] == [20.0, 50.0, 80.0]  # customer 2: cost of ALL its demand from each warehouse


def test_capacity_word_without_a_capacity_is_a_clean_error():
    with pytest.raises(InputError, match=r"tiny warehouse 3 \| capacity is the word 'capacity'"):
        parse_orlib(TINY, name="tiny")


def test_truncated_file_is_a_clean_error():
    with pytest.raises(InputError, match=r"has 20 numbers, a 3 x 4 instance needs 24"):
        parse_orlib(TINY.rsplit("\n", 2)[0])


def brute_force_cflp(data: dict) -> float:
    """Capacitated facility location with splitting: enumerate open sets, solve each transport LP."""
    m, n = data["m"], data["n"]
    d = np.array(data["demand"])
    best = np.inf
    for open_ in itertools.product([0, 1], repeat=m):
        if sum(c for c, o in zip(data["capacity"], open_) if o) < d.sum():
            continue
        # x[i, j] = fraction of customer j from warehouse i
        cost = np.array([[data["cost"][j][i] for j in range(n)] for i in range(m)]).ravel()
        a_eq = np.zeros((n, m * n))
        for j in range(n):
            a_eq[j, j::n] = 1
        a_ub = np.zeros((m, m * n))
        for i in range(m):
            a_ub[i, i * n:(i + 1) * n] = d
        bounds = [(0, 1 if open_[i] else 0) for i in range(m) for _ in range(n)]
        res = linprog(cost, A_ub=a_ub, b_ub=np.array(data["capacity"]), A_eq=a_eq, b_eq=np.ones(n),
                      bounds=bounds, method="highs")
        if res.status == 0:
            best = min(best, res.fun + sum(f for f, o in zip(data["fixed"], open_) if o))
    return best


@pytest.mark.parametrize("capacity", [45.0, 70.0, 120.0])
def test_imported_instance_reaches_the_brute_force_optimum(tmp_path, capacity):
    src = tmp_path / "tiny.txt"
    src.write_text(TINY)
    folder = import_orlib(src, tmp_path / "inst", capacity=capacity)
    run = solve(folder)
    expected = brute_force_cflp(parse_orlib(TINY, capacity=capacity))
    assert run.outcome.status == "optimal"
    assert run.outcome.objective == pytest.approx(expected, rel=1e-9)
    assert run.violations == []
