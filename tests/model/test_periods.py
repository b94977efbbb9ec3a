"""Phased plans solved on paper: each docstring derives the optimum the model must hit.

Money is plain USD; unless a test says otherwise there is no freight, no operating cost and the
site has no fixed cost. The NPV is stated at the end of the horizon's first year: year k of the
horizon weighs (1 + r)^-(k-1), and capital is counted as its annuity CRF(r, L) x capex from the
start of the period it is ordered in, for its life L or to the horizon's end.
"""

from __future__ import annotations

import pytest

from siting.diagnose import diagnose
from siting.instance.finance import crf
from siting.solve import load_profile
from tests.helpers import solve, write_instance

ONE_SITE = {
    "sites": "id,country,lat,lon\na,JP,33,131",
    "products": "id\nchip",
    "markets": "id,country,lat,lon\nm,JP,35,137",
}


def _schedule(run):
    s = run.results.tables["schedule"]
    return {(p, t): int(n) for p, t, n in zip(s["product"], s["period"], s["modules"])}


def test_lead_time_forces_an_earlier_order(tmp_path):
    """Three one-year periods 2025-2027 at r = 10%, lifetime 1 year (CRF 1.1), demand of 100 wafers
    only in 2027, one module of 100 wafers for 100: its annuity is 110 in the year it is ordered.

    Without a lead time the module is ordered in 2027: 110 x 1.1^-2 = 90.909. With a lead time of
    one year it must be ordered in 2026 at the latest (it produces from 2027): 110 x 1.1^-1 = 100;
    ordering in 2025 would cost 110. Optimum 100, the module ordered in 2026.
    """
    tables = dict(ONE_SITE,
                  periods="id,start_year,years\ny25,2025,1\ny26,2026,1\ny27,2027,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,lead_time_years\n"
                          "a,chip,100,100,1,{lead}",
                  demand="market,product,period,wafers_per_year\nm,chip,y27,100")
    settings = {"discount_rate": 0.1, "lifetime_years": 1}
    free = dict(tables, modules=tables["modules"].format(lead=0))
    run = solve(write_instance(tmp_path / "free", free, settings))
    assert run.outcome.objective == pytest.approx(110 / 1.1**2, rel=1e-9)
    assert _schedule(run) == {("chip", "y25"): 0, ("chip", "y26"): 0, ("chip", "y27"): 1}
    late = dict(tables, modules=tables["modules"].format(lead=1))
    run = solve(write_instance(tmp_path / "lead", late, settings))
    assert run.outcome.objective == pytest.approx(100.0, rel=1e-9)
    assert _schedule(run) == {("chip", "y25"): 0, ("chip", "y26"): 1, ("chip", "y27"): 1}
    s = run.results.tables["schedule"].set_index("period")
    assert s.at["y26", "capacity_wafers_per_year"] == 0 and s.at["y27", "capacity_wafers_per_year"] == 100
    assert s.at["y27", "first_producing"] == "y27" and s.at["y27", "first_ordered"] == "y26"
    assert run.violations == []


def test_ramp_leaves_demand_unmet_in_the_first_producing_period(tmp_path):
    """Two one-year periods, r = 0, lifetime 1 (CRF 1): a module (100 wafers, capex 100, at most 2)
    makes 50% of its output in its first year and 100% after (ramp 0.5;1). Demand is 100 wafers in
    each period with a penalty of 1 per wafer unmet.

    One module from the first period: capex 100, 50 wafers unmet in period 1 (penalty 50), none in
    period 2: 150. Two modules then: 200. Ordering only in period 2: 100 unmet in period 1 and 50 in
    period 2 (its ramp year): 100 + 150 = 250. Optimum 150 with 50 wafers unmet in period 1.
    """
    tables = dict(ONE_SITE,
                  periods="id,start_year,years\np1,2025,1\np2,2026,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,ramp\na,chip,100,100,2,0.5;1",
                  demand="market,product,wafers_per_year,penalty_per_wafer\nm,chip,100,1")
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(150.0, rel=1e-9)
    unmet = run.results.tables["unmet"].set_index("period")["unmet_wafers_per_year"]
    assert unmet["p1"] == pytest.approx(50.0) and unmet["p2"] == pytest.approx(0.0, abs=1e-9)
    assert _schedule(run) == {("chip", "p1"): 1, ("chip", "p2"): 1}
    assert run.violations == []


