"""Payment schedules of instruments, solved on paper (each docstring derives the optimum), and
their validation messages."""

from __future__ import annotations

import pytest

from tests.helpers import solve, write_instance
from tests.instance.test_validation import BASE, problems
from tests.model.test_periods import ONE_SITE

#: Two one-year periods at r = 10% and a lifetime of one year (CRF 1.1): a module (capex 100) with
#: a lead time of one year must be ordered in 2025 to serve 2026's demand: 1.1 x 100 = 110 in the
#: money of the end of 2025 (the NPV's reference).
LEAD = dict(ONE_SITE,
            sites="id,country,lat,lon,lead_time_years\na,JP,33,131,1",
            periods="id,start_year,years\np1,2025,1\np2,2026,1",
            modules="site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1",
            demand="market,product,period,wafers_per_year\nm,chip,p2,100")
MONEY = {"discount_rate": 0.1, "lifetime_years": 1}


def test_grant_spread_over_two_years(tmp_path):
    """A 50% grant (50) paid in two equal instalments from the period of order: 25 at the end of
    2025 and 25 at the end of 2026, worth 25 + 25 / 1.1 = 47.727 at the end of 2025. The firm's
    NPV: 110 - 47.727 = 62.273 (on order it would be 110 - 55 = 55: a spread grant is worth less)."""
    tables = dict(LEAD, instruments="id,kind,site,rate,paid,paid_years\ngrant,capex_grant,a,0.5,spread,2")
    run = solve(write_instance(tmp_path, tables, MONEY))
    assert run.outcome.objective == pytest.approx(110 - 25 - 25 / 1.1, rel=1e-9)
    flows = run.results.tables["periods"].set_index("period")
    assert flows["discounted"].sum() == pytest.approx(run.outcome.objective, rel=1e-9)
    assert run.results.tables["subsidies"]["payout_present_value"].sum() == pytest.approx(25 + 25 / 1.1, rel=1e-9)
    assert run.violations == []


def test_spread_in_a_snapshot(tmp_path):
    """A snapshot at r = 10% and a lifetime of 2 years (CRF 0.57619): a module of capex 100 costs
    57.619 a year. A lump sum of 30 spread over 3 years (10 a year from the end of the first)
    is worth 10 (1/1.1 + 1/1.1^2 + 1/1.1^3) = 24.869 at the start, 0.57619 x 24.869 = 14.329 a
    year: the firm's cost 43.290."""
    tables = dict(BASE, instruments="id,kind,site,amount,paid,paid_years\nlump,lump_sum,a,30,spread,3",
                  sites="id,country,lat,lon\na,JP,33,131", modules="site,product,wafers_per_module,"
                  "capex_per_module,max_modules\na,chip,100,100,1", offers="supplier,input,capacity_units_per_year,"
                  "price_per_unit\nsumco,wafer,1000,0")
    run = solve(write_instance(tmp_path, tables, {"discount_rate": 0.1, "lifetime_years": 2}))
    crf2 = 0.1 * 1.1**2 / (1.1**2 - 1)
    worth = 10 * (1 / 1.1 + 1 / 1.1**2 + 1 / 1.1**3)
    assert run.outcome.objective == pytest.approx(crf2 * (100 - worth), rel=1e-9)


@pytest.mark.parametrize(("row", "expected"), [
    ("g,capex_grant,a,0.5,spread,", "instruments.csv row 2 (id=g) column paid_years | is empty but paid is spread; "
     "give the years over which the payout is paid in equal instalments, e.g. 5"),
    ("g,capex_grant,a,0.5,on_start,3", "instruments.csv row 2 (id=g) column paid_years | is 3 but paid is on_start; "
     "set paid to spread to pay in instalments, or leave paid_years empty"),
    ("g,capex_grant,a,0.5,,3", "instruments.csv row 2 (id=g) column paid_years | is 3 but paid is on_order; "
     "set paid to spread to pay in instalments, or leave paid_years empty"),
])
def test_payment_problems(tmp_path, row, expected):
    tables = dict(BASE, instruments=f"id,kind,site,rate,paid,paid_years\n{row}")
    found = problems(write_instance(tmp_path / "inst", tables))
    assert expected in found, "\n".join(found)


def test_spread_production_subsidy_is_refused(tmp_path):
    tables = dict(BASE, instruments="id,kind,site,per_wafer,paid,paid_years\nw,production_subsidy,a,10,spread,3")
    found = problems(write_instance(tmp_path / "inst", tables))
    assert ("instruments.csv row 2 (id=w) column paid | is spread for a production_subsidy, which is paid per wafer "
            "made already; leave paid empty (its years say how long it pays)") in found, "\n".join(found)


