"""`siting induce`: the cheapest package that makes the firm's optimum open target sites, against
hand-solved answers, a brute-force enumeration of every plan, and the package applied with --set.

THREE: 200 wafers of firm demand, three sites of one 100-wafer module each (CRF 1, plain USD):
a costs 100, b 80, c 90, so the firm opens two sites, b and c at 170 (a and b: 180; a and c: 190).
- Target a: the best plan with a is {a, b} at 180; the only cut is from {b, c}: L[a] >= 180 - 170 = 10.
  Outlay 10 (plus the tie margin), two firm solves.
- Target a and c: the best plan with both is {a, c} at 190. The first response {b, c} opens c but
  not a: L[a] >= 190 - 170 = 20; the cheapest offer is then L = (20, 0). With it {a, b} costs
  180 - 20 = 160 < {a, c}'s 190 - 20 = 170, so the second response {a, b} gives L[c] >= 190 - 180 = 10.
  At L = (20, 10) the target costs 160 and so do {a, b} and {b, c}: the margin breaks the tie.
  Outlay 30, two cuts, three firm solves.
- Target a with only US sites fundable (a is in Japan): no offer is allowed at a, and {b, c} is
  cheaper than every plan with a by 10: impossible.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

from siting.analysis.breakeven import breakeven
from siting.analysis.induce import MARGIN, induce, offer_id
from siting.cli import main
from siting.instance.designs import apply_package
from siting.instance.read import read_instance
from siting.run import run_case
from siting.solve import load_profile
from tests.helpers import write_instance

EXACT = load_profile("exact")


def three(capex=(100, 80, 90), countries=("JP", "US", "JP"), demand=200, placeholders=False) -> dict:
    sites = "id,country,lat,lon\n" + "\n".join(
        f"{s},{c},{33 + k},{131 + k}" for k, (s, c) in enumerate(zip("abcdef", countries)))
    modules = "site,product,wafers_per_module,capex_per_module,max_modules\n" + "\n".join(
        f"{s},chip,100,{c},1" for s, c in zip("abcdef", capex))
    tables = {"sites": sites, "products": "id\nchip\n", "modules": modules,
              "markets": "id,country,lat,lon\nm,JP,35.0,137.0\n",
              "demand": f"market,product,wafers_per_year\nm,chip,{demand}\n"}
    if placeholders:  # a lump sum of 0 at every site, for --set to reach
        tables["instruments"] = "id,kind,site,amount\n" + "\n".join(
            f"{offer_id(s)},lump_sum,{s},0" for s in "abcdef"[:len(capex)])
    return tables


@pytest.fixture
def hand(tmp_path) -> Path:
    return write_instance(tmp_path / "three", three())


def opened(run) -> list[str]:
    t = run.results.tables["sites"]
    return t.loc[t["open"], "site"].tolist()


def test_one_cut_brings_a_for_the_hand_solved_ten(hand):
    answer = induce(read_instance(hand), ["a"], EXACT)
    margin = MARGIN * 180
    assert answer.status == "induced"
    assert [o["site"] for o in answer.offers] == ["a"]
    assert answer.outlay == pytest.approx(10 + margin, abs=1e-6)
    assert [r["response"] for r in answer.iterations] == [["b", "c"], ["a", "b"]]
    assert answer.firm_cost_without == pytest.approx(170) and answer.firm_cost_with == pytest.approx(170 - margin)


def test_two_cuts_bring_a_and_c_for_the_hand_solved_thirty(hand):
    answer = induce(read_instance(hand), ["a", "c"], EXACT)
    margin = MARGIN * 190
    assert answer.status == "induced"
    got = {o["site"]: o["amount"] for o in answer.offers}
    assert got == pytest.approx({"a": 20 + margin, "c": 10 + margin}, abs=1e-6)
    assert answer.outlay == pytest.approx(30 + 2 * margin, abs=1e-6)
    assert [r["response"] for r in answer.iterations] == [["b", "c"], ["a", "b"], ["a", "c"]]
    assert [r["cut"]["sites"] for r in answer.iterations[:2]] == [["a"], ["c"]]
    assert answer.firm_cost_with == pytest.approx(160 - 2 * margin, abs=1e-6)


def test_no_offer_can_bring_a_when_only_us_sites_may_be_funded(hand):
    answer = induce(read_instance(hand), ["a"], EXACT, country="US")
    assert answer.status == "impossible" and answer.offers == [] and answer.outlay == 0
    assert "prefers the plan that opens b, c at 170.000 USD/yr" in answer.reason
    assert "best plan opening every target site at 180.000" in answer.reason
    assert "leaves closed only a, where no offer is allowed (outside US)" in answer.reason


def test_a_target_no_plan_can_open_is_impossible(tmp_path):
    """Firm budget 185: a (100) and c (90) together exceed it, so no plan opens both."""
    folder = write_instance(tmp_path / "t", three(), settings={"firm_budget": 185})
    answer = induce(read_instance(folder), ["a", "c"], EXACT)
    assert answer.status == "impossible"
    assert answer.reason.startswith("no plan opens all of a, c (infeasible")


def test_the_induced_package_applied_with_set_makes_the_target_the_optimum(tmp_path):
    folder = write_instance(tmp_path / "p", three(placeholders=True))
    raw = read_instance(folder)
    for target in (["a"], ["a", "c"], ["a", "b"], ["c"]):
        answer = induce(raw, target, EXACT)
        assert answer.status == "induced"
        run = run_case(folder, EXACT, sets=answer.sets(), duals=False)
        assert set(target) <= set(opened(run)), (target, answer.sets())
        # and a little less than the package does not (where anything was offered)
        if answer.offers:
            less = [s.rsplit("=", 1)[0] + "=" + repr(float(s.rsplit("=", 1)[1]) - 1e-3) for s in answer.sets()]
            assert not set(target) <= set(opened(run_case(folder, EXACT, sets=less, duals=False)))


def test_grant_rates_keep_the_lump_sums_proportions_within_the_tolerance(hand):
    """Rates r = k L / capex: at k = 1, a gets 20/100 and c 10/90, which pays exactly the lump sums."""
    answer = induce(read_instance(hand), ["a", "c"], EXACT, instrument="grant-rate", tolerance=1e-4)
    assert answer.status == "induced"
    rates = {o["site"]: o["rate"] for o in answer.offers}
    assert rates["a"] == pytest.approx(0.2, rel=2e-4) and rates["c"] == pytest.approx(10 / 90, rel=2e-4)
    assert answer.outlay == pytest.approx(30, rel=2e-4)
    rows = tuple({"id": offer_id(s), "kind": "capex_grant", "site": s, "rate": r} for s, r in rates.items())
    from siting.instance.designs import Package

    run = run_case(apply_package(read_instance(hand), Package("x", add=rows)), EXACT, duals=False)
    assert {"a", "c"} <= set(opened(run))


def _brute_force(folder: Path, target: list[str], sites: list[str]) -> float:
    """The least outlay from every plan's cost: each subset of sites forced open (others closed) is
    solved, and min sum L s.t. sum_{t in T closed in y} L[t] >= c_T - c(y) over every subset y that
    does not open T, with c_T the cheapest subset that does (CRF 1, no margin)."""
    cost = {}
    for k in range(len(sites) + 1):
        for ys in itertools.combinations(sites, k):
            sets = [f"sites.{s}.status={'open' if s in ys else 'closed'}" for s in sites]
            run = run_case(folder, EXACT, sets=sets, duals=False)
            if run.outcome.has_solution:
                cost[ys] = run.outcome.objective
    c_target = min(c for ys, c in cost.items() if set(target) <= set(ys))
    rows, rhs = [], []
    for ys, c in cost.items():
        if not set(target) <= set(ys) and c_target - c > 0:
            rows.append([-1.0 if t not in ys else 0.0 for t in target])
            rhs.append(-(c_target - c))
    if not rows:
        return 0.0
    res = linprog(np.ones(len(target)), A_ub=np.array(rows), b_ub=np.array(rhs), bounds=[(0, None)] * len(target),
                  method="highs")
    return float(res.fun)


@pytest.mark.parametrize("seed", [1, 2, *(pytest.param(k, marks=pytest.mark.slow) for k in (3, 4))])
def test_random_instances_equal_brute_force_and_keep_the_bounds(tmp_path, seed):
    """Four sites, 200 (or 300) wafers, random capex; target two random sites. The induced outlay equals
    the brute-force LP over every plan, and lies between the bounds that hold in general:
    max_t break-even[t] <= c_T - c* <= outlay <= sum_t max(c_T - c_{-t}, 0) (c_{-t}: t forced closed)."""
    rng = np.random.default_rng(seed)
    capex = rng.integers(50, 150, size=4).tolist()
    folder = write_instance(tmp_path / f"r{seed}", three(capex, ("JP",) * 4, demand=int(rng.choice([200, 300]))))
    raw = read_instance(folder)
    target = sorted(rng.choice(list("abcd"), size=2, replace=False).tolist())
    answer = induce(raw, target, EXACT)
    assert answer.status == "induced"
    margins = len(target) * MARGIN * max(1, answer.target_cost)
    truth = _brute_force(folder, target, list("abcd"))
    assert truth - 1e-6 <= answer.outlay <= truth + margins + 1e-6
    singles = [breakeven(raw, t, EXACT) for t in target]
    largest = max(b.offer if b.direction == "opens" else 0.0 for b in singles)
    assert answer.outlay >= largest - 1e-6
    optimum = answer.firm_cost_without
    assert answer.outlay >= answer.target_cost - optimum - 1e-6
    upper = sum(max(answer.target_cost - run_case(folder, EXACT, sets=[f"sites.{t}.status=closed"],
                                                  duals=False).outcome.objective, 0.0) for t in target)
    assert answer.outlay <= upper + margins + 1e-6


def test_the_sum_of_single_site_break_evens_is_no_upper_bound_when_target_sites_compete(hand):
    """a's break-even is 10, c is open already (0): 10 in all, but bringing a and c takes 30,
    because an offer at a also makes {a, b} cheaper than the target. The bound that holds instead
    is sum_t (c_T - c_{-t}) = (190 - 170) + (190 - 180) = 30, attained here."""
    raw = read_instance(hand)
    a, c = breakeven(raw, "a", EXACT), breakeven(raw, "c", EXACT)
    assert a.offer == pytest.approx(10) and c.direction == "stays-open"
    assert induce(raw, ["a", "c"], EXACT).outlay > a.offer + 19


def test_cli_json_is_one_object_with_the_documented_fields(hand, capsys):
    assert main(["induce", str(hand), "--target", "a,c", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert {"target", "offers", "outlay", "outlay_per_year", "iterations", "status"} <= set(got)
    assert got["status"] == "induced" and got["target"] == ["a", "c"]
    assert [set(o) >= {"site", "instrument", "amount", "amount_per_year"} for o in got["offers"]] == [True, True]
    assert got["outlay"] == pytest.approx(30, abs=1e-3) and len(got["iterations"]) == 3


def test_cli_says_impossible_with_exit_3(hand, capsys):
    assert main(["induce", str(hand), "--target", "a", "--country", "US", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["status"] == "impossible"


@pytest.mark.parametrize("argv, message", [
    (["--target", "a,zz"], "--target zz | is not a site of the instance; give one of the ids in sites.csv"),
    (["--target", "a,a"], "--target | names a site twice; give each site once"),
    (["--target", ","], "--target | names no site; give one or more sites, e.g. --target kumamoto"),
    (["--target", "a", "--instrument", "per-wafer"], "--instrument per-wafer | is not an induce instrument"),
    (["--target", "a", "--tolerance", "0"], "--tolerance | must be above zero (got 0.0); e.g. 0.0001"),
    (["--target", "a", "--set", "sites.a.status=closed"], "--target a | is fixed closed by sites.status"),
])
def test_cli_bad_input_is_one_line_and_exit_2(hand, capsys, argv, message):
    assert main(["induce", str(hand), *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