def test_npv_with_residual_value_on_two_periods(tmp_path):
    """Periods 2025-2026 (2 years) and 2027-2029 (3 years), r = 10%, lifetime 10 years. One module
    (capex 1000, 100 wafers) serves a demand of 100 wafers a year at an operating cost of 1 per wafer.

    Stated as capex minus residual value: the capex 1000 paid at the start of 2025 is worth
    1000 x 1.1 at the end of 2025 (the date the NPV is stated at); at the end of 2029 the asset has
    5 of its 10 years left, worth the remaining annuities P a(5) with P = CRF(0.1, 10) x 1000 and
    a(5) = (1 - 1.1^-5) / 0.1, discounted by 1.1^-4. Running costs are 100 a year at the ends of
    2025..2029: 100 x sum_k 1.1^-k for k = 0..4. The objective is their sum; it equals
    (P + 100) x sum_k 1.1^-k (the annuity form the model writes).
    """
    tables = dict(ONE_SITE,
                  periods="id,start_year,years\nearly,2025,2\nlate,2027,3",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,operating_cost_per_wafer\n"
                          "a,chip,100,1000,1,1",
                  demand="market,product,wafers_per_year\nm,chip,100")
    settings = {"discount_rate": 0.1, "lifetime_years": 10}
    run = solve(write_instance(tmp_path, tables, settings))
    P = crf(0.1, 10) * 1000
    residual = P * (1 - 1.1**-5) / 0.1 * 1.1**-4
    running = 100 * sum(1.1**-k for k in range(5))
    expected = 1000 * 1.1 - residual + running
    assert run.outcome.objective == pytest.approx(expected, rel=1e-9)
    flows = run.results.tables["periods"]
    assert flows["discounted"].sum() == pytest.approx(run.outcome.objective, rel=1e-9)
    assert run.violations == []


def test_asset_classes_with_different_lives(tmp_path):
    """A snapshot at r = 8%: the site's fixed cost 1000 over its 20 years and a module of 500 over its
    own 5 years cost CRF(0.08, 20) 1000 + CRF(0.08, 5) 500 = 101.852 + 125.228 a year. Giving the
    module the site's life instead gives CRF(0.08, 20) x 1500, today's single-life answer.
    """
    tables = {
        "sites": "id,country,lat,lon,fixed_cost,lifetime_years\na,JP,33,131,1000,20",
        "products": "id\nchip",
        "markets": "id,country,lat,lon\nm,JP,35,137",
        "modules": "site,product,wafers_per_module,capex_per_module,max_modules,lifetime_years\n"
                   "a,chip,100,500,1,{life}",
        "demand": "market,product,wafers_per_year\nm,chip,100",
    }
    settings = {"discount_rate": 0.08, "lifetime_years": 10}
    run = solve(write_instance(tmp_path / "two", dict(tables, modules=tables["modules"].format(life=5)), settings))
    assert run.outcome.objective == pytest.approx(crf(0.08, 20) * 1000 + crf(0.08, 5) * 500, rel=1e-9)
    one = solve(write_instance(tmp_path / "one", dict(tables, modules=tables["modules"].format(life=20)), settings))
    assert one.outcome.objective == pytest.approx(crf(0.08, 20) * 1500, rel=1e-12)
    blank = solve(write_instance(tmp_path / "blank", dict(tables, modules=tables["modules"].format(life="")),
                                 settings))
    assert blank.outcome.objective == one.outcome.objective


def test_phased_check_finds_broken_plans(tmp_path):
    """The per-period check (report/verify_periods.py) reads the raw tables: a plan whose modules
    shrink, which produces before its lead time has passed, or whose cash flows do not add up to the
    objective is reported, each with its period named."""
    from siting.report.verify import verify

    tables = dict(ONE_SITE,
                  periods="id,start_year,years\ny25,2025,1\ny26,2026,1\ny27,2027,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,lead_time_years\n"
                          "a,chip,100,100,1,1",
                  demand="market,product,period,wafers_per_year\nm,chip,y27,100")
    run = solve(write_instance(tmp_path, tables, {"discount_rate": 0.1, "lifetime_years": 1}))
    assert verify(run.instance, run.results, run.outcome.objective) == []
    res = run.results
    sched = res.tables["schedule"]
    res.tables["schedule"] = sched.assign(modules=[0, 1, 0])
    found = verify(run.instance, res, run.outcome.objective)
    assert "modules (a, chip): 1 by y26 but 0 by y27" in found
    res.tables["schedule"] = sched
    prod = res.tables["production"]
    res.tables["production"] = prod.assign(period="y26")
    found = verify(run.instance, res, run.outcome.objective)
    assert "capacity (a, chip, y26, nominal): makes 100 wafers, 0 are producing by then" in found
    assert "demand ('m', 'chip', 'y27', 'nominal'): supplied + unmet = 0, demand is 100" in found
    res.tables["production"] = prod
    found = verify(run.instance, res, run.outcome.objective + 1.0)
    assert f"cash flows: the periods' discounted flows and the risk premium sum to " \
           f"{run.outcome.objective:.10g}, the objective is {run.outcome.objective + 1.0:.10g}" in found


