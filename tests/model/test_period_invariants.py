"""Invariants per period on seeded random schedules (tests/model/random_cases.py, ``scheduled``):
what must hold in any optimal phased plan, checked here from the result tables on their own."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import solve
from tests.model.random_cases import random_case

FAST = list(range(1, 7))
SLOW = list(range(7, 21))


def _check(run) -> None:
    res = run.results
    assert run.outcome.status == "optimal", run.outcome.termination
    # the solution check of every rule, from the raw tables (demand met or penalised per period and
    # scenario, capacity after its lead time at its ramp, cumulative builds, local share, cash flows)
    assert run.violations == []
    periods = list(run.data.periods)
    sched = res.tables["schedule"]
    for (_, _), g in sched.groupby(["site", "product"], sort=False):
        g = g.set_index("period").loc[[t for t in periods if t in set(g["period"])]]
        # what is built stays built
        assert np.all(np.diff(g["modules"].to_numpy()) >= 0)
        # nothing produces before the first period its first modules can
        first = g["first_producing"].iloc[-1]
        before = periods[:periods.index(first)] if first else periods
        assert np.all(g.loc[[t for t in before if t in g.index], "capacity_wafers_per_year"] == 0)
        assert np.all(g["production_wafers_per_year"] <= g["capacity_wafers_per_year"] + 1e-6)
    # demand of p1 is zero: nothing unmet, nothing made
    unmet = res.tables["unmet"]
    assert unmet.loc[unmet["period"] == "p1", "unmet_wafers_per_year"].abs().sum() <= 1e-9
    # the discounted cash flows and the risk premium add up to the objective
    total = res.tables["periods"]["discounted"].sum() + res.costs.get("risk", 0.0)
    assert total == pytest.approx(run.outcome.objective, rel=1e-7, abs=1e-6)
    # each period's local share at or above its target where the site is open and buys
    ls = res.tables["local_share"]
    bought = ls["total_spend_per_year"] > 1e-9
    assert np.all(ls.loc[bought, "achieved"] >= ls.loc[bought, "target"] - 1e-7)


def _solve(seed: int, folder):
    case = random_case(seed)
    run = solve(case.scheduled().write(folder), duals=False)
    if run.outcome.status == "infeasible":
        # the schedule's second period holds every rule of the snapshot (and lead times besides):
        # infeasible only where the snapshot is
        assert solve(case.write(folder.parent / "snapshot"), duals=False).outcome.status == "infeasible"
        return
    _check(run)


@pytest.mark.parametrize("seed", FAST)
def test_schedule_invariants(seed, tmp_path):
    _solve(seed, tmp_path / "case")


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW)
def test_schedule_invariants_more_seeds(seed, tmp_path):
    _solve(seed, tmp_path / "case")
