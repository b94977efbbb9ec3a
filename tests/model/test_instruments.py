"""Every subsidy instrument on an instance small enough to solve on paper.

As in test_hand_solved: CRF = 1 (r = 0, L = 1 year) and plain USD unless a test says otherwise,
no freight or operating cost, so the objective is capex + purchases + penalties - subsidies.
Each test also checks that the government outlay in ``summary.json`` is the sum of the payouts
the docstring derives, and that the solution passed the check against the raw tables.
"""

from __future__ import annotations

import pytest

from siting.report.write import summary_dict
from tests.helpers import solve, write_instance
from tests.model.test_hand_solved import LOCAL, TWO_SITES

RATE, LIFE = 0.08, 10
DISCOUNTED = {"discount_rate": RATE, "lifetime_years": LIFE}


def annuity(rate: float, years: int) -> float:
    """Present value of 1 a year for ``years`` years, summed term by term."""
    return sum((1 + rate) ** -t for t in range(1, years + 1))


def paid(run) -> dict:
    sub = run.results.tables["subsidies"]
    return {(i, s): p for i, s, p in zip(sub["instrument"], sub["site"], sub["payout_total"])}


def opened(run) -> list[str]:
    sites = run.results.tables["sites"]
    return sites.loc[sites["open"], "site"].tolist()


def checked(run, outlay_total: float, outlay_per_year: float | None = None):
    """The solution passed verify, summary.json's outlay is the hand-derived total, and the outlay a
    year is the subsidy term of the objective."""
    assert run.outcome.status == "optimal"
    assert run.violations == []
    summary = summary_dict(run)
    assert summary["government_outlay_total"] == pytest.approx(outlay_total, abs=1e-7)
    # the outlay a year is what the objective's subsidy term takes off the firm's cost
    assert summary["government_outlay"] == pytest.approx(-run.results.costs["subsidies"], rel=1e-9, abs=1e-9)
    if outlay_per_year is not None:
        assert summary["government_outlay"] == pytest.approx(outlay_per_year, rel=1e-9, abs=1e-9)
    return run


def test_tax_credit_is_a_grant_at_a_rate(tmp_path):
    """A 25% credit on a's capex of 100 brings it to 75 < 80 (b): a opens, 25 paid."""
    tables = dict(TWO_SITES, instruments="id,kind,site,rate\nitc,tax_credit,a,0.25")
    run = checked(solve(write_instance(tmp_path, tables)), 25.0)
    assert run.outcome.objective == pytest.approx(75.0, rel=1e-9)
    assert opened(run) == ["a"]


def test_capped_tax_credit_binds_and_keeps_b(tmp_path):
    """Capped at 10, the credit brings a only to 90 > 80: b opens and nothing is paid."""
    tables = dict(TWO_SITES, instruments="id,kind,site,rate,cap\nitc,tax_credit,a,0.25,10")
    run = checked(solve(write_instance(tmp_path, tables)), 0.0)
    assert run.outcome.objective == pytest.approx(80.0, rel=1e-9)
    assert opened(run) == ["b"]


def test_country_instrument_is_offered_at_every_site_in_the_country(tmp_path):
    """A 30% grant for Japan reaches a and c (both JP) but not b (US). Demand 200 needs two of
    the three one-module sites: a 100 - 30 = 70, c 90 - 27 = 63, b 80: open a and c, 133, 57 paid."""
    tables = dict(TWO_SITES, instruments="id,kind,country,rate\njp,capex_grant,JP,0.3")
    tables["sites"] = "id,country,lat,lon\na,JP,33.0,131.0\nb,US,33.5,-112.0\nc,JP,43.0,141.6"
    tables["modules"] = ("site,product,wafers_per_module,capex_per_module,max_modules\n"
                         "a,chip,100,100,1\nb,chip,100,80,1\nc,chip,100,90,1")
    tables["demand"] = "market,product,wafers_per_year\nm,chip,200"
    run = checked(solve(write_instance(tmp_path, tables)), 57.0)
    assert run.outcome.objective == pytest.approx(133.0, rel=1e-9)
    assert set(paid(run)) == {("jp", "a"), ("jp", "c")}
    assert sorted(opened(run)) == ["a", "c"]