SCOPED = {
    "sites": "id,country,lat,lon\na,JP,33,131",
    "products": "id\nchip",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "periods": "id,start_year,years\np1,2025,1\np2,2026,1",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1",
    "demand": "market,product,wafers_per_year\nm,chip,100",
    "inputs": "id,class\nwafer,wafer\ngas,indirect",
    "bom": "product,input,units_per_wafer\nchip,wafer,1\nchip,gas,1",
    "suppliers": "id,country,lat,lon\nsw,TW,24.8,121\nfg,US,33.5,-112\nlg,JP,33.2,130.5",
    "offers": "supplier,input,period,capacity_units_per_year,price_per_unit\n"
              "sw,wafer,,1000,10\nfg,gas,,1000,1\nlg,gas,p2,1000,3",
}


def test_scoped_target_met_late(tmp_path):
    """Two one-year periods, CRF 1; 100 wafers of demand a year, each wafer needing one silicon
    wafer (from Taiwan at 10) and one unit of gas (from the US at 1, or from a Japanese plant at 3
    that supplies only from p2). A 50% target on indirect materials from p2.

    The module (100) is ordered in p1. p1 buys 100 wafers (1000) and 100 US gas (100). In p2 the gas
    bought locally, x units, must be half the value of the gas: 3x >= 0.5 (3x + 100 - x), so
    x >= 25: 75 + 75 = 150. Total 100 + 1100 + 1000 + 150 = 2350, local share 75 / 150 = 50% in p2.
    Counting the wafers too (no class) would need 3x >= 0.5 (1000 + 100 + 2x), x >= 275 > 100 units
    of gas: infeasible, so the scope is what makes the target reachable.
    """
    tables = dict(SCOPED, local_targets="site,period,target,classes\na,p2,0.5,indirect")
    run = solve(write_instance(tmp_path, tables))
    assert run.outcome.objective == pytest.approx(2350.0, rel=1e-9)
    share = run.results.tables["local_share"].set_index("period")
    assert share.at["p2", "achieved"] == pytest.approx(0.5)
    assert share.at["p2", "classes"] == "indirect" and share.at["p2", "inputs_counted"] == "gas"
    assert share.at["p2", "total_spend_per_year"] == pytest.approx(150.0)
    assert run.violations == []
    unscoped = solve(write_instance(tmp_path / "all", dict(SCOPED, local_targets="site,period,target\na,p2,0.5")))
    assert unscoped.outcome.status == "infeasible"


def test_scoped_target_impossible_early_names_the_period(tmp_path):
    """The same 50% target on indirect materials from p1.

    With no local gas offered in p1 (the Japanese plant supplies from p2) the pre-solve screen
    proves it: the site can buy nothing in p1, so p1's demand cannot be met; the finding names p1.

    With the Japanese plant offering only 10 units in p1 (its capacity grows to 1000 in p2), no
    screen sees it, and the elastic diagnosis does: at most 10 of the 100 units of gas are local in
    p1, 3 x 10 = 30 of 30 + 90 = 120, so the best plan reaches 25% in p1.
    """
    tables = dict(SCOPED, local_targets="site,target,classes\na,0.5,indirect")
    run = solve(write_instance(tmp_path / "screen", tables))
    assert run.outcome.status == "infeasible"
    messages = [f.message for f in run.diagnosis]
    assert any(m.startswith("demand for chip that must be met in p1 (100 wafers/yr") and
               "a: its 50% local share cannot be met (at most 0%)" in m for m in messages), messages
    offers = SCOPED["offers"] + "\nlg,gas,p1,10,3\nlg,gas,p2,1000,3"
    offers = offers.replace("lg,gas,p2,1000,3\n", "", 1)
    run = solve(write_instance(tmp_path / "elastic", dict(tables, offers=offers)))
    assert run.outcome.status == "infeasible"
    diagnose(run, load_profile("exact"))
    messages = [f.message for f in run.diagnosis]
    assert any(m.startswith("a's 50% local share in p1 cannot be met: the best plan reaches 25%") for m in messages), \
        messages
    assert not any("in p2" in m for m in messages)


