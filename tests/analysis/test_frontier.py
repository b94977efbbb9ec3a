"""The cost-risk frontier: a hand-solved case and monotonicity on random instances."""

from __future__ import annotations

import numpy as np
import pytest

from siting.analysis.frontier import compute_frontier, knee_point
from siting.cli import main
from siting.run import run_case
from siting.solve import load_profile
from tests.helpers import write_instance
from tests.model.test_risk import HAND, _with_scenarios
from tests.report.test_network_report import assert_self_contained


def test_hand_solved_frontier(tmp_path):
    """tests/model/test_risk.py's two sites at beta = 0.8: the cheapest plan is a (E 380, CVaR 1100),
    the least CVaR is b's 400. Three points: limits 1100, 750 and 400; at 750 the plans within the
    limit are b (400, CVaR 400) and both sites (420, CVaR 500), so b."""
    folder = write_instance(tmp_path / "two", HAND, {"cvar_level": 0.8})
    result = compute_frontier(folder, load_profile("exact"), measure="cvar", points=3)
    t = result.table
    assert t["sites_open"].tolist() == ["a", "b", "b"]
    assert t["expected_cost"].tolist() == pytest.approx([380.0, 400.0, 400.0])
    assert t["measure"].tolist() == pytest.approx([1100.0, 400.0, 400.0])
    assert t["limit"].iloc[1:].tolist() == pytest.approx([750.0, 400.0], rel=1e-6)


@pytest.mark.parametrize("measure", ["cvar", "unmet", "worst"])
@pytest.mark.parametrize("seed", [201, 203])
def test_frontier_is_monotone(seed, measure, tmp_path):
    """Each tighter limit shrinks the feasible set: expected cost never falls, the measure never
    rises above its limit, and the last point reaches the least risk."""
    folder = _with_scenarios(seed, tmp_path / "inst")
    result = compute_frontier(folder, load_profile("exact"), measure=measure, points=4)
    t = result.table
    assert set(t["status"]) == {"optimal"}
    cost, risk = t["expected_cost"].to_numpy(float), t["measure"].to_numpy(float)
    tol = 1e-6 * max(1.0, float(np.abs(cost).max()))
    assert np.all(np.diff(cost) >= -tol)
    limits = t["limit"].iloc[1:].to_numpy(float)
    assert np.all(risk[1:] <= limits + 1e-6 * np.maximum(1.0, np.abs(limits)))
    assert np.all(np.diff(limits) <= 0)
    # the least risk, solved on its own: the measure as the objective
    least = run_case(folder, load_profile("exact"), ["settings.objective=risk", f"settings.risk_measure={measure}"],
                     duals=False)
    assert risk[-1] == pytest.approx(least.outcome.objective, rel=1e-6, abs=1e-6)


def test_knee_is_the_point_farthest_from_the_chord():
    # cost rises slowly and then fast as risk falls: the bend at (risk 2, cost 1) is the knee
    assert knee_point(np.array([0.0, 1.0, 10.0]), np.array([10.0, 2.0, 0.0])) == 1
    assert knee_point(np.array([0.0, 5.0, 10.0]), np.array([10.0, 5.0, 0.0])) is None  # a straight line


def test_frontier_command_writes_its_table_chart_and_manifest(tmp_path, capsys):
    folder = write_instance(tmp_path / "two", HAND, {"cvar_level": 0.8})
    out = tmp_path / "out"
    code = main(["frontier", str(folder), "--measure", "unmet", "--points", "3", "--out", str(out),
                 "--profile", "exact"])
    text = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["frontier.csv", "frontier.png", "manifest.json", "report.html"]
    assert_self_contained((out / "report.html").read_text())
    assert "expected unmet demand" in text
    assert main(["frontier", str(folder), "--points", "1"]) == 2
    assert "--points | must be at least 2 (got 1); give 2 or more" in capsys.readouterr().err