def test_region_instrument_reaches_only_its_region(tmp_path):
    """A lump sum of 50 for Kyushu: a (Kyushu) costs 100 - 50 = 50 < 80, so a opens."""
    tables = dict(TWO_SITES, instruments="id,kind,region,amount\nkyushu,lump_sum,Kyushu,50")
    tables["sites"] = "id,country,region,lat,lon\na,JP,Kyushu,33.0,131.0\nb,US,Arizona,33.5,-112.0"
    run = checked(solve(write_instance(tmp_path, tables)), 50.0)
    assert run.outcome.objective == pytest.approx(50.0, rel=1e-9)
    assert set(paid(run)) == {("kyushu", "a")}


def test_production_subsidy_paid_for_some_years_is_annualised(tmp_path):
    """r = 8%, L = 10. USD 0.1 per wafer for 5 years on a's 100 wafers is 10 a year for 5 years:
    worth 10 A5 today (A5 = sum 1.08^-t, t = 1..5 = 3.9927), so a costs (100 - 10 A5) CRF a year
    = 60.07 CRF < b's 80 CRF: a opens. The undiscounted payout is 50; the outlay a year is 10 A5 CRF."""
    crf = 1 / annuity(RATE, LIFE)
    tables = dict(TWO_SITES, instruments="id,kind,site,per_wafer,years\nps,production_subsidy,a,0.1,5")
    run = checked(solve(write_instance(tmp_path, tables, settings=DISCOUNTED)), 50.0, 10 * annuity(RATE, 5) * crf)
    assert opened(run) == ["a"]
    assert run.outcome.objective == pytest.approx((100 - 10 * annuity(RATE, 5)) * crf, rel=1e-9)


def test_capped_production_subsidy_no_longer_flips(tmp_path):
    """Capped at 20 in total, the subsidy pays 4 a year for 5 years, worth 4 A5 = 15.97 < 20:
    a would cost 84.03 CRF > 80 CRF, so b opens and nothing is paid."""
    crf = 1 / annuity(RATE, LIFE)
    tables = dict(TWO_SITES, instruments="id,kind,site,per_wafer,years,cap\nps,production_subsidy,a,0.1,5,20")
    run = checked(solve(write_instance(tmp_path, tables, settings=DISCOUNTED)), 0.0)
    assert opened(run) == ["b"]
    assert run.outcome.objective == pytest.approx(80 * crf, rel=1e-9)


def test_production_subsidy_pays_only_for_its_product(tmp_path):
    """a makes 100 chips and 50 sensors (module capex 100 each; b cannot make sensors). USD 1 per
    sensor at a is 50, per chip would be 100: with product=sensor the 50 is paid, a's chip module
    (100) still loses to b's (80): cost 80 + 100 - 50 = 130."""
    tables = dict(TWO_SITES, instruments="id,kind,site,per_wafer,product\nps,production_subsidy,a,1,sensor")
    tables["products"] = "id\nchip\nsensor"
    tables["modules"] = ("site,product,wafers_per_module,capex_per_module,max_modules\n"
                         "a,chip,100,100,1\nb,chip,100,80,1\na,sensor,50,100,1")
    tables["demand"] = "market,product,wafers_per_year\nm,chip,100\nm,sensor,50"
    run = checked(solve(write_instance(tmp_path, tables)), 50.0)
    assert run.outcome.objective == pytest.approx(130.0, rel=1e-9)
    assert sorted(opened(run)) == ["a", "b"]


def test_interest_free_loan_on_all_capex_costs_the_straight_repayment(tmp_path):
    """r = 8%, L = 10: capex 100 lent interest-free over 10 years is repaid at 10 a year, which is
    a's whole annual capital cost; b costs 80 CRF = 11.92 a year: a opens at 10.0. The loan's
    grant element is 100 (1 - 0.1 / CRF) = 32.90 and saves 100 CRF - 10 a year."""
    crf = 1 / annuity(RATE, LIFE)
    tables = dict(TWO_SITES, instruments="id,kind,site,loan_share,loan_rate\nloan,concessional_loan,a,1,0")
    run = checked(solve(write_instance(tmp_path, tables, settings=DISCOUNTED)), 100 * (1 - 0.1 / crf),
                  100 * crf - 10)
    assert opened(run) == ["a"]
    assert run.outcome.objective == pytest.approx(10.0, rel=1e-9)


def test_loan_capped_at_half_the_capex_falls_short(tmp_path):
    """Lending at most 50 saves 50 (CRF - 0.1) = 2.45 a year: a costs 12.45 > b's 11.92: b opens."""
    crf = 1 / annuity(RATE, LIFE)
    tables = dict(TWO_SITES, instruments="id,kind,site,loan_share,loan_rate,cap\nloan,concessional_loan,a,1,0,50")
    run = checked(solve(write_instance(tmp_path, tables, settings=DISCOUNTED)), 0.0)
    assert opened(run) == ["b"]
    assert run.outcome.objective == pytest.approx(80 * crf, rel=1e-9)


