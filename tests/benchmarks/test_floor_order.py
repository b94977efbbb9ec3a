"""The benchmark's floor (benchmarks/floor.py) hands HiGHS exactly the tool's matrix.

The OR-Library benchmark compares the tool's solve time with a direct highspy model; that is a fair
comparison only if both give HiGHS the same columns, rows, coefficients and bounds in the same
order. The instances here are written inline (no dependence on the shared benchmark folder).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from siting.instance.derive import derive
from siting.instance.orlib import import_orlib, parse_orlib
from siting.model.build import build_model
from siting.run import load_case
from siting.solve import compile_model

FLOOR_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "floor.py"

# 3 warehouses x 5 customers; customer 4 has no demand, costs give non-terminating c_ij / d_j.
NUMBERS = """3 5
 40 100.5
 25 80
 60 130.25
 13   7.3 11.9 4.1
 7    3.2  9.1 6.6
 21  14.7  2.2 8.8
 0    0    0   0
 17   5.5  6.6 19.3
"""

# the capa/capb/capc layout: capacities are the word "capacity"
WORD = """2 3
 capacity 50
 capacity 70.5
 9  3.1 4.7
 11 8.3 1.9
 5  2.0 2.0
"""


def load_floor():
    """Import benchmarks/floor.py by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("orlib_floor", FLOOR_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("text, capacity", [(NUMBERS, None), (WORD, 30.0)], ids=["numbers", "word"])
def test_floor_arrays_equal_compiled_model(tmp_path, text, capacity):
    floor = load_floor()
    src = tmp_path / "inst.txt"
    src.write_text(text, encoding="utf-8")
    folder = import_orlib(src, tmp_path / "i", capacity)
    compiled = compile_model(build_model(derive(load_case(folder))))

    ours = floor.read_orlib(text, capacity)
    theirs = parse_orlib(text, capacity)
    for key in ("capacity", "fixed", "demand", "cost"):
        assert np.array_equal(ours[key], np.array(theirs[key], dtype=float)), key

    got = floor.build_floor(ours)
    lp = compiled.lp
    assert got.num_row == lp["num_row"]
    assert compiled.offset == 0.0
    for key in ("cost", "lower", "upper", "row_lower", "row_upper", "value"):
        np.testing.assert_allclose(getattr(got, key), lp[key], rtol=0, atol=0, err_msg=key)
    for key in ("start", "index"):
        assert np.array_equal(getattr(got, key), lp[key]), key
    assert np.array_equal(got.integer, compiled.integer)


def test_floor_solves_to_the_tool_optimum(tmp_path):
    floor = load_floor()
    src = tmp_path / "inst.txt"
    src.write_text(NUMBERS, encoding="utf-8")
    from siting.run import run_case
    from siting.solve import load_profile

    run = run_case(import_orlib(src, tmp_path / "i"), load_profile("exact"), duals=False)
    out = floor.solve_floor(floor.build_floor(floor.read_orlib(NUMBERS)))
    assert run.outcome.status == out["status"] == "optimal"
    assert out["objective"] == pytest.approx(run.outcome.objective, rel=1e-12)


def test_floor_passes_highs_what_the_tool_passes():
    """The floor's options are the exact profile's, and its objective scale is the tool's
    (siting.solve.objective_scale) on costs like the reduction's and the flagship's."""
    import numpy as np

    from siting.solve import load_profile, objective_scale

    floor = load_floor()
    assert floor.EXACT_OPTIONS == load_profile("exact").highs_options()
    for cost in (np.array([0.0, 7500.0, 0.013, 12.5]), np.array([1.03e-4, 480.6]), np.array([1e-9, 1e3]),
                 np.array([3.0, 1e9]), np.zeros(2)):
        assert floor.cost_scale(cost) == objective_scale(cost)
