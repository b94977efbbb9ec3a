"""The post-solve check catches a solution that breaks the instance's rules.

Each test solves a tiny instance, then tampers with one result table the way a wrong solve would,
and expects the check (which reads the raw instance tables) to say which rule broke.
"""

from __future__ import annotations

import pytest

from siting.report.verify import verify
from siting.run import load_case
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


# ------------------------------------------------------------------------------------------------
# The solution of TABLES, worked out by hand: site a opens with its one module (capex 100) and makes
# the 100 wafers; wafers cost 10 abroad and 12 locally, and abroad may supply at most 80% of them,
# so a buys 80 from abroad and 20 from local (purchases 800 + 240 = 1040; local share by value
# 240 / 1040 = 23.0769%). With a capex grant of 50% at a it receives 50 (annualised 50: r = 0, L = 1),
# and the objective is 100 + 1040 - 50 = 1090. Each test below then either tampers with a result
# table or checks the same solution against an instance whose rules it breaks.
# ------------------------------------------------------------------------------------------------

GRANT = {**TABLES, "instruments": "id,kind,site,rate\ng,capex_grant,a,0.5"}


def granted(tmp_path):
    run = solved_with(tmp_path, GRANT)
    sites, proc = run.results.tables["sites"], run.results.tables["procurement"]
    assert run.outcome.objective == pytest.approx(1090.0)
    assert dict(zip(proc["supplier"], proc["units_per_year"])) == pytest.approx({"local": 20.0, "abroad": 80.0})
    assert sites.at[0, "local_share"] == pytest.approx(240 / 1040)
    return run


def solved_with(tmp_path, tables):
    run = solve(write_instance(tmp_path / "solved", tables))
    assert verify(run.instance, run.results, run.outcome.objective) == []
    return run


def against(tmp_path, run, tables, sets=()) -> list[str]:
    """The solution of ``run`` checked against the instance of ``tables`` (and ``sets``)."""
    inst = load_case(write_instance(tmp_path / "rules", tables), list(sets))
    return verify(inst, run.results, run.outcome.objective)


def test_exclusions_by_country_and_by_flag(tmp_path):
    run = granted(tmp_path)
    suppliers = "id,country,lat,lon,flags\nlocal,JP,33.27,129.88,\nabroad,TW,24.78,121.00,owner-tw"
    found = against(tmp_path, run, {**GRANT, "suppliers": suppliers,
                                    "exclusions": "id,supplier_country,supplier_flag,site\nno-tw,TW,,a\n"
                                                  "no-owner,,owner-tw,*\nno-us,US,,*"})
    assert found == ["exclusion no-tw: a buys from abroad", "exclusion no-owner: a buys from abroad"]


def test_concentration_firm_budget_local_share_and_min_suppliers(tmp_path):
    run = granted(tmp_path)
    # the model's own target stays out of it: the results' column is cleared, the instance's holds
    run.results.tables["sites"]["local_target"] = float("nan")
    # a third supplier is offered (so that 3 may be required) but a qualified only the two it buys from
    tables = {**GRANT, "concentration": "group_type,group,max_share\ncountry,JP,0.5\ncountry,TW,0.5",
              "inputs": "id,unit,max_supplier_share,critical,min_suppliers\nwafer,wafer,0.8,true,3",
              "suppliers": TABLES["suppliers"] + "\nfar,US,33.5,-112",
              "offers": TABLES["offers"] + "\nfar,wafer,100,50", "local_targets": "site,target\na,0.5"}
    found = against(tmp_path, run, tables, ["settings.firm_budget=60"])
    assert found == ["min suppliers (a, wafer): 2 qualified, at least 3 required",
                     "concentration country=JP: 100 of 100 wafers, at most 50% allowed",
                     "firm budget: capex 100, budget 60",
                     "local share a (nominal): 23.0769% is below the target 50%"]


def test_a_closed_site_that_makes_wafers(tmp_path):
    run = granted(tmp_path)
    run.results.tables["sites"]["open"] = False
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "modules (a, chip): 1 built at a site that is not open" in found
    assert "qualification: a buys from abroad but is not open" in found
    assert "site a: makes wafers but is not open" in found
    # a closed site is owed nothing: the grant of 50 exceeds what the terms allow there
    assert "instrument g at a: pays 50, its terms allow 0" in found