def test_loan_no_cheaper_than_the_firms_capital_is_refused(tmp_path):
    tables = dict(TWO_SITES, instruments="id,kind,site,loan_share,loan_rate\nloan,concessional_loan,a,1,0.09")
    with pytest.raises(Exception) as err:
        solve(write_instance(tmp_path, tables, settings=DISCOUNTED))
    assert ("instruments.csv row 2 (id=loan) column loan_rate | is 0.09, no cheaper than a's discount rate 0.08; "
            "a concessional loan's rate must be below the firm's discount rate") in str(err.value)


# --- conditions --------------------------------------------------------------------------------
# LOCAL: one site, 100 wafers of an input, 10 abroad or 12 locally. Meeting a 60% local share
# takes L = 600 / 10.8 = 55.56 local units and costs 2 L = 111.11 more (test_hand_solved).
MEET_60 = 2 * 600 / 10.8


def test_conditional_offer_worth_less_than_the_condition_costs_is_declined(tmp_path):
    """A lump sum of 100 if the local share reaches 60%: meeting it costs 111.11 > 100, so the firm
    declines, buys everything abroad and pays 100 + 1000; nothing is paid."""
    tables = dict(LOCAL, instruments="id,kind,site,amount,min_local_share\nc,lump_sum,kumamoto,100,0.6")
    run = checked(solve(write_instance(tmp_path, tables)), 0.0)
    assert run.outcome.objective == pytest.approx(1100.0, rel=1e-9)
    sub = run.results.tables["subsidies"].iloc[0]
    assert bool(sub["conditional"]) and not bool(sub["taken"])
    assert run.results.tables["sites"].at[0, "local_share"] == pytest.approx(0.0, abs=1e-9)


def test_conditional_offer_worth_more_is_taken_and_the_condition_met(tmp_path):
    """A lump sum of 150 for the same condition: 1100 + 111.11 - 150 = 1061.11, local share 60%."""
    tables = dict(LOCAL, instruments="id,kind,site,amount,min_local_share\nc,lump_sum,kumamoto,150,0.6")
    run = checked(solve(write_instance(tmp_path, tables)), 150.0)
    assert run.outcome.objective == pytest.approx(1100 + MEET_60 - 150, rel=1e-9)
    assert bool(run.results.tables["subsidies"].at[0, "taken"])
    assert run.results.tables["sites"].at[0, "local_share"] == pytest.approx(0.6, abs=1e-9)


def test_conditional_grant_flips_the_site_choice(tmp_path):
    """a (JP) capex 1000, b (US) 900; 100 input units at 10 abroad or 12 from the Japanese plant.
    Without the grant b wins: 900 + 1000 < 1000 + 1000. A 30% grant at a on condition of a 60%
    local share: a costs 1000 - 300 + 1000 + 111.11 = 1811.11 < 1900, so a opens and takes it."""
    tables = dict(LOCAL, instruments="id,kind,site,rate,min_local_share\ng,capex_grant,a,0.3,0.6")
    tables["sites"] = "id,country,lat,lon\na,JP,32.88,130.83\nb,US,33.5,-112.0"
    tables["modules"] = ("site,product,wafers_per_module,capex_per_module,max_modules\n"
                         "a,chip,100,1000,1\nb,chip,100,900,1")
    without = solve(write_instance(tmp_path / "without", {k: v for k, v in tables.items() if k != "instruments"}))
    assert opened(without) == ["b"] and without.outcome.objective == pytest.approx(1900.0, rel=1e-9)
    run = checked(solve(write_instance(tmp_path / "with", tables)), 300.0)
    assert opened(run) == ["a"]
    assert run.outcome.objective == pytest.approx(1811.0 + 1 / 9, rel=1e-9)
    assert run.results.tables["sites"].set_index("site").at["a", "local_share"] == pytest.approx(0.6, abs=1e-9)


