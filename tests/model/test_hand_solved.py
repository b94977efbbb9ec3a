"""Instances small enough to solve on paper; each docstring derives the optimum the model must hit.

Unless a test says otherwise, CRF = 1 (discount rate 0, lifetime 1 year), amounts are plain USD,
freight and operating costs are zero, so the objective is capex + purchases - subsidy.
"""

from __future__ import annotations

import math

import pytest

from siting.instance.finance import crf
from tests.helpers import solve, write_instance

TWO_SITES = {
    "sites": """
        id,country,lat,lon
        a,JP,33.0,131.0
        b,US,33.5,-112.0
    """,
    "products": """
        id
        chip
    """,
    "modules": """
        site,product,wafers_per_module,capex_per_module,max_modules
        a,chip,100,100,1
        b,chip,100,80,1
    """,
    "markets": """
        id,country,lat,lon
        m,JP,35.0,137.0
    """,
    "demand": """
        market,product,wafers_per_year
        m,chip,100
    """,
}


def test_two_sites_cheaper_capex_wins_without_subsidy(tmp_path):
    """Both sites can serve the 100 wafers; b's module costs 80 against a's 100: open b, cost 80."""
    run = solve(write_instance(tmp_path, TWO_SITES))
    assert run.outcome.status == "optimal"
    assert run.outcome.objective == pytest.approx(80.0, rel=1e-9)
    opened = run.results.tables["sites"].set_index("site")["open"]
    assert opened.to_dict() == {"a": False, "b": True}


def test_two_sites_subsidy_flips_the_choice(tmp_path):
    """A 30% capex grant at a pays 30 of its 100: a then costs 70 < 80, so a opens instead of b."""
    tables = dict(TWO_SITES, instruments="""
        id,kind,site,rate
        grant,capex_grant,a,0.3
    """)
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(70.0, rel=1e-9)
    assert run.results.tables["sites"].set_index("site")["open"].to_dict() == {"a": True, "b": False}
    sub = run.results.tables["subsidies"].set_index("instrument")
    assert sub.at["grant", "payout_total"] == pytest.approx(30.0)


def test_lump_sum_that_falls_short_does_not_flip(tmp_path):
    """A lump sum of 15 at a brings it to 85 > 80: b stays open and the lump sum is not paid."""
    tables = dict(TWO_SITES, instruments="""
        id,kind,site,amount
        lump,lump_sum,a,15
    """)
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(80.0, rel=1e-9)
    assert run.results.tables["subsidies"]["payout_total"].sum() == pytest.approx(0.0, abs=1e-9)


def test_capped_grant_binds_at_its_cap(tmp_path):
    """Capex 1000 at a 50% rate would pay 500, but the cap is 200: payout 200, cost 1000 - 200."""
    tables = {
        "sites": "id,country,lat,lon\na,JP,33,131",
        "products": "id\nchip",
        "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,1000,1",
        "markets": "id,country,lat,lon\nm,JP,33,131",
        "demand": "market,product,wafers_per_year\nm,chip,100",
        "instruments": "id,kind,site,rate,cap\ng,capex_grant,a,0.5,200",
    }
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(800.0, rel=1e-9)
    assert run.results.tables["subsidies"].at[0, "payout_total"] == pytest.approx(200.0)
    uncapped = solve(write_instance(tmp_path / "uncapped", tables), sets=["instruments.g.cap="])
    assert uncapped.outcome.objective == pytest.approx(500.0, rel=1e-9)


LOCAL = {
    "sites": "id,country,lat,lon\nkumamoto,JP,32.88,130.83",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nkumamoto,chip,100,100,1",
    "markets": "id,country,lat,lon\nm,JP,33,131",
    "demand": "market,product,wafers_per_year\nm,chip,100",
    "inputs": "id,unit\nwafer,wafer",
    "bom": "product,input,units_per_wafer\nchip,wafer,1",
    "suppliers": """
        id,country,lat,lon
        local,JP,33.27,129.88
        abroad,TW,24.78,121.00
    """,
    "offers": """
        supplier,input,capacity_units_per_year,price_per_unit
        local,wafer,1000,12
        abroad,wafer,1000,10
    """,
}