def test_modules_offers_and_hard_demand(tmp_path):
    run = granted(tmp_path)
    tab = run.results.tables
    tab["capacity"].loc[0, "modules"] = 2
    proc = tab["procurement"]
    proc.loc[proc.index[proc["supplier"] == "local"][0], "input"] = "film"
    tab["production"].loc[0, "wafers_per_year"] = 90.0
    tab["unmet"].loc[0, "unmet_wafers_per_year"] = 10.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "modules (a, chip): 2 built, at most 1" in found
    assert "supplier ('local', 'film'): buys 20 units without an offer" in found
    assert "demand ('m', 'chip'): 10 wafers unmet but unmet demand is not allowed" in found


def test_production_at_a_site_without_modules(tmp_path):
    run = granted(tmp_path)
    run.results.tables["production"].loc[0, "site"] = "b"
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "capacity (b, chip): 100 wafers made where the site has no modules for chip" in found


def test_payouts_beyond_the_terms(tmp_path):
    run = granted(tmp_path)
    sub = run.results.tables["subsidies"]
    sub.loc[0, "payout_total"] = 150.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert found[:3] == ["instrument g at a: pays 150, its terms allow 50",
                         "instrument g at a: 50 a year is not 150 annualised (1)",
                         "site a: grants, credits and loans pay 150 in all, more than its capex 100"]


def test_payouts_against_scope_conditions_and_a_program_budget(tmp_path):
    run = granted(tmp_path)
    run.results.tables["sites"].loc[0, "production_wafers_per_year"] = 50.0
    elsewhere = {**GRANT, "sites": TABLES["sites"] + "\nb,US,33.5,-112",
                 "instruments": "id,kind,country,rate,min_local_share,min_utilisation,program\n"
                                "g,capex_grant,US,0.5,0.5,0.9,p",
                 "programs": "id,budget\np,40"}
    found = against(tmp_path, run, elsewhere)
    assert "instrument g at a: the site is not in the instrument's country US" in found
    assert "instrument g at a: paid although the local share 23.0769% is below its condition 50%" in found
    assert "instrument g at a: paid although utilisation 50.0000% is below its condition 90%" in found
    assert "program p: instruments pay 50, its budget is 40" in found


def test_a_lump_sum_paid_short(tmp_path):
    # the lump sum of 30 is owed in full at the open site that takes it
    run = solved_with(tmp_path, {**TABLES, "instruments": "id,kind,site,amount\nl,lump_sum,a,30"})
    run.results.tables["subsidies"].loc[0, "payout_total"] = 20.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "instrument l at a: pays 20, due 30" in found


def test_a_risk_premium_without_risk_and_a_risk_limit(tmp_path):
    """One scenario: CVaR equals the expected cost, so the premium must be 0."""
    run = granted(tmp_path)
    run.results.costs["risk"] = 5.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "risk: premium is 5, lambda (CVaR - E) of the scenarios' costs is 0" in found
    assert "costs: breakdown sums to 1095, objective is 1090" in found
    run.results.costs["risk"] = 0.0
    limited = against(tmp_path, run, GRANT, ["settings.risk_limit=1000"])
    assert limited == ["risk limit: cvar is 1090, the limit is 1000"]


def test_a_counted_purchase_without_an_offer_is_reported_not_a_crash(tmp_path):
    """Wafers (which count for the local share, under a 50% target) bought from a supplier that
    offers none: said once, by the offers rule, and the local share is taken over the rest."""
    run = granted(tmp_path)
    proc = run.results.tables["procurement"]
    proc.loc[proc["supplier"] == "local", "supplier"] = "far"
    tables = {**GRANT, "suppliers": TABLES["suppliers"] + "\nfar,US,33.5,-112", "local_targets": "site,target\na,0.5"}
    found = against(tmp_path, run, tables)
    assert "supplier ('far', 'wafer'): buys 20 units without an offer" in found
    assert "local share a (nominal): 0.0000% is below the target 50%" in found


def test_a_row_of_zero_units_is_no_purchase_but_a_tiny_one_is(tmp_path):
    """A decomposition's scenario LP can leave a procurement row whose value was cleared to 0 as
    round-off: buying nothing from an unqualified supplier breaks no rule; buying anything does."""
    run = solved(tmp_path)
    qual = run.results.tables["qualification"]
    qual.loc[qual["supplier"] == "abroad", "qualified"] = False
    proc = run.results.tables["procurement"]
    i = proc.index[proc["supplier"] == "abroad"][0]
    proc.loc[i, "units_per_year"] = 0.0
    found = verify(run.instance, run.results, run.outcome.objective)
    assert not any(f.startswith("qualification:") for f in found)
    proc.loc[i, "units_per_year"] = 1e-3
    found = verify(run.instance, run.results, run.outcome.objective)
    assert "qualification: a buys from abroad, which is not qualified there" in found
