"""Robustness and regret against a two-scenario case derived by hand, and against separate solves.

CRF = 1 and plain USD. Sites a and b, one module of 100 wafers each (capex a 1000, b 1200), 100
wafers of demand that may go unmet at 15 a wafer (1500 for all of it), no freight or operating
cost. Scenario n (probability 0.9): nothing happens. Scenario q (0.1): site a is unavailable.

Cost of each plan in each scenario (first stage + the best second stage):

    plan      n                    q
    {a}       1000                 1000 + 1500 = 2500 (a cannot make anything)
    {b}       1200                 1200
    {a, b}    2200                 2200
    none      1500                 1500

Each scenario's own optimum: n -> {a} at 1000, q -> {b} at 1200. The stochastic optimum:
{a} 0.9 x 1000 + 0.1 x 2500 = 1150 against {b} 1200, none 1500, {a, b} 2200: {a}.
Regret (cost - the scenario's best):

    plan      n      q      expected    max
    {a}       0      1300   130         1300
    {b}       200    0      180         200
    {a, b}    1200   1000   1180        1200

so the minimax-regret plan is {b} (the best for q), not the stochastic optimum {a}. CVaR at 90%
is the cost in q alone (its probability is exactly the 10% tail): {a} 2500, {b} 1200.
"""

from __future__ import annotations

import json

import pytest

from siting.analysis.robustness import parse_plan, robustness
from siting.errors import InputError
from siting.instance.read import read_instance
from siting.run import run_case
from siting.solve import load_profile
from tests.helpers import write_instance

CASE = {
    "sites": """
        id,country,lat,lon
        a,JP,33.0,131.0
        b,JP,33.1,131.1
    """,
    "products": "id\nchip",
    "modules": """
        site,product,wafers_per_module,capex_per_module,max_modules
        a,chip,100,1000,1
        b,chip,100,1200,1
    """,
    "markets": "id,country,lat,lon\nm,JP,33.0,131.0",
    "demand": "market,product,wafers_per_year,penalty_per_wafer\nm,chip,100,15",
    "scenarios": "id,probability\nn,0.9\nq,0.1",
    "scenario_effects": "scenario,target,by,match,multiplier\nq,site,id,a,0",
}
EXACT = load_profile("exact")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = write_instance(tmp_path_factory.mktemp("regret"), CASE, {"cvar_level": 0.9})
    return robustness(read_instance(folder), EXACT, named=["a+b"]), folder


def test_regret_matrix_and_minimax_by_hand(result):
    """The matrices of the module docstring; {b} has the least maximum regret."""
    r, _ = result
    t = r.table.set_index("open_sites")
    assert set(t.index) == {"a", "b", "a;b"}
    assert t.at["a", "plan"] == "optimum"
    assert "n's own optimum" in t.at["a", "origin"] and "q's own optimum" in t.at["b", "origin"]
    assert r.best.to_dict() == pytest.approx({"n": 1000.0, "q": 1200.0})
    for sites, cn, cq, en, mx, ev in (("a", 1000, 2500, 1150, 1300, 130), ("b", 1200, 1200, 1200, 200, 180),
                                      ("a;b", 2200, 2200, 2200, 1200, 1180)):
        assert t.at[sites, "cost_n"] == pytest.approx(cn)
        assert t.at[sites, "cost_q"] == pytest.approx(cq)
        assert t.at[sites, "expected_cost"] == pytest.approx(en)
        assert t.at[sites, "max_regret"] == pytest.approx(mx)
        assert t.at[sites, "expected_regret"] == pytest.approx(ev)
    assert t.at["a", "cvar"] == pytest.approx(2500.0)
    assert t.at["b", "cvar"] == pytest.approx(1200.0)
    assert t.at["b", "minimax_regret"] and not t.at["a", "minimax_regret"]
    assert r.minimax == t.at["b", "plan"]
    freq = r.frequency.set_index("site")
    assert freq.at["a", "scenario_optima"] == 1 and freq.at["a", "scenario_optima_probability"] == pytest.approx(0.9)


