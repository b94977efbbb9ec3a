"""Progressive hedging over 2 MPI ranks (mpi-sppy) against the extensive form.

Runs where the optional extra is installed (``pip install -e '.[test,mpi]'``, as .ci/run does).
"""

from __future__ import annotations

import pandas as pd
import pytest

from siting.instance.read import read_instance
from tests.helpers import solve, write_instance
from tests.model.test_risk import HAND

pytest.importorskip("mpisppy")
pytest.importorskip("mpi4py")


def _bounds_hold(run, ef) -> None:
    """What every hub-and-spoke run must satisfy against the extensive form's optimum: the hub's
    bound at or below it, the reported plan (a feasible one, evaluated across all scenarios) at or
    above it, and the gap their distance as a share of the plan's cost."""
    tol = 1e-6 * max(1.0, abs(ef.outcome.objective))
    assert ef.outcome.status == "optimal"
    out, dec = run.outcome, run.decomposition
    assert out.status == "feasible"
    assert run.violations == []
    assert out.best_bound <= ef.outcome.objective + tol
    assert out.objective >= ef.outcome.objective - tol
    assert out.mip_gap == pytest.approx((out.objective - out.best_bound) / abs(out.objective), abs=1e-12)
    assert dec["bound"] == out.best_bound >= dec["trivial_bound"] - tol
    assert dec["plan_cost"] == out.objective == min(v for v in dec["evaluated"].values() if v is not None)
    # the candidates: PH's consensus and each scenario's own plan (fewer than 10 here, so none is
    # dropped), every one in exactly one entry (the sources of one plan joined by +, "N more"
    # counting those past the first when there are more than three)
    named, more = [], 0
    for key in dec["evaluated"]:
        parts = key.split("+")
        if parts[-1].endswith(" more"):
            more += int(parts.pop().split()[0])
        named += [part for part in parts if part != "xhat"]
    scenarios = run.results.tables["scenarios"]["scenario"].unique().tolist()
    expected = {"ph_consensus", *(f"scenario:{w}" for w in scenarios)}
    assert len(named) == len(set(named)) and set(named) <= expected
    assert len(expected) <= len(named) + more <= len(expected) + 1  # + 1: the x-hat plan, with 3 ranks


def test_two_ranks_reach_the_extensive_form_plan(tmp_path):
    """tests/model/test_risk.py's two sites: the extensive form opens a at 380 (nominal 100 + 100,
    quake 100 + 1000 unmet; b costs 400 in both). PH's consensus puts 0.8 of the weight on a (the
    nominal scenario's own choice), which rounds to a; evaluated across both scenarios the plan
    costs 380. PH's trivial bound is the wait-and-see value 240 (0.8 x 200 + 0.2 x 400); the
    Lagrangian spoke's bound with PH's weights lies between it and 380 (the weights sum to zero over
    the scenarios, so any of them gives a bound at most the optimum; W = 0 gives 240), and PH's
    weights, moved in proportion to each decision's cost, lift it above 240."""
    from siting.decompose import solve_by_ph
    from siting.solve import load_profile

    folder = write_instance(tmp_path / "two", HAND, {"cvar_level": 0.8})
    ef = solve(folder)
    rows = []
    run = solve_by_ph(read_instance(folder), folder, load_profile("exact"), [], ranks=2, ph={"iterations": 10},
                      progress=lambda *row: rows.append(row))
    _bounds_hold(run, ef)
    # the hub's progress rows (from iteration 0, and once more at the end): its bound never falls
    # and never passes the optimum
    assert rows and rows[0][0] == 0 and rows[-1][0] == run.decomposition["iterations"]
    assert all(a[0] <= b[0] and a[1] <= b[1] <= 380.0 + 1e-6 for a, b in zip(rows, rows[1:]))
    assert rows[-1][1] == pytest.approx(run.outcome.best_bound)
    assert run.outcome.objective == pytest.approx(ef.outcome.objective, abs=1e-6) == pytest.approx(380.0)
    assert run.decomposition["trivial_bound"] == pytest.approx(240.0, abs=1e-6)
    assert run.outcome.best_bound > 240.0 + 1.0
    sites = run.results.tables["sites"]
    assert sites.loc[sites["open"], "site"].tolist() == ["a"]
    assert run.decomposition["ranks"] == 2
    assert run.decomposition["cylinders"] == ["ph_hub", "lagrangian"]
    assert run.decomposition["xhat_objective"] is None
    # the plan kept gets its marginal values from its own evaluation's model: the extensive form's
    pd.testing.assert_frame_equal(run.shadow.reset_index(drop=True), ef.shadow.reset_index(drop=True))


