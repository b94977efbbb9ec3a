"""Marginal values are one-sided rates from re-solves, the same whichever dual HiGHS returns.

A hand-solved degenerate case. One site with one module of 100 wafers (capex 1), a market that
wants 100 wafers (each wafer not made costs 500), one wafer of input per wafer made. Supplier
``a`` sells at 10 and can sell exactly 100 units; ``b`` sells at 30 and can sell 100. CRF = 1,
no freight. The optimum makes 100 wafers from ``a``'s 100 units: cost 1 + 100 x 10 = 1001.

The LP with the module fixed is degenerate: ``a``'s capacity binds exactly where the need ends,
so any dual in [-20, 0] for its row is optimal, and which one HiGHS returns depends on its
version and pivoting. The one-sided rates are unique:

- ``a``'s capacity, one unit more: nothing changes (the need is 100): more = 0;
  one unit less: one unit comes from ``b`` at 30 instead of 10: less = +20.
- ``b``'s capacity: unused either way: more = less = 0.
- the module's capacity, one wafer more: demand is 100, so nothing changes: more = 0;
  one wafer less: 99 wafers made (99 units from ``a`` at 10, saving 10) and one wafer unmet at
  500: less = 500 - 10 = +490.
With demand that must be met (no penalty), one wafer less of capacity leaves no plan: less is empty.
"""

from __future__ import annotations

import math

import pytest

from tests.helpers import solve, write_instance

DEGENERATE = {
    "sites": "id,country,lat,lon\nfab,JP,33,131",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nfab,chip,100,1,1",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "demand": "market,product,wafers_per_year,penalty_per_wafer\nm,chip,100,500",
    "inputs": "id\nwafer",
    "bom": "product,input,units_per_wafer\nchip,wafer,1",
    "suppliers": "id,country,lat,lon\na,JP,33,131\nb,JP,34,132",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit\na,wafer,100,10\nb,wafer,100,30",
}


def _rows(run) -> dict:
    table = run.shadow
    out = {}
    for _, r in table.iterrows():
        key = r["supplier"] if r["constraint"] == "supplier_capacity" else r["constraint"]
        out[key] = r
    return out


def test_degenerate_supplier_capacity_reports_both_one_sided_rates(tmp_path):
    """See the module docstring: a (more 0, less +20), b (0, 0), capacity (0, +490)."""
    run = solve(write_instance(tmp_path, DEGENERATE))
    assert run.outcome.objective == pytest.approx(1001.0, rel=1e-12)
    rows = _rows(run)
    assert rows["a"]["more"] == pytest.approx(0.0, abs=1e-7)
    assert rows["a"]["less"] == pytest.approx(20.0, rel=1e-9)
    assert rows["a"]["value"] == pytest.approx(0.0, abs=1e-7)  # saving from one more unit
    assert rows["b"]["more"] == pytest.approx(0.0, abs=1e-7) and rows["b"]["less"] == pytest.approx(0.0, abs=1e-7)
    assert rows["capacity"]["more"] == pytest.approx(0.0, abs=1e-7)
    assert rows["capacity"]["less"] == pytest.approx(490.0, rel=1e-9)
    assert "dual" not in run.shadow.columns  # no basis-dependent number is reported


def test_one_less_unit_that_leaves_no_plan_is_reported_empty(tmp_path):
    """Demand that must be met: 99 wafers of capacity cannot make 100, so 'less' is empty (NaN);
    a's rates are unchanged (0 and +20)."""
    tables = dict(DEGENERATE, demand="market,product,wafers_per_year\nm,chip,100")
    run = solve(write_instance(tmp_path, tables))
    rows = _rows(run)
    assert math.isnan(rows["capacity"]["less"])
    assert rows["capacity"]["more"] == pytest.approx(0.0, abs=1e-7)
    assert rows["a"]["less"] == pytest.approx(20.0, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rates_do_not_depend_on_the_seed(tmp_path, seed):
    """The same rates whatever HiGHS's seed (a dual of this LP could be anything in [-20, 0])."""
    from siting.run import run_case
    from siting.solve import load_profile

    run = run_case(write_instance(tmp_path, DEGENERATE), load_profile("exact", random_seed=seed))
    rows = _rows(run)
    assert (rows["a"]["more"], rows["a"]["less"]) == (pytest.approx(0.0, abs=1e-7), pytest.approx(20.0, rel=1e-9))


def test_a_target_cannot_move_below_zero(tmp_path):
    """The hand-solved local case (tests/model/test_hand_solved.py) with a target of 0%: one
    point less is no target, so 'less' is empty; one point more (1%) costs 2 L(0.01) =
    2 x 10 / 11.98 (L(tau) = 1000 tau / (12 - 2 tau) local units at 2 more each)."""
    from tests.model.test_hand_solved import LOCAL

    run = solve(write_instance(tmp_path, dict(LOCAL, local_targets="site,target\nkumamoto,0")))
    row = run.shadow.set_index("constraint").loc["local_share"]
    assert math.isnan(row["less"])
    assert row["more"] == pytest.approx(2 * 10 / 11.98, rel=1e-7)