#: Three one-year periods 2025-2027, r = 0, lifetime 1 (CRF 1). Site a has a lead time of one year;
#: its module (100 wafers, capex 100, operating cost 2 a wafer) must be ordered in 2025 to serve
#: 2026's demand of 100 wafers (which must be met); 2027 has no demand, so a makes nothing then.
#: A 50% grant on the capex (50) requires 80% utilisation, the firm's choice to take it.
CONTINUED = dict(ONE_SITE,
                 sites="id,country,lat,lon,lead_time_years\na,JP,33,131,1",
                 periods="id,start_year,years\np1,2025,1\np2,2026,1\np3,2027,1",
                 modules="site,product,wafers_per_module,capex_per_module,max_modules,operating_cost_per_wafer\n"
                         "a,chip,100,100,1,2",
                 demand="market,product,period,wafers_per_year\nm,chip,p2,100\nm,chip,p3,0")


@pytest.mark.parametrize(("years", "objective", "taken"), [("", 250.0, True), ("1", 250.0, True),
                                                           ("2", 300.0, False)])
def test_continued_production_condition_flips_the_take_up(tmp_path, years, objective, taken):
    """Capex 100 in 2025 and 2 x 100 of operations in 2026: 300 without the grant. The grant's
    condition in its period of payment alone (empty condition_years) or for one year from the
    start of production (2026, when a makes 100 of 100 wafers) is met: 300 - 50 = 250, taken. For
    two years it must hold in 2027 too, when a can sell nothing (0 of 100 wafers): declined, 300."""
    tables = dict(CONTINUED, instruments="id,kind,site,rate,min_utilisation,condition_years\n"
                                         f"grant,capex_grant,a,0.5,0.8,{years}")
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(objective, rel=1e-9)
    subs = run.results.tables["subsidies"]  # one row per period the grant is offered in, p1 first
    assert bool(subs["taken"].iloc[0]) is taken
    assert subs["payout_total"].sum() == pytest.approx(50.0 if taken else 0.0)
    assert run.violations == []


def test_condition_years_need_a_utilisation(tmp_path):
    tables = dict(BASE, instruments="id,kind,site,rate,condition_years\ng,capex_grant,a,0.5,3")
    found = problems(write_instance(tmp_path / "inst", tables))
    assert ("instruments.csv row 2 (id=g) column condition_years | is 3 but the row has no min_utilisation; give "
            "the utilisation that must be kept for those years, or leave condition_years empty") in found, \
        "\n".join(found)


def test_the_check_finds_a_broken_continued_production_condition(tmp_path):
    """The one-year plan (grant taken, nothing made in 2027) checked as if the condition ran two years."""
    from siting.report.verify_periods import verify_phased

    tables = dict(CONTINUED, instruments="id,kind,site,rate,min_utilisation,condition_years\n"
                                         "grant,capex_grant,a,0.5,0.8,1")
    run = solve(write_instance(tmp_path, tables))
    assert verify_phased(run.instance, run.results, run.outcome.objective) == []
    g = run.instance.tables["instruments"].copy()
    g["condition_years"] = 2.0
    run.instance.tables["instruments"] = g
    found = verify_phased(run.instance, run.results, run.outcome.objective)
    assert any(f.startswith("continued production (grant, a, p3, ") and
               f.endswith("): makes 0 wafers, the condition taken in p1 needs 80") for f in found), found


@pytest.mark.parametrize(("lead", "over", "objective"), [("2", False, 110.0), ("2", True, 105.0),
                                                         ("1.5", True, 110 * 2 / 3 + 100 / 3)])
def test_capex_over_the_build(tmp_path, lead, over, objective):
    """Three one-year periods 2025-2027 at r = 10%, lifetime 1 (CRF 1.1); demand of 100 wafers in
    2027 only; one module of capex 100 with a lead time of two years must be ordered in 2025. Paid
    on order it costs 1.1 x 100 = 110 (2025's money, weight 1). Spread over its two-year build, 50
    in 2025 (55) and 50 in 2026 (55 / 1.1 = 50): 105. A lead time of 1.5 years (the order in 2025
    still produces in 2027, the first period starting 1.5 years later) pays 2/3 in 2025 and 1/3 in
    2026: 110 x 2/3 + 110 / 1.1 x 1/3 = 106.667."""
    tables = dict(ONE_SITE,
                  periods="id,start_year,years\ny25,2025,1\ny26,2026,1\ny27,2027,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,lead_time_years\n"
                          f"a,chip,100,100,1,{lead}",
                  demand="market,product,period,wafers_per_year\nm,chip,y27,100")
    run = solve(write_instance(tmp_path, tables, {**MONEY, "capex_over_build": over}))
    assert run.outcome.objective == pytest.approx(objective, rel=1e-9)
    flows = run.results.tables["periods"].set_index("period")
    assert flows["capex_discounted"].sum() == pytest.approx(objective, rel=1e-9)
    first = (2 / 3 if lead == "1.5" else 1 / 2) if over else 1.0  # the share paid in 2025
    assert flows.at["y25", "capex_discounted"] == pytest.approx(110 * first, rel=1e-9)
    assert flows.at["y26", "capex_discounted"] == pytest.approx(objective - 110 * first, abs=1e-9)
    assert run.violations == []