@pytest.mark.slow
@pytest.mark.parametrize("ranks", [2, 3])
def test_random_instance_bound_below_and_plan_above_the_extensive_form(ranks, tmp_path):
    """tests/test_benders.py's seeded random instance (four scenarios, CVaR weighted 0.3, a
    production subsidy and a conditional offer): the extensive form's optimum is the second method.
    On 3 ranks the x-hat spoke runs too; its plan's expected cost as the spoke evaluated it (every
    first-stage decision held) is a feasible plan's cost, so at or above the optimum as well."""
    from siting.decompose import solve_by_ph
    from siting.solve import load_profile
    from tests.test_benders import _random

    folder = _random(301, tmp_path / "inst")
    ef = solve(folder, duals=False)
    run = solve_by_ph(read_instance(folder), folder, load_profile("exact"), [], ranks=ranks, duals=False)
    _bounds_hold(run, ef)
    dec = run.decomposition
    assert dec["ranks"] == ranks
    if ranks == 3:
        assert dec["cylinders"] == ["ph_hub", "lagrangian", "xhat_shuffle"]
        assert dec["xhat_objective"] is not None
        assert dec["xhat_objective"] >= ef.outcome.objective - 1e-6 * abs(ef.outcome.objective)


@pytest.mark.parametrize("ranks,message", [
    ("1", "--ranks | must be at least 2 (got 1); give 2 (PH hub and Lagrangian bound spoke) or 3 (and an x-hat "
          "spoke), or a multiple of them"),
    ("two", "--ranks | is 'two', not a whole number; give 2 (PH hub and Lagrangian bound spoke) or 3 (and an x-hat "
            "spoke), or a multiple of them"),
    ("5", "--ranks | 5 ranks do not split evenly among mpi-sppy's cylinders (2: hub and Lagrangian bound; 3: and "
          "x-hat); give 2 (PH hub and Lagrangian bound spoke) or 3 (and an x-hat spoke), or a multiple of them"),
    ("9", "--ranks | 9 ranks give each of the 3 cylinders 3 ranks, more than the 2 scenarios; give at most 6 ranks"),
])
def test_a_bad_ranks_is_one_line_exit_2(ranks, message, tmp_path, capsys):
    """Checked before any rank starts, and nothing is written."""
    from siting.cli import main

    folder = write_instance(tmp_path / "two", HAND)
    out = tmp_path / "out"
    assert main(["solve", str(folder), "--engine", "mpisppy", "--ranks", ranks, "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [message]
    assert not out.exists()


def test_a_risk_limit_is_refused(tmp_path):
    from siting.decompose import solve_by_ph
    from siting.errors import InputError
    from siting.solve import load_profile

    folder = write_instance(tmp_path / "two", HAND)
    with pytest.raises(InputError) as err:
        solve_by_ph(read_instance(folder), folder, load_profile("exact"), ["settings.risk_limit=500"], ranks=2)
    assert str(err.value.problems[0]) == ("--engine mpisppy | decomposes the risk-weighted cost only, not a risk "
                                          "limit or objective=risk; use the extensive form (--engine ef) for those")


def test_the_ranks_split_among_the_cylinders():
    """2 and 4 ranks: hub and Lagrangian spoke (1 and 2 ranks each); 3 and 6: and the x-hat spoke;
    a caller of the library below 2 ranks gets the same one line as the command line's check."""
    from siting.decompose import cylinders
    from siting.errors import InputError

    assert cylinders(2, 2) == cylinders(4, 2) == ["ph_hub", "lagrangian"]
    assert cylinders(3, 2) == cylinders(6, 2) == ["ph_hub", "lagrangian", "xhat_shuffle"]
    with pytest.raises(InputError) as err:
        cylinders(1, 2)
    assert str(err.value.problems[0]) == (
        "--ranks | must be at least 2 for --engine mpisppy (got 1): one rank for the PH hub, one for its Lagrangian "
        "bound spoke; give 2 (PH hub and Lagrangian bound spoke) or 3 (and an x-hat spoke), or a multiple of them")


def test_eta_weights_are_moved_into_the_range_where_every_subproblem_is_bounded():
    """λ = 0.2, β = 0.95: a scenario's subproblem in eta is bounded for -0.2 <= W <= 0.2 x 0.95 /
    0.05 = 3.8. Weights 5000, -300, 10, 0 at probability 1/4 each: one shift t, then clipped;
    the three lower ones clip to -0.2, so 1/4 (5000 + t) + 3/4 (-0.2) = 0 gives the first 0.6.
    Weights already in the range and summing to zero are kept as they are."""
    from siting.decompose import project_weights

    got = project_weights([5000.0, -300.0, 10.0, 0.0], [0.25] * 4, -0.2, 3.8)
    assert got == pytest.approx([0.6, -0.2, -0.2, -0.2], abs=1e-9)
    assert project_weights([0.05, -0.2], [0.8, 0.2], -0.2, 3.8) == pytest.approx([0.05, -0.2], abs=1e-12)
    # three unequal scenarios: were the largest clipped to 3.8, the middle one would need 0.62
    # (-0.2) + 0.3 w + 0.08 (3.8) = 0, w = -0.6, below the range; so both lower ones sit at -0.2
    # and the largest takes the rest: 0.92 (-0.2) + 0.08 w = 0, w = 2.3
    p = [0.62, 0.3, 0.08]
    got = project_weights([-900.0, 40.0, 7000.0], p, -0.2, 3.8)
    assert all(-0.2 <= w <= 3.8 for w in got)
    assert sum(a * b for a, b in zip(p, got)) == pytest.approx(0.0, abs=1e-9)
    assert got == pytest.approx([-0.2, -0.2, 2.3], abs=1e-9)


def test_the_candidate_plans_are_the_distinct_ones_consensus_first(tmp_path, monkeypatch):
    """tests/model/test_risk.py's two sites (module row 0 at a, row 1 at b): the consensus and
    the nominal scenario open a, the quake scenario opens b. Two distinct plans: a, named by both
    its sources, first; b after it. Capped at one candidate, only the consensus's is evaluated."""
    import siting.decompose as decompose
    from siting.instance.derive import derive
    from siting.run import load_case

    folder = write_instance(tmp_path / "two", HAND)
    raw = read_instance(folder)
    data = derive(load_case(raw, []))
    at_a, at_b = {"modules": {0: 1, 1: 0}}, {"modules": {0: 0, 1: 1}}
    result = {"plan": at_a, "xhat_plan": None, "scenario_plans": {"quake": at_b, "nominal": at_a}}
    got = decompose._candidates(raw, [], data, result)
    assert list(got) == ["ph_consensus+scenario:nominal", "scenario:quake"]
    assert got["ph_consensus+scenario:nominal"] == {"build": {0: 1, 1: 0}, "modules": {0: 1, 1: 0}}
    assert got["scenario:quake"] == {"build": {0: 0, 1: 1}, "modules": {0: 0, 1: 1}}
    monkeypatch.setattr(decompose, "PLAN_CANDIDATES", 1)
    assert list(decompose._candidates(raw, [], data, result)) == ["ph_consensus+scenario:nominal"]
