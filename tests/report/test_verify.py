"""The post-solve check catches a solution that breaks the instance's rules.

Each test solves a tiny instance, then tampers with one result table the way a wrong solve would,
and expects the check (which reads the raw instance tables) to say which rule broke.
"""

from __future__ import annotations

from siting.report.verify import verify
from tests.helpers import solve, write_instance

TABLES = {
    "sites": "id,country,lat,lon\na,JP,33,131",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "demand": "market,product,wafers_per_year\nm,chip,100",
    "inputs": "id,unit,max_supplier_share\nwafer,wafer,0.8",
    "bom": "product,input,units_per_wafer\nchip,wafer,1",
    "suppliers": "id,country,lat,lon\nlocal,JP,33.27,129.88\nabroad,TW,24.78,121.00",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit\nlocal,wafer,1000,12\nabroad,wafer,90,10",
}


def solved(tmp_path):
    run = solve(write_instance(tmp_path, TABLES))
    assert verify(run.instance, run.results, run.outcome.objective) == []
    return run


def test_more_production_than_demand_and_capacity(tmp_path):
    run = solved(tmp_path)
    run.results.tables["production"].loc[0, "wafers_per_year"] = 150.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert any(f.startswith("demand ('m', 'chip'): supplied + unmet = 150") for f in found)
    assert any(f.startswith("capacity (a, chip): makes 150 wafers with 1 modules of 100") for f in found)
    assert any(f.startswith("inputs ('a', 'wafer'): buys 100 units, production needs 150") for f in found)


def test_supplier_over_capacity_and_share(tmp_path):
    run = solved(tmp_path)
    proc = run.results.tables["procurement"]
    i = proc.index[proc["supplier"] == "abroad"][0]
    proc.loc[i, "units_per_year"] = 95.0
    proc.loc[i, "share"] = 0.95
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "supplier ('abroad', 'wafer'): buys 95 units, capacity is 90" in found
    assert any(f.startswith("supplier share (a, wafer): abroad has 95.0000%, at most 80% allowed") for f in found)
    assert any(f.startswith("supplier mix ('a', 'wafer', 'nominal'): shares sum to") for f in found)


def test_unqualified_supplier_and_cost_mismatch(tmp_path):
    run = solved(tmp_path)
    run.results.tables["qualification"]["qualified"] = False
    run.results.costs["purchases"] += 1.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "qualification: a buys from local, which is not qualified there" in found
    assert any(f.startswith("costs: breakdown sums to") for f in found)


def test_a_breach_in_one_scenario_is_named_with_its_scenario(tmp_path):
    """Site a keeps half its capacity in scenario 'out': 50 wafers made and 50 unmet there. Raising
    that scenario's production to 100 breaks its capacity and its demand balance, not the nominal's."""
    tables = {**TABLES, "demand": "market,product,wafers_per_year,penalty_per_wafer\nm,chip,100,1000",
              "scenarios": "id,probability\nnominal,0.5\nout,0.5",
              "scenario_effects": "scenario,target,by,match,multiplier\nout,site,id,a,0.5"}
    run = solve(write_instance(tmp_path, tables))
    assert run.violations == []
    prod = run.results.tables["production"]
    i = prod.index[prod["scenario"] == "out"][0]
    assert prod.at[i, "wafers_per_year"] == 50.0
    prod.loc[i, "wafers_per_year"] = 100.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "capacity (a, chip, out): makes 100 wafers with 1 modules of 50 available" in found
    assert "demand ('m', 'chip', 'out'): supplied + unmet = 150, demand is 100" in found
    assert not any("nominal" in f for f in found)
