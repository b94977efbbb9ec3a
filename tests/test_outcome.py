"""Typed, frozen outcomes: the status enum, and a diagnosis that makes a new outcome instead of editing one."""

from __future__ import annotations

import dataclasses
import json

import pytest

from siting.diagnose import diagnose, diagnosis
from siting.outcome import SOLVED, Outcome, Status
from siting.solve import load_profile
from tests.helpers import solve, write_instance
from tests.model.test_hand_solved import LOCAL


def test_status_is_its_word_and_knows_whether_it_has_a_plan():
    assert [s for s in Status if s.solved] == [Status.OPTIMAL, Status.FEASIBLE]
    assert SOLVED == ("optimal", "feasible")
    assert Status("no_solution") is Status.NO_SOLUTION and Status.INFEASIBLE == "infeasible"
    assert f"{Status.FEASIBLE}" == "feasible" and json.dumps({"s": Status.ERROR}) == '{"s": "error"}'
    with pytest.raises(ValueError):
        Status("solved")


def test_outcome_is_frozen_and_typed():
    out = Outcome(status="optimal", termination="Optimal")
    assert out.status is Status.OPTIMAL and not out.has_solution
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.termination = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError):
        Outcome(status="fine", termination="")


def test_diagnosis_leaves_the_run_and_its_outcome_alone(tmp_path):
    """The local-share case of tests/reliability/test_diagnosis.py: 100 wafers, the local supplier sells
    only 40 at 12 USD and the foreign one the rest at 10: the best share is 480 / 1080 < 60%."""
    offers = "supplier,input,capacity_units_per_year,price_per_unit\nlocal,wafer,40,12\nabroad,wafer,1000,10"
    run = solve(write_instance(tmp_path, dict(LOCAL, offers=offers, local_targets="site,target\nkumamoto,0.6")))
    assert run.outcome.status is Status.INFEASIBLE and not run.outcome.status.solved
    before, times = run.outcome, dict(run.times)
    found = diagnosis(run, load_profile("exact"))
    assert [f.rule for f in found.findings] == ["local_share"]
    assert run.outcome is before and run.diagnosis == [] and run.times == times
    assert before.termination == "Infeasible"
    assert found.outcome.termination.startswith("Infeasible; elastic re-solve: kumamoto's 60% local share")
    assert found.outcome.status is Status.INFEASIBLE and found.seconds > 0
    # diagnose() records the same on the run, as a new outcome
    assert diagnose(run, load_profile("exact")) == list(found.findings)
    assert run.outcome is not before and run.outcome.termination == found.outcome.termination
    assert run.times["diagnose"] > 0
