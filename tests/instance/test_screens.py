"""Pre-solve screens: arithmetic on the data that shows an infeasibility or a dead end, in words."""

from __future__ import annotations

import json

from siting.cli import main
from tests.helpers import solve, write_instance

BASE = {
    "sites": "id,country,lat,lon\na,JP,33,131\nb,US,33.5,-112",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1\nb,chip,100,80,1",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "demand": "market,product,wafers_per_year\nm,chip,150",
    "inputs": "id,unit\nwafer,wafer\ngas,kg",
    "bom": "product,input,units_per_wafer\nchip,wafer,1\nchip,gas,2",
    "suppliers": "id,country,lat,lon\nsumco,JP,33.3,129.9\nlinde,US,40,-75",
    "offers": ("supplier,input,capacity_units_per_year,price_per_unit\n"
               "sumco,wafer,1000,10\nlinde,gas,1000,10"),
}


def test_demand_beyond_the_most_capacity_stops_before_the_mip(tmp_path, capsys):
    """Two sites of one module of 100 wafers each: 250 wafers that must be met cannot be made."""
    folder = write_instance(tmp_path / "inst", dict(BASE, demand="market,product,wafers_per_year\nm,chip,250"))
    run = solve(folder)
    assert run.outcome.status == "infeasible" and run.model is None
    assert run.outcome.termination == (
        "pre-solve screen: demand for chip that must be met (250 wafers/yr, rows without a penalty) exceeds "
        "the most capacity that could be built for it (200 wafers/yr): add modules, sites or suppliers, or set "
        "penalty_per_wafer so that unmet demand is allowed at a cost")
    out = tmp_path / "out"
    assert main(["solve", str(folder), "--out", str(out)]) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["screens"][0]["rule"] == "demand"
    assert "infeasible" in capsys.readouterr().err


def test_input_need_beyond_all_suppliers(tmp_path):
    """150 wafers need 300 kg of gas; the only gas supplier sells 250."""
    offers = "supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,10\nlinde,gas,250,10"
    run = solve(write_instance(tmp_path, dict(BASE, offers=offers)))
    assert run.outcome.status == "infeasible"
    assert run.outcome.termination == (
        "pre-solve screen: meeting the demand that must be met needs 300 units of gas a year, but all its "
        "suppliers together offer 250: add offers or capacity, or allow unmet demand")


def test_a_target_no_supplier_mix_can_meet_closes_the_site(tmp_path):
    """At a, wafers (1 x 10) can come from a local supplier but gas (2 x 10) only from abroad: the best
    local share is 10 / 30 = 33% < 60%, so a can never buy and never open; the screen says so, and
    the model agrees (demand is penalised here, so a plan exists without a)."""
    tables = dict(BASE, local_targets="site,target\na,0.6",
                  demand="market,product,wafers_per_year,penalty_per_wafer\nm,chip,150,1000")
    run = solve(write_instance(tmp_path, tables))
    assert [f.message for f in run.screens] == [
        "a's 60% local share cannot be met: local suppliers can cover at most 33% of its purchases (gas has no "
        "local supplier), so a can never open; lower the target or add local offers"]
    assert run.outcome.status == "optimal"
    assert run.results.tables["sites"].set_index("site").at["a", "open"] == False  # noqa: E712


def test_sites_that_cannot_buy_an_input_do_not_count_as_capacity(tmp_path):
    """Gas comes only from the US supplier, and US suppliers are excluded everywhere: no site can make
    chips, so the 150 wafers that must be met cannot be, and the screen names why, site by site."""
    run = solve(write_instance(tmp_path, dict(BASE, exclusions="id,supplier_country\nno-us,US")))
    assert run.outcome.termination == (
        "pre-solve screen: demand for chip that must be met (150 wafers/yr, rows without a penalty) exceeds "
        "the most capacity that could be built for it (0 wafers/yr) (a: no supplier of gas can deliver there; "
        "b: no supplier of gas can deliver there): add modules, sites or suppliers, or set penalty_per_wafer so "
        "that unmet demand is allowed at a cost")