def test_without_target_the_cheaper_foreign_supplier_gets_everything(tmp_path):
    """100 wafers at 10 from abroad: cost 100 (capex) + 1000."""
    run = solve(write_instance(tmp_path, LOCAL))
    assert run.outcome.objective == pytest.approx(1100.0, rel=1e-9)
    mix = run.results.tables["supplier_mix"].set_index("supplier")["share"]
    assert mix.to_dict() == {"abroad": pytest.approx(1.0)}


def test_local_target_forces_the_dearer_local_supplier(tmp_path):
    """Target 60% by value. Buying L units locally at 12 and 100 - L abroad at 10:
    12 L >= 0.6 (12 L + 10 (100 - L)) <=> 10.8 L >= 600 <=> L >= 55.5...;
    cost 100 + 12 L + 10 (100 - L) = 1100 + 2 L = 1100 + 1200/10.8.
    The marginal value is one point each way: L(tau) = 1000 tau / (12 - 2 tau), so one point more
    (61%) costs 2 (610/10.78 - 600/10.8) = 2.0612 more, and one point less (59%) saves
    2 (600/10.8 - 590/10.82) = 2.0539; the derivative at 60% (2.0576) lies between them."""
    tables = dict(LOCAL, local_targets="site,target\nkumamoto,0.6")
    run = solve(write_instance(tmp_path, tables))
    local_units = 600 / 10.8
    assert run.outcome.objective == pytest.approx(1100 + 2 * local_units, rel=1e-9)
    row = run.results.tables["sites"].set_index("site").loc["kumamoto"]
    assert row["local_share"] == pytest.approx(0.6, abs=1e-9)
    shadow = run.shadow.set_index("constraint").loc["local_share"]
    higher = solve(write_instance(tmp_path / "higher", tables), sets=["local_targets.kumamoto.target=0.61"])
    step = higher.outcome.objective - run.outcome.objective
    # L(0.61) = 610/10.78 exactly: the LP is linear in L for a fixed target.
    assert step == pytest.approx(2 * (610 / 10.78 - local_units), rel=1e-9)
    assert shadow["value"] == pytest.approx(2 * (610 / 10.78 - local_units), rel=1e-7)
    assert shadow["value"] == pytest.approx(step, rel=1e-7)
    assert shadow["less"] == pytest.approx(-2 * (local_units - 590 / 10.82), rel=1e-7)


def test_region_rule_counts_only_same_region_suppliers(tmp_path):
    """With rule=region and the local supplier in another region, nothing is local: the 60%
    target cannot be met, so the only plan is to buy nothing, i.e. not open, and demand that
    must be met makes the model infeasible."""
    tables = dict(LOCAL, local_targets="site,target,rule\nkumamoto,0.6,region")
    tables["sites"] = "id,country,region,lat,lon\nkumamoto,JP,Kyushu,32.88,130.83"
    tables["suppliers"] = "id,country,region,lat,lon\nlocal,JP,Kanto,36,140\nabroad,TW,,24.78,121.0"
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.status == "infeasible"


def test_radius_rule_counts_suppliers_within_the_radius(tmp_path):
    """The local supplier sits ~95 km from the site (Imari to Kikuyo); a 50 km radius makes it
    non-local (infeasible as above), a 150 km radius makes it local (the 60% optimum again)."""
    tables = dict(LOCAL, local_targets="site,target,rule,radius_km\nkumamoto,0.6,radius,50")
    assert solve(write_instance(tmp_path / "near", tables)).outcome.status == "infeasible"
    far = solve(write_instance(tmp_path / "far", tables), sets=["local_targets.kumamoto.radius_km=150"])
    assert far.outcome.objective == pytest.approx(1100 + 2 * 600 / 10.8, rel=1e-9)


