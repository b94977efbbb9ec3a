"""Every error says `location | problem; fix`: a solve an analysis needs without a plan (NoPlan),
and HiGHS refusing a model (SolverError), as the planner's mistakes (InputError) always did."""

from __future__ import annotations

import json

import numpy as np
import pytest

from siting.cli import main
from siting.errors import Problem, SolverError
from siting.solve import Compiled, load_profile, make_highs
from tests.helpers import write_instance
from tests.model.test_hand_solved import LOCAL

#: What the capacity screen says of 1,000 wafers that must be met by one module of 100.
SCREEN = ("infeasible (pre-solve screen: demand for chip that must be met (1,000 wafers/yr, rows without a penalty) "
          "exceeds the most capacity that could be built for it (100 wafers/yr): add modules, sites or suppliers, or "
          "set penalty_per_wafer so that unmet demand is allowed at a cost)")


@pytest.fixture
def no_plan(tmp_path):
    return write_instance(tmp_path / "inst", dict(LOCAL, demand="market,product,wafers_per_year\nm,chip,1000"))


@pytest.mark.parametrize("argv, line", [
    (["breakeven", "{inst}", "--site", "kumamoto"],
     f"optimum | {SCREEN}, so there is nothing to compare with; solve that case with `siting solve` and the same "
     "--set to see why, or raise --time-limit if it stopped early"),
    (["alternatives", "{inst}", "--out", "{tmp}/alt"],
     f"t | {SCREEN}, so there is no optimum to find alternatives to; solve it with `siting solve` to see why, or "
     "raise --time-limit if it stopped early"),
    (["induce", "{inst}", "--target", "kumamoto"],
     f"induce | the firm's problem ended {SCREEN}, so there is nothing to induce against; solve the instance with "
     "`siting solve` to see why"),
])
def test_an_analysis_without_a_plan_says_where_what_and_what_to_do(no_plan, tmp_path, capsys, argv, line):
    capsys.readouterr()
    code = main([a.format(inst=no_plan, tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert code == 3
    assert err.splitlines() == [line]


def test_no_plan_in_json_names_location_problem_and_fix(no_plan, capsys):
    capsys.readouterr()
    assert main(["breakeven", str(no_plan), "--site", "kumamoto", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == 3
    assert doc["problems"] == [{"location": "optimum", "problem": f"{SCREEN}, so there is nothing to compare with",
                                "fix": "solve that case with `siting solve` and the same --set to see why, or raise "
                                       "--time-limit if it stopped early"}]


def test_highs_refusing_a_model_is_a_solver_error_in_the_one_form():
    """A coefficient of 1e16 is beyond HiGHS's largest matrix value (1e15): passModel refuses it."""
    lp = dict(cost=np.array([1.0]), lower=np.array([0.0]), upper=np.array([1.0]), row_lower=np.array([0.0]),
              row_upper=np.array([np.inf]), start=np.array([0, 1], dtype=np.int32),
              index=np.array([0], dtype=np.int32), value=np.array([1e16]), num_row=1)
    compiled = Compiled(columns=[None], rows=[None], lp=lp, integer=np.array([False]), offset=0.0)
    with pytest.raises(SolverError) as caught:
        make_highs(compiled, load_profile("exact"))
    assert str(caught.value) == ("HiGHS | rejected the model (passModel failed); report this instance with the output "
                                 "of --debug")
    assert caught.value.problems == [Problem("HiGHS", "rejected the model (passModel failed)",
                                             "report this instance with the output of --debug")]
    assert caught.value.exit_code == 1
