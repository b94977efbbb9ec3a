"""Honest limits: a solve stopped by its time limit returns its plan with the gap and the bound."""

from __future__ import annotations

import json

import numpy as np

from siting.cli import main


def _hard_orlib(m: int, n: int, seed: int) -> str:
    """A random capacitated facility location instance (OR-Library layout) that HiGHS cannot prove
    optimal in one second: 50 warehouses, 300 customers, capacity three times the demand."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(10, 100, n)
    per_site = demand.sum() * 3.0 / m
    caps = rng.integers(int(per_site * 0.7), int(per_site * 1.3), m)
    lines = [f"{m} {n}"] + [f"{c} {rng.integers(20000, 40000)}." for c in caps]
    sites, customers = rng.random((m, 2)), rng.random((n, 2))
    for j in range(n):
        dist = np.sqrt(((sites - customers[j]) ** 2).sum(axis=1))
        lines += [str(demand[j]), " ".join(f"{demand[j] * d * 100:.3f}" for d in dist)]
    return "\n".join(lines) + "\n"


def test_time_limit_returns_the_incumbent_with_gap_and_bound(tmp_path, capsys):
    src = tmp_path / "hard.txt"
    src.write_text(_hard_orlib(50, 300, seed=1))
    inst = tmp_path / "inst"
    assert main(["import", "orlib", str(src), "-o", str(inst)]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    code = main(["solve", str(inst), "--out", str(out), "--time-limit", "1", "--no-duals"])
    summary = json.loads((out / "summary.json").read_text())
    assert code == 0
    assert summary["status"] == "feasible"
    assert summary["termination"] == "Time limit reached"
    assert summary["mip_gap"] > 0
    assert summary["best_bound"] < summary["objective"]
    # the plan is still a plan: checked against the instance, written out, gap shown on the console
    assert summary["checks"]["passed"]
    assert (out / "sites.csv").exists()
    headline = capsys.readouterr().out.splitlines()[0]
    assert "feasible" in headline and f"gap {summary['mip_gap']:.4%}" in headline


def test_coefficients_across_ten_orders_of_magnitude_are_named_before_the_solve(tmp_path):
    """A module of 1e6 wafers against 1e-5 units of an input per wafer spans 1e11 in one matrix:
    the warning names both ends with the input columns that make them."""
    from tests.helpers import solve, write_instance
    from tests.model.test_hand_solved import LOCAL

    tables = dict(LOCAL, modules="site,product,wafers_per_module,capex_per_module,max_modules\n"
                                 "kumamoto,chip,1000000,100,1",
                  bom="product,input,units_per_wafer\nchip,wafer,0.00001")
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.status == "optimal"
    [line] = [w for w in run.outcome.numerics if w.startswith("matrix")]
    assert line.startswith("matrix coefficients span 1e-05 (input_balance rows x ")
    assert "from bom.units_per_wafer) to 1e+06 (capacity rows x modules, from modules.wafers_per_module)" in line
    plain = solve(write_instance(tmp_path / "plain", LOCAL))
    assert plain.outcome.numerics == []