@pytest.mark.parametrize("penalty, takes", [(2.0, True), (3.0, False)])
def test_utilisation_condition_weighs_a_smaller_fab_against_the_grant(tmp_path, penalty, takes):
    """Demand 150; modules of 100 wafers at 100 each, at most 2. A 40% grant requires 90%
    utilisation: two modules run at 75% (cost 200, no grant); one module at 100% gets 40 and leaves
    50 wafers unmet: 60 + 50 x penalty. Penalty 2: 160 < 200, take it; penalty 3: 210 > 200, decline."""
    tables = {
        "sites": "id,country,lat,lon\na,JP,33,131",
        "products": "id\nchip",
        "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,2",
        "markets": "id,country,lat,lon\nm,JP,33,131",
        "demand": f"market,product,wafers_per_year,penalty_per_wafer\nm,chip,150,{penalty}",
        "instruments": "id,kind,site,rate,min_utilisation\ng,capex_grant,a,0.4,0.9",
    }
    run = checked(solve(write_instance(tmp_path, tables)), 40.0 if takes else 0.0)
    assert run.outcome.objective == pytest.approx(160.0 if takes else 200.0, rel=1e-9)
    assert bool(run.results.tables["subsidies"].at[0, "taken"]) is takes


def test_program_budget_binds_across_instruments(tmp_path):
    """Demand 200 needs both one-module sites (100 + 80). 50% grants would pay 50 + 40 = 90, but
    they share a program budget of 60: 180 - 60 = 120, and 60 paid in all."""
    tables = dict(TWO_SITES, instruments="id,kind,site,rate,program\nga,capex_grant,a,0.5,p\ngb,capex_grant,b,0.5,p",
                  programs="id,budget\np,60")
    tables["demand"] = "market,product,wafers_per_year\nm,chip,200"
    run = checked(solve(write_instance(tmp_path, tables)), 60.0)
    assert run.outcome.objective == pytest.approx(120.0, rel=1e-9)
    free = checked(solve(write_instance(tmp_path / "free", tables), sets=["programs.p.budget=1000"]), 90.0)
    assert free.outcome.objective == pytest.approx(90.0, rel=1e-9)


def test_site_status_forces_a_site_open_or_closed(tmp_path):
    """Forcing a open costs its 100 instead of b's 80; closing b does the same."""
    site = write_instance(tmp_path, TWO_SITES)
    for sets in (["sites.a.status=open"], ["sites.b.status=closed"]):
        run = solve(site, sets=sets)
        assert opened(run) == ["a"]
        assert run.outcome.objective == pytest.approx(100.0, rel=1e-9)


@pytest.mark.parametrize("row, message", [
    ("g,capex_grant,,,,", "instruments.csv row 2 (id=g) | names no site, country or region; give exactly one of site, country or region"),
    ("g,capex_grant,a,JP,,0.3", "instruments.csv row 2 (id=g) | names both site and country; give exactly one of site, country or region"),
    ("g,capex_grant,,FR,,0.3", "instruments.csv row 2 (id=g) column country | no candidate site is in country 'FR'; use a country of sites.csv"),
    ("g,production_subsidy,a,,,", "instruments.csv row 2 (id=g) column per_wafer | is empty for a production_subsidy; give the subsidy per wafer in USD"),
])
def test_instrument_rows_are_checked(tmp_path, row, message):
    tables = dict(TWO_SITES, instruments=f"id,kind,site,country,region,rate,per_wafer\n{row},")
    with pytest.raises(Exception) as err:
        solve(write_instance(tmp_path, tables))
    assert message in str(err.value).splitlines()


def test_a_lump_sum_in_a_short_program_is_paid_in_part_and_does_not_bar_the_site(tmp_path):
    """b (80) has a lump sum of 10 from a program with 5 left: b still opens and gets 5: 75."""
    tables = dict(TWO_SITES, instruments="id,kind,site,amount,program\nlump,lump_sum,b,10,p", programs="id,budget\np,5")
    run = checked(solve(write_instance(tmp_path, tables)), 5.0)
    assert opened(run) == ["b"]
    assert run.outcome.objective == pytest.approx(75.0, rel=1e-9)


def test_stacked_grants_never_pay_more_than_the_capex(tmp_path):
    """A 60% grant and a 60% credit at a would pay 120% of capex: together they pay at most the
    capex, so the firm's cost is 0, not the -100 of five idle modules (500 capex) bringing 600."""
    tables = dict(TWO_SITES, instruments="id,kind,site,rate\ng,capex_grant,a,0.6\nitc,tax_credit,a,0.6")
    tables["modules"] = "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,5\nb,chip,100,80,1"
    run = solve(write_instance(tmp_path, tables))
    capex = run.results.tables["sites"].set_index("site").at["a", "capex_total"]
    checked(run, capex)
    assert run.outcome.objective == pytest.approx(0.0, abs=1e-9)
