"""`siting induce` on a phased instance: offers in present value, paid in the period a site opens,
against hand-solved answers, the break-even bisection (a second method) and the package applied.

TWO: two one-year periods p1 = 2025 and p2 = 2026 at r = 10%, every life one year (CRF 1.1); the NPV
is stated at the end of 2025, so 2025 weighs 1 and 2026 1/1.1, and capital ordered in p1 costs
1.1 x its capex, in p2 its capex. Demand (to be met) is 100 wafers in p1 and 200 in p2. Site a (JP,
the target) has one 100-wafer module at capex 100; site b (US) up to two at capex 80. A lump sum L at a
is paid when a opens and counted like the capital it pays for: worth 1.1 L to a plan that opens a in
p1, L to one that opens it in p2.

- early (b's wafers cost 0.01 each to make, a's nothing). The optimum: b in p1 (88) and its second
  module in p2 (80), making 100 wafers in 2025 (1) and 200 in 2026 (2/1.1): 170.818. With a open from
  p2: b in p1 (88), a in p2 (100), b makes 100 in 2025 (1) and 100 in 2026 (1/1.1): 189.909, the best
  plan with a (c_T). With a open from p1: a in p1 (110), b in p2 (80), b makes 100 in 2026 (1/1.1):
  190.909. Bringing a by p2 takes 189.909 - 170.818 = 19.091; by p1 (190.909 - 170.818) / 1.1 =
  22.1 / 1.21 = 18.264: cheaper, although the best plan with a opens it in p2. Answer 18.264 paid in
  p1, worth 20.091; the p1 schedule is priced once.
- late (a's wafers cost 0.1 each, b's nothing). The optimum: 88 + 80 = 168. With a from p2: 88 + 100
  + a makes 100 in 2026 (10/1.1) = 197.091 (c_T); with a from p1: a and b in p1 (198), a makes 100 in
  2026 (9.091) = 207.091 (a in p1 and b in p2 costs 209.091). By p2: 29.091; by p1: 39.091 / 1.1 =
  35.537. Answer 29.091 paid in p2, worth 29.091: a site forced open from the first period would ask
  35.537.

Each answer carries the tie margin m = 1e-6 x c_T in present value: L = (gap + m) / worth.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siting.analysis import induce as induce_module
from siting.analysis.breakeven import breakeven
from siting.analysis.induce import MARGIN, induce, offer_id
from siting.cli import main
from siting.instance.read import read_instance
from siting.run import run_case
from siting.solve import load_profile
from tests.helpers import write_instance
from tests.model.test_periods import ONE_SITE

EXACT = load_profile("exact")
JASM_PHASED = Path(__file__).resolve().parents[2] / "instances" / "jasm-phased"
MONEY = {"discount_rate": 0.1, "lifetime_years": 1}
#: (a's and b's operating cost per wafer, the answer, its period, its present value, c_T)
CASES = {"early": (0.0, 0.01, 22.1 / 1.21, "p1", 22.1 / 1.1, 188 + 1 + 1 / 1.1),
         "late": (0.1, 0.0, 20 + 10 / 1.1, "p2", 20 + 10 / 1.1, 188 + 10 / 1.1)}


def two(op_a: float, op_b: float, placeholder: bool = False) -> dict:
    tables = dict(ONE_SITE, sites="id,country,lat,lon\na,JP,33,131\nb,US,34,132",
                  periods="id,start_year,years\np1,2025,1\np2,2026,1",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules,operating_cost_per_wafer\n"
                          f"a,chip,100,100,1,{op_a}\nb,chip,100,80,2,{op_b}",
                  demand="market,product,period,wafers_per_year\nm,chip,p1,100\nm,chip,p2,200")
    if placeholder:  # a lump sum of 0 at a, for --set to reach
        tables["instruments"] = f"id,kind,site,amount\n{offer_id('a')},lump_sum,a,0"
    return tables


def opened(run) -> list[str]:
    t = run.results.tables["sites"]
    return t.loc[t["open"], "site"].tolist()


@pytest.mark.parametrize("case", CASES)
def test_the_hand_solved_offer_is_paid_in_the_period_that_makes_it_cheapest(tmp_path, case):
    op_a, op_b, amount, period, worth, c_target = CASES[case]
    folder = write_instance(tmp_path / case, two(op_a, op_b), MONEY)
    answer = induce(read_instance(folder), ["a"], EXACT)
    m = MARGIN * c_target
    assert answer.status == "induced" and answer.phased
    assert answer.target_cost == pytest.approx(c_target, rel=1e-9)
    [offer] = answer.offers
    per_unit = 1.1 if period == "p1" else 1.0
    assert offer["amount"] == pytest.approx(amount + m / per_unit, rel=1e-9)
    assert offer["paid_in"] == period
    assert offer["amount_present_value"] == pytest.approx(worth + m, rel=1e-9)
    assert offer["amount_per_year"] == pytest.approx(1.1 * offer["amount"], rel=1e-12)
    assert answer.outlay_present_value == pytest.approx(worth + m, rel=1e-9)
    # the schedule that opens a in p1 was priced once (c_T's schedule opens it in p2)
    assert [s["opens"] for s in answer.schedules] == [{"a": "p1"}]
    assert [r["response"] for r in answer.iterations] == [["b"], ["a", "b"]]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_break_even_finds_the_same_offer(tmp_path, case):
    """A second method: `breakeven` steps the nominal amount down from the forced plan's on the
    firm's responses (Newton steps, exact when a response's own level repeats); induce adds the
    margin, break-even does not. In late the forced plan (a from p1) asks 35.537, and its
    response to that opens a in p2, whose own level 29.091 is the answer."""
    op_a, op_b, amount, period, _, c_target = CASES[case]
    folder = write_instance(tmp_path / case, two(op_a, op_b), MONEY)
    offer = induce(read_instance(folder), ["a"], EXACT).offers[0]["amount"]
    single = breakeven(read_instance(folder), "a", EXACT)
    assert single.level == pytest.approx(amount, rel=1e-5)
    per_unit = 1.1 if period == "p1" else 1.0
    assert 0 <= offer - single.level <= MARGIN * c_target / per_unit + 1e-5 * amount
    # the present value is that of the plan the bisection accepted (paid in the same period), whose
    # level may be the bracket's top, hi (1 + 1e-6), rather than the level reported
    assert single.offer == pytest.approx(single.level * per_unit, rel=2e-6)


@pytest.mark.slow
def test_jasm_phased_chitose_agrees_with_its_break_even():
    """The flagship's phased path: the cheapest lump sum bringing Chitose, by cutting planes over
    opening schedules and by break-even (exact there: the plan forced open from 2021 is the cheapest
    with Chitose, so the bounds meet), differ by induce's margin alone."""
    raw = read_instance(JASM_PHASED)
    answer = induce(raw, ["chitose"], EXACT)
    single = breakeven(raw, "chitose", EXACT)
    assert answer.status == "induced" and single.direction == "opens"
    [offer] = answer.offers
    assert offer["paid_in"] == "p2021"
    assert 0 <= offer["amount"] - single.level <= answer.margin / (single.offer / single.level) + 1e-6 * single.level
    assert offer["amount_present_value"] == pytest.approx(single.offer, abs=answer.margin + 1e-6 * single.offer)
    assert "chitose" in answer.plan.split(", ")