def test_every_row_equals_separate_solves(result):
    """Each plan's cost in scenario w equals a separate solve of w alone (its own model built from
    the data) with the plan's first stage fixed."""
    from siting.run import first_stage_of

    r, folder = result
    raw = read_instance(folder)
    for _, row in r.table.iterrows():
        chosen = row["open_sites"].split(";")
        forced = [f"sites.{s}.status={'open' if s in chosen else 'closed'}" for s in ("a", "b")]
        plan = first_stage_of(run_case(raw, EXACT, forced, duals=False))
        base = run_case(raw, EXACT, duals=False)
        for w in ("n", "q"):
            alone = run_case(raw, EXACT, duals=False, factors=base.data.factors.only(w), first_stage=plan)
            assert alone.outcome.objective == pytest.approx(row[f"cost_{w}"], rel=1e-9), (row["plan"], w)


def test_sweep_frequency_and_bad_plans(result, tmp_path):
    r, folder = result
    raw = read_instance(folder)
    with pytest.raises(InputError, match=r"--plans a\+x \| x is not a site of the instance"):
        parse_plan("a+x", ["a", "b"])
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.csv").write_text("case,status,sites_open\nc1,optimal,a\nc2,optimal,a+b\nc3,error,\n"
                                     "c4,optimal,b\nc5,optimal,a\n")
    got = robustness(raw, EXACT, sweep=sweep).frequency.set_index("site")["sweep_cases_share"]
    assert got.to_dict() == pytest.approx({"a": 0.75, "b": 0.5})
    with pytest.raises(InputError, match=r"--sweep .* \| has no sweep.csv; give a folder that `siting sweep` wrote"):
        robustness(raw, EXACT, sweep=tmp_path)


def test_cli_robustness_json(result, tmp_path, capsys):
    from siting.cli import main

    _, folder = result
    out = tmp_path / "out"
    assert main(["robustness", str(folder), "--plans", "a+b", "--alternatives", "0", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["minimax_regret_plan"] == "best for q"
    assert json.loads((out / "manifest.json").read_text())["files"] == [
        "robustness.csv", "site_frequency.csv", "regret.png", "report.html"]


def test_alternatives_join_the_candidates(result):
    """{b} costs 1200 against the optimum's 1150 (+4.3%): within 5% it is alternative 2, and it is
    the same first stage as q's own optimum, so it is evaluated once under both origins."""
    _, folder = result
    r = robustness(read_instance(folder), EXACT, alternatives_count=1, within=0.05)
    t = r.table.set_index("open_sites")
    assert t.at["b", "plan"] == "alternative 2"
    assert "q's own optimum" in t.at["b", "origin"]
    assert len(t) == 2


@pytest.mark.slow
def test_two_workers_give_the_same_matrices(result):
    _, folder = result
    one = robustness(read_instance(folder), EXACT, named=["a+b"])
    two = robustness(read_instance(folder), EXACT, named=["a+b"], workers=2)
    assert two.cost.to_numpy().ravel().tolist() == pytest.approx(one.cost.to_numpy().ravel().tolist())
    assert two.minimax == one.minimax


def test_a_plan_that_cannot_operate_in_a_scenario(tmp_path):
    """With demand that must be met (no penalty), {a} has no plan in q (a is down there): its cost
    in q is unbounded, its regret too; n's own optimum {a} is then no longer the minimax plan
    whatever the numbers, and {b} (1200 in both) is. Its n regret: 1200 - 1000 = 200."""
    tables = dict(CASE, demand="market,product,wafers_per_year\nm,chip,100")
    folder = write_instance(tmp_path, tables, {"cvar_level": 0.9})
    r = robustness(read_instance(folder), EXACT)
    t = r.table.set_index("open_sites")
    assert t.at["a", "status"] == "no plan in q"
    assert t.at["a", "cost_n"] == pytest.approx(1000.0)
    assert t.at["a", "cost_q"] == float("inf") and t.at["a", "max_regret"] == float("inf")
    assert r.minimax == t.at["b", "plan"]
    assert t.at["b", "max_regret"] == pytest.approx(200.0)