def test_unmet_demand_is_cheaper_than_a_module(tmp_path):
    """A module costs 100 for 100 wafers; leaving a wafer unmet costs 0.5: 100 wafers unmet cost
    50 < 100, so nothing is built and the penalty is paid."""
    tables = dict(TWO_SITES)
    tables["demand"] = "market,product,wafers_per_year,penalty_per_wafer\nm,chip,100,0.5"
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(50.0, rel=1e-9)
    assert run.results.tables["unmet"]["unmet_wafers_per_year"].sum() == pytest.approx(100.0)


def test_capital_is_annualised_with_the_capital_recovery_factor(tmp_path):
    """r = 8%, L = 10 years: CRF = 0.08 * 1.08^10 / (1.08^10 - 1) = 0.1490294887...;
    b's module (80) costs 80 * CRF per year."""
    expected = 0.08 * 1.08 ** 10 / (1.08 ** 10 - 1)
    assert crf(0.08, 10) == pytest.approx(expected, rel=1e-12)
    run = solve(write_instance(tmp_path, TWO_SITES, settings={"discount_rate": 0.08, "lifetime_years": 10}))
    assert run.outcome.objective == pytest.approx(80 * expected, rel=1e-9)
    assert math.isclose(run.results.costs["capex"], 80 * expected, rel_tol=1e-9)


def test_exclusion_removes_a_supplier(tmp_path):
    """Excluding suppliers from TW leaves only the local one at 12: cost 100 + 1200."""
    tables = dict(LOCAL, exclusions="id,supplier_country\nnon-tw,TW")
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(1300.0, rel=1e-9)


def test_max_supplier_share_splits_purchases(tmp_path):
    """No supplier may have more than 70%: 70 units abroad at 10, 30 local at 12: 100 + 700 + 360."""
    run = solve(write_instance(tmp_path, LOCAL, settings={"max_supplier_share": 0.7}))
    assert run.outcome.objective == pytest.approx(1160.0, rel=1e-9)


def test_concentration_limit_spreads_capacity(tmp_path):
    """Demand 200, modules of 100 at both sites (a: 100, b: 80, two each). Unconstrained: two at b
    (160). With at most 50% of capacity in the US: one module each, 100 + 80 = 180."""
    tables = dict(TWO_SITES)
    tables["modules"] = ("site,product,wafers_per_module,capex_per_module,max_modules\n"
                         "a,chip,100,100,2\nb,chip,100,80,2")
    tables["demand"] = "market,product,wafers_per_year\nm,chip,200"
    assert solve(write_instance(tmp_path / "free", tables)).outcome.objective == pytest.approx(160.0)
    tables["concentration"] = "group_type,group,max_share\ncountry,US,0.5"
    assert solve(write_instance(tmp_path / "limited", tables)).outcome.objective == pytest.approx(180.0)


def test_firm_budget_forces_the_cheaper_site(tmp_path):
    """With the 30% grant a wins (70), but its capex is 100; a budget of 90 leaves only b (80)."""
    tables = dict(TWO_SITES, instruments="id,kind,site,rate\ngrant,capex_grant,a,0.3")
    run = solve(write_instance(tmp_path, tables, settings={"firm_budget": 90}))
    assert run.outcome.objective == pytest.approx(80.0, rel=1e-9)


def test_min_suppliers_forces_a_second_qualification(tmp_path):
    """Qualifying costs 5 per supplier; a critical input needing 2 qualified suppliers adds the
    local one's 5 even though everything is still bought abroad: 100 + 1000 + 5 + 5."""
    tables = dict(LOCAL)
    tables["inputs"] = "id,unit,critical,min_suppliers\nwafer,wafer,true,2"
    tables["suppliers"] = ("id,country,lat,lon,qualification_cost\n"
                           "local,JP,33.27,129.88,5\nabroad,TW,24.78,121.00,5")
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(1110.0, rel=1e-9)
