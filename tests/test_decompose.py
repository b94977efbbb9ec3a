"""Progressive hedging over 2 MPI ranks (mpi-sppy) against the extensive form.

Runs where the optional extra is installed (``pip install -e '.[test,mpi]'``, as .ci/run does).
"""

from __future__ import annotations

import pytest

from siting.instance.read import read_instance
from tests.helpers import solve, write_instance
from tests.model.test_risk import HAND

pytest.importorskip("mpisppy")
pytest.importorskip("mpi4py")


def test_two_ranks_reach_the_extensive_form_plan(tmp_path):
    """tests/model/test_risk.py's two sites: the extensive form opens a at 380. PH's consensus puts
    0.8 of the weight on a (the nominal scenario's own choice), which rounds to a; evaluated across
    both scenarios the plan costs 380. PH's trivial bound is the wait-and-see value 240
    (0.8 x 200 + 0.2 x 400)."""
    from siting.decompose import solve_by_ph
    from siting.solve import load_profile

    folder = write_instance(tmp_path / "two", HAND, {"cvar_level": 0.8})
    ef = solve(folder)
    run = solve_by_ph(read_instance(folder), folder, load_profile("exact"), [], ranks=2, ph={"iterations": 10})
    assert run.violations == []
    assert run.outcome.status == "feasible"
    assert run.outcome.objective == pytest.approx(ef.outcome.objective, abs=1e-6) == pytest.approx(380.0)
    assert run.outcome.best_bound == pytest.approx(240.0, abs=1e-6)
    assert run.outcome.best_bound <= ef.outcome.objective
    sites = run.results.tables["sites"]
    assert sites.loc[sites["open"], "site"].tolist() == ["a"]
    assert run.decomposition["ranks"] == 2


def test_a_risk_limit_is_refused(tmp_path):
    from siting.decompose import solve_by_ph
    from siting.errors import InputError
    from siting.solve import load_profile

    folder = write_instance(tmp_path / "two", HAND)
    with pytest.raises(InputError) as err:
        solve_by_ph(read_instance(folder), folder, load_profile("exact"), ["settings.risk_limit=500"], ranks=2)
    assert str(err.value.problems[0]) == ("--engine mpisppy | decomposes the risk-weighted cost only, not a risk "
                                          "limit or objective=risk; use the extensive form (--engine ef) for those")
