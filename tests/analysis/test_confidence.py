"""The confidence interval on the optimality gap of a plan solved on a sample of hazards."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import t as student_t

from siting.analysis.confidence import gap_interval, replication_seeds
from siting.cli import main
from siting.run import first_stage_of, run_case
from siting.solve import load_profile
from tests.helpers import solve, write_instance
from tests.instance.test_validation import BASE

HAZARDS = {"hazards": "id,probability\nquake,0.1\nstorm,0.2",
           "hazard_effects": "hazard,target,by,match,multiplier\nquake,site,id,b,0\nstorm,site,id,a,0.5"}
SETTINGS = {"unmet_penalty_per_wafer": 200}


def _instance(tmp_path):
    return write_instance(tmp_path / "i", {**BASE, **HAZARDS}, SETTINGS)


@pytest.mark.slow
def test_the_interval_covers_the_true_gap_of_a_plan_from_a_small_sample(tmp_path):
    """Five draws (seed 1) miss the quake at b, so the sampled plan opens b alone. The true
    problem is the joint combination of the two hazards (four scenarios): its optimum and the
    plan's cost across it give the plan's true optimality gap, which the interval from 8
    independent samples must cover. Each G_k >= 0, and the upper end is mean + t sd / sqrt(M)."""
    folder = _instance(tmp_path)
    sets = ["settings.scenario_sample=5", "settings.scenario_seed=1"]
    run = solve(folder, sets, duals=False)
    options = load_profile("exact")
    ci = gap_interval(folder, options, sets, run, replications=8)
    truth = solve(folder, duals=False)  # every joint combination: the hazards' own distribution
    held = run_case(folder, options, (), duals=False, first_stage=first_stage_of(run))
    true_gap = held.outcome.objective - truth.outcome.objective
    assert true_gap > 1.0  # the sampled plan is not the true optimum: the case tests something
    assert 0.0 <= true_gap <= ci["gap_upper"]
    g = np.array(ci["gaps"])
    assert len(g) == 8 and (g >= 0).all()
    assert ci["gap_upper"] == pytest.approx(g.mean() + student_t.ppf(0.95, 7) * g.std(ddof=1) / np.sqrt(8))
    assert ci["solves"] == 16


def test_the_replications_are_reproducible_and_apart_from_the_run_sample():
    assert replication_seeds(1, 4) == replication_seeds(1, 4)
    assert replication_seeds(1, 4) != replication_seeds(2, 4)
    assert 1 not in replication_seeds(1, 50)


def test_confidence_on_the_command_line_goes_to_the_summary(tmp_path, capsys):
    folder = _instance(tmp_path)
    assert main(["solve", str(folder), "-o", str(tmp_path / "o"), "--scenarios", "5", "--sample-seed", "1",
                 "--confidence", "3", "--json", "--no-duals"]) == 0
    summary = json.loads(capsys.readouterr().out)
    ci = summary["confidence"]
    assert ci["replications"] == 3 and ci["draws"] == 5 and ci["gap_upper"] >= ci["gap_mean"] >= 0
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["confidence"] == ci


@pytest.mark.parametrize("flags,expected", [
    (["--confidence", "3"], "--confidence | needs a sampled scenario set; give the instance a hazards table and "
                            "sample it with --scenarios N"),
    (["--confidence", "1", "--scenarios", "5"], "--confidence | must be at least 2 (got 1); give the number of "
                                                "independent samples, e.g. 10"),
])
def test_bad_confidence_flags_are_one_line_and_exit_2(tmp_path, capsys, flags, expected):
    folder = _instance(tmp_path)
    assert main(["solve", str(folder), "-o", str(tmp_path / "o"), *flags]) == 2
    assert capsys.readouterr().err.strip() == expected
    assert not (tmp_path / "o").exists()
