"""Disruption scenarios, CVaR, VSS and EVPI: a hand-solved case and invariants on random instances.

The invariants are checked against independent truth: separate solves of each scenario alone
with the plan held fixed, the deterministic instance with its data edited by hand, and the
definitions of CVaR, VSS and EVPI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from siting.analysis.risk import risk_report
from siting.report.extract import cvar_of
from siting.run import first_stage_of, run_case
from siting.solve import load_profile
from tests.helpers import solve, write_instance
from tests.model.random_cases import random_case

# Two sites serve one market of 100 wafers (penalty 10 per wafer unmet), one module each of 100
# wafers at no capex. Site a (fixed cost 100, 1 per wafer) lies in a quake zone that takes it out
# with probability 0.2; site b (fixed cost 200, 2 per wafer) is never hit. Total cost per scenario:
#   a alone:   nominal 100 + 100 = 200; quake 100 + 100 x 10 unmet = 1100; E = 0.8 x 200 + 0.2 x 1100 = 380
#   b alone:   200 + 200 = 400 in both;                                    E = 400
#   both:      nominal 300 + 100 (from a) = 400; quake 300 + 200 (from b) = 500; E = 420
# With beta = 0.8 the CVaR is the cost in the quake scenario alone (its 20% is the whole tail):
#   a 1100, b 400, both 500. The objective (1 - lambda) E + lambda CVaR is 380 + 720 lambda for a
#   and 400 for b, so a wins below lambda = 20/720 = 1/36 and b above it; "both" never wins.
HAND = {
    "sites": "id,country,lat,lon,fixed_cost,hazard_zones\na,JP,33,131,100,quake-zone\nb,US,33.5,-112,200,",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules,operating_cost_per_wafer\n"
               "a,chip,100,0,1,1\nb,chip,100,0,1,2",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "demand": "market,product,wafers_per_year,penalty_per_wafer\nm,chip,100,10",
    "scenarios": "id,probability\nnominal,0.8\nquake,0.2",
    "scenario_effects": "scenario,target,by,match,multiplier\nquake,site,hazard_zone,quake-zone,0",
}


@pytest.fixture(scope="module")
def hand(tmp_path_factory) -> Path:
    return write_instance(tmp_path_factory.mktemp("hand") / "two", HAND, {"cvar_level": 0.8})


def _open(run) -> list[str]:
    sites = run.results.tables["sites"]
    return sites.loc[sites["open"], "site"].tolist()


@pytest.mark.parametrize("lam,sites,objective,premium", [
    (0.0, ["a"], 380.0, 0.0),
    (0.02, ["a"], 0.98 * 380 + 0.02 * 1100, 0.02 * (1100 - 380)),   # below 1/36: a, with its premium
    (0.5, ["b"], 400.0, 0.0),                                       # above 1/36: b, riskless
])
def test_hand_solved_two_scenarios(hand, lam, sites, objective, premium):
    run = solve(hand, [f"settings.risk_weight={lam}"])
    assert run.violations == []
    assert _open(run) == sites
    assert run.outcome.objective == pytest.approx(objective, abs=1e-6)
    assert run.results.costs["risk"] == pytest.approx(premium, abs=1e-6)
    scen = run.results.tables["scenarios"].set_index("scenario")
    if sites == ["a"]:
        assert scen["cost_per_year"].to_dict() == pytest.approx({"nominal": 200.0, "quake": 1100.0})
        assert scen.at["quake", "unmet_wafers_per_year"] == pytest.approx(100.0)
        risk = run.results.risk
        assert risk["expected_cost"] == pytest.approx(380.0)
        assert risk["cvar"] == pytest.approx(1100.0)
        assert risk["worst_case"] == pytest.approx(1100.0)
        assert risk["worst_scenario"] == "quake"
        assert risk["expected_unmet"] == pytest.approx(20.0)
        assert risk["worst_unmet"] == pytest.approx(100.0)


def test_hand_solved_vss_and_evpi(hand):
    """EV problem: a keeps 80% of its capacity: a = 100 + 80 + 20 x 10 = 380, b = 400,
    both = 300 + 80 + 20 x 2 = 420, so the EV plan is a, whose cost across the scenarios is 380 =
    the stochastic optimum: VSS = 0. With lambda = 0.5 the stochastic plan is b (400) and the EV
    plan a costs 0.5 x 380 + 0.5 x 1100 = 740 there: VSS = 340.
    Wait-and-see: nominal alone picks a (200), quake alone picks b (400; a would cost 1100);
    WS = 0.8 x 200 + 0.2 x 400 = 240, so EVPI = 380 - 240 = 140 at lambda = 0 and 400 - 240 = 160 at
    lambda = 0.5 (a single scenario's CVaR is its cost)."""
    options = load_profile("exact")
    for lam, vss, evpi in ((0.0, 0.0, 140.0), (0.5, 340.0, 160.0)):
        sets = [f"settings.risk_weight={lam}"]
        run = run_case(hand, options, sets)
        report = risk_report(hand, options, sets, run)
        assert report["vss"]["value"] == pytest.approx(vss, abs=1e-6)
        assert report["vss"]["expected_value_plan"] == ["a"]
        assert report["evpi"]["value"] == pytest.approx(evpi, abs=1e-6)
        assert report["evpi"]["wait_and_see_by_scenario"] == pytest.approx({"nominal": 200.0, "quake": 400.0})
        assert (report["vss"]["solves"], report["evpi"]["solves"]) == (2, 2)


@pytest.mark.parametrize("measure,limit,sites,objective", [
    ("cvar", 1100, ["a"], 380.0),     # a's CVaR is 1100: allowed
    ("cvar", 1099, ["b"], 400.0),     # no longer: b (CVaR 400) is the cheapest plan within the limit
    ("worst", 500, ["b"], 400.0),     # worst cases: a 1100, both 500, b 400
    ("unmet", 20, ["a"], 380.0),      # a leaves 0.2 x 100 = 20 wafers unmet on average
    ("unmet", 19, ["b"], 400.0),
])
def test_hand_solved_risk_limit(hand, measure, limit, sites, objective):
    run = solve(hand, [f"settings.risk_measure={measure}", f"settings.risk_limit={limit}"])
    assert run.violations == []
    assert _open(run) == sites
    assert run.outcome.objective == pytest.approx(objective, abs=1e-6)


def test_hand_solved_minimum_risk(hand):
    """objective=risk minimises the measure itself: the least CVaR is b's 400."""
    run = solve(hand, ["settings.objective=risk", "settings.risk_measure=cvar"])
    assert run.violations == []
    assert run.outcome.objective == pytest.approx(400.0, abs=1e-6)
    assert run.results.risk["cvar"] == pytest.approx(400.0, abs=1e-6)


def test_local_share_binds_in_the_named_scenario_only(tmp_path):
    """Site a has a 100% local target; its only local supplier (JP) is out in the quake scenario,
    where a foreign one (US, cheaper) remains. Binding in all scenarios, a can buy nothing in the
    quake and leaves its demand unmet (cost 10 per wafer); binding in nominal only it buys abroad."""
    tables = {**HAND,
              "sites": HAND["sites"].replace("b,US,33.5,-112,200,", "b,US,33.5,-112,500,"),
              "scenario_effects": "scenario,target,by,match,multiplier\nquake,supplier,country,JP,0",
              "inputs": "id\nw", "bom": "product,input,units_per_wafer\nchip,w,1",
              "suppliers": "id,country,lat,lon\njp,JP,33,131\nus,US,33.5,-112",
              "offers": "supplier,input,capacity_units_per_year,price_per_unit\njp,w,1000,1\nus,w,1000,0.5",
              "local_targets": "site,target\na,1"}
    folder = write_instance(tmp_path / "local", tables)
    # b (fixed cost raised to 500 here) would cost 500 + 200 + 0.5 x 100 = 750: a opens in both
    # cases; in the nominal scenario a buys 100 from jp at 1.
    everywhere = solve(folder, ["settings.local_share_scenarios=all"])
    nominal = solve(folder, ["settings.local_share_scenarios=nominal"])
    for run in (everywhere, nominal):
        assert run.violations == []
        assert _open(run) == ["a"]
    # all: nominal 100 + 100 + 100 = 300, quake 100 + 1000 unmet = 1100; E = 240 + 220 = 460
    assert everywhere.outcome.objective == pytest.approx(460.0, abs=1e-6)
    # nominal only: quake 100 + 100 + 0.5 x 100 = 250; E = 240 + 50 = 290
    assert nominal.outcome.objective == pytest.approx(290.0, abs=1e-6)


# ------------------------------------------------------------------------------------------------
# Invariants on random small instances
# ------------------------------------------------------------------------------------------------

SEEDS = [201, 202, 203, 204, 205, 206]


def _with_scenarios(seed: int, folder: Path, ones: bool = False) -> Path:
    """A random instance (all demand penalised) with three random scenarios, or multipliers of 1."""
    case = random_case(seed, demand="default", max_assignments=512, min_assignments=16)
    rng = np.random.default_rng(seed + 1000)
    p = rng.dirichlet(np.ones(3))
    p[-1] = 1.0 - p[:-1].sum()
    ids = ["w0", "w1", "w2"]
    case.tables["scenarios"] = pd.DataFrame({"id": ids, "probability": [f"{x:.17g}" for x in p]})
    sites = case.tables["sites"]
    rows = []
    for w in ids:
        site = str(rng.choice(sites["id"]))
        rows.append({"scenario": w, "target": "site", "by": "id", "match": site,
                     "multiplier": 1.0 if ones else round(rng.uniform(0, 1), 3)})
        country = str(rng.choice(case.tables["suppliers"]["country"]))
        rows.append({"scenario": w, "target": "supplier", "by": "country", "match": country,
                     "multiplier": 1.0 if ones else round(rng.uniform(0, 1), 3)})
        rows.append({"scenario": w, "target": "demand", "by": "all", "match": "*",
                     "multiplier": 1.0 if ones else round(rng.uniform(0.6, 1.5), 3)})
        rows.append({"scenario": w, "target": "price", "by": "all", "match": "*",
                     "multiplier": 1.0 if ones else round(rng.uniform(0.8, 1.3), 3)})
    case.tables["scenario_effects"] = pd.DataFrame(rows)
    return case.write(folder)


@pytest.mark.parametrize("seed", SEEDS)
def test_expected_cost_is_the_weighted_sum_of_separate_solves(seed, tmp_path):
    """lambda = 0: the objective is the probability-weighted sum of each scenario solved alone with
    the plan held (separate models, one per scenario); CVaR >= expected cost; every check holds."""
    folder = _with_scenarios(seed, tmp_path / "inst")
    options = load_profile("exact")
    run = run_case(folder, options)
    assert run.violations == []
    plan = first_stage_of(run)
    alone = [run_case(folder, options, factors=run.data.factors.only(w), first_stage=plan)
             for w in run.data.factors.ids]
    weighted = float(np.dot(run.data.factors.probability, [r.outcome.objective for r in alone]))
    assert run.outcome.objective == pytest.approx(weighted, rel=1e-6, abs=1e-6)
    scen = run.results.tables["scenarios"]
    for r, cost in zip(alone, scen["cost_per_year"]):
        assert r.outcome.objective == pytest.approx(cost, rel=1e-6, abs=1e-6)
    risk = run.results.risk
    assert risk["cvar"] >= risk["expected_cost"] - 1e-9 * max(1.0, abs(risk["expected_cost"]))
    assert risk["worst_case"] >= risk["cvar"] - 1e-9 * max(1.0, abs(risk["cvar"]))


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_cvar_objective_matches_its_definition(seed, tmp_path):
    """lambda = 0.5, beta = 0.7: the objective equals 0.5 E + 0.5 CVaR of the plan's scenario costs,
    with CVaR computed from its definition, and it is no lower than the expected-cost optimum."""
    folder = _with_scenarios(seed, tmp_path / "inst")
    base = solve(folder)
    run = solve(folder, ["settings.risk_weight=0.5", "settings.cvar_level=0.7"])
    assert run.violations == []
    scen = run.results.tables["scenarios"]
    p, c = scen["probability"].values, scen["cost_per_year"].values
    expected = float(np.dot(p, c))
    assert run.outcome.objective == pytest.approx(0.5 * expected + 0.5 * cvar_of(c, p, 0.7), rel=1e-6, abs=1e-6)
    assert run.outcome.objective >= base.outcome.objective - 1e-6 * max(1.0, abs(base.outcome.objective))


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_vss_and_evpi_are_not_negative(seed, tmp_path):
    folder = _with_scenarios(seed, tmp_path / "inst")
    options = load_profile("exact")
    run = run_case(folder, options)
    report = risk_report(folder, options, [], run)
    tol = 1e-6 * max(1.0, abs(run.outcome.objective))
    assert report["vss"]["value"] >= -tol
    assert report["evpi"]["value"] >= -tol
    assert report["evpi"]["solves"] == 3


@pytest.mark.parametrize("seed", SEEDS[:4])
@pytest.mark.parametrize("lam", [0.0, 0.6])
def test_multipliers_of_one_change_nothing(seed, lam, tmp_path):
    """Three scenarios whose every multiplier is 1 are the deterministic instance, for any lambda."""
    with_ones = _with_scenarios(seed, tmp_path / "ones", ones=True)
    plain = random_case(seed, demand="default", max_assignments=512, min_assignments=16).write(tmp_path / "plain")
    a = solve(with_ones, [f"settings.risk_weight={lam}"])
    b = solve(plain)
    assert a.violations == [] and b.violations == []
    assert a.outcome.objective == pytest.approx(b.outcome.objective, rel=1e-6, abs=1e-6)
    assert a.results.costs["risk"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_one_scenario_equals_the_deterministic_model_with_its_data(seed, tmp_path):
    """One scenario (probability 1) that halves a site's capacity, cuts a supplier country's
    capacity to 40%, scales demand by 1.3 and prices by 1.1 gives the same optimum as the
    deterministic instance with those tables edited by hand, with or without CVaR."""
    case = random_case(seed, demand="default", max_assignments=512, min_assignments=16)
    t = case.tables
    site = t["sites"]["id"].iloc[0]
    country = t["suppliers"]["country"].iloc[0]
    t["scenarios"] = pd.DataFrame({"id": ["only"], "probability": [1.0]})
    t["scenario_effects"] = pd.DataFrame([
        {"scenario": "only", "target": "site", "by": "id", "match": site, "multiplier": 0.5},
        {"scenario": "only", "target": "supplier", "by": "country", "match": country, "multiplier": 0.4},
        {"scenario": "only", "target": "demand", "by": "all", "match": "*", "multiplier": 1.3},
        {"scenario": "only", "target": "price", "by": "all", "match": "*", "multiplier": 1.1},
    ])
    stochastic = case.write(tmp_path / "stochastic")
    edited = random_case(seed, demand="default", max_assignments=512, min_assignments=16)
    e = edited.tables
    mods = e["modules"]
    mods["wafers_per_module"] = mods["wafers_per_module"].astype(float) * np.where(mods["site"] == site, 0.5, 1.0)
    e["demand"]["wafers_per_year"] = e["demand"]["wafers_per_year"].astype(float) * 1.3
    sup_country = e["suppliers"].set_index("id")["country"]
    hit = e["offers"]["supplier"].map(sup_country) == country
    e["offers"]["capacity_units_per_year"] = (e["offers"]["capacity_units_per_year"].astype(float)
                                              * np.where(hit, 0.4, 1.0))
    e["offers"]["price_per_unit"] = e["offers"]["price_per_unit"].astype(float) * 1.1
    deterministic = edited.write(tmp_path / "deterministic")
    want = solve(deterministic)
    assert want.violations == []
    for lam in (0.0, 0.7):
        got = solve(stochastic, [f"settings.risk_weight={lam}"])
        assert got.violations == []
        assert got.outcome.objective == pytest.approx(want.outcome.objective, rel=1e-6, abs=1e-6)


def test_a_risk_limit_no_plan_meets_is_named_with_the_least_risk(hand, tmp_path, capsys):
    """The least CVaR any plan reaches is b's 400 (see HAND): a limit of 300 must give."""
    from siting.cli import main

    code = main(["solve", str(hand), "--set", "settings.risk_limit=300", "--out", str(tmp_path / "out"),
                 "--profile", "exact"])
    text = capsys.readouterr().out
    assert code == 3
    assert ("settings.risk_limit: the CVaR (80%) of the total cost cannot be brought to 300 USD/yr; the least any "
            "plan reaches is 400 USD/yr: raise the limit to at least that") in " ".join(text.split())


def test_a_rounded_consensus_is_made_consistent(hand):
    """PH rounds each decision on its own; the plan handed to the evaluation opens exactly the sites
    that hold a module (site a: module row 0; site b: row 1), caps modules at their maximum and
    leaves qualifications to be re-optimised."""
    from siting.decompose import consistent_plan
    from siting.instance.read import read_instance

    plan = consistent_plan(read_instance(hand), [], {"build": {0: 0, 1: 1}, "modules": {0: 3, 1: 0},
                                                     "qualify": {0: 1}})
    assert plan == {"build": {0: 1, 1: 0}, "modules": {0: 1, 1: 0}}


def test_an_incumbent_stopped_early_has_its_cvar_threshold_settled(hand):
    """A MIP stopped at its time limit can hold a plan whose CVaR threshold eta is off the plan's own
    value-at-risk; its objective then overstates the plan's risk-weighted cost. Made by hand: the
    optimum at lambda = 0.02 (a alone, 394.4) with eta raised to 1500 and no tail excess. eta is a
    threshold on the scenario's cost beyond the first stage (the quake's 1000; a's fixed cost of 100
    is in every scenario), so this costs 0.02 x (1500 - 1000) = 10 more. The LP with the plan held brings it back to
    394.4, the plan unchanged, and the gap is recomputed against the same bound."""
    from dataclasses import replace

    from siting.instance.derive import derive
    from siting.model.build import build_model
    from siting.outcome import Status
    from siting.run import load_case
    from siting.solve import compile_model, settle_continuous, solve_compiled

    compiled = compile_model(build_model(derive(load_case(hand, ["settings.risk_weight=0.02"]))))
    options = load_profile("exact")
    best = solve_compiled(compiled, options)
    assert best.objective == pytest.approx(394.4)
    names = [v.parent_component().local_name for v in compiled.columns]
    values = best.values.copy()
    values[names.index("var_at_risk")] = 1500.0
    values[[n == "tail_excess" for n in names]] = 0.0
    off = float(compiled.lp["cost"] @ values) + compiled.offset
    assert off == pytest.approx(404.4)
    stopped = replace(best, status=Status.FEASIBLE, objective=off, values=values, best_bound=390.0,
                      mip_gap=(off - 390.0) / off)
    settled = settle_continuous(compiled, options, stopped)
    assert settled.objective == pytest.approx(394.4)
    assert settled.mip_gap == pytest.approx((394.4 - 390.0) / 394.4)
    assert np.array_equal(settled.values[compiled.integer], values[compiled.integer])
    assert settled.status == Status.FEASIBLE and settled.best_bound == 390.0
