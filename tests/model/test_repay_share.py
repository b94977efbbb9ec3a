"""Continued production that may fall short and repay a share of the grant (instruments.repay_share),
solved on paper.

Three one-year periods 2025-2027, r = 0 and a lifetime of one year (every weight 1, CRF 1). Site a
has a lead time of one year: its module (100 wafers, capex 100, 2 a wafer to make) is ordered in
2025 and produces from 2026. Demand is 100 wafers in 2026 (to be met) and 100 in 2027, which may go
unmet at a penalty p a wafer. A 50% grant on the capex (50) requires 80% utilisation for two years
from the start of production (2026 and 2027).

Without the grant the firm makes 100 wafers in 2026 (200) and none in 2027 when p < 2 (100 p):
100 + 200 + 100 p. Keeping 80 wafers up in 2027 costs 80 x (2 - p) more.

- p = 1: no grant 400; taken and kept up 400 - 50 + 80 = 430, so without repay_share the grant is
  declined (400). With repay_share 0.5 the firm takes it and falls short in 2027, repaying 25:
  400 - 50 + 25 = 375, cheaper than both.
- p = 1.9: no grant 490; taken and kept up 490 - 50 + 8 = 448; taken and repaying 490 - 50 + 25 = 465:
  the firm keeps production up (448) and repays nothing.
"""

from __future__ import annotations

import pytest

from tests.helpers import solve, write_instance
from tests.instance.test_validation import problems
from tests.model.test_periods import ONE_SITE


def tables(penalty: float, repay: str) -> dict:
    return dict(ONE_SITE,
                sites="id,country,lat,lon,lead_time_years\na,JP,33,131,1",
                periods="id,start_year,years\np1,2025,1\np2,2026,1\np3,2027,1",
                modules="site,product,wafers_per_module,capex_per_module,max_modules,operating_cost_per_wafer\n"
                        "a,chip,100,100,1,2",
                demand="market,product,period,wafers_per_year,penalty_per_wafer\n"
                       f"m,chip,p2,100,\nm,chip,p3,100,{penalty}",
                instruments="id,kind,site,rate,min_utilisation,condition_years,repay_share\n"
                            f"grant,capex_grant,a,0.5,0.8,2,{repay}")


def _made(run, period: str) -> float:
    p = run.results.tables["production"]
    return float(p.loc[p["period"] == period, "wafers_per_year"].sum())


@pytest.mark.parametrize(("penalty", "repay", "objective", "taken", "made_p3", "repaid"), [
    (1.0, "", 400.0, False, 0.0, None),      # declined: keeping 80 wafers up costs more than the grant
    (1.0, "0.5", 375.0, True, 0.0, 25.0),    # taken, fallen short in 2027, half of it repaid
    (1.9, "0.5", 448.0, True, 80.0, 0.0),    # taken and kept up: cheaper than repaying
])
def test_repaying_a_share_against_keeping_production_up(tmp_path, penalty, repay, objective, taken, made_p3,
                                                        repaid):
    run = solve(write_instance(tmp_path, tables(penalty, repay)))
    assert run.outcome.objective == pytest.approx(objective, rel=1e-9)
    assert _made(run, "p3") == pytest.approx(made_p3, abs=1e-6)
    subs = run.results.tables["subsidies"]
    assert bool(subs["taken"].iloc[0]) is taken
    if repaid is None:
        assert "repayments" not in run.results.tables
    else:
        assert subs["repaid_total"].sum() == pytest.approx(repaid, abs=1e-6)
        assert subs["repaid_present_value"].sum() == pytest.approx(repaid, abs=1e-6)
        rep = run.results.tables["repayments"]
        assert rep["repaid"].sum() == pytest.approx(repaid, abs=1e-6)
        if repaid:
            assert rep["period_short"].tolist() == ["p3"]
    # the cash flows (the repayment among the subsidies of 2027) add up to the objective
    flows = run.results.tables["periods"].set_index("period")
    assert flows["discounted"].sum() == pytest.approx(objective, rel=1e-9)
    assert run.violations == []


def test_the_check_finds_a_shortfall_not_repaid(tmp_path):
    """The repaying plan (375) checked with its repayment taken out of the results."""
    from siting.report.verify_periods import verify_phased

    run = solve(write_instance(tmp_path, tables(1.0, "0.5")))
    assert verify_phased(run.instance, run.results, run.outcome.objective) == []
    run.results.tables["repayments"] = run.results.tables["repayments"].assign(repaid=0.0)
    found = verify_phased(run.instance, run.results, None)
    assert any(f.startswith("continued production (grant, a, p3, ") for f in found), found


@pytest.mark.parametrize(("columns", "row", "expected"), [
    ("id,kind,site,rate,min_utilisation,repay_share", "g,capex_grant,a,0.5,0.8,0.5",
     "instruments.csv row 2 (id=g) column repay_share | is 0.5 but the row has no condition_years; give the years "
     "the condition runs (and min_utilisation), or leave repay_share empty"),
    ("id,kind,site,per_wafer,min_utilisation,condition_years,repay_share", "g,production_subsidy,a,10,0.8,2,0.5",
     "instruments.csv row 2 (id=g) column repay_share | is 0.5 for a production_subsidy, which pays only for "
     "wafers made; leave repay_share empty"),
])
def test_repay_share_problems(tmp_path, columns, row, expected):
    t = dict(tables(1.0, ""), instruments=f"{columns}\n{row}")
    found = problems(write_instance(tmp_path / "inst", t))
    assert expected in found, "\n".join(found)