def test_a_phased_solve_writes_its_schedule_cash_flows_and_local_share_path(tmp_path, capsys):
    """`siting solve` on the lead-time case: the results folder gains schedule.csv, periods.csv,
    local_share.csv and schedule.png; summary.json's npv is the objective and the periods' discounted
    flows add up to it; the console prints the schedule (the module ordered in y26, producing in y27)."""
    import json

    import pandas as pd

    from siting.cli import main

    tables = dict(ONE_SITE,
                  periods="id,start_year,years\ny25,2025,1\ny26,2026,1\ny27,2027,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,lead_time_years\n"
                          "a,chip,100,100,1,1",
                  demand="market,product,period,wafers_per_year\nm,chip,y27,100",
                  local_targets="site,period,target\na,y27,0")
    folder = write_instance(tmp_path / "inst", tables, {"discount_rate": 0.1, "lifetime_years": 1})
    out = tmp_path / "out"
    assert main(["solve", str(folder), "--out", str(out), "--profile", "exact"]) == 0
    printed = capsys.readouterr().out
    assert "│ a    │ chip    │     y26 │       y27 │ 0 / 0 │ 1 / 0 │ 1 / 100 │" in printed
    assert "local-share path at a: y27 - (target 0.0%)" in printed  # nothing bought: no share
    for name in ("schedule.csv", "periods.csv", "local_share.csv", "schedule.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["npv"] == summary["objective"] == pytest.approx(100.0, rel=1e-9)
    assert pd.read_csv(out / "periods.csv")["discounted"].sum() == pytest.approx(100.0, rel=1e-9)
    assert [r["modules"] for r in summary["sites"][0]["schedule"]] == [0, 1, 1]
    assert "<h2>Schedule</h2>" in (out / "report.html").read_text()


def test_scenarios_over_a_schedule(tmp_path, capsys):
    """The lead-time case with two scenarios (a quake halves the site's capacity and raises demand by
    20% with probability 0.3) and a CVaR weight: the schedule is one, operations differ by scenario,
    and the checks hold (the risk premium against the CVaR of the scenarios' NPVs, the cash flows
    against the objective). A run with scenarios and nothing bought prints its console report (the
    supplier mix of no purchases used to stop it)."""
    from siting.cli import main

    tables = dict(ONE_SITE,
                  periods="id,start_year,years\ny25,2025,1\ny26,2026,1\ny27,2027,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,lead_time_years\n"
                          "a,chip,100,100,2,1",
                  demand="market,product,period,wafers_per_year,penalty_per_wafer\nm,chip,y27,100,5",
                  scenarios="id,probability\nnominal,0.7\nquake,0.3",
                  scenario_effects="scenario,target,by,match,multiplier\nquake,site,id,a,0.5\nquake,demand,all,,1.2")
    folder = write_instance(tmp_path / "inst", tables, {"discount_rate": 0.1, "lifetime_years": 1,
                                                        "risk_weight": 0.5, "cvar_level": 0.5})
    run = solve(folder)
    assert run.outcome.status == "optimal" and run.violations == []
    assert run.results.risk["scenarios"] == 2
    assert main(["solve", str(folder), "--out", str(tmp_path / "out")]) == 0
    assert "solution checked against the instance tables: all rules hold" in capsys.readouterr().out


@pytest.mark.parametrize(("paid", "expected"), [("on_order", 55.0), ("on_start", 60.0)])
def test_payment_schedule_of_a_grant(tmp_path, paid, expected):
    """Two one-year periods at r = 10%, lifetime 1 (CRF 1.1): a module (capex 100) with a lead time of
    one year must be ordered in 2025 to serve 2026's demand: 1.1 x 100 = 110 in 2025's money. A 50%
    capex grant paid on order is worth 1.1 x 50 = 55 then: 110 - 55 = 55. Paid on the start of
    production, in 2026, it is worth 1.1 x 50 / 1.1 = 50: 110 - 50 = 60.
    """
    tables = dict(ONE_SITE,
                  sites="id,country,lat,lon,lead_time_years\na,JP,33,131,1",
                  periods="id,start_year,years\np1,2025,1\np2,2026,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1",
                  demand="market,product,period,wafers_per_year\nm,chip,p2,100",
                  instruments=f"id,kind,site,rate,paid\ngrant,capex_grant,a,0.5,{paid}")
    run = solve(write_instance(tmp_path, tables, {"discount_rate": 0.1, "lifetime_years": 1}))
    assert run.outcome.objective == pytest.approx(expected, rel=1e-9)
    flows = run.results.tables["periods"].set_index("period")
    assert flows["discounted"].sum() == pytest.approx(expected, rel=1e-9)
    at = "p2" if paid == "on_start" else "p1"
    assert flows.at[at, "subsidies_discounted"] == pytest.approx(expected - 110.0, rel=1e-9)
    assert run.violations == []