@pytest.mark.parametrize("case", [pytest.param("early", marks=pytest.mark.slow), "late"])
def test_the_package_applied_with_set_makes_the_target_the_optimum(tmp_path, case):
    op_a, op_b, *_ = CASES[case]
    folder = write_instance(tmp_path / case, two(op_a, op_b, placeholder=True), MONEY)
    answer = induce(read_instance(folder), ["a"], EXACT)
    run = run_case(folder, EXACT, sets=answer.sets(), duals=False)
    assert "a" in opened(run)
    less = [s.rsplit("=", 1)[0] + "=" + repr(float(s.rsplit("=", 1)[1]) - 1e-3) for s in answer.sets()]
    assert "a" not in opened(run_case(folder, EXACT, sets=less, duals=False))


def test_cli_json_names_the_nominal_amount_and_its_present_value(tmp_path, capsys):
    folder = write_instance(tmp_path / "late", two(0.1, 0.0), MONEY)
    assert main(["induce", str(folder), "--target", "a", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["status"] == "induced" and got["paid"] == "on_order"
    [offer] = got["offers"]
    assert set(offer) >= {"site", "instrument", "amount", "amount_per_year", "amount_present_value", "paid_in"}
    assert offer["amount"] == pytest.approx(20 + 10 / 1.1, rel=1e-5)
    assert got["outlay_present_value"] == pytest.approx(offer["amount_present_value"])


@pytest.mark.slow
def test_cli_prints_the_package_in_present_value(tmp_path, capsys):
    folder = write_instance(tmp_path / "early", two(0.0, 0.01), MONEY)
    assert main(["induce", str(folder), "--target", "a"]) == 0
    out = capsys.readouterr().out
    assert "a: 18.265 USD paid in p1, worth 20.091 USD in present value" in out
    assert "firm cost 170.818 USD (present value) without the package" in out


def test_too_many_opening_schedules_is_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(induce_module, "MAX_SCHEDULES", 1)
    folder = write_instance(tmp_path / "late", two(0.1, 0.0), MONEY)
    assert main(["induce", str(folder), "--target", "a"]) == 2
    captured = capsys.readouterr()
    assert ("--target | has 1 sites that may be funded over 2 periods: 2 opening schedules to weigh, more than 1; "
            "target fewer sites at once, or fund fewer with --country") in captured.err
    assert captured.out == ""


def test_an_unknown_payment_schedule_is_bad_input(tmp_path, capsys):
    folder = write_instance(tmp_path / "late", two(0.1, 0.0), MONEY)
    assert main(["induce", str(folder), "--target", "a", "--paid", "on_opening"]) == 2
    captured = capsys.readouterr()
    assert "--paid on_opening | is not a payment schedule of an offer" in captured.err and captured.out == ""


@pytest.mark.slow
def test_a_grant_rate_on_a_phased_instance_pays_the_lump_sum_as_a_share_of_capex(tmp_path):
    """late: a opens in p2 with capex 100 ordered then, so the rate that pays the lump sum 29.091 is
    29.091%, paid in p2 and worth as much (the rate's bisection to 1e-4 relative)."""
    folder = write_instance(tmp_path / "late", two(0.1, 0.0), MONEY)
    answer = induce(read_instance(folder), ["a"], EXACT, instrument="grant-rate", tolerance=1e-4)
    assert answer.status == "induced"
    [offer] = answer.offers
    assert offer["rate"] == pytest.approx((20 + 10 / 1.1) / 100, rel=2e-4)
    assert offer["paid_in"] == "p2"
    assert offer["amount_present_value"] == pytest.approx(offer["amount"], rel=1e-9)
    assert "a" in answer.plan.split(", ")


def test_a_response_opening_a_funded_site_in_another_period_gets_its_own_worth(tmp_path):
    """THREE: a (JP, capex 100, 0.1 a wafer), c (JP, capex 90, 0.05 a wafer) and b (US, two modules
    at 80, free to run); demand 100 in p1 and 200 in p2; target a and c, both fundable. One response
    opens c in p2 while the target schedule opens it in p1: its cut carries c's offer at
    1.1 - 1 = 0.1 (worth 1.1 to the target, 1 to the response). The package, applied with --set,
    makes the target the optimum, and a thousandth less at either site does not."""
    sites = "id,country,lat,lon\na,JP,33,131\nb,US,34,132\nc,JP,35,133"
    modules = ("site,product,wafers_per_module,capex_per_module,max_modules,operating_cost_per_wafer\n"
               "a,chip,100,100,1,0.1\nb,chip,100,80,2,0\nc,chip,100,90,1,0.05")
    t = dict(two(0, 0), sites=sites, modules=modules,
             instruments="id,kind,site,amount\n" + "\n".join(f"{offer_id(s)},lump_sum,{s},0" for s in "ac"))
    folder = write_instance(tmp_path / "three", t, MONEY)
    answer = induce(read_instance(folder), ["a", "c"], EXACT)
    assert answer.status == "induced"
    texts = [r["cut"]["text"] for r in answer.iterations if r["cut"]]
    assert any("0.1 L[c]" in text for text in texts), texts
    run = run_case(folder, EXACT, sets=answer.sets(), duals=False)
    assert {"a", "c"} <= set(opened(run))
    for k, s in enumerate(answer.sets()):
        key, value = s.rsplit("=", 1)
        less = [*answer.sets()[:k], f"{key}={float(value) - 1e-3!r}", *answer.sets()[k + 1:]]
        assert not {"a", "c"} <= set(opened(run_case(folder, EXACT, sets=less, duals=False))), less
